#include "tapeflow/optim/rmsprop.hpp"

#include <cmath>
#include <cstddef>

#include "tapeflow/core/check.hpp"
#include "tapeflow/optim/config_reader.hpp"
#include "tapeflow/optim/kernels.hpp"

namespace tapeflow::optim {

namespace {

constexpr const char* kClassName = "RMSprop";
constexpr double kDefaultEpsilon = 1e-7;

template <class T>
struct Coefficients {
  T lr, rho, one_minus_rho, momentum, eps;
};

template <class T>
Coefficients<T> coefficients(double lr_t, double rho, double momentum, double epsilon) {
  const T r = static_cast<T>(rho);
  return {static_cast<T>(lr_t), r, T(1) - r, static_cast<T>(momentum), static_cast<T>(epsilon)};
}

// The rule without momentum: ε outside the sqrt (V2's Python path) or, kInside, inside it
// (Keras 2.11+ and 3). `mg` is null unless centered.
template <bool kCentered, bool kInside, class T>
TAPEFLOW_KERNEL_INLINE inline void plain_kernel(
    T* var, T* rms, T* mg, const T* g, std::size_t n, const Coefficients<T>& c) {
  for (std::size_t i = 0; i < n; ++i) {
    const T gi = g[i];
    const T r = c.rho * rms[i] + c.one_minus_rho * (gi * gi);
    rms[i] = r;
    T den = r;
    if (kCentered) {
      const T a = c.rho * mg[i] + c.one_minus_rho * gi;
      mg[i] = a;
      den = r - a * a;
    }
    var[i] = var[i] - c.lr * gi / (kInside ? std::sqrt(den + c.eps) : std::sqrt(den) + c.eps);
  }
}

// TF's (Centered)RMSProp kernels (momentum > 0): ε inside the sqrt. The arrays never overlap
// (__restrict) and the coefficients are read once: centered, GCC otherwise needs more run-time
// alias checks than it allows (vect-max-version-for-alias-checks) and leaves the loop scalar.
template <bool kCentered, class T>
TAPEFLOW_KERNEL_INLINE inline void momentum_kernel(T* __restrict var,
                                                   T* __restrict rms,
                                                   T* __restrict mom,
                                                   T* __restrict mg,
                                                   const T* __restrict g,
                                                   std::size_t n,
                                                   const Coefficients<T>& c) {
  const T one_minus_rho = c.one_minus_rho;
  const T momentum = c.momentum;
  const T lr = c.lr;
  const T eps = c.eps;
  for (std::size_t i = 0; i < n; ++i) {
    const T gi = g[i];
    const T r = rms[i] + (gi * gi - rms[i]) * one_minus_rho;
    rms[i] = r;
    T den = r + eps;
    if (kCentered) {
      const T a = mg[i] + (gi - mg[i]) * one_minus_rho;
      mg[i] = a;
      den = r - a * a + eps;
    }
    const T m = momentum * mom[i] + lr * gi / std::sqrt(den);
    mom[i] = m;
    var[i] -= m;
  }
}

// The V2 sparse rule without momentum, on one listed row whose rms (and mg) already decayed.
template <bool kCentered, class T>
TAPEFLOW_KERNEL_INLINE inline void plain_row_kernel(
    T* var, T* rms, T* mg, const T* g, std::size_t n, const Coefficients<T>& c) {
  for (std::size_t i = 0; i < n; ++i) {
    const T gi = g[i];
    const T r = rms[i] + (gi * gi) * c.one_minus_rho;
    rms[i] = r;
    T den = r;
    if (kCentered) {
      const T a = mg[i] + gi * c.one_minus_rho;
      mg[i] = a;
      den = r - a * a;
    }
    var[i] += -c.lr * gi / (std::sqrt(den) + c.eps);
  }
}

template <class T>
TAPEFLOW_KERNEL_INLINE inline void scale_in_place(T* x, std::size_t n, T factor) {
  for (std::size_t i = 0; i < n; ++i) x[i] *= factor;
}

}  // namespace

RMSpropImpl::RMSpropImpl(LearningRate learning_rate, double rho, double momentum, double epsilon,
                         bool centered, std::string name, const Config& kwargs)
    : OptimizerImpl(kClassName, std::move(name), std::move(learning_rate), kwargs),
      rho_(rho),
      momentum_(momentum),
      epsilon_(epsilon == 0 ? kDefaultEpsilon : epsilon),
      centered_(centered) {
  if (momentum < 0 || momentum > 1) {
    tapeflow::detail::throw_value_error(
        "`momentum` must be between [0, 1]. Received: momentum={} (of type <class 'float'>).",
        Config(momentum).dump());
  }
  set_weights_prepends_iterations_ = true;
}

Config RMSpropImpl::get_config() const {
  Config config = OptimizerImpl::get_config();
  config["rho"] = rho_;
  config["momentum"] = momentum_;
  config["epsilon"] = epsilon_;
  config["centered"] = centered_;
  return config;
}

void RMSpropImpl::create_slots(const std::vector<Variable>& var_list) {
  for (const Variable& var : var_list) add_slot(var, "rms");
  if (momentum_ > 0) {
    for (const Variable& var : var_list) add_slot(var, "momentum");
  }
  if (centered_) {
    for (const Variable& var : var_list) add_slot(var, "mg");
  }
}

void RMSpropImpl::apply_dense(const Tensor& grad, Variable& var, double lr_t) {
  Variable rms = get_slot(var, "rms");
  Variable mom = momentum_ > 0 ? get_slot(var, "momentum") : rms;
  Variable mg = centered_ ? get_slot(var, "mg") : rms;
  tapeflow::detail::visit_floating(var.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const auto c = coefficients<T>(lr_t, rho_, momentum_, epsilon_);
    T* v = detail::data_of<T>(var);
    T* r = detail::data_of<T>(rms);
    T* a = centered_ ? detail::data_of<T>(mg) : nullptr;
    const T* g = grad.data<T>();
    T* m = momentum_ > 0 ? detail::data_of<T>(mom) : nullptr;
    const bool inside = keras_generation() != KerasGeneration::v2;
    detail::for_each_chunk(var.size(), [&](std::size_t o, std::size_t n) TAPEFLOW_KERNEL_INLINE {
      T* ao = detail::offset(a, o);
      if (m != nullptr) {
        centered_ ? momentum_kernel<true>(v + o, r + o, m + o, ao, g + o, n, c)
                  : momentum_kernel<false>(v + o, r + o, m + o, ao, g + o, n, c);
      } else if (centered_) {
        inside ? plain_kernel<true, true>(v + o, r + o, ao, g + o, n, c)
               : plain_kernel<true, false>(v + o, r + o, ao, g + o, n, c);
      } else {
        inside ? plain_kernel<false, true>(v + o, r + o, ao, g + o, n, c)
               : plain_kernel<false, false>(v + o, r + o, ao, g + o, n, c);
      }
    });
  });
}

