#include "tapeflow/nn/initializers.hpp"

#include <utility>

#include "tapeflow/autograd/ops.hpp"
#include "tapeflow/core/check.hpp"
#include "tapeflow/core/random.hpp"

namespace tapeflow::nn {

struct Initializer::Body {
  std::string class_name;
  Config config;
  Function function;
};

namespace {

constexpr const char* kKnown =
    "glorot_uniform, zeros, ones, constant, random_normal (normal), random_uniform (uniform)";

Initializer by_name(const std::string& name) {
  if (name == "glorot_uniform" || name == "GlorotUniform") return GlorotUniform();
  if (name == "zeros" || name == "Zeros") return Zeros();
  if (name == "ones" || name == "Ones") return Ones();
  if (name == "constant" || name == "Constant") return Constant();
  if (name == "random_normal" || name == "normal" || name == "RandomNormal") return RandomNormal();
  if (name == "random_uniform" || name == "uniform" || name == "RandomUniform") {
    return RandomUniform();
  }
  detail::throw_value_error("Unknown initializer: '{}'. Known initializers: {}", name, kKnown);
}

double number(const Config& config, const char* key, double fallback) {
  if (!config.contains(key) || config[key].is_null()) return fallback;
  if (!config[key].is_number()) {
    detail::throw_type_error("initializers.deserialize: '{}' must be a number. Received: {}", key,
                             config[key].dump());
  }
  return config[key].get<double>();
}

}  // namespace

Initializer::Initializer(const char* name) : Initializer(by_name(name)) {}
Initializer::Initializer(const std::string& name) : Initializer(by_name(name)) {}

Initializer::Initializer(std::string class_name, Config config, Function function)
    : body_(std::make_shared<const Body>(
          Body{std::move(class_name), std::move(config), std::move(function)})) {
  if (!body_->function) {
    detail::throw_value_error("Initializer '{}': the function is empty", body_->class_name);
  }
}

Tensor Initializer::operator()(const Shape& shape, DType dtype) const {
  if (!is_floating(dtype)) {
    detail::throw_type_error("{}: dtype must be float32 or float64. Received: {}",
                             body_->class_name, dtype_name(dtype));
  }
  return body_->function(shape, dtype);
}

const std::string& Initializer::class_name() const { return body_->class_name; }
Config Initializer::get_config() const { return body_->config; }

GlorotUniform::GlorotUniform()
    : Initializer("GlorotUniform", Config{{"seed", nullptr}},
                  [](const Shape& s, DType d) { return random::glorot_uniform(s, d); }) {}

Zeros::Zeros()
    : Initializer("Zeros", Config::object(), [](const Shape& s, DType d) { return zeros(s, d); }) {}

Ones::Ones()
    : Initializer("Ones", Config::object(), [](const Shape& s, DType d) { return ones(s, d); }) {}

Constant::Constant(double value)
    : Initializer("Constant", Config{{"value", value}},
                  [value](const Shape& s, DType d) { return fill(s, value, d); }) {}

RandomNormal::RandomNormal(double mean, double stddev)
    : Initializer("RandomNormal", Config{{"mean", mean}, {"stddev", stddev}, {"seed", nullptr}},
                  [mean, stddev](const Shape& s, DType d) {
                    return random::normal(s, mean, stddev, d);
                  }) {
  detail::check_value(stddev >= 0, "RandomNormal: stddev must be >= 0. Received: stddev={}",
                      stddev);
}

RandomUniform::RandomUniform(double minval, double maxval)
    : Initializer("RandomUniform",
                  Config{{"minval", minval}, {"maxval", maxval}, {"seed", nullptr}},
                  [minval, maxval](const Shape& s, DType d) {
                    return random::uniform(s, minval, maxval, d);
                  }) {
  detail::check_value(minval < maxval,
                      "RandomUniform: minval must be < maxval. Received: minval={}, maxval={}",
                      minval, maxval);
}

namespace initializers {

Initializer get(const std::string& name) { return by_name(name); }

Config serialize(const Initializer& initializer) {
  return Config{{"class_name", initializer.class_name()}, {"config", initializer.get_config()}};
}

Initializer deserialize(const Config& config) {
  if (config.is_string()) return by_name(config.get<std::string>());
  if (!config.is_object() || !config.contains("class_name") || !config["class_name"].is_string()) {
    detail::throw_value_error(
        "initializers.deserialize: expected a name or {{\"class_name\", \"config\"}}. Received: {}",
        config.dump());
  }
  const std::string name = config["class_name"].get<std::string>();
  const Config inner = config.contains("config") ? config["config"] : Config::object();
  if (name == "RandomNormal") {
    return RandomNormal(number(inner, "mean", 0.0), number(inner, "stddev", 0.05));
  }
  if (name == "RandomUniform") {
    return RandomUniform(number(inner, "minval", -0.05), number(inner, "maxval", 0.05));
  }
  if (name == "Constant") return Constant(number(inner, "value", 0.0));
  return by_name(name);
}

}  // namespace initializers

}  // namespace tapeflow::nn
