// Factories: zeros, ones, fill, zeros_like, ones_like, range, scalar_like. Only fill(shape, value)
// is differentiable (in value, as TensorFlow's FillGrad); the others are constants.

#include "op_support.hpp"

using namespace tapeflow;
using tapeflow::testing::arr;
using tapeflow::testing::f64;
using tapeflow::testing::rand64;
using tapeflow::testing::s64;

TEST_CASE("factories: shapes, dtypes and values") {
  CHECK(zeros({2, 3}).dtype() == DType::float32);
  CHECK_ALLCLOSE(zeros({2, 3}), (Tensor{{0.0, 0.0, 0.0}, {0.0, 0.0, 0.0}}), 0, 0);
  CHECK_ALLCLOSE(ones({2}, DType::float64), f64({1.0, 1.0}), 0, 0);
  CHECK(ones({2}, DType::int64).numpy<std::int64_t>() == arr<std::int64_t>({1, 1}));
  CHECK(zeros({}).shape() == Shape{});
  CHECK(zeros({0, 4}).size() == 0);
  CHECK_ALLCLOSE(fill({2}, 2.5, DType::float64), f64({2.5, 2.5}), 0, 0);
  CHECK(fill({3}, 7, DType::int32).numpy<std::int32_t>() == arr<std::int32_t>({7, 7, 7}));
  CHECK_ALLCLOSE(fill({2, 1}, s64(-1.5)), reshape(f64({-1.5, -1.5}), {2, 1}), 0, 0);
  CHECK(fill({2}, Tensor{3}).numpy<std::int32_t>() == arr<std::int32_t>({3, 3}));
  CHECK_THROWS_WITH_TEXT(fill({2}, f64({1.0, 2.0})), ValueError, "fill: value must be a scalar. Received: shape=(2,)");
  const Tensor x = f64({{1.0, 2.0}});
  CHECK(zeros_like(x).shape() == Shape{1, 2});
  CHECK(zeros_like(x).dtype() == DType::float64);
  CHECK_ALLCLOSE(ones_like(x), f64({{1.0, 1.0}}), 0, 0);
  CHECK(ones_like(Tensor{1, 2}).dtype() == DType::int32);
  CHECK_ALLCLOSE(scalar_like(x, 0.25), s64(0.25), 0, 0);
  CHECK(scalar_like(Tensor{1}, 2.0).dtype() == DType::int32);
  CHECK_ALLCLOSE(range(0, 5), (Tensor{0.0, 1.0, 2.0, 3.0, 4.0}), 0, 0);
  CHECK_ALLCLOSE(range(1, 2, 0.25, DType::float64), f64({1.0, 1.25, 1.5, 1.75}), 0, 0);
  CHECK_ALLCLOSE(range(3, 0, -1, DType::float64), f64({3.0, 2.0, 1.0}), 0, 0);
  CHECK(range(3, 0).size() == 0);
  CHECK(range(0, 3, 1, DType::int64).numpy<std::int64_t>() == arr<std::int64_t>({0, 1, 2}));
  CHECK_THROWS_WITH_TEXT(range(0, 1, 0), ValueError, "range: delta must not be 0");
}

TEST_CASE("factories: fill is differentiable in its value; the *_like factories are constants") {
  const Tensor v = s64(0.5);
  const Tensor x = f64({1.0, 2.0, 3.0});
  GradientTape tape(true);
  tape.watch(v);
  tape.watch(x);
  // d/dv Σ w·fill(shape, v) = Σ w
  const Tensor filled = fill({2, 3}, v);
  CHECK_ALLCLOSE(tape.gradient(reduce_sum(filled * x), {v})[0].dense(), s64(12.0), 0, 0);
  CHECK_FALSE(tape.gradient(reduce_sum(zeros_like(x) + ones_like(x)), {x})[0]);
  GRADCHECK_ROW("fill", [](const std::vector<Tensor>& in) { return fill({2, 2}, in[0]) * in[0]; },
                rand64({}));
  GRADCHECK_ROW("fill from a one-element vector",
                [](const std::vector<Tensor>& in) { return fill({3}, in[0]); }, rand64({1}));
}
