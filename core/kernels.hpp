#pragma once
// Internal: the element loops every op is built on. Same-shape and scalar operands run as flat,
// vectorizable loops; other broadcasts walk the output once with per-operand strides (0 along a
// broadcast axis). No xtensor expression outlives a call, and nothing here allocates except the
// output tensor.

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "tapeflow/core/check.hpp"
#include "tapeflow/core/dispatch.hpp"
#include "tapeflow/core/tensor.hpp"

namespace tapeflow {
Shape broadcast_shape(const Shape& a, const Shape& b, const char* op);
}

namespace tapeflow::detail {

/// Row-major strides of `shape` as seen from `out_shape` (0 along broadcast axes).
inline void broadcast_strides(const Shape& shape, const Shape& out_shape, std::size_t* strides) {
  const std::size_t rank = out_shape.size();
  const std::size_t offset = rank - shape.size();
  std::size_t stride = 1;
  for (std::size_t k = rank; k-- > 0;) {
    if (k < offset) {
      strides[k] = 0;
      continue;
    }
    const std::size_t extent = shape[k - offset];
    strides[k] = extent == 1 ? 0 : stride;
    stride *= extent;
  }
}

/// Calls body(out_index, a_index, b_index) for every element of `out_shape` in row-major order.
template <class Body>
void for_each_broadcast(const Shape& out_shape, const Shape& a_shape, const Shape& b_shape,
                        Body&& body) {
  const std::size_t rank = out_shape.size();
  constexpr std::size_t kMaxRank = 16;
  if (rank > kMaxRank) throw_value_error("broadcast: rank {} is above the limit {}", rank, kMaxRank);
  std::array<std::size_t, kMaxRank> sa{}, sb{}, counter{};
  broadcast_strides(a_shape, out_shape, sa.data());
  broadcast_strides(b_shape, out_shape, sb.data());
  const std::size_t total = shape_size(out_shape);
  if (total == 0) return;
  if (rank == 0) {
    body(std::size_t{0}, std::size_t{0}, std::size_t{0});
    return;
  }
  const std::size_t inner = out_shape[rank - 1];
  const std::size_t ia = sa[rank - 1];
  const std::size_t ib = sb[rank - 1];
  std::size_t a_base = 0, b_base = 0;
  for (std::size_t out = 0; out < total; out += inner) {
    for (std::size_t j = 0; j < inner; ++j) body(out + j, a_base + j * ia, b_base + j * ib);
    // Advance the outer counters (odometer over all but the innermost axis).
    for (std::size_t k = rank - 1; k-- > 0;) {
      a_base += sa[k];
      b_base += sb[k];
      if (++counter[k] < out_shape[k]) break;
      a_base -= sa[k] * out_shape[k];
      b_base -= sb[k] * out_shape[k];
      counter[k] = 0;
    }
  }
}

/// Throws the TypeError for mixed dtypes, TensorFlow-style.
[[noreturn]] void throw_dtype_mismatch(const char* op, DType a, DType b);
/// Throws TypeError unless `dtype` is floating (for ops such as exp on an int tensor).
void require_floating(const char* op, DType dtype);

/// out = f(a, b) with NumPy broadcasting; the output dtype is `out_dtype` (default: a's).
/// `f` is a generic lambda called with two values of the inputs' element type.
template <class F>
Tensor binary_map(const char* op, const Tensor& a, const Tensor& b, F&& f,
                  DType out_dtype = DType::boolean, bool out_is_input_dtype = true) {
  if (a.dtype() != b.dtype()) throw_dtype_mismatch(op, a.dtype(), b.dtype());
  const DType result_dtype = out_is_input_dtype ? a.dtype() : out_dtype;
  const Shape& as = a.shape();
  const Shape& bs = b.shape();
  const bool same = as == bs;
  Tensor out = Tensor::empty(result_dtype, same ? as : broadcast_shape(as, bs, op));
  visit_dtype(a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* pa = static_cast<const T*>(a.raw_data());
    const T* pb = static_cast<const T*>(b.raw_data());
    visit_dtype(result_dtype, [&](auto out_tag) {
      using R = typename decltype(out_tag)::type;
      R* po = static_cast<R*>(out.storage()->data());
      const std::size_t n = out.size();
      if (same) {
        for (std::size_t i = 0; i < n; ++i) po[i] = static_cast<R>(f(pa[i], pb[i]));
      } else if (b.size() == 1 && out.shape() == as) {
        const T vb = pb[0];
        for (std::size_t i = 0; i < n; ++i) po[i] = static_cast<R>(f(pa[i], vb));
      } else if (a.size() == 1 && out.shape() == bs) {
        const T va = pa[0];
        for (std::size_t i = 0; i < n; ++i) po[i] = static_cast<R>(f(va, pb[i]));
      } else {
        for_each_broadcast(out.shape(), as, bs, [&](std::size_t o, std::size_t i, std::size_t j) {
          po[o] = static_cast<R>(f(pa[i], pb[j]));
        });
      }
    });
  });
  return out;
}

/// out = f(x) elementwise, same dtype and shape. `f` is a generic lambda.
template <class F>
Tensor unary_map(const Tensor& x, F&& f) {
  Tensor out = Tensor::empty(x.dtype(), x.shape());
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = static_cast<const T*>(x.raw_data());
    T* po = static_cast<T*>(out.storage()->data());
    const std::size_t n = x.size();
    for (std::size_t i = 0; i < n; ++i) po[i] = static_cast<T>(f(px[i]));
  });
  return out;
}

/// As unary_map, for floating tensors only (TypeError naming `op` otherwise).
template <class F>
Tensor unary_float_map(const char* op, const Tensor& x, F&& f) {
  require_floating(op, x.dtype());
  Tensor out = Tensor::empty(x.dtype(), x.shape());
  visit_floating(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = static_cast<const T*>(x.raw_data());
    T* po = static_cast<T*>(out.storage()->data());
    const std::size_t n = x.size();
    for (std::size_t i = 0; i < n; ++i) po[i] = static_cast<T>(f(px[i]));
  });
  return out;
}

/// TypeError naming `op` unless the C++ number `value` converts to `dtype` unchanged: an integer
/// tensor meeting 0.5 (or 3e9 for int32) is an error, as in TensorFlow, not a silent truncation.
inline void check_number_fits(const char* op, double value, DType dtype) {
  bool fits = true;
  if (dtype == DType::int32) {
    fits = std::trunc(value) == value && value >= -2147483648.0 && value <= 2147483647.0;
  } else if (dtype == DType::int64) {
    fits = std::trunc(value) == value && value >= -9223372036854775808.0 &&
           value < 9223372036854775808.0;
  } else if (dtype == DType::boolean) {
    fits = value == 0 || value == 1;
  }
  if (!fits) {
    throw_type_error("{}: cannot convert the number {} to dtype {} without changing it", op, value,
                     dtype_name(dtype));
  }
}

/// Normalizes a possibly negative axis against `rank`; ValueError naming `op` when out of range.
int normalize_axis(const char* op, int axis, std::size_t rank);

}  // namespace tapeflow::detail
