// Reductions over a list of axes: reduce_sum, reduce_mean, reduce_max, argmax.

#include <algorithm>
#include <limits>

#include "tapeflow/autograd/ops.hpp"
#include "tapeflow/autograd/record.hpp"
#include "tapeflow/core/kernels.hpp"

namespace tapeflow {

using detail::Grads;
using detail::NeedsGrad;

namespace {

/// Which axes a reduction removes, and the shapes around it.
struct Reduction {
  std::vector<bool> reduced;     // per input axis
  Shape kept_shape;              // input shape with reduced axes set to 1
  Shape out_shape;               // kept_shape, or without the reduced axes
  std::size_t count = 1;         // elements folded into each output
};

Reduction plan(const char* op, const Shape& shape, const std::vector<int>& axis, bool keepdims) {
  Reduction r;
  r.reduced.assign(shape.size(), axis.empty());
  for (int ax : axis) r.reduced[static_cast<std::size_t>(detail::normalize_axis(op, ax, shape.size()))] = true;
  for (std::size_t k = 0; k < shape.size(); ++k) {
    if (r.reduced[k]) {
      r.count *= shape[k];
      r.kept_shape.push_back(1);
      if (keepdims) r.out_shape.push_back(1);
    } else {
      r.kept_shape.push_back(shape[k]);
      r.out_shape.push_back(shape[k]);
    }
  }
  return r;
}

/// Calls fold(out_index, in_index) for every input element, row-major over the input.
template <class Fold>
void for_each_reduced(const Shape& shape, const Reduction& r, Fold&& fold) {
  const std::size_t rank = shape.size();
  const std::size_t total = detail::shape_size(shape);
  if (total == 0) return;
  if (rank == 0) {
    fold(std::size_t{0}, std::size_t{0});
    return;
  }
  // Output strides (0 along reduced axes) in the kept shape.
  std::vector<std::size_t> out_strides(rank, 0), counter(rank, 0);
  std::size_t stride = 1;
  for (std::size_t k = rank; k-- > 0;) {
    out_strides[k] = r.reduced[k] ? 0 : stride;
    stride *= r.kept_shape[k];
  }
  const std::size_t inner = shape[rank - 1];
  const std::size_t inner_stride = out_strides[rank - 1];
  std::size_t out = 0;
  for (std::size_t in = 0; in < total; in += inner) {
    for (std::size_t j = 0; j < inner; ++j) fold(out + j * inner_stride, in + j);
    for (std::size_t k = rank - 1; k-- > 0;) {
      out += out_strides[k];
      if (++counter[k] < shape[k]) break;
      out -= out_strides[k] * shape[k];
      counter[k] = 0;
    }
  }
}

std::vector<std::int64_t> as_signed(const Shape& shape) {
  return std::vector<std::int64_t>(shape.begin(), shape.end());
}

}  // namespace

Tensor reduce_sum(const Tensor& x, std::vector<int> axis, bool keepdims) {
  const Reduction r = plan("reduce_sum", x.shape(), axis, keepdims);
  Tensor out = zeros(r.out_shape, x.dtype());
  detail::visit_dtype(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = static_cast<const T*>(x.raw_data());
    T* po = static_cast<T*>(out.storage()->data());
    if (out.size() == 1) {
      // Whole-tensor sum: accumulate in double for float32 (more exact than TensorFlow).
      using Acc = std::conditional_t<std::is_same<T, float>::value, double, T>;
      Acc acc = 0;
      for (std::size_t i = 0, n = x.size(); i < n; ++i) acc += static_cast<Acc>(px[i]);
      po[0] = static_cast<T>(acc);
      return;
    }
    for_each_reduced(x.shape(), r, [&](std::size_t o, std::size_t i) { po[o] += px[i]; });
  });
  const Shape in_shape = x.shape();
  const Shape kept = r.kept_shape;
  return detail::record("reduce_sum", out, {x}, [in_shape, kept](const Tensor& g, NeedsGrad) -> Grads {
    return {broadcast_to(reshape(g, as_signed(kept)), in_shape)};
  });
}

