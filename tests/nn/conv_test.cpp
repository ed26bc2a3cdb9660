// Conv2D, Conv1D and the pooling layers: weights and their names, forward values against the ops,
// output shapes, Keras configs and layers::deserialize, Sequential's summary, gradients, errors
// with Keras's wording (nothing changed: no weight, no name used up).
#include "../support.hpp"

#include <sstream>

#include <tapeflow/nn/nn.hpp>

using namespace tapeflow;

namespace {

std::vector<std::string> names_of(const std::vector<Variable>& vars) {
  std::vector<std::string> out;
  for (const Variable& v : vars) out.push_back(v.name());
  return out;
}

Tensor rand64(const Shape& shape) {
  return random::uniform(shape, -1, 1, DType::float64);
}

}  // namespace

TEST_CASE("Conv2D: weights (kh, kw, c, filters) named Keras-style; y = act(conv2d + bias)") {
  nn::clear_session();
  nn::Conv2D conv(4, 3, 1, "same", "relu", true, "glorot_uniform", "zeros", 1, "", DType::float64);
  const Tensor x = rand64({2, 6, 5, 3});
  const Tensor y = conv(x);
  CHECK(y.shape() == Shape{2, 6, 5, 4});
  CHECK(names_of(conv.variables()) == std::vector<std::string>{"conv2d/kernel:0", "conv2d/bias:0"});
  CHECK(conv.kernel().shape() == Shape{3, 3, 3, 4});
  conv.bias().assign(rand64({4}));
  CHECK_ALLCLOSE(conv(x), relu(conv2d(x, conv.kernel(), {1}, "SAME") + conv.bias()), 1e-14, 1e-14);
  CHECK(conv.count_params() == 3 * 3 * 3 * 4 + 4);

  // VALID, strides (2, 1), no bias, linear; float32 by default, integer inputs cast.
  nn::Conv2D strided(2, {3, 2}, {2, 1}, "VALID", "", false);
  const Tensor z = strided(cast(x, DType::float32));
  CHECK(z.shape() == Shape{2, 2, 4, 2});
  CHECK(strided.variables().size() == 1);
  CHECK(strided.name() == "conv2d_1");
  CHECK_ALLCLOSE(z, conv2d(cast(x, DType::float32), strided.kernel(), {2, 1}, "VALID"), 1e-6, 1e-6);
  CHECK(strided(cast(x * 3.0, DType::int32)).dtype() == DType::float32);
  CHECK_THROWS_WITH_TEXT(strided.bias(), ValueError, "has no bias (use_bias=false)");

  // Dilation.
  nn::Conv2D dilated(1, 2, 1, "valid", "", true, "ones", "zeros", 2);
  CHECK(dilated(cast(x, DType::float32)).shape() == Shape{2, 4, 3, 1});
}

TEST_CASE("Conv1D: kernel (k, c, filters); y = act(conv1d + bias)") {
  nn::clear_session();
  nn::Conv1D conv(3, 2, 2, "same", "tanh", true, "glorot_uniform", "zeros", 1, "", DType::float64);
  const Tensor x = rand64({2, 7, 4});
  const Tensor y = conv(x);
  CHECK(y.shape() == Shape{2, 4, 3});
  CHECK(conv.kernel().shape() == Shape{2, 4, 3});
  CHECK(conv.name() == "conv1d");
  CHECK_ALLCLOSE(y, tanh(conv1d(x, conv.kernel(), {2}, "SAME") + conv.bias()), 1e-14, 1e-14);
}

TEST_CASE("Conv2D gradients reach the kernel, the bias and the input") {
  nn::Conv2D conv(2, 2, 1, "same", "tanh", true, "glorot_uniform", "zeros", 1, "", DType::float64);
  const Tensor x = rand64({1, 3, 3, 2});
  conv.build(x.shape());
  conv.bias().assign(rand64({2}));
  CHECK_GRADCHECK(gradcheck([&](const std::vector<Tensor>& in) { return conv(in[0]); }, {x}));
  const Tensor k = conv.kernel().read_value_no_record(), b = conv.bias().read_value_no_record();
  CHECK_GRADCHECK(gradcheck(
      [&](const std::vector<Tensor>& in) { return tanh(conv2d(x, in[0], {1}, "SAME") + in[1]); },
      {k, b}));
  GradientTape tape;
  const auto grads = tape.gradient(reduce_sum(conv(x)), conv.trainable_variables());
  CHECK(grads.size() == 2);
  CHECK(grads[0].dense().shape() == k.shape());
  CHECK(grads[1].dense().shape() == b.shape());
}

