// The fused nn ops: forward values against hand computations, gradchecks of the fused backward
// (no outer tape) and of the op-built backward (nested tapes), stability and error paths.
#include <cmath>
#include <limits>

#include "../support.hpp"

#include <tapeflow/nn/nn.hpp>

using namespace tapeflow;

namespace {

Tensor f64(const xt::xarray<double>& values) { return Tensor(values); }
Tensor rand64(const Shape& shape, double lo = -1.0, double hi = 1.0) {
  return random::uniform(shape, lo, hi, DType::float64);
}
/// Rows that sum to 1 (softmax of random values), float64.
Tensor distribution64(const Shape& shape) { return softmax(rand64(shape, -2.0, 2.0), -1); }

/// Runs `f` with an unrelated outer tape recording, so backward closures take their op-built
/// path instead of the fused kernel.
template <class F>
auto with_outer_tape(F&& f) {
  GradientTape outer(true);
  return f();
}

double lse(std::initializer_list<double> xs) {
  double m = -std::numeric_limits<double>::infinity();
  for (double x : xs) m = std::max(m, x);
  double s = 0;
  for (double x : xs) s += std::exp(x - m);
  return m + std::log(s);
}

}  // namespace

TEST_CASE("softmax_cross_entropy_with_logits: forward against the formula") {
  const Tensor labels = f64({{0.0, 1.0, 0.0}, {0.2, 0.3, 0.5}});
  const Tensor logits = f64({{1.0, 2.0, 3.0}, {-1.0, 0.5, 4.0}});
  const Tensor loss = softmax_cross_entropy_with_logits(labels, logits);
  const double l0 = lse({1.0, 2.0, 3.0}) - 2.0;
  const double z1 = lse({-1.0, 0.5, 4.0});
  const double l1 = 0.2 * (z1 + 1.0) + 0.3 * (z1 - 0.5) + 0.5 * (z1 - 4.0);
  CHECK(loss.shape() == Shape{2});
  CHECK_ALLCLOSE(loss, f64({l0, l1}), 1e-12, 1e-12);

  // axis 0: the same numbers on the transposed problem.
  const Tensor by_columns = softmax_cross_entropy_with_logits(transpose(labels), transpose(logits), 0);
  CHECK_ALLCLOSE(by_columns, f64({l0, l1}), 1e-12, 1e-12);
  // float32 keeps its dtype.
  CHECK(softmax_cross_entropy_with_logits(cast(labels, DType::float32), cast(logits, DType::float32))
            .dtype() == DType::float32);
}

TEST_CASE("softmax_cross_entropy_with_logits: gradients") {
  const Tensor labels = distribution64({3, 4});
  const Tensor logits = rand64({3, 4}, -2.0, 2.0);
  const auto f = [](const std::vector<Tensor>& in) {
    return softmax_cross_entropy_with_logits(in[0], in[1]);
  };
  CHECK_GRADCHECK(gradcheck(f, {labels, logits}));
  // Labels that do not sum to one: the exact gradient softmax·Σy - y.
  CHECK_GRADCHECK(gradcheck(f, {rand64({2, 5}, 0.0, 2.0), rand64({2, 5})}));
  // A middle axis of a rank-3 tensor.
  CHECK_GRADCHECK(gradcheck(
      [](const std::vector<Tensor>& in) { return softmax_cross_entropy_with_logits(in[0], in[1], 1); },
      {rand64({2, 3, 2}, 0.0, 1.0), rand64({2, 3, 2})}));

  // The labels' gradient is -log_softmax·g, and the fused and op-built paths agree.
  const Variable y(labels, "y");
  const Variable x(logits, "x");
  const Tensor weights = f64({1.0, -2.0, 0.5});
  auto grads_of = [&] {
    GradientTape tape;
    const Tensor loss = reduce_sum(softmax_cross_entropy_with_logits(y, x) * weights);
    return tape.gradient(loss, {y, x});
  };
  const auto fused = grads_of();
  const auto composed = with_outer_tape(grads_of);
  const Tensor w = expand_dims(weights, -1);
  CHECK_ALLCLOSE(fused[0].dense(), -log_softmax(logits) * w, 1e-12, 1e-12);
  CHECK_ALLCLOSE(fused[1].dense(), (softmax(logits) - labels) * w, 1e-12, 1e-12);
  CHECK_ALLCLOSE(composed[0].dense(), fused[0].dense(), 1e-12, 1e-12);
  CHECK_ALLCLOSE(composed[1].dense(), fused[1].dense(), 1e-12, 1e-12);
}

