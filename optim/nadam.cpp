#include "tapeflow/optim/nadam.hpp"

#include <cmath>

#include "tapeflow/autograd/ops.hpp"
#include "tapeflow/core/check.hpp"
#include "tapeflow/optim/config_reader.hpp"
#include "tapeflow/optim/rule.hpp"

namespace tapeflow::optim {
namespace {

constexpr double kDefaultScheduleDecay = 0.004;

[[noreturn]] void throw_schedule_error() {
  tapeflow::detail::throw_value_error(
      "The Nadam optimizer does not support tf.keras.optimizers.LearningRateSchedules as the "
      "learning rate.");
}

/// μ at step `step`: β₁·(1 - ½·0.96^(d·step)), in T.
template <class T>
T momentum_at(T beta_1, double schedule_decay, std::int64_t step) {
  return beta_1 *
         (T(1) - T(0.5) * std::pow(T(0.96), static_cast<T>(schedule_decay) * static_cast<T>(step)));
}

struct NadamRule : detail::RuleDefaults {
  static constexpr std::size_t kSlots = 2;
  static constexpr detail::Sparse kSparse = detail::Sparse::decay_then_row;
  static constexpr bool kDensifyOutsideV2 = true;  // Keras 2.11+ and 3 densify
  template <class T>
  struct Step {
    int variant;
    T lr, eps, beta_1, one_minus_beta_1, beta_2, one_minus_beta_2;
    T one_minus_mu_t, mu_next, one_minus_schedule_new, one_minus_schedule_next, v_denominator;
  };
  template <class T>  // Keras's _prepare_local; the cache is read before this step's update
  static Step<T> step(const detail::StepContext& s) {
    const auto& o = static_cast<const NadamImpl&>(s.optimizer);
    const T b1 = static_cast<T>(o.option(0)), b2 = static_cast<T>(o.option(1));
    const T mu_t = momentum_at(b1, o.momentum_decay(), s.it + 1);
    const T mu_next = momentum_at(b1, o.momentum_decay(), s.it + 2);
    const T schedule_new = static_cast<T>(o.cache_before_step()) * mu_t;
    const T schedule_next = schedule_new * mu_next;
    return {0,
            static_cast<T>(o.step_learning_rate(s.lr_t)),
            static_cast<T>(o.option(2)),
            b1,
            T(1) - b1,
            b2,
            T(1) - b2,
            T(1) - mu_t,
            mu_next,
            T(1) - schedule_new,
            T(1) - schedule_next,
            T(1) - std::pow(b2, static_cast<T>(s.it + 1))};
  }
  template <class T>
  TAPEFLOW_RULE T nadam_step(const Step<T>& c, T g, T m, T v) {
    const T m_bar = c.one_minus_mu_t * (g / c.one_minus_schedule_new) +
                    c.mu_next * (m / c.one_minus_schedule_next);
    return c.lr * m_bar / (std::sqrt(v / c.v_denominator) + c.eps);
  }
  template <int kV, class T>
  TAPEFLOW_RULE void update(const Step<T>& c, T g, T& var, T& m, T& v) {
    const T mi = c.beta_1 * m + c.one_minus_beta_1 * g;
    m = mi;
    const T vi = c.beta_2 * v + c.one_minus_beta_2 * (g * g);
    v = vi;
    var = var - nadam_step(c, g, mi, vi);
  }
  template <int kV, class T>  // V2 sparse: every row of m and v decays, then the listed rows
  static void decay(const Step<T>& c, T* const* slots, std::size_t n) {
    detail::scale_in_place(slots[0], n, c.beta_1);
    detail::scale_in_place(slots[1], n, c.beta_2);
  }
  template <int kV, class T>
  TAPEFLOW_RULE void row(const Step<T>& c, T g, T& var, T& m, T& v) {
    const T mi = m + g * c.one_minus_beta_1;
    m = mi;
    const T vi = v + (g * g) * c.one_minus_beta_2;
    v = vi;
    var += -nadam_step(c, g, mi, vi);
  }
};

constexpr OptionSpec kOptions[] = {{"beta_1", 0.9, 0, 1},
                                   {"beta_2", 0.999, 0, 1},
                                   {"epsilon", 1e-7, 0, kNoLimit, nullptr, false, true}};
constexpr SlotSpec kSlots[] = {{"m"}, {"v"}};
constexpr OptimizerSpec kSpec =
    detail::with_kernels<NadamRule>({"Nadam", 0.001, kOptions, 3, kSlots, 2});

/// Keras's kwargs handling: the schedule check first, then `decay` replaced by schedule_decay.
Config nadam_kwargs(const LearningRate& learning_rate, const Config& kwargs) {
  const bool lr_kwarg = kwargs.is_object() && kwargs.contains("lr") && !kwargs["lr"].is_null();
  if (learning_rate.is_schedule() && !lr_kwarg) throw_schedule_error();
  if (!kwargs.is_null() && !kwargs.is_object()) return kwargs;  // the base rejects it
  Config out = kwargs.is_null() ? Config::object() : kwargs;
  Config decay = kDefaultScheduleDecay;
  if (out.contains("schedule_decay")) {
    decay = out["schedule_decay"];
    if (!decay.is_null() && !decay.is_number()) {
      tapeflow::detail::throw_type_error(
          "Nadam: keyword argument `schedule_decay` must be a number, received: {}", decay.dump());
    }
    out.erase("schedule_decay");
  }
  out["decay"] = decay;
  return out;
}

}  // namespace

NadamImpl::NadamImpl(LearningRate learning_rate,
                     std::vector<double> values,
                     std::string name,
                     const Config& kwargs)
    : ElementwiseImpl(kSpec,
                      learning_rate,
                      std::move(values),
                      std::move(name),
                      nadam_kwargs(learning_rate, kwargs)) {
  decay_is_time_inverse_ = false;
}

double NadamImpl::momentum_decay() const {
  return keras_generation() == KerasGeneration::v2 ? decay() : 1.0;
}

double NadamImpl::step_learning_rate(double lr_t) const {
  return keras_generation() == KerasGeneration::v2 ? learning_rate().value() : lr_t;
}

void NadamImpl::create_slots(const std::vector<Variable>& var_list) {
  if (learning_rate().is_schedule() && keras_generation() == KerasGeneration::v2) {
    throw_schedule_error();
  }
  if (!momentum_cache_ || !owns_weight(*momentum_cache_)) {
    // Keras appends it to the weights itself: it is not a slot. (A failed first step or build
    // removes it from the weights again, so it is re-created then.)
    momentum_cache_.emplace(ones({}, var_list.front().dtype()), name() + "/momentum_cache", false);
    append_weight(*momentum_cache_);
  }
  ElementwiseImpl::create_slots(var_list);
}

void NadamImpl::prepare_step(const std::vector<Variable>& /*var_list*/) {
  // Keras's _prepare: read the cache once, then advance it in its own dtype (apply_gradients
  // calls this exactly once per step, after the slots and before the first update).
  const std::int64_t it = detail::step_count(*this);
  Variable& cache = *momentum_cache_;
  tapeflow::detail::visit_floating(cache.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* value = detail::data_of<T>(cache);
    cache_before_step_ = static_cast<double>(*value);
    *value = *value * momentum_at(static_cast<T>(option(0)), momentum_decay(), it + 1);
  });
}