TEST_CASE("Pooling layers: defaults (strides = pool_size), same/valid, values of the ops") {
  nn::clear_session();
  const Tensor x = rand64({2, 7, 6, 3});
  nn::MaxPooling2D pool;
  CHECK(pool.name() == "max_pooling2d");
  CHECK(pool(cast(x, DType::float32)).shape() == Shape{2, 3, 3, 3});
  nn::MaxPooling2D same(3, 2, "same", "", DType::float64);
  CHECK_ALLCLOSE(same(x), max_pool2d(x, {3}, {2}, "SAME"), 0, 0);
  CHECK(same(x).shape() == Shape{2, 4, 3, 3});
  nn::AveragePooling2D avg({2, 3}, {}, "valid", "", DType::float64);
  CHECK(avg.name() == "average_pooling2d");
  CHECK_ALLCLOSE(avg(x), avg_pool2d(x, {2, 3}, {2, 3}, "VALID"), 0, 0);
  nn::GlobalAveragePooling2D gap(false, "", DType::float64);
  CHECK_ALLCLOSE(gap(x), reduce_mean(x, {1, 2}), 1e-15, 1e-15);
  nn::GlobalAveragePooling2D kept(true, "", DType::float64);
  CHECK(kept(x).shape() == Shape{2, 1, 1, 3});
  CHECK(pool.variables().empty());
}

TEST_CASE("get_config holds Keras's keys; layers::deserialize rebuilds each layer") {
  nn::clear_session();
  nn::Conv2D conv(8, {3, 3}, 2, "same", "relu");
  const Config c = conv.get_config();
  CHECK(c.dump() ==
        R"({"name":"conv2d","trainable":true,"dtype":"float32","filters":8,"kernel_size":[3,3],)"
        R"("strides":[2,2],"padding":"same","data_format":"channels_last","dilation_rate":[1,1],)"
        R"("groups":1,"activation":"relu","use_bias":true,"kernel_initializer":{"class_name":)"
        R"("GlorotUniform","config":{"seed":null}},"bias_initializer":{"class_name":"Zeros",)"
        R"("config":{}},"kernel_regularizer":null,"bias_regularizer":null,)"
        R"("activity_regularizer":null,"kernel_constraint":null,"bias_constraint":null})");
  const std::vector<nn::Layer> layers = {conv,
                                         nn::Conv1D(4, 5, 1, "valid", "", false),
                                         nn::MaxPooling2D(2, 1, "same"),
                                         nn::AveragePooling2D(3),
                                         nn::GlobalAveragePooling2D(true)};
  for (const nn::Layer& layer : layers) {
    INFO(layer.class_name());
    const Config serialized = nn::layers::serialize(layer);
    Config renamed = serialized;
    renamed["config"]["name"] = "copy_of_" + layer.name();
    const nn::Layer copy = nn::layers::deserialize(renamed);
    CHECK(copy.class_name() == layer.class_name());
    Config expected = serialized["config"];
    expected["name"] = "copy_of_" + layer.name();
    CHECK(copy.get_config() == expected);
  }
  CHECK(nn::MaxPooling2D(2).get_config().dump() ==
        R"({"name":"max_pooling2d_1","trainable":true,"dtype":"float32","pool_size":[2,2],)"
        R"("padding":"valid","strides":[2,2],"data_format":"channels_last"})");
  // Keras 2 writes its tuples as lists; a plain int and Keras's aliases are read too.
  const nn::Layer alias = nn::layers::deserialize(
      {{"class_name", "MaxPool2D"}, {"config", {{"pool_size", 3}, {"strides", nullptr}}}});
  CHECK(alias.get_config()["strides"] == Config::array({3, 3}));
  CHECK_THROWS_WITH_TEXT(
      nn::layers::deserialize(
          {{"class_name", "Conv2D"},
           {"config", {{"filters", 2}, {"kernel_size", 3}, {"data_format", "channels_first"}}}}),
      ValueError,
      "only data_format=\"channels_last\" is supported");
  CHECK_THROWS_WITH_TEXT(
      nn::layers::deserialize({{"class_name", "Conv2D"}, {"config", {{"filters", 2}}}}),
      TypeError,
      "missing required argument 'kernel_size'");
}

