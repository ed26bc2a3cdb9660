// Layer base: unique names, Keras variable names, build on first call, trainable flags,
// get/set_weights, and a layer written outside the library.
#include "../support.hpp"

#include <tapeflow/nn/nn.hpp>

using namespace tapeflow;

namespace {

/// y = x · scale (one scale per feature): the custom-layer pattern from layer.hpp.
class ScaleImpl : public nn::LayerImpl {
 public:
  explicit ScaleImpl(const std::string& name) : LayerImpl("Scale", name) {}
  Tensor call(const Tensor& x) override { return x * scale_; }
  Shape compute_output_shape(const Shape& s) const override { return s; }
  int builds = 0;

 protected:
  void build(const Shape& s) override {
    ++builds;
    scale_ = add_weight("scale", {s.back()}, "ones");
    counter_ = add_weight("counter", {}, "zeros", /*trainable=*/false);
  }

 private:
  Variable scale_{Tensor(0.0f)};
  Variable counter_{Tensor(0.0f)};
};

class Scale : public nn::Layer {
 public:
  explicit Scale(const std::string& name = "") : Layer(std::make_shared<ScaleImpl>(name)) {}
  int builds() const { return static_cast<ScaleImpl&>(impl()).builds; }
};

/// y = x; records the `training` value each call saw (and can be told to throw).
class TrainingProbeImpl : public nn::LayerImpl {
 public:
  explicit TrainingProbeImpl(const std::string& name) : LayerImpl("TrainingProbe", name) {}
  Tensor call(const Tensor& x) override {
    seen.push_back(training());
    if (fail) throw ValueError("probe failed");
    return x;
  }
  Shape compute_output_shape(const Shape& s) const override { return s; }
  std::vector<bool> seen;
  bool fail = false;
};

class TrainingProbe : public nn::Layer {
 public:
  explicit TrainingProbe(const std::string& name = "")
      : Layer(std::make_shared<TrainingProbeImpl>(name)) {}
  TrainingProbeImpl& body() const { return static_cast<TrainingProbeImpl&>(impl()); }
};

std::vector<std::string> names_of(const std::vector<Variable>& vars) {
  std::vector<std::string> out;
  for (const Variable& v : vars) out.push_back(v.name());
  return out;
}

}  // namespace

TEST_CASE("to_snake_case follows Keras") {
  CHECK(nn::to_snake_case("Dense") == "dense");
  CHECK(nn::to_snake_case("SimpleRNN") == "simple_rnn");
  CHECK(nn::to_snake_case("BatchNormalization") == "batch_normalization");
  CHECK(nn::to_snake_case("Conv2D") == "conv2d");
  CHECK(nn::to_snake_case("_Private") == "private__private");  // as Keras
}

TEST_CASE("unique names: dense, dense_1, ... per class; clear_session restarts") {
  nn::clear_session();
  CHECK(nn::unique_object_name("thing") == "thing");
  CHECK(nn::unique_object_name("thing") == "thing_1");
  CHECK(nn::unique_object_name("other") == "other");
  nn::clear_session();
  nn::Dense a(2), b(2);
  nn::Embedding e(5, 2);
  nn::Dense named(2, "", true, "glorot_uniform", "zeros", "head");
  nn::Dense c(2);
  CHECK(a.name() == "dense");
  CHECK(b.name() == "dense_1");
  CHECK(e.name() == "embedding");
  CHECK(named.name() == "head");
  CHECK(c.name() == "dense_2");
  CHECK(Scale().name() == "scale");
  nn::clear_session();
  CHECK(nn::Dense(1).name() == "dense");
}

TEST_CASE("variables are named <layer>/<weight>:0 and created on the first call") {
  nn::clear_session();
  nn::Dense d0(3), d1(4, "", false);
  CHECK_FALSE(d0.built());
  CHECK(d0.variables().empty());
  d1(d0(zeros({2, 5})));
  CHECK(d0.built());
  CHECK(names_of(d0.variables()) == std::vector<std::string>{"dense/kernel:0", "dense/bias:0"});
  CHECK(names_of(d1.variables()) == std::vector<std::string>{"dense_1/kernel:0"});
  CHECK(d0.kernel().shape() == Shape{5, 3});
  CHECK(d0.bias().shape() == Shape{3});
  CHECK(d1.kernel().shape() == Shape{3, 4});
  CHECK(d0.impl().build_input_shape() == Shape{2, 5});
  CHECK(d0.count_params() == 18);

  nn::Embedding e(10, 4);
  e(Tensor{{1, 2}});
  CHECK(names_of(e.variables()) == std::vector<std::string>{"embedding/embeddings:0"});
}

TEST_CASE("copies alias one layer") {
  nn::Dense d(2);
  nn::Layer copy = d;
  copy(ones({1, 3}));
  CHECK(d.built());
  CHECK(copy.is(d));
  CHECK(d.kernel().id() == copy.trainable_variables()[0].id());
}

