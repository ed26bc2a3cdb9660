// Elementwise math, selection, comparisons, cast and gradient control: forward values against
// hand-computed results, gradcheck rows (inputs kept away from kinks and poles), the conventions
// at the kinks, and bad input.

#include <cmath>

#include "op_support.hpp"

using namespace tapeflow;
using tapeflow::testing::distinct64;
using tapeflow::testing::arr;
using tapeflow::testing::bool_col;
using tapeflow::testing::bools;
using tapeflow::testing::col64;
using tapeflow::testing::f64;
using tapeflow::testing::Fn;
using tapeflow::testing::rand64;
using tapeflow::testing::rand_away;
using tapeflow::testing::s64;

namespace {

Fn unary(Tensor (*op)(const Tensor&)) {
  return [op](const std::vector<Tensor>& v) { return op(v[0]); };
}

Tensor grad_of(const std::function<Tensor(const Tensor&)>& f, const Tensor& x) {
  GradientTape tape;
  tape.watch(x);
  return tape.gradient(f(x), {x})[0].dense();
}

}  // namespace

// ---- unary math ---------------------------------------------------------------------------------

TEST_CASE("unary math: forward values against hand-computed results") {
  const double e = std::exp(1.0);
  CHECK_ALLCLOSE(exp(f64({0.0, 1.0, -1.0})), f64({1.0, e, 1.0 / e}), 1e-15, 0);
  CHECK_ALLCLOSE(log(f64({1.0, e, 0.25})), f64({0.0, 1.0, -2 * std::log(2.0)}), 1e-15, 0);
  CHECK_ALLCLOSE(sqrt(f64({4.0, 9.0, 0.0})), f64({2.0, 3.0, 0.0}), 0, 0);
  CHECK_ALLCLOSE(square(f64({-3.0, 2.0, 0.5})), f64({9.0, 4.0, 0.25}), 0, 0);
  CHECK_ALLCLOSE(pow(f64({2.0, 3.0, 4.0}), f64({3.0, 2.0, 0.5})), f64({8.0, 9.0, 2.0}), 1e-15, 0);
  CHECK_ALLCLOSE(pow(f64({-2.0, 3.0}), 3.0), f64({-8.0, 27.0}), 0, 0);
  CHECK_ALLCLOSE(abs(f64({-2.0, 0.0, 3.5})), f64({2.0, 0.0, 3.5}), 0, 0);
  CHECK_ALLCLOSE(sign(f64({-2.0, 0.0, 3.5})), f64({-1.0, 0.0, 1.0}), 0, 0);
  CHECK_ALLCLOSE(tanh(f64({0.0, 1.0, -2.0})),
                 f64({0.0, 0.7615941559557649, -0.9640275800758169}), 1e-15, 0);
  CHECK_ALLCLOSE(sigmoid(f64({0.0, 2.0, -2.0})),
                 f64({0.5, 0.8807970779778823, 0.11920292202211755}), 1e-15, 0);
  CHECK_ALLCLOSE(relu(f64({-1.0, 0.0, 2.5})), f64({0.0, 0.0, 2.5}), 0, 0);
  // Integer abs / square / relu / sign compute in their dtype.
  CHECK(abs(Tensor{-3, 4}).numpy<std::int32_t>() == arr<std::int32_t>({3, 4}));
  CHECK(square(Tensor{-3, 4}).numpy<std::int32_t>() == arr<std::int32_t>({9, 16}));
  CHECK(relu(Tensor{-3, 4}).numpy<std::int32_t>() == arr<std::int32_t>({0, 4}));
}

TEST_CASE("sigmoid and softmax are stable on large inputs") {
  CHECK_ALLCLOSE(sigmoid(f64({-1000.0, 1000.0})), f64({0.0, 1.0}), 0, 0);
  CHECK_ALLCLOSE(sigmoid(Tensor{-100.0, 100.0}), (Tensor{0.0, 1.0}), 0, 1e-30);
  CHECK_ALLCLOSE(softmax(f64({1000.0, 1000.0})), f64({0.5, 0.5}), 0, 0);
  CHECK_ALLCLOSE(log_softmax(f64({1000.0, 0.0})), f64({0.0, -1000.0}), 1e-15, 0);
  const Tensor g = grad_of([](const Tensor& x) { return reduce_sum(sigmoid(x)); },
                           f64({-1000.0, 1000.0}));
  CHECK_ALLCLOSE(g, f64({0.0, 0.0}), 0, 0);
}