Tensor reduce_mean(const Tensor& x, std::vector<int> axis, bool keepdims) {
  const Reduction r = plan("reduce_mean", x.shape(), axis, keepdims);
  Tensor sum = reduce_sum(x, axis, keepdims);
  if (is_integer(x.dtype())) {
    // Integer mean truncates, as TensorFlow's.
    return detail::binary_map("reduce_mean", sum, scalar_like(sum, static_cast<double>(r.count)),
                              [](auto a, auto b) { return b == 0 ? a : a / b; });
  }
  return sum / static_cast<double>(r.count);
}

Tensor reduce_max(const Tensor& x, std::vector<int> axis, bool keepdims) {
  const Reduction r = plan("reduce_max", x.shape(), axis, keepdims);
  if (x.size() == 0) {
    detail::throw_value_error("reduce_max: cannot reduce an empty tensor of shape {}",
                              shape_str(x.shape()));
  }
  Tensor out = Tensor::empty(x.dtype(), r.out_shape);
  detail::visit_dtype(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = static_cast<const T*>(x.raw_data());
    T* po = static_cast<T*>(out.storage()->data());
    // Start from -inf, not lowest(): a row of -inf values has maximum -inf (and its gradient
    // mask must find it).
    using Limits = std::numeric_limits<T>;
    std::fill(po, po + out.size(), Limits::has_infinity ? -Limits::infinity() : Limits::lowest());
    for_each_reduced(x.shape(), r, [&](std::size_t o, std::size_t i) {
      // NaN propagates, as in TensorFlow.
      if (px[i] > po[o] || px[i] != px[i]) po[o] = px[i];
    });
  });
  const Shape in_shape = x.shape();
  const Shape kept = r.kept_shape;
  return detail::record("reduce_max", out, {x}, [x, out, in_shape, kept](const Tensor& g, NeedsGrad) -> Grads {
    // The gradient is shared equally by the elements equal to the maximum.
    const std::vector<std::int64_t> kept_signed = as_signed(kept);
    Tensor mask = cast(equal(x, reshape(out, kept_signed)), x.dtype());
    std::vector<int> axes;
    for (std::size_t k = 0; k < in_shape.size(); ++k) {
      if (kept[k] == 1 && in_shape[k] != 1) axes.push_back(static_cast<int>(k));
    }
    Tensor per_output = axes.empty() ? mask : reduce_sum(mask, axes, true);
    return {mask * reshape(g, kept_signed) / per_output};
  });
}

Tensor argmax(const Tensor& x, int axis) {
  if (x.rank() == 0) detail::throw_value_error("argmax: expected a tensor of rank >= 1, received a scalar");
  const std::size_t a = static_cast<std::size_t>(detail::normalize_axis("argmax", axis, x.rank()));
  const Shape& shape = x.shape();
  if (shape[a] == 0) detail::throw_value_error("argmax: axis {} is empty (shape {})", a, shape_str(shape));
  Shape out_shape;
  for (std::size_t k = 0; k < shape.size(); ++k) {
    if (k != a) out_shape.push_back(shape[k]);
  }
  std::size_t outer = 1, inner = 1;
  for (std::size_t k = 0; k < a; ++k) outer *= shape[k];
  for (std::size_t k = a + 1; k < shape.size(); ++k) inner *= shape[k];
  Tensor out = Tensor::empty(DType::int64, out_shape);
  auto* po = static_cast<std::int64_t*>(out.storage()->data());
  detail::visit_dtype(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = static_cast<const T*>(x.raw_data());
    for (std::size_t o = 0; o < outer; ++o) {
      for (std::size_t i = 0; i < inner; ++i) {
        const T* base = px + o * shape[a] * inner + i;
        std::size_t best = 0;
        for (std::size_t j = 1; j < shape[a]; ++j) {
          if (base[j * inner] > base[best * inner]) best = j;
        }
        po[o * inner + i] = static_cast<std::int64_t>(best);
      }
    }
  });
  return out;
}

}  // namespace tapeflow
