#pragma once
// Helpers shared by the autograd suites: float64 literals, seeded random inputs kept away from
// the kinks of the op under test, and a gradcheck row macro that names the row on failure.

#include <functional>
#include <string>
#include <vector>

#include "../support.hpp"

namespace tapeflow::testing {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

/// A tensor of `dtype` from a nested list, element by element (no float32 detour).
template <class T, class List>
Tensor literal(DType dtype, const List& values) {
  // bool goes through bytes: std::vector<bool> has no data().
  using Stored = std::conditional_t<std::is_same<T, bool>::value, std::uint8_t, T>;
  Shape shape;
  std::vector<Stored> flat;
  detail::flatten_list(values, 0, shape, flat);
  return Tensor::from_data(dtype, std::move(shape), flat.data());
}

/// float64 literals: f64({{1.0, 2.0}, {3.0, 4.0}}).
inline Tensor f64(std::initializer_list<double> v) { return literal<double>(DType::float64, v); }
inline Tensor f64(std::initializer_list<std::initializer_list<double>> v) {
  return literal<double>(DType::float64, v);
}
inline Tensor f64(std::initializer_list<std::initializer_list<std::initializer_list<double>>> v) {
  return literal<double>(DType::float64, v);
}
/// A float64 column (n, 1): {{1.0}, {2.0}} would be ambiguous with a vector literal.
inline Tensor col64(std::initializer_list<double> v) {
  return reshape(f64(v), {static_cast<std::int64_t>(v.size()), 1});
}
/// bool literals: bools({true, false}), bools({{true}, {false}}).
inline Tensor bools(std::initializer_list<bool> v) { return literal<bool>(DType::boolean, v); }
inline Tensor bools(std::initializer_list<std::initializer_list<bool>> v) {
  return literal<bool>(DType::boolean, v);
}
/// A bool column (n, 1).
inline Tensor bool_col(std::initializer_list<bool> v) {
  return reshape(bools(v), {static_cast<std::int64_t>(v.size()), 1});
}

/// An xarray literal for exact comparisons with numpy<T>(): arr<std::int32_t>({1, 2}).
template <class T>
xt::xarray<T> arr(std::initializer_list<T> v) {
  return literal<T>(dtype_of_v<T>, v).template numpy<T>();
}
template <class T>
xt::xarray<T> arr(std::initializer_list<std::initializer_list<T>> v) {
  return literal<T>(dtype_of_v<T>, v).template numpy<T>();
}

/// A float64 scalar.
inline Tensor s64(double value) { return fill({}, value, DType::float64); }

/// Uniform float64 values in [lo, hi) from the seeded engine.
inline Tensor rand64(const Shape& shape, double lo = -1.0, double hi = 1.0) {
  return random::uniform(shape, lo, hi, DType::float64);
}

/// float64 values with |v| in [lo, hi) and a random sign: away from the kink at 0 of abs, relu,
/// sign-dependent selections.
inline Tensor rand_away(const Shape& shape, double lo = 0.3, double hi = 1.5) {
  return rand64(shape, lo, hi) * sign(rand64(shape, -1.0, 1.0));
}

/// Distinct float64 values (a shuffled 0..n-1 times `step`, plus jitter below step/4), so that
/// maxima are unique and selections stay at least step/2 apart.
inline Tensor distinct64(const Shape& shape, double step = 0.3) {
  const std::size_t n = detail::shape_size(shape);
  std::vector<std::int64_t> dims(shape.begin(), shape.end());
  Tensor perm = cast(random::permutation(n), DType::float64);
  return reshape(perm * step + rand64({n}, 0.0, step / 4) - step * static_cast<double>(n) / 2, dims);
}

}  // namespace tapeflow::testing

/// One gradcheck row: CHECK that the tape's Jacobian of `fn` at the inputs matches central
/// differences; the row's name and the worst entry are printed on failure.
#define GRADCHECK_ROW(name, fn, ...)                                                       \
  do {                                                                                     \
    INFO("gradcheck row: " << (name));                                                     \
    CHECK_GRADCHECK(::tapeflow::gradcheck((fn), std::vector<::tapeflow::Tensor>{__VA_ARGS__})); \
  } while (0)
