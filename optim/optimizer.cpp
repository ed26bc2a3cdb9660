// OptimizerImpl, part 1 of 3: construction, names, the config and its generation, and the
// Optimizer handle. optimizer_weights.cpp has slots, weights and restore;
// optimizer_pipeline.cpp has apply_gradients.
#include "tapeflow/optim/optimizer.hpp"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <mutex>
#include <regex>
#include <unordered_map>
#include <utility>

#include "tapeflow/autograd/ops.hpp"
#include "tapeflow/core/check.hpp"
#include "tapeflow/core/format.hpp"
#include "tapeflow/optim/optimizer_internal.hpp"

namespace tapeflow::optim {

using detail::deep_copy;
using tapeflow::detail::throw_type_error;
using tapeflow::detail::throw_value_error;

namespace {

constexpr const char* kAllowedKwargs =
    "{'clipnorm', 'clipvalue', 'lr', 'decay', 'global_clipnorm'}";

/// TensorFlow's root name-scope pattern ^[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*$.
bool valid_scope_name(const std::string& name) {
  const auto alnum = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  };
  if (name.empty() || !(alnum(name[0]) || name[0] == '.')) return false;
  return std::all_of(name.begin() + 1, name.end(), [&](char c) {
    return alnum(c) || c == '_' || c == '.' || c == '\\' || c == '/' || c == '>' || c == '-';
  });
}

/// A number learning rate must be finite and >= 0 (as from_config requires); a schedule is
/// checked by its own constructor.
void check_learning_rate(const std::string& class_name, const LearningRate& learning_rate) {
  if (learning_rate.is_schedule()) return;
  const double value = learning_rate.value();
  if (!(std::isfinite(value) && value >= 0)) {
    throw_value_error("{}: `learning_rate` must be a finite number >= 0, received: {}",
                      class_name, value);
  }
}

}  // namespace

// ---- names -------------------------------------------------------------------------------------

namespace internal {

std::string to_snake_case(const std::string& name) {
  static const std::regex word("(.)([A-Z][a-z0-9]+)");
  static const std::regex boundary("([a-z])([A-Z])");
  std::string out = std::regex_replace(name, word, "$1_$2");
  out = std::regex_replace(out, boundary, "$1_$2");
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!out.empty() && out[0] == '_') out = "private" + out;
  return out;
}

std::string unique_optimizer_name(const std::string& stem) {
  static std::mutex mutex;
  static std::unordered_map<std::string, int> counters;
  std::lock_guard<std::mutex> lock(mutex);
  const int number = counters[stem]++;
  return number == 0 ? stem : stem + "_" + std::to_string(number);
}

}  // namespace internal

// ---- SlotInitializer ---------------------------------------------------------------------------

Tensor SlotInitializer::make(const Shape& shape, DType dtype, const std::string& where) const {
  if (tensor_) {
    if (tensor_.shape() != shape || tensor_.dtype() != dtype) {
      throw_value_error("{}: the initial value has shape {} and dtype {}, expected {} and {}",
                        where, shape_str(tensor_.shape()), dtype_name(tensor_.dtype()),
                        shape_str(shape), dtype_name(dtype));
    }
    return deep_copy(tensor_);
  }
  if (value_) return fill(shape, *value_, dtype);
  if (name_ == "zeros") return zeros(shape, dtype);
  if (name_ == "ones") return ones(shape, dtype);
  throw_value_error(
      "{}: unknown initializer '{}' (expected \"zeros\", \"ones\", a number or a Tensor)", where,
      name_);
}

// ---- OptimizerImpl -----------------------------------------------------------------------------

OptimizerImpl::OptimizerImpl(std::string class_name, std::string name, LearningRate learning_rate,
                             const Config& kwargs)
    : class_name_(std::move(class_name)), learning_rate_(std::move(learning_rate)) {
  if (!kwargs.is_null() && !kwargs.is_object()) {
    throw_type_error("{}: kwargs must be a JSON object of keyword arguments, received: {}",
                     class_name_, kwargs.dump());
  }
  static const char* const allowed[] = {"clipnorm", "clipvalue", "lr", "decay",
                                        "global_clipnorm"};
  if (kwargs.is_object()) {
    for (const auto& item : kwargs.items()) {
      const std::string& key = item.key();
      const Config& value = item.value();
      if (std::find(std::begin(allowed), std::end(allowed), key) == std::end(allowed)) {
        throw_type_error(
            "Unexpected keyword argument passed to optimizer: {}. Allowed kwargs are {}.", key,
            kAllowedKwargs);
      }
      if (value.is_null()) continue;  // Python None: not set
      if (!value.is_number()) {
        throw_type_error("{}: keyword argument `{}` must be a number, received: {}", class_name_,
                         key, value.dump());
      }
      if (!(value.get<double>() >= 0)) {  // NaN too (its JSON dump would read "null")
        const double v = value.get<double>();
        throw_value_error("Expected {} >= 0, received: {}", key,
                          std::isnan(v) ? std::string("nan") : value.dump());
      }
    }
  }
  const auto kwarg = [&](const char* key) -> std::optional<double> {
    if (!kwargs.is_object() || !kwargs.contains(key) || kwargs.at(key).is_null()) return {};
    return kwargs.at(key).get<double>();
  };

  if (name.empty()) {
    name = internal::unique_optimizer_name(internal::to_snake_case(class_name_));
  } else if (!valid_scope_name(name)) {
    throw_value_error(
        "{}: '{}' is not a valid scope name: an optimizer name must match "
        "^[A-Za-z0-9.][A-Za-z0-9_.\\\\/>-]*$",
        class_name_, name);
  }
  clipnorm_ = kwarg("clipnorm");
  clipvalue_ = kwarg("clipvalue");
  global_clipnorm_ = kwarg("global_clipnorm");
  if (clipnorm_ && global_clipnorm_) {
    throw_value_error(
        "Cannot accept both `clipnorm` and `global_clipnorm`. Received: `clipnorm`={}, "
        "`global_clipnorm`={}.",
        kwargs.at("clipnorm").dump(), kwargs.at("global_clipnorm").dump());
  }
  name_ = std::move(name);
  initial_decay_ = kwarg("decay").value_or(0.0);
  if (const auto lr = kwarg("lr")) {
    std::cerr << "WARNING: The `lr` argument is deprecated, use `learning_rate` instead.\n";
    learning_rate_ = LearningRate(*lr);
  }
  check_learning_rate(class_name_, learning_rate_);
}

