#include "tapeflow/optim/sgd.hpp"

#include <cstddef>

#include "tapeflow/core/check.hpp"
#include "tapeflow/optim/config_reader.hpp"
#include "tapeflow/optim/kernels.hpp"

namespace tapeflow::optim {

namespace {

constexpr const char* kClassName = "SGD";

template <class T>
TAPEFLOW_KERNEL_INLINE inline void sgd_kernel(T* var, const T* g, std::size_t n, T lr) {
  for (std::size_t i = 0; i < n; ++i) var[i] -= lr * g[i];
}

// TF's ApplyKerasMomentum.
template <class T>
TAPEFLOW_KERNEL_INLINE inline void momentum_kernel(
    T* var, T* m, const T* g, std::size_t n, T lr, T mu, bool nesterov) {
  if (nesterov) {
    for (std::size_t i = 0; i < n; ++i) {
      const T mi = m[i] * mu - g[i] * lr;
      m[i] = mi;
      var[i] += mi * mu - g[i] * lr;
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      const T mi = m[i] * mu - g[i] * lr;
      m[i] = mi;
      var[i] += mi;
    }
  }
}

}  // namespace

SGDImpl::SGDImpl(LearningRate learning_rate, double momentum, bool nesterov, std::string name,
                 const Config& kwargs)
    : OptimizerImpl(kClassName, std::move(name), std::move(learning_rate), kwargs),
      momentum_(momentum),
      nesterov_(nesterov) {
  if (momentum < 0 || momentum > 1) {
    tapeflow::detail::throw_value_error(
        "`momentum` must be between [0, 1]. Received: momentum={} (of type <class 'float'>).",
        Config(momentum).dump());
  }
}

Config SGDImpl::get_config() const {
  Config config = OptimizerImpl::get_config();
  config["momentum"] = momentum_;
  config["nesterov"] = nesterov_;
  return config;
}

void SGDImpl::create_slots(const std::vector<Variable>& var_list) {
  if (!(momentum_ > 0)) return;
  for (const Variable& var : var_list) add_slot(var, "momentum");
}

void SGDImpl::apply_dense(const Tensor& grad, Variable& var, double lr_t) {
  tapeflow::detail::visit_floating(var.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T lr = static_cast<T>(lr_t);
    T* v = detail::data_of<T>(var);
    const T* g = grad.data<T>();
    if (momentum_ > 0) {
      Variable m_slot = get_slot(var, "momentum");
      T* m = detail::data_of<T>(m_slot);
      const T mu = static_cast<T>(momentum_);
      detail::for_each_chunk(var.size(), [&](std::size_t o, std::size_t n) TAPEFLOW_KERNEL_INLINE {
        momentum_kernel(v + o, m + o, g + o, n, lr, mu, nesterov_);
      });
    } else {
      detail::for_each_chunk(var.size(), [&](std::size_t o, std::size_t n) TAPEFLOW_KERNEL_INLINE {
        sgd_kernel(v + o, g + o, n, lr);
      });
    }
  });
}

void SGDImpl::apply_sparse(const IndexedSlices& grad, Variable& var, double lr_t) {
  tapeflow::detail::visit_floating(var.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T lr = static_cast<T>(lr_t);
    T* v = detail::data_of<T>(var);
    const T* g = grad.values.data<T>();
    if (momentum_ > 0) {
      Variable m_slot = get_slot(var, "momentum");
      T* m = detail::data_of<T>(m_slot);
      const T mu = static_cast<T>(momentum_);
      detail::for_each_row(
          grad, [&](std::size_t at, std::size_t from, std::size_t n) TAPEFLOW_KERNEL_INLINE {
            momentum_kernel(v + at, m + at, g + from, n, lr, mu, nesterov_);
          });
    } else {
      detail::for_each_row(grad,
                           [&](std::size_t at, std::size_t from, std::size_t n)
                               TAPEFLOW_KERNEL_INLINE { sgd_kernel(v + at, g + from, n, lr); });
    }
  });
}

SGD::SGD(LearningRate learning_rate, double momentum, bool nesterov, std::string name,
         const Config& kwargs)
    : Optimizer(std::make_shared<SGDImpl>(std::move(learning_rate), momentum, nesterov,
                                          std::move(name), kwargs)) {}

SGD SGD::from_config(const Config& config, const CustomObjects& custom_objects) {
  detail::ConfigReader read(kClassName, config, custom_objects);
  LearningRate learning_rate = read.learning_rate(0.01);
  const double momentum = read.number("momentum", 0.0);
  const bool nesterov = read.boolean("nesterov", false);
  std::string name = read.name(kClassName);
  return read.finish(
      SGD(std::move(learning_rate), momentum, nesterov, std::move(name), read.kwargs()));
}

}  // namespace tapeflow::optim
