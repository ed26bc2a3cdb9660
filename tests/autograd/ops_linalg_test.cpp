// matmul: forward against a hand computation and a naive triple loop, all four transpose flag
// combinations, batched matmul with broadcast batch dimensions, gradcheck rows, bad input.

#include "op_support.hpp"

using namespace tapeflow;
using tapeflow::testing::arr;
using tapeflow::testing::f64;
using tapeflow::testing::Fn;
using tapeflow::testing::rand64;

namespace {

/// C = A B for rank-2 float64 tensors, by the textbook triple loop.
Tensor naive_matmul(const Tensor& a, const Tensor& b) {
  const xt::xarray<double> x = a.numpy<double>(), y = b.numpy<double>();
  const std::size_t m = x.shape()[0], k = x.shape()[1], n = y.shape()[1];
  xt::xarray<double> c = xt::zeros<double>({m, n});
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      for (std::size_t p = 0; p < k; ++p) c(i, j) += x(i, p) * y(p, j);
    }
  }
  return Tensor(c);
}

/// The matrix at batch position `i` of a rank-3 tensor.
Tensor batch_item(const Tensor& t, std::size_t i) {
  const Shape& s = t.shape();
  return reshape(slice_axis(t, 0, i, 1), {static_cast<std::int64_t>(s[1]), static_cast<std::int64_t>(s[2])});
}

}  // namespace

TEST_CASE("matmul: forward against a hand computation and the naive loop") {
  const Tensor a = f64({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  const Tensor b = f64({{7.0, 8.0}, {9.0, 10.0}, {11.0, 12.0}});
  CHECK_ALLCLOSE(matmul(a, b), f64({{58.0, 64.0}, {139.0, 154.0}}), 0, 0);
  const Tensor x = rand64({4, 5}), y = rand64({5, 3});
  CHECK_ALLCLOSE(matmul(x, y), naive_matmul(x, y), 1e-14, 1e-14);
  // float32 goes through sgemm.
  CHECK_ALLCLOSE(matmul(cast(a, DType::float32), cast(b, DType::float32)),
                 (Tensor{{58.0, 64.0}, {139.0, 154.0}}), 0, 0);
  // Integers: a plain loop, same result.
  CHECK(matmul(Tensor{{1, 2}, {3, 4}}, Tensor{{5, 6}, {7, 8}}).numpy<std::int32_t>() ==
        arr<std::int32_t>({{19, 22}, {43, 50}}));
  // Inner dimension 0: zeros.
  CHECK_ALLCLOSE(matmul(zeros({2, 0}, DType::float64), zeros({0, 3}, DType::float64)),
                 zeros({2, 3}, DType::float64), 0, 0);
}

TEST_CASE("matmul: the four transpose flag combinations") {
  const Tensor a = rand64({3, 4}), b = rand64({4, 2});
  const Tensor at = transpose(a), bt = transpose(b);
  const Tensor expected = naive_matmul(a, b);
  CHECK_ALLCLOSE(matmul(a, b, false, false), expected, 1e-14, 1e-14);
  CHECK_ALLCLOSE(matmul(at, b, true, false), expected, 1e-14, 1e-14);
  CHECK_ALLCLOSE(matmul(a, bt, false, true), expected, 1e-14, 1e-14);
  CHECK_ALLCLOSE(matmul(at, bt, true, true), expected, 1e-14, 1e-14);
  // The same in integers (no BLAS).
  const Tensor i = Tensor{{1, 2, 3}, {4, 5, 6}};
  const Tensor it = transpose(i);
  CHECK(matmul(i, it).numpy<std::int32_t>() == arr<std::int32_t>({{14, 32}, {32, 77}}));
  CHECK(matmul(it, it, true, false).numpy<std::int32_t>() == arr<std::int32_t>({{14, 32}, {32, 77}}));
  CHECK(matmul(i, i, false, true).numpy<std::int32_t>() == arr<std::int32_t>({{14, 32}, {32, 77}}));
  CHECK(matmul(it, i, true, true).numpy<std::int32_t>() == arr<std::int32_t>({{14, 32}, {32, 77}}));
}

TEST_CASE("matmul: batched, with broadcast batch dimensions") {
  // Same batch: each pair multiplies.
  const Tensor a = rand64({3, 2, 4}), b = rand64({3, 4, 5});
  const Tensor c = matmul(a, b);
  CHECK(c.shape() == Shape{3, 2, 5});
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK_ALLCLOSE(batch_item(c, i), naive_matmul(batch_item(a, i), batch_item(b, i)), 1e-14, 1e-14);
  }
  // A rank-2 operand broadcasts over the other's batch.
  const Tensor w = rand64({4, 3});
  const Tensor d = matmul(a, w);
  CHECK(d.shape() == Shape{3, 2, 3});
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK_ALLCLOSE(batch_item(d, i), naive_matmul(batch_item(a, i), w), 1e-14, 1e-14);
  }
  // (2, 1, 2, 3) @ (3, 3, 2) -> (2, 3, 2, 2): out[i, j] = a[i, 0] @ b[j].
  const Tensor p = rand64({2, 1, 2, 3}), q = rand64({3, 3, 2});
  const Tensor r = matmul(p, q);
  REQUIRE(r.shape() == Shape{2, 3, 2, 2});
  for (std::size_t i = 0; i < 2; ++i) {
    const Tensor pi = reshape(slice_axis(p, 0, i, 1), {2, 3});
    for (std::size_t j = 0; j < 3; ++j) {
      const Tensor rij = reshape(slice_axis(slice_axis(r, 0, i, 1), 1, j, 1), {2, 2});
      CHECK_ALLCLOSE(rij, naive_matmul(pi, batch_item(q, j)), 1e-14, 1e-14);
    }
  }
  // Transposes inside a batch.
  const Tensor e = matmul(transpose(a, {0, 2, 1}), b, true, false);
  CHECK_ALLCLOSE(e, c, 1e-14, 1e-14);
}

