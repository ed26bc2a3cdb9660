// IndexedSlices (to_dense sums duplicates, differentiable in values, validates what users build),
// Gradient (none / dense / sparse views, printing) and zip.

#include <sstream>

#include "op_support.hpp"

using namespace tapeflow;
using tapeflow::testing::arr;
using tapeflow::testing::f64;
using tapeflow::testing::rand64;

namespace {

template <class T>
std::string str(const T& value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

}  // namespace

TEST_CASE("IndexedSlices::to_dense sums duplicate rows, in any index order") {
  const IndexedSlices s{f64({{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}}), Tensor{2, 0, 2}, {4, 2}};
  CHECK_ALLCLOSE(s.to_dense(), f64({{3.0, 4.0}, {0.0, 0.0}, {6.0, 8.0}, {0.0, 0.0}}), 0, 0);
  const IndexedSlices wide{f64({1.0, 2.0, 4.0}), Tensor{std::int64_t{1}, std::int64_t{1}, std::int64_t{0}},
                           {3}};
  CHECK_ALLCLOSE(wide.to_dense(), f64({4.0, 3.0, 0.0}), 0, 0);
  const IndexedSlices empty{zeros({0, 2}, DType::float64), Tensor::empty(DType::int32, {0}), {3, 2}};
  CHECK_ALLCLOSE(empty.to_dense(), zeros({3, 2}, DType::float64), 0, 0);
  // Rank-3 dense shape: whole (2, 2) blocks per index.
  const IndexedSlices blocks{f64({{{1.0, 2.0}, {3.0, 4.0}}}), Tensor{1}, {2, 2, 2}};
  CHECK_ALLCLOSE(blocks.to_dense(), f64({{{0.0, 0.0}, {0.0, 0.0}}, {{1.0, 2.0}, {3.0, 4.0}}}), 0, 0);
}

TEST_CASE("IndexedSlices::to_dense is differentiable in the values") {
  const tapeflow::testing::Fn f = [](const std::vector<Tensor>& v) {
    return IndexedSlices{v[0], Tensor{1, 3, 1}, {4, 2}}.to_dense();
  };
  GRADCHECK_ROW("to_dense", f, rand64({3, 2}));
}

TEST_CASE("IndexedSlices::to_dense rejects slices that do not fit their dense_shape") {
  const Tensor values = f64({{1.0, 2.0}, {3.0, 4.0}});
  CHECK_THROWS_WITH_TEXT((IndexedSlices{values, Tensor{0, 1}, {}}.to_dense()), ValueError,
                         "IndexedSlices.to_dense: dense_shape is empty");
  CHECK_THROWS_WITH_TEXT((IndexedSlices{values, Tensor{0, 4}, {3, 2}}.to_dense()), ValueError,
                         "IndexedSlices.to_dense: indices[1] = 4 is not in [0, 3)");
  CHECK_THROWS_WITH_TEXT((IndexedSlices{values, Tensor{0, 1}, {3, 5}}.to_dense()), ValueError,
                         "IndexedSlices.to_dense: values of shape (2, 2) do not fit dense_shape (3, 5)");
  CHECK_THROWS_WITH_TEXT((IndexedSlices{values, Tensor{0, 1, 2}, {3, 2}}.to_dense()), ValueError,
                         "IndexedSlices.to_dense: 3 indices for 2 rows of values");
  CHECK_THROWS_WITH_TEXT((IndexedSlices{values, Tensor{{0, 1}}, {3, 2}}.to_dense()), ValueError,
                         "IndexedSlices.to_dense: indices must be a vector. Received: shape=(1, 2)");
  CHECK_THROWS_WITH_TEXT((IndexedSlices{values, f64({0.0, 1.0}), {3, 2}}.to_dense()), TypeError,
                         "IndexedSlices.to_dense: indices must be int32 or int64");
  CHECK_THROWS_WITH_TEXT((IndexedSlices{Tensor(), Tensor{0}, {3, 2}}.to_dense()), ValueError,
                         "IndexedSlices.to_dense: values is none");
}

TEST_CASE("Gradient: none, dense or sparse") {
  const Gradient none;
  CHECK_FALSE(none);
  CHECK_FALSE(none.is_sparse());
  CHECK_FALSE(none.dense());
  CHECK_THROWS_WITH_TEXT(none.indexed_slices(), ValueError,
                         "Gradient.indexed_slices: the gradient is none, not an IndexedSlices");
  CHECK_THROWS_WITH_TEXT(none.shape(), ValueError, "Gradient.shape: the gradient is none");
  CHECK_THROWS_WITH_TEXT(none.dtype(), ValueError, "Gradient.dtype: the gradient is none");

  const Gradient dense(f64({1.0, 2.0}));
  CHECK(dense);
  CHECK_FALSE(dense.is_sparse());
  CHECK(dense.shape() == Shape{2});
  CHECK(dense.dtype() == DType::float64);
  CHECK_THROWS_WITH_TEXT(dense.indexed_slices(), ValueError, "the gradient is dense");
  const Tensor as_tensor = dense;  // converts where a Tensor is needed
  CHECK_ALLCLOSE(as_tensor, f64({1.0, 2.0}), 0, 0);

  const Gradient sparse(IndexedSlices{Tensor{{1.0, 2.0}}, Tensor{1}, {3, 2}});
  CHECK(sparse);
  CHECK(sparse.is_sparse());
  CHECK(sparse.shape() == Shape{3, 2});
  CHECK(sparse.dtype() == DType::float32);
  CHECK(sparse.indexed_slices().indices.numpy<std::int32_t>() == arr<std::int32_t>({1}));
  CHECK_ALLCLOSE(sparse.dense(), (Tensor{{0.0, 0.0}, {1.0, 2.0}, {0.0, 0.0}}), 0, 0);
  CHECK_ALLCLOSE(Tensor(sparse), sparse.dense(), 0, 0);
}

TEST_CASE("Gradient: printing") {
  CHECK(str(Gradient()) == "None");
  CHECK(str(Gradient(Tensor{1.0, 2.0})) == "tapeflow.Tensor([1. 2.], shape=(2,), dtype=float32)");
  CHECK(str(Gradient(IndexedSlices{Tensor{{1.0, 2.0}}, Tensor{1}, {3, 2}})) ==
        "IndexedSlices(indices=tapeflow.Tensor([1], shape=(1,), dtype=int32), "
        "values=tapeflow.Tensor([[1. 2.]], shape=(1, 2), dtype=float32), dense_shape=(3, 2))");
  CHECK(fmt::format("{}", Gradient()) == "None");
}

TEST_CASE("zip: pairs gradients with variables in order; sizes must match") {
  const Variable a(Tensor{1.0}, "a"), b(Tensor{2.0}, "b");
  const std::vector<Gradient> grads{Gradient(Tensor{0.1}), Gradient()};
  const auto pairs = zip(grads, {a, b});
  REQUIRE(pairs.size() == 2);
  CHECK(pairs[0].second.name() == "a:0");
  CHECK(pairs[1].second.name() == "b:0");
  CHECK(pairs[0].first);
  CHECK_FALSE(pairs[1].first);
  CHECK(zip({}, {}).empty());
  CHECK_THROWS_WITH_TEXT(zip(grads, {a, b, a}), ValueError, "zip: 2 gradients for 3 variables");
  CHECK_THROWS_WITH_TEXT(zip({Gradient()}, {}), ValueError, "zip: 1 gradients for 0 variables");
}
