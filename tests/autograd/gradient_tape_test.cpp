// GradientTape: recording rules, gradient/jacobian semantics, errors, and higher-order gradients
// through nested tapes (second derivatives, a Hessian through matmul, Hessian-vector products).

#include <cmath>
#include <thread>

#include "op_support.hpp"

using namespace tapeflow;
using tapeflow::testing::arr;
using tapeflow::testing::col64;
using tapeflow::testing::f64;
using tapeflow::testing::rand64;
using tapeflow::testing::s64;

namespace {

/// The Jacobian of f at x by central differences, shape f(x).shape + x.shape.
Tensor numeric_jacobian(const std::function<Tensor(const Tensor&)>& f, const Tensor& x,
                        double eps = 1e-6) {
  const Tensor y = f(x);
  const std::size_t m = y.size(), n = x.size();
  xt::xarray<double> j = xt::zeros<double>({m, n});
  for (std::size_t k = 0; k < n; ++k) {
    xt::xarray<double> plus = x.numpy<double>(), minus = x.numpy<double>();
    plus.data()[k] += eps;
    minus.data()[k] -= eps;
    const xt::xarray<double> yp = f(Tensor(plus)).numpy<double>();
    const xt::xarray<double> ym = f(Tensor(minus)).numpy<double>();
    for (std::size_t i = 0; i < m; ++i) j(i, k) = (yp.data()[i] - ym.data()[i]) / (2 * eps);
  }
  std::vector<std::int64_t> shape(y.shape().begin(), y.shape().end());
  shape.insert(shape.end(), x.shape().begin(), x.shape().end());
  return reshape(Tensor(j), shape);
}

}  // namespace

// ---- recording and the basic contract -----------------------------------------------------------

TEST_CASE("tape: a trainable variable is watched on first read; its gradient is exact") {
  Variable w(f64({1.0, 2.0}), "w");
  GradientTape tape;
  const Tensor loss = reduce_sum(square(w));
  const auto grads = tape.gradient(loss, {w});
  REQUIRE(grads.size() == 1);
  CHECK_FALSE(grads[0].is_sparse());
  CHECK_ALLCLOSE(grads[0].dense(), f64({2.0, 4.0}), 0, 0);
  REQUIRE(tape.watched_variables().size() == 1);
  CHECK(tape.watched_variables()[0].id() == w.id());
}

TEST_CASE("tape: gradient takes a std::vector<Variable>, as model.trainable_variables()") {
  Variable w(f64({1.0, 2.0}), "w"), b(f64({0.5}), "b");
  const std::vector<Variable> variables = {w, b};
  GradientTape tape;
  const Tensor loss = reduce_sum(square(w)) + reduce_sum(b * 3.0);
  const auto grads = tape.gradient(loss, variables);
  REQUIRE(grads.size() == 2);
  CHECK_ALLCLOSE(grads[0].dense(), f64({2.0, 4.0}), 0, 0);
  CHECK_ALLCLOSE(grads[1].dense(), f64({3.0}), 0, 0);
}

TEST_CASE("tape: a spent non-persistent tape lets go of what it recorded") {
  // The tape's backward functions hold the variable's value (matmul needs W for dx). Once a
  // non-persistent tape has computed its gradients it drops them, so an optimizer step taken
  // while the tape is still in scope updates W's buffer in place instead of copying it.
  Variable w2(reshape(f64({1.0, 2.0, 3.0, 4.0}), {2, 2}), "w2");
  const Tensor x = reshape(f64({0.5, -1.0, 2.0, 1.0}), {2, 2});
  for (bool persistent : {false, true}) {
    CAPTURE(persistent);
    const void* before = w2.read_value_no_record().raw_data();
    GradientTape tape(persistent);
    const Tensor loss = reduce_sum(relu(matmul(x, w2)));
    const std::vector<Gradient> grads = tape.gradient(loss, std::vector<Variable>{w2});
    REQUIRE(grads[0]);
    w2.assign_sub(grads[0].dense() * 0.1);
    const void* after = w2.read_value_no_record().raw_data();
    // A persistent tape keeps its record (it may be asked again), so the update copies.
    CHECK((before == after) == !persistent);
    if (persistent) CHECK(tape.gradient(loss, std::vector<Variable>{w2})[0]);
    CHECK(tape.watched_variables().size() == 1);
  }
  // A spent tape records and watches nothing more (as TF's), even while still in scope; reset()
  // makes it record again.
  GradientTape tape;
  const Tensor loss = reduce_sum(matmul(x, w2));
  CHECK(tape.gradient(loss, std::vector<Variable>{w2})[0]);
  const Tensor again = reduce_sum(matmul(x, w2));  // reads w2 again
  tape.watch(w2);
  CHECK(tape.watched_variables().size() == 1);
  const void* before = w2.read_value_no_record().raw_data();
  w2.assign_sub(ones({2, 2}, DType::float64));
  CHECK(w2.read_value_no_record().raw_data() == before);  // nothing recorded held w2
  CHECK_THROWS_AS(tape.gradient(again, std::vector<Variable>{w2}), ValueError);
  tape.reset();
  const Tensor fresh = reduce_sum(w2 * w2);
  const std::vector<Gradient> grads = tape.gradient(fresh, std::vector<Variable>{w2});
  REQUIRE(grads[0]);
  CHECK_ALLCLOSE(grads[0].dense(), w2.read_value_no_record() * 2.0, 0, 0);
}

