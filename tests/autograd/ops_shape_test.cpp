// Shape ops: reshape, transpose, concat, broadcast_to, slice_axis, expand_dims, squeeze.
// Forward values by hand, gradcheck rows (concat and slice along every axis), bad input.

#include "op_support.hpp"

using namespace tapeflow;
using tapeflow::testing::col64;
using tapeflow::testing::f64;
using tapeflow::testing::Fn;
using tapeflow::testing::rand64;
using tapeflow::testing::s64;

TEST_CASE("reshape: values kept row-major, one inferred dimension") {
  const Tensor x = f64({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  CHECK_ALLCLOSE(reshape(x, {3, 2}), f64({{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}}), 0, 0);
  CHECK_ALLCLOSE(reshape(x, {-1}), f64({1.0, 2.0, 3.0, 4.0, 5.0, 6.0}), 0, 0);
  CHECK(reshape(x, {3, -1}).shape() == Shape{3, 2});
  CHECK(reshape(x, {1, -1, 1}).shape() == Shape{1, 6, 1});
  CHECK(reshape(f64({5.0}), {}).shape() == Shape{});
  CHECK(reshape(zeros({0, 3}), {-1, 3}).shape() == Shape{0, 3});
}

TEST_CASE("reshape: a size change is a ValueError naming both shapes; nothing is produced") {
  const Tensor x = rand64({2, 3});
  CHECK_THROWS_WITH_TEXT(reshape(x, {4, 2}), ValueError,
                         "reshape: cannot reshape a tensor with 6 elements to shape (4, 2) (8 elements)");
  CHECK_THROWS_WITH_TEXT(reshape(x, {4, 2}), ValueError, "(2, 3)");
  CHECK_THROWS_WITH_TEXT(reshape(x, {4, -1}), ValueError, "6 elements");
  CHECK_THROWS_WITH_TEXT(reshape(x, {-1, -1}), ValueError, "only one dimension can be -1");
  CHECK_THROWS_WITH_TEXT(reshape(x, {-2, -3}), ValueError, "dimensions must be >= -1");
  CHECK(x.shape() == Shape{2, 3});
}

TEST_CASE("transpose: default reverses the axes; a perm permutes them") {
  const Tensor x = f64({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  CHECK_ALLCLOSE(transpose(x), f64({{1.0, 4.0}, {2.0, 5.0}, {3.0, 6.0}}), 0, 0);
  CHECK_ALLCLOSE(transpose(x, {0, 1}), x, 0, 0);
  const Tensor cube = f64({{{1.0, 2.0}, {3.0, 4.0}}, {{5.0, 6.0}, {7.0, 8.0}}});
  // out[i, j, k] = cube[j, i, k]
  CHECK_ALLCLOSE(transpose(cube, {1, 0, 2}),
                 f64({{{1.0, 2.0}, {5.0, 6.0}}, {{3.0, 4.0}, {7.0, 8.0}}}), 0, 0);
  // out[i, j, k] = cube[k, i, j]  (perm = (2, 0, 1) puts axis 2 first)
  const Tensor t = transpose(cube, {2, 0, 1});
  CHECK_ALLCLOSE(t, f64({{{1.0, 3.0}, {5.0, 7.0}}, {{2.0, 4.0}, {6.0, 8.0}}}), 0, 0);
  CHECK_ALLCLOSE(transpose(s64(3.0)), s64(3.0), 0, 0);
  CHECK_THROWS_WITH_TEXT(transpose(x, {0}), ValueError, "transpose: perm has 1 entries for a tensor of rank 2");
  CHECK_THROWS_WITH_TEXT(transpose(x, {0, 0}), ValueError, "perm must be a permutation of 0..1. Received: (0, 0)");
  CHECK_THROWS_WITH_TEXT(transpose(x, {0, 2}), ValueError, "transpose");
}

TEST_CASE("concat: forward along each axis, including negative axes") {
  const Tensor a = f64({{1.0, 2.0}, {3.0, 4.0}});
  const Tensor b = f64({{5.0, 6.0}});
  const Tensor c = col64({7.0, 8.0});
  CHECK_ALLCLOSE(concat({a, b}, 0), f64({{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}}), 0, 0);
  CHECK_ALLCLOSE(concat({a, c}, 1), f64({{1.0, 2.0, 7.0}, {3.0, 4.0, 8.0}}), 0, 0);
  CHECK_ALLCLOSE(concat({c, a, c}, -1), f64({{7.0, 1.0, 2.0, 7.0}, {8.0, 3.0, 4.0, 8.0}}), 0, 0);
  CHECK_ALLCLOSE(concat({a}, 0), a, 0, 0);
  CHECK_ALLCLOSE(concat({f64({1.0}), zeros({0}, DType::float64), f64({2.0, 3.0})}, 0),
                 f64({1.0, 2.0, 3.0}), 0, 0);
  const Tensor cube = f64({{{1.0, 2.0}, {3.0, 4.0}}, {{5.0, 6.0}, {7.0, 8.0}}});
  CHECK(concat({cube, cube}, 0).shape() == Shape{4, 2, 2});
  CHECK_ALLCLOSE(concat({cube, cube * 10.0}, 1),
                 f64({{{1.0, 2.0}, {3.0, 4.0}, {10.0, 20.0}, {30.0, 40.0}},
                      {{5.0, 6.0}, {7.0, 8.0}, {50.0, 60.0}, {70.0, 80.0}}}),
                 0, 0);
  CHECK_ALLCLOSE(concat({cube, cube * 10.0}, 2),
                 f64({{{1.0, 2.0, 10.0, 20.0}, {3.0, 4.0, 30.0, 40.0}},
                      {{5.0, 6.0, 50.0, 60.0}, {7.0, 8.0, 70.0, 80.0}}}),
                 0, 0);
  CHECK(concat({Tensor{1, 2}, Tensor{3}}, 0).numpy<std::int32_t>() ==
        tapeflow::testing::arr<std::int32_t>({1, 2, 3}));
}

TEST_CASE("concat: mismatched shapes, dtypes and axes are errors naming what was received") {
  const Tensor a = rand64({2, 3});
  CHECK_THROWS_WITH_TEXT(concat({a, rand64({2, 4})}, 0), ValueError,
                         "concat: shapes must match except along axis 0. Received: (2, 3) (input 0) and (2, 4) (input 1)");
  CHECK_THROWS_WITH_TEXT(concat({a, a, rand64({3})}, 1), ValueError, "(3,) (input 2)");
  CHECK_THROWS_WITH_TEXT(concat({a, Tensor{{1.0, 2.0, 3.0}}}, 0), TypeError, "concat");
  CHECK_THROWS_WITH_TEXT(concat({a, a}, 2), ValueError, "concat: axis 2 is out of bounds for a tensor of rank 2");
  CHECK_THROWS_WITH_TEXT(concat({}, 0), ValueError, "concat: expected at least one tensor");
  CHECK_THROWS_WITH_TEXT(concat({s64(1.0), s64(2.0)}, 0), ValueError, "concat");
}

TEST_CASE("broadcast_to, slice_axis, expand_dims, squeeze: forward values") {
  CHECK_ALLCLOSE(broadcast_to(f64({1.0, 2.0}), {2, 2}), f64({{1.0, 2.0}, {1.0, 2.0}}), 0, 0);
  CHECK_ALLCLOSE(broadcast_to(col64({1.0, 2.0}), {2, 3}),
                 f64({{1.0, 1.0, 1.0}, {2.0, 2.0, 2.0}}), 0, 0);
  CHECK_ALLCLOSE(broadcast_to(s64(4.0), {2}), f64({4.0, 4.0}), 0, 0);
  CHECK_THROWS_WITH_TEXT(broadcast_to(f64({1.0, 2.0}), {3}), ValueError, "broadcast_to");
  CHECK_THROWS_WITH_TEXT(broadcast_to(f64({{1.0, 2.0}}), {2}), ValueError,
                         "broadcast_to: cannot broadcast shape (1, 2) to (2,)");

  const Tensor x = f64({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  CHECK_ALLCLOSE(slice_axis(x, 1, 1, 2), f64({{2.0, 3.0}, {5.0, 6.0}}), 0, 0);
  CHECK_ALLCLOSE(slice_axis(x, 0, 1, 1), f64({{4.0, 5.0, 6.0}}), 0, 0);
  CHECK_ALLCLOSE(slice_axis(x, -1, 0, 1), col64({1.0, 4.0}), 0, 0);
  CHECK(slice_axis(x, 1, 3, 0).shape() == Shape{2, 0});
  CHECK_THROWS_WITH_TEXT(slice_axis(x, 1, 2, 2), ValueError,
                         "slice_axis: [2, 4) is out of range for axis 1 of shape (2, 3)");
  CHECK_THROWS_WITH_TEXT(slice_axis(x, 2, 0, 1), ValueError, "slice_axis: axis 2");

  CHECK(expand_dims(x, 0).shape() == Shape{1, 2, 3});
  CHECK(expand_dims(x, 1).shape() == Shape{2, 1, 3});
  CHECK(expand_dims(x, 2).shape() == Shape{2, 3, 1});
  CHECK(expand_dims(x, -1).shape() == Shape{2, 3, 1});
  CHECK(expand_dims(x, -3).shape() == Shape{1, 2, 3});
  CHECK_ALLCLOSE(reshape(expand_dims(x, 1), {2, 3}), x, 0, 0);
  CHECK_THROWS_WITH_TEXT(expand_dims(x, 3), ValueError, "expand_dims: axis 3 is out of range for a tensor of rank 2");
  CHECK_THROWS_WITH_TEXT(expand_dims(x, -4), ValueError, "expand_dims");

  const Tensor y = zeros({1, 3, 1, 2});
  CHECK(squeeze(y).shape() == Shape{3, 2});
  CHECK(squeeze(y, {0}).shape() == Shape{3, 1, 2});
  CHECK(squeeze(y, {-2}).shape() == Shape{1, 3, 2});
  CHECK(squeeze(y, {0, 2}).shape() == Shape{3, 2});
  CHECK_ALLCLOSE(squeeze(col64({1.0, 2.0})), f64({1.0, 2.0}), 0, 0);
  CHECK_THROWS_WITH_TEXT(squeeze(y, {1}), ValueError, "squeeze: cannot squeeze axis 1 of size 3 (shape (1, 3, 1, 2))");
  CHECK_THROWS_WITH_TEXT(squeeze(y, {4}), ValueError, "squeeze: axis 4");
}

TEST_CASE("gradcheck: reshape, transpose, expand_dims, squeeze") {
  GRADCHECK_ROW("reshape (2,3)->(3,2)",
                [](const std::vector<Tensor>& v) { return reshape(v[0], {3, 2}); }, rand64({2, 3}));
  GRADCHECK_ROW("reshape (2,3)->(-1)",
                [](const std::vector<Tensor>& v) { return reshape(v[0], {-1}); }, rand64({2, 3}));
  GRADCHECK_ROW("transpose default",
                [](const std::vector<Tensor>& v) { return transpose(v[0]); }, rand64({2, 3}));
  GRADCHECK_ROW("transpose (2,0,1)",
                [](const std::vector<Tensor>& v) { return transpose(v[0], {2, 0, 1}); },
                rand64({2, 3, 4}));
  GRADCHECK_ROW("transpose (1,0,2) times a weight",
                [](const std::vector<Tensor>& v) {
                  return transpose(v[0], {1, 0, 2}) * tapeflow::testing::f64({1.0, -2.0});
                },
                rand64({3, 2, 2}));
  GRADCHECK_ROW("expand_dims 1",
                [](const std::vector<Tensor>& v) { return expand_dims(v[0], 1); }, rand64({2, 3}));
  GRADCHECK_ROW("expand_dims -1",
                [](const std::vector<Tensor>& v) { return expand_dims(v[0], -1); }, rand64({2, 3}));
  GRADCHECK_ROW("squeeze all",
                [](const std::vector<Tensor>& v) { return squeeze(v[0]); }, rand64({1, 3, 1}));
  GRADCHECK_ROW("squeeze listed",
                [](const std::vector<Tensor>& v) { return squeeze(v[0], {-1}); }, rand64({1, 3, 1}));
}

TEST_CASE("gradcheck: concat along each axis, three inputs of different extents") {
  const Fn f0 = [](const std::vector<Tensor>& v) { return concat(v, 0); };
  const Fn f1 = [](const std::vector<Tensor>& v) { return concat(v, 1); };
  const Fn f2 = [](const std::vector<Tensor>& v) { return concat(v, 2); };
  const Fn fm1 = [](const std::vector<Tensor>& v) { return concat(v, -1); };
  GRADCHECK_ROW("concat axis 0", f0, rand64({1, 2, 3}), rand64({2, 2, 3}), rand64({1, 2, 3}));
  GRADCHECK_ROW("concat axis 1", f1, rand64({2, 1, 3}), rand64({2, 3, 3}), rand64({2, 2, 3}));
  GRADCHECK_ROW("concat axis 2", f2, rand64({2, 2, 2}), rand64({2, 2, 1}), rand64({2, 2, 3}));
  GRADCHECK_ROW("concat axis -1", fm1, rand64({2, 2}), rand64({2, 3}));
  // The same tensor twice: its two gradient slices add up.
  GRADCHECK_ROW("concat x with itself",
                [](const std::vector<Tensor>& v) { return concat({v[0], v[0] * 2.0}, 0); },
                rand64({2, 2}));
}

TEST_CASE("gradcheck: broadcast_to and slice_axis") {
  GRADCHECK_ROW("broadcast_to (3,)->(2,3)",
                [](const std::vector<Tensor>& v) { return broadcast_to(v[0], {2, 3}); }, rand64({3}));
  GRADCHECK_ROW("broadcast_to (3,1)->(2,3,4)",
                [](const std::vector<Tensor>& v) { return broadcast_to(v[0], {2, 3, 4}); },
                rand64({3, 1}));
  GRADCHECK_ROW("broadcast_to ()->(2,2)",
                [](const std::vector<Tensor>& v) { return broadcast_to(v[0], {2, 2}); }, rand64({}));
  for (int axis : {0, 1, 2, -1}) {
    INFO("axis " << axis);
    GRADCHECK_ROW("slice_axis",
                  [axis](const std::vector<Tensor>& v) { return slice_axis(v[0], axis, 1, 2); },
                  rand64({3, 4, 3}));
  }
  GRADCHECK_ROW("slice_axis empty slice",
                [](const std::vector<Tensor>& v) { return concat({slice_axis(v[0], 0, 2, 0), v[0]}, 0); },
                rand64({2, 2}));
}