TEST_CASE("softmax / log_softmax: forward values on both axes") {
  const Tensor x = f64({{1.0, 2.0, 3.0}, {1.0, 1.0, 1.0}});
  const double s = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  const Tensor last = f64({{std::exp(1.0) / s, std::exp(2.0) / s, std::exp(3.0) / s},
                           {1.0 / 3, 1.0 / 3, 1.0 / 3}});
  CHECK_ALLCLOSE(softmax(x), last, 1e-14, 0);
  CHECK_ALLCLOSE(softmax(x, 1), last, 1e-14, 0);
  CHECK_ALLCLOSE(log_softmax(x), log(last), 1e-14, 0);
  // Along axis 0 each column is a two-way softmax.
  const auto pair = [](double a, double b) { return std::exp(a) / (std::exp(a) + std::exp(b)); };
  const Tensor first = f64({{pair(1, 1), pair(2, 1), pair(3, 1)}, {pair(1, 1), pair(1, 2), pair(1, 3)}});
  CHECK_ALLCLOSE(softmax(x, 0), first, 1e-14, 0);
  CHECK_ALLCLOSE(softmax(x, -2), first, 1e-14, 0);
  CHECK_ALLCLOSE(log_softmax(x, 0), log(first), 1e-14, 0);
}

TEST_CASE("gradcheck: exp, log, sqrt, square, tanh, sigmoid") {
  GRADCHECK_ROW("exp", unary(exp), rand64({2, 3}));
  GRADCHECK_ROW("log (x in [0.5, 2])", unary(log), rand64({2, 3}, 0.5, 2.0));
  GRADCHECK_ROW("sqrt (x in [0.5, 2])", unary(sqrt), rand64({2, 3}, 0.5, 2.0));
  GRADCHECK_ROW("square", unary(square), rand64({2, 3}));
  GRADCHECK_ROW("tanh", unary(tanh), rand64({2, 3}, -2.0, 2.0));
  GRADCHECK_ROW("sigmoid", unary(sigmoid), rand64({2, 3}, -3.0, 3.0));
  GRADCHECK_ROW("exp scalar", unary(exp), s64(0.3));
}

TEST_CASE("gradcheck: abs and relu away from the kink at 0") {
  GRADCHECK_ROW("abs", unary(abs), rand_away({2, 3}));
  GRADCHECK_ROW("relu", unary(relu), rand_away({2, 3}));
}

TEST_CASE("gradcheck: pow in both arguments, with broadcasting") {
  const Fn f = [](const std::vector<Tensor>& v) { return pow(v[0], v[1]); };
  GRADCHECK_ROW("pow same shape", f, rand64({2, 3}, 0.5, 2.0), rand64({2, 3}, -2.0, 2.0));
  GRADCHECK_ROW("pow scalar exponent", f, rand64({2, 3}, 0.5, 2.0), s64(1.7));
  GRADCHECK_ROW("pow scalar base", f, s64(1.3), rand64({2, 3}, -2.0, 2.0));
  GRADCHECK_ROW("pow row vs matrix", f, rand64({2, 3}, 0.5, 2.0), rand64({3}, -2.0, 2.0));
  GRADCHECK_ROW("pow (3,1) vs (1,4)", f, rand64({3, 1}, 0.5, 2.0), rand64({1, 4}, -2.0, 2.0));
  GRADCHECK_ROW("pow(x, 3.0) with negative x",
                [](const std::vector<Tensor>& v) { return pow(v[0], 3.0); }, rand64({4}));
}

TEST_CASE("gradcheck: softmax and log_softmax on every axis") {
  const Tensor x = rand64({3, 4}, -2.0, 2.0);
  for (int axis : {-1, 0, 1, -2}) {
    INFO("axis " << axis);
    GRADCHECK_ROW("softmax", [axis](const std::vector<Tensor>& v) { return softmax(v[0], axis); }, x);
    GRADCHECK_ROW("log_softmax",
                  [axis](const std::vector<Tensor>& v) { return log_softmax(v[0], axis); }, x);
  }
  GRADCHECK_ROW("softmax rank 3, middle axis",
                [](const std::vector<Tensor>& v) { return softmax(v[0], 1); }, rand64({2, 3, 2}));
}

