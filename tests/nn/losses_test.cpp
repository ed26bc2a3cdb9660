// Losses: values against hand computations, Keras reduction and label-rank matching,
// gradchecks (float64, with and without logits), stability at huge logits, configs, errors.
#include <cmath>

#include "../support.hpp"

#include <tapeflow/nn/nn.hpp>

using namespace tapeflow;
namespace losses = tapeflow::nn::losses;

namespace {
Tensor f64(const xt::xarray<double>& v) { return Tensor(v); }
/// A float64 column (n, 1): {{a}, {b}} is ambiguous as an xarray literal.
Tensor col64(const xt::xarray<double>& v) {
  return reshape(Tensor(v), {-1, 1});
}
Tensor rand64(const Shape& s, double lo, double hi) {
  return random::uniform(s, lo, hi, DType::float64);
}
double sigmoid_d(double x) { return 1.0 / (1.0 + std::exp(-x)); }
constexpr double kEps = 1e-7;

bool all_finite(const Tensor& t) {
  const auto v = t.numpy<double>();
  return std::all_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); });
}
}  // namespace

TEST_CASE("mse and mae: per-example means over the last axis, then the batch mean") {
  const Tensor y = f64({{0.0, 1.0}, {2.0, 3.0}});
  const Tensor p = f64({{1.0, 1.0}, {0.0, 5.0}});
  CHECK_ALLCLOSE(losses::mean_squared_error(y, p), f64({0.5, 4.0}), 0, 0);
  CHECK_ALLCLOSE(losses::mse(y, p), f64({0.5, 4.0}), 0, 0);
  CHECK_ALLCLOSE(losses::mean_absolute_error(y, p), f64({0.5, 2.0}), 0, 0);
  CHECK(nn::MeanSquaredError()(y, p).item<double>() == 2.25);
  CHECK(nn::Loss("mae")(y, p).item<double>() == 1.25);
  // Integer labels are cast to the predictions' dtype.
  CHECK_ALLCLOSE(losses::mse(Tensor{{0, 1}, {2, 3}}, p), f64({0.5, 4.0}), 0, 0);
}

