#pragma once
// The convolution and pooling fixtures (tests/autograd/fixtures/conv_pool.json, written by
// make_conv_fixtures.py with PyTorch): read by ops_conv_test and ops_pool_test.

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "op_support.hpp"

namespace tapeflow::testing {

/// tests/autograd/fixtures: $TAPEFLOW_AUTOGRAD_FIXTURES (set by tests/autograd/meson.build),
/// else next to this file as the compiler saw it.
inline Config conv_pool_fixtures() {
  std::string path;
  if (const char* dir = std::getenv("TAPEFLOW_AUTOGRAD_FIXTURES")) {
    path = std::string(dir) + "/conv_pool.json";
  } else {
    const std::string here = __FILE__;
    path = here.substr(0, here.rfind('/')) + "/fixtures/conv_pool.json";
  }
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot open fixture " << path);
  std::stringstream text;
  text << in.rdbuf();
  return Config::parse(text.str());
}

/// A float64 tensor from a fixture entry {"shape": [...], "values": [...]}.
inline Tensor fixture_tensor(const Config& entry) {
  const Shape shape = entry["shape"].get<Shape>();
  const std::vector<double> values = entry["values"].get<std::vector<double>>();
  return Tensor::from_data(DType::float64, shape, values.data());
}

inline std::vector<int> ints(const Config& entry) {
  return entry.get<std::vector<int>>();
}

}  // namespace tapeflow::testing
