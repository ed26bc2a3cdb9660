#pragma once
// Internal (not installed): reading an optimizer config in from_config, as Keras V2's
// `OptimizerV2.from_config` + `cls(**config)` do. Each getter takes its key out of the config;
// what is left (decay, the clip options, unknown keys) goes to the constructor as kwargs, where
// the base class accepts or rejects it with Keras's wording.

#include <string>
#include <utility>

#include "tapeflow/core/check.hpp"
#include "tapeflow/core/json.hpp"
#include "tapeflow/optim/learning_rate.hpp"
#include "tapeflow/optim/serialization_types.hpp"

namespace tapeflow::optim::detail {

class ConfigReader {
 public:
  /// TypeError "<cls>.from_config: the config must be a JSON object, ..." for anything else.
  ConfigReader(const char* class_name, const Config& config, const CustomObjects& custom_objects)
      : class_name_(class_name), rest_(config), custom_objects_(custom_objects) {
    if (!config.is_object()) {
      tapeflow::detail::throw_type_error(
          "{}.from_config: the config must be a JSON object, received: {}", class_name_,
          config.dump());
    }
  }

  /// `lr`, renamed to learning_rate (so it wins over `learning_rate`), else `learning_rate`,
  /// else `fallback`; a dict is deserialized as a schedule.
  LearningRate learning_rate(double fallback) {
    LearningRate out = fallback;
    if (const Config* value = find("learning_rate")) {
      out = LearningRate::from_config(*value, custom_objects_, "learning_rate");
    }
    if (const Config* value = find("lr")) {
      out = LearningRate::from_config(*value, custom_objects_, "lr");
    }
    rest_.erase("learning_rate");
    rest_.erase("lr");
    return out;
  }

  /// A number; `fallback` when missing, and when null if `null_is_default` (Keras's
  /// `epsilon or backend.epsilon()`). TypeError naming the key otherwise.
  double number(const char* key, double fallback, bool null_is_default = false) {
    const Config* value = find(key);
    double out = fallback;
    if (value && !(null_is_default && value->is_null())) {
      if (!value->is_number()) {
        tapeflow::detail::throw_type_error("{}.from_config: `{}` must be a number, received: {}",
                                           class_name_, key, value->dump());
      }
      out = value->get<double>();
    }
    rest_.erase(key);
    return out;
  }

  /// A JSON boolean; `fallback` when missing. TypeError naming the key otherwise.
  bool boolean(const char* key, bool fallback) {
    const Config* value = find(key);
    bool out = fallback;
    if (value) {
      if (!value->is_boolean()) {
        tapeflow::detail::throw_type_error("{}.from_config: `{}` must be a boolean, received: {}",
                                           class_name_, key, value->dump());
      }
      out = value->get<bool>();
    }
    rest_.erase(key);
    return out;
  }

  /// The name; null is "" (an automatic name), missing is `fallback`.
  std::string name(std::string fallback) {
    const Config* value = find("name");
    if (value) {
      if (!value->is_null() && !value->is_string()) {
        tapeflow::detail::throw_type_error("{}.from_config: `name` must be a string, received: {}",
                                           class_name_, value->dump());
      }
      fallback = value->is_null() ? std::string() : value->get<std::string>();
    }
    rest_.erase("name");
    return fallback;
  }

  /// Whether `key` is still unread.
  bool has(const char* key) const { return rest_.contains(key); }
  /// The keys not read yet, for the constructor's kwargs.
  const Config& kwargs() const { return rest_; }

 private:
  const Config* find(const char* key) const {
    const auto it = rest_.find(key);
    return it == rest_.end() ? nullptr : &*it;
  }

  const char* class_name_;
  Config rest_;
  const CustomObjects& custom_objects_;
};

}  // namespace tapeflow::optim::detail