OptimizerImpl::~OptimizerImpl() = default;

void OptimizerImpl::set_learning_rate(LearningRate learning_rate) {
  check_learning_rate(class_name_, learning_rate);
  learning_rate_ = std::move(learning_rate);
}

Config OptimizerImpl::get_config() const {
  const ConfigStyle& style = config_style_;
  const auto optional = [](const std::optional<double>& v) { return v ? Config(*v) : Config(); };
  const auto inert = [&](const char* key, Config fallback) {
    const auto it = style.inert.find(key);
    return it == style.inert.end() ? fallback : *it;
  };
  const Config learning_rate = learning_rate_.to_config(style.schedule_format);
  Config config = Config::object();
  config["name"] = name_;
  switch (style.generation) {
    case KerasGeneration::v2:
      if (clipnorm_) config["clipnorm"] = *clipnorm_;
      if (clipvalue_) config["clipvalue"] = *clipvalue_;
      if (global_clipnorm_) config["global_clipnorm"] = *global_clipnorm_;
      if (style.inert.contains("is_legacy_optimizer")) {
        config["is_legacy_optimizer"] = style.inert.at("is_legacy_optimizer");
      }
      config["learning_rate"] = learning_rate;
      config["decay"] = initial_decay_;
      break;
    case KerasGeneration::keras2:
    case KerasGeneration::keras3: {
      const bool keras3 = style.generation == KerasGeneration::keras3;
      if (keras3) config["learning_rate"] = learning_rate;
      config["weight_decay"] = nullptr;
      config["clipnorm"] = optional(clipnorm_);
      config["global_clipnorm"] = optional(global_clipnorm_);
      config["clipvalue"] = optional(clipvalue_);
      config["use_ema"] = false;
      config["ema_momentum"] = inert("ema_momentum", 0.99);
      config["ema_overwrite_frequency"] = inert("ema_overwrite_frequency", nullptr);
      if (keras3) {
        config["loss_scale_factor"] = nullptr;
        if (style.has_gradient_accumulation_steps) config["gradient_accumulation_steps"] = nullptr;
      } else {
        config["jit_compile"] = inert("jit_compile", false);
        config["is_legacy_optimizer"] = false;
        config["learning_rate"] = learning_rate;
      }
      break;
    }
  }
  return config;
}

void OptimizerImpl::set_config_style(ConfigStyle style) {
  if (!style.inert.is_object()) {
    throw_type_error("{}.set_config_style: `inert` must be a JSON object, received: {}",
                     class_name_, style.inert.dump());
  }
  if (style.generation != KerasGeneration::v2 && decay_is_time_inverse_ && initial_decay_ > 0) {
    throw_value_error(
        "{}: decay={} (a time-inverse learning-rate decay) has no counterpart in a {} config; "
        "Keras 2.11+ rejects `decay` and Keras 3 ignores it. Use a LearningRateSchedule "
        "(InverseTimeDecay) instead",
        class_name_, Config(initial_decay_).dump(), generation_name(style.generation));
  }
  if (style.generation == KerasGeneration::keras3 &&
      (clipnorm_ ? 1 : 0) + (clipvalue_ ? 1 : 0) + (global_clipnorm_ ? 1 : 0) > 1) {
    const auto repr = [](const std::optional<double>& v) {
      return v ? Config(*v).dump() : std::string("None");
    };
    throw_value_error(
        "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
        "clipnorm={}, clipvalue={}, global_clipnorm={}",
        repr(clipnorm_), repr(clipvalue_), repr(global_clipnorm_));
  }
  config_style_ = std::move(style);
  epsilon_inside_sqrt_ = config_style_.generation != KerasGeneration::v2;
}

// ---- Optimizer ---------------------------------------------------------------------------------

Optimizer::Optimizer(std::shared_ptr<OptimizerImpl> impl) : impl_(std::move(impl)) {
  if (!impl_) throw_value_error("Optimizer: the implementation is null");
}

std::ostream& operator<<(std::ostream& os, const Optimizer& optimizer) {
  os << "<tapeflow.optim." << optimizer.class_name() << " name='" << optimizer.name() << "'";
  const Config config = optimizer.get_config();
  for (const auto& item : config.items()) {
    if (item.key() == "name") continue;
    os << " " << item.key() << "=";
    if (item.key() == "learning_rate") {
      os << optimizer.learning_rate();
    } else {
      os << item.value().dump();
    }
  }
  return os << ">";
}

}  // namespace tapeflow::optim