TEST_CASE("tape: a rejected gradient call leaves the tape usable; the accepted one releases it") {
  Variable w(f64({1.0, 2.0}), "w");
  GradientTape tape;
  const Tensor y = reduce_sum(w * w);
  // A wrongly shaped output gradient is rejected before the tape is used...
  CHECK_THROWS_AS(tape.gradient(y, std::vector<Variable>{w}, f64({1.0, 2.0})), ValueError);
  // ...so the one allowed gradient still works, and afterwards the tape holds nothing of w.
  CHECK(tape.gradient(y, std::vector<Variable>{w})[0]);
  const void* before = w.read_value_no_record().raw_data();
  w.assign_add(f64({1.0, 1.0}));
  CHECK(w.read_value_no_record().raw_data() == before);
}

TEST_CASE("tape: persistent tape computes several gradients; non-persistent allows one") {
  const Tensor x = f64({1.0, 2.0, 3.0});
  {
    GradientTape tape(true);
    CHECK(tape.persistent());
    tape.watch(x);
    const Tensor y = reduce_sum(x * x);
    const Tensor z = reduce_sum(exp(x));
    CHECK_ALLCLOSE(tape.gradient(y, {x})[0].dense(), f64({2.0, 4.0, 6.0}), 0, 0);
    CHECK_ALLCLOSE(tape.gradient(z, {x})[0].dense(), exp(x), 0, 0);
    // The same target again gives the same answer: nothing was consumed.
    CHECK_ALLCLOSE(tape.gradient(y, {x})[0].dense(), f64({2.0, 4.0, 6.0}), 0, 0);
    CHECK(tape.jacobian(x * 2.0, x).shape() == Shape{3, 3});
  }
  {
    GradientTape tape;
    CHECK_FALSE(tape.persistent());
    tape.watch(x);
    const Tensor y = reduce_sum(x * x);
    CHECK(tape.gradient(y, {x})[0]);
    CHECK_THROWS_WITH_TEXT(tape.gradient(y, {x}), ValueError,
                           "GradientTape.gradient: a non-persistent GradientTape can only be used to "
                           "compute one set of gradients");
    CHECK_THROWS_WITH_TEXT(tape.gradient(y, {x}), ValueError, "persistent=true");
    CHECK_THROWS_WITH_TEXT(tape.jacobian(y, x), ValueError, "GradientTape.jacobian");
  }
  {
    GradientTape tape;
    tape.watch(x);
    const Tensor y = x * x;
    CHECK(tape.jacobian(y, x));
    CHECK_THROWS_AS(tape.gradient(reduce_sum(y), {x}), ValueError);
  }
}

TEST_CASE("tape: watch() makes a tensor a source; unwatched tensors get none") {
  const Tensor x = f64({1.0, 2.0});
  const Tensor y = f64({3.0, 4.0});
  GradientTape tape(true);
  tape.watch(x);
  const Tensor z = reduce_sum(x * y);
  auto g = tape.gradient(z, {x, y});
  CHECK_ALLCLOSE(g[0].dense(), y, 0, 0);
  CHECK_FALSE(g[1]);
  // Watching later does not retroactively record earlier ops.
  tape.watch(y);
  CHECK_FALSE(tape.gradient(z, {y})[0]);
  CHECK_ALLCLOSE(tape.gradient(reduce_sum(x * y), {y})[0].dense(), x, 0, 0);
  // A list of sources to watch at once.
  GradientTape t2;
  t2.watch(std::vector<TensorLike>{x, y});
  const auto g2 = t2.gradient(reduce_sum(x * y * 2.0), {x, y});
  CHECK_ALLCLOSE(g2[0].dense(), y * 2.0, 0, 0);
  CHECK_ALLCLOSE(g2[1].dense(), x * 2.0, 0, 0);
  CHECK_THROWS_WITH_TEXT(t2.watch(Tensor()), ValueError, "GradientTape.watch: the tensor is none");
}

