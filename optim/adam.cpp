#include "tapeflow/optim/adam.hpp"

#include <cmath>
#include <cstddef>

#include "tapeflow/core/check.hpp"
#include "tapeflow/optim/config_reader.hpp"
#include "tapeflow/optim/kernels.hpp"

namespace tapeflow::optim {

namespace {

constexpr const char* kClassName = "Adam";
constexpr double kDefaultEpsilon = 1e-7;

template <class T>
struct Coefficients {
  T alpha, beta_1, one_minus_beta_1, beta_2, one_minus_beta_2, eps;
};

/// Keras's _prepare_local: powers at t = it + 1 and the bias-corrected rate, in T.
template <class T>
Coefficients<T> coefficients(double lr_t, double beta_1, double beta_2, double epsilon,
                             std::int64_t it) {
  const T b1 = static_cast<T>(beta_1);
  const T b2 = static_cast<T>(beta_2);
  const T t = static_cast<T>(it + 1);
  const T b1_power = std::pow(b1, t);
  const T b2_power = std::pow(b2, t);
  const T alpha = static_cast<T>(lr_t) * (std::sqrt(T(1) - b2_power) / (T(1) - b1_power));
  return {alpha, b1, T(1) - b1, b2, T(1) - b2, static_cast<T>(epsilon)};
}

// TF's ApplyAdam / ApplyAdamWithAmsgrad. `vhat` is null unless amsgrad. The arrays never overlap
// (__restrict) and the coefficients are read once: with vhat, GCC otherwise needs more run-time
// alias checks than it allows (vect-max-version-for-alias-checks) and leaves the loop scalar.
template <bool kAmsgrad, class T>
TAPEFLOW_KERNEL_INLINE inline void dense_kernel(T* __restrict var,
                                                T* __restrict m,
                                                T* __restrict v,
                                                T* __restrict vhat,
                                                const T* __restrict g,
                                                std::size_t n,
                                                const Coefficients<T>& c) {
  const T one_minus_beta_1 = c.one_minus_beta_1;
  const T one_minus_beta_2 = c.one_minus_beta_2;
  const T alpha = c.alpha;
  const T eps = c.eps;
  for (std::size_t i = 0; i < n; ++i) {
    const T gi = g[i];
    const T mi = m[i] + (gi - m[i]) * one_minus_beta_1;
    m[i] = mi;
    T vi = v[i] + (gi * gi - v[i]) * one_minus_beta_2;
    v[i] = vi;
    if (kAmsgrad) {
      vi = vhat[i] < vi ? vi : vhat[i];
      vhat[i] = vi;
    }
    var[i] -= (mi * alpha) / (std::sqrt(vi) + eps);
  }
}

// V2's sparse rule on one row: decay, add the gradient when the row has one, move var.
template <bool kAmsgrad, bool kHasGrad, class T>
TAPEFLOW_KERNEL_INLINE inline void sparse_row_kernel(
    T* var, T* m, T* v, T* vhat, const T* g, std::size_t n, const Coefficients<T>& c) {
  for (std::size_t i = 0; i < n; ++i) {
    T mi = m[i] * c.beta_1;
    T vi = v[i] * c.beta_2;
    if (kHasGrad) {
      mi += g[i] * c.one_minus_beta_1;
      vi += (g[i] * g[i]) * c.one_minus_beta_2;
    }
    m[i] = mi;
    v[i] = vi;
    if (kAmsgrad) {
      vi = vhat[i] < vi ? vi : vhat[i];
      vhat[i] = vi;
    }
    var[i] -= c.alpha * mi / (std::sqrt(vi) + c.eps);
  }
}

// Every row of the variable; `slice_of[row]` is its row in `g`, or -1 (no gradient).
template <bool kAmsgrad, class T>
TAPEFLOW_KERNEL_INLINE inline void sparse_kernel(T* var,
                                                 T* m,
                                                 T* v,
                                                 T* vhat,
                                                 const T* g,
                                                 const std::int64_t* slice_of,
                                                 std::size_t rows,
                                                 std::size_t row_size,
                                                 const Coefficients<T>& c) {
  for (std::size_t row = 0; row < rows; ++row) {
    const std::size_t at = row * row_size;
    T* vhat_at = kAmsgrad ? vhat + at : nullptr;
    if (slice_of[row] >= 0) {
      const T* g_row = g + static_cast<std::size_t>(slice_of[row]) * row_size;
      sparse_row_kernel<kAmsgrad, true>(var + at, m + at, v + at, vhat_at, g_row, row_size, c);
    } else {
      sparse_row_kernel<kAmsgrad, false>(var + at, m + at, v + at, vhat_at, g, row_size, c);
    }
  }
}

}  // namespace

AdamImpl::AdamImpl(LearningRate learning_rate, double beta_1, double beta_2, double epsilon,
                   bool amsgrad, std::string name, const Config& kwargs)
    : OptimizerImpl(kClassName, std::move(name), std::move(learning_rate), kwargs),
      beta_1_(beta_1),
      beta_2_(beta_2),
      epsilon_(epsilon == 0 ? kDefaultEpsilon : epsilon),
      amsgrad_(amsgrad) {}

Config AdamImpl::get_config() const {
  Config config = OptimizerImpl::get_config();
  config["beta_1"] = beta_1_;
  config["beta_2"] = beta_2_;
  config["epsilon"] = epsilon_;
  config["amsgrad"] = amsgrad_;
  return config;
}

std::vector<Tensor> AdamImpl::normalize_weight_list(const std::vector<Tensor>& weights,
                                                    std::size_t own) const {
  // Keras v1 Adam saved vhat even without amsgrad: 3n + 1 weights where V2 has 2n + 1.
  const std::size_t num_vars = own == 0 ? 0 : (own - 1) / 2;
  if (weights.size() == 3 * num_vars + 1 && weights.size() > own) {
    return std::vector<Tensor>(weights.begin(), weights.begin() + static_cast<std::ptrdiff_t>(own));
  }
  return OptimizerImpl::normalize_weight_list(weights, own);
}

void AdamImpl::create_slots(const std::vector<Variable>& var_list) {
  for (const Variable& var : var_list) add_slot(var, "m");
  for (const Variable& var : var_list) add_slot(var, "v");
  if (amsgrad_) {
    for (const Variable& var : var_list) add_slot(var, "vhat");
  }
}

void AdamImpl::apply_dense(const Tensor& grad, Variable& var, double lr_t) {
  Variable m = get_slot(var, "m");
  Variable v = get_slot(var, "v");
  Variable vhat = amsgrad_ ? get_slot(var, "vhat") : v;
  const std::int64_t it = detail::step_count(*this);
  tapeflow::detail::visit_floating(var.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const auto c = coefficients<T>(lr_t, beta_1_, beta_2_, epsilon_, it);
    T* p = detail::data_of<T>(var);
    T* pm = detail::data_of<T>(m);
    T* pv = detail::data_of<T>(v);
    const T* g = grad.data<T>();
    T* ph = amsgrad_ ? detail::data_of<T>(vhat) : nullptr;
    detail::for_each_chunk(var.size(), [&](std::size_t o, std::size_t n) TAPEFLOW_KERNEL_INLINE {
      if (ph != nullptr) {
        dense_kernel<true>(p + o, pm + o, pv + o, ph + o, g + o, n, c);
      } else {
        dense_kernel<false>(p + o, pm + o, pv + o, ph, g + o, n, c);
      }
    });
  });
}

