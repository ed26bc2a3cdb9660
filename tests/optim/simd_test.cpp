// Every optimizer gives the same bits whichever SIMD level its element loops run at
// (core/cpu.hpp: the baseline build, AVX2, AVX-512; levels this CPU lacks fall back to the widest
// it has). Dense and sparse steps, float32 and float64, sizes that leave a tail at every width.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "../support.hpp"
#include "tapeflow/core/cpu.hpp"

using namespace tapeflow;
using tapeflow::detail::SimdLevel;

namespace {

/// Restores the SIMD limit a test changed.
struct SimdLimitGuard {
  SimdLevel saved = tapeflow::detail::set_simd_limit(SimdLevel::avx512);
  ~SimdLimitGuard() { tapeflow::detail::set_simd_limit(saved); }
};

using Factory = optim::Optimizer (*)();

const std::vector<std::pair<const char*, Factory>>& factories() {
  static const std::vector<std::pair<const char*, Factory>> all = {
      {"Adagrad", [] { return optim::Optimizer(optim::Adagrad(0.1)); }},
      {"SGD", [] { return optim::Optimizer(optim::SGD(0.1)); }},
      {"SGD momentum", [] { return optim::Optimizer(optim::SGD(0.1, 0.9)); }},
      {"SGD nesterov", [] { return optim::Optimizer(optim::SGD(0.1, 0.9, true)); }},
      {"RMSprop", [] { return optim::Optimizer(optim::RMSprop(0.01)); }},
      {"RMSprop centered momentum",
       [] { return optim::Optimizer(optim::RMSprop(0.01, 0.9, 0.5, 1e-7, true)); }},
      {"Adam", [] { return optim::Optimizer(optim::Adam(0.01)); }},
      {"Adam amsgrad", [] { return optim::Optimizer(optim::Adam(0.01, 0.9, 0.999, 1e-7, true)); }},
      {"Adadelta", [] { return optim::Optimizer(optim::Adadelta(1.0)); }},
      {"Adamax", [] { return optim::Optimizer(optim::Adamax(0.01)); }},
      {"Nadam", [] { return optim::Optimizer(optim::Nadam(0.01)); }},
      {"Ftrl", [] { return optim::Optimizer(optim::Ftrl(0.1)); }},
      {"Ftrl l1 l2 shrinkage beta",
       [] { return optim::Optimizer(optim::Ftrl(0.1, -0.5, 0.1, 0.01, 0.02, "Ftrl", 0.03, 0.5)); }},
      {"Ftrl power -0.7", [] { return optim::Optimizer(optim::Ftrl(0.1, -0.7, 0.1, 0.01)); }},
  };
  return all;
}

/// Values over several magnitudes, with zeros, deterministic.
std::vector<double> wavy(std::size_t n, double phase, double scale) {
  std::vector<double> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = i % 13 == 0 ? 0.0
                         : std::sin(phase + 0.37 * static_cast<double>(i)) * scale *
                               std::pow(10.0, static_cast<double>(i % 5) - 2.0);
  }
  return out;
}

Tensor tensor_of(DType dtype, const Shape& shape, const std::vector<double>& values) {
  return cast(Tensor::from_data(DType::float64, shape, values.data()), dtype);
}

/// The raw bytes of the variables and every optimizer weight after three steps at `level`.
std::vector<unsigned char> run(const Factory& factory, DType dtype, bool sparse, SimdLevel level) {
  tapeflow::detail::set_simd_limit(level);
  const std::size_t rows = 40, width = 37, listed = 25;
  Variable var(tensor_of(dtype, {1037}, wavy(1037, 0.0, 3.0)), "var");
  Variable table(tensor_of(dtype, {rows, width}, wavy(rows * width, 1.0, 2.0)), "table");
  const Tensor grad = tensor_of(dtype, {1037}, wavy(1037, 2.0, 1.0));
  std::vector<std::int64_t> indices;
  for (std::size_t r = 0; r + 1 < listed; ++r) {
    indices.push_back(static_cast<std::int64_t>((r * 7) % rows));
  }
  indices.push_back(indices[3]);  // one repeat: the base sums it first
  const IndexedSlices slices{tensor_of(dtype, {listed, width}, wavy(listed * width, 3.0, 1.0)),
                             Tensor::from_data(DType::int64, {listed}, indices.data()),
                             {rows, width}};
  optim::Optimizer opt = factory();
  for (int step = 0; step < 3; ++step) {
    if (sparse) {
      opt.apply_gradients({{grad, var}, {slices, table}});
    } else {
      opt.apply_gradients({{grad, var}});
    }
  }
  std::vector<Tensor> all = opt.get_weights();
  all.push_back(var.value());
  all.push_back(table.value());
  std::vector<unsigned char> bytes;
  for (const Tensor& t : all) {
    const auto* p = static_cast<const unsigned char*>(t.raw_data());
    bytes.insert(bytes.end(), p, p + t.size() * dtype_size(t.dtype()));
  }
  return bytes;
}

}  // namespace

TEST_CASE("every optimizer gives the same bits at every SIMD level, dense and sparse") {
  SimdLimitGuard guard;
  MESSAGE("SIMD level in use: " << std::string(tapeflow::detail::simd_level_name(
              tapeflow::detail::simd_level())));
  for (const auto& factory : factories()) {
    const std::string name = factory.first;  // no structured binding: CAPTURE captures it
    CAPTURE(name);
    for (DType dtype : {DType::float32, DType::float64}) {
      const std::string type_name = tapeflow::dtype_name(dtype);
      CAPTURE(type_name);
      for (bool sparse : {false, true}) {
        CAPTURE(sparse);
        const std::vector<unsigned char> reference =
            run(factory.second, dtype, sparse, SimdLevel::scalar);
        for (SimdLevel level : {SimdLevel::sse2, SimdLevel::avx2, SimdLevel::avx512}) {
          const std::string level_name = tapeflow::detail::simd_level_name(level);
          CAPTURE(level_name);
          const std::vector<unsigned char> got = run(factory.second, dtype, sparse, level);
          REQUIRE(got.size() == reference.size());
          CHECK(std::memcmp(got.data(), reference.data(), got.size()) == 0);
        }
      }
    }
  }
}