TEST_CASE("tape: a watched intermediate is a source of its own") {
  const Tensor x = f64({1.0, 2.0});
  GradientTape tape(true);
  tape.watch(x);
  const Tensor y = x * 3.0;
  const Tensor z = reduce_sum(y * y);
  const auto g = tape.gradient(z, {y, x});
  CHECK_ALLCLOSE(g[0].dense(), y * 2.0, 0, 0);   // dz/dy = 2y
  CHECK_ALLCLOSE(g[1].dense(), x * 18.0, 0, 0);  // dz/dx = 18x
  // The target itself as a source: d t/d t = the seed.
  CHECK_ALLCLOSE(tape.gradient(z, {z})[0].dense(), s64(1.0), 0, 0);
  // A source listed twice gets its gradient twice; no sources, no gradients.
  const auto twice = tape.gradient(z, {x, x});
  CHECK_ALLCLOSE(twice[1].dense(), twice[0].dense(), 0, 0);
  CHECK(tape.gradient(z, std::vector<TensorLike>{}).empty());
}

TEST_CASE("tape: watch_accessed_variables=false records only explicitly watched variables") {
  Variable a(f64({1.0, 2.0}), "a");
  Variable b(f64({3.0, 4.0}), "b");
  GradientTape tape(true, false);
  tape.watch(b);
  const Tensor loss = reduce_sum(a * b);
  const auto g = tape.gradient(loss, {a, b});
  CHECK_FALSE(g[0]);
  CHECK_ALLCLOSE(g[1].dense(), f64({1.0, 2.0}), 0, 0);
  REQUIRE(tape.watched_variables().size() == 1);
  CHECK(tape.watched_variables()[0].name() == "b:0");
}

TEST_CASE("tape: non-trainable variables are not watched automatically, but can be watched") {
  Variable frozen(f64({2.0}), "frozen", false);
  Variable w(f64({3.0}), "w");
  {
    GradientTape tape;
    const Tensor loss = reduce_sum(frozen * w);
    const auto g = tape.gradient(loss, {frozen, w});
    CHECK_FALSE(g[0]);
    CHECK_ALLCLOSE(g[1].dense(), f64({2.0}), 0, 0);
  }
  {
    GradientTape tape;
    tape.watch(frozen);
    const Tensor loss = reduce_sum(frozen * w);
    const auto g = tape.gradient(loss, {frozen, w});
    CHECK_ALLCLOSE(g[0].dense(), f64({3.0}), 0, 0);
  }
  // watched_variables lists variables in the order the tape first saw them.
  GradientTape tape;
  Variable c(f64({1.0}), "c");
  const Tensor first = c.value();  // separate statements: argument order is unspecified
  const Tensor second = w.value();
  (void)(first * second * frozen);
  const auto seen = tape.watched_variables();
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].name() == "c:0");
  CHECK(seen[1].name() == "w:0");
}

TEST_CASE("tape: stop_recording() pauses this tape until the guard goes out of scope") {
  const Tensor x = f64({1.0, 2.0});
  GradientTape tape(true);
  tape.watch(x);
  Tensor hidden;
  {
    auto pause = tape.stop_recording();
    hidden = x * 5.0;
    {
      auto again = tape.stop_recording();  // nested guards restore the paused state
    }
    hidden = hidden + x;
  }
  const Tensor seen = x * 2.0;
  CHECK_FALSE(tape.gradient(reduce_sum(hidden), {x})[0]);
  CHECK_ALLCLOSE(tape.gradient(reduce_sum(seen), {x})[0].dense(), f64({2.0, 2.0}), 0, 0);
  // The guard pauses only its own tape: an outer tape keeps recording.
  GradientTape outer;
  outer.watch(x);
  GradientTape inner;
  inner.watch(x);
  Tensor y;
  {
    auto pause = inner.stop_recording();
    y = reduce_sum(x * x);
  }
  CHECK_ALLCLOSE(outer.gradient(y, {x})[0].dense(), f64({2.0, 4.0}), 0, 0);
  CHECK_FALSE(inner.gradient(y, {x})[0]);
}

