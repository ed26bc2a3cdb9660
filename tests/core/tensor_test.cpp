#include "../support.hpp"

using namespace tapeflow;

TEST_CASE("a double scalar is float32, as in Keras") {
  Tensor t = 2.5;
  CHECK(t.dtype() == DType::float32);
  CHECK(t.rank() == 0);
  CHECK(t.item<double>() == 2.5);
}

TEST_CASE("nested lists give shape and dtype") {
  Tensor a = {{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}};
  CHECK(a.shape() == Shape{2, 3});
  CHECK(a.dtype() == DType::float32);
  Tensor b = {1, 2, 3};
  CHECK(b.dtype() == DType::int32);
  CHECK(b.numpy<double>()(2) == 3.0);
}

TEST_CASE("printing matches TensorFlow's repr") {
  std::ostringstream os;
  os << Tensor{1.0, 2.0};
  CHECK(os.str() == "tapeflow.Tensor([1. 2.], shape=(2,), dtype=float32)");
}