TEST_CASE("softmax_cross_entropy_with_logits: second derivatives through nested tapes") {
  const auto grad_of_logits = [](const std::vector<Tensor>& in) {
    GradientTape inner;
    inner.watch(in[1]);
    const Tensor loss = reduce_sum(softmax_cross_entropy_with_logits(in[0], in[1]));
    return inner.gradient(loss, {in[1]})[0].dense();
  };
  CHECK_GRADCHECK(gradcheck(grad_of_logits, {distribution64({2, 3}), rand64({2, 3})}));
}

TEST_CASE("softmax_cross_entropy_with_logits: huge logits stay finite") {
  const Tensor logits = Tensor{{1e4f, -1e4f, 0.0f}, {-3e38f, 3e38f, 1.0f}};
  const Tensor labels = Tensor{{0.0f, 1.0f, 0.0f}, {0.0f, 1.0f, 0.0f}};
  const Tensor loss = softmax_cross_entropy_with_logits(labels, logits);
  CHECK_ALLCLOSE(loss, (Tensor{2e4f, 0.0f}), 1e-6, 1e-6);
  Variable x(logits, "x");
  GradientTape tape;
  const auto g = tape.gradient(reduce_sum(softmax_cross_entropy_with_logits(labels, x)), {x});
  CHECK_ALLCLOSE(g[0].dense(), (Tensor{{1.0f, -1.0f, 0.0f}, {0.0f, 0.0f, 0.0f}}), 1e-6, 1e-6);
}

TEST_CASE("softmax_cross_entropy_with_logits: errors") {
  const Tensor a = f64({{0.0, 1.0}});
  CHECK_THROWS_WITH_TEXT(softmax_cross_entropy_with_logits(f64({0.0, 1.0}), a), ValueError,
                         "softmax_cross_entropy_with_logits: labels and logits must have the same shape");
  CHECK_THROWS_WITH_TEXT(softmax_cross_entropy_with_logits(cast(a, DType::float32), a), TypeError,
                         "same dtype");
  CHECK_THROWS_WITH_TEXT(softmax_cross_entropy_with_logits(Tensor{{0, 1}}, Tensor{{0, 1}}),
                         TypeError, "float32 or float64");
  CHECK_THROWS_WITH_TEXT(softmax_cross_entropy_with_logits(a, a, 2), ValueError, "out of bounds");
}

TEST_CASE("sparse_softmax_cross_entropy_with_logits: forward, gradient, errors") {
  const Tensor logits = f64({{1.0, 2.0, 3.0}, {-1.0, 0.5, 4.0}});
  const Tensor labels = Tensor{2, 0};
  const Tensor loss = sparse_softmax_cross_entropy_with_logits(labels, logits);
  CHECK_ALLCLOSE(loss, f64({lse({1.0, 2.0, 3.0}) - 3.0, lse({-1.0, 0.5, 4.0}) + 1.0}), 1e-12, 1e-12);
  // Same as the dense op on one-hot labels.
  CHECK_ALLCLOSE(loss, softmax_cross_entropy_with_logits(one_hot(labels, 3, DType::float64), logits),
                 1e-12, 1e-12);

  const Tensor ids = Tensor{{1, 0}, {3, 3}};  // rank-2 labels against rank-3 logits
  const auto f = [ids](const std::vector<Tensor>& in) {
    return sparse_softmax_cross_entropy_with_logits(ids, in[0]);
  };
  CHECK_GRADCHECK(gradcheck(f, {rand64({2, 2, 4}, -2.0, 2.0)}));
  CHECK_GRADCHECK(gradcheck(
      [ids](const std::vector<Tensor>& in) {
        GradientTape inner;
        inner.watch(in[0]);
        const Tensor l = reduce_sum(sparse_softmax_cross_entropy_with_logits(ids, in[0]));
        return inner.gradient(l, {in[0]})[0].dense();
      },
      {rand64({2, 2, 4})}));

  const Variable x(logits, "x");
  auto grad = [&] {
    GradientTape tape;
    return tape.gradient(reduce_sum(sparse_softmax_cross_entropy_with_logits(labels, x)), {x})[0]
        .dense();
  };
  const Tensor expected = softmax(logits) - one_hot(labels, 3, DType::float64);
  CHECK_ALLCLOSE(grad(), expected, 1e-12, 1e-12);
  CHECK_ALLCLOSE(with_outer_tape(grad), expected, 1e-12, 1e-12);

  CHECK_THROWS_WITH_TEXT(sparse_softmax_cross_entropy_with_logits(Tensor{2, 3}, logits), ValueError,
                         "received a label value of 3 at index 1, which is outside the valid "
                         "range of [0, 3)");
  CHECK_THROWS_WITH_TEXT(sparse_softmax_cross_entropy_with_logits(Tensor{-1, 0}, logits),
                         ValueError, "label value of -1");
  CHECK_THROWS_WITH_TEXT(sparse_softmax_cross_entropy_with_logits(f64({1.0, 0.0}), logits),
                         TypeError, "labels must be int32 or int64");
  CHECK_THROWS_WITH_TEXT(sparse_softmax_cross_entropy_with_logits(Tensor{1, 0, 0}, logits),
                         ValueError, "labels must have the shape of logits without its last axis");
}

