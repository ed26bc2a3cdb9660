// Elementwise math, selection, comparisons, cast and gradient control.
// Kernels call std:: functions explicitly: inside namespace tapeflow an unqualified exp(v) would
// find tapeflow::exp(const Tensor&) and wrap the number in a Tensor.

#include <cmath>

#include "tapeflow/autograd/ops.hpp"
#include "tapeflow/autograd/ops_internal.hpp"
#include "tapeflow/autograd/record.hpp"
#include "tapeflow/core/kernels.hpp"

namespace tapeflow {

using detail::Grads;
using detail::NeedsGrad;

// ---- unary math ------------------------------------------------------------------------------

Tensor exp(const Tensor& x) {
  Tensor y = detail::unary_float_map("exp", x, [](auto v) { return std::exp(v); });
  return detail::record(
      "exp", y, {x}, [y](const Tensor& g, NeedsGrad) -> Grads { return {g * y}; });
}

Tensor log(const Tensor& x) {
  Tensor y = detail::unary_float_map("log", x, [](auto v) { return std::log(v); });
  return detail::record(
      "log", y, {x}, [x](const Tensor& g, NeedsGrad) -> Grads { return {g / x}; });
}

Tensor sqrt(const Tensor& x) {
  Tensor y = detail::unary_float_map("sqrt", x, [](auto v) { return std::sqrt(v); });
  return detail::record(
      "sqrt", y, {x}, [y](const Tensor& g, NeedsGrad) -> Grads { return {g / (y * 2.0)}; });
}

Tensor square(const Tensor& x) {
  Tensor y = detail::unary_map(x, [](auto v) { return v * v; });
  return detail::record(
      "square", y, {x}, [x](const Tensor& g, NeedsGrad) -> Grads { return {g * (x * 2.0)}; });
}

Tensor pow(const Tensor& x, const Tensor& y) {
  detail::require_floating("pow", x.dtype());
  Tensor z = detail::binary_map("pow", x, y, [](auto a, auto b) { return std::pow(a, b); });
  return detail::record("pow", z, {x, y}, [x, y, z](const Tensor& g, NeedsGrad needs) -> Grads {
    Grads grads(2);
    if (needs[0]) grads[0] = g * y * pow(x, y - 1.0);
    if (needs[1]) {
      // d/dy = z · ln x, taken as 0 where x <= 0 (TensorFlow's convention).
      Tensor positive = greater(x, zeros_like(x));
      Tensor safe_x = where(positive, x, ones_like(x));
      grads[1] = g * where(positive, z * log(safe_x), zeros_like(z));
    }
    return grads;
  });
}

Tensor pow(const Tensor& x, double y) {
  return pow(x, scalar_like(x, y));
}

Tensor abs(const Tensor& x) {
  Tensor y = detail::unary_map(x, [](auto v) {
    if constexpr (std::is_same<decltype(v), bool>::value) {
      return v;
    } else {
      return v < 0 ? -v : v;
    }
  });
  return detail::record(
      "abs", y, {x}, [x](const Tensor& g, NeedsGrad) -> Grads { return {g * sign(x)}; });
}

Tensor sign(const Tensor& x) {
  return detail::unary_map(x, [](auto v) {
    if constexpr (std::is_same<decltype(v), bool>::value) {
      return v;
    } else {
      return static_cast<decltype(v)>((v > 0) - (v < 0));
    }
  });
}

Tensor tanh(const Tensor& x) {
  Tensor y = detail::unary_float_map("tanh", x, [](auto v) { return std::tanh(v); });
  return detail::record(
      "tanh", y, {x}, [y](const Tensor& g, NeedsGrad) -> Grads { return {g * (1.0 - y * y)}; });
}

Tensor sigmoid(const Tensor& x) {
  Tensor y = detail::unary_float_map("sigmoid", x, [](auto v) {
    using T = decltype(v);
    // Stable on both tails: never exponentiates a large positive number.
    if (v >= 0) return T(1) / (T(1) + std::exp(-v));
    const T e = std::exp(v);
    return e / (T(1) + e);
  });
  return detail::record(
      "sigmoid", y, {x}, [y](const Tensor& g, NeedsGrad) -> Grads { return {g * y * (1.0 - y)}; });
}

Tensor detail::relu_grad(const Tensor& features, const Tensor& g) {
  Tensor out = detail::binary_map(
      "relu_grad", features, g, [](auto xv, auto gv) { return xv > 0 ? gv : decltype(gv)(0); });
  return detail::record(
      "relu_grad", out, {features, g}, [features](const Tensor& gg, NeedsGrad) -> Grads {
        return {Gradient(), relu_grad(features, gg)};
      });
}

Tensor relu(const Tensor& x) {
  Tensor y = detail::unary_map(x, [](auto v) { return v > 0 ? v : decltype(v)(0); });
  return detail::record("relu", y, {x}, [x](const Tensor& g, NeedsGrad) -> Grads {
    return {detail::relu_grad(x, g)};
  });
}

Tensor softmax(const Tensor& x, int axis) {
  detail::require_floating("softmax", x.dtype());
  const int a = detail::normalize_axis("softmax", axis, x.rank());
  const Tensor shifted = x - stop_gradient(reduce_max(x, {a}, true));
  const Tensor e = exp(shifted);
  return e / reduce_sum(e, {a}, true);
}

Tensor log_softmax(const Tensor& x, int axis) {
  detail::require_floating("log_softmax", x.dtype());
  const int a = detail::normalize_axis("log_softmax", axis, x.rank());
  const Tensor shifted = x - stop_gradient(reduce_max(x, {a}, true));
  return shifted - log(reduce_sum(exp(shifted), {a}, true));
}

// ---- selection -------------------------------------------------------------------------------

Tensor maximum(const Tensor& a, const Tensor& b) {
  Tensor out = detail::binary_map("maximum", a, b, [](auto x, auto y) { return x >= y ? x : y; });
  return detail::record("maximum", out, {a, b}, [a, b](const Tensor& g, NeedsGrad) -> Grads {
    Tensor pick_a = greater_equal(a, b);
    Tensor zero = zeros_like(g);
    return {where(pick_a, g, zero), where(pick_a, zero, g)};
  });
}

Tensor minimum(const Tensor& a, const Tensor& b) {
  Tensor out = detail::binary_map("minimum", a, b, [](auto x, auto y) { return x <= y ? x : y; });
  return detail::record("minimum", out, {a, b}, [a, b](const Tensor& g, NeedsGrad) -> Grads {
    Tensor pick_a = less_equal(a, b);
    Tensor zero = zeros_like(g);
    return {where(pick_a, g, zero), where(pick_a, zero, g)};
  });
}

Tensor where(const Tensor& condition, const Tensor& x, const Tensor& y) {
  if (condition.dtype() != DType::boolean) {
    detail::throw_type_error("where: condition must be a bool tensor. Received: dtype={}",
                             dtype_name(condition.dtype()));
  }
  if (x.dtype() != y.dtype()) detail::throw_dtype_mismatch("where", x.dtype(), y.dtype());
  const Shape shape =
      broadcast_shape(broadcast_shape(condition.shape(), x.shape(), "where"), y.shape(), "where");
  // Broadcast everything to the common shape, then select elementwise.
  const Tensor c = condition.shape() == shape ? condition : broadcast_to(condition, shape);
  const Tensor xs = x.shape() == shape ? x : broadcast_to(x, shape);
  const Tensor ys = y.shape() == shape ? y : broadcast_to(y, shape);
  Tensor out = Tensor::empty(x.dtype(), shape);
  detail::visit_dtype(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const bool* pc = static_cast<const bool*>(c.raw_data());
    const T* px = static_cast<const T*>(xs.raw_data());
    const T* py = static_cast<const T*>(ys.raw_data());
    T* po = static_cast<T*>(out.storage()->data());
    for (std::size_t i = 0, n = out.size(); i < n; ++i) po[i] = pc[i] ? px[i] : py[i];
  });
  return detail::record("where", out, {x, y}, [c](const Tensor& g, NeedsGrad) -> Grads {
    Tensor zero = zeros_like(g);
    return {where(c, g, zero), where(c, zero, g)};
  });
}

