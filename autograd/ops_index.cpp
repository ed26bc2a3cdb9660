// Indexing: gather (with an IndexedSlices gradient), unsorted_segment_sum, one_hot.

#include <cstring>

#include "tapeflow/autograd/ops.hpp"
#include "tapeflow/autograd/record.hpp"
#include "tapeflow/core/kernels.hpp"

namespace tapeflow {

using detail::Grads;
using detail::NeedsGrad;

namespace {

/// The indices as int64, checked against [0, limit); ValueError naming `op` otherwise.
std::vector<std::int64_t> checked_indices(const char* op, const Tensor& indices, std::size_t limit) {
  if (!is_integer(indices.dtype())) {
    detail::throw_type_error("{}: indices must be int32 or int64. Received: dtype={}", op,
                             dtype_name(indices.dtype()));
  }
  std::vector<std::int64_t> out(indices.size());
  detail::visit_dtype(indices.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_integral<T>::value && !std::is_same<T, bool>::value) {
      const T* p = static_cast<const T*>(indices.raw_data());
      for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::int64_t>(p[i]);
    }
  });
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] < 0 || static_cast<std::size_t>(out[i]) >= limit) {
      detail::throw_value_error("{}: indices[{}] = {} is not in [0, {})", op, i, out[i], limit);
    }
  }
  return out;
}

std::size_t row_bytes(const Shape& shape, std::size_t from_axis, DType dtype) {
  std::size_t n = dtype_size(dtype);
  for (std::size_t k = from_axis; k < shape.size(); ++k) n *= shape[k];
  return n;
}

}  // namespace

Tensor gather(const Tensor& params, const Tensor& indices) {
  if (params.rank() == 0) detail::throw_value_error("gather: params must have rank >= 1, received a scalar");
  const Shape& pshape = params.shape();
  const std::vector<std::int64_t> rows = checked_indices("gather", indices, pshape[0]);
  Shape out_shape = indices.shape();
  out_shape.insert(out_shape.end(), pshape.begin() + 1, pshape.end());
  Tensor out = Tensor::empty(params.dtype(), out_shape);
  const std::size_t row = row_bytes(pshape, 1, params.dtype());
  const auto* src = static_cast<const unsigned char*>(params.raw_data());
  auto* dst = static_cast<unsigned char*>(out.storage()->data());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    std::memcpy(dst + i * row, src + static_cast<std::size_t>(rows[i]) * row, row);
  }
  return detail::record("gather", out, {params, indices},
                        [pshape, indices](const Tensor& g, NeedsGrad) -> Grads {
                          // The row count is explicit: -1 cannot be inferred for zero-size rows.
                          const std::int64_t n = static_cast<std::int64_t>(indices.size());
                          std::vector<std::int64_t> values_shape{n};
                          values_shape.insert(values_shape.end(), pshape.begin() + 1, pshape.end());
                          return {IndexedSlices{reshape(g, values_shape), reshape(indices, {n}),
                                                pshape},
                                  Tensor()};
                        });
}

Tensor unsorted_segment_sum(const Tensor& data, const Tensor& indices, std::size_t num_segments) {
  const Shape& dshape = data.shape();
  const Shape& ishape = indices.shape();
  bool prefix = ishape.size() <= dshape.size();
  for (std::size_t k = 0; prefix && k < ishape.size(); ++k) prefix = ishape[k] == dshape[k];
  if (!prefix) {
    detail::throw_value_error(
        "unsorted_segment_sum: indices shape {} must be a prefix of data shape {}", shape_str(ishape),
        shape_str(dshape));
  }
  const std::vector<std::int64_t> rows = checked_indices("unsorted_segment_sum", indices, num_segments);
  Shape out_shape{num_segments};
  out_shape.insert(out_shape.end(), dshape.begin() + static_cast<std::ptrdiff_t>(ishape.size()),
                   dshape.end());
  Tensor out = zeros(out_shape, data.dtype());
  const std::size_t width = detail::shape_size(out_shape) / (num_segments == 0 ? 1 : num_segments);
  detail::visit_dtype(data.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* src = static_cast<const T*>(data.raw_data());
    T* dst = static_cast<T*>(out.storage()->data());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      T* to = dst + static_cast<std::size_t>(rows[i]) * width;
      const T* from = src + i * width;
      for (std::size_t j = 0; j < width; ++j) to[j] += from[j];
    }
  });
  return detail::record("unsorted_segment_sum", out, {data, indices},
                        [indices](const Tensor& g, NeedsGrad) -> Grads {
                          return {gather(g, indices), Tensor()};
                        });
}

Tensor one_hot(const Tensor& indices, std::size_t depth, DType dtype) {
  if (!is_integer(indices.dtype())) {
    detail::throw_type_error("one_hot: indices must be int32 or int64. Received: dtype={}",
                             dtype_name(indices.dtype()));
  }
  const Tensor wide = cast(indices, DType::int64);
  const auto* idx = static_cast<const std::int64_t*>(wide.raw_data());
  Shape out_shape = indices.shape();
  out_shape.push_back(depth);
  Tensor out = zeros(out_shape, dtype);
  detail::visit_dtype(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* po = static_cast<T*>(out.storage()->data());
    // Out-of-range indices give all-zero rows, as tf.one_hot.
    for (std::size_t i = 0, n = indices.size(); i < n; ++i) {
      if (idx[i] >= 0 && static_cast<std::size_t>(idx[i]) < depth) {
        po[i * depth + static_cast<std::size_t>(idx[i])] = T(1);
      }
    }
  });
  return out;
}

}  // namespace tapeflow
