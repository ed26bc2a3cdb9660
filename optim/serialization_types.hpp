#pragma once
// The shapes shared by schedule and optimizer (de)serialization: the output format and the
// custom_objects map. Light on purpose: no optimizer or schedule definitions are needed here.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "tapeflow/core/json.hpp"

namespace tapeflow::optim {

class Optimizer;
namespace schedules {
class LearningRateSchedule;
}

/// The outer form `serialize` writes. `deserialize` reads both, whatever this says.
enum class SerializationFormat {
  /// `{"class_name", "config"}`: TF2 optimizer_v2 and Keras <= 2.12.
  tf2,
  /// `{"module", "class_name", "config", "registered_name"}`: Keras 2.13+ and Keras 3.
  keras3,
};

/// The Keras generation an optimizer config comes from. It decides which keys get_config()
/// writes (and in which order) and the generation-dependent numerics (keras-semantics.md §7):
/// Adagrad and RMSprop put ε inside the square root, Nadam's momentum schedule is 0.96^t, and
/// only one clip option applies, in Keras 2.11+ and Keras 3.
enum class KerasGeneration {
  /// TF2 `optimizer_v2` (tf.keras.optimizers.* in TF 2.0-2.10, `.legacy` in 2.11+): the default.
  v2,
  /// The Keras 2.11-2.15 "new" optimizer (`is_legacy_optimizer: false`, `jit_compile`, ...).
  keras2,
  /// Keras 3 (`loss_scale_factor`, `gradient_accumulation_steps`, ...).
  keras3,
};

/// "v2", "keras2" or "keras3".
inline const char* generation_name(KerasGeneration generation) {
  switch (generation) {
    case KerasGeneration::keras2:
      return "keras2";
    case KerasGeneration::keras3:
      return "keras3";
    case KerasGeneration::v2:
      break;
  }
  return "v2";
}

/// How an optimizer writes its config back: its generation, the envelope of a schedule inside
/// it, and the values of the keys tapeflow accepts without using them (inert at their values).
struct ConfigStyle {
  /// The generation whose keys get_config() writes and whose numerics apply.
  KerasGeneration generation = KerasGeneration::v2;
  /// The envelope of a schedule `learning_rate` inside the config: {"class_name", "config"}
  /// (Keras <= 2.12) or with "module" and "registered_name" (Keras 2.13+, Keras 3).
  SerializationFormat schedule_format = SerializationFormat::tf2;
  /// Inert keys read from a config, written back verbatim in the generation's key order:
  /// `jit_compile`, `ema_momentum`, `ema_overwrite_frequency` (and `is_legacy_optimizer: true`
  /// for a V2 config that has it). A missing key is written with Keras's default.
  Config inert = Config::object();
  /// Keras 3.0 configs have no `gradient_accumulation_steps` (added in 3.1); false omits it.
  bool has_gradient_accumulation_steps = true;
};

class CustomObject;

/// Class name (or Keras 3 `registered_name`) → factory, consulted before the process-wide
/// registry and the built-in classes. One map serves schedules and optimizers, as Keras's
/// `custom_objects` dict does.
using CustomObjects = std::map<std::string, CustomObject, std::less<>>;

/// Builds a schedule from its inner config (the `"config"` member of the serialized form).
using ScheduleFactory =
    std::function<std::shared_ptr<schedules::LearningRateSchedule>(const Config& config)>;

/// Builds an optimizer from its inner config; `custom_objects` is passed on so that a schedule
/// dict inside the config can be rebuilt with the same map.
using OptimizerFactory = std::function<std::shared_ptr<Optimizer>(
    const Config& config, const CustomObjects& custom_objects)>;

/// One entry of CustomObjects: a schedule factory or an optimizer factory. Converts implicitly
/// from any callable with one of the two factory signatures, so
/// `CustomObjects{{"MySchedule", [](const Config& c) { return std::make_shared<MySchedule>(c); }}}`
/// compiles as written.
class CustomObject {
 public:
  CustomObject(ScheduleFactory factory) : schedule_(std::move(factory)) {}    // NOLINT: implicit
  CustomObject(OptimizerFactory factory) : optimizer_(std::move(factory)) {}  // NOLINT: implicit

  template <class F,
            std::enable_if_t<!std::is_same_v<std::decay_t<F>, CustomObject> &&
                                 !std::is_same_v<std::decay_t<F>, ScheduleFactory> &&
                                 !std::is_same_v<std::decay_t<F>, OptimizerFactory> &&
                                 std::is_invocable_v<F&, const Config&>,
                             int> = 0>
  CustomObject(F factory) : schedule_(std::move(factory)) {}  // NOLINT: implicit

  template <class F,
            std::enable_if_t<!std::is_same_v<std::decay_t<F>, CustomObject> &&
                                 !std::is_same_v<std::decay_t<F>, ScheduleFactory> &&
                                 !std::is_same_v<std::decay_t<F>, OptimizerFactory> &&
                                 std::is_invocable_v<F&, const Config&, const CustomObjects&>,
                             int> = 0>
  CustomObject(F factory) : optimizer_(std::move(factory)) {}  // NOLINT: implicit

  /// The schedule factory, or nullptr when this entry is an optimizer.
  const ScheduleFactory* schedule() const { return schedule_ ? &schedule_ : nullptr; }
  /// The optimizer factory, or nullptr when this entry is a schedule.
  const OptimizerFactory* optimizer() const { return optimizer_ ? &optimizer_ : nullptr; }

 private:
  ScheduleFactory schedule_;
  OptimizerFactory optimizer_;
};

}  // namespace tapeflow::optim