TEST_CASE("tape: reset() forgets everything and records afresh") {
  Variable w(f64({1.0, 2.0}), "w");
  const Tensor x = f64({3.0});
  GradientTape tape;
  tape.watch(x);
  const Tensor before = reduce_sum(w * x);
  tape.reset();
  CHECK(tape.watched_variables().empty());
  const Tensor after = reduce_sum(w * w);
  const auto g = tape.gradient(before + after, {w, x});
  CHECK_ALLCLOSE(g[0].dense(), f64({2.0, 4.0}), 0, 0);  // only the post-reset read counts
  CHECK_FALSE(g[1]);                                     // x's watch was forgotten
  // A non-persistent tape that was reset may compute one more gradient.
  tape.reset();
  const Tensor again = reduce_sum(w * 3.0);
  CHECK_ALLCLOSE(tape.gradient(again, {w})[0].dense(), f64({3.0, 3.0}), 0, 0);
}

TEST_CASE("tape: UnconnectedGradients NONE gives none, ZERO gives zeros of the source's shape") {
  const Tensor x = f64({1.0, 2.0});
  const Tensor u = f64({{1.0, 2.0, 3.0}});
  Variable v(Tensor{1.0, 2.0, 3.0}, "v");
  GradientTape tape(true);
  tape.watch(x);
  tape.watch(u);
  const Tensor y = reduce_sum(x * 2.0);
  const auto none = tape.gradient(y, {x, u, v});
  CHECK(none[0]);
  CHECK_FALSE(none[1]);
  CHECK_FALSE(none[2]);
  const auto zero = tape.gradient(y, {x, u, v}, Tensor(), UnconnectedGradients::ZERO);
  CHECK_ALLCLOSE(zero[0].dense(), f64({2.0, 2.0}), 0, 0);
  CHECK_ALLCLOSE(zero[1].dense(), zeros({1, 3}, DType::float64), 0, 0);
  CHECK(zero[2].dtype() == DType::float32);
  CHECK_ALLCLOSE(zero[2].dense(), zeros({3}), 0, 0);
}

TEST_CASE("tape: output_gradients seeds the backward pass; a mismatched seed is a ValueError") {
  const Tensor x = f64({1.0, 2.0, 3.0});
  GradientTape tape(true);
  tape.watch(x);
  const Tensor y = x * x;
  // d(Σ seed·y)/dx = seed · 2x
  CHECK_ALLCLOSE(tape.gradient(y, {x}, f64({1.0, 0.0, -2.0}))[0].dense(), f64({2.0, 0.0, -12.0}), 0, 0);
  CHECK_THROWS_WITH_TEXT(tape.gradient(y, {x}, f64({1.0, 2.0})), ValueError,
                         "GradientTape.gradient: output_gradients must match the target. Received: "
                         "shape=(2,) dtype=float64 for a target of shape=(3,) dtype=float64");
  CHECK_THROWS_WITH_TEXT(tape.gradient(y, {x}, Tensor{1.0, 1.0, 1.0}), ValueError, "dtype=float32");
  // A failed call does not use up a non-persistent tape.
  GradientTape once;
  once.watch(x);
  const Tensor z = x * 3.0;
  CHECK_THROWS_AS(once.gradient(z, {x}, f64({1.0})), ValueError);
  CHECK_ALLCLOSE(once.gradient(z, {x}, f64({1.0, 1.0, 2.0}))[0].dense(), f64({3.0, 3.0, 6.0}), 0, 0);
}

TEST_CASE("tape: a non-scalar target is summed, as TensorFlow") {
  const Tensor x = f64({{1.0, 2.0}, {3.0, 4.0}});
  GradientTape tape(true);
  tape.watch(x);
  const Tensor y = x * x;
  CHECK_ALLCLOSE(tape.gradient(y, {x})[0].dense(), tape.gradient(reduce_sum(y), {x})[0].dense(), 0, 0);
  CHECK_ALLCLOSE(tape.gradient(y, {x})[0].dense(), x * 2.0, 0, 0);
}

TEST_CASE("tape: a variable used twice, or read twice, accumulates its gradient") {
  Variable w(f64({2.0, -1.0}), "w");
  {
    GradientTape tape;
    const Tensor y = reduce_sum(w * w + w);  // one expression, read three times
    CHECK_ALLCLOSE(tape.gradient(y, {w})[0].dense(), f64({5.0, -1.0}), 0, 0);
  }
  {
    GradientTape tape;
    const Tensor r = w.value();  // one read, used twice
    const Tensor y = reduce_sum(r * r * r);
    CHECK_ALLCLOSE(tape.gradient(y, {w})[0].dense(), f64({12.0, 3.0}), 0, 0);
  }
  {
    GradientTape tape;
    const Tensor y1 = reduce_sum(w * 3.0);
    const Tensor y2 = reduce_sum(exp(w));
    CHECK_ALLCLOSE(tape.gradient(y1 + y2, {w})[0].dense(), exp(w) + 3.0, 1e-15, 0);
  }
}

