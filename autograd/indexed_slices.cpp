#include "tapeflow/autograd/indexed_slices.hpp"

#include <algorithm>
#include <ostream>
#include <type_traits>

#include "tapeflow/autograd/ops.hpp"
#include "tapeflow/autograd/variable.hpp"
#include "tapeflow/core/check.hpp"
#include "tapeflow/core/dispatch.hpp"

namespace tapeflow {

Tensor IndexedSlices::to_dense() const {
  // Users build IndexedSlices by hand (grads_and_vars), so the parts are checked against each
  // other here rather than producing a tensor of the wrong shape.
  constexpr const char* op = "IndexedSlices.to_dense";
  if (dense_shape.empty()) detail::throw_value_error("{}: dense_shape is empty", op);
  if (!values) detail::throw_value_error("{}: values is none", op);
  if (!indices) detail::throw_value_error("{}: indices is none", op);
  if (!is_integer(indices.dtype())) {
    detail::throw_type_error("{}: indices must be int32 or int64. Received: dtype={}", op,
                             dtype_name(indices.dtype()));
  }
  if (indices.rank() != 1) {
    detail::throw_value_error("{}: indices must be a vector. Received: shape={}", op,
                              shape_str(indices.shape()));
  }
  const Shape& vs = values.shape();
  if (vs.size() != dense_shape.size() ||
      !std::equal(vs.begin() + 1, vs.end(), dense_shape.begin() + 1)) {
    detail::throw_value_error("{}: values of shape {} do not fit dense_shape {}", op,
                              shape_str(vs), shape_str(dense_shape));
  }
  if (indices.size() != vs[0]) {
    detail::throw_value_error("{}: {} indices for {} rows of values", op, indices.size(), vs[0]);
  }
  detail::visit_dtype(indices.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_integral<T>::value && !std::is_same<T, bool>::value) {
      const T* p = static_cast<const T*>(indices.raw_data());
      for (std::size_t i = 0; i < indices.size(); ++i) {
        if (p[i] < 0 || static_cast<std::size_t>(p[i]) >= dense_shape[0]) {
          detail::throw_value_error("{}: indices[{}] = {} is not in [0, {})", op, i,
                                    static_cast<std::int64_t>(p[i]), dense_shape[0]);
        }
      }
    }
  });
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