TEST_CASE("sigmoid_cross_entropy_with_logits: forward, stability, gradients") {
  const Tensor z = f64({0.0, 1.0, 0.3, 1.0});
  const Tensor x = f64({-2.0, 3.0, 0.0, -0.5});
  // The textbook form -(z·log σ(x) + (1-z)·log(1-σ(x))), fine at these moderate logits.
  xt::xarray<double> expected = xt::xarray<double>::from_shape({4});
  const double zs[] = {0.0, 1.0, 0.3, 1.0}, xs[] = {-2.0, 3.0, 0.0, -0.5};
  for (std::size_t i = 0; i < 4; ++i) {
    const double s = 1.0 / (1.0 + std::exp(-xs[i]));
    expected(i) = -(zs[i] * std::log(s) + (1 - zs[i]) * std::log(1 - s));
  }
  CHECK_ALLCLOSE(sigmoid_cross_entropy_with_logits(z, x), f64(expected), 1e-12, 1e-12);

  // |x| = 1e30 would overflow e^x in the naive form.
  const Tensor big = sigmoid_cross_entropy_with_logits(Tensor{1.0f, 0.0f, 1.0f},
                                                       Tensor{1e30f, 1e30f, -100.0f});
  CHECK_ALLCLOSE(big, (Tensor{0.0f, 1e30f, 100.0f}), 1e-6, 1e-6);

  const auto f = [](const std::vector<Tensor>& in) {
    return sigmoid_cross_entropy_with_logits(in[0], in[1]);
  };
  CHECK_GRADCHECK(gradcheck(f, {rand64({2, 3}, 0.0, 1.0), rand64({2, 3}, -3.0, 3.0)}));
  CHECK_GRADCHECK(gradcheck(
      [](const std::vector<Tensor>& in) {
        GradientTape inner;
        inner.watch(in[1]);
        const Tensor l = reduce_sum(sigmoid_cross_entropy_with_logits(in[0], in[1]));
        return inner.gradient(l, {in[1]})[0].dense();
      },
      {rand64({3}, 0.0, 1.0), rand64({3})}));

  const Variable xv(x, "x");
  auto grad = [&] {
    GradientTape tape;
    return tape.gradient(reduce_sum(sigmoid_cross_entropy_with_logits(z, xv)), {xv})[0].dense();
  };
  CHECK_ALLCLOSE(grad(), sigmoid(x) - z, 1e-12, 1e-12);
  CHECK_ALLCLOSE(with_outer_tape(grad), sigmoid(x) - z, 1e-12, 1e-12);
  CHECK_THROWS_WITH_TEXT(sigmoid_cross_entropy_with_logits(f64({1.0}), x), ValueError,
                         "labels and logits must have the same shape");
}

