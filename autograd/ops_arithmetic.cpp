// Arithmetic: + - * / and negation. Each backward returns full-shape gradients; the tape
// unbroadcasts them to the inputs' shapes.

#include "tapeflow/autograd/ops.hpp"
#include "tapeflow/autograd/record.hpp"
#include "tapeflow/core/kernels.hpp"

namespace tapeflow {

using detail::Grads;
using detail::NeedsGrad;

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = detail::binary_map("add", a, b, [](auto x, auto y) { return x + y; });
  return detail::record("add", out, {a, b}, [](const Tensor& g, NeedsGrad) -> Grads {
    return {g, g};
  });
}

Tensor subtract(const Tensor& a, const Tensor& b) {
  Tensor out = detail::binary_map("subtract", a, b, [](auto x, auto y) { return x - y; });
  return detail::record("subtract", out, {a, b}, [](const Tensor& g, NeedsGrad needs) -> Grads {
    return {g, needs[1] ? negative(g) : Tensor()};
  });
}

Tensor multiply(const Tensor& a, const Tensor& b) {
  Tensor out = detail::binary_map("multiply", a, b, [](auto x, auto y) { return x * y; });
  return detail::record("multiply", out, {a, b},
                        [a, b](const Tensor& g, NeedsGrad needs) -> Grads {
                          return {needs[0] ? multiply(g, b) : Tensor(),
                                  needs[1] ? multiply(g, a) : Tensor()};
                        });
}

Tensor divide(const Tensor& a, const Tensor& b) {
  if (is_integer(a.dtype()) && a.dtype() == b.dtype()) {
    return divide(cast(a, DType::float64), cast(b, DType::float64));
  }
  Tensor out = detail::binary_map("divide", a, b, [](auto x, auto y) { return x / y; });
  return detail::record("divide", out, {a, b}, [a, b](const Tensor& g, NeedsGrad needs) -> Grads {
    // d/da = g / b;  d/db = -g * a / b²
    return {needs[0] ? divide(g, b) : Tensor(),
            needs[1] ? negative(divide(multiply(g, a), multiply(b, b))) : Tensor()};
  });
}

Tensor negative(const Tensor& x) {
  Tensor out = detail::unary_map(x, [](auto v) { return -v; });
  return detail::record("negative", out, {x}, [](const Tensor& g, NeedsGrad) -> Grads {
    return {negative(g)};
  });
}

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return subtract(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return multiply(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return divide(a, b); }
Tensor operator-(const Tensor& x) { return negative(x); }

namespace {

/// `value` in `like`'s dtype; TypeError naming `op` when that would change it (0.5 into int32).
Tensor number_like(const char* op, const Tensor& like, double value) {
  detail::check_number_fits(op, value, like.dtype());
  return scalar_like(like, value);
}

}  // namespace

Tensor operator+(const Tensor& a, double b) { return add(a, number_like("add", a, b)); }
Tensor operator+(double a, const Tensor& b) { return add(number_like("add", b, a), b); }
Tensor operator-(const Tensor& a, double b) { return subtract(a, number_like("subtract", a, b)); }
Tensor operator-(double a, const Tensor& b) { return subtract(number_like("subtract", b, a), b); }
Tensor operator*(const Tensor& a, double b) { return multiply(a, number_like("multiply", a, b)); }
Tensor operator*(double a, const Tensor& b) { return multiply(number_like("multiply", b, a), b); }
Tensor operator/(const Tensor& a, double b) { return divide(a, number_like("divide", a, b)); }
Tensor operator/(double a, const Tensor& b) { return divide(number_like("divide", b, a), b); }

}  // namespace tapeflow
