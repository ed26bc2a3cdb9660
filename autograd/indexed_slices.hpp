#pragma once
// IndexedSlices and Gradient: the values a tape returns for each source.

#include <memory>
#include <utility>
#include <vector>

#include "tapeflow/core/tensor.hpp"

namespace tapeflow {

class Variable;

/// A sparse gradient over the rows of a tensor, as tf.IndexedSlices: row `indices[i]` of the
/// dense gradient gets `values[i]`. Indices may repeat (their rows add up) and are unsorted.
///   values: shape (n, dense_shape[1:]...), indices: int32/int64 of shape (n,).
struct IndexedSlices {
  Tensor values;
  Tensor indices;
  Shape dense_shape;

  /// The dense gradient: dense[indices[i]] += values[i] (duplicates summed). Differentiable in values.
  Tensor to_dense() const;
};

/// One gradient: none (unconnected), a dense Tensor, or an IndexedSlices (from `gather`).
class Gradient {
 public:
  Gradient() = default;
  Gradient(Tensor dense) : dense_(std::move(dense)) {}
  Gradient(IndexedSlices slices)
      : sparse_(std::make_shared<const IndexedSlices>(std::move(slices))) {}

  /// False when there is no gradient (the source was not connected to the target).
  explicit operator bool() const { return static_cast<bool>(dense_) || sparse_ != nullptr; }
  bool is_sparse() const { return sparse_ != nullptr; }
  /// The sparse form; ValueError when the gradient is dense or none.
  const IndexedSlices& indexed_slices() const;
  /// The dense form (densifying an IndexedSlices); none stays none.
  Tensor dense() const;
  operator Tensor() const { return dense(); }

  /// Shape and dtype of the gradient's dense form.
  Shape shape() const;
  DType dtype() const;

 private:
  Tensor dense_;
  std::shared_ptr<const IndexedSlices> sparse_;
};

/// Pairs gradients with their variables for Optimizer::apply_gradients (ValueError on a size
/// mismatch), as Python's `zip(grads, vars)`.
std::vector<std::pair<Gradient, Variable>> zip(const std::vector<Gradient>& grads,
                                               const std::vector<Variable>& vars);

/// `tapeflow.Tensor(...)`, `IndexedSlices(indices=..., values=..., dense_shape=...)` or `None`.
std::ostream& operator<<(std::ostream& os, const Gradient& gradient);

}  // namespace tapeflow