void AdamImpl::apply_sparse(const IndexedSlices& grad, Variable& var, double lr_t) {
  Variable m = get_slot(var, "m");
  Variable v = get_slot(var, "v");
  Variable vhat = amsgrad_ ? get_slot(var, "vhat") : v;
  const std::int64_t it = detail::step_count(*this);
  const std::size_t rows = var.shape()[0];
  const std::size_t row_size = rows == 0 ? 0 : var.size() / rows;
  const std::int64_t* slice_of = detail::build_row_map(row_map_, grad, rows);
  tapeflow::detail::visit_floating(var.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const auto c = coefficients<T>(lr_t, beta_1_, beta_2_, epsilon_, it);
    T* p = detail::data_of<T>(var);
    T* pm = detail::data_of<T>(m);
    T* pv = detail::data_of<T>(v);
    const T* g = grad.values.data<T>();
    T* ph = amsgrad_ ? detail::data_of<T>(vhat) : nullptr;
    detail::run_simd(tapeflow::detail::simd_level(), [&]() TAPEFLOW_KERNEL_INLINE {
      if (amsgrad_) {
        sparse_kernel<true>(p, pm, pv, ph, g, slice_of, rows, row_size, c);
      } else {
        sparse_kernel<false>(p, pm, pv, ph, g, slice_of, rows, row_size, c);
      }
    });
  });
}

Adam::Adam(LearningRate learning_rate, double beta_1, double beta_2, double epsilon, bool amsgrad,
           std::string name, const Config& kwargs)
    : Optimizer(std::make_shared<AdamImpl>(std::move(learning_rate), beta_1, beta_2, epsilon,
                                           amsgrad, std::move(name), kwargs)) {}

Adam Adam::from_config(const Config& config, const CustomObjects& custom_objects) {
  detail::ConfigReader read(kClassName, config, custom_objects);
  LearningRate learning_rate = read.learning_rate(0.001);
  const double beta_1 = read.number("beta_1", 0.9, false, 0, 1);
  const double beta_2 = read.number("beta_2", 0.999, false, 0, 1);
  const double epsilon = read.epsilon(kDefaultEpsilon);
  const bool amsgrad = read.boolean("amsgrad", false);
  std::string name = read.name(kClassName);
  return read.finish(Adam(std::move(learning_rate), beta_1, beta_2, epsilon, amsgrad,
                          std::move(name), read.kwargs()));
}

}  // namespace tapeflow::optim
