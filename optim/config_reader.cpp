#include "tapeflow/optim/config_reader.hpp"

#include <cmath>
#include <iostream>
#include <vector>

#include "tapeflow/core/check.hpp"

namespace tapeflow::optim::detail {

using tapeflow::detail::throw_type_error;
using tapeflow::detail::throw_value_error;

namespace {

/// A JSON number that is not a boolean (nlohmann keeps them apart; this is for clarity).
bool is_number(const Config& v) { return v.is_number() && !v.is_boolean(); }

/// A JSON integer, or a float with an integral value (Python's `isinstance(v, int)` is stricter;
/// a config written by Keras always has a plain integer here).
bool is_integral(const Config& v) {
  if (v.is_number_integer()) return true;
  if (!v.is_number_float()) return false;
  const double d = v.get<double>();
  return std::isfinite(d) && d == std::floor(d);
}

/// What tapeflow does with a generation's base key (keras-semantics.md §3.2, §3.3, §2.11).
enum class Rule {
  null_only,             // weight_decay, loss_scale_factor: null is inert; a number is rejected
  false_only,            // use_ema: false is inert; true is rejected
  unit_interval,         // ema_momentum: inert when use_ema is false; kept for the write-back
  positive_int_or_null,  // ema_overwrite_frequency: inert; kept
  boolean,               // jit_compile: inert (XLA); kept
  accumulation_steps,    // gradient_accumulation_steps: null is inert; >= 2 is rejected
};

struct GenerationKey {
  const char* key;
  bool keras2;
  bool keras3;
  Rule rule;
  const char* unsupported;  // why a non-inert value cannot be honoured
};

const GenerationKey kGenerationKeys[] = {
    {"weight_decay", true, true, Rule::null_only,
     "tapeflow implements no decoupled weight decay (only null is accepted)"},
    {"use_ema", true, true, Rule::false_only,
     "tapeflow keeps no exponential moving average of the weights (only false is accepted)"},
    {"ema_momentum", true, true, Rule::unit_interval, ""},
    {"ema_overwrite_frequency", true, true, Rule::positive_int_or_null, ""},
    {"jit_compile", true, false, Rule::boolean, ""},
    {"loss_scale_factor", false, true, Rule::null_only,
     "tapeflow does no loss scaling (only null is accepted)"},
    {"gradient_accumulation_steps", false, true, Rule::accumulation_steps,
     "tapeflow does not accumulate gradients across steps (only null is accepted)"},
};

/// Keys that only one generation writes: they decide the generation.
constexpr const char* kKeras2Markers[] = {"jit_compile"};
constexpr const char* kKeras3Markers[] = {"loss_scale_factor", "gradient_accumulation_steps"};

}  // namespace

ConfigReader::ConfigReader(const char* class_name, const Config& config,
                           const CustomObjects& custom_objects)
    : class_name_(class_name), rest_(config), custom_objects_(custom_objects) {
  if (!config.is_object()) {
    throw_type_error("{}.from_config: the config must be a JSON object, received: {}",
                     class_name_, config.dump());
  }
  read_generation_keys();
}

void ConfigReader::read_generation_keys() {
  std::vector<std::string> keras2, keras3, shared;
  for (const char* key : kKeras2Markers) {
    if (rest_.contains(key)) keras2.emplace_back(key);
  }
  for (const char* key : kKeras3Markers) {
    if (rest_.contains(key)) keras3.emplace_back(key);
  }
  for (const GenerationKey& k : kGenerationKeys) {
    if (k.keras2 && k.keras3 && rest_.contains(k.key)) shared.emplace_back(k.key);
  }
  KerasGeneration generation = KerasGeneration::v2;
  if (const Config* legacy = find("is_legacy_optimizer")) {
    if (!legacy->is_boolean()) {
      throw_type_error("{}.from_config: `is_legacy_optimizer` must be a boolean, received: {}",
                       class_name_, legacy->dump());
    }
    if (legacy->get<bool>()) {
      // A legacy (V2) optimizer saved by Keras 2.11+: none of the new keys may appear.
      std::vector<std::string> newer = keras2;
      newer.insert(newer.end(), keras3.begin(), keras3.end());
      newer.insert(newer.end(), shared.begin(), shared.end());
      if (!newer.empty()) {
        throw_value_error(
            "{}.from_config: the config says `is_legacy_optimizer: true` (a TF2 optimizer_v2 "
            "config) but has keys of the new Keras optimizers: {}",
            class_name_, fmt::join(newer, ", "));
      }
      style_.inert["is_legacy_optimizer"] = true;
    } else {
      keras2.emplace_back("is_legacy_optimizer");
    }
    rest_.erase("is_legacy_optimizer");
  }
  if (!keras2.empty() && !keras3.empty()) {
    throw_value_error(
        "{}.from_config: the config mixes keys of Keras 2.11+ ({}) and of Keras 3 ({}); a "
        "config comes from one generation",
        class_name_, fmt::join(keras2, ", "), fmt::join(keras3, ", "));
  }
  if (!keras2.empty()) {
    generation = KerasGeneration::keras2;
  } else if (!keras3.empty() || !shared.empty()) {
    generation = KerasGeneration::keras3;  // weight_decay/use_ema/ema_* alone: read as Keras 3
  }
  style_.generation = generation;
  if (generation == KerasGeneration::v2) return;
  const bool is_keras3 = generation == KerasGeneration::keras3;
  style_.schedule_format = is_keras3 ? SerializationFormat::keras3 : SerializationFormat::tf2;
  style_.has_gradient_accumulation_steps = rest_.contains("gradient_accumulation_steps");

  for (const GenerationKey& k : kGenerationKeys) {
    const Config* value = find(k.key);
    if (value == nullptr) continue;
    // A key of the other generation stays in the kwargs, where it is an unknown key.
    if (!(is_keras3 ? k.keras3 : k.keras2)) continue;
    const Config& v = *value;
    const auto wrong_type = [&](const char* expected) {
      throw_type_error("{}.from_config: `{}` must be {}, received: {}", class_name_, k.key,
                       expected, v.dump());
    };
    const auto unsupported = [&]() {
      throw_value_error("{}.from_config: `{}`={} is not supported: {}", class_name_, k.key,
                        v.dump(), k.unsupported);
    };
    switch (k.rule) {
      case Rule::null_only:
        if (!v.is_null() && !is_number(v)) wrong_type("a number or null");
        if (!v.is_null()) unsupported();
        break;
      case Rule::false_only:
        if (!v.is_boolean()) wrong_type("a boolean");
        if (v.get<bool>()) unsupported();
        break;
      case Rule::unit_interval:
        if (!is_number(v)) wrong_type("a number");
        if (!(v.get<double>() >= 0 && v.get<double>() <= 1)) {
          throw_value_error("`ema_momentum` must be in the range [0, 1]. Received: ema_momentum={}",
                            v.dump());
        }
        style_.inert[k.key] = v;
        break;
      case Rule::positive_int_or_null:
        if (!v.is_null() && !is_number(v)) wrong_type("an integer or null");
        if (!v.is_null() && !(is_integral(v) && v.get<double>() >= 1)) {
          throw_value_error(
              "`ema_overwrite_frequency` must be an integer > 1 or None. Received: "
              "ema_overwrite_frequency={}",
              v.dump());
        }
        style_.inert[k.key] = v;
        break;
      case Rule::boolean:
        if (!v.is_boolean()) wrong_type("a boolean");
        style_.inert[k.key] = v;
        break;
      case Rule::accumulation_steps:
        if (!v.is_null() && !is_number(v)) wrong_type("an integer or null");
        if (!v.is_null() && !(is_integral(v) && v.get<double>() >= 2)) {
          throw_value_error(
              "`gradient_accumulation_steps` must be an integer >= 2. Received: "
              "gradient_accumulation_steps={}",
              v.dump());
        }
        if (!v.is_null()) unsupported();
        break;
    }
    rest_.erase(k.key);
  }

  // §1.6: Keras 2.11+ ignores `lr` (with a warning) and rejects `decay`; Keras 3 rejects `lr`
  // and ignores `decay` (with a warning).
  if (const Config* lr = find("lr")) {
    if (is_keras3) {
      throw_value_error("Argument(s) not recognized: {{'lr': {}}}", lr->dump());
    }
    std::cerr << "WARNING: `lr` is deprecated in Keras optimizer, please use `learning_rate` or "
                 "use the legacy optimizer, e.g.,tf.keras.optimizers.legacy."
              << class_name_ << ". (The value " << lr->dump() << " is ignored.)\n";
    rest_.erase("lr");
  }
  if (const Config* decay = find("decay")) {
    if (!is_keras3) {
      throw_value_error(
          "decay is deprecated in the new Keras optimizer, please check the docstring for valid "
          "arguments, or use the legacy optimizer, e.g., tf.keras.optimizers.legacy.{}.",
          class_name_);
    }
    std::cerr << "WARNING: Argument `decay` is no longer supported and will be ignored. (The "
                 "value "
              << decay->dump() << " is ignored.)\n";
    rest_.erase("decay");
  }
}

LearningRate ConfigReader::learning_rate(double fallback) {
  LearningRate out = fallback;
  for (const char* key : {"learning_rate", "lr"}) {  // lr last: it wins (Keras renames it)
    const Config* value = find(key);
    if (value == nullptr) continue;
    if (value->is_object()) {
      if (value->contains("module") || value->contains("registered_name")) {
        style_.schedule_format = SerializationFormat::keras3;
      } else {
        style_.schedule_format = SerializationFormat::tf2;
      }
    } else if (is_number(*value)) {
      const double d = value->get<double>();
      if (!std::isfinite(d) || d < 0) {
        throw_value_error("{}.from_config: `{}` must be a finite number >= 0, received: {}",
                          class_name_, key, d);
      }
      if (style_.generation == KerasGeneration::keras3 && value->is_number_integer()) {
        throw_value_error(
            "Argument `learning_rate` should be float, or an instance of LearningRateSchedule, "
            "or a callable (that takes in the current iteration value and returns the "
            "corresponding learning rate value). Received instead: learning_rate={}",
            value->dump());
      }
    }
    out = LearningRate::from_config(*value, custom_objects_, key);
  }
  rest_.erase("learning_rate");
  rest_.erase("lr");
  return out;
}

double ConfigReader::number(const char* key, double fallback, bool null_is_default, double min,
                            double max) {
  const Config* value = find(key);
  double out = fallback;
  if (value && !(null_is_default && value->is_null())) {
    if (!is_number(*value)) {
      throw_type_error("{}.from_config: `{}` must be a number, received: {}", class_name_, key,
                       value->dump());
    }
    out = value->get<double>();
    if (!std::isfinite(out)) {
      throw_value_error("{}.from_config: `{}` must be a finite number, received: {}", class_name_,
                        key, out);
    }
    if (out < min || out > max) {
      throw_value_error("{}.from_config: `{}` must be in [{}, {}], received: {}", class_name_, key,
                        min, max, value->dump());
    }
  }
  rest_.erase(key);
  return out;
}

double ConfigReader::epsilon(double fallback) {
  const bool v2 = style_.generation == KerasGeneration::v2;
  const bool present = find("epsilon") != nullptr;
  const double out = number("epsilon", fallback, v2, 0.0);
  if (!v2 && present && out == 0) {
    throw_value_error(
        "{}.from_config: `epsilon`=0 is not supported in a {} config: Keras 2.11+ and 3 use it "
        "as given, but tapeflow applies V2's `epsilon or 1e-7`",
        class_name_, generation_name(style_.generation));
  }
  return out;
}

bool ConfigReader::boolean(const char* key, bool fallback) {
  const Config* value = find(key);
  bool out = fallback;
  if (value) {
    if (!value->is_boolean()) {
      throw_type_error("{}.from_config: `{}` must be a boolean, received: {}", class_name_, key,
                       value->dump());
    }
    out = value->get<bool>();
  }
  rest_.erase(key);
  return out;
}

std::vector<double> ConfigReader::options(const OptimizerSpec& spec) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  std::vector<double> out;
  out.reserve(spec.num_options);
  for (std::size_t i = 0; i < spec.num_options; ++i) {
    const OptionSpec& o = spec.options[i];
    if (o.boolean) {
      out.push_back(boolean(o.key, o.default_value != 0) ? 1.0 : 0.0);
    } else if (o.epsilon) {
      out.push_back(epsilon(o.default_value));
    } else if (o.range_message != nullptr) {
      out.push_back(number(o.key, o.default_value, false, -kInf, kInf));
    } else {
      out.push_back(number(o.key, o.default_value, false, o.min, o.max));
    }
  }
  return out;
}

std::string ConfigReader::name(std::string fallback) {
  const Config* value = find("name");
  if (value) {
    if (!value->is_null() && !value->is_string()) {
      throw_type_error("{}.from_config: `name` must be a string, received: {}", class_name_,
                       value->dump());
    }
    fallback = value->is_null() ? std::string() : value->get<std::string>();
  }
  rest_.erase("name");
  return fallback;
}

}  // namespace tapeflow::optim::detail
