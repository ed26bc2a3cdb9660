#include "tapeflow/optim/learning_rate.hpp"

#include <ostream>

#include "tapeflow/core/check.hpp"
#include "tapeflow/optim/schedules.hpp"

namespace tapeflow::optim {

void LearningRate::throw_null_schedule() {
  tapeflow::detail::throw_value_error("LearningRate: the schedule is null");
}

double LearningRate::value() const {
  if (schedule_) {
    tapeflow::detail::throw_value_error(
        "LearningRate.value: the learning rate is a schedule ({}), not a number",
        schedule_->class_name());
  }
  return value_;
}

Config LearningRate::to_config() const {
  if (schedule_) return schedules::serialize(*schedule_);
  return Config(value_);
}

Config LearningRate::to_config(SerializationFormat format) const {
  if (schedule_) return schedules::serialize(*schedule_, format);
  return Config(value_);
}

LearningRate LearningRate::from_config(const Config& value, const CustomObjects& custom_objects,
                                       const std::string& key) {
  if (value.is_number() && !value.is_boolean()) return LearningRate(value.get<double>());
  if (value.is_object()) return LearningRate(schedules::deserialize(value, custom_objects));
  tapeflow::detail::throw_type_error(
      "`{}` must be a number or a serialized LearningRateSchedule (a dict with class_name and "
      "config), received: {}",
      key, value.dump());
}

std::ostream& operator<<(std::ostream& os, const LearningRate& learning_rate) {
  if (!learning_rate.is_schedule()) return os << Config(learning_rate.value()).dump();
  const auto& schedule = *learning_rate.schedule();
  return os << schedule.class_name() << "(" << schedule.get_config().dump() << ")";
}

}  // namespace tapeflow::optim