TEST_CASE("unary math: closed-form gradients in float32") {
  const Tensor x = Tensor{0.5, 1.0, 2.0};
  CHECK_ALLCLOSE(grad_of([](const Tensor& v) { return exp(v); }, x), exp(x), 1e-6, 0);
  CHECK_ALLCLOSE(grad_of([](const Tensor& v) { return log(v); }, x), (Tensor{2.0, 1.0, 0.5}), 1e-6, 0);
  CHECK_ALLCLOSE(grad_of([](const Tensor& v) { return sqrt(v); }, Tensor{0.25, 1.0, 4.0}),
                 (Tensor{1.0, 0.5, 0.25}), 1e-6, 0);
  CHECK_ALLCLOSE(grad_of([](const Tensor& v) { return square(v); }, x), (Tensor{1.0, 2.0, 4.0}), 1e-6, 0);
  const Tensor t = tanh(x);
  CHECK_ALLCLOSE(grad_of([](const Tensor& v) { return tanh(v); }, x), 1.0 - t * t, 1e-6, 0);
  const Tensor s = sigmoid(x);
  CHECK_ALLCLOSE(grad_of([](const Tensor& v) { return sigmoid(v); }, x), s * (1.0 - s), 1e-6, 0);
  CHECK(grad_of([](const Tensor& v) { return sigmoid(v); }, x).dtype() == DType::float32);
}

TEST_CASE("unary math: the conventions at kinks and poles") {
  // abs and relu have gradient 0 at 0, as TensorFlow.
  CHECK_ALLCLOSE(grad_of([](const Tensor& v) { return abs(v); }, f64({-2.0, 0.0, 3.0})),
                 f64({-1.0, 0.0, 1.0}), 0, 0);
  CHECK_ALLCLOSE(grad_of([](const Tensor& v) { return relu(v); }, f64({-2.0, 0.0, 3.0})),
                 f64({0.0, 0.0, 1.0}), 0, 0);
  // d/dy x^y is 0 where x = 0 (not NaN); d/dx at x = 0 with y = 2 is 0.
  const Tensor x = f64({0.0, 2.0});
  const Tensor y = f64({2.0, 3.0});
  GradientTape tape(true);
  tape.watch(x);
  tape.watch(y);
  const Tensor z = pow(x, y);
  const auto grads = tape.gradient(z, {x, y});
  CHECK_ALLCLOSE(grads[0].dense(), f64({0.0, 12.0}), 1e-15, 0);
  CHECK_ALLCLOSE(grads[1].dense(), f64({0.0, 8.0 * std::log(2.0)}), 1e-15, 0);
  // sign has no gradient (it is piecewise constant).
  CHECK_FALSE(tape.gradient(sign(x), {x})[0]);
}

TEST_CASE("unary math: integer inputs are rejected where TensorFlow rejects them") {
  CHECK_THROWS_WITH_TEXT(exp(Tensor{1, 2}), TypeError, "exp: expected a float32 or float64 tensor. Received: dtype=int32");
  CHECK_THROWS_WITH_TEXT(log(Tensor{1, 2}), TypeError, "log");
  CHECK_THROWS_WITH_TEXT(sqrt(Tensor{1, 2}), TypeError, "sqrt");
  CHECK_THROWS_WITH_TEXT(tanh(Tensor{1, 2}), TypeError, "tanh");
  CHECK_THROWS_WITH_TEXT(sigmoid(Tensor{1, 2}), TypeError, "sigmoid");
  CHECK_THROWS_WITH_TEXT(pow(Tensor{1, 2}, Tensor{1, 2}), TypeError, "pow");
  CHECK_THROWS_WITH_TEXT(softmax(Tensor{1, 2}), TypeError, "softmax");
  CHECK_THROWS_WITH_TEXT(log_softmax(Tensor{1, 2}), TypeError, "log_softmax");
  CHECK_THROWS_WITH_TEXT(softmax(rand64({2, 3}), 2), ValueError, "softmax: axis 2 is out of bounds for a tensor of rank 2");
  CHECK_THROWS_WITH_TEXT(log_softmax(rand64({2, 3}), -3), ValueError, "log_softmax: axis -3");
  CHECK_THROWS_WITH_TEXT(pow(rand64({2}), rand64({3})), ValueError, "pow");
  CHECK_THROWS_WITH_TEXT(pow(Tensor{1.0}, f64({2.0})), TypeError, "pow");
}

// ---- selection ----------------------------------------------------------------------------------