TEST_CASE("tape: gradients use the values read, even if the variable changes before gradient()") {
  Variable w(f64({1.0, 2.0}), "w");
  GradientTape tape;
  const Tensor y = reduce_sum(w * w);
  w.assign(f64({10.0, 20.0}));
  CHECK_ALLCLOSE(tape.gradient(y, {w})[0].dense(), f64({2.0, 4.0}), 0, 0);
}

TEST_CASE("tape: integer tensors carry no gradient") {
  const Tensor i = Tensor{1, 2, 3};
  const Tensor x = f64({1.0, 2.0, 3.0});
  GradientTape tape(true);
  tape.watch(i);  // ignored, as TensorFlow ignores non-float watches
  tape.watch(x);
  const Tensor y = reduce_sum(cast(i, DType::float64) * x);
  CHECK_ALLCLOSE(tape.gradient(y, {x})[0].dense(), f64({1.0, 2.0, 3.0}), 0, 0);
  // An integer result breaks the chain.
  const Tensor ix = cast(x * 2.0, DType::int64);
  CHECK_FALSE(tape.gradient(reduce_sum(cast(ix, DType::float64)), {x})[0]);
  // argmax is integer-valued: no gradient through it.
  CHECK_FALSE(tape.gradient(reduce_sum(cast(argmax(x, 0), DType::float64)), {x})[0]);
  // An integer variable is never watched.
  Variable counter(Tensor(7L), "counter");
  GradientTape t2;
  (void)(counter.value() + Tensor(1L));
  CHECK(t2.watched_variables().empty());
}

TEST_CASE("tape: the gradient w.r.t. a source of the wrong kind is a typed error") {
  const Tensor x = f64({1.0, 2.0});
  GradientTape tape(true);
  tape.watch(x);
  const Tensor y = reduce_sum(x * x);
  CHECK_THROWS_WITH_TEXT(tape.gradient(y, {x, Tensor{1, 2}}), TypeError,
                         "GradientTape.gradient: sources must be float32 or float64 tensors or "
                         "variables. Received: dtype=int32 for source 1");
  CHECK_THROWS_WITH_TEXT(tape.gradient(y, {Tensor(), x}), ValueError,
                         "GradientTape.gradient: source 0 is none");
  Variable iv(Tensor(3L), "iv");
  CHECK_THROWS_WITH_TEXT(tape.gradient(y, {iv}), TypeError, "dtype=int64 for source 0");
  CHECK_THROWS_WITH_TEXT(tape.gradient(Tensor(), {x}), ValueError, "GradientTape.gradient: the target is none");
  CHECK_THROWS_WITH_TEXT(tape.gradient(Tensor{1, 2}, {x}), ValueError,
                         "GradientTape.gradient: the target must be a float32 or float64 tensor. Received: dtype=int32");
  CHECK_THROWS_WITH_TEXT(tape.jacobian(y, Tensor{1, 2}), TypeError, "GradientTape.jacobian");
  CHECK_THROWS_WITH_TEXT(tape.jacobian(Tensor(), x), ValueError, "GradientTape.jacobian: the target is none");
  // A non-persistent tape is not used up by a rejected call.
  GradientTape once;
  once.watch(x);
  const Tensor z = reduce_sum(x * 4.0);
  CHECK_THROWS_AS(once.gradient(z, {Tensor{1, 2}}), TypeError);
  CHECK_ALLCLOSE(once.gradient(z, {x})[0].dense(), f64({4.0, 4.0}), 0, 0);
}