void RMSpropImpl::apply_sparse(const IndexedSlices& grad, Variable& var, double lr_t) {
  // Keras 2.11+ and 3 apply their dense rule to the densified gradient (every row decays).
  if (keras_generation() != KerasGeneration::v2) {
    OptimizerImpl::apply_sparse(grad, var, lr_t);
    return;
  }
  Variable rms = get_slot(var, "rms");
  Variable mom = momentum_ > 0 ? get_slot(var, "momentum") : rms;
  Variable mg = centered_ ? get_slot(var, "mg") : rms;
  tapeflow::detail::visit_floating(var.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const auto c = coefficients<T>(lr_t, rho_, momentum_, epsilon_);
    T* v = detail::data_of<T>(var);
    T* r = detail::data_of<T>(rms);
    T* a = centered_ ? detail::data_of<T>(mg) : nullptr;
    const T* g = grad.values.data<T>();
    if (momentum_ > 0) {
      T* m = detail::data_of<T>(mom);
      detail::for_each_row(
          grad, [&](std::size_t at, std::size_t from, std::size_t n) TAPEFLOW_KERNEL_INLINE {
            T* a_at = a ? a + at : nullptr;
            centered_ ? momentum_kernel<true>(v + at, r + at, m + at, a_at, g + from, n, c)
                      : momentum_kernel<false>(v + at, r + at, m + at, a_at, g + from, n, c);
          });
      return;
    }
    // V2 decays every row of the accumulators, then adds the listed rows' gradients.
    scale_in_place(r, var.size(), c.rho);
    if (a) scale_in_place(a, var.size(), c.rho);
    detail::for_each_row(
        grad, [&](std::size_t at, std::size_t from, std::size_t n) TAPEFLOW_KERNEL_INLINE {
          T* a_at = a ? a + at : nullptr;
          centered_ ? plain_row_kernel<true>(v + at, r + at, a_at, g + from, n, c)
                    : plain_row_kernel<false>(v + at, r + at, a_at, g + from, n, c);
        });
  });
}

RMSprop::RMSprop(LearningRate learning_rate, double rho, double momentum, double epsilon,
                 bool centered, std::string name, const Config& kwargs)
    : Optimizer(std::make_shared<RMSpropImpl>(std::move(learning_rate), rho, momentum, epsilon,
                                              centered, std::move(name), kwargs)) {}

RMSprop RMSprop::from_config(const Config& config, const CustomObjects& custom_objects) {
  detail::ConfigReader read(kClassName, config, custom_objects);
  LearningRate learning_rate = read.learning_rate(0.001);
  const double rho = read.number("rho", 0.9, false, 0, 1);
  const double momentum = read.number("momentum", 0.0);
  const double epsilon = read.epsilon(kDefaultEpsilon);
  const bool centered = read.boolean("centered", false);
  std::string name = read.name(kClassName);
  return read.finish(RMSprop(std::move(learning_rate), rho, momentum, epsilon, centered,
                             std::move(name), read.kwargs()));
}

}  // namespace tapeflow::optim
