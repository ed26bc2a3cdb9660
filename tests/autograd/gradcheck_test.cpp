// The gradcheck helper itself (it must catch wrong backward functions, honour its tolerances and
// skip integer inputs), and second- and third-order gradchecks: gradcheck of functions that run
// an inner GradientTape, for every differentiable op, so each backward closure is itself checked
// as a differentiable function.

#include <cmath>

#include <tapeflow/autograd/record.hpp>

#include "op_support.hpp"

using namespace tapeflow;
using tapeflow::testing::distinct64;
using tapeflow::testing::f64;
using tapeflow::testing::Fn;
using tapeflow::testing::rand64;
using tapeflow::testing::rand_away;
using tapeflow::testing::s64;

namespace {

using detail::Grads;
using detail::NeedsGrad;

/// y = x² with a backward that forgets the factor 2: d/dx reported as g·x.
Tensor square_missing_factor(const Tensor& x) {
  Tensor y = Tensor(x.numpy<double>() * x.numpy<double>());
  return detail::record("square_missing_factor", y, {x},
                        [x](const Tensor& g, NeedsGrad) -> Grads { return {g * x}; });
}

/// y = a·b with a backward that gives no gradient to b.
Tensor multiply_drops_b(const Tensor& a, const Tensor& b) {
  Tensor y = Tensor(a.numpy<double>() * b.numpy<double>());
  return detail::record("multiply_drops_b", y, {a, b},
                        [b](const Tensor& g, NeedsGrad) -> Grads { return {g * b, Tensor()}; });
}

/// y = e^x with a backward that is off by a relative 1e-3.
Tensor exp_slightly_off(const Tensor& x) {
  Tensor y = Tensor(xt::eval(xt::exp(x.numpy<double>())));
  return detail::record("exp_slightly_off", y, {x},
                        [y](const Tensor& g, NeedsGrad) -> Grads { return {g * y * 1.001}; });
}

/// y = x[0]·x[1] elementwise along a vector whose backward swaps the two partials.
Tensor swapped_partials(const Tensor& a, const Tensor& b) {
  Tensor y = Tensor(a.numpy<double>() * b.numpy<double>());
  return detail::record("swapped_partials", y, {a, b}, [a, b](const Tensor& g, NeedsGrad) -> Grads {
    return {g * a, g * b};
  });
}

/// The k-th input's gradient of Σ w·f(inputs), computed by an inner tape, as a function of all
/// inputs: gradcheck of it checks second derivatives (including mixed ones).
Fn gradient_of(const Fn& f, std::size_t k, const Tensor& w) {
  return [f, k, w](const std::vector<Tensor>& v) {
    GradientTape inner;
    for (const Tensor& t : v) {
      if (is_floating(t.dtype())) inner.watch(t);
    }
    const Tensor y = f(v);
    return inner.gradient(reduce_sum(y * w), {v[k]}, Tensor(), UnconnectedGradients::ZERO)[0]
        .dense();
  };
}

/// Second-order gradcheck of `f` for the gradient of every floating input.
void second_order_rows(const std::string& name, const Fn& f, const std::vector<Tensor>& inputs) {
  const Tensor w = rand64(f(inputs).shape(), 0.5, 1.5);
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    if (!is_floating(inputs[k].dtype())) continue;
    INFO("second order: d/d input " << k);
    const GradcheckResult r = gradcheck(gradient_of(f, k, w), inputs, 1e-5, 1e-6, 1e-5);
    CHECK_MESSAGE(r.ok, name << ": " << r.report);
  }
}

}  // namespace

// ---- the helper can fail ------------------------------------------------------------------------

TEST_CASE("gradcheck: passes a correct op and reports its error") {
  const GradcheckResult r =
      gradcheck([](const std::vector<Tensor>& v) { return square(v[0]); }, {rand64({4})});
  CHECK(r.ok);
  CHECK(r.max_abs_error < 1e-8);
  CHECK(r.report.find("ok") == 0);
}

