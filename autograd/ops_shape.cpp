// Shape ops: reshape, broadcast_to, slice_axis, concat, transpose, expand_dims, squeeze.

#include <cstring>
#include <numeric>

#include "tapeflow/autograd/ops.hpp"
#include "tapeflow/autograd/record.hpp"
#include "tapeflow/core/kernels.hpp"

namespace tapeflow {

using detail::Grads;
using detail::NeedsGrad;

namespace {

std::vector<std::int64_t> as_signed(const Shape& shape) {
  return std::vector<std::int64_t>(shape.begin(), shape.end());
}

/// Bytes in one step along `axis` (the product of the later extents, times the element size).
std::size_t inner_bytes(const Shape& shape, std::size_t axis, DType dtype) {
  std::size_t n = dtype_size(dtype);
  for (std::size_t k = axis + 1; k < shape.size(); ++k) n *= shape[k];
  return n;
}

std::size_t outer_count(const Shape& shape, std::size_t axis) {
  std::size_t n = 1;
  for (std::size_t k = 0; k < axis; ++k) n *= shape[k];
  return n;
}

}  // namespace

Tensor reshape(const Tensor& x, const std::vector<std::int64_t>& shape) {
  Shape out_shape(shape.size());
  std::size_t known = 1;
  int inferred = -1;
  for (std::size_t k = 0; k < shape.size(); ++k) {
    if (shape[k] == -1) {
      if (inferred >= 0) {
        detail::throw_value_error("reshape: only one dimension can be -1. Received: shape=({})",
                                  fmt::join(shape, ", "));
      }
      inferred = static_cast<int>(k);
    } else if (shape[k] < 0) {
      detail::throw_value_error("reshape: dimensions must be >= -1. Received: shape=({})",
                                fmt::join(shape, ", "));
    } else {
      out_shape[k] = static_cast<std::size_t>(shape[k]);
      known *= out_shape[k];
    }
  }
  if (inferred >= 0) {
    if (known == 0 || x.size() % known != 0) {
      detail::throw_value_error(
          "reshape: cannot reshape a tensor with {} elements to shape ({}) (shape {} given)",
          x.size(), fmt::join(shape, ", "), shape_str(x.shape()));
    }
    out_shape[static_cast<std::size_t>(inferred)] = x.size() / known;
  } else if (known != x.size()) {
    detail::throw_value_error(
        "reshape: cannot reshape a tensor with {} elements to shape {} ({} elements). Input "
        "shape: {}",
        x.size(), shape_str(out_shape), known, shape_str(x.shape()));
  }
  Tensor out = Tensor::from_data(x.dtype(), out_shape, x.raw_data());
  const Shape in_shape = x.shape();
  return detail::record("reshape", out, {x}, [in_shape](const Tensor& g, NeedsGrad) -> Grads {
    return {reshape(g, as_signed(in_shape))};
  });
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  const Shape target = broadcast_shape(x.shape(), shape, "broadcast_to");
  if (target != shape) {
    detail::throw_value_error("broadcast_to: cannot broadcast shape {} to {}", shape_str(x.shape()),
                              shape_str(shape));
  }
  Tensor out = Tensor::empty(x.dtype(), shape);
  detail::visit_dtype(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = static_cast<const T*>(x.raw_data());
    T* po = static_cast<T*>(out.storage()->data());
    detail::for_each_broadcast(shape, x.shape(), shape,
                               [&](std::size_t o, std::size_t i, std::size_t) { po[o] = px[i]; });
  });
  const Shape in_shape = x.shape();
  return detail::record("broadcast_to", out, {x}, [in_shape](const Tensor& g, NeedsGrad) -> Grads {
    return {sum_to(g, in_shape)};
  });
}

