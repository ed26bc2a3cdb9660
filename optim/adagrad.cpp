#include "tapeflow/optim/adagrad.hpp"

#include <cmath>
#include <cstddef>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "tapeflow/core/check.hpp"
#include "tapeflow/core/dispatch.hpp"
#include "tapeflow/optim/config_reader.hpp"
#include "tapeflow/optim/kernels.hpp"

namespace tapeflow::optim {

using tapeflow::detail::throw_value_error;

namespace {

constexpr const char* kClassName = "Adagrad";
constexpr double kDefaultEpsilon = 1e-7;  // Keras backend.epsilon()

// ---- the kernel: acc += g²; var -= g·lr / (√acc + ε)  (or / √(acc + ε)) ----------------------
// One pass over var, acc and g, in place. The scalar form is the reference; the SSE2 forms do the
// same IEEE operations in the same order (sqrt and div are correctly rounded in both), so every
// element gets the same bits either way. Written with intrinsics because GCC does not vectorize
// std::sqrt at -O2 (errno), which made the scalar loop 5x slower than memory bandwidth allows.

template <bool kInside, class T>
inline void adagrad_scalar(T* var, T* acc, const T* g, std::size_t begin, std::size_t end, T lr,
                           T eps) {
  for (std::size_t i = begin; i < end; ++i) {
    const T gi = g[i];
    const T a = acc[i] + gi * gi;
    acc[i] = a;
    const T denom = kInside ? std::sqrt(a + eps) : std::sqrt(a) + eps;
    var[i] = var[i] - gi * lr / denom;
  }
}

template <bool kInside>
void adagrad_kernel(float* var, float* acc, const float* g, std::size_t n, float lr, float eps) {
  std::size_t i = 0;
#if defined(__SSE2__)
  const __m128 vlr = _mm_set1_ps(lr);
  const __m128 veps = _mm_set1_ps(eps);
  for (; i + 4 <= n; i += 4) {
    const __m128 gi = _mm_loadu_ps(g + i);
    const __m128 a = _mm_add_ps(_mm_loadu_ps(acc + i), _mm_mul_ps(gi, gi));
    _mm_storeu_ps(acc + i, a);
    const __m128 denom =
        kInside ? _mm_sqrt_ps(_mm_add_ps(a, veps)) : _mm_add_ps(_mm_sqrt_ps(a), veps);
    const __m128 step = _mm_div_ps(_mm_mul_ps(gi, vlr), denom);
    _mm_storeu_ps(var + i, _mm_sub_ps(_mm_loadu_ps(var + i), step));
  }
#endif
  adagrad_scalar<kInside>(var, acc, g, i, n, lr, eps);
}

template <bool kInside>
void adagrad_kernel(double* var, double* acc, const double* g, std::size_t n, double lr,
                    double eps) {
  std::size_t i = 0;
#if defined(__SSE2__)
  const __m128d vlr = _mm_set1_pd(lr);
  const __m128d veps = _mm_set1_pd(eps);
  for (; i + 2 <= n; i += 2) {
    const __m128d gi = _mm_loadu_pd(g + i);
    const __m128d a = _mm_add_pd(_mm_loadu_pd(acc + i), _mm_mul_pd(gi, gi));
    _mm_storeu_pd(acc + i, a);
    const __m128d denom =
        kInside ? _mm_sqrt_pd(_mm_add_pd(a, veps)) : _mm_add_pd(_mm_sqrt_pd(a), veps);
    const __m128d step = _mm_div_pd(_mm_mul_pd(gi, vlr), denom);
    _mm_storeu_pd(var + i, _mm_sub_pd(_mm_loadu_pd(var + i), step));
  }
#endif
  adagrad_scalar<kInside>(var, acc, g, i, n, lr, eps);
}

template <class T>
void adagrad_update(T* var, T* acc, const T* g, std::size_t n, double lr_t, double epsilon,
                    bool inside) {
  const T lr = static_cast<T>(lr_t);
  const T eps = static_cast<T>(epsilon);
  if (inside) {
    adagrad_kernel<true>(var, acc, g, n, lr, eps);
  } else {
    adagrad_kernel<false>(var, acc, g, n, lr, eps);
  }
}

constexpr std::size_t kPrefetchAhead = 8;

/// Asks for every cache line of a row (for writing); a hint only, a no-op where unsupported.
template <class T>
inline void prefetch_row(T* row, std::size_t size) {
#if defined(__GNUC__)
  const char* begin = reinterpret_cast<const char*>(row);
  const char* end = reinterpret_cast<const char*>(row + size);
  for (const char* p = begin; p < end; p += 64) __builtin_prefetch(p, 1);
#else
  (void)row;
  (void)size;
#endif
}

/// Validates initial_accumulator_value before the base constructor runs (Keras's order).
const Config& checked_kwargs(double initial_accumulator_value, const Config& kwargs) {
  if (initial_accumulator_value < 0) {
    throw_value_error("initial_accumulator_value must be non-negative: {}",
                      Config(initial_accumulator_value).dump());
  }
  return kwargs;
}

}  // namespace

AdagradImpl::AdagradImpl(LearningRate learning_rate, double initial_accumulator_value,
                         double epsilon, std::string name, const Config& kwargs,
                         bool epsilon_inside_sqrt)
    : OptimizerImpl(kClassName, std::move(name), std::move(learning_rate),
                    checked_kwargs(initial_accumulator_value, kwargs)),
      initial_accumulator_value_(initial_accumulator_value),
      epsilon_(epsilon == 0 ? kDefaultEpsilon : epsilon),
      epsilon_inside_sqrt_(epsilon_inside_sqrt) {
  set_weights_prepends_iterations_ = true;
}

void AdagradImpl::config_style_changed() {
  epsilon_inside_sqrt_ = keras_generation() != KerasGeneration::v2;
}

Config AdagradImpl::get_config() const {
  Config config = OptimizerImpl::get_config();
  config["initial_accumulator_value"] = initial_accumulator_value_;
  config["epsilon"] = epsilon_;
  return config;
}

void AdagradImpl::create_slots(const std::vector<Variable>& var_list) {
  for (const Variable& var : var_list) add_slot(var, "accumulator", initial_accumulator_value_);
}

void AdagradImpl::apply_dense(const Tensor& grad, Variable& var, double lr_t) {
  Variable acc = get_slot(var, "accumulator");
  tapeflow::detail::visit_floating(var.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* v = static_cast<T*>(var.mutable_data());
    T* a = static_cast<T*>(acc.mutable_data());
    const T* g = grad.data<T>();
    detail::for_each_chunk(var.size(), [&](std::size_t begin, std::size_t count) {
      adagrad_update(v + begin, a + begin, g + begin, count, lr_t, epsilon_,
                     epsilon_inside_sqrt_);
    });
  });
}