TEST_CASE("gradcheck: catches a backward that forgets a factor") {
  const Tensor x = f64({0.5, -1.0, 2.0});
  const GradcheckResult r =
      gradcheck([](const std::vector<Tensor>& v) { return square_missing_factor(v[0]); }, {x});
  CHECK_FALSE(r.ok);
  // |2x - x| = |x|: the worst entry is x = 2.
  CHECK(r.max_abs_error == doctest::Approx(2.0).epsilon(1e-6));
  CHECK(r.report.find("tape") != std::string::npos);
  CHECK(r.report.find("finite difference") != std::string::npos);
  // The forward value itself is right: only the gradient is wrong.
  CHECK_ALLCLOSE(square_missing_factor(x), square(x), 0, 0);
}

TEST_CASE("gradcheck: catches a missing gradient and swapped partials") {
  const Tensor a = f64({1.0, 2.0}), b = f64({3.0, -4.0});
  const GradcheckResult dropped = gradcheck(
      [](const std::vector<Tensor>& v) { return multiply_drops_b(v[0], v[1]); }, {a, b});
  CHECK_FALSE(dropped.ok);
  CHECK(dropped.report.find("input 1") != std::string::npos);
  const GradcheckResult swapped = gradcheck(
      [](const std::vector<Tensor>& v) { return swapped_partials(v[0], v[1]); }, {a, b});
  CHECK_FALSE(swapped.ok);
  CHECK(swapped.report.find("input 0") != std::string::npos);
}

TEST_CASE("gradcheck: honours its tolerances") {
  const Fn f = [](const std::vector<Tensor>& v) { return exp_slightly_off(v[0]); };
  const Tensor x = rand64({3});
  CHECK_FALSE(gradcheck(f, {x}).ok);                   // default rtol 1e-5: caught
  CHECK(gradcheck(f, {x}, 1e-6, 1e-6, 1e-2).ok);       // rtol 1e-2: accepted
  CHECK_FALSE(gradcheck(f, {x}, 1e-6, 1e-6, 1e-4).ok); // rtol 1e-4: caught
}

TEST_CASE("gradcheck: integer inputs are skipped; a wrong-dtype backward is a tape error") {
  const Fn f = [](const std::vector<Tensor>& v) { return gather(v[0], v[1]) * 2.0; };
  CHECK(gradcheck(f, {rand64({3, 2}), Tensor{2, 0}}).ok);
  // A custom op whose backward returns float32 for a float64 input: the tape names the op.
  const Tensor x = f64({1.0, 2.0});
  GradientTape tape;
  tape.watch(x);
  const Tensor y = detail::record("bad_dtype", Tensor(x.numpy<double>()), {x},
                                  [](const Tensor& g, NeedsGrad) -> Grads {
                                    return {cast(g, DType::float32)};
                                  });
  CHECK_THROWS_WITH_TEXT(tape.gradient(y, {x}), ValueError,
                         "GradientTape: the gradient of bad_dtype for input 0 has dtype float32, expected float64");
}

TEST_CASE("tape: a backward whose gradient cannot reduce to the input's shape names the op") {
  const Tensor x = f64({1.0, 2.0, 3.0});
  GradientTape tape(true);
  tape.watch(x);
  const Tensor y = detail::record("bad_shape", Tensor(x.numpy<double>()), {x},
                                  [](const Tensor& g, NeedsGrad) -> Grads {
                                    return {reshape(g, {3, 1}) * f64({1.0, 1.0})};
                                  });
  CHECK_THROWS_WITH_TEXT(tape.gradient(y, {x}), ValueError,
                         "GradientTape: the gradient of bad_shape for input 0 has shape (3, 2), which "
                         "does not sum down to the input's shape (3,)");
}

// ---- second order: gradcheck through an inner tape ----------------------------------------------

