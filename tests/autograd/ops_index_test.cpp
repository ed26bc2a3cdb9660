// Indexing: gather (IndexedSlices gradient, duplicates kept), unsorted_segment_sum, one_hot.

#include "op_support.hpp"

using namespace tapeflow;
using tapeflow::testing::arr;
using tapeflow::testing::f64;
using tapeflow::testing::Fn;
using tapeflow::testing::rand64;
using tapeflow::testing::s64;

TEST_CASE("gather: rows of params by index, any index shape, int32 or int64") {
  const Tensor p = f64({{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}, {7.0, 8.0}});
  CHECK_ALLCLOSE(gather(p, Tensor{2, 0, 2}), f64({{5.0, 6.0}, {1.0, 2.0}, {5.0, 6.0}}), 0, 0);
  CHECK_ALLCLOSE(gather(p, Tensor{std::int64_t{3}, std::int64_t{1}}), f64({{7.0, 8.0}, {3.0, 4.0}}),
                 0, 0);
  const Tensor g2 = gather(p, Tensor{{0, 1}, {3, 3}});
  CHECK(g2.shape() == Shape{2, 2, 2});
  CHECK_ALLCLOSE(g2, f64({{{1.0, 2.0}, {3.0, 4.0}}, {{7.0, 8.0}, {7.0, 8.0}}}), 0, 0);
  CHECK_ALLCLOSE(gather(p, Tensor(std::int32_t{1})), f64({3.0, 4.0}), 0, 0);
  CHECK(gather(p, Tensor::empty(DType::int32, {0})).shape() == Shape{0, 2});
  CHECK_ALLCLOSE(gather(f64({10.0, 20.0, 30.0}), Tensor{2, 2, 0}), f64({30.0, 30.0, 10.0}), 0, 0);
  CHECK(gather(Tensor{5, 6, 7}, Tensor{2, 0}).numpy<std::int32_t>() == arr<std::int32_t>({7, 5}));
}

TEST_CASE("gather: an out-of-range index is a ValueError naming the position and the value") {
  const Tensor p = rand64({4, 2});
  CHECK_THROWS_WITH_TEXT(gather(p, Tensor{0, 5, 1}), ValueError, "gather: indices[1] = 5 is not in [0, 4)");
  CHECK_THROWS_WITH_TEXT(gather(p, Tensor{0, 1, -1}), ValueError, "indices[2] = -1");
  CHECK_THROWS_WITH_TEXT(gather(p, Tensor{4}), ValueError, "indices[0] = 4 is not in [0, 4)");
  CHECK_THROWS_WITH_TEXT(gather(p, f64({1.0})), TypeError,
                         "gather: indices must be int32 or int64. Received: dtype=float64");
  CHECK_THROWS_WITH_TEXT(gather(s64(1.0), Tensor{0}), ValueError, "gather: params must have rank >= 1");
}

TEST_CASE("gather: the params gradient is an IndexedSlices with duplicates kept") {
  const Tensor p = f64({{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}, {7.0, 8.0}});
  const Tensor idx = Tensor{2, 0, 2};
  GradientTape tape;
  tape.watch(p);
  const Tensor y = gather(p, idx) * f64({{1.0, 10.0}, {2.0, 20.0}, {3.0, 30.0}});
  const Gradient g = tape.gradient(reduce_sum(y), {p})[0];
  REQUIRE(g.is_sparse());
  const IndexedSlices& s = g.indexed_slices();
  CHECK(s.dense_shape == Shape{4, 2});
  CHECK(s.indices.numpy<std::int64_t>() == arr<std::int64_t>({2, 0, 2}));
  CHECK_ALLCLOSE(s.values, f64({{1.0, 10.0}, {2.0, 20.0}, {3.0, 30.0}}), 0, 0);
  // Densified, the duplicate rows add up.
  CHECK_ALLCLOSE(s.to_dense(), f64({{2.0, 20.0}, {0.0, 0.0}, {4.0, 40.0}, {0.0, 0.0}}), 0, 0);
  CHECK_ALLCLOSE(g.dense(), s.to_dense(), 0, 0);
  CHECK(g.shape() == Shape{4, 2});
  CHECK(g.dtype() == DType::float64);
}

