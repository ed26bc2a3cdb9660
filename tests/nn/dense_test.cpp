// Dense: forward values against a hand computation, shapes, gradients, config, errors.
#include "../support.hpp"

#include <tapeflow/nn/nn.hpp>

using namespace tapeflow;

namespace {
Tensor f64(const xt::xarray<double>& v) { return Tensor(v); }
/// A float64 column (n, 1): {{a}, {b}} is ambiguous as an xarray literal.
Tensor col64(const xt::xarray<double>& v) {
  return reshape(Tensor(v), {-1, 1});
}
}  // namespace

TEST_CASE("Dense forward: activation(x @ kernel + bias), by hand") {
  nn::clear_session();
  nn::Dense dense(2, "relu", true, "glorot_uniform", "zeros", "", DType::float64);
  const Tensor x = f64({{1.0, 2.0, 3.0}, {-1.0, 0.0, 1.0}});
  dense.build({2, 3});
  dense.set_weights({f64({{1.0, -1.0}, {0.5, 2.0}, {-1.0, 0.25}}), f64({0.5, -3.0})});
  // Row 0: [1 + 1 - 3 + 0.5, -1 + 4 + 0.75 - 3] = [-0.5, 0.75] -> relu [0, 0.75]
  // Row 1: [-1 + 0 - 1 + 0.5, 1 + 0 + 0.25 - 3] = [-1.5, -1.75] -> relu [0, 0]
  CHECK_ALLCLOSE(dense(x), f64({{0.0, 0.75}, {0.0, 0.0}}), 1e-15, 0);

  nn::Dense linear(1, "", false, "ones", "zeros", "", DType::float64);
  CHECK_ALLCLOSE(linear(x), col64({6.0, 0.0}), 0, 0);
  CHECK(linear.variables().size() == 1);
  CHECK_THROWS_WITH_TEXT(linear.bias(), ValueError, "has no bias (use_bias=false)");
}

TEST_CASE("Dense on rank-3 inputs matmuls over the last axis; integer inputs are cast") {
  nn::Dense dense(4);
  const Tensor x = random::uniform({2, 3, 5});
  const Tensor y = dense(x);
  CHECK(y.shape() == Shape{2, 3, 4});
  const Tensor flat = dense(reshape(x, {6, 5}));
  CHECK_ALLCLOSE(reshape(y, {6, 4}), flat, 1e-6, 1e-6);

  nn::Dense from_ints(3, "", true, "ones");
  const Tensor out = from_ints(Tensor{{1, 2}, {3, 4}});
  CHECK(out.dtype() == DType::float32);
  CHECK_ALLCLOSE(out, (Tensor{{3.0, 3.0, 3.0}, {7.0, 7.0, 7.0}}), 0, 0);
}

TEST_CASE("Dense gradients: input by gradcheck, kernel and bias by finite differences") {
  nn::Dense dense(3, "tanh", true, "glorot_uniform", "zeros", "", DType::float64);
  const Tensor x = random::uniform({4, 2}, -1, 1, DType::float64);
  dense.build(x.shape());
  dense.bias().assign(random::uniform({3}, -1, 1, DType::float64));
  CHECK_GRADCHECK(gradcheck([&](const std::vector<Tensor>& in) { return dense(in[0]); }, {x}));

  const auto loss_fn = [&] { return reduce_sum(square(dense(x))); };
  std::vector<Variable> vars = dense.trainable_variables();
  GradientTape tape;
  const Tensor loss = loss_fn();
  const auto grads = tape.gradient(loss, {vars[0], vars[1]});
  const double eps = 1e-6;
  for (std::size_t v = 0; v < 2; ++v) {
    const Tensor original = vars[v].read_value_no_record();
    auto numeric = xt::xarray<double>::from_shape(original.shape());
    for (std::size_t k = 0; k < original.size(); ++k) {
      auto plus = original.numpy<double>(), minus = original.numpy<double>();
      plus.data()[k] += eps;
      minus.data()[k] -= eps;
      vars[v].assign(Tensor(plus));
      const double lp = loss_fn().item<double>();
      vars[v].assign(Tensor(minus));
      const double lm = loss_fn().item<double>();
      numeric.data()[k] = (lp - lm) / (2 * eps);
    }
    vars[v].assign(original);
    CHECK_ALLCLOSE(grads[v].dense(), Tensor(numeric), 1e-6, 1e-8);
  }
}

TEST_CASE("Dense get_config has Keras's keys; from_config round-trips") {
  nn::clear_session();
  nn::Dense dense(10, "softmax", false);
  const Config c = dense.get_config();
  std::vector<std::string> keys;
  for (auto it = c.begin(); it != c.end(); ++it) keys.push_back(it.key());
  CHECK(keys == std::vector<std::string>{"name", "trainable", "dtype", "units", "activation",
                                         "use_bias", "kernel_initializer", "bias_initializer",
                                         "kernel_regularizer", "bias_regularizer",
                                         "activity_regularizer", "kernel_constraint",
                                         "bias_constraint"});
  CHECK(c["name"] == "dense");
  CHECK(c["dtype"] == "float32");
  CHECK(c["units"] == 10);
  CHECK(c["activation"] == "softmax");
  CHECK(c["kernel_initializer"].dump() == R"({"class_name":"GlorotUniform","config":{"seed":null}})");
  CHECK(c["bias_initializer"].dump() == R"({"class_name":"Zeros","config":{}})");
  Config renamed = c;
  renamed["name"] = "copy";
  CHECK(nn::Dense::from_config(renamed).get_config() == renamed);
  CHECK(nn::layers::deserialize(nn::layers::serialize(dense)).class_name() == "Dense");
  Config bad = c;
  bad["kernel_regularizer"] = "l2";
  CHECK_THROWS_WITH_TEXT(nn::Dense::from_config(bad), ValueError, "'kernel_regularizer' is not "
                                                                  "supported");
  bad = c;
  bad["filters"] = 3;
  CHECK_THROWS_WITH_TEXT(nn::Dense::from_config(bad), TypeError,
                         "unexpected keyword argument 'filters'");
}

TEST_CASE("Dense validation errors use Keras's wording") {
  nn::clear_session();
  CHECK_THROWS_WITH_TEXT(nn::Dense(0), ValueError,
                         "Received an invalid value for `units`, expected a positive integer. "
                         "Received: units=0");
  CHECK_THROWS_WITH_TEXT(nn::Dense(-3), ValueError, "units=-3");
  nn::Dense dense(2);
  CHECK_THROWS_WITH_TEXT(dense(ones({3})), ValueError,
                         "Input 0 of layer \"dense\" is incompatible with the layer: expected "
                         "min_ndim=2, found ndim=1. Full shape received: (3,)");
  dense(ones({5, 20}));
  CHECK_THROWS_WITH_TEXT(dense(ones({5, 3})), ValueError,
                         "Input 0 of layer \"dense\" is incompatible with the layer: expected "
                         "axis -1 of input shape to have value 20, but received input with shape "
                         "(5, 3)");
}
