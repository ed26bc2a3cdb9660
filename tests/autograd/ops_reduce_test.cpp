// Reductions: reduce_sum, reduce_mean, reduce_max over axis lists (negative axes, keepdims) and
// argmax. Forward values by hand, gradcheck rows, the tie rule of reduce_max, bad axes.

#include <cmath>
#include <limits>

#include "op_support.hpp"

using namespace tapeflow;
using tapeflow::testing::arr;
using tapeflow::testing::col64;
using tapeflow::testing::distinct64;
using tapeflow::testing::f64;
using tapeflow::testing::Fn;
using tapeflow::testing::rand64;
using tapeflow::testing::s64;

namespace {

using Reduce = Tensor (*)(const Tensor&, std::vector<int>, bool);

/// (axis list, keepdims) pairs every reduction is checked with on a (2, 3, 4) input.
const std::vector<std::pair<std::vector<int>, bool>> kAxisCases = {
    {{}, false}, {{}, true},     {{0}, false},     {{1}, true},       {{2}, false},
    {{-1}, true}, {{0, 2}, false}, {{-1, -3}, true}, {{1, 2}, false}, {{0, 1, 2}, false},
};

std::string axis_name(const char* op, const std::vector<int>& axis, bool keepdims) {
  std::string s = std::string(op) + " axis=(";
  for (int a : axis) s += std::to_string(a) + ",";
  return s + ") keepdims=" + (keepdims ? "true" : "false");
}

void gradcheck_axes(const char* name, Reduce op, const Tensor& x) {
  for (const auto& c : kAxisCases) {
    const std::vector<int> axis = c.first;
    const bool keepdims = c.second;
    const Fn f = [op, axis, keepdims](const std::vector<Tensor>& v) {
      return op(v[0], axis, keepdims);
    };
    GRADCHECK_ROW(axis_name(name, axis, keepdims), f, x);
  }
}

}  // namespace