Tensor clip_by_value(const Tensor& x, const Tensor& clip_value_min, const Tensor& clip_value_max) {
  // Gradient 1 inside [lo, hi] and 0 outside; none for the bounds, as tf.clip_by_value.
  const Tensor lo = stop_gradient(clip_value_min);
  const Tensor hi = stop_gradient(clip_value_max);
  return minimum(maximum(x, lo), hi);
}

Tensor clip_by_value(const Tensor& x, double clip_value_min, double clip_value_max) {
  detail::check_number_fits("clip_by_value", clip_value_min, x.dtype());
  detail::check_number_fits("clip_by_value", clip_value_max, x.dtype());
  return clip_by_value(x, scalar_like(x, clip_value_min), scalar_like(x, clip_value_max));
}

// ---- comparisons -----------------------------------------------------------------------------

#define TAPEFLOW_COMPARISON(name, expr)                                           \
  Tensor name(const Tensor& a, const Tensor& b) {                                 \
    return detail::binary_map(                                                    \
        #name, a, b, [](auto x, auto y) { return expr; }, DType::boolean, false); \
  }
TAPEFLOW_COMPARISON(equal, x == y)
TAPEFLOW_COMPARISON(not_equal, x != y)
TAPEFLOW_COMPARISON(less, x < y)
TAPEFLOW_COMPARISON(less_equal, x <= y)
TAPEFLOW_COMPARISON(greater, x > y)
TAPEFLOW_COMPARISON(greater_equal, x >= y)
#undef TAPEFLOW_COMPARISON

Tensor operator<(const Tensor& a, const Tensor& b) {
  return less(a, b);
}
Tensor operator<=(const Tensor& a, const Tensor& b) {
  return less_equal(a, b);
}
Tensor operator>(const Tensor& a, const Tensor& b) {
  return greater(a, b);
}
Tensor operator>=(const Tensor& a, const Tensor& b) {
  return greater_equal(a, b);
}

// ---- dtype and gradient control --------------------------------------------------------------

Tensor cast(const Tensor& x, DType dtype) {
  if (x.dtype() == dtype) return x;
  Tensor out = Tensor::empty(dtype, x.shape());
  detail::visit_dtype(x.dtype(), [&](auto from_tag) {
    using From = typename decltype(from_tag)::type;
    const From* src = static_cast<const From*>(x.raw_data());
    detail::visit_dtype(dtype, [&](auto to_tag) {
      using To = typename decltype(to_tag)::type;
      To* dst = static_cast<To*>(out.storage()->data());
      for (std::size_t i = 0, n = x.size(); i < n; ++i) dst[i] = static_cast<To>(src[i]);
    });
  });
  if (!is_floating(x.dtype())) return out;
  const DType from = x.dtype();
  return detail::record(
      "cast", out, {x}, [from](const Tensor& g, NeedsGrad) -> Grads { return {cast(g, from)}; });
}

Tensor stop_gradient(const Tensor& x) {
  return Tensor(x.storage());
}

Tensor identity(const Tensor& x) {
  Tensor out(x.storage());
  return detail::record(
      "identity", out, {x}, [](const Tensor& g, NeedsGrad) -> Grads { return {g}; });
}

}  // namespace tapeflow
