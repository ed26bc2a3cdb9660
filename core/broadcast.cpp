#include <algorithm>

#include "tapeflow/autograd/ops.hpp"
#include "tapeflow/core/check.hpp"
#include "tapeflow/core/kernels.hpp"

namespace tapeflow {

Shape broadcast_shape(const Shape& a, const Shape& b, const char* op) {
  const std::size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (std::size_t k = 0; k < rank; ++k) {
    const std::size_t da = k < rank - a.size() ? 1 : a[k - (rank - a.size())];
    const std::size_t db = k < rank - b.size() ? 1 : b[k - (rank - b.size())];
    if (da != db && da != 1 && db != 1) {
      detail::throw_value_error("{}: incompatible shapes for broadcasting: {} and {}", op,
                                shape_str(a), shape_str(b));
    }
    out[k] = da == 1 ? db : da;
  }
  return out;
}

Tensor sum_to(const Tensor& gradient, const Shape& shape) {
  const Shape& from = gradient.shape();
  if (from == shape) return gradient;
  if (shape.size() > from.size()) {
    detail::throw_value_error("sum_to: cannot reduce shape {} to the larger rank of {}",
                              shape_str(from), shape_str(shape));
  }
  // Sum the leading axes that broadcasting added and the axes that were stretched from 1.
  std::vector<int> axes;
  const std::size_t lead = from.size() - shape.size();
  for (std::size_t k = 0; k < from.size(); ++k) {
    if (k < lead || (shape[k - lead] == 1 && from[k] != 1)) axes.push_back(static_cast<int>(k));
    else if (shape[k - lead] != from[k]) {
      detail::throw_value_error("sum_to: shape {} does not broadcast to {}", shape_str(shape),
                                shape_str(from));
    }
  }
  Tensor summed = axes.empty() ? gradient : reduce_sum(gradient, axes, true);
  std::vector<std::int64_t> target(shape.begin(), shape.end());
  return reshape(summed, target);
}

namespace detail {

void throw_dtype_mismatch(const char* op, DType a, DType b) {
  throw_type_error("{}: x and y must have the same dtype, got {} != {}", op, dtype_name(a),
                   dtype_name(b));
}

void require_floating(const char* op, DType dtype) {
  if (!is_floating(dtype)) {
    throw_type_error("{}: expected a float32 or float64 tensor. Received: dtype={}", op,
                     dtype_name(dtype));
  }
}

int normalize_axis(const char* op, int axis, std::size_t rank) {
  const int r = static_cast<int>(rank);
  if (axis < -r || axis >= r) {
    throw_value_error("{}: axis {} is out of bounds for a tensor of rank {}", op, axis, rank);
  }
  return axis < 0 ? axis + r : axis;
}

}  // namespace detail
}  // namespace tapeflow