TEST_CASE("a custom layer: build once, trainable and non-trainable weights") {
  nn::clear_session();
  Scale s;
  const Tensor y = s(Tensor{{1.0f, 2.0f}, {3.0f, 4.0f}});
  s(Tensor{{1.0f, 2.0f}});
  CHECK(s.builds() == 1);
  CHECK_ALLCLOSE(y, (Tensor{{1.0f, 2.0f}, {3.0f, 4.0f}}), 0, 0);
  CHECK(names_of(s.trainable_variables()) == std::vector<std::string>{"scale/scale:0"});
  CHECK(names_of(s.non_trainable_variables()) == std::vector<std::string>{"scale/counter:0"});
  CHECK(names_of(s.variables()) == std::vector<std::string>{"scale/scale:0", "scale/counter:0"});
  CHECK(s.count_params() == 3);

  s.set_trainable(false);
  CHECK(s.trainable_variables().empty());
  CHECK(names_of(s.non_trainable_variables()) ==
        std::vector<std::string>{"scale/scale:0", "scale/counter:0"});
  CHECK(s.get_config()["trainable"] == false);
}

TEST_CASE("get_weights / set_weights are all-or-nothing") {
  nn::Dense d(2);
  d(ones({1, 3}));
  const std::vector<Tensor> before = d.get_weights();
  REQUIRE(before.size() == 2);
  d.set_weights({ones({3, 2}), Tensor{1.0, 2.0}});
  CHECK_ALLCLOSE(d.kernel().value(), ones({3, 2}), 0, 0);
  CHECK_ALLCLOSE(d.bias().value(), (Tensor{1.0f, 2.0f}), 0, 0);

  CHECK_THROWS_WITH_TEXT(d.set_weights({ones({3, 2})}), ValueError,
                         "with a weight list of length 1, but the layer was expecting 2 weights");
  CHECK_THROWS_WITH_TEXT(d.set_weights({zeros({3, 2}), zeros({3})}), ValueError,
                         "weight 1 (dense");
  // The failed call changed nothing.
  CHECK_ALLCLOSE(d.kernel().value(), ones({3, 2}), 0, 0);
}

TEST_CASE("errors: count_params before build, call before build, bad dtype, failed build") {
  nn::clear_session();
  nn::Dense d(2);
  CHECK_THROWS_WITH_TEXT(d.count_params(), ValueError,
                         "You tried to call `count_params` on layer dense, but the layer isn't "
                         "built");
  CHECK_THROWS_WITH_TEXT(d.call(ones({1, 2})), ValueError, "Layer \"dense\" is not built");
  CHECK_THROWS_WITH_TEXT(nn::Dense(2, "", true, "glorot_uniform", "zeros", "", DType::int32),
                         TypeError, "Dense: the layer dtype must be float32 or float64");
  // A build that fails leaves the layer unbuilt and without weights; a good call then works.
  CHECK_THROWS_AS(d(ones({3})), ValueError);
  CHECK_FALSE(d.built());
  CHECK(d.variables().empty());
  CHECK(d(ones({1, 4})).shape() == Shape{1, 2});
}

TEST_CASE("training: false by default, explicit per call, inherited by nested layer calls") {
  nn::clear_session();
  TrainingProbe probe;
  const Tensor x = ones({2, 3});
  probe(x);
  probe(x, true);
  probe(x, false);
  probe.call(x, true);
  probe.call(x);
  CHECK(probe.body().seen == std::vector<bool>{false, true, false, true, false});
  CHECK_FALSE(nn::LayerImpl::training());  // outside any call

  // Sequential passes its value on; an inner explicit value wins for that layer only.
  TrainingProbe inner;
  nn::Sequential model({probe, nn::Sequential({inner})});
  probe.body().seen.clear();
  model(x, true);
  model(x);
  CHECK(probe.body().seen == std::vector<bool>{true, false});
  CHECK(inner.body().seen == std::vector<bool>{true, false});

  // A call that throws still restores the enclosing value.
  inner.body().fail = true;
  CHECK_THROWS_AS(model(x, true), ValueError);
  CHECK_FALSE(nn::LayerImpl::training());
}

TEST_CASE("training: fit runs the model with training=true, evaluate and predict with false") {
  nn::clear_session();
  TrainingProbe probe;
  nn::Sequential model({probe, nn::Dense(1)});
  model.compile(optim::Adagrad(0.01), "mse");
  const Tensor x = ones({4, 2}), y = zeros({4, 1});
  model.fit(x, y, /*epochs=*/1, /*batch_size=*/2, /*verbose=*/0);
  CHECK(probe.body().seen == std::vector<bool>{true, true});
  probe.body().seen.clear();
  model.evaluate(x, y, 4, 0);
  model.predict(x, 4);
  CHECK(probe.body().seen == std::vector<bool>{false, false});
}
