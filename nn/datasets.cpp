#include "tapeflow/nn/datasets.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "tapeflow/autograd/ops.hpp"
#include "tapeflow/core/check.hpp"
#include "tapeflow/core/random.hpp"

#if TAPEFLOW_HAVE_ZLIB
#include <zlib.h>
#endif

namespace tapeflow::nn::datasets {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// The whole file as text, gunzipped when it ends in ".gz".
std::string read_text(const char* fn, const std::string& path) {
  if (!std::ifstream(path).good()) {
    detail::throw_value_error("{}: cannot open '{}'", fn, path);
  }
  std::string text;
  if (!ends_with(path, ".gz")) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
  }
  char chunk[1 << 16];
#if TAPEFLOW_HAVE_ZLIB
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) detail::throw_value_error("{}: cannot open '{}'", fn, path);
  int n = 0;
  while ((n = gzread(file, chunk, sizeof chunk)) > 0) text.append(chunk, static_cast<std::size_t>(n));
  const bool failed = n < 0;
  gzclose(file);
  if (failed) detail::throw_value_error("{}: '{}' is not valid gzip data", fn, path);
#else
  // No zlib at build time: let gzip do it. The path is quoted for the shell.
  std::string quoted = "'";
  for (char c : path) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  quoted += "'";
  FILE* pipe = popen(("gzip -dc " + quoted + " 2>/dev/null").c_str(), "r");
  if (pipe == nullptr) detail::throw_value_error("{}: cannot run gzip on '{}'", fn, path);
  std::size_t n = 0;
  while ((n = std::fread(chunk, 1, sizeof chunk, pipe)) > 0) text.append(chunk, n);
  if (pclose(pipe) != 0) detail::throw_value_error("{}: '{}' is not valid gzip data", fn, path);
#endif
  return text;
}

/// Parses CSV rows of `features` numbers and a class id in [0, classes), skipping `skip` lines.
Dataset parse_rows(const char* fn, const std::string& path, const std::string& text,
                   std::size_t features, std::int64_t classes, std::size_t skip) {
  std::vector<float> x;
  std::vector<std::int64_t> y;
  std::istringstream lines(text);
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(lines, line)) {
    ++line_no;
    if (line_no <= skip || line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::vector<double> values;
    std::size_t start = 0;
    while (start <= line.size()) {
      const std::size_t comma = line.find(',', start);
      const std::string field =
          line.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      char* end = nullptr;
      const double v = std::strtod(field.c_str(), &end);
      if (end == field.c_str()) {
        detail::throw_value_error("{}: '{}' line {}: '{}' is not a number", fn, path, line_no,
                                  field);
      }
      values.push_back(v);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    if (values.size() != features + 1) {
      detail::throw_value_error("{}: '{}' line {}: expected {} values, found {}", fn, path, line_no,
                                features + 1, values.size());
    }
    const double label = values.back();
    if (label != std::floor(label) || label < 0 || label >= static_cast<double>(classes)) {
      detail::throw_value_error("{}: '{}' line {}: the label {} is not a class id in [0, {})", fn,
                                path, line_no, label, classes);
    }
    for (std::size_t k = 0; k < features; ++k) x.push_back(static_cast<float>(values[k]));
    y.push_back(static_cast<std::int64_t>(label));
  }
  if (y.empty()) detail::throw_value_error("{}: '{}' has no rows", fn, path);
  return Dataset{Tensor::from_data(DType::float32, {y.size(), features}, x.data()),
                 Tensor::from_data(DType::int64, {y.size()}, y.data())};
}

}  // namespace

Dataset load_digits(const std::string& path) {
  return parse_rows("load_digits", path, read_text("load_digits", path), 64, 10, 0);
}

Dataset load_iris(const std::string& path) {
  return parse_rows("load_iris", path, read_text("load_iris", path), 4, 3, 1);
}

std::pair<Dataset, Dataset> train_test_split(const Dataset& data, double test_fraction,
                                             bool shuffle) {
  detail::check_value(test_fraction > 0 && test_fraction < 1,
                      "train_test_split: test_fraction must be in (0, 1). Received: {}",
                      test_fraction);
  if (!data.x || !data.y || data.x.rank() == 0 || data.y.rank() == 0 ||
      data.x.shape()[0] != data.y.shape()[0]) {
    detail::throw_value_error("train_test_split: x and y must have the same number of rows");
  }
  const std::size_t n = data.x.shape()[0];
  const auto n_test = static_cast<std::size_t>(std::lround(static_cast<double>(n) * test_fraction));
  const Tensor order = shuffle ? random::permutation(n) : range(0, static_cast<double>(n), 1,
                                                                DType::int64);
  const Tensor train_rows = slice_axis(order, 0, 0, n - n_test);
  const Tensor test_rows = slice_axis(order, 0, n - n_test, n_test);
  return {Dataset{gather(data.x, train_rows), gather(data.y, train_rows)},
          Dataset{gather(data.x, test_rows), gather(data.y, test_rows)}};
}

}  // namespace tapeflow::nn::datasets
