#include "../support.hpp"

using namespace tapeflow;

TEST_CASE("the engine is seeded and reproducible") {
  const auto saved = random::get_seed();
  random::set_seed(7);
  const Tensor a = random::uniform({5});
  random::set_seed(7);
  const Tensor b = random::uniform({5});
  CHECK_ALLCLOSE(a, b, 0, 0);
  CHECK(random::get_seed() == 7);
  random::set_seed(saved);
}

TEST_CASE("uniform and normal have the requested range and moments") {
  const Tensor u = random::uniform({20000}, -2.0, 3.0, DType::float64);
  CHECK(u.dtype() == DType::float64);
  CHECK(reduce_max(u).item<double>() < 3.0);
  CHECK(-reduce_max(-u).item<double>() >= -2.0);
  CHECK(reduce_mean(u).item<double>() == doctest::Approx(0.5).epsilon(0.05));
  const Tensor n = random::normal({20000}, 1.0, 2.0);
  const double mean = reduce_mean(n).item<double>();
  const double var = reduce_mean(square(n - mean)).item<double>();
  CHECK(mean == doctest::Approx(1.0).epsilon(0.05));
  CHECK(var == doctest::Approx(4.0).epsilon(0.05));
}

TEST_CASE("glorot_uniform uses Keras's limit") {
  const Tensor w = random::glorot_uniform({30, 20});
  const double limit = std::sqrt(6.0 / 50.0);
  CHECK(reduce_max(abs(w)).item<double>() <= limit);
  CHECK(reduce_max(abs(w)).item<double>() > 0.9 * limit);
}

TEST_CASE("permutation is a permutation") {
  const Tensor p = random::permutation(100);
  CHECK(p.dtype() == DType::int64);
  CHECK(reduce_sum(p).item<std::int64_t>() == 4950);
  CHECK(reduce_max(p).item<std::int64_t>() == 99);
}

TEST_CASE("bad arguments are ValueErrors") {
  CHECK_THROWS_WITH_TEXT(random::uniform({2}, 1.0, 1.0), ValueError, "minval");
  CHECK_THROWS_WITH_TEXT(random::normal({2}, 0.0, -1.0), ValueError, "stddev");
  CHECK_THROWS_AS(random::uniform({2}, 0, 1, DType::int32), TypeError);
}
