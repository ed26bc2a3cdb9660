#pragma once
// Metrics, as tf.keras.metrics: per-example accuracy functions and a running-mean Metric that
// Model::fit and evaluate report.

#include <functional>
#include <string>

#include "tapeflow/core/tensor.hpp"
#include "tapeflow/nn/losses.hpp"

namespace tapeflow::nn {

namespace metrics {
// Per-example values in float32 (Keras's floatx), one per example.

/// mean over the last axis of [y_true == (y_pred > threshold)]
Tensor binary_accuracy(const Tensor& y_true, const Tensor& y_pred, double threshold = 0.5);
/// [argmax(y_true) == argmax(y_pred)] over the last axis (one-hot labels)
Tensor categorical_accuracy(const Tensor& y_true, const Tensor& y_pred);
/// [y_true == argmax(y_pred)] over the last axis (class ids; a trailing 1 in y_true is squeezed)
Tensor sparse_categorical_accuracy(const Tensor& y_true, const Tensor& y_pred);
}  // namespace metrics

/// A running mean of per-example values over the batches seen (Keras's MeanMetricWrapper):
/// result() = Σ values / number of values since the last reset_state().
class Metric {
 public:
  /// Per-example values from (y_true, y_pred).
  using Function = std::function<Tensor(const Tensor& y_true, const Tensor& y_pred)>;

  /// ValueError for an empty function.
  Metric(std::string name, Function per_example);

  /// Adds the per-example values of one batch (after losses::match_ranks).
  void update_state(const Tensor& y_true, const Tensor& y_pred);
  /// The mean so far (0 before any update).
  double result() const;
  void reset_state();
  /// The key reported in logs and History ("accuracy", "mse", ...).
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  Function per_example_;
  double total_ = 0;
  double count_ = 0;
};

namespace metrics {
/// The metric named `name`, reported under that name: "binary_accuracy",
/// "categorical_accuracy", "sparse_categorical_accuracy", or a loss used as a metric ("mse",
/// "mae", "mean_squared_error", "mean_absolute_error", "binary_crossentropy",
/// "categorical_crossentropy", "sparse_categorical_crossentropy").
/// "accuracy" / "acc" pick a variant as compile does:
///   - from the loss: sparse_categorical_crossentropy → sparse_categorical_accuracy,
///     categorical_crossentropy → categorical_accuracy, binary_crossentropy → binary_accuracy
///     (threshold 0 on logits when the loss has from_logits: σ(x) > 0.5 ⟺ x > 0);
///   - otherwise from the shapes, as TF2 Keras does (after match_ranks): binary when y_pred's
///     last dimension is 1, sparse when y_true has lower rank or a trailing 1 against classes,
///     categorical else.
/// ValueError for an unknown name.
Metric get(const std::string& name, const Loss& loss, const Shape& y_true_shape,
           const Shape& y_pred_shape);
/// The names `get` knows.
bool is_known(const std::string& name);
}  // namespace metrics

}  // namespace tapeflow::nn
