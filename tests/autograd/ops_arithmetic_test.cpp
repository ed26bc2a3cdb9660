// + - * / and negation: forward values, gradcheck rows over every broadcasting pattern, dtype
// rules, and the broadcasting helpers of core/broadcast.cpp (broadcast_shape, sum_to).

#include "op_support.hpp"

using namespace tapeflow;
using tapeflow::testing::arr;
using tapeflow::testing::col64;
using tapeflow::testing::f64;
using tapeflow::testing::Fn;
using tapeflow::testing::rand64;
using tapeflow::testing::rand_away;
using tapeflow::testing::s64;

namespace {

/// The broadcasting patterns every binary op is checked on: (lhs shape, rhs shape).
const std::vector<std::pair<Shape, Shape>> kBroadcastCases = {
    {{2, 3}, {2, 3}},  // same shape
    {{2, 3}, {}},      // scalar on the right
    {{}, {2, 3}},      // scalar on the left
    {{2, 3}, {3}},     // row vector vs matrix
    {{3}, {2, 3}},     // row vector on the left
    {{3, 1}, {1, 4}},  // both sides stretched
    {{2, 1, 3}, {4, 1}},  // rank 3 vs rank 2, both stretched
};

std::string case_name(const char* op, const std::pair<Shape, Shape>& c) {
  return std::string(op) + " " + shape_str(c.first) + " vs " + shape_str(c.second);
}

}  // namespace

TEST_CASE("arithmetic: forward values against hand-computed results") {
  const Tensor a = f64({{1.0, 2.0}, {3.0, 4.0}});
  const Tensor b = f64({10.0, 20.0});
  CHECK_ALLCLOSE(add(a, b), f64({{11.0, 22.0}, {13.0, 24.0}}), 0, 0);
  CHECK_ALLCLOSE(subtract(a, b), f64({{-9.0, -18.0}, {-7.0, -16.0}}), 0, 0);
  CHECK_ALLCLOSE(multiply(a, b), f64({{10.0, 40.0}, {30.0, 80.0}}), 0, 0);
  CHECK_ALLCLOSE(divide(a, b), f64({{0.1, 0.1}, {0.3, 0.2}}), 1e-15, 0);
  CHECK_ALLCLOSE(negative(a), f64({{-1.0, -2.0}, {-3.0, -4.0}}), 0, 0);
  // The operators are the same ops.
  CHECK_ALLCLOSE(a + b, add(a, b), 0, 0);
  CHECK_ALLCLOSE(a - b, subtract(a, b), 0, 0);
  CHECK_ALLCLOSE(a * b, multiply(a, b), 0, 0);
  CHECK_ALLCLOSE(a / b, divide(a, b), 0, 0);
  CHECK_ALLCLOSE(-a, negative(a), 0, 0);
  // (3, 1) against (1, 4): an outer sum.
  const Tensor col = col64({1.0, 2.0, 3.0});
  const Tensor row = f64({{10.0, 20.0, 30.0, 40.0}});
  CHECK_ALLCLOSE(col + row, f64({{11.0, 21.0, 31.0, 41.0},
                                 {12.0, 22.0, 32.0, 42.0},
                                 {13.0, 23.0, 33.0, 43.0}}),
                 0, 0);
  CHECK_ALLCLOSE(col * row, f64({{10.0, 20.0, 30.0, 40.0},
                                 {20.0, 40.0, 60.0, 80.0},
                                 {30.0, 60.0, 90.0, 120.0}}),
                 0, 0);
}