TEST_CASE("tape: gather on a Variable gives an IndexedSlices with duplicates kept") {
  Variable table(f64({{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}}), "table");
  GradientTape tape;
  const Tensor rows = gather(table, Tensor{2, 0, 2});
  const Tensor loss = reduce_sum(rows * f64({{1.0, 1.0}, {2.0, 2.0}, {3.0, 3.0}}));
  const Gradient g = tape.gradient(loss, {table})[0];
  REQUIRE(g.is_sparse());
  const IndexedSlices& s = g.indexed_slices();
  CHECK(s.indices.numpy<std::int64_t>() == arr<std::int64_t>({2, 0, 2}));
  CHECK_ALLCLOSE(s.values, f64({{1.0, 1.0}, {2.0, 2.0}, {3.0, 3.0}}), 0, 0);
  CHECK(s.dense_shape == Shape{3, 2});
  CHECK_ALLCLOSE(g.dense(), f64({{2.0, 2.0}, {0.0, 0.0}, {4.0, 4.0}}), 0, 0);
  // Two gathers of one variable: the slices concatenate, still sparse, duplicates kept.
  GradientTape t2;
  const Tensor l2 = reduce_sum(gather(table, Tensor{1}) * 2.0) + reduce_sum(gather(table, Tensor{1, 0}));
  const Gradient g2 = t2.gradient(l2, {table})[0];
  REQUIRE(g2.is_sparse());
  CHECK(g2.indexed_slices().indices.size() == 3);
  CHECK_ALLCLOSE(g2.dense(), f64({{1.0, 1.0}, {3.0, 3.0}, {0.0, 0.0}}), 0, 0);
  // A gather plus a dense use of the same variable: the sum is dense.
  GradientTape t3;
  const Tensor l3 = reduce_sum(gather(table, Tensor{0})) + reduce_sum(table * 1.0);
  const Gradient g3 = t3.gradient(l3, {table})[0];
  CHECK_FALSE(g3.is_sparse());
  CHECK_ALLCLOSE(g3.dense(), f64({{2.0, 2.0}, {1.0, 1.0}, {1.0, 1.0}}), 0, 0);
}

TEST_CASE("tape: jacobian has shape target.shape + source.shape and matches finite differences") {
  const Tensor x = rand64({3}, 0.5, 1.5);
  const auto f = [](const Tensor& v) {
    return matmul(reshape(v, {3, 1}), reshape(exp(v), {1, 3}));  // (3, 3): v_i e^{v_j}
  };
  GradientTape tape(true);
  tape.watch(x);
  const Tensor y = f(x);
  const Tensor j = tape.jacobian(y, x);
  CHECK(j.shape() == Shape{3, 3, 3});
  CHECK_ALLCLOSE(j, numeric_jacobian(f, x), 1e-7, 1e-8);
  // Scalar target: the gradient's shape. Scalar source: the target's shape.
  const Tensor s = reduce_sum(y);
  CHECK(tape.jacobian(s, x).shape() == Shape{3});
  CHECK_ALLCLOSE(tape.jacobian(s, x), tape.gradient(s, {x})[0].dense(), 1e-15, 0);
  const Tensor a = s64(0.7);
  tape.watch(a);
  const Tensor ya = f64({{1.0, 2.0}, {3.0, 4.0}}) * a * a;
  CHECK(tape.jacobian(ya, a).shape() == Shape{2, 2});
  CHECK_ALLCLOSE(tape.jacobian(ya, a), f64({{1.4, 2.8}, {4.2, 5.6}}), 1e-15, 0);
  // (2, 2) target, (2, 1) source.
  const Tensor m = col64({0.3, -0.4});
  tape.watch(m);
  const auto g = [](const Tensor& v) { return tanh(matmul(v, f64({{1.0, 2.0}}))); };
  const Tensor ym = g(m);
  CHECK(tape.jacobian(ym, m).shape() == Shape{2, 2, 2, 1});
  CHECK_ALLCLOSE(tape.jacobian(ym, m), numeric_jacobian(g, m), 1e-7, 1e-8);
  // Unconnected: none, or zeros of the full shape.
  const Tensor other = f64({1.0, 2.0});
  CHECK_FALSE(tape.jacobian(y, other));
  const Tensor z = tape.jacobian(y, other, UnconnectedGradients::ZERO);
  CHECK(z.shape() == Shape{3, 3, 2});
  CHECK_ALLCLOSE(z, zeros({3, 3, 2}, DType::float64), 0, 0);
}

TEST_CASE("tape: jacobian with respect to a variable") {
  Variable w(f64({1.0, 2.0}), "w");
  GradientTape tape;
  const Tensor y = w * w * f64({{1.0, 1.0}, {2.0, 2.0}, {3.0, 3.0}});  // (3, 2)
  const Tensor j = tape.jacobian(y, w);
  REQUIRE(j.shape() == Shape{3, 2, 2});
  // d y[i, k] / d w[l] = c_i · 2 w_k · δ_kl
  CHECK_ALLCLOSE(j, f64({{{2.0, 0.0}, {0.0, 4.0}}, {{4.0, 0.0}, {0.0, 8.0}}, {{6.0, 0.0}, {0.0, 12.0}}}),
                 0, 0);
}