Nadam::Nadam(LearningRate learning_rate,
             double beta_1,
             double beta_2,
             double epsilon,
             std::string name,
             const Config& kwargs)
    : Optimizer(std::make_shared<NadamImpl>(std::move(learning_rate),
                                            std::vector<double>{beta_1, beta_2, epsilon},
                                            std::move(name),
                                            kwargs)) {}

Nadam Nadam::from_config(const Config& config, const CustomObjects& custom_objects) {
  detail::ConfigReader read(kSpec.class_name, config, custom_objects);
  LearningRate learning_rate = read.learning_rate(kSpec.default_learning_rate);
  const std::vector<double> v = read.options(kSpec);
  std::string name = read.name(kSpec.class_name);
  Config kwargs = read.kwargs();
  if (kwargs.contains("decay") && !kwargs.contains("schedule_decay")) {
    kwargs["schedule_decay"] = kwargs["decay"];
  }
  kwargs.erase("decay");
  if (read.generation() == KerasGeneration::v2 || !learning_rate.is_schedule()) {
    return read.finish(Nadam(std::move(learning_rate), v[0], v[1], v[2], std::move(name), kwargs));
  }
  // Keras 2.11+ and 3 accept a schedule, which the V2 constructor refuses: build with a
  // number, switch the generation, then set the schedule.
  Nadam out = read.finish(Nadam(0.001, v[0], v[1], v[2], std::move(name), kwargs));
  out.set_learning_rate(std::move(learning_rate));
  return out;
}

}  // namespace tapeflow::optim
