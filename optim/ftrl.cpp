#include "tapeflow/optim/ftrl.hpp"

#include <cmath>
#include <cstddef>

#include "tapeflow/core/check.hpp"
#include "tapeflow/optim/config_reader.hpp"
#include "tapeflow/optim/kernels.hpp"

namespace tapeflow::optim {

namespace {

constexpr const char* kClassName = "Ftrl";

template <class T>
struct Coefficients {
  T lr, l1, l2, shrinkage, power;
};

/// x^(-p); the default p = -0.5 is a square root (TF special-cases it too).
template <bool kSqrt, class T>
TAPEFLOW_KERNEL_INLINE inline T neg_power(T x, T p) {
  return kSqrt ? std::sqrt(x) : std::pow(x, -p);
}

// ---- the kernel, on [0, n) of var, acc, linear and g, in place --------------------------------
// Written once, as the scalar rule. GCC vectorizes the √ form only because this file is built
// with -fno-trapping-math (root meson.build): otherwise it sinks the division into the
// |linear| > l1 branch and will not if-convert it there, since a division may trap. The flag
// changes no value; pow (p != -0.5) stays scalar. The restrict pointers and the local copy of
// the coefficients spare the loop GCC's runtime alias checks.

template <bool kSqrt, bool kShrinkage, class T>
TAPEFLOW_KERNEL_INLINE inline void ftrl_kernel(T* __restrict var,
                                               T* __restrict acc,
                                               T* __restrict linear,
                                               const T* __restrict g,
                                               std::size_t n,
                                               const Coefficients<T>& coefficients) {
  const Coefficients<T> c = coefficients;
  for (std::size_t i = 0; i < n; ++i) {
    const T gi = g[i];
    const T w = var[i];
    const T g_s = kShrinkage ? gi + T(2) * c.shrinkage * w : gi;
    const T a = acc[i];
    const T new_acc = a + gi * gi;
    const T new_pow = neg_power<kSqrt>(new_acc, c.power);
    const T lin = linear[i] + (g_s - (new_pow - neg_power<kSqrt>(a, c.power)) / c.lr * w);
    linear[i] = lin;
    const T quad = new_pow / c.lr + T(2) * c.l2;
    const T sign = lin > T(0) ? T(1) : (lin < T(0) ? T(-1) : T(0));
    var[i] = std::abs(lin) > c.l1 ? (sign * c.l1 - lin) / quad : T(0);
    acc[i] = new_acc;
  }
}

template <class T>
TAPEFLOW_KERNEL_INLINE inline void ftrl_update(
    T* var, T* acc, T* linear, const T* g, std::size_t n, const Coefficients<T>& c) {
  const bool sqrt_form = c.power == T(-0.5);
  const bool shrinkage = c.shrinkage > T(0);
  if (sqrt_form) {
    shrinkage ? ftrl_kernel<true, true>(var, acc, linear, g, n, c)
              : ftrl_kernel<true, false>(var, acc, linear, g, n, c);
  } else {
    shrinkage ? ftrl_kernel<false, true>(var, acc, linear, g, n, c)
              : ftrl_kernel<false, false>(var, acc, linear, g, n, c);
  }
}

/// lr, l1, l2' = l2 + β/(2·lr), shrinkage and p in T (Keras adjusts l2 in the variable's dtype).
template <class T>
Coefficients<T> coefficients(double lr_t, double l1, double l2, double beta, double shrinkage,
                             double power) {
  const T lr = static_cast<T>(lr_t);
  return {lr, static_cast<T>(l1), static_cast<T>(l2) + static_cast<T>(beta) / (T(2) * lr),
          static_cast<T>(shrinkage), static_cast<T>(power)};
}

void check_non_negative(double value, const char* name) {
  if (value < 0) {
    tapeflow::detail::throw_value_error(
        "`{0}` needs to be positive or zero. Received: {0}={1}.", name, Config(value).dump());
  }
}

}  // namespace

FtrlImpl::FtrlImpl(LearningRate learning_rate, double learning_rate_power,
                   double initial_accumulator_value, double l1_regularization_strength,
                   double l2_regularization_strength, std::string name,
                   double l2_shrinkage_regularization_strength, double beta,
                   const Config& kwargs)
    : OptimizerImpl(kClassName, std::move(name), learning_rate, kwargs),
      learning_rate_power_(learning_rate_power),
      initial_accumulator_value_(initial_accumulator_value),
      l1_(l1_regularization_strength),
      l2_(l2_regularization_strength),
      l2_shrinkage_(l2_shrinkage_regularization_strength),
      beta_(beta) {
  check_non_negative(initial_accumulator_value, "initial_accumulator_value");
  if (learning_rate_power > 0) {
    tapeflow::detail::throw_value_error(
        "`learning_rate_power` needs to be negative or zero. Received: learning_rate_power={}.",
        Config(learning_rate_power).dump());
  }
  check_non_negative(l1_regularization_strength, "l1_regularization_strength");
  check_non_negative(l2_regularization_strength, "l2_regularization_strength");
  check_non_negative(l2_shrinkage_regularization_strength, "l2_shrinkage_regularization_strength");
  // Keras's Ftrl sets its learning rate from the argument alone: an `lr` kwarg has no effect.
  set_learning_rate(std::move(learning_rate));
}

Config FtrlImpl::get_config() const {
  Config config = OptimizerImpl::get_config();
  if (keras_generation() != KerasGeneration::v2) {  // Keras 2.11+ and 3 use another order
    config["learning_rate_power"] = learning_rate_power_;
    config["initial_accumulator_value"] = initial_accumulator_value_;
    config["l1_regularization_strength"] = l1_;
    config["l2_regularization_strength"] = l2_;
    config["l2_shrinkage_regularization_strength"] = l2_shrinkage_;
    config["beta"] = beta_;
    return config;
  }
  config["initial_accumulator_value"] = initial_accumulator_value_;
  config["learning_rate_power"] = learning_rate_power_;
  config["l1_regularization_strength"] = l1_;
  config["l2_regularization_strength"] = l2_;
  config["beta"] = beta_;
  config["l2_shrinkage_regularization_strength"] = l2_shrinkage_;
  return config;
}

void FtrlImpl::create_slots(const std::vector<Variable>& var_list) {
  for (const Variable& var : var_list) {
    add_slot(var, "accumulator", initial_accumulator_value_);
    add_slot(var, "linear");
  }
}

void FtrlImpl::apply_dense(const Tensor& grad, Variable& var, double lr_t) {
  Variable acc = get_slot(var, "accumulator");
  Variable linear = get_slot(var, "linear");
  tapeflow::detail::visit_floating(var.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = detail::data_of<T>(var);
    T* pa = detail::data_of<T>(acc);
    T* pl = detail::data_of<T>(linear);
    const T* g = grad.data<T>();
    const auto c = coefficients<T>(lr_t, l1_, l2_, beta_, l2_shrinkage_, learning_rate_power_);
    detail::for_each_chunk(var.size(), [&](std::size_t o, std::size_t n) TAPEFLOW_KERNEL_INLINE {
      ftrl_update(p + o, pa + o, pl + o, g + o, n, c);
    });
  });
}