TEST_CASE("Sequential builds a CNN and summary() shows every layer") {
  nn::clear_session();
  nn::Sequential model({nn::Conv2D(4, 3, 1, "same", "relu"),
                        nn::MaxPooling2D(),
                        nn::Conv1D(2, 1),
                        nn::GlobalAveragePooling2D()});
  // Conv1D after pooling takes rank 3 inputs: this model is rank-inconsistent on purpose below.
  CHECK_THROWS_WITH_TEXT(model.build({1, 8, 8, 1}),
                         ValueError,
                         "Input 0 of layer \"conv1d\" is incompatible with the layer: expected "
                         "ndim=3, found ndim=4. Full shape received: (1, 4, 4, 4)");
  nn::Sequential cnn({nn::Conv2D(4, 3, 1, "same", "relu"),
                      nn::MaxPooling2D(),
                      nn::AveragePooling2D(2, 1, "same"),
                      nn::GlobalAveragePooling2D(),
                      nn::Dense(3)});
  cnn.build({5, 8, 8, 1});
  CHECK(cnn(random::uniform({5, 8, 8, 1})).shape() == Shape{5, 3});
  std::ostringstream out;
  cnn.summary(out);
  const std::string s = out.str();
  for (const char* row : {" conv2d_1 (Conv2D)           (None, 8, 8, 4)           40",
                          " max_pooling2d_1 (MaxPooling  (None, 4, 4, 4)          0",
                          " average_pooling2d (AverageP  (None, 4, 4, 4)          0",
                          " global_average_pooling2d_1   (None, 4)                0",
                          "Total params: 55"}) {
    CHECK_MESSAGE(s.find(row) != std::string::npos, "missing row \"" << row << "\" in\n" << s);
  }
}

TEST_CASE("Conv and pooling layers: bad arguments are ValueErrors in Keras's words; no name used") {
  nn::clear_session();
  CHECK_THROWS_WITH_TEXT(nn::Conv2D(0, 3),
                         ValueError,
                         "Invalid value for argument `filters`. Expected a strictly positive "
                         "value. Received filters=0.");
  CHECK_THROWS_WITH_TEXT(
      nn::Conv2D(2, {3}),
      ValueError,
      "The `kernel_size` argument must be a tuple of 2 integers. Received: (3,)");
  CHECK_THROWS_WITH_TEXT(nn::Conv2D(2, {0, 3}),
                         ValueError,
                         "The `kernel_size` argument must be a tuple of 2 integers. Received "
                         "kernel_size=(0, 3) including {0} that does not satisfy the requirement "
                         "`> 0`.");
  CHECK_THROWS_WITH_TEXT(nn::Conv2D(2, 3, 1, "full"),
                         ValueError,
                         "The `padding` argument must be a list/tuple or one of \"valid\", "
                         "\"same\". Received: full");
  CHECK_THROWS_WITH_TEXT(nn::Conv2D(2, 3, 2, "same", "", true, "glorot_uniform", "zeros", 2),
                         ValueError,
                         "`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                         "Received: strides=(2, 2) and dilation_rate=(2, 2)");
  CHECK_THROWS_WITH_TEXT(
      nn::MaxPooling2D(2, -1), ValueError, "The `strides` argument must be a tuple of 2 integers");
  CHECK_THROWS_WITH_TEXT(nn::AveragePooling2D({2, 2, 2}),
                         ValueError,
                         "The `pool_size` argument must be a tuple of 2 integers");
  // None of the failed constructions took a name.
  CHECK(nn::Conv2D(2, 3).name() == "conv2d");
  CHECK(nn::MaxPooling2D().name() == "max_pooling2d");

  nn::Conv2D conv(2, 3);
  CHECK_THROWS_WITH_TEXT(conv(ones({4, 5, 3})),
                         ValueError,
                         "Input 0 of layer \"conv2d_1\" is incompatible with the layer: expected "
                         "ndim=4, found ndim=3. Full shape received: (4, 5, 3)");
  CHECK_THROWS_WITH_TEXT(conv(ones({1, 2, 5, 3})),
                         ValueError,
                         "One of the dimensions in the output is <= 0 due to downsampling in "
                         "conv2d. Consider increasing the input size. Received input shape (1, 2, "
                         "5, 3)");
  CHECK_FALSE(conv.built());  // failed builds leave no weights
  CHECK(conv.variables().empty());
  CHECK(conv(ones({1, 5, 5, 3})).shape() == Shape{1, 3, 3, 2});
  CHECK_THROWS_WITH_TEXT(conv(ones({1, 5, 5, 2})),
                         ValueError,
                         "expected axis -1 of input shape to have value 3, but received input "
                         "with shape (1, 5, 5, 2)");
  CHECK_THROWS_WITH_TEXT(
      nn::MaxPooling2D(3)(ones({1, 2, 2, 1})), ValueError, "due to downsampling in max_pool2d");
  CHECK_THROWS_WITH_TEXT(
      nn::GlobalAveragePooling2D()(ones({2, 3})), ValueError, "expected ndim=4, found ndim=2");
}
