#pragma once
// One seeded random engine for the whole library. It lives in libtapeflow (not in header-inline
// state), so programs, tests and notebooks all draw from the same stream.

#include <cstdint>

#include "tapeflow/core/tensor.hpp"

namespace tapeflow::random {

/// Reseeds the engine (std::mt19937_64). The default seed is 0 (every run is reproducible).
void set_seed(std::uint64_t seed);
/// The seed last given to set_seed (0 by default).
std::uint64_t get_seed();

/// Uniform values in [minval, maxval).
Tensor uniform(const Shape& shape, double minval = 0.0, double maxval = 1.0,
               DType dtype = DType::float32);
/// Normal values with the given mean and standard deviation.
Tensor normal(const Shape& shape, double mean = 0.0, double stddev = 1.0,
              DType dtype = DType::float32);
/// Glorot (Xavier) uniform, as Keras: U(-limit, limit), limit = √(6 / (fan_in + fan_out)).
/// For rank-2 shapes fan_in = shape[0], fan_out = shape[1]; for higher ranks the receptive field
/// (product of the leading dimensions) multiplies both, as Keras computes it.
Tensor glorot_uniform(const Shape& shape, DType dtype = DType::float32);
/// A random permutation of 0..n-1 (int64), for shuffling.
Tensor permutation(std::size_t n);

}  // namespace tapeflow::random
