// Data loaders: the shipped digits (gzip) and iris files, and the split.
#include <cstdlib>
#include <fstream>
#include <string>

#include "../support.hpp"

#include <tapeflow/nn/nn.hpp>

using namespace tapeflow;

namespace {

/// data/ in the source tree: $TAPEFLOW_DATA_DIR (set by tests/nn/meson.build), else relative to
/// this file.
std::string data_path(const std::string& file) {
  if (const char* dir = std::getenv("TAPEFLOW_DATA_DIR")) return std::string(dir) + "/" + file;
  std::string here = __FILE__;
  return here.substr(0, here.rfind('/')) + "/../../data/" + file;
}

}  // namespace

TEST_CASE("load_digits reads the gzip CSV: 1797 rows of 64 pixels and a label") {
  const auto digits = nn::datasets::load_digits(data_path("digits.csv.gz"));
  CHECK(digits.x.shape() == Shape{1797, 64});
  CHECK(digits.y.shape() == Shape{1797});
  CHECK(digits.x.dtype() == DType::float32);
  CHECK(digits.y.dtype() == DType::int64);
  const auto x = digits.x.numpy<double>();
  CHECK(xt::amin(x)() == 0.0);
  CHECK(xt::amax(x)() == 16.0);
  // The first row of the file: 0,0,5,13,9,1,0,0,... label 0.
  CHECK(x(0, 2) == 5.0);
  CHECK(x(0, 3) == 13.0);
  CHECK(digits.y.numpy<std::int64_t>()(0) == 0);
  // Every class is present, about 180 times each.
  const Tensor counts = reduce_sum(one_hot(digits.y, 10), {0});
  CHECK(xt::amin(counts.numpy<double>())() >= 170.0);
}

TEST_CASE("load_iris skips its header") {
  const auto iris = nn::datasets::load_iris(data_path("iris.csv"));
  CHECK(iris.x.shape() == Shape{150, 4});
  CHECK(xt::amax(iris.y.numpy<double>())() == 2.0);
}

TEST_CASE("train_test_split keeps every row once") {
  nn::datasets::Dataset data{reshape(range(0, 20), {10, 2}), range(0, 10, 1, DType::int64)};
  const auto [train, test] = nn::datasets::train_test_split(data, 0.3);
  CHECK(train.x.shape() == Shape{7, 2});
  CHECK(test.y.shape() == Shape{3});
  const Tensor all = concat({train.y, test.y}, 0);
  CHECK(reduce_sum(all).item<std::int64_t>() == 45);
  // Rows stay paired: row i of x is [2i, 2i + 1].
  CHECK_ALLCLOSE(reshape(slice_axis(train.x, 1, 0, 1), {-1}), cast(train.y, DType::float32) * 2.0,
                 0, 0);
  CHECK_THROWS_WITH_TEXT(nn::datasets::train_test_split(data, 1.0), ValueError,
                         "test_fraction must be in (0, 1)");
}

TEST_CASE("loader errors name the file and the line") {
  CHECK_THROWS_WITH_TEXT(nn::datasets::load_digits("/nonexistent/digits.csv.gz"), ValueError,
                         "load_digits: cannot open '/nonexistent/digits.csv.gz'");
  const std::string path = "nn_datasets_test_bad.csv";
  {
    std::ofstream out(path);
    out << "1,2,3,4,0\n1,2,3,4,7\n";
  }
  CHECK_THROWS_WITH_TEXT(nn::datasets::load_iris(path), ValueError,
                         "line 2: the label 7 is not a class id in [0, 3)");
  {
    std::ofstream out(path);
    out << "header\n1,2,x,4,0\n";
  }
  CHECK_THROWS_WITH_TEXT(nn::datasets::load_iris(path), ValueError, "line 2: 'x' is not a number");
  {
    std::ofstream out(path);
    out << "1,2,3\n";
  }
  CHECK_THROWS_WITH_TEXT(nn::datasets::load_digits(path), ValueError,
                         "line 1: expected 65 values, found 3");
  std::remove(path.c_str());
}