TEST_CASE("bias_add: forward, fused backward, errors") {
  const Tensor x = f64({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  const Tensor b = f64({0.5, -1.0, 2.0});
  CHECK_ALLCLOSE(bias_add(x, b), f64({{1.5, 1.0, 5.0}, {4.5, 4.0, 8.0}}), 0, 0);
  CHECK_ALLCLOSE(bias_add(Tensor{{1, 2}}, Tensor{10, 20}), (Tensor{{11, 22}}), 0, 0);

  const auto f = [](const std::vector<Tensor>& in) { return bias_add(in[0], in[1]); };
  CHECK_GRADCHECK(gradcheck(f, {rand64({2, 3, 4}), rand64({4})}));
  const Variable bv(b, "b");
  const Tensor g = f64({{1.0, 2.0, 3.0}, {10.0, 20.0, 30.0}});
  auto grad = [&] {
    GradientTape tape;
    return tape.gradient(reduce_sum(bias_add(x, bv) * g), {bv})[0].dense();
  };
  CHECK_ALLCLOSE(grad(), f64({11.0, 22.0, 33.0}), 0, 0);
  CHECK_ALLCLOSE(with_outer_tape(grad), f64({11.0, 22.0, 33.0}), 0, 0);

  CHECK_THROWS_WITH_TEXT(bias_add(f64({1.0, 2.0}), f64({1.0, 2.0})), ValueError,
                         "bias_add: value must have rank >= 2");
  CHECK_THROWS_WITH_TEXT(bias_add(x, f64({1.0, 2.0})), ValueError,
                         "bias must be a vector of the size of value's last dimension (3)");
  CHECK_THROWS_WITH_TEXT(bias_add(x, Tensor{1.0f, 2.0f, 3.0f}), TypeError, "bias_add");
}

TEST_CASE("bias_add_relu: relu(bias_add) in one pass, gradients to first and second order") {
  const Tensor x = f64({{1.0, -2.0, 3.0}, {-4.0, 5.0, 0.25}});
  const Tensor b = f64({0.5, -1.0, -0.5});
  CHECK_ALLCLOSE(bias_add_relu(x, b), relu(bias_add(x, b)), 0, 0);
  CHECK_ALLCLOSE(bias_add_relu(Tensor{{1, -2}}, Tensor{-3, 1}), (Tensor{{0, 0}}), 0, 0);

  // Away from the kink (value + bias = 0), finite differences apply.
  const auto f = [](const std::vector<Tensor>& in) { return bias_add_relu(in[0], in[1]); };
  const Tensor away = f64({{{0.7, -0.9, 1.3, -0.4}, {0.5, 0.8, -1.2, 0.6}},
                           {{-0.6, 1.1, 0.9, -0.8}, {1.4, -0.5, 0.4, 0.9}}});
  CHECK_GRADCHECK(gradcheck(f, {away, f64({0.05, -0.1, 0.02, 0.1})}));

  const Variable bv(b, "b");
  const Tensor g = f64({{1.0, 2.0, 3.0}, {10.0, 20.0, 30.0}});
  auto grads = [&] {
    GradientTape tape;
    tape.watch(x);
    const auto both = tape.gradient(reduce_sum(bias_add_relu(x, bv) * g), {x, bv});
    return concat({reshape(both[0].dense(), {-1}), both[1].dense()}, 0);
  };
  // mask of x + b > 0: {{1, 0, 1}, {0, 1, 0}}
  const Tensor expected = f64({1.0, 0.0, 3.0, 0.0, 20.0, 0.0, 1.0, 20.0, 3.0});
  CHECK_ALLCLOSE(grads(), expected, 0, 0);
  CHECK_ALLCLOSE(with_outer_tape(grads), expected, 0, 0);

  // Second order: d/dx of Σ (d/dx Σ bias_add_relu(x, b)²) is 2 on the mask.
  const Tensor xs = f64({{1.0, -2.0}, {3.0, -4.0}});
  const Tensor bs = f64({0.5, 0.5});
  GradientTape outer;
  outer.watch(xs);
  Tensor inner_grad;
  {
    GradientTape inner;
    inner.watch(xs);
    const Tensor y = bias_add_relu(xs, bs);
    inner_grad = inner.gradient(reduce_sum(y * y), {xs})[0].dense();
  }
  const Tensor second = outer.gradient(reduce_sum(inner_grad), {xs})[0].dense();
  CHECK_ALLCLOSE(second, f64({{2.0, 0.0}, {2.0, 0.0}}), 0, 0);

  CHECK_THROWS_WITH_TEXT(bias_add_relu(f64({1.0, 2.0}), f64({1.0, 2.0})), ValueError,
                         "bias_add_relu: value must have rank >= 2");
  CHECK_THROWS_WITH_TEXT(bias_add_relu(x, f64({1.0})), ValueError, "Received: bias shape=(1,)");
  CHECK_THROWS_WITH_TEXT(bias_add_relu(x, Tensor{1.0f, 2.0f, 3.0f}), TypeError, "bias_add_relu");
}