Tensor slice_axis(const Tensor& x, int axis, std::size_t begin, std::size_t size) {
  const std::size_t a = static_cast<std::size_t>(detail::normalize_axis("slice_axis", axis, x.rank()));
  const Shape& in_shape = x.shape();
  if (begin + size > in_shape[a]) {
    detail::throw_value_error("slice_axis: [{}, {}) is out of range for axis {} of shape {}", begin,
                              begin + size, a, shape_str(in_shape));
  }
  Shape out_shape = in_shape;
  out_shape[a] = size;
  Tensor out = Tensor::empty(x.dtype(), out_shape);
  const std::size_t step = inner_bytes(in_shape, a, x.dtype());
  const std::size_t outer = outer_count(in_shape, a);
  const auto* src = static_cast<const unsigned char*>(x.raw_data());
  auto* dst = static_cast<unsigned char*>(out.storage()->data());
  for (std::size_t o = 0; o < outer; ++o) {
    std::memcpy(dst + o * size * step, src + (o * in_shape[a] + begin) * step, size * step);
  }
  return detail::record(
      "slice_axis", out, {x}, [in_shape, a, begin, size](const Tensor& g, NeedsGrad) -> Grads {
        Shape before = in_shape, after = in_shape;
        before[a] = begin;
        after[a] = in_shape[a] - begin - size;
        return {concat({zeros(before, g.dtype()), g, zeros(after, g.dtype())},
                       static_cast<int>(a))};
      });
}

Tensor concat(const std::vector<Tensor>& values, int axis) {
  if (values.empty()) detail::throw_value_error("concat: expected at least one tensor, received 0");
  const Tensor& first = values[0];
  const std::size_t a = static_cast<std::size_t>(detail::normalize_axis("concat", axis, first.rank()));
  Shape out_shape = first.shape();
  out_shape[a] = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const Tensor& v = values[i];
    if (v.dtype() != first.dtype()) detail::throw_dtype_mismatch("concat", first.dtype(), v.dtype());
    bool compatible = v.rank() == first.rank();
    for (std::size_t k = 0; compatible && k < v.rank(); ++k) {
      compatible = k == a || v.shape()[k] == first.shape()[k];
    }
    if (!compatible) {
      detail::throw_value_error(
          "concat: shapes must match except along axis {}. Received: {} (input 0) and {} (input {})",
          a, shape_str(first.shape()), shape_str(v.shape()), i);
    }
    out_shape[a] += v.shape()[a];
  }
  Tensor out = Tensor::empty(first.dtype(), out_shape);
  auto* dst = static_cast<unsigned char*>(out.storage()->data());
  const std::size_t outer = outer_count(out_shape, a);
  const std::size_t out_row = out_shape[a] * inner_bytes(out_shape, a, first.dtype());
  std::size_t offset = 0;
  std::vector<std::size_t> extents;
  extents.reserve(values.size());
  for (const Tensor& v : values) {
    const std::size_t row = v.shape()[a] * inner_bytes(v.shape(), a, v.dtype());
    const auto* src = static_cast<const unsigned char*>(v.raw_data());
    for (std::size_t o = 0; o < outer; ++o) std::memcpy(dst + o * out_row + offset, src + o * row, row);
    offset += row;
    extents.push_back(v.shape()[a]);
  }
  return detail::record("concat", out, values,
                        [a, extents](const Tensor& g, NeedsGrad needs) -> Grads {
                          Grads grads(extents.size());
                          std::size_t begin = 0;
                          for (std::size_t i = 0; i < extents.size(); ++i) {
                            if (needs[i]) {
                              grads[i] = slice_axis(g, static_cast<int>(a), begin, extents[i]);
                            }
                            begin += extents[i];
                          }
                          return grads;
                        });
}