TEST_CASE("labels of shape (batch,) against outputs (batch, k) broadcast as (batch, 1)") {
  const Tensor p = f64({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  const Tensor y = f64({1.0, 4.0});
  // Row 0: ((0)² + 1² + 2²)/3 = 5/3; row 1: (0 + 1 + 4)/3 = 5/3.
  CHECK(std::abs(nn::MeanSquaredError()(y, p).item<double>() - 5.0 / 3.0) < 1e-12);
  CHECK(std::abs(nn::MeanAbsoluteError()(y, p).item<double>() - 1.0) < 1e-12);
  // The seed's shapes: zeros(5) against (5, 10).
  const Tensor out = rand64({5, 10}, -1, 1);
  CHECK_ALLCLOSE(nn::Loss("mse")(zeros({5}, DType::float64), out), reduce_mean(square(out)), 1e-12,
                 0);
  // binary cross-entropy, probabilities and logits.
  const Tensor q = f64({{0.2, 0.9}, {0.6, 0.4}});
  const Tensor z = f64({1.0, 0.0});
  const double expected =
      (-std::log(0.2 + kEps) - std::log(0.9 + kEps) - std::log(1 - 0.6 + kEps) -
       std::log(1 - 0.4 + kEps)) / 4;
  CHECK(std::abs(nn::BinaryCrossentropy()(z, q).item<double>() - expected) < 1e-12);
  const Tensor logits = f64({{0.5, -1.0}, {2.0, 0.0}});
  const double from_logits = (-std::log(sigmoid_d(0.5)) - std::log(sigmoid_d(-1.0)) -
                              std::log(1 - sigmoid_d(2.0)) - std::log(1 - sigmoid_d(0.0))) / 4;
  CHECK(std::abs(nn::BinaryCrossentropy(true)(z, logits).item<double>() - from_logits) < 1e-12);
  // (batch, 1) predictions against (batch,) labels: the trailing 1 is matched, not broadcast.
  const Tensor col = col64({0.25, 0.75});
  CHECK(std::abs(nn::MeanSquaredError()(f64({0.0, 1.0}), col).item<double>() - 0.0625) < 1e-15);
  // The bare function does not match ranks (Keras's functions do not either).
  CHECK_THROWS_AS(losses::mse(f64({1.0, 4.0}), p), ValueError);
}

TEST_CASE("binary_crossentropy: clipped probabilities, stable logits, label smoothing") {
  const Tensor y = f64({{1.0, 0.0}});
  const Tensor p = f64({{0.8, 0.3}});
  const double hand = (-std::log(0.8 + kEps) - std::log(1 - 0.3 + kEps)) / 2;
  CHECK(std::abs(losses::binary_crossentropy(y, p).item<double>() - hand) < 1e-12);
  // p = 0 or 1 would be log(0): clipped to ε and 1 - ε.
  const Tensor hard = losses::binary_crossentropy(f64({{1.0, 0.0}}), f64({{0.0, 1.0}}));
  CHECK(std::abs(hard.item<double>() + std::log(2 * kEps)) < 1e-6);
  // Huge logits: no overflow, no nan, and finite gradients.
  const Tensor big = Tensor{{1e30f, -1e30f, 80.0f}};
  Variable x(big, "x");
  GradientTape tape;
  const Tensor l = losses::binary_crossentropy(Tensor{{0.0f, 1.0f, 1.0f}}, x, true);
  CHECK(std::abs(l.item<double>() - 2e30 / 3) / (2e30 / 3) < 1e-6);
  const Tensor g = tape.gradient(l, {x})[0].dense();
  CHECK(all_finite(g));
  CHECK_ALLCLOSE(g, (Tensor{{1.0f / 3, -1.0f / 3, 0.0f}}), 1e-6, 1e-7);
  // Label smoothing 0.2: y -> 0.9 / 0.1.
  const double smooth = (-(0.9 * std::log(0.8 + kEps) + 0.1 * std::log(0.2 + kEps)) -
                         (0.1 * std::log(0.3 + kEps) + 0.9 * std::log(0.7 + kEps))) / 2;
  CHECK(std::abs(losses::binary_crossentropy(y, p, false, 0.2).item<double>() - smooth) < 1e-12);
}

TEST_CASE("categorical_crossentropy: normalized probabilities, logits, label smoothing") {
  const Tensor y = f64({{0.0, 1.0, 0.0}, {1.0, 0.0, 0.0}});
  const Tensor p = f64({{0.2, 0.5, 0.3}, {1.0, 2.0, 1.0}});  // row 1 sums to 4: normalized
  CHECK_ALLCLOSE(losses::categorical_crossentropy(y, p), f64({-std::log(0.5), -std::log(0.25)}),
                 1e-12, 0);
  const Tensor logits = f64({{1.0, 2.0, 3.0}, {0.0, 0.0, 0.0}});
  const double lse = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  CHECK_ALLCLOSE(losses::categorical_crossentropy(y, logits, true),
                 f64({lse - 2.0, std::log(3.0)}), 1e-12, 0);
  CHECK(std::abs(nn::CategoricalCrossentropy(true)(y, logits).item<double>() -
                 (lse - 2.0 + std::log(3.0)) / 2) < 1e-12);
  // Smoothing 0.3 over 3 classes: y -> y·0.7 + 0.1.
  const Tensor smoothed = losses::categorical_crossentropy(y, logits, true, 0.3);
  const double row0 = 0.1 * (lse - 1.0) + 0.8 * (lse - 2.0) + 0.1 * (lse - 3.0);
  CHECK(std::abs(smoothed.numpy<double>()(0) - row0) < 1e-12);
  // Huge logits: the exact loss 2e30 (no overflow in e^x), and a finite gradient.
  Variable big(Tensor{{1e30f, -1e30f}}, "big");
  GradientTape tape;
  const Tensor huge = losses::categorical_crossentropy(Tensor{{0.0f, 1.0f}}, big, true);
  CHECK(huge.item<double>() == doctest::Approx(2e30));
  CHECK_ALLCLOSE(tape.gradient(huge, {big})[0].dense(), (Tensor{{1.0f, -1.0f}}), 0, 0);
  CHECK_THROWS_WITH_TEXT(nn::CategoricalCrossentropy()(f64({1.0, 0.0}), p), ValueError,
                         "categorical_crossentropy: Shapes (2, 1) and (2, 3) are incompatible");
}

TEST_CASE("sparse_categorical_crossentropy: ids of shape (batch,) or (batch, 1)") {
  const Tensor p = f64({{0.2, 0.5, 0.3}, {0.1, 0.1, 0.8}});
  const Tensor expected = f64({-std::log(0.5), -std::log(0.8)});
  CHECK_ALLCLOSE(losses::sparse_categorical_crossentropy(Tensor{1, 2}, p), expected, 1e-12, 0);
  CHECK_ALLCLOSE(losses::sparse_categorical_crossentropy(Tensor{{1}, {2}}, p), expected, 1e-12, 0);
  CHECK_ALLCLOSE(losses::sparse_categorical_crossentropy(f64({1.0, 2.0}), p), expected, 1e-12, 0);
  const Tensor logits = log(p) + 7.0;  // shifted logits give the same loss
  CHECK_ALLCLOSE(losses::sparse_categorical_crossentropy(Tensor{1, 2}, logits, true), expected,
                 1e-12, 0);
  CHECK(std::abs(nn::SparseCategoricalCrossentropy()(Tensor{1, 2}, p).item<double>() -
                 (-std::log(0.5) - std::log(0.8)) / 2) < 1e-12);
  // The class axis first.
  CHECK_ALLCLOSE(losses::sparse_categorical_crossentropy(Tensor{1, 2}, transpose(p), false, 0),
                 expected, 1e-12, 0);
  const Tensor huge = losses::sparse_categorical_crossentropy(Tensor{1}, Tensor{{1e30f, -1e30f}},
                                                              true);
  CHECK(huge.item<double>() == doctest::Approx(2e30));
  // Probabilities of exactly 0 and 1 are clipped: -log(ε) up to the normalization.
  const Tensor hard = losses::sparse_categorical_crossentropy(Tensor{1}, Tensor{{1.0f, 0.0f}});
  CHECK(all_finite(hard));
  CHECK(hard.item<double>() == doctest::Approx(-std::log(kEps)).epsilon(1e-4));
  CHECK_THROWS_WITH_TEXT(losses::sparse_categorical_crossentropy(Tensor{1, 3}, p), ValueError,
                         "label value of 3");
  CHECK_THROWS_WITH_TEXT(losses::sparse_categorical_crossentropy(Tensor{1, 2, 0}, p), ValueError,
                         "y_true of shape (3,) does not match y_pred of shape (2, 3)");
}

TEST_CASE("loss gradients match finite differences (float64)") {
  const Tensor probs = rand64({3, 4}, 0.05, 0.95);
  const Tensor logits = rand64({3, 4}, -3, 3);
  const Tensor labels01 = rand64({3, 4}, 0, 1);
  const Tensor dist = softmax(rand64({3, 4}, -2, 2));
  const Tensor ids = Tensor{0, 3, 2};
  const Tensor column = rand64({3}, -1, 1);
  struct Row {
    const char* name;
    nn::Loss loss;
    Tensor y_true, y_pred;
  };
  const std::vector<Row> rows{
      {"mse", nn::MeanSquaredError(), labels01, logits},
      {"mae", nn::MeanAbsoluteError(), labels01 + 5.0, logits},  // away from the kink
      {"mse (batch,) labels", nn::MeanSquaredError(), column, logits},
      {"mae (batch,) labels", nn::MeanAbsoluteError(), column + 5.0, logits},
      {"bce", nn::BinaryCrossentropy(), labels01, probs},
      {"bce logits", nn::BinaryCrossentropy(true), labels01, logits},
      {"bce (batch,) labels", nn::BinaryCrossentropy(true), rand64({3}, 0, 1), logits},
      {"bce smoothing", nn::BinaryCrossentropy(false, 0.1), labels01, probs},
      {"cce", nn::CategoricalCrossentropy(), dist, probs},
      {"cce logits", nn::CategoricalCrossentropy(true), dist, logits},
      {"scce", nn::SparseCategoricalCrossentropy(), ids, probs},
      {"scce logits", nn::SparseCategoricalCrossentropy(true), ids, logits},
  };
  for (const Row& row : rows) {
    INFO("loss: " << row.name);
    const nn::Loss loss = row.loss;
    CHECK_GRADCHECK(gradcheck(
        [loss](const std::vector<Tensor>& in) { return loss(in[0], in[1]); },
        {row.y_true, row.y_pred}, 1e-6, 1e-6, 1e-5));
  }
}

TEST_CASE("Loss objects: names, configs, get, serialize, errors") {
  CHECK(nn::Loss("mse").class_name() == "MeanSquaredError");
  CHECK(nn::Loss("mse").name() == "mean_squared_error");
  CHECK(losses::get("bce").class_name() == "BinaryCrossentropy");
  CHECK(losses::get("SparseCategoricalCrossentropy").name() == "sparse_categorical_crossentropy");
  CHECK(nn::MeanSquaredError().get_config().dump() ==
        R"({"reduction":"auto","name":"mean_squared_error"})");
  CHECK(nn::BinaryCrossentropy(true).get_config().dump() ==
        R"({"reduction":"auto","name":"binary_crossentropy","from_logits":true,)"
        R"("label_smoothing":0.0,"axis":-1})");
  CHECK(nn::SparseCategoricalCrossentropy().get_config().dump() ==
        R"({"reduction":"auto","name":"sparse_categorical_crossentropy","from_logits":false,)"
        R"("ignore_class":null})");
  const nn::Loss back = losses::deserialize(losses::serialize(nn::CategoricalCrossentropy(true, 0.1)));
  CHECK(back.class_name() == "CategoricalCrossentropy");
  CHECK(back.from_logits());
  CHECK(back.get_config()["label_smoothing"] == 0.1);

  nn::Loss custom("half_sq", [](const Tensor& t, const Tensor& p) {
    return reduce_mean(square(p - t), {-1}) * 0.5;
  });
  CHECK(custom.class_name() == "LossFunctionWrapper");
  CHECK(custom(col64({0.0}), col64({2.0})).item<double>() == 2.0);

  CHECK_THROWS_WITH_TEXT(nn::Loss("hinge"), ValueError,
                         "Unknown loss function: 'hinge'. Known losses: mse (mean_squared_error)");
  CHECK_THROWS_WITH_TEXT(losses::mse(f64({1.0}), Tensor{1, 2}), TypeError,
                         "mean_squared_error: y_pred must be float32 or float64");
  CHECK_THROWS_WITH_TEXT(losses::binary_crossentropy(f64({{1.0, 0.0, 1.0}}), f64({{0.5, 0.5}})),
                         ValueError, "binary_crossentropy");
}