TEST_CASE("reduce_sum: forward values over axis lists, negative axes and keepdims") {
  const Tensor x = f64({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  CHECK_ALLCLOSE(reduce_sum(x), s64(21.0), 0, 0);
  CHECK(reduce_sum(x).shape() == Shape{});
  CHECK_ALLCLOSE(reduce_sum(x, {}, true), reshape(s64(21.0), {1, 1}), 0, 0);
  CHECK_ALLCLOSE(reduce_sum(x, {0}), f64({5.0, 7.0, 9.0}), 0, 0);
  CHECK_ALLCLOSE(reduce_sum(x, {1}), f64({6.0, 15.0}), 0, 0);
  CHECK_ALLCLOSE(reduce_sum(x, {-1}, true), col64({6.0, 15.0}), 0, 0);
  CHECK_ALLCLOSE(reduce_sum(x, {-2}, true), f64({{5.0, 7.0, 9.0}}), 0, 0);
  CHECK_ALLCLOSE(reduce_sum(x, {0, 1}), s64(21.0), 0, 0);
  const Tensor cube = f64({{{1.0, 2.0}, {3.0, 4.0}}, {{5.0, 6.0}, {7.0, 8.0}}});
  CHECK_ALLCLOSE(reduce_sum(cube, {0, 2}), f64({14.0, 22.0}), 0, 0);
  CHECK_ALLCLOSE(reduce_sum(cube, {-1, -3}, true), reshape(f64({14.0, 22.0}), {1, 2, 1}), 0, 0);
  CHECK_ALLCLOSE(reduce_sum(cube, {1}), f64({{4.0, 6.0}, {12.0, 14.0}}), 0, 0);
  // Shapes whose reduction leaves one element: (1, 3) over axis 1, (3, 1) over axis 0.
  CHECK_ALLCLOSE(reduce_sum(f64({{1.0, 2.0, 3.0}}), {1}), f64({6.0}), 0, 0);
  CHECK_ALLCLOSE(reduce_sum(col64({1.0, 2.0, 3.0}), {0}), f64({6.0}), 0, 0);
  // Integers sum in their dtype; an empty tensor sums to 0.
  const Tensor i = Tensor{{1, 2}, {3, 4}};
  CHECK(reduce_sum(i, {0}).dtype() == DType::int32);
  CHECK(reduce_sum(i, {0}).numpy<std::int32_t>() == arr<std::int32_t>({4, 6}));
  CHECK_ALLCLOSE(reduce_sum(zeros({0, 3}, DType::float64), {0}), f64({0.0, 0.0, 0.0}), 0, 0);
  CHECK_ALLCLOSE(reduce_sum(zeros({0}, DType::float64)), s64(0.0), 0, 0);
}

TEST_CASE("reduce_mean: forward values; integer means truncate as TensorFlow") {
  const Tensor x = f64({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  CHECK_ALLCLOSE(reduce_mean(x), s64(3.5), 0, 0);
  CHECK_ALLCLOSE(reduce_mean(x, {0}), f64({2.5, 3.5, 4.5}), 0, 0);
  CHECK_ALLCLOSE(reduce_mean(x, {-1}, true), col64({2.0, 5.0}), 0, 0);
  const Tensor cube = f64({{{1.0, 2.0}, {3.0, 4.0}}, {{5.0, 6.0}, {7.0, 8.0}}});
  CHECK_ALLCLOSE(reduce_mean(cube, {0, 2}), f64({3.5, 5.5}), 0, 0);
  CHECK(reduce_mean(Tensor{1, 2}).dtype() == DType::int32);
  CHECK(reduce_mean(Tensor{1, 2}).item<std::int32_t>() == 1);
  CHECK(reduce_mean(Tensor{{1, 2}, {4, 7}}, {1}).numpy<std::int32_t>() ==
        arr<std::int32_t>({1, 5}));
}

TEST_CASE("reduce_max: forward values, integers, NaN propagation") {
  const Tensor x = f64({{1.0, 7.0, 3.0}, {4.0, -5.0, 6.0}});
  CHECK_ALLCLOSE(reduce_max(x), s64(7.0), 0, 0);
  CHECK_ALLCLOSE(reduce_max(x, {0}), f64({4.0, 7.0, 6.0}), 0, 0);
  CHECK_ALLCLOSE(reduce_max(x, {-1}, true), col64({7.0, 6.0}), 0, 0);
  CHECK_ALLCLOSE(reduce_max(f64({-3.0, -1.0, -2.0})), s64(-1.0), 0, 0);
  CHECK(reduce_max(Tensor{{1, 9}, {4, 2}}, {0}).numpy<std::int32_t>() ==
        arr<std::int32_t>({4, 9}));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK(std::isnan(reduce_max(f64({1.0, nan, 3.0})).item<double>()));
  CHECK(std::isnan(reduce_max(f64({nan, 1.0})).item<double>()));
}

TEST_CASE("argmax: indices as int64, first maximum on ties, no gradient") {
  const Tensor x = f64({{1.0, 7.0, 7.0}, {4.0, -5.0, 6.0}});
  CHECK(argmax(x).dtype() == DType::int64);
  CHECK(argmax(x).numpy<std::int64_t>() == arr<std::int64_t>({1, 2}));
  CHECK(argmax(x, 0).numpy<std::int64_t>() == arr<std::int64_t>({1, 0, 0}));
  CHECK(argmax(x, -2).numpy<std::int64_t>() == arr<std::int64_t>({1, 0, 0}));
  CHECK(argmax(f64({3.0})).shape() == Shape{});
  CHECK_THROWS_WITH_TEXT(argmax(s64(1.0)), ValueError, "argmax");
  CHECK_THROWS_WITH_TEXT(argmax(x, 2), ValueError, "argmax: axis 2 is out of bounds");
  CHECK_THROWS_WITH_TEXT(argmax(zeros({2, 0}), 1), ValueError, "argmax");
}

TEST_CASE("gradcheck: reduce_sum over axis lists, negative axes and keepdims") {
  gradcheck_axes("reduce_sum", reduce_sum, rand64({2, 3, 4}));
  GRADCHECK_ROW("reduce_sum of a scalar",
                [](const std::vector<Tensor>& v) { return reduce_sum(v[0]); }, s64(0.7));
}

TEST_CASE("gradcheck: reduce_mean over axis lists, negative axes and keepdims") {
  gradcheck_axes("reduce_mean", reduce_mean, rand64({2, 3, 4}));
}

TEST_CASE("gradcheck: reduce_max over axis lists (distinct values)") {
  gradcheck_axes("reduce_max", reduce_max, distinct64({2, 3, 4}, 0.1));
}

TEST_CASE("reduce_max: tied maxima share the gradient evenly, as TensorFlow") {
  const Tensor x = f64({{1.0, 3.0, 3.0}, {2.0, 2.0, 2.0}});
  GradientTape tape(true);
  tape.watch(x);
  CHECK_ALLCLOSE(tape.gradient(reduce_max(x, {1}), {x})[0].dense(),
                 f64({{0.0, 0.5, 0.5}, {1.0 / 3, 1.0 / 3, 1.0 / 3}}), 1e-15, 0);
  CHECK_ALLCLOSE(tape.gradient(reduce_max(x), {x})[0].dense(),
                 f64({{0.0, 0.5, 0.5}, {0.0, 0.0, 0.0}}), 1e-15, 0);
  // The gradient of a keepdims max, seeded per row.
  CHECK_ALLCLOSE(tape.gradient(reduce_max(x, {-1}, true), {x}, col64({2.0, 3.0}))[0].dense(),
                 f64({{0.0, 1.0, 1.0}, {1.0, 1.0, 1.0}}), 1e-15, 0);
}

TEST_CASE("reductions: closed-form gradients in float32") {
  const Tensor x = Tensor{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}};
  GradientTape tape(true);
  tape.watch(x);
  CHECK_ALLCLOSE(tape.gradient(reduce_sum(x, {0}), {x})[0].dense(), ones({2, 3}), 0, 0);
  const Tensor g = tape.gradient(reduce_mean(x, {1}), {x})[0].dense();
  CHECK(g.dtype() == DType::float32);
  CHECK_ALLCLOSE(g, fill({2, 3}, 1.0 / 3), 1e-7, 0);
  CHECK_ALLCLOSE(tape.gradient(reduce_max(x, {0}), {x})[0].dense(),
                 (Tensor{{0.0, 0.0, 0.0}, {1.0, 1.0, 1.0}}), 0, 0);
}

TEST_CASE("reductions: a bad axis names the op, the axis and the rank") {
  const Tensor x = rand64({2, 3});
  CHECK_THROWS_WITH_TEXT(reduce_sum(x, {2}), ValueError,
                         "reduce_sum: axis 2 is out of bounds for a tensor of rank 2");
  CHECK_THROWS_WITH_TEXT(reduce_sum(x, {0, -3}), ValueError, "axis -3");
  CHECK_THROWS_WITH_TEXT(reduce_mean(x, {5}), ValueError, "reduce_mean: axis 5");
  CHECK_THROWS_WITH_TEXT(reduce_max(x, {-4}), ValueError, "reduce_max: axis -4");
  CHECK_THROWS_WITH_TEXT(reduce_sum(s64(1.0), {0}), ValueError, "rank 0");
  CHECK_THROWS_WITH_TEXT(reduce_max(zeros({0, 2})), ValueError,
                         "reduce_max: cannot reduce an empty tensor of shape (0, 2)");
}

TEST_CASE("reduce_max: -inf is a value like any other (all -inf reduces to -inf)") {
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(reduce_max(f64({-inf, -inf})).item<double>() == -inf);
  CHECK(reduce_max(Tensor{-inf, -inf}).item<float>() == -std::numeric_limits<float>::infinity());
  CHECK(reduce_max(f64({{-inf, -inf}, {-inf, 1.0}}), {1}).numpy<double>() == arr<double>({-inf, 1.0}));
  // The tie rule holds for -inf maxima too: the gradient is split, not NaN.
  const Tensor x = f64({{-inf, -inf}, {-inf, 1.0}});
  GradientTape tape;
  tape.watch(x);
  CHECK_ALLCLOSE(tape.gradient(reduce_max(x, {1}), {x})[0].dense(), f64({{0.5, 0.5}, {0.0, 1.0}}),
                 0, 0);
  CHECK(reduce_max(Tensor{std::int32_t{-5}}).item<std::int32_t>() == -5);
}
