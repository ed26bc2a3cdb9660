#include "tapeflow/optim/ftrl.hpp"

#include <cmath>
#include <cstddef>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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
inline T neg_power(T x, T p) {
  return kSqrt ? std::sqrt(x) : std::pow(x, -p);
}

// ---- the kernel, on [begin, end) of var, acc, linear and g, in place ---------------------------
// The scalar form is the reference and the whole rule for p != -0.5 (pow has no SIMD form that
// rounds as std::pow does). For the √ form the SSE2 forms below do the same IEEE operations in the
// same order, so every element gets the same bits either way. Written with intrinsics because GCC
// does not vectorize the scalar loop: it sinks the division into the |linear| > l1 branch and
// cannot if-convert it there (a division may trap).

template <bool kSqrt, bool kShrinkage, class T>
void ftrl_scalar(T* var,
                 T* acc,
                 T* linear,
                 const T* g,
                 std::size_t begin,
                 std::size_t end,
                 const Coefficients<T>& c) {
  for (std::size_t i = begin; i < end; ++i) {
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

// In the vector forms sign·l1 is a select of l1 or −l1 by lin > 0: where it is used,
// |lin| > l1 >= 0 rules out lin = 0 and NaN, so sign is ±1 and sign·l1 is exactly ±l1. A lane
// that keeps 0 is cleared with a mask (+0, as T(0)).

template <bool kShrinkage>
void ftrl_sqrt_kernel(float* var,
                      float* acc,
                      float* linear,
                      const float* g,
                      std::size_t n,
                      const Coefficients<float>& c) {
  std::size_t i = 0;
#if defined(__SSE2__)
  const __m128 lr = _mm_set1_ps(c.lr);
  const __m128 l1 = _mm_set1_ps(c.l1);
  const __m128 neg_l1 = _mm_set1_ps(-c.l1);
  const __m128 two_l2 = _mm_set1_ps(2.0f * c.l2);
  const __m128 two_shrinkage = _mm_set1_ps(2.0f * c.shrinkage);
  const __m128 abs_mask = _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff));
  const __m128 zero = _mm_setzero_ps();
  for (; i + 4 <= n; i += 4) {
    const __m128 gi = _mm_loadu_ps(g + i);
    const __m128 w = _mm_loadu_ps(var + i);
    const __m128 g_s = kShrinkage ? _mm_add_ps(gi, _mm_mul_ps(two_shrinkage, w)) : gi;
    const __m128 a = _mm_loadu_ps(acc + i);
    const __m128 new_acc = _mm_add_ps(a, _mm_mul_ps(gi, gi));
    const __m128 new_pow = _mm_sqrt_ps(new_acc);
    const __m128 sigma = _mm_div_ps(_mm_sub_ps(new_pow, _mm_sqrt_ps(a)), lr);
    const __m128 lin = _mm_add_ps(_mm_loadu_ps(linear + i), _mm_sub_ps(g_s, _mm_mul_ps(sigma, w)));
    _mm_storeu_ps(linear + i, lin);
    const __m128 quad = _mm_add_ps(_mm_div_ps(new_pow, lr), two_l2);
    const __m128 positive = _mm_cmpgt_ps(lin, zero);
    const __m128 sign_l1 = _mm_or_ps(_mm_and_ps(positive, l1), _mm_andnot_ps(positive, neg_l1));
    const __m128 shrunk = _mm_div_ps(_mm_sub_ps(sign_l1, lin), quad);
    const __m128 keep = _mm_cmpgt_ps(_mm_and_ps(lin, abs_mask), l1);
    _mm_storeu_ps(var + i, _mm_and_ps(keep, shrunk));
    _mm_storeu_ps(acc + i, new_acc);
  }
#endif
  ftrl_scalar<true, kShrinkage>(var, acc, linear, g, i, n, c);
}

template <bool kShrinkage>
void ftrl_sqrt_kernel(double* var,
                      double* acc,
                      double* linear,
                      const double* g,
                      std::size_t n,
                      const Coefficients<double>& c) {
  std::size_t i = 0;
#if defined(__SSE2__)
  const __m128d lr = _mm_set1_pd(c.lr);
  const __m128d l1 = _mm_set1_pd(c.l1);
  const __m128d neg_l1 = _mm_set1_pd(-c.l1);
  const __m128d two_l2 = _mm_set1_pd(2.0 * c.l2);
  const __m128d two_shrinkage = _mm_set1_pd(2.0 * c.shrinkage);
  const __m128d abs_mask = _mm_castsi128_pd(_mm_set1_epi64x(0x7fffffffffffffff));
  const __m128d zero = _mm_setzero_pd();
  for (; i + 2 <= n; i += 2) {
    const __m128d gi = _mm_loadu_pd(g + i);
    const __m128d w = _mm_loadu_pd(var + i);
    const __m128d g_s = kShrinkage ? _mm_add_pd(gi, _mm_mul_pd(two_shrinkage, w)) : gi;
    const __m128d a = _mm_loadu_pd(acc + i);
    const __m128d new_acc = _mm_add_pd(a, _mm_mul_pd(gi, gi));
    const __m128d new_pow = _mm_sqrt_pd(new_acc);
    const __m128d sigma = _mm_div_pd(_mm_sub_pd(new_pow, _mm_sqrt_pd(a)), lr);
    const __m128d lin = _mm_add_pd(_mm_loadu_pd(linear + i), _mm_sub_pd(g_s, _mm_mul_pd(sigma, w)));
    _mm_storeu_pd(linear + i, lin);
    const __m128d quad = _mm_add_pd(_mm_div_pd(new_pow, lr), two_l2);
    const __m128d positive = _mm_cmpgt_pd(lin, zero);
    const __m128d sign_l1 = _mm_or_pd(_mm_and_pd(positive, l1), _mm_andnot_pd(positive, neg_l1));
    const __m128d shrunk = _mm_div_pd(_mm_sub_pd(sign_l1, lin), quad);
    const __m128d keep = _mm_cmpgt_pd(_mm_and_pd(lin, abs_mask), l1);
    _mm_storeu_pd(var + i, _mm_and_pd(keep, shrunk));
    _mm_storeu_pd(acc + i, new_acc);
  }
#endif
  ftrl_scalar<true, kShrinkage>(var, acc, linear, g, i, n, c);
}

template <class T>
void ftrl_update(T* var, T* acc, T* linear, const T* g, std::size_t n, const Coefficients<T>& c) {
  const bool sqrt_form = c.power == T(-0.5);
  const bool shrinkage = c.shrinkage > T(0);
  if (sqrt_form) {
    shrinkage ? ftrl_sqrt_kernel<true>(var, acc, linear, g, n, c)
              : ftrl_sqrt_kernel<false>(var, acc, linear, g, n, c);
  } else {
    shrinkage ? ftrl_scalar<false, true>(var, acc, linear, g, 0, n, c)
              : ftrl_scalar<false, false>(var, acc, linear, g, 0, n, c);
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
    detail::for_each_chunk(var.size(), [&](std::size_t o, std::size_t n) {
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
    detail::for_each_row(grad, [&](std::size_t at, std::size_t from, std::size_t n) {
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