TEST_CASE("arithmetic: a C++ number takes the tensor's dtype, on either side") {
  const Tensor x = f64({1.0, 2.0, 4.0});
  CHECK_ALLCLOSE(x + 1.0, f64({2.0, 3.0, 5.0}), 0, 0);
  CHECK_ALLCLOSE(1.0 + x, f64({2.0, 3.0, 5.0}), 0, 0);
  CHECK_ALLCLOSE(x - 1.0, f64({0.0, 1.0, 3.0}), 0, 0);
  CHECK_ALLCLOSE(1.0 - x, f64({0.0, -1.0, -3.0}), 0, 0);
  CHECK_ALLCLOSE(x * 0.5, f64({0.5, 1.0, 2.0}), 0, 0);
  CHECK_ALLCLOSE(0.5 * x, f64({0.5, 1.0, 2.0}), 0, 0);
  CHECK_ALLCLOSE(x / 2.0, f64({0.5, 1.0, 2.0}), 0, 0);
  CHECK_ALLCLOSE(2.0 / x, f64({2.0, 1.0, 0.5}), 0, 0);
  CHECK((x * 0.5).dtype() == DType::float64);
  const Tensor y = Tensor{1.0, 2.0};
  CHECK((y * 0.5).dtype() == DType::float32);
  CHECK((0.5 - y).dtype() == DType::float32);
  const Tensor i = Tensor{1, 2, 3};
  CHECK((i + 1.0).dtype() == DType::int32);
  CHECK((i * 2.0).numpy<std::int32_t>() == arr<std::int32_t>({2, 4, 6}));
}

TEST_CASE("arithmetic: integer division is true division in float64, as TensorFlow") {
  const Tensor q = Tensor{1, 2, 7} / Tensor{2, 2, 2};
  CHECK(q.dtype() == DType::float64);
  CHECK_ALLCLOSE(q, f64({0.5, 1.0, 3.5}), 0, 0);
  // Integer + - * stay integer.
  const Tensor s = Tensor{1, 2} + Tensor{3, 4};
  CHECK(s.dtype() == DType::int32);
  CHECK(s.numpy<std::int32_t>() == arr<std::int32_t>({4, 6}));
}

TEST_CASE("gradcheck: add over every broadcasting pattern") {
  const Fn f = [](const std::vector<Tensor>& v) { return add(v[0], v[1]); };
  for (const auto& c : kBroadcastCases) {
    GRADCHECK_ROW(case_name("add", c), f, rand64(c.first), rand64(c.second));
  }
}

TEST_CASE("gradcheck: subtract over every broadcasting pattern") {
  const Fn f = [](const std::vector<Tensor>& v) { return subtract(v[0], v[1]); };
  for (const auto& c : kBroadcastCases) {
    GRADCHECK_ROW(case_name("subtract", c), f, rand64(c.first), rand64(c.second));
  }
}

TEST_CASE("gradcheck: multiply over every broadcasting pattern") {
  const Fn f = [](const std::vector<Tensor>& v) { return multiply(v[0], v[1]); };
  for (const auto& c : kBroadcastCases) {
    GRADCHECK_ROW(case_name("multiply", c), f, rand64(c.first), rand64(c.second));
  }
}

TEST_CASE("gradcheck: divide over every broadcasting pattern (denominator away from 0)") {
  const Fn f = [](const std::vector<Tensor>& v) { return divide(v[0], v[1]); };
  for (const auto& c : kBroadcastCases) {
    GRADCHECK_ROW(case_name("divide", c), f, rand64(c.first), rand_away(c.second, 0.5, 2.0));
  }
}

TEST_CASE("gradcheck: negative and the scalar operators") {
  const Tensor x = rand64({2, 3});
  GRADCHECK_ROW("negative", [](const std::vector<Tensor>& v) { return negative(v[0]); }, x);
  GRADCHECK_ROW("x + 2", [](const std::vector<Tensor>& v) { return v[0] + 2.0; }, x);
  GRADCHECK_ROW("2 - x", [](const std::vector<Tensor>& v) { return 2.0 - v[0]; }, x);
  GRADCHECK_ROW("3 * x", [](const std::vector<Tensor>& v) { return 3.0 * v[0]; }, x);
  GRADCHECK_ROW("1 / x", [](const std::vector<Tensor>& v) { return 1.0 / v[0]; },
                rand_away({2, 3}, 0.5, 2.0));
  // An input used on both sides of one op, and twice in an expression.
  GRADCHECK_ROW("x * x", [](const std::vector<Tensor>& v) { return v[0] * v[0]; }, x);
  GRADCHECK_ROW("x / (x + 3) - x", [](const std::vector<Tensor>& v) {
    return v[0] / (v[0] + 3.0) - v[0];
  }, x);
}

