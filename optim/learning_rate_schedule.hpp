#pragma once
// LearningRateSchedule: the base of every learning-rate schedule, as
// tf.keras.optimizers.schedules.LearningRateSchedule.

#include <memory>
#include <string>

#include "tapeflow/core/json.hpp"

namespace tapeflow::optim::schedules {

/// A learning rate as a function of the optimizer step (the iteration count before the update).
/// Subclass it for a custom schedule: override operator() and get_config (and class_name, which
/// is what `serialize` writes as "class_name").
class LearningRateSchedule {
 public:
  virtual ~LearningRateSchedule() = default;
  /// The learning rate at `step` (0 on the first apply_gradients).
  virtual double operator()(double step) const = 0;
  /// The constructor arguments, in Keras's key order.
  virtual Config get_config() const = 0;
  /// The Keras class name written by serialize ("ExponentialDecay", ...).
  virtual std::string class_name() const = 0;
};

}  // namespace tapeflow::optim::schedules