TEST_CASE("gradcheck of a lambda that runs an inner tape (second-order finite differences)") {
  // g(x) = d/dx Σ x³ e^x = (3x² + x³) e^x; gradcheck compares the tape's d g/dx with differences of g.
  const Fn g = [](const std::vector<Tensor>& v) {
    GradientTape inner;
    inner.watch(v[0]);
    const Tensor y = reduce_sum(pow(v[0], 3.0) * exp(v[0]));
    return inner.gradient(y, {v[0]})[0].dense();
  };
  const Tensor x = rand64({4});
  CHECK_ALLCLOSE(g({x}), (square(x) * 3.0 + pow(x, 3.0)) * exp(x), 1e-14, 1e-14);
  GRADCHECK_ROW("d/dx Σ x³eˣ", g, x);
  // A custom square whose backward is right (2x·g) but not differentiable (x enters through
  // stop_gradient): first order passes, second order must fail.
  const auto flat_square = [](const Tensor& x) {
    return detail::record("flat_square", Tensor(x.numpy<double>() * x.numpy<double>()), {x},
                          [x](const Tensor& g, NeedsGrad) -> Grads {
                            return {g * stop_gradient(x) * 2.0};
                          });
  };
  CHECK(gradcheck([&](const std::vector<Tensor>& v) { return flat_square(v[0]); }, {x}).ok);
  const Fn wrong = [&](const std::vector<Tensor>& v) {
    GradientTape inner;
    inner.watch(v[0]);
    return inner.gradient(reduce_sum(flat_square(v[0])), {v[0]})[0].dense();
  };
  const GradcheckResult second = gradcheck(wrong, {x});
  CHECK_FALSE(second.ok);
  CHECK(second.max_abs_error == doctest::Approx(2.0).epsilon(1e-6));  // d(2x)/dx = 2, tape says 0
}

TEST_CASE("second order: arithmetic, with broadcasting") {
  second_order_rows("multiply (2,3)x(3,)", [](const std::vector<Tensor>& v) { return v[0] * v[1]; },
                    {rand64({2, 3}), rand64({3})});
  second_order_rows("divide (2,3)/(3,1)", [](const std::vector<Tensor>& v) { return v[0] / v[1]; },
                    {rand64({2, 3}), rand_away({2, 1}, 0.5, 2.0)});
  second_order_rows("subtract and negative",
                    [](const std::vector<Tensor>& v) { return -(v[0] - v[1]) * v[0]; },
                    {rand64({3}), rand64({})});
  second_order_rows("add", [](const std::vector<Tensor>& v) { return (v[0] + v[1]) * (v[0] + v[1]); },
                    {rand64({3, 1}), rand64({1, 2})});
}

TEST_CASE("second order: elementwise math") {
  const auto one = [](Tensor (*op)(const Tensor&)) -> Fn {
    return [op](const std::vector<Tensor>& v) { return op(v[0]); };
  };
  second_order_rows("exp", one(exp), {rand64({2, 3})});
  second_order_rows("log", one(log), {rand64({2, 3}, 0.5, 2.0)});
  second_order_rows("sqrt", one(sqrt), {rand64({2, 3}, 0.5, 2.0)});
  second_order_rows("square", one(square), {rand64({2, 3})});
  second_order_rows("tanh", one(tanh), {rand64({2, 3}, -2.0, 2.0)});
  second_order_rows("sigmoid", one(sigmoid), {rand64({2, 3}, -3.0, 3.0)});
  // relu and abs are piecewise linear: second derivative 0 away from the kink, gradient still checked.
  second_order_rows("relu * x", [](const std::vector<Tensor>& v) { return relu(v[0]) * v[0]; },
                    {rand_away({2, 3})});
  second_order_rows("abs * x", [](const std::vector<Tensor>& v) { return abs(v[0]) * v[0]; },
                    {rand_away({2, 3})});
  second_order_rows("pow both arguments", [](const std::vector<Tensor>& v) { return pow(v[0], v[1]); },
                    {rand64({2, 3}, 0.5, 2.0), rand64({3}, -2.0, 2.0)});
  second_order_rows("softmax axis -1", [](const std::vector<Tensor>& v) { return softmax(v[0]); },
                    {rand64({2, 3})});
  second_order_rows("softmax axis 0", [](const std::vector<Tensor>& v) { return softmax(v[0], 0); },
                    {rand64({2, 3})});
  second_order_rows("log_softmax axis 0",
                    [](const std::vector<Tensor>& v) { return log_softmax(v[0], 0); }, {rand64({3, 2})});
}

