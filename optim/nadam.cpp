#include "tapeflow/optim/nadam.hpp"

#include <cmath>
#include <cstddef>

#include "tapeflow/autograd/ops.hpp"
#include "tapeflow/core/check.hpp"
#include "tapeflow/optim/config_reader.hpp"
#include "tapeflow/optim/kernels.hpp"

namespace tapeflow::optim {

namespace {

constexpr const char* kClassName = "Nadam";
constexpr double kDefaultEpsilon = 1e-7;
constexpr double kDefaultScheduleDecay = 0.004;

[[noreturn]] void throw_schedule_error() {
  tapeflow::detail::throw_value_error(
      "The Nadam optimizer does not support tf.keras.optimizers.LearningRateSchedules as the "
      "learning rate.");
}

/// μ at step `step`: β₁·(1 - ½·0.96^(d·step)), in T.
template <class T>
T momentum_at(T beta_1, double schedule_decay, std::int64_t step) {
  return beta_1 * (T(1) - T(0.5) * std::pow(T(0.96), static_cast<T>(schedule_decay) *
                                                         static_cast<T>(step)));
}

template <class T>
struct Coefficients {
  T lr, eps, beta_1, one_minus_beta_1, beta_2, one_minus_beta_2;
  T one_minus_mu_t, mu_next, one_minus_schedule_new, one_minus_schedule_next, v_denominator;
};

/// Keras's _prepare_local for dtype T; `cache` is momentum_cache before this step.
template <class T>
Coefficients<T> coefficients(double lr, double beta_1, double beta_2, double epsilon,
                             double schedule_decay, double cache, std::int64_t it) {
  const T b1 = static_cast<T>(beta_1);
  const T b2 = static_cast<T>(beta_2);
  const T mu_t = momentum_at(b1, schedule_decay, it + 1);
  const T mu_next = momentum_at(b1, schedule_decay, it + 2);
  const T schedule_new = static_cast<T>(cache) * mu_t;
  const T schedule_next = schedule_new * mu_next;
  return {static_cast<T>(lr),
          static_cast<T>(epsilon),
          b1,
          T(1) - b1,
          b2,
          T(1) - b2,
          T(1) - mu_t,
          mu_next,
          T(1) - schedule_new,
          T(1) - schedule_next,
          T(1) - std::pow(b2, static_cast<T>(it + 1))};
}

/// The var update from this step's m and v.
template <class T>
TAPEFLOW_KERNEL_INLINE inline T nadam_step(T g, T m, T v, const Coefficients<T>& c) {
  const T g_prime = g / c.one_minus_schedule_new;
  const T m_prime = m / c.one_minus_schedule_next;
  const T v_prime = v / c.v_denominator;
  const T m_bar = c.one_minus_mu_t * g_prime + c.mu_next * m_prime;
  return c.lr * m_bar / (std::sqrt(v_prime) + c.eps);
}

template <class T>
TAPEFLOW_KERNEL_INLINE inline void dense_kernel(
    T* var, T* m, T* v, const T* g, std::size_t n, const Coefficients<T>& c) {
  for (std::size_t i = 0; i < n; ++i) {
    const T gi = g[i];
    const T mi = c.beta_1 * m[i] + c.one_minus_beta_1 * gi;
    m[i] = mi;
    const T vi = c.beta_2 * v[i] + c.one_minus_beta_2 * (gi * gi);
    v[i] = vi;
    var[i] = var[i] - nadam_step(gi, mi, vi, c);
  }
}

// One listed row, after every row of m and v decayed.
template <class T>
TAPEFLOW_KERNEL_INLINE inline void row_kernel(
    T* var, T* m, T* v, const T* g, std::size_t n, const Coefficients<T>& c) {
  for (std::size_t i = 0; i < n; ++i) {
    const T gi = g[i];
    const T mi = m[i] + gi * c.one_minus_beta_1;
    m[i] = mi;
    const T vi = v[i] + (gi * gi) * c.one_minus_beta_2;
    v[i] = vi;
    var[i] += -nadam_step(gi, mi, vi, c);
  }
}

template <class T>
TAPEFLOW_KERNEL_INLINE inline void scale_in_place(T* x, std::size_t n, T factor) {
  for (std::size_t i = 0; i < n; ++i) x[i] *= factor;
}

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
          "Nadam: keyword argument `schedule_decay` must be a number, received: {}",
          decay.dump());
    }
    out.erase("schedule_decay");
  }
  out["decay"] = decay;
  return out;
}

}  // namespace

NadamImpl::NadamImpl(LearningRate learning_rate, double beta_1, double beta_2, double epsilon,
                     std::string name, const Config& kwargs)
    : OptimizerImpl(kClassName, std::move(name), learning_rate,
                    nadam_kwargs(learning_rate, kwargs)),
      beta_1_(beta_1),
      beta_2_(beta_2),
      epsilon_(epsilon == 0 ? kDefaultEpsilon : epsilon) {
  decay_is_time_inverse_ = false;
}

