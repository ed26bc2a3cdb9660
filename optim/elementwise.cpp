#include "tapeflow/optim/elementwise.hpp"

#include <cmath>

#include "tapeflow/core/check.hpp"

namespace tapeflow::optim {

using tapeflow::detail::throw_value_error;

namespace {

constexpr double kDefaultEpsilon = 1e-7;  // Keras backend.epsilon()

/// The base's kwargs, after the options Keras checks before them.
const Config& checked_first(const OptimizerSpec& spec,
                            const std::vector<double>& values,
                            const Config& kwargs) {
  detail::check_options(spec, values, true);
  return kwargs;
}

}  // namespace

namespace detail {

std::vector<double> check_options(const OptimizerSpec& spec,
                                  std::vector<double> values,
                                  bool before_base) {
  if (values.size() != spec.num_options) {
    throw_value_error(
        "{}: {} option values for {} options", spec.class_name, values.size(), spec.num_options);
  }
  for (std::size_t i = 0; i < spec.num_options; ++i) {
    const OptionSpec& o = spec.options[i];
    double& v = values[i];
    if (o.boolean || o.checked_before_base != before_base) continue;
    if (!std::isfinite(v)) {
      throw_value_error(
          "{}: `{}` must be a finite number, received: {}", spec.class_name, o.key, v);
    }
    if (!o.range_in_configs_only && (v < o.min || v > o.max)) {
      if (o.range_message != nullptr) {
        throw ValueError(fmt::format(fmt::runtime(o.range_message), o.key, Config(v).dump()));
      }
      throw_value_error("{}: `{}` must be in [{}, {}], received: {}",
                        spec.class_name,
                        o.key,
                        o.min,
                        o.max,
                        Config(v).dump());
    }
    if (o.epsilon && v == 0) v = kDefaultEpsilon;
  }
  return values;
}

}  // namespace detail

ElementwiseImpl::ElementwiseImpl(const OptimizerSpec& spec,
                                 LearningRate learning_rate,
                                 std::vector<double> values,
                                 std::string name,
                                 const Config& kwargs)
    : OptimizerImpl(spec.class_name,
                    std::move(name),
                    std::move(learning_rate),
                    checked_first(spec, values, kwargs)),
      spec_(spec),
      values_(detail::check_options(
          spec, detail::check_options(spec, std::move(values), false), true)) {
  set_weights_prepends_iterations_ = spec.set_weights_prepends_iterations;
}

Config ElementwiseImpl::get_config() const {
  Config config = OptimizerImpl::get_config();
  std::vector<std::size_t> order(spec_.num_options);
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  if (keras_generation() == KerasGeneration::v2) {
    for (std::size_t i = 0; i < order.size(); ++i) {
      const int at = spec_.options[i].v2_position;
      if (at >= 0) order[static_cast<std::size_t>(at)] = i;
    }
  }
  for (std::size_t i : order) {
    const OptionSpec& o = spec_.options[i];
    if (o.boolean) {
      config[o.key] = values_[i] != 0;
    } else {
      config[o.key] = values_[i];
    }
  }
  return config;
}

std::size_t ElementwiseImpl::slots_of(const Variable& var, Variable* out) const {
  for (std::size_t k = 0; k < spec_.num_slots; ++k) {
    const SlotSpec& s = spec_.slots[k];
    const bool active = s.only_if < 0 || values_[static_cast<std::size_t>(s.only_if)] > 0;
    out[k] = active ? get_slot(var, s.name) : var;
  }
  return spec_.num_slots;
}

void ElementwiseImpl::create_slots(const std::vector<Variable>& var_list) {
  const auto active = [&](const SlotSpec& s) {
    return s.only_if < 0 || values_[static_cast<std::size_t>(s.only_if)] > 0;
  };
  const auto create = [&](const Variable& var, const SlotSpec& s) {
    if (!active(s)) return;
    if (s.initial_option >= 0) {
      add_slot(var, s.name, values_[static_cast<std::size_t>(s.initial_option)]);
    } else {
      add_slot(var, s.name);
    }
  };
  if (spec_.interleave_slots) {
    for (const Variable& var : var_list) {
      for (std::size_t k = 0; k < spec_.num_slots; ++k) create(var, spec_.slots[k]);
    }
    return;
  }
  for (std::size_t k = 0; k < spec_.num_slots; ++k) {
    for (const Variable& var : var_list) create(var, spec_.slots[k]);
  }
}

void ElementwiseImpl::apply_dense(const Tensor& grad, Variable& var, double lr_t) {
  spec_.dense(*this, grad, var, lr_t);
}

void ElementwiseImpl::apply_sparse(const IndexedSlices& grad, Variable& var, double lr_t) {
  spec_.sparse(*this, grad, var, lr_t);
}

}  // namespace tapeflow::optim
