#include "tapeflow/optim/adadelta.hpp"

#include <cmath>
#include <cstddef>

#include "tapeflow/optim/config_reader.hpp"
#include "tapeflow/optim/kernels.hpp"

namespace tapeflow::optim {

namespace {

constexpr const char* kClassName = "Adadelta";
constexpr double kDefaultEpsilon = 1e-7;

template <class T>
TAPEFLOW_KERNEL_INLINE inline void adadelta_kernel(
    T* var, T* ag, T* av, const T* g, std::size_t n, T lr, T rho, T eps) {
  const T one_minus_rho = T(1) - rho;
  for (std::size_t i = 0; i < n; ++i) {
    const T gi = g[i];
    const T a = ag[i] * rho + gi * gi * one_minus_rho;
    ag[i] = a;
    const T u = std::sqrt(av[i] + eps) / std::sqrt(a + eps) * gi;
    var[i] -= u * lr;
    av[i] = av[i] * rho + u * u * one_minus_rho;
  }
}

}  // namespace

AdadeltaImpl::AdadeltaImpl(LearningRate learning_rate, double rho, double epsilon,
                           std::string name, const Config& kwargs)
    : OptimizerImpl(kClassName, std::move(name), std::move(learning_rate), kwargs),
      rho_(rho),
      epsilon_(epsilon == 0 ? kDefaultEpsilon : epsilon) {
  set_weights_prepends_iterations_ = true;
}

Config AdadeltaImpl::get_config() const {
  Config config = OptimizerImpl::get_config();
  config["rho"] = rho_;
  config["epsilon"] = epsilon_;
  return config;
}

void AdadeltaImpl::create_slots(const std::vector<Variable>& var_list) {
  for (const Variable& var : var_list) add_slot(var, "accum_grad");
  for (const Variable& var : var_list) add_slot(var, "accum_var");
}

void AdadeltaImpl::apply_dense(const Tensor& grad, Variable& var, double lr_t) {
  Variable ag = get_slot(var, "accum_grad");
  Variable av = get_slot(var, "accum_var");
  tapeflow::detail::visit_floating(var.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = detail::data_of<T>(var);
    T* pg = detail::data_of<T>(ag);
    T* pv = detail::data_of<T>(av);
    const T* g = grad.data<T>();
    const T lr = static_cast<T>(lr_t), rho = static_cast<T>(rho_), eps = static_cast<T>(epsilon_);
    detail::for_each_chunk(var.size(), [&](std::size_t o, std::size_t n) TAPEFLOW_KERNEL_INLINE {
      adadelta_kernel(p + o, pg + o, pv + o, g + o, n, lr, rho, eps);
    });
  });
}

void AdadeltaImpl::apply_sparse(const IndexedSlices& grad, Variable& var, double lr_t) {
  Variable ag = get_slot(var, "accum_grad");
  Variable av = get_slot(var, "accum_var");
  tapeflow::detail::visit_floating(var.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* v = detail::data_of<T>(var);
    T* a = detail::data_of<T>(ag);
    T* u = detail::data_of<T>(av);
    const T* g = grad.values.data<T>();
    const T lr = static_cast<T>(lr_t), rho = static_cast<T>(rho_), eps = static_cast<T>(epsilon_);
    detail::for_each_row(
        grad, [&](std::size_t at, std::size_t from, std::size_t n) TAPEFLOW_KERNEL_INLINE {
          adadelta_kernel(v + at, a + at, u + at, g + from, n, lr, rho, eps);
        });
  });
}

Adadelta::Adadelta(LearningRate learning_rate, double rho, double epsilon, std::string name,
                   const Config& kwargs)
    : Optimizer(std::make_shared<AdadeltaImpl>(std::move(learning_rate), rho, epsilon,
                                               std::move(name), kwargs)) {}

Adadelta Adadelta::from_config(const Config& config, const CustomObjects& custom_objects) {
  detail::ConfigReader read(kClassName, config, custom_objects);
  LearningRate learning_rate = read.learning_rate(0.001);
  const double rho = read.number("rho", 0.95, false, 0, 1);
  const double epsilon = read.epsilon(kDefaultEpsilon);
  std::string name = read.name(kClassName);
  return read.finish(
      Adadelta(std::move(learning_rate), rho, epsilon, std::move(name), read.kwargs()));
}

}  // namespace tapeflow::optim
