#include "../support.hpp"

#include <tapeflow/nn/nn.hpp>

using namespace tapeflow;

TEST_CASE("activations by name compute their formulas") {
  const Tensor x = Tensor{{-2.0, 0.0, 3.0}};
  CHECK(nn::Activation("").name() == "linear");
  CHECK_ALLCLOSE(nn::Activation("")(x), x, 0, 0);
  CHECK_ALLCLOSE(nn::Activation("linear")(x), x, 0, 0);
  CHECK_ALLCLOSE(nn::Activation("relu")(x), (Tensor{{0.0, 0.0, 3.0}}), 0, 0);
  CHECK_ALLCLOSE(nn::activations::get("tanh")(x),
                 (Tensor{{std::tanh(-2.0), 0.0, std::tanh(3.0)}}), 1e-6, 1e-7);
  CHECK_ALLCLOSE(nn::activations::get("sigmoid")(x),
                 (Tensor{{1 / (1 + std::exp(2.0)), 0.5, 1 / (1 + std::exp(-3.0))}}), 1e-6, 1e-7);
  const double z = std::exp(-2.0) + 1.0 + std::exp(3.0);
  CHECK_ALLCLOSE(nn::activations::get("softmax")(x),
                 (Tensor{{std::exp(-2.0) / z, 1.0 / z, std::exp(3.0) / z}}), 1e-6, 1e-7);
}

TEST_CASE("a custom activation keeps its name") {
  nn::Activation twice("twice", [](const Tensor& t) { return t * 2.0; });
  CHECK(twice.name() == "twice");
  CHECK_ALLCLOSE(twice(Tensor{1.0, 2.0}), (Tensor{2.0, 4.0}), 0, 0);
}

TEST_CASE("an unknown activation lists the known ones") {
  CHECK_THROWS_WITH_TEXT(nn::Activation("relu6"), ValueError,
                         "Unknown activation function: 'relu6'. Known activations: linear, relu, "
                         "sigmoid, softmax, tanh");
  CHECK_THROWS_WITH_TEXT(nn::Dense(3, "gelu"), ValueError, "'gelu'");
}
