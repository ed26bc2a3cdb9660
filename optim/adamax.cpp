#include "tapeflow/optim/adamax.hpp"

#include <cmath>
#include <cstddef>

#include "tapeflow/optim/config_reader.hpp"
#include "tapeflow/optim/kernels.hpp"

namespace tapeflow::optim {

namespace {

constexpr const char* kClassName = "Adamax";
constexpr double kDefaultEpsilon = 1e-7;

template <class T>
struct Coefficients {
  T scaled_lr, beta_1, one_minus_beta_1, beta_2, eps;
};

/// lr_t/(1-β₁ᵗ) at t = it + 1, in T.
template <class T>
Coefficients<T> coefficients(double lr_t, double beta_1, double beta_2, double epsilon,
                             std::int64_t it) {
  const T b1 = static_cast<T>(beta_1);
  const T b1_power = std::pow(b1, static_cast<T>(it + 1));
  return {static_cast<T>(lr_t) / (T(1) - b1_power), b1, T(1) - b1, static_cast<T>(beta_2),
          static_cast<T>(epsilon)};
}

// TF's ApplyAdaMax (dense) and V2's gather/scatter rule (rows): m's update is written in each
// one's own form, equal up to rounding.
template <bool kSparseForm, class T>
TAPEFLOW_KERNEL_INLINE inline void adamax_kernel(
    T* var, T* m, T* v, const T* g, std::size_t n, const Coefficients<T>& c) {
  for (std::size_t i = 0; i < n; ++i) {
    const T gi = g[i];
    const T mi = kSparseForm ? m[i] * c.beta_1 + gi * c.one_minus_beta_1
                             : m[i] + (gi - m[i]) * c.one_minus_beta_1;
    m[i] = mi;
    const T decayed = c.beta_2 * v[i];
    const T abs_g = std::abs(gi);
    const T vi = decayed < abs_g ? abs_g : decayed;
    v[i] = vi;
    var[i] -= c.scaled_lr * (mi / (vi + c.eps));
  }
}

}  // namespace

AdamaxImpl::AdamaxImpl(LearningRate learning_rate, double beta_1, double beta_2, double epsilon,
                       std::string name, const Config& kwargs)
    : OptimizerImpl(kClassName, std::move(name), std::move(learning_rate), kwargs),
      beta_1_(beta_1),
      beta_2_(beta_2),
      epsilon_(epsilon == 0 ? kDefaultEpsilon : epsilon) {}

Config AdamaxImpl::get_config() const {
  Config config = OptimizerImpl::get_config();
  config["beta_1"] = beta_1_;
  config["beta_2"] = beta_2_;
  config["epsilon"] = epsilon_;
  return config;
}

void AdamaxImpl::create_slots(const std::vector<Variable>& var_list) {
  for (const Variable& var : var_list) add_slot(var, "m");
  for (const Variable& var : var_list) add_slot(var, "v");
}

void AdamaxImpl::apply_dense(const Tensor& grad, Variable& var, double lr_t) {
  Variable m = get_slot(var, "m");
  Variable v = get_slot(var, "v");
  const std::int64_t it = detail::step_count(*this);
  tapeflow::detail::visit_floating(var.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = detail::data_of<T>(var);
    T* pm = detail::data_of<T>(m);
    T* pv = detail::data_of<T>(v);
    const T* g = grad.data<T>();
    const auto c = coefficients<T>(lr_t, beta_1_, beta_2_, epsilon_, it);
    detail::for_each_chunk(var.size(), [&](std::size_t o, std::size_t n) TAPEFLOW_KERNEL_INLINE {
      adamax_kernel<false>(p + o, pm + o, pv + o, g + o, n, c);
    });
  });
}

void AdamaxImpl::apply_sparse(const IndexedSlices& grad, Variable& var, double lr_t) {
  Variable m = get_slot(var, "m");
  Variable v = get_slot(var, "v");
  const std::int64_t it = detail::step_count(*this);
  tapeflow::detail::visit_floating(var.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const auto c = coefficients<T>(lr_t, beta_1_, beta_2_, epsilon_, it);
    T* pvar = detail::data_of<T>(var);
    T* pm = detail::data_of<T>(m);
    T* pv = detail::data_of<T>(v);
    const T* g = grad.values.data<T>();
    detail::for_each_row(
        grad, [&](std::size_t at, std::size_t from, std::size_t n) TAPEFLOW_KERNEL_INLINE {
          adamax_kernel<true>(pvar + at, pm + at, pv + at, g + from, n, c);
        });
  });
}

Adamax::Adamax(LearningRate learning_rate, double beta_1, double beta_2, double epsilon,
               std::string name, const Config& kwargs)
    : Optimizer(std::make_shared<AdamaxImpl>(std::move(learning_rate), beta_1, beta_2, epsilon,
                                             std::move(name), kwargs)) {}

Adamax Adamax::from_config(const Config& config, const CustomObjects& custom_objects) {
  detail::ConfigReader read(kClassName, config, custom_objects);
  LearningRate learning_rate = read.learning_rate(0.001);
  const double beta_1 = read.number("beta_1", 0.9, false, 0, 1);
  const double beta_2 = read.number("beta_2", 0.999, false, 0, 1);
  const double epsilon = read.epsilon(kDefaultEpsilon);
  std::string name = read.name(kClassName);
  return read.finish(Adamax(std::move(learning_rate), beta_1, beta_2, epsilon, std::move(name),
                            read.kwargs()));
}

}  // namespace tapeflow::optim