TEST_CASE("tape: zip pairs gradients with variables; sizes must match") {
  Variable a(f64({1.0}), "a");
  Variable b(f64({2.0}), "b");
  GradientTape tape;
  const auto grads = tape.gradient(reduce_sum(a * b), {a, b});
  const auto pairs = zip(grads, {a, b});
  REQUIRE(pairs.size() == 2);
  CHECK(pairs[0].second.id() == a.id());
  CHECK(pairs[1].second.id() == b.id());
  CHECK_ALLCLOSE(pairs[0].first.dense(), f64({2.0}), 0, 0);
  CHECK_ALLCLOSE(pairs[1].first.dense(), f64({1.0}), 0, 0);
  CHECK_THROWS_WITH_TEXT(zip(grads, {a}), ValueError, "zip: 2 gradients for 1 variables");
}

TEST_CASE("tape: tapes are thread-local") {
  const Tensor x = f64({1.0, 2.0});
  GradientTape tape;
  tape.watch(x);
  Tensor from_thread;
  std::thread worker([&] { from_thread = reduce_sum(x * x); });
  worker.join();
  const Tensor here = reduce_sum(x * 3.0);
  const auto g = tape.gradient(from_thread + here, {x});
  CHECK_ALLCLOSE(g[0].dense(), f64({3.0, 3.0}), 0, 0);
}

TEST_CASE("tape: no tape, no recording: ops still compute and nothing is kept alive") {
  const Tensor x = f64({1.0, 2.0});
  const Tensor y = x * x;
  CHECK_ALLCLOSE(y, f64({1.0, 4.0}), 0, 0);
  // The input's storage is shared only by the handles the test holds (no closure captured it).
  CHECK(x.storage().use_count() == 1);
  GradientTape tape;
  tape.watch(x);
  const Tensor z = x * x;
  CHECK(x.storage().use_count() > 1);  // multiply's closure keeps x for the backward pass
}

// ---- higher order -------------------------------------------------------------------------------

TEST_CASE("higher order: second derivatives of x³, tanh, sigmoid, exp against closed forms") {
  const Tensor x = rand64({5}, -2.0, 2.0);
  const auto second = [&x](const std::function<Tensor(const Tensor&)>& f) {
    GradientTape outer;
    outer.watch(x);
    Tensor first;
    {
      GradientTape inner;
      inner.watch(x);
      first = inner.gradient(reduce_sum(f(x)), {x})[0].dense();
    }
    return outer.gradient(reduce_sum(first), {x})[0].dense();
  };
  const Tensor t = tanh(x);
  const Tensor s = sigmoid(x);
  CHECK_ALLCLOSE(second([](const Tensor& v) { return v * v * v; }), x * 6.0, 1e-14, 1e-14);
  CHECK_ALLCLOSE(second([](const Tensor& v) { return pow(v, 3.0); }), x * 6.0, 1e-14, 1e-14);
  CHECK_ALLCLOSE(second([](const Tensor& v) { return tanh(v); }), -2.0 * t * (1.0 - t * t), 1e-14, 1e-14);
  CHECK_ALLCLOSE(second([](const Tensor& v) { return sigmoid(v); }), s * (1.0 - s) * (1.0 - 2.0 * s),
                 1e-14, 1e-14);
  CHECK_ALLCLOSE(second([](const Tensor& v) { return exp(v); }), exp(x), 1e-14, 0);
}

TEST_CASE("higher order: third derivative through three nested tapes") {
  const Tensor x = f64({0.5, -1.5, 2.0});
  GradientTape t3;
  t3.watch(x);
  GradientTape t2;
  t2.watch(x);
  GradientTape t1;
  t1.watch(x);
  const Tensor y = reduce_sum(pow(x, 4.0) + exp(x) * 2.0);
  const Tensor d1 = t1.gradient(y, {x})[0].dense();
  CHECK_ALLCLOSE(d1, pow(x, 3.0) * 4.0 + exp(x) * 2.0, 1e-14, 0);
  const Tensor d2 = t2.gradient(reduce_sum(d1), {x})[0].dense();
  CHECK_ALLCLOSE(d2, square(x) * 12.0 + exp(x) * 2.0, 1e-14, 0);
  const Tensor d3 = t3.gradient(reduce_sum(d2), {x})[0].dense();
  CHECK_ALLCLOSE(d3, x * 24.0 + exp(x) * 2.0, 1e-14, 1e-14);
}