void FtrlImpl::apply_sparse(const IndexedSlices& grad, Variable& var, double lr_t) {
  Variable acc = get_slot(var, "accumulator");
  Variable linear = get_slot(var, "linear");
  tapeflow::detail::visit_floating(var.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const auto c = coefficients<T>(lr_t, l1_, l2_, beta_, l2_shrinkage_, learning_rate_power_);
    T* v = detail::data_of<T>(var);
    T* a = detail::data_of<T>(acc);
    T* l = detail::data_of<T>(linear);
    const T* g = grad.values.data<T>();
    detail::for_each_row(
        grad, [&](std::size_t at, std::size_t from, std::size_t n) TAPEFLOW_KERNEL_INLINE {
          ftrl_update(v + at, a + at, l + at, g + from, n, c);
        });
  });
}

Ftrl::Ftrl(LearningRate learning_rate, double learning_rate_power,
           double initial_accumulator_value, double l1_regularization_strength,
           double l2_regularization_strength, std::string name,
           double l2_shrinkage_regularization_strength, double beta, const Config& kwargs)
    : Optimizer(std::make_shared<FtrlImpl>(
          std::move(learning_rate), learning_rate_power, initial_accumulator_value,
          l1_regularization_strength, l2_regularization_strength, std::move(name),
          l2_shrinkage_regularization_strength, beta, kwargs)) {}

Ftrl Ftrl::from_config(const Config& config, const CustomObjects& custom_objects) {
  detail::ConfigReader read(kClassName, config, custom_objects);
  LearningRate learning_rate = read.learning_rate(0.001);
  const double power = read.number("learning_rate_power", -0.5);
  const double initial = read.number("initial_accumulator_value", 0.1);
  const double l1 = read.number("l1_regularization_strength", 0.0);
  const double l2 = read.number("l2_regularization_strength", 0.0);
  const double shrinkage = read.number("l2_shrinkage_regularization_strength", 0.0);
  const double beta = read.number("beta", 0.0, false, 0);
  std::string name = read.name(kClassName);
  return read.finish(Ftrl(std::move(learning_rate), power, initial, l1, l2, std::move(name),
                          shrinkage, beta, read.kwargs()));
}

}  // namespace tapeflow::optim