TEST_CASE("selection: forward values against hand-computed results") {
  const Tensor a = f64({{1.0, 5.0, 3.0}, {-1.0, 0.0, 2.0}});
  const Tensor b = f64({2.0, 2.0, 3.0});
  CHECK_ALLCLOSE(maximum(a, b), f64({{2.0, 5.0, 3.0}, {2.0, 2.0, 3.0}}), 0, 0);
  CHECK_ALLCLOSE(minimum(a, b), f64({{1.0, 2.0, 3.0}, {-1.0, 0.0, 2.0}}), 0, 0);
  const Tensor c = bools({true, false, true});
  CHECK_ALLCLOSE(where(c, a, b), f64({{1.0, 2.0, 3.0}, {-1.0, 2.0, 2.0}}), 0, 0);
  CHECK_ALLCLOSE(where(bool_col({true, false}), a, b),
                 f64({{1.0, 5.0, 3.0}, {2.0, 2.0, 3.0}}), 0, 0);
  CHECK_ALLCLOSE(clip_by_value(a, 0.0, 2.5), f64({{1.0, 2.5, 2.5}, {0.0, 0.0, 2.0}}), 0, 0);
  CHECK_ALLCLOSE(clip_by_value(a, f64({0.0, 1.0, 2.0}), s64(2.5)),
                 f64({{1.0, 2.5, 2.5}, {0.0, 1.0, 2.0}}), 0, 0);
  CHECK(maximum(Tensor{1, 7}, Tensor{3, 2}).numpy<std::int32_t>() == arr<std::int32_t>({3, 7}));
}

TEST_CASE("gradcheck: maximum and minimum over broadcasting patterns (operands apart)") {
  const Fn fmax = [](const std::vector<Tensor>& v) { return maximum(v[0], v[1]); };
  const Fn fmin = [](const std::vector<Tensor>& v) { return minimum(v[0], v[1]); };
  // distinct64 keeps every pair of values at least 0.15 apart, so no tie is within eps.
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{2, 3}, {2, 3}}, {{2, 3}, {}}, {{}, {2, 3}}, {{2, 3}, {3}}, {{3, 1}, {1, 4}}};
  for (const auto& c : cases) {
    const std::size_t na = detail::shape_size(c.first);
    const Tensor both = distinct64({na + detail::shape_size(c.second)});
    std::vector<std::int64_t> sa(c.first.begin(), c.first.end());
    std::vector<std::int64_t> sb(c.second.begin(), c.second.end());
    const Tensor a = reshape(slice_axis(both, 0, 0, na), sa);
    const Tensor b = reshape(slice_axis(both, 0, na, detail::shape_size(c.second)), sb);
    const std::string name = shape_str(c.first) + " vs " + shape_str(c.second);
    GRADCHECK_ROW("maximum " + name, fmax, a, b);
    GRADCHECK_ROW("minimum " + name, fmin, a, b);
  }
}

TEST_CASE("gradcheck: where, with the condition and the branches broadcast") {
  const Fn f = [](const std::vector<Tensor>& v) {
    return where(bools({true, false, false}), v[0], v[1]);
  };
  GRADCHECK_ROW("where same shape", f, rand64({2, 3}), rand64({2, 3}));
  GRADCHECK_ROW("where scalar y", f, rand64({2, 3}), rand64({}));
  GRADCHECK_ROW("where (3,) x vs (2,1) y", f, rand64({3}), rand64({2, 1}));
  const Fn g = [](const std::vector<Tensor>& v) {
    return where(bool_col({true, false}), v[0], v[1]);
  };
  GRADCHECK_ROW("where (2,1) condition", g, rand64({2, 3}), rand64({3}));
}

TEST_CASE("gradcheck: clip_by_value (values away from the bounds)") {
  // distinct64(.., 0.37) puts the 12 values at 0.37k - 2.22 plus jitter below 0.0925; bounds
  // at 0.37k - 1.99 stay at least 0.13 away from every value.
  const Tensor x = distinct64({3, 4}, 0.37);
  GRADCHECK_ROW("clip_by_value scalars",
                [](const std::vector<Tensor>& v) { return clip_by_value(v[0], -0.88, 0.97); }, x);
  GRADCHECK_ROW("clip_by_value per-column bounds",
                [](const std::vector<Tensor>& v) {
                  return clip_by_value(v[0], f64({-2.5, -0.14, 0.23, -2.5}),
                                       f64({2.5, 0.6, 2.5, -0.51}));
                },
                x);
}