TEST_CASE("arithmetic: closed-form gradients in float32, unbroadcast to each input") {
  const Tensor a = Tensor{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}};
  const Tensor b = Tensor{2.0, 4.0, 8.0};
  GradientTape tape(true);
  tape.watch(a);
  tape.watch(b);
  const Tensor y = a / b;
  const auto grads = tape.gradient(y, {a, b});
  // d/da = 1/b on every row; d/db = -Σ_rows a / b².
  CHECK(grads[0].dtype() == DType::float32);
  CHECK_ALLCLOSE(grads[0].dense(), (Tensor{{0.5, 0.25, 0.125}, {0.5, 0.25, 0.125}}), 1e-6, 0);
  CHECK(grads[1].shape() == Shape{3});
  CHECK_ALLCLOSE(grads[1].dense(), (Tensor{-5.0 / 4, -7.0 / 16, -9.0 / 64}), 1e-6, 0);
  const auto sub = tape.gradient(a - b, {a, b});
  CHECK_ALLCLOSE(sub[0].dense(), ones({2, 3}), 0, 0);
  CHECK_ALLCLOSE(sub[1].dense(), (Tensor{-2.0, -2.0, -2.0}), 0, 0);
}

TEST_CASE("arithmetic: a shape mismatch names the op and both shapes") {
  const Tensor a = rand64({2, 3});
  const Tensor b = rand64({4});
  CHECK_THROWS_WITH_TEXT(add(a, b), ValueError, "add");
  CHECK_THROWS_WITH_TEXT(add(a, b), ValueError, "(2, 3)");
  CHECK_THROWS_WITH_TEXT(add(a, b), ValueError, "(4,)");
  CHECK_THROWS_WITH_TEXT(a - b, ValueError, "subtract");
  CHECK_THROWS_WITH_TEXT(a * b, ValueError, "multiply");
  CHECK_THROWS_WITH_TEXT(a / b, ValueError, "divide: incompatible shapes for broadcasting: (2, 3) and (4,)");
  CHECK_THROWS_WITH_TEXT(rand64({3, 2}) + rand64({2, 3}), ValueError, "(3, 2) and (2, 3)");
}

TEST_CASE("arithmetic: float32 with float64 is a TypeError naming both dtypes") {
  const Tensor a = Tensor{1.0, 2.0};
  const Tensor b = f64({1.0, 2.0});
  CHECK_THROWS_WITH_TEXT(a + b, TypeError, "add");
  CHECK_THROWS_WITH_TEXT(a + b, TypeError, "float32");
  CHECK_THROWS_WITH_TEXT(a + b, TypeError, "float64");
  CHECK_THROWS_WITH_TEXT(a - b, TypeError, "subtract");
  CHECK_THROWS_WITH_TEXT(a * b, TypeError, "multiply");
  CHECK_THROWS_WITH_TEXT(a / b, TypeError, "divide");
  CHECK_THROWS_WITH_TEXT(add(a, Tensor({1, 2})), TypeError, "int32");
}

TEST_CASE("arithmetic: a failed op records nothing and leaves the tape usable") {
  const Tensor x = f64({1.0, 2.0});
  GradientTape tape;
  tape.watch(x);
  CHECK_THROWS_AS(x + rand64({3}), ValueError);
  CHECK_THROWS_AS(x + Tensor({1.0, 2.0}), TypeError);
  const auto grads = tape.gradient(reduce_sum(x * 3.0), {x});
  CHECK_ALLCLOSE(grads[0].dense(), f64({3.0, 3.0}), 0, 0);
}

