#pragma once
// Internal (not installed): reading an optimizer config in from_config, as Keras's
// `from_config` + `cls(**config)` do, for all three Keras generations. The constructor works out
// the config's generation from its keys (keras-semantics.md §3.1-§3.3), checks and removes the
// generation's own base keys (weight_decay, use_ema, jit_compile, loss_scale_factor, ...) and
// applies its rules for `lr` and `decay` (§1.6). Each getter then takes its key out of the
// config; what is left (decay, the clip options, unknown keys) goes to the constructor as
// kwargs, where the base class accepts or rejects it with Keras's wording. `finish` gives the
// built optimizer the generation (set_config_style), so that get_config writes it back.

#include <limits>
#include <string>
#include <utility>

#include <vector>

#include "tapeflow/core/json.hpp"
#include "tapeflow/optim/elementwise.hpp"
#include "tapeflow/optim/learning_rate.hpp"
#include "tapeflow/optim/serialization_types.hpp"

namespace tapeflow::optim::detail {

class ConfigReader {
 public:
  /// TypeError "<cls>.from_config: the config must be a JSON object, ..." for anything else.
  /// Then the generation is detected and its base keys are checked: TypeError for a wrong JSON
  /// type, ValueError for a value tapeflow cannot honour (use_ema true, a weight_decay, a
  /// loss_scale_factor, gradient_accumulation_steps >= 2), for keys of two generations, and for
  /// `decay` in Keras 2.11+ or `lr` in Keras 3 (Keras's errors). Keras 2.11+ ignores `lr` and
  /// Keras 3 ignores `decay`, each with a warning on stderr, and so does this.
  ConfigReader(const char* class_name, const Config& config, const CustomObjects& custom_objects);

  /// `lr`, renamed to learning_rate (so it wins over `learning_rate`), else `learning_rate`,
  /// else `fallback`; a dict is deserialized as a schedule (and its envelope remembered). A
  /// number must be finite and >= 0 (ValueError); Keras 3 also rejects an integer.
  LearningRate learning_rate(double fallback);

  /// A number in [min, max]; `fallback` when missing, and when null if `null_is_default`
  /// (Keras V2's `epsilon or backend.epsilon()`). TypeError naming the key for another JSON
  /// type, ValueError for NaN, infinity or a value out of range.
  double number(const char* key, double fallback, bool null_is_default = false,
                double min = -std::numeric_limits<double>::infinity(),
                double max = std::numeric_limits<double>::infinity());

  /// `epsilon`: a number >= 0. V2: null or missing is `fallback` (and 0 becomes 1e-7 in the
  /// constructor). Keras 2.11+/3 use epsilon as given, so 0 there is a ValueError (tapeflow's
  /// constructors apply V2's `epsilon or 1e-7`).
  double epsilon(double fallback);

  /// A JSON boolean; `fallback` when missing. TypeError naming the key otherwise.
  bool boolean(const char* key, bool fallback);

  /// Every option of `spec`'s table, in table order: boolean() for a boolean, epsilon() for
  /// the epsilon row, else number() with the row's range (left to the constructor when the row
  /// has Keras's own wording for it).
  std::vector<double> options(const OptimizerSpec& spec);

  /// The name; null is "" (an automatic name), missing is `fallback`.
  std::string name(std::string fallback);

  /// Whether `key` is still unread.
  bool has(const char* key) const { return rest_.contains(key); }
  /// The keys not read yet, for the constructor's kwargs.
  const Config& kwargs() const { return rest_; }
  /// The detected generation, schedule envelope and inert keys.
  const ConfigStyle& style() const { return style_; }
  KerasGeneration generation() const { return style_.generation; }

  /// Gives `optimizer` (a handle just built from this config) the config's style; returns it.
  template <class Handle>
  Handle finish(Handle optimizer) const {
    optimizer.set_config_style(style_);
    return optimizer;
  }

 private:
  const Config* find(const char* key) const {
    const auto it = rest_.find(key);
    return it == rest_.end() ? nullptr : &*it;
  }
  void read_generation_keys();

  const char* class_name_;
  Config rest_;
  const CustomObjects& custom_objects_;
  ConfigStyle style_;
};

/// An element-wise optimizer's from_config: the learning rate, the options in table order and
/// the name, then `make(learning_rate, values, name, kwargs)` builds the handle, which gets the
/// config's generation.
template <class Make>
auto read_config(const OptimizerSpec& spec, const Config& config,
                 const CustomObjects& custom_objects, Make make) {
  ConfigReader read(spec.class_name, config, custom_objects);
  LearningRate learning_rate = read.learning_rate(spec.default_learning_rate);
  const std::vector<double> values = read.options(spec);
  std::string name = read.name(spec.class_name);
  return read.finish(make(std::move(learning_rate), values, std::move(name), read.kwargs()));
}

}  // namespace tapeflow::optim::detail
