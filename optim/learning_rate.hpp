#pragma once
// LearningRate: an optimizer's learning rate, a number or a shared LearningRateSchedule, as the
// `learning_rate` argument of every tf.keras optimizer.

#include <iosfwd>
#include <memory>
#include <string>
#include <type_traits>

#include "tapeflow/core/json.hpp"
#include "tapeflow/optim/learning_rate_schedule.hpp"
#include "tapeflow/optim/serialization_types.hpp"

namespace tapeflow::optim {

/// A learning rate: a number, or a schedule evaluated at the iteration count.
///
///     LearningRate a = 0.01;                                          // constant
///     LearningRate b = std::make_shared<schedules::ExponentialDecay>(0.1, 1000, 0.96);
///     a(5) == 0.01;  b(5) == 0.1 * 0.96^(5/1000)
///
/// Copies share the schedule object, as Python references do.
class LearningRate {
 public:
  /// A constant learning rate.
  LearningRate(double value) : value_(value) {}
  /// A schedule (any LearningRateSchedule subclass); ValueError when null.
  template <class S,
            std::enable_if_t<std::is_base_of<schedules::LearningRateSchedule, S>::value, int> = 0>
  LearningRate(std::shared_ptr<S> schedule) : schedule_(std::move(schedule)) {
    if (!schedule_) throw_null_schedule();
  }

  bool is_schedule() const { return schedule_ != nullptr; }
  /// The constant; ValueError for a schedule.
  double value() const;
  /// The schedule; null for a constant.
  const std::shared_ptr<schedules::LearningRateSchedule>& schedule() const { return schedule_; }

  /// The rate at `step`: the constant, or schedule(step).
  double operator()(double step) const { return schedule_ ? (*schedule_)(step) : value_; }

  /// The value Keras writes in an optimizer config: the number, or the schedule in TF2's
  /// {"class_name", "config"} form (schedules::serialize).
  Config to_config() const;
  /// The same, with a schedule in the given envelope (schedules::serialize(schedule, format)).
  Config to_config(SerializationFormat format) const;
  /// The inverse of to_config: a number, or a serialized schedule of any Keras generation,
  /// rebuilt by schedules::deserialize (custom_objects first). TypeError naming `key` when
  /// `value` is neither a number nor an object; deserialize's ValueErrors propagate.
  static LearningRate from_config(const Config& value, const CustomObjects& custom_objects = {},
                                  const std::string& key = "learning_rate");

 private:
  [[noreturn]] static void throw_null_schedule();
  double value_ = 0.0;
  std::shared_ptr<schedules::LearningRateSchedule> schedule_;
};

/// `0.001`, or `ExponentialDecay({"initial_learning_rate": 0.1, ...})` for a schedule.
std::ostream& operator<<(std::ostream& os, const LearningRate& learning_rate);

}  // namespace tapeflow::optim