TEST_CASE("broadcast_shape: NumPy rules, and the error names the op and both shapes") {
  CHECK(broadcast_shape({2, 3}, {3}) == Shape{2, 3});
  CHECK(broadcast_shape({3, 1}, {1, 4}) == Shape{3, 4});
  CHECK(broadcast_shape({}, {2, 2}) == Shape{2, 2});
  CHECK(broadcast_shape({5, 1, 3}, {4, 1}) == Shape{5, 4, 3});
  CHECK(broadcast_shape({0, 1}, {1, 3}) == Shape{0, 3});
  CHECK_THROWS_WITH_TEXT(broadcast_shape({2, 3}, {2}, "my_op"), ValueError,
                         "my_op: incompatible shapes for broadcasting: (2, 3) and (2,)");
}

TEST_CASE("sum_to: sums broadcast axes back down, and rejects shapes that do not broadcast") {
  const Tensor g = f64({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  CHECK_ALLCLOSE(sum_to(g, {3}), f64({5.0, 7.0, 9.0}), 0, 0);
  CHECK_ALLCLOSE(sum_to(g, {2, 1}), col64({6.0, 15.0}), 0, 0);
  CHECK_ALLCLOSE(sum_to(g, {1, 3}), f64({{5.0, 7.0, 9.0}}), 0, 0);
  CHECK_ALLCLOSE(sum_to(g, {}), s64(21.0), 0, 0);
  CHECK(sum_to(g, {2, 3}).id() == g.id());
  CHECK_THROWS_WITH_TEXT(sum_to(g, {2}), ValueError, "sum_to");
  CHECK_THROWS_WITH_TEXT(sum_to(g, {1, 2, 3}), ValueError, "sum_to");
  // Differentiable: d sum_to(g)/dg broadcasts back.
  GRADCHECK_ROW("sum_to (2,3)->(3,)", [](const std::vector<Tensor>& v) { return sum_to(v[0], {3}); },
                rand64({2, 3}));
  GRADCHECK_ROW("sum_to (2,3)->(2,1)",
                [](const std::vector<Tensor>& v) { return sum_to(v[0], {2, 1}); }, rand64({2, 3}));
}

TEST_CASE("arithmetic: a number an integer tensor cannot hold is a TypeError, not a truncation") {
  const Tensor i = Tensor{1, 2};
  CHECK_THROWS_WITH_TEXT(i * 0.5, TypeError,
                         "multiply: cannot convert the number 0.5 to dtype int32 without changing it");
  CHECK_THROWS_WITH_TEXT(0.5 + i, TypeError, "add: cannot convert the number 0.5");
  CHECK_THROWS_WITH_TEXT(i - 1.25, TypeError, "subtract");
  CHECK_THROWS_WITH_TEXT(i / 0.5, TypeError, "divide");
  CHECK_THROWS_WITH_TEXT(i + 3e9, TypeError, "dtype int32");
  CHECK_THROWS_WITH_TEXT(Tensor(std::int64_t{1}) + 1e19, TypeError, "dtype int64");
  CHECK_THROWS_WITH_TEXT(clip_by_value(i, 0.5, 1.0), TypeError, "clip_by_value");
  // Integral numbers convert exactly.
  CHECK((i * 3.0).numpy<std::int32_t>() == arr<std::int32_t>({3, 6}));
  CHECK((i / 2.0).dtype() == DType::float64);
  CHECK_ALLCLOSE(i / 2.0, f64({0.5, 1.0}), 0, 0);
  CHECK((Tensor(std::int64_t{1}) + 3e9).item<std::int64_t>() == 3000000001LL);
  CHECK(clip_by_value(i, 0.0, 1.0).numpy<std::int32_t>() == arr<std::int32_t>({1, 1}));
}
