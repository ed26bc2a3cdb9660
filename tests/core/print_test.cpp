// Printing follows numpy's str/repr inside TensorFlow's repr.
#include "../support.hpp"

using namespace tapeflow;

namespace {
template <class T>
std::string str(const T& value) {
  std::ostringstream os;
  os << value;
  return os.str();
}
}  // namespace

TEST_CASE("vectors and scalars") {
  CHECK(str(Tensor{1.0, 2.0}) == "tapeflow.Tensor([1. 2.], shape=(2,), dtype=float32)");
  CHECK(str(Tensor{1.5, 2.25}) == "tapeflow.Tensor([1.5  2.25], shape=(2,), dtype=float32)");
  CHECK(str(Tensor(3.0)) == "tapeflow.Tensor(3.0, shape=(), dtype=float32)");
  CHECK(str(Tensor(0.1)) == "tapeflow.Tensor(0.1, shape=(), dtype=float32)");
  CHECK(str(Tensor{1, 2, 3}) == "tapeflow.Tensor([1 2 3], shape=(3,), dtype=int32)");
  CHECK(str(Tensor(std::int64_t{10})) == "tapeflow.Tensor(10, shape=(), dtype=int64)");
  // float32 values print with their own shortest digits, not float64's.
  CHECK(str(Tensor{0.1, 0.2, 0.3}) == "tapeflow.Tensor([0.1 0.2 0.3], shape=(3,), dtype=float32)");
}

TEST_CASE("matrices start on their own line, as TensorFlow prints them") {
  CHECK(str(Tensor{{1.0, 2.0}, {3.0, 4.0}}) ==
        "tapeflow.Tensor(\n[[1. 2.]\n [3. 4.]], shape=(2, 2), dtype=float32)");
  CHECK(str(reshape(range(0, 8), {2, 2, 2})) ==
        "tapeflow.Tensor(\n[[[0. 1.]\n  [2. 3.]]\n\n [[4. 5.]\n  [6. 7.]]], shape=(2, 2, 2), "
        "dtype=float32)");
}

TEST_CASE("scientific notation, nan and bool") {
  CHECK(to_string(Tensor{1e-5, 1.0}) == "[1.e-05 1.e+00]");
  CHECK(to_string(Tensor{1.5e-5, 1.0}) == "[1.5e-05 1.0e+00]");
  CHECK(to_string(Tensor{-1.5, 2.0, std::nan("")}) == "[-1.5  2.   nan]");
  CHECK(to_string(greater(Tensor{1.0, 2.0}, Tensor{1.5, 1.5})) == "[False  True]");
}

TEST_CASE("long arrays wrap at 75 columns and summarize past 1000 elements") {
  CHECK(to_string(range(0, 30)) ==
        "[ 0.  1.  2.  3.  4.  5.  6.  7.  8.  9. 10. 11. 12. 13. 14. 15. 16. 17.\n"
        " 18. 19. 20. 21. 22. 23. 24. 25. 26. 27. 28. 29.]");
  CHECK(to_string(range(0, 2000)) ==
        "[0.000e+00 1.000e+00 2.000e+00 ... 1.997e+03 1.998e+03 1.999e+03]");
}

TEST_CASE("numpy repr for variables") {
  CHECK(numpy_repr(Tensor{1.0, 2.0}) == "array([1., 2.], dtype=float32)");
  CHECK(numpy_repr(Tensor(xt::xarray<double>{1.0, 2.5})) == "array([1. , 2.5])");
  CHECK(numpy_repr(Tensor(std::int64_t{10})) == "10");
  CHECK(numpy_repr(Tensor{{1.0, 2.0}, {3.0, 4.0}}) ==
        "array([[1., 2.],\n       [3., 4.]], dtype=float32)");
  CHECK(str(Variable(Tensor{1.0, 2.0}, "w")) ==
        "<tapeflow.Variable 'w:0' shape=(2,) dtype=float32, numpy=array([1., 2.], "
        "dtype=float32)>");
  CHECK(str(Variable(Tensor(std::int64_t{10}), "Adagrad/iter")) ==
        "<tapeflow.Variable 'Adagrad/iter:0' shape=() dtype=int64, numpy=10>");
}

TEST_CASE("fmt formats like operator<<") {
  Tensor t = {1.0, 2.0};
  CHECK(fmt::format("{}", t) == str(t));
  CHECK(fmt::format("{}", DType::int64) == "int64");
}
