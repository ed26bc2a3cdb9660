#pragma once
// The built-in learning-rate schedules of tf.keras.optimizers.schedules, their configs, and the
// Keras {"class_name", "config"} serialization with a registry for custom schedules.
//
// Every schedule computes in double (Keras computes in float32 for a Python float
// initial_learning_rate; the two agree to float32 rounding). `step` is the optimizer's iteration
// count before the update: 0 on the first apply_gradients.
//
// Configs keep Keras's keys in Keras's order, `name` is null when empty (Keras's None), and
// numbers keep their JSON kind: `from_config(c).get_config() == c` for every config from_config
// accepts (absent optional keys are filled with their defaults). A schedule built in C++ writes
// step counts (decay_steps, first_decay_steps, warmup_steps, all-integral boundaries) as JSON
// integers when they are whole numbers, as a Python user's `decay_steps=1000` would be.
//
// Validation beyond TF2 (which computes inf/NaN instead): decay steps must be > 0 (Keras 3's
// rule and wording), every number must be finite, boundaries must be non-decreasing (Keras's
// documented contract; TF2 fails at call time), warmup_steps >= 0 and t_mul > 0.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tapeflow/core/json.hpp"
#include "tapeflow/optim/learning_rate_schedule.hpp"
#include "tapeflow/optim/serialization_types.hpp"

namespace tapeflow::optim::schedules {

/// lr(step) = initial_learning_rate · decay_rate^p with p = step / decay_steps,
/// p = floor(p) when `staircase` (the rate then changes only at multiples of decay_steps).
/// Config keys: initial_learning_rate, decay_steps, decay_rate, staircase, name.
class ExponentialDecay : public LearningRateSchedule {
 public:
  ExponentialDecay(double initial_learning_rate, double decay_steps, double decay_rate,
                   bool staircase = false, std::string name = "");
  double operator()(double step) const override;
  Config get_config() const override;
  std::string class_name() const override { return "ExponentialDecay"; }
  /// Rebuilds from get_config()'s form; TypeError on an unknown, missing or wrong-typed key.
  static ExponentialDecay from_config(const Config& config);

  double initial_learning_rate() const { return initial_learning_rate_; }
  double decay_steps() const { return decay_steps_; }
  double decay_rate() const { return decay_rate_; }
  bool staircase() const { return staircase_; }
  const std::string& name() const { return name_; }

 private:
  explicit ExponentialDecay(Config config);
  Config config_;
  double initial_learning_rate_, decay_steps_, decay_rate_;
  bool staircase_;
  std::string name_;
};

/// lr(step) = values[0] if step <= boundaries[0]; values[i] if boundaries[i-1] < step <=
/// boundaries[i]; values.back() if step > boundaries.back(). A boundary belongs to the lower
/// interval. Requires boundaries.size() == values.size() - 1 (Keras's ValueError) and
/// non-decreasing boundaries. Config keys: boundaries, values, name.
class PiecewiseConstantDecay : public LearningRateSchedule {
 public:
  PiecewiseConstantDecay(std::vector<double> boundaries, std::vector<double> values,
                         std::string name = "");
  double operator()(double step) const override;
  Config get_config() const override;
  std::string class_name() const override { return "PiecewiseConstantDecay"; }
  static PiecewiseConstantDecay from_config(const Config& config);

  const std::vector<double>& boundaries() const { return boundaries_; }
  const std::vector<double>& values() const { return values_; }
  const std::string& name() const { return name_; }

 private:
  explicit PiecewiseConstantDecay(Config config);
  Config config_;
  std::vector<double> boundaries_, values_;
  std::string name_;
};

/// Without cycle: s = min(step, decay_steps),
///   lr = (initial_learning_rate - end_learning_rate) · (1 - s/decay_steps)^power + end_learning_rate.
/// With cycle: d = decay_steps · (step == 0 ? 1 : ceil(step/decay_steps)),
///   lr = (initial_learning_rate - end_learning_rate) · (1 - step/d)^power + end_learning_rate.
/// Config keys: initial_learning_rate, decay_steps, end_learning_rate, power, cycle, name.
class PolynomialDecay : public LearningRateSchedule {
 public:
  PolynomialDecay(double initial_learning_rate, double decay_steps,
                  double end_learning_rate = 0.0001, double power = 1.0, bool cycle = false,
                  std::string name = "");
  double operator()(double step) const override;
  Config get_config() const override;
  std::string class_name() const override { return "PolynomialDecay"; }
  static PolynomialDecay from_config(const Config& config);

  double initial_learning_rate() const { return initial_learning_rate_; }
  double decay_steps() const { return decay_steps_; }
  double end_learning_rate() const { return end_learning_rate_; }
  double power() const { return power_; }
  bool cycle() const { return cycle_; }
  const std::string& name() const { return name_; }

 private:
  explicit PolynomialDecay(Config config);
  Config config_;
  double initial_learning_rate_, decay_steps_, end_learning_rate_, power_;
  bool cycle_;
  std::string name_;
};

/// lr(step) = initial_learning_rate / (1 + decay_rate · p) with p = step / decay_steps,
/// p = floor(p) when `staircase`.
/// Config keys: initial_learning_rate, decay_steps, decay_rate, staircase, name.
class InverseTimeDecay : public LearningRateSchedule {
 public:
  InverseTimeDecay(double initial_learning_rate, double decay_steps, double decay_rate,
                   bool staircase = false, std::string name = "");
  double operator()(double step) const override;
  Config get_config() const override;
  std::string class_name() const override { return "InverseTimeDecay"; }
  static InverseTimeDecay from_config(const Config& config);

  double initial_learning_rate() const { return initial_learning_rate_; }
  double decay_steps() const { return decay_steps_; }
  double decay_rate() const { return decay_rate_; }
  bool staircase() const { return staircase_; }
  const std::string& name() const { return name_; }