Tensor transpose(const Tensor& x, std::vector<int> perm) {
  const std::size_t rank = x.rank();
  if (perm.empty()) {
    perm.resize(rank);
    for (std::size_t k = 0; k < rank; ++k) perm[k] = static_cast<int>(rank - 1 - k);
  }
  if (perm.size() != rank) {
    detail::throw_value_error("transpose: perm has {} entries for a tensor of rank {}. Received: "
                              "perm=({})",
                              perm.size(), rank, fmt::join(perm, ", "));
  }
  std::vector<int> inverse(rank, -1);
  for (std::size_t k = 0; k < rank; ++k) {
    const int p = perm[k];
    if (p < 0 || p >= static_cast<int>(rank) || inverse[static_cast<std::size_t>(p)] != -1) {
      detail::throw_value_error("transpose: perm must be a permutation of 0..{}. Received: ({})",
                                rank == 0 ? 0 : rank - 1, fmt::join(perm, ", "));
    }
    inverse[static_cast<std::size_t>(p)] = static_cast<int>(k);
  }
  const Shape& in_shape = x.shape();
  Shape out_shape(rank);
  for (std::size_t k = 0; k < rank; ++k) out_shape[k] = in_shape[static_cast<std::size_t>(perm[k])];
  // in_strides permuted into output order, then an odometer walk over the output.
  std::vector<std::size_t> in_strides(rank, 1), strides(rank);
  for (std::size_t k = rank; k-- > 1;) in_strides[k - 1] = in_strides[k] * in_shape[k];
  for (std::size_t k = 0; k < rank; ++k) strides[k] = in_strides[static_cast<std::size_t>(perm[k])];
  Tensor out = Tensor::empty(x.dtype(), out_shape);
  detail::visit_dtype(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = static_cast<const T*>(x.raw_data());
    T* po = static_cast<T*>(out.storage()->data());
    const std::size_t total = out.size();
    if (total == 0) return;
    if (rank == 0) {
      po[0] = px[0];
      return;
    }
    std::vector<std::size_t> counter(rank, 0);
    std::size_t src = 0;
    const std::size_t inner = out_shape[rank - 1];
    const std::size_t inner_stride = strides[rank - 1];
    for (std::size_t o = 0; o < total; o += inner) {
      for (std::size_t j = 0; j < inner; ++j) po[o + j] = px[src + j * inner_stride];
      for (std::size_t k = rank - 1; k-- > 0;) {
        src += strides[k];
        if (++counter[k] < out_shape[k]) break;
        src -= strides[k] * out_shape[k];
        counter[k] = 0;
      }
    }
  });
  return detail::record("transpose", out, {x}, [inverse](const Tensor& g, NeedsGrad) -> Grads {
    return {transpose(g, inverse)};
  });
}

Tensor expand_dims(const Tensor& x, int axis) {
  const int rank = static_cast<int>(x.rank());
  if (axis < -rank - 1 || axis > rank) {
    detail::throw_value_error("expand_dims: axis {} is out of range for a tensor of rank {}", axis,
                              rank);
  }
  const std::size_t a = static_cast<std::size_t>(axis < 0 ? axis + rank + 1 : axis);
  std::vector<std::int64_t> shape = as_signed(x.shape());
  shape.insert(shape.begin() + static_cast<std::ptrdiff_t>(a), 1);
  return reshape(x, shape);
}

Tensor squeeze(const Tensor& x, std::vector<int> axis) {
  const Shape& in_shape = x.shape();
  std::vector<bool> drop(in_shape.size(), false);
  if (axis.empty()) {
    for (std::size_t k = 0; k < in_shape.size(); ++k) drop[k] = in_shape[k] == 1;
  } else {
    for (int ax : axis) {
      const std::size_t k = static_cast<std::size_t>(detail::normalize_axis("squeeze", ax, x.rank()));
      if (in_shape[k] != 1) {
        detail::throw_value_error("squeeze: cannot squeeze axis {} of size {} (shape {})", k,
                                  in_shape[k], shape_str(in_shape));
      }
      drop[k] = true;
    }
  }
  std::vector<std::int64_t> shape;
  for (std::size_t k = 0; k < in_shape.size(); ++k) {
    if (!drop[k]) shape.push_back(static_cast<std::int64_t>(in_shape[k]));
  }
  return reshape(x, shape);
}

}  // namespace tapeflow