void AdagradImpl::apply_sparse(const IndexedSlices& grad, Variable& var, double lr_t) {
  Variable acc = get_slot(var, "accumulator");
  const std::size_t rows = grad.indices.size();
  const std::size_t row_size = rows == 0 ? 0 : grad.values.size() / rows;
  const std::int64_t* indices = grad.indices.data<std::int64_t>();
  tapeflow::detail::visit_floating(var.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* v = static_cast<T*>(var.mutable_data());
    T* a = static_cast<T*>(acc.mutable_data());
    const T* g = grad.values.data<T>();
    for (std::size_t r = 0; r < rows; ++r) {
      // Listed rows are scattered over the table, so each one is a cache (and often TLB) miss:
      // start loading the row kPrefetchAhead places ahead while this one is updated.
      if (r + kPrefetchAhead < rows) {
        prefetch_row(v + static_cast<std::size_t>(indices[r + kPrefetchAhead]) * row_size,
                     row_size);
        prefetch_row(a + static_cast<std::size_t>(indices[r + kPrefetchAhead]) * row_size,
                     row_size);
      }
      const std::size_t offset = static_cast<std::size_t>(indices[r]) * row_size;
      adagrad_update(v + offset, a + offset, g + r * row_size, row_size, lr_t, epsilon_,
                     epsilon_inside_sqrt_);
    }
  });
}

Adagrad::Adagrad(LearningRate learning_rate, double initial_accumulator_value, double epsilon,
                 std::string name, const Config& kwargs)
    : Optimizer(std::make_shared<AdagradImpl>(std::move(learning_rate), initial_accumulator_value,
                                              epsilon, std::move(name), kwargs)) {}

Adagrad Adagrad::from_config(const Config& config, const CustomObjects& custom_objects) {
  detail::ConfigReader read(kClassName, config, custom_objects);
  LearningRate learning_rate = read.learning_rate(0.001);
  const double initial_accumulator_value = read.number("initial_accumulator_value", 0.1);
  const double epsilon = read.epsilon(kDefaultEpsilon);
  std::string name = read.name(kClassName);
  return read.finish(Adagrad(std::move(learning_rate), initial_accumulator_value, epsilon,
                             std::move(name), read.kwargs()));
}

}  // namespace tapeflow::optim
