#include "tapeflow/core/random.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <numeric>
#include <random>

#include "tapeflow/core/check.hpp"
#include "tapeflow/core/dispatch.hpp"

namespace tapeflow::random {

namespace {

struct Engine {
  std::mutex mutex;
  std::uint64_t seed = 0;
  std::mt19937_64 generator{0};
};

Engine& engine() {
  static Engine instance;
  return instance;
}

template <class Draw>
Tensor draw(const char* op, const Shape& shape, DType dtype, Draw&& next) {
  detail::check_type(is_floating(dtype), "random.{}: dtype must be float32 or float64. Received: {}",
                     op, dtype_name(dtype));
  Tensor out = Tensor::empty(dtype, shape);
  Engine& e = engine();
  std::lock_guard<std::mutex> lock(e.mutex);
  detail::visit_floating(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = static_cast<T*>(out.storage()->data());
    for (std::size_t i = 0, n = out.size(); i < n; ++i) p[i] = static_cast<T>(next(e.generator));
  });
  return out;
}

}  // namespace

void set_seed(std::uint64_t seed) {
  Engine& e = engine();
  std::lock_guard<std::mutex> lock(e.mutex);
  e.seed = seed;
  e.generator.seed(seed);
}

std::uint64_t get_seed() { return engine().seed; }

Tensor uniform(const Shape& shape, double minval, double maxval, DType dtype) {
  detail::check_value(minval < maxval, "random.uniform: minval must be < maxval. Received: {} >= {}",
                      minval, maxval);
  std::uniform_real_distribution<double> dist(minval, maxval);
  return draw("uniform", shape, dtype, [&](std::mt19937_64& g) { return dist(g); });
}

Tensor normal(const Shape& shape, double mean, double stddev, DType dtype) {
  detail::check_value(stddev >= 0, "random.normal: stddev must be >= 0. Received: {}", stddev);
  std::normal_distribution<double> dist(mean, stddev);
  return draw("normal", shape, dtype, [&](std::mt19937_64& g) { return dist(g); });
}

Tensor glorot_uniform(const Shape& shape, DType dtype) {
  double fan_in = 1, fan_out = 1;
  if (shape.size() == 1) {
    fan_in = fan_out = static_cast<double>(shape[0]);
  } else if (shape.size() == 2) {
    fan_in = static_cast<double>(shape[0]);
    fan_out = static_cast<double>(shape[1]);
  } else if (shape.size() > 2) {
    double receptive = 1;
    for (std::size_t k = 0; k + 2 < shape.size(); ++k) receptive *= static_cast<double>(shape[k]);
    fan_in = static_cast<double>(shape[shape.size() - 2]) * receptive;
    fan_out = static_cast<double>(shape[shape.size() - 1]) * receptive;
  }
  const double limit = std::sqrt(6.0 / std::max(1.0, fan_in + fan_out));
  return uniform(shape, -limit, limit, dtype);
}

Tensor permutation(std::size_t n) {
  std::vector<std::int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  Engine& e = engine();
  {
    std::lock_guard<std::mutex> lock(e.mutex);
    std::shuffle(order.begin(), order.end(), e.generator);
  }
  return Tensor::from_data(DType::int64, {n}, order.data());
}

}  // namespace tapeflow::random