TEST_CASE("gradcheck: matmul, all four transpose flag combinations") {
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      INFO("transpose_a=" << ta << " transpose_b=" << tb);
      const Fn f = [ta, tb](const std::vector<Tensor>& v) { return matmul(v[0], v[1], ta, tb); };
      const Tensor a = ta ? rand64({4, 3}) : rand64({3, 4});
      const Tensor b = tb ? rand64({2, 4}) : rand64({4, 2});
      GRADCHECK_ROW("matmul 2-D", f, a, b);
      const Tensor ba = ta ? rand64({2, 4, 3}) : rand64({2, 3, 4});
      const Tensor bb = tb ? rand64({2, 2, 4}) : rand64({2, 4, 2});
      GRADCHECK_ROW("matmul batched", f, ba, bb);
    }
  }
}

TEST_CASE("gradcheck: matmul with broadcast batch dimensions") {
  const Fn f = [](const std::vector<Tensor>& v) { return matmul(v[0], v[1]); };
  GRADCHECK_ROW("(2,1,2,3) @ (3,3,2)", f, rand64({2, 1, 2, 3}), rand64({3, 3, 2}));
  GRADCHECK_ROW("(2,2,3) @ (3,2)", f, rand64({2, 2, 3}), rand64({3, 2}));
  GRADCHECK_ROW("(2,3) @ (2,3,2)", f, rand64({2, 3}), rand64({2, 3, 2}));
  GRADCHECK_ROW("(1,2,3) @ (2,3,1)", f, rand64({1, 2, 3}), rand64({2, 3, 1}));
  const Fn ft = [](const std::vector<Tensor>& v) { return matmul(v[0], v[1], true, true); };
  GRADCHECK_ROW("(2,1,3,2)^T @ (3,2,3)^T", ft, rand64({2, 1, 3, 2}), rand64({3, 2, 3}));
  // x used on both sides: x @ xᵀ.
  GRADCHECK_ROW("x @ x^T", [](const std::vector<Tensor>& v) { return matmul(v[0], v[0], false, true); },
                rand64({3, 2}));
}

TEST_CASE("matmul: closed-form gradients d/da = g bᵀ, d/db = aᵀ g in float32") {
  const Tensor a = Tensor{{1.0, 2.0}, {3.0, 4.0}};
  const Tensor b = Tensor{{5.0, 6.0}, {7.0, 8.0}};
  GradientTape tape;
  tape.watch(a);
  tape.watch(b);
  const auto g = tape.gradient(matmul(a, b), {a, b});
  // g = ones: d/da[i, p] = Σ_j b[p, j]; d/db[p, j] = Σ_i a[i, p].
  CHECK(g[0].dtype() == DType::float32);
  CHECK_ALLCLOSE(g[0].dense(), (Tensor{{11.0, 15.0}, {11.0, 15.0}}), 0, 0);
  CHECK_ALLCLOSE(g[1].dense(), (Tensor{{4.0, 4.0}, {6.0, 6.0}}), 0, 0);
}

TEST_CASE("matmul: bad input names the op and the shapes") {
  CHECK_THROWS_WITH_TEXT(matmul(rand64({2, 3}), rand64({4, 2})), ValueError,
                         "matmul: inner dimensions must agree. Received: shapes (2, 3) and (4, 2)");
  CHECK_THROWS_WITH_TEXT(matmul(rand64({2, 3}), rand64({2, 3}), false, false), ValueError, "3 != 2");
  CHECK_THROWS_WITH_TEXT(matmul(rand64({2, 3}), rand64({2, 3}), true, true), ValueError,
                         "transpose_a=true, transpose_b=true");
  CHECK_THROWS_WITH_TEXT(matmul(rand64({3}), rand64({3, 2})), ValueError,
                         "matmul: both inputs must have rank >= 2. Received: shapes (3,) and (3, 2)");
  CHECK_THROWS_WITH_TEXT(matmul(rand64({2, 2, 3}), rand64({3, 3, 2})), ValueError,
                         "matmul: incompatible shapes for broadcasting: (2,) and (3,)");
  CHECK_THROWS_WITH_TEXT(matmul(rand64({2, 2}), Tensor({{1.0, 2.0}, {3.0, 4.0}})), TypeError,
                         "matmul");
  CHECK_THROWS_WITH_TEXT(matmul(cast(Tensor({{1, 2}}), DType::boolean), cast(reshape(Tensor{1, 2}, {2, 1}), DType::boolean)),
                         TypeError, "matmul: bool");
}