TEST_CASE("second order: selection") {
  const Tensor both = distinct64({11});
  const Tensor a = reshape(slice_axis(both, 0, 0, 6), {2, 3});
  const Tensor b = slice_axis(both, 0, 6, 2);
  second_order_rows("maximum * a", [](const std::vector<Tensor>& v) { return maximum(v[0], v[1]) * v[0]; },
                    {a, slice_axis(both, 0, 8, 3)});
  second_order_rows("minimum squared",
                    [](const std::vector<Tensor>& v) { return square(minimum(v[0], v[1])); },
                    {a, reshape(b, {2, 1})});
  second_order_rows("where squared",
                    [](const std::vector<Tensor>& v) {
                      return square(where(greater(v[0], zeros_like(v[0])), v[0], v[1]));
                    },
                    {rand_away({2, 3}), rand64({3})});
  second_order_rows("clip_by_value squared",
                    [](const std::vector<Tensor>& v) { return square(clip_by_value(v[0], -0.88, 0.97)); },
                    {distinct64({3, 4}, 0.37)});
}

TEST_CASE("second order: reductions") {
  second_order_rows("reduce_sum axis 1 squared",
                    [](const std::vector<Tensor>& v) { return square(reduce_sum(v[0], {1})); },
                    {rand64({2, 3})});
  second_order_rows("reduce_mean (0, 2) keepdims, cubed",
                    [](const std::vector<Tensor>& v) { return pow(reduce_mean(v[0], {0, 2}, true), 3.0); },
                    {rand64({2, 3, 2})});
  second_order_rows("reduce_max axis -1 times x",
                    [](const std::vector<Tensor>& v) { return reduce_max(v[0], {-1}, true) * v[0]; },
                    {distinct64({2, 3}, 0.2)});
}

TEST_CASE("second order: matmul, all transpose flags, broadcast batch") {
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      INFO("transpose_a=" << ta << " transpose_b=" << tb);
      const Tensor a = ta ? rand64({3, 2}) : rand64({2, 3});
      const Tensor b = tb ? rand64({2, 3}) : rand64({3, 2});
      second_order_rows("tanh(matmul)", [ta, tb](const std::vector<Tensor>& v) {
        return tanh(matmul(v[0], v[1], ta, tb));
      }, {a, b});
    }
  }
  second_order_rows("matmul broadcast batch, squared",
                    [](const std::vector<Tensor>& v) { return square(matmul(v[0], v[1])); },
                    {rand64({2, 1, 2, 3}), rand64({2, 3, 2})});
}

TEST_CASE("second order: shape and index ops") {
  second_order_rows("reshape/transpose",
                    [](const std::vector<Tensor>& v) { return square(transpose(reshape(v[0], {3, 2}))); },
                    {rand64({2, 3})});
  second_order_rows("concat axis 1",
                    [](const std::vector<Tensor>& v) { return square(concat({v[0], v[1] * v[0]}, 1)); },
                    {rand64({2, 2}), rand64({2, 2})});
  second_order_rows("slice_axis",
                    [](const std::vector<Tensor>& v) { return square(slice_axis(v[0], 1, 1, 2)); },
                    {rand64({2, 4})});
  second_order_rows("broadcast_to",
                    [](const std::vector<Tensor>& v) { return square(broadcast_to(v[0], {3, 2})); },
                    {rand64({2})});
  second_order_rows("expand_dims/squeeze",
                    [](const std::vector<Tensor>& v) { return exp(squeeze(expand_dims(v[0], 0))); },
                    {rand64({3})});
  second_order_rows("gather repeated",
                    [](const std::vector<Tensor>& v) { return pow(gather(v[0], Tensor{2, 0, 2}), 3.0); },
                    {rand64({3, 2})});
  second_order_rows("unsorted_segment_sum",
                    [](const std::vector<Tensor>& v) {
                      return square(unsorted_segment_sum(v[0], Tensor{1, 0, 1}, 3));
                    },
                    {rand64({3, 2})});
}

TEST_CASE("third order: gradcheck of a second derivative (two inner tapes)") {
  // h(x) = d²/dx² Σ w·tanh(x)  as a function of x; gradcheck checks the third derivative.
  const Fn first = gradient_of([](const std::vector<Tensor>& v) { return tanh(v[0]); }, 0,
                               f64({1.0, 1.0, 1.0}));
  const Fn second = gradient_of(first, 0, f64({1.0, 1.0, 1.0}));
  const Tensor x = rand64({3}, -1.5, 1.5);
  const Tensor t = tanh(x);
  CHECK_ALLCLOSE(second({x}), -2.0 * t * (1.0 - t * t), 1e-13, 1e-14);
  GRADCHECK_ROW("d³/dx³ tanh", second, x);
}
