#include "../support.hpp"

#include <cstdint>

using namespace tapeflow;

TEST_CASE("a double scalar is float32, as in Keras") {
  Tensor t = 2.5;
  CHECK(t.dtype() == DType::float32);
  CHECK(t.rank() == 0);
  CHECK(t.shape().empty());
  CHECK(t.size() == 1);
  CHECK(t.item<double>() == 2.5);
}

TEST_CASE("scalar constructors pick TensorFlow's dtypes") {
  CHECK(Tensor(1.0f).dtype() == DType::float32);
  CHECK(Tensor(3).dtype() == DType::int32);
  CHECK(Tensor(std::int64_t{3}).dtype() == DType::int64);
  CHECK(Tensor(3LL).dtype() == DType::int64);
  CHECK(Tensor(std::int64_t{10}).item<int>() == 10);
}

TEST_CASE("nested lists give shape and dtype") {
  Tensor a = {{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}};
  CHECK(a.shape() == Shape{2, 3});
  CHECK(a.dtype() == DType::float32);
  CHECK(a.numpy<double>()(1, 2) == 6.0);
  Tensor b = {1, 2, 3};
  CHECK(b.dtype() == DType::int32);
  CHECK(b.numpy<double>()(2) == 3.0);
  Tensor c = {{{1.0, 2.0}, {3.0, 4.0}}};
  CHECK(c.shape() == Shape{1, 2, 2});
  Tensor mixed = {1, 2.5};  // a mixed list is a float list
  CHECK(mixed.dtype() == DType::float32);
  Tensor wide = {std::int64_t{1}, std::int64_t{2}};
  CHECK(wide.dtype() == DType::int64);
  Tensor one{2.0};  // braces: a vector of one, as std::vector
  CHECK(one.shape() == Shape{1});
}

TEST_CASE("lists of one-element rows are columns, not flat vectors") {
  const Tensor col = {{1.0}, {-2.0}, {0.5}, {3.0}};
  CHECK(col.shape() == Shape{4, 1});
  CHECK(col.dtype() == DType::float32);
  CHECK(col.numpy<float>()(3, 0) == 3.0f);
  const Tensor icol = {{1}, {2}};
  CHECK(icol.shape() == Shape{2, 1});
  CHECK(icol.dtype() == DType::int32);
  const Tensor deep = {{{1.0}, {2.0}}};
  CHECK(deep.shape() == Shape{1, 2, 1});
  // Flat lists are unchanged: a vector of one, mixed numbers give float32, integers int32.
  CHECK(Tensor{2.0}.shape() == Shape{1});
  CHECK(Tensor({1, 2.5}).dtype() == DType::float32);
  CHECK(Tensor{2, 0}.dtype() == DType::int32);
}

TEST_CASE("a ragged list is a ValueError") {
  CHECK_THROWS_WITH_TEXT((Tensor{{1.0, 2.0}, {3.0}}), ValueError, "non-rectangular");
}

TEST_CASE("xtensor expressions keep their value_type") {
  xt::xarray<double> x = {{1.0, 2.0}, {3.0, 4.0}};
  Tensor t = x;
  CHECK(t.dtype() == DType::float64);
  CHECK(t.shape() == Shape{2, 2});
  Tensor lazy = x * 2.0;  // an unevaluated expression is evaluated once
  CHECK(lazy.numpy<double>()(1, 1) == 8.0);
  Tensor ints = xt::xarray<std::int32_t>{4, 5};
  CHECK(ints.dtype() == DType::int32);
  Tensor flags = xt::xarray<bool>{true, false};
  CHECK(flags.dtype() == DType::boolean);
}

TEST_CASE("numpy<T> and item<T> convert like astype") {
  Tensor t = {1.75, -2.5};
  xt::xarray<int> as_int = t.numpy<int>();
  CHECK(as_int(0) == 1);
  CHECK(as_int(1) == -2);
  xt::xarray<double> as_double = t.numpy<double>();
  CHECK(as_double(1) == -2.5);
  CHECK_THROWS_WITH_TEXT(t.item<float>(), ValueError, "exactly one element");
}

TEST_CASE("tensors are immutable values with shared storage") {
  Tensor a = {1.0, 2.0};
  Tensor b = a;
  CHECK(b.id() == a.id());
  CHECK(b.raw_data() == a.raw_data());
  Tensor c = a + 1.0;
  CHECK(c.raw_data() != a.raw_data());
  CHECK(a.numpy<double>()(0) == 1.0);
}

TEST_CASE("a default Tensor is none") {
  Tensor none;
  CHECK_FALSE(static_cast<bool>(none));
  CHECK_THROWS_AS(none.shape(), ValueError);
  std::ostringstream os;
  os << none;
  CHECK(os.str() == "None");
}

TEST_CASE("data<T> checks the element type") {
  Tensor t = {1.0, 2.0};
  CHECK(t.data<float>()[1] == 2.0f);
  CHECK_THROWS_WITH_TEXT(t.data<double>(), TypeError, "float64");
}

TEST_CASE("dtype names round-trip") {
  for (DType d : {DType::float32, DType::float64, DType::int32, DType::int64, DType::boolean}) {
    CHECK(dtype_from_name(dtype_name(d)) == d);
  }
  CHECK(dtype_size(DType::float64) == 8);
  CHECK_THROWS_WITH_TEXT(dtype_from_name("float16"), ValueError, "float16");
}

TEST_CASE("shape_str prints Python tuples") {
  CHECK(shape_str({}) == "()");
  CHECK(shape_str({3}) == "(3,)");
  CHECK(shape_str({2, 3}) == "(2, 3)");
}

TEST_CASE("factories") {
  CHECK(zeros({2, 3}).numpy<double>() == xt::zeros<double>({2, 3}));
  CHECK(ones({2}, DType::int64).dtype() == DType::int64);
  CHECK(fill({2}, 7.0, DType::float64).numpy<double>()(1) == 7.0);
  CHECK(fill({2, 2}, Tensor(3)).dtype() == DType::int32);
  CHECK(zeros_like(Tensor{{1.0, 2.0}}).shape() == Shape{1, 2});
  CHECK(ones_like(Tensor(3)).item<int>() == 1);
  CHECK(range(0, 5).size() == 5);
  CHECK(range(1, 2, 0.25, DType::float64).numpy<double>()(3) == 1.75);
  CHECK_THROWS_AS(range(0, 1, 0), ValueError);
  CHECK_THROWS_WITH_TEXT(fill({2}, Tensor{1.0, 2.0}), ValueError, "scalar");
}