 private:
  explicit InverseTimeDecay(Config config);
  Config config_;
  double initial_learning_rate_, decay_steps_, decay_rate_;
  bool staircase_;
  std::string name_;
};

/// Without warmup_target: s = min(step, decay_steps), c = ½(1 + cos(π·s/decay_steps)),
///   lr = initial_learning_rate · ((1 - alpha)·c + alpha)   (alpha is a fraction of the start).
/// With warmup_target (Keras 2.13+): s = min(step, decay_steps + warmup_steps);
///   s < warmup_steps: lr = initial_learning_rate + (warmup_target - initial_learning_rate)·s/warmup_steps;
///   otherwise lr = warmup_target · ((1 - alpha)·½(1 + cos(π·(s - warmup_steps)/decay_steps)) + alpha).
/// Config keys: initial_learning_rate, decay_steps, alpha, name, warmup_target, warmup_steps
/// (a Keras <= 2.12 config without the last two round-trips without them).
class CosineDecay : public LearningRateSchedule {
 public:
  CosineDecay(double initial_learning_rate, double decay_steps, double alpha = 0.0,
              std::string name = "", std::optional<double> warmup_target = {},
              double warmup_steps = 0);
  double operator()(double step) const override;
  Config get_config() const override;
  std::string class_name() const override { return "CosineDecay"; }
  static CosineDecay from_config(const Config& config);

  double initial_learning_rate() const { return initial_learning_rate_; }
  double decay_steps() const { return decay_steps_; }
  double alpha() const { return alpha_; }
  const std::string& name() const { return name_; }
  std::optional<double> warmup_target() const { return warmup_target_; }
  double warmup_steps() const { return warmup_steps_; }

 private:
  explicit CosineDecay(Config config);
  Config config_;
  double initial_learning_rate_, decay_steps_, alpha_;
  std::string name_;
  std::optional<double> warmup_target_;
  double warmup_steps_;
};

/// SGDR (cosine decay with warm restarts). f = step / first_decay_steps; the restart index i and
/// the fraction f of the current period are
///   t_mul == 1: i = floor(f), f = f - i;
///   otherwise:  i = floor(ln(1 - f·(1 - t_mul)) / ln(t_mul)),
///               f = (f - (1 - t_mul^i)/(1 - t_mul)) / t_mul^i
/// (period k lasts first_decay_steps·t_mul^k; i is corrected so that restart boundaries are
/// exact), then lr = initial_learning_rate · ((1 - alpha)·m_mul^i·½(1 + cos(π·f)) + alpha).
/// alpha is not scaled by m_mul^i. With t_mul < 1 the periods sum to a finite horizon, past
/// which the value is NaN, as in Keras.
/// Config keys: initial_learning_rate, first_decay_steps, t_mul, m_mul, alpha, name.
class CosineDecayRestarts : public LearningRateSchedule {
 public:
  CosineDecayRestarts(double initial_learning_rate, double first_decay_steps, double t_mul = 2.0,
                      double m_mul = 1.0, double alpha = 0.0, std::string name = "");
  double operator()(double step) const override;
  Config get_config() const override;
  std::string class_name() const override { return "CosineDecayRestarts"; }
  static CosineDecayRestarts from_config(const Config& config);

  double initial_learning_rate() const { return initial_learning_rate_; }
  double first_decay_steps() const { return first_decay_steps_; }
  double t_mul() const { return t_mul_; }
  double m_mul() const { return m_mul_; }
  double alpha() const { return alpha_; }
  const std::string& name() const { return name_; }

 private:
  explicit CosineDecayRestarts(Config config);
  Config config_;
  double initial_learning_rate_, first_decay_steps_, t_mul_, m_mul_, alpha_;
  std::string name_;
};

/// The serialized form of `schedule`:
///   tf2:    {"class_name": schedule.class_name(), "config": schedule.get_config()};
///   keras3: {"module": "keras.optimizers.schedules", "class_name", "config",
///            "registered_name": null} for a built-in schedule, and
///           {"module": null, "class_name", "config", "registered_name": class_name} for a
///           custom one (as Keras 2.13+ writes a registered custom object).
/// ValueError when a custom schedule's class_name() is empty or its get_config() is not an object.
Config serialize(const LearningRateSchedule& schedule,
                 SerializationFormat format = SerializationFormat::tf2);

/// Rebuilds a schedule from any generation's serialized form: {"class_name", "config"} (TF2,
/// Keras <= 2.12) or with "module" and "registered_name" (Keras 2.13+, Keras 3). The class is
/// looked up, by `registered_name` (when non-null) and then by `class_name`, first in
/// `custom_objects`, then in the process-wide registry (register_schedule), then among the six
/// built-ins (exact, case-sensitive names, as Keras's schedule lookup). ValueError on an improper
/// envelope ("Improper config format for ...") or an unknown name ("Unknown decay: ...", listing
/// the known names); the built-ins' from_config errors propagate.
std::shared_ptr<LearningRateSchedule> deserialize(const Config& config,
                                                  const CustomObjects& custom_objects = {});

/// Registers a custom schedule class for `deserialize`, process-wide (thread-safe; the registry
/// lives in libtapeflow). ValueError for an empty name, an empty factory, a built-in name or a
/// name already registered (as Keras's register_keras_serializable refuses duplicates).
void register_schedule(const std::string& class_name, ScheduleFactory factory);

/// Removes a registered schedule; false when `class_name` was not registered.
bool unregister_schedule(const std::string& class_name);

/// The names `deserialize` knows without custom_objects: the built-ins, then the registered
/// names, each group sorted.
std::vector<std::string> schedule_names();

}  // namespace tapeflow::optim::schedules
