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

TEST_CASE("accuracy functions, per example") {
  CHECK_ALLCLOSE(nn::metrics::binary_accuracy(f64({{1.0, 0.0}, {1.0, 1.0}}),
                                              f64({{0.7, 0.6}, {0.2, 0.9}})),
                 (Tensor{0.5f, 0.5f}), 0, 0);
  CHECK_ALLCLOSE(nn::metrics::categorical_accuracy(f64({{0.0, 1.0}, {1.0, 0.0}}),
                                                   f64({{0.3, 0.7}, {0.4, 0.6}})),
                 (Tensor{1.0f, 0.0f}), 0, 0);
  CHECK_ALLCLOSE(nn::metrics::sparse_categorical_accuracy(Tensor{{1}, {1}},
                                                          f64({{0.3, 0.7}, {0.6, 0.4}})),
                 (Tensor{1.0f, 0.0f}), 0, 0);
  CHECK_ALLCLOSE(nn::metrics::sparse_categorical_accuracy(f64({1.0, 0.0}),
                                                          f64({{0.3, 0.7}, {0.6, 0.4}})),
                 (Tensor{1.0f, 1.0f}), 0, 0);
}

TEST_CASE("Metric keeps a running mean over batches") {
  nn::Metric m("acc", nn::metrics::sparse_categorical_accuracy);
  CHECK(m.result() == 0.0);
  m.update_state(Tensor{0, 1, 1}, f64({{0.9, 0.1}, {0.2, 0.8}, {0.6, 0.4}}));  // 2 of 3
  m.update_state(Tensor{1}, f64({{0.0, 1.0}}));                                  // 1 of 1
  CHECK(m.result() == doctest::Approx(0.75));
  m.reset_state();
  CHECK(m.result() == 0.0);
}

TEST_CASE("\"accuracy\" picks Keras's variant from the loss, else from the shapes") {
  const auto variant = [](const nn::Loss& loss, const Shape& t, const Shape& p, const Tensor& y,
                          const Tensor& pred) {
    nn::Metric m = nn::metrics::get("accuracy", loss, t, p);
    m.update_state(y, pred);
    return m.result();
  };
  const Tensor probs = f64({{0.1, 0.9}, {0.8, 0.2}});
  // Sparse: labels are ids.
  CHECK(variant("sparse_categorical_crossentropy", {2}, {2, 2}, Tensor{1, 1}, probs) == 0.5);
  // Categorical: one-hot rows.
  CHECK(variant("categorical_crossentropy", {2, 2}, {2, 2}, f64({{0.0, 1.0}, {1.0, 0.0}}),
                probs) == 1.0);
  // Binary over every element: 0.9 > 0.5 matches 1, 0.1 matches 0, ...
  CHECK(variant("binary_crossentropy", {2, 2}, {2, 2}, f64({{0.0, 1.0}, {0.0, 0.0}}), probs) ==
        0.75);
  // Binary from logits thresholds at 0.
  CHECK(variant(nn::BinaryCrossentropy(true), {2}, {2, 1}, f64({1.0, 0.0}), col64({0.2, -0.2})) ==
        1.0);
  // mse: shapes decide. (batch,) vs (batch, 1) -> binary; (batch,) vs (batch, k) -> sparse.
  CHECK(variant("mse", {2}, {2, 1}, f64({1.0, 0.0}), col64({0.7, 0.4})) == 1.0);
  CHECK(variant("mse", {2}, {2, 2}, f64({1.0, 1.0}), probs) == 0.5);
  CHECK(variant("mse", {2, 2}, {2, 2}, f64({{0.0, 1.0}, {0.0, 1.0}}), probs) == 0.5);

  nn::Metric mse = nn::metrics::get("mse", "mse", {2}, {2, 1});
  mse.update_state(f64({1.0, 0.0}), col64({0.5, 0.5}));
  CHECK(mse.result() == 0.25);
  CHECK(mse.name() == "mse");
  CHECK_THROWS_WITH_TEXT(nn::metrics::get("auc", "mse", {}, {}), ValueError,
                         "Unknown metric function: 'auc'");
}