double NadamImpl::momentum_decay() const {
  return keras_generation() == KerasGeneration::v2 ? decay() : 1.0;
}

double NadamImpl::step_learning_rate(double lr_t) const {
  // V2 uses the learning rate itself (no time-inverse decay, no schedule); Keras 2.11+ and 3
  // use this step's rate, which the base resolved (a schedule at the iteration count).
  return keras_generation() == KerasGeneration::v2 ? learning_rate().value() : lr_t;
}

Config NadamImpl::get_config() const {
  Config config = OptimizerImpl::get_config();
  config["beta_1"] = beta_1_;
  config["beta_2"] = beta_2_;
  config["epsilon"] = epsilon_;
  return config;
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
  for (const Variable& var : var_list) add_slot(var, "m");
  for (const Variable& var : var_list) add_slot(var, "v");
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
    *value = *value * momentum_at(static_cast<T>(beta_1_), momentum_decay(), it + 1);
  });
}

void NadamImpl::apply_dense(const Tensor& grad, Variable& var, double lr_t) {
  Variable m = get_slot(var, "m");
  Variable v = get_slot(var, "v");
  const std::int64_t it = detail::step_count(*this);
  tapeflow::detail::visit_floating(var.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = detail::data_of<T>(var);
    T* pm = detail::data_of<T>(m);
    T* pv = detail::data_of<T>(v);
    const T* g = grad.data<T>();
    const auto c = coefficients<T>(step_learning_rate(lr_t), beta_1_, beta_2_, epsilon_,
                                   momentum_decay(), cache_before_step_, it);
    detail::for_each_chunk(var.size(), [&](std::size_t o, std::size_t n) TAPEFLOW_KERNEL_INLINE {
      dense_kernel(p + o, pm + o, pv + o, g + o, n, c);
    });
  });
}

void NadamImpl::apply_sparse(const IndexedSlices& grad, Variable& var, double lr_t) {
  // Keras 2.11+ and 3 apply their dense rule to the densified gradient (every row moves).
  if (keras_generation() != KerasGeneration::v2) {
    OptimizerImpl::apply_sparse(grad, var, lr_t);
    return;
  }
  Variable m = get_slot(var, "m");
  Variable v = get_slot(var, "v");
  const std::int64_t it = detail::step_count(*this);
  tapeflow::detail::visit_floating(var.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const auto c = coefficients<T>(step_learning_rate(lr_t), beta_1_, beta_2_, epsilon_,
                                   momentum_decay(), cache_before_step_, it);
    T* pvar = detail::data_of<T>(var);
    T* pm = detail::data_of<T>(m);
    T* pv = detail::data_of<T>(v);
    const T* g = grad.values.data<T>();
    scale_in_place(pm, var.size(), c.beta_1);
    scale_in_place(pv, var.size(), c.beta_2);
    detail::for_each_row(
        grad, [&](std::size_t at, std::size_t from, std::size_t n) TAPEFLOW_KERNEL_INLINE {
          row_kernel(pvar + at, pm + at, pv + at, g + from, n, c);
        });
  });
}

Nadam::Nadam(LearningRate learning_rate, double beta_1, double beta_2, double epsilon,
             std::string name, const Config& kwargs)
    : Optimizer(std::make_shared<NadamImpl>(std::move(learning_rate), beta_1, beta_2, epsilon,
                                            std::move(name), kwargs)) {}

Nadam Nadam::from_config(const Config& config, const CustomObjects& custom_objects) {
  detail::ConfigReader read(kClassName, config, custom_objects);
  LearningRate learning_rate = read.learning_rate(0.001);
  const double beta_1 = read.number("beta_1", 0.9, false, 0, 1);
  const double beta_2 = read.number("beta_2", 0.999, false, 0, 1);
  const double epsilon = read.epsilon(kDefaultEpsilon);
  std::string name = read.name(kClassName);
  Config kwargs = read.kwargs();
  if (kwargs.contains("decay") && !kwargs.contains("schedule_decay")) {
    kwargs["schedule_decay"] = kwargs["decay"];
  }
  kwargs.erase("decay");
  if (read.generation() == KerasGeneration::v2 || !learning_rate.is_schedule()) {
    return read.finish(
        Nadam(std::move(learning_rate), beta_1, beta_2, epsilon, std::move(name), kwargs));
  }
  // Keras 2.11+ and 3 accept a schedule, which the V2 constructor refuses: build with a
  // number, switch the generation, then set the schedule.
  Nadam out = read.finish(Nadam(0.001, beta_1, beta_2, epsilon, std::move(name), kwargs));
  out.set_learning_rate(std::move(learning_rate));
  return out;
}

}  // namespace tapeflow::optim