TEST_CASE("selection: gradient routing at ties and at the clip bounds") {
  const Tensor a = f64({1.0, 2.0, 3.0});
  const Tensor b = f64({1.0, 3.0, 2.0});
  GradientTape tape(true);
  tape.watch(a);
  tape.watch(b);
  // Ties go to the first operand, as TensorFlow's greater_equal / less_equal masks.
  auto g = tape.gradient(maximum(a, b), {a, b});
  CHECK_ALLCLOSE(g[0].dense(), f64({1.0, 0.0, 1.0}), 0, 0);
  CHECK_ALLCLOSE(g[1].dense(), f64({0.0, 1.0, 0.0}), 0, 0);
  g = tape.gradient(minimum(a, b), {a, b});
  CHECK_ALLCLOSE(g[0].dense(), f64({1.0, 1.0, 0.0}), 0, 0);
  CHECK_ALLCLOSE(g[1].dense(), f64({0.0, 0.0, 1.0}), 0, 0);
  // Broadcast operand: its gradient sums over the rows it was stretched to.
  const Tensor m = f64({{0.0, 5.0}, {4.0, 1.0}, {3.0, 3.0}});
  const Tensor t = s64(2.0);
  tape.watch(m);
  tape.watch(t);
  g = tape.gradient(maximum(m, t), {m, t});
  CHECK_ALLCLOSE(g[0].dense(), f64({{0.0, 1.0}, {1.0, 0.0}, {1.0, 1.0}}), 0, 0);
  CHECK_ALLCLOSE(g[1].dense(), s64(2.0), 0, 0);
  // clip_by_value: gradient 1 on [lo, hi] inclusive, 0 outside, none for the bounds.
  const Tensor x = f64({-1.0, 0.0, 0.5, 1.0, 2.0});
  const Tensor lo = s64(0.0), hi = s64(1.0);
  tape.watch(x);
  tape.watch(lo);
  tape.watch(hi);
  g = tape.gradient(clip_by_value(x, lo, hi), {x, lo, hi});
  CHECK_ALLCLOSE(g[0].dense(), f64({0.0, 1.0, 1.0, 1.0, 0.0}), 0, 0);
  CHECK_FALSE(g[1]);
  CHECK_FALSE(g[2]);
  // where: the condition routes the gradient; broadcast branches sum.
  const Tensor c = bools({{true, false}, {false, false}});
  const Tensor p = f64({1.0, 2.0});
  const Tensor q = f64({{3.0, 4.0}, {5.0, 6.0}});
  tape.watch(p);
  tape.watch(q);
  g = tape.gradient(where(c, p, q), {p, q});
  CHECK_ALLCLOSE(g[0].dense(), f64({1.0, 0.0}), 0, 0);
  CHECK_ALLCLOSE(g[1].dense(), f64({{0.0, 1.0}, {1.0, 1.0}}), 0, 0);
}

TEST_CASE("selection: bad input") {
  const Tensor a = rand64({2, 3});
  CHECK_THROWS_WITH_TEXT(maximum(a, rand64({2})), ValueError, "maximum: incompatible shapes for broadcasting: (2, 3) and (2,)");
  CHECK_THROWS_WITH_TEXT(minimum(a, rand64({4, 1, 2})), ValueError, "minimum");
  CHECK_THROWS_WITH_TEXT(maximum(a, Tensor(1.0)), TypeError, "maximum");
  CHECK_THROWS_WITH_TEXT(where(Tensor{1, 0, 1}, rand64({3}), rand64({3})), TypeError,
                         "where: condition must be a bool tensor. Received: dtype=int32");
  CHECK_THROWS_WITH_TEXT(where(bools({true, false}), rand64({3}), rand64({3})),
                         ValueError, "where");
  CHECK_THROWS_WITH_TEXT(where(bools({true}), rand64({3}), Tensor{1.0, 2.0, 3.0}),
                         TypeError, "where");
  CHECK_THROWS_WITH_TEXT(clip_by_value(a, rand64({4}), 1.0), ValueError, "maximum");
}

// ---- comparisons --------------------------------------------------------------------------------