TEST_CASE("higher order: Hessian of xᵀAx through matmul is A + Aᵀ (outer.jacobian of the gradient)") {
  const Tensor a = rand64({3, 3});
  const Tensor x = rand64({3, 1});
  GradientTape outer;
  outer.watch(x);
  Tensor grad;
  {
    GradientTape inner;
    inner.watch(x);
    const Tensor q = matmul(matmul(x, a, true, false), x);  // (1, 1) = xᵀ A x
    grad = inner.gradient(q, {x})[0].dense();
  }
  CHECK_ALLCLOSE(grad, matmul(a + transpose(a), x), 1e-14, 1e-14);
  const Tensor h = outer.jacobian(grad, x);
  REQUIRE(h.shape() == Shape{3, 1, 3, 1});
  CHECK_ALLCLOSE(reshape(h, {3, 3}), a + transpose(a), 1e-14, 1e-14);
}

TEST_CASE("higher order: Hessian-vector products, by a second gradient and by a seeded one") {
  // f(x) = ½ xᵀ A x + Σ e^{x_i}:  H = (A + Aᵀ)/2 + diag(e^x),  Hv in closed form.
  const Tensor a = rand64({4, 4});
  const Tensor x = rand64({4, 1});
  const Tensor v = rand64({4, 1});
  const Tensor hv = matmul((a + transpose(a)) * 0.5, v) + exp(x) * v;
  const auto f = [&a](const Tensor& t) {
    return reduce_sum(matmul(matmul(t, a, true, false), t)) * 0.5 + reduce_sum(exp(t));
  };
  {
    GradientTape outer;
    outer.watch(x);
    Tensor g;
    {
      GradientTape inner;
      inner.watch(x);
      g = inner.gradient(f(x), {x})[0].dense();
    }
    CHECK_ALLCLOSE(outer.gradient(reduce_sum(g * v), {x})[0].dense(), hv, 1e-13, 1e-14);
  }
  {
    GradientTape outer;
    outer.watch(x);
    Tensor g;
    {
      GradientTape inner;
      inner.watch(x);
      g = inner.gradient(f(x), {x})[0].dense();
    }
    CHECK_ALLCLOSE(outer.gradient(g, {x}, v)[0].dense(), hv, 1e-13, 1e-14);
  }
  // Through a Variable, the way an optimizer would see it.
  Variable w(x, "w");
  GradientTape outer;
  Tensor g;
  {
    GradientTape inner;
    g = inner.gradient(f(w), {w})[0].dense();
  }
  CHECK_ALLCLOSE(outer.gradient(reduce_sum(g * v), {w})[0].dense(), hv, 1e-13, 1e-14);
}

TEST_CASE("higher order: an inner gradient through gather densifies differentiably") {
  // y = Σ_i table[idx_i]³ with idx = (1, 1, 0): d²y/dtable² is diagonal, 6·count·table.
  const Tensor table = f64({0.5, -1.0, 2.0});
  GradientTape outer;
  outer.watch(table);
  Tensor g;
  {
    GradientTape inner;
    inner.watch(table);
    const Gradient sparse = inner.gradient(reduce_sum(pow(gather(table, Tensor{1, 1, 0}), 3.0)), {table})[0];
    CHECK(sparse.is_sparse());
    g = sparse.dense();
  }
  CHECK_ALLCLOSE(g, f64({3 * 0.25, 2 * 3 * 1.0, 0.0}), 1e-15, 0);
  CHECK_ALLCLOSE(outer.gradient(reduce_sum(g), {table})[0].dense(), f64({6 * 0.5, 2 * 6 * -1.0, 0.0}),
                 1e-15, 0);
}

TEST_CASE("tape: an op with more than 64 inputs routes gradients past the needs mask") {
  std::vector<Tensor> parts;
  for (int i = 0; i < 70; ++i) parts.push_back(f64({static_cast<double>(i)}));
  const Tensor weights = range(0, 70, 1, DType::float64) + 1.0;
  {
    // Only inputs past 63 are watched: the op must still be recorded.
    GradientTape tape;
    tape.watch(parts[68]);
    const Tensor y = reduce_sum(concat(parts, 0) * weights);
    const auto g = tape.gradient(y, {parts[68], parts[69], parts[2]});
    CHECK_ALLCLOSE(g[0].dense(), f64({69.0}), 0, 0);
    CHECK_FALSE(g[1]);
    CHECK_FALSE(g[2]);
  }
  {
    GradientTape tape;
    tape.watch(parts[3]);
    tape.watch(parts[65]);
    const Tensor y = reduce_sum(concat(parts, 0) * weights);
    const auto g = tape.gradient(y, {parts[3], parts[65], parts[66]});
    CHECK_ALLCLOSE(g[0].dense(), f64({4.0}), 0, 0);
    CHECK_ALLCLOSE(g[1].dense(), f64({66.0}), 0, 0);
    CHECK_FALSE(g[2]);
  }
}
