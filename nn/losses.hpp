#pragma once
// Losses, as tf.keras.losses: per-example functions in `nn::losses`, and Loss objects that add
// Keras's label-rank matching and its default reduction (the mean over the batch).

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tapeflow/core/json.hpp"
#include "tapeflow/core/tensor.hpp"

namespace tapeflow::nn {

namespace losses {

/// Keras's backend.epsilon(): probabilities are clipped to [ε, 1 - ε] when from_logits is false.
constexpr double kEpsilon = 1e-7;

// Per-example losses: one value per example (the last axis, or `axis`, is reduced). y_true is
// cast to y_pred's dtype (integer ids for the sparse loss). y_pred must be floating.

/// mean over the last axis of (y_pred - y_true)²  (y_true broadcasts against y_pred)
Tensor mean_squared_error(const Tensor& y_true, const Tensor& y_pred);
/// mean over the last axis of |y_pred - y_true|
Tensor mean_absolute_error(const Tensor& y_true, const Tensor& y_pred);
/// mean over `axis` of the logistic loss. With probabilities p = clip(y_pred, ε, 1-ε):
///   -(y·log(p + ε) + (1 - y)·log(1 - p + ε))   (Keras's form);
/// with from_logits, sigmoid_cross_entropy_with_logits(y, y_pred) (stable for any logit).
/// label_smoothing s: y ← y·(1 - s) + s/2.
Tensor binary_crossentropy(const Tensor& y_true, const Tensor& y_pred, bool from_logits = false,
                           double label_smoothing = 0.0, int axis = -1);
/// -Σ_axis y·log p with p = clip(y_pred / Σ_axis y_pred, ε, 1-ε); with from_logits,
/// softmax_cross_entropy_with_logits(y, y_pred, axis). y_true and y_pred must have one shape
/// (ValueError "Shapes ... are incompatible" otherwise, as Keras). label_smoothing s:
/// y ← y·(1 - s) + s/classes.
Tensor categorical_crossentropy(const Tensor& y_true, const Tensor& y_pred,
                                bool from_logits = false, double label_smoothing = 0.0,
                                int axis = -1);
/// Cross-entropy with integer class ids y_true (floating ids are cast, as Keras does):
/// sparse_softmax_cross_entropy_with_logits(y_true, from_logits ? y_pred : log(clip(y_pred))).
/// y_true has y_pred's shape without `axis`, or with a trailing 1 (squeezed). A class id outside
/// [0, classes) is a ValueError.
Tensor sparse_categorical_crossentropy(const Tensor& y_true, const Tensor& y_pred,
                                       bool from_logits = false, int axis = -1);

/// Keras's aliases.
inline Tensor mse(const Tensor& y_true, const Tensor& y_pred) {
  return mean_squared_error(y_true, y_pred);
}
inline Tensor mae(const Tensor& y_true, const Tensor& y_pred) {
  return mean_absolute_error(y_true, y_pred);
}

/// Keras's label-rank matching, as compile and LossFunctionWrapper apply it before a loss or a
/// metric: labels of rank 1 against predictions of rank 2 become (batch, 1) (compile_utils'
/// match_dtype_and_rank); then a trailing size-1 axis that makes the ranks differ by one is
/// squeezed (squeeze_or_expand_dimensions). Returns {y_true, y_pred}.
std::pair<Tensor, Tensor> match_ranks(const Tensor& y_true, const Tensor& y_pred);

}  // namespace losses

/// A loss object: `loss(y_true, y_pred)` is the mean over all per-example losses (Keras's
/// SUM_OVER_BATCH_SIZE reduction) after match_ranks, so labels of shape (batch,) work against
/// outputs of shape (batch, k) for mse, mae and binary cross-entropy. Copies share one
/// immutable body. Constructible from a name (losses::get), so `compile(opt, "mse")` works.
class Loss {
 public:
  /// Per-example losses from (y_true, y_pred).
  using Function = std::function<Tensor(const Tensor& y_true, const Tensor& y_pred)>;

  Loss(const char* name);
  Loss(const std::string& name);
  /// A custom loss from a per-example function (Keras's LossFunctionWrapper).
  Loss(std::string name, Function per_example);

  /// The reduced (scalar) loss: reduce_mean(call(y_true, y_pred)).
  Tensor operator()(const Tensor& y_true, const Tensor& y_pred) const;
  /// The per-example losses, after match_ranks.
  Tensor call(const Tensor& y_true, const Tensor& y_pred) const;

  /// The Keras class name: "MeanSquaredError", ..., "LossFunctionWrapper" for a custom loss.
  const std::string& class_name() const;
  /// "mean_squared_error", ... (or the name given).
  const std::string& name() const;
  /// True for a cross-entropy built with from_logits.
  bool from_logits() const;
  /// {"reduction": "auto", "name": ..., then the loss's own arguments}.
  Config get_config() const;

 protected:
  Loss(std::string class_name, std::string name, Config arguments, Function per_example);

 private:
  struct Body;
  std::shared_ptr<const Body> body_;
};

/// mean_squared_error, reduced.
class MeanSquaredError : public Loss {
 public:
  explicit MeanSquaredError(std::string name = "mean_squared_error");
};
/// mean_absolute_error, reduced.
class MeanAbsoluteError : public Loss {
 public:
  explicit MeanAbsoluteError(std::string name = "mean_absolute_error");
};
/// binary_crossentropy, reduced.
class BinaryCrossentropy : public Loss {
 public:
  explicit BinaryCrossentropy(bool from_logits = false, double label_smoothing = 0.0,
                              int axis = -1, std::string name = "binary_crossentropy");
};
/// categorical_crossentropy, reduced.
class CategoricalCrossentropy : public Loss {
 public:
  explicit CategoricalCrossentropy(bool from_logits = false, double label_smoothing = 0.0,
                                   int axis = -1, std::string name = "categorical_crossentropy");
};
/// sparse_categorical_crossentropy, reduced.
class SparseCategoricalCrossentropy : public Loss {
 public:
  explicit SparseCategoricalCrossentropy(bool from_logits = false,
                                         std::string name = "sparse_categorical_crossentropy");
};

namespace losses {
using nn::BinaryCrossentropy;
using nn::CategoricalCrossentropy;
using nn::Loss;
using nn::MeanAbsoluteError;
using nn::MeanSquaredError;
using nn::SparseCategoricalCrossentropy;

/// The loss named `name`: "mse" / "mean_squared_error" / "MeanSquaredError", "mae" /
/// "mean_absolute_error", "binary_crossentropy" / "bce", "categorical_crossentropy",
/// "sparse_categorical_crossentropy" (and their class names), with default arguments.
/// ValueError listing the known names otherwise.
Loss get(const std::string& name);
/// {"class_name": ..., "config": ...}, as tf.keras.losses.serialize.
Config serialize(const Loss& loss);
/// From serialize()'s dict or a name. ValueError for an unknown or custom class.
Loss deserialize(const Config& config);
}  // namespace losses

}  // namespace tapeflow::nn