TEST_CASE("comparisons: bool results with broadcasting, no gradient") {
  const Tensor a = f64({1.0, 2.0, 3.0});
  const Tensor b = s64(2.0);
  CHECK(equal(a, b).dtype() == DType::boolean);
  CHECK(equal(a, b).numpy<bool>() == arr<bool>({false, true, false}));
  CHECK(not_equal(a, b).numpy<bool>() == arr<bool>({true, false, true}));
  CHECK(less(a, b).numpy<bool>() == arr<bool>({true, false, false}));
  CHECK(less_equal(a, b).numpy<bool>() == arr<bool>({true, true, false}));
  CHECK(greater(a, b).numpy<bool>() == arr<bool>({false, false, true}));
  CHECK(greater_equal(a, b).numpy<bool>() == arr<bool>({false, true, true}));
  CHECK(greater(col64({1.0, 3.0}), a).numpy<bool>() ==
        arr<bool>({{false, false, false}, {true, true, false}}));
  CHECK_THROWS_WITH_TEXT(less(a, rand64({2})), ValueError, "less");
  CHECK_THROWS_WITH_TEXT(less(a, Tensor{1.0, 2.0, 3.0}), TypeError, "less");
  GradientTape tape;
  tape.watch(a);
  const Tensor mask = cast(greater(a, b), DType::float64);
  CHECK_FALSE(tape.gradient(reduce_sum(mask), {a})[0]);
}

// ---- cast and gradient control ------------------------------------------------------------------

TEST_CASE("cast: values as numpy astype; gradients cast back between floating dtypes") {
  CHECK(cast(f64({1.5, -2.5}), DType::int32).numpy<std::int32_t>() == arr<std::int32_t>({1, -2}));
  CHECK(cast(Tensor{1, 2}, DType::float64).dtype() == DType::float64);
  CHECK_ALLCLOSE(cast(Tensor{1, 2}, DType::float64), f64({1.0, 2.0}), 0, 0);
  CHECK_ALLCLOSE(cast(f64({0.5, 3.0}), DType::float32), (Tensor{0.5, 3.0}), 0, 0);
  CHECK(cast(bools({true, false}), DType::float32).numpy<float>() ==
        arr<float>({1.0f, 0.0f}));
  // float64 -> float32 -> float64: the gradient arrives in each source's dtype.
  const Tensor x = f64({0.5, 2.0});
  const Tensor w = Tensor{3.0, -1.0};
  GradientTape tape(true);
  tape.watch(x);
  tape.watch(w);
  const Tensor y = reduce_sum(cast(x, DType::float32) * w);
  const auto g = tape.gradient(y, {x, w});
  CHECK(g[0].dtype() == DType::float64);
  CHECK_ALLCLOSE(g[0].dense(), f64({3.0, -1.0}), 0, 0);
  CHECK(g[1].dtype() == DType::float32);
  CHECK_ALLCLOSE(g[1].dense(), (Tensor{0.5, 2.0}), 0, 0);
  // Through an integer cast no gradient flows.
  CHECK_FALSE(tape.gradient(reduce_sum(cast(cast(x, DType::int32), DType::float64)), {x})[0]);
}

TEST_CASE("gradcheck: cast float64 <-> float32 (float32 resolution, so a larger eps)") {
  // float32 rounding (~6e-8 relative) over a 1e-2 step keeps the quotient within ~1e-5.
  const GradcheckResult down_up = gradcheck(
      [](const std::vector<Tensor>& v) {
        return cast(cast(v[0], DType::float32) * 2.0, DType::float64);
      },
      {rand64({2, 3})}, 1e-2, 1e-4, 1e-3);
  CHECK_MESSAGE(down_up.ok, down_up.report);
  const GradcheckResult down = gradcheck(
      [](const std::vector<Tensor>& v) { return square(cast(v[0], DType::float32)); },
      {rand64({3})}, 1e-2, 1e-4, 1e-3);
  CHECK_MESSAGE(down.ok, down.report);
}

TEST_CASE("stop_gradient and identity") {
  const Tensor x = f64({1.0, -2.0});
  CHECK_ALLCLOSE(stop_gradient(x), x, 0, 0);
  CHECK_ALLCLOSE(identity(x), x, 0, 0);
  GradientTape tape(true);
  tape.watch(x);
  // x * stop_gradient(x): only the first factor carries a gradient.
  CHECK_ALLCLOSE(tape.gradient(reduce_sum(x * stop_gradient(x)), {x})[0].dense(), x, 0, 0);
  CHECK_FALSE(tape.gradient(stop_gradient(x), {x})[0]);
  CHECK_ALLCLOSE(tape.gradient(identity(x) * 3.0, {x})[0].dense(), f64({3.0, 3.0}), 0, 0);
  GRADCHECK_ROW("identity", unary(identity), rand64({2, 2}));
}
