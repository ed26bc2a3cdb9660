#include "tapeflow/autograd/indexed_slices.hpp"

#include <ostream>

#include "tapeflow/autograd/ops.hpp"
#include "tapeflow/autograd/variable.hpp"
#include "tapeflow/core/check.hpp"

namespace tapeflow {

Tensor IndexedSlices::to_dense() const {
  if (dense_shape.empty()) detail::throw_value_error("IndexedSlices.to_dense: dense_shape is empty");
  return unsorted_segment_sum(values, indices, dense_shape[0]);
}

const IndexedSlices& Gradient::indexed_slices() const {
  if (!sparse_) {
    detail::throw_value_error("Gradient.indexed_slices: the gradient is {}, not an IndexedSlices",
                              dense_ ? "dense" : "none");
  }
  return *sparse_;
}

Tensor Gradient::dense() const { return sparse_ ? sparse_->to_dense() : dense_; }

Shape Gradient::shape() const {
  if (sparse_) return sparse_->dense_shape;
  if (!dense_) detail::throw_value_error("Gradient.shape: the gradient is none");
  return dense_.shape();
}

DType Gradient::dtype() const {
  if (sparse_) return sparse_->values.dtype();
  if (!dense_) detail::throw_value_error("Gradient.dtype: the gradient is none");
  return dense_.dtype();
}

std::vector<std::pair<Gradient, Variable>> zip(const std::vector<Gradient>& grads,
                                               const std::vector<Variable>& vars) {
  if (grads.size() != vars.size()) {
    detail::throw_value_error("zip: {} gradients for {} variables", grads.size(), vars.size());
  }
  std::vector<std::pair<Gradient, Variable>> pairs;
  pairs.reserve(grads.size());
  for (std::size_t i = 0; i < grads.size(); ++i) pairs.emplace_back(grads[i], vars[i]);
  return pairs;
}

std::ostream& operator<<(std::ostream& os, const Gradient& gradient) {
  if (!gradient) return os << "None";
  if (!gradient.is_sparse()) return os << gradient.dense();
  const IndexedSlices& s = gradient.indexed_slices();
  return os << "IndexedSlices(indices=" << s.indices << ", values=" << s.values
            << ", dense_shape=" << shape_str(s.dense_shape) << ")";
}

}  // namespace tapeflow