TEST_CASE("gradcheck: gather with repeated indices (dense check through to_dense)") {
  const Fn f = [](const std::vector<Tensor>& v) { return gather(v[0], Tensor{3, 1, 3, 0, 3}); };
  GRADCHECK_ROW("gather rows, repeated", f, rand64({4, 3}));
  GRADCHECK_ROW("gather vector, repeated",
                [](const std::vector<Tensor>& v) { return gather(v[0], Tensor{1, 1, 2}); },
                rand64({3}));
  GRADCHECK_ROW("gather rank-2 indices",
                [](const std::vector<Tensor>& v) { return gather(v[0], Tensor{{0, 2}, {2, 2}}); },
                rand64({3, 2, 2}));
  // A gather feeding more ops: the sparse gradient densifies on the way to an op's input.
  GRADCHECK_ROW("gather of an op output",
                [](const std::vector<Tensor>& v) { return tanh(gather(v[0] * 2.0, Tensor{0, 0, 1})); },
                rand64({2, 3}));
  GRADCHECK_ROW("two gathers of one params",
                [](const std::vector<Tensor>& v) {
                  return gather(v[0], Tensor{0, 1}) * gather(v[0], Tensor{1, 1});
                },
                rand64({2, 3}));
}

TEST_CASE("unsorted_segment_sum: rows summed into segments") {
  const Tensor data = f64({{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}, {7.0, 8.0}});
  CHECK_ALLCLOSE(unsorted_segment_sum(data, Tensor{0, 2, 0, 1}, 3),
                 f64({{6.0, 8.0}, {7.0, 8.0}, {3.0, 4.0}}), 0, 0);
  CHECK_ALLCLOSE(unsorted_segment_sum(data, Tensor{1, 1, 1, 1}, 3),
                 f64({{0.0, 0.0}, {16.0, 20.0}, {0.0, 0.0}}), 0, 0);
  CHECK_ALLCLOSE(unsorted_segment_sum(f64({1.0, 2.0, 3.0}), Tensor{1, 0, 1}, 2), f64({2.0, 4.0}), 0, 0);
  // Rank-2 indices: a prefix of the data shape.
  CHECK_ALLCLOSE(unsorted_segment_sum(f64({{1.0, 2.0}, {3.0, 4.0}}), Tensor{{0, 1}, {1, 1}}, 2),
                 f64({1.0, 9.0}), 0, 0);
  CHECK_THROWS_WITH_TEXT(unsorted_segment_sum(data, Tensor{0, 3, 0, 1}, 3), ValueError,
                         "unsorted_segment_sum: indices[1] = 3 is not in [0, 3)");
  CHECK_THROWS_WITH_TEXT(unsorted_segment_sum(data, Tensor{0, 1}, 3), ValueError,
                         "unsorted_segment_sum: indices shape (2,) must be a prefix of data shape (4, 2)");
}

TEST_CASE("gradcheck: unsorted_segment_sum") {
  GRADCHECK_ROW("unsorted_segment_sum rows",
                [](const std::vector<Tensor>& v) {
                  return unsorted_segment_sum(v[0], Tensor{2, 0, 2, 1, 2}, 4);
                },
                rand64({5, 3}));
  GRADCHECK_ROW("unsorted_segment_sum rank-2 indices",
                [](const std::vector<Tensor>& v) {
                  return unsorted_segment_sum(v[0], Tensor{{0, 1}, {1, 0}}, 2);
                },
                rand64({2, 2, 3}));
}

TEST_CASE("one_hot: rows of the identity, out-of-range rows all zero, no gradient") {
  const Tensor h = one_hot(Tensor{0, 2, 3, -1}, 3);
  CHECK(h.dtype() == DType::float32);
  CHECK_ALLCLOSE(h, (Tensor{{1.0, 0.0, 0.0}, {0.0, 0.0, 1.0}, {0.0, 0.0, 0.0}, {0.0, 0.0, 0.0}}), 0, 0);
  const Tensor h2 = one_hot(reshape(Tensor{1, 0}, {2, 1}), 2, DType::float64);
  CHECK(h2.shape() == Shape{2, 1, 2});
  CHECK_ALLCLOSE(h2, f64({{{0.0, 1.0}}, {{1.0, 0.0}}}), 0, 0);
  CHECK_THROWS_WITH_TEXT(one_hot(f64({1.0}), 2), TypeError, "one_hot: indices must be int32 or int64");
}

TEST_CASE("gather: params with zero-size rows still give an IndexedSlices gradient") {
  const Tensor p = zeros({3, 0}, DType::float64);
  GradientTape tape;
  tape.watch(p);
  const Tensor y = gather(p, Tensor{0, 2});
  CHECK(y.shape() == Shape{2, 0});
  const Gradient g = tape.gradient(y, {p})[0];
  REQUIRE(g.is_sparse());
  CHECK(g.indexed_slices().values.shape() == Shape{2, 0});
  CHECK(g.dense().shape() == Shape{3, 0});
}
