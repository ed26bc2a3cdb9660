#pragma once
// Initializers: how a layer fills a new weight, as tf.keras.initializers. Random ones draw from the
// library's one seeded engine (tapeflow::random), so `random::set_seed(n)` makes them repeat.

#include <functional>
#include <memory>
#include <string>

#include "tapeflow/core/json.hpp"
#include "tapeflow/core/tensor.hpp"

namespace tapeflow::nn {

/// A weight initializer: a callable `(shape, dtype) -> Tensor` with a Keras class name and config.
/// Copies share one immutable body. Constructible from a Keras name, so layers take
/// `kernel_initializer = "glorot_uniform"`:
///   "glorot_uniform" → GlorotUniform, "zeros" → Zeros, "ones" → Ones,
///   "random_normal" / "normal" → RandomNormal(0, 0.05), "random_uniform" / "uniform" →
///   RandomUniform(-0.05, 0.05); the class names ("GlorotUniform", ...) work as well.
/// An unknown name is a ValueError that lists the known ones.
class Initializer {
 public:
  using Function = std::function<Tensor(const Shape& shape, DType dtype)>;

  Initializer(const char* name);
  Initializer(const std::string& name);
  /// A custom initializer: `class_name` and `config` are what get_config/serialize report.
  Initializer(std::string class_name, Config config, Function function);

  /// A new tensor of `shape` and floating `dtype` (TypeError for integer dtypes).
  Tensor operator()(const Shape& shape, DType dtype = DType::float32) const;
  /// The Keras class name: "GlorotUniform", "RandomUniform", ...
  const std::string& class_name() const;
  /// Keras's config: {"seed": null} for GlorotUniform, {"minval", "maxval", "seed"} for
  /// RandomUniform, {"mean", "stddev", "seed"} for RandomNormal, {"value"} for Constant, {} else.
  Config get_config() const;

 private:
  struct Body;
  std::shared_ptr<const Body> body_;
};

/// Glorot (Xavier) uniform: U(-limit, limit), limit = √(6 / (fan_in + fan_out)).
class GlorotUniform : public Initializer {
 public:
  GlorotUniform();
};
/// All zeros.
class Zeros : public Initializer {
 public:
  Zeros();
};
/// All ones.
class Ones : public Initializer {
 public:
  Ones();
};
/// Every element `value`.
class Constant : public Initializer {
 public:
  explicit Constant(double value = 0.0);
};
/// N(mean, stddev²). ValueError for stddev < 0.
class RandomNormal : public Initializer {
 public:
  explicit RandomNormal(double mean = 0.0, double stddev = 0.05);
};
/// U(minval, maxval). ValueError unless minval < maxval.
class RandomUniform : public Initializer {
 public:
  explicit RandomUniform(double minval = -0.05, double maxval = 0.05);
};

namespace initializers {
/// The initializer named `name` (see Initializer); ValueError listing the known names otherwise.
Initializer get(const std::string& name);
/// {"class_name": ..., "config": ...}, as tf.keras.initializers.serialize.
Config serialize(const Initializer& initializer);
/// From a serialize() dict or a bare name string; ValueError for an unknown class.
Initializer deserialize(const Config& config);
}  // namespace initializers

}  // namespace tapeflow::nn
