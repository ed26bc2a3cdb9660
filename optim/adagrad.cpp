#include "tapeflow/optim/adagrad.hpp"

#include <cmath>
#include <cstddef>

// SSE2 wherever the compiler targets it (clang-cl too); AVX2 and AVX-512 need GCC-style target
// attributes.
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__SSE2__) && (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define TAPEFLOW_X86_SIMD 1
#include <immintrin.h>
#endif

#include "tapeflow/core/check.hpp"
#include "tapeflow/core/cpu.hpp"
#include "tapeflow/core/dispatch.hpp"
#include "tapeflow/core/parallel.hpp"
#include "tapeflow/optim/config_reader.hpp"
#include "tapeflow/optim/kernels.hpp"

namespace tapeflow::optim {

using tapeflow::detail::throw_value_error;

namespace {

constexpr const char* kClassName = "Adagrad";
constexpr double kDefaultEpsilon = 1e-7;  // Keras backend.epsilon()

// ---- the kernel: acc += g²; var -= g·lr / (√acc + ε)  (or / √(acc + ε)) ----------------------
// One pass over var, acc and g, in place. The scalar form is the reference; the SIMD forms do the
// same IEEE operations in the same order (sqrt and div are correctly rounded at every width, and
// no step is fused into an FMA), so every element gets the same bits whichever form runs.
// Written with intrinsics because GCC does not vectorize std::sqrt at -O2 (errno), which made the
// scalar loop 5x slower than memory bandwidth allows. The AVX2 and AVX-512 forms are compiled
// with target attributes and chosen at run time (core/cpu.hpp): the sparse step is bound by
// sqrt and div throughput as much as by memory, and wider vectors halve that part.

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

/// One kernel form: updates a prefix of [0, n) and returns its length; the scalar rule does
/// the rest.
template <class T>
using AdagradPrefix = std::size_t (*)(T* var, T* acc, const T* g, std::size_t n, T lr, T eps);

template <class T>
std::size_t adagrad_no_prefix(T*, T*, const T*, std::size_t, T, T) {
  return 0;
}

#if defined(__SSE2__)
// One body for every width: W lanes, and the arguments name that width's intrinsics.
#define TAPEFLOW_ADAGRAD_BODY(W, LOAD, STORE, SET1, ADD, SUB, MUL, DIV, SQRT)                     \
  std::size_t i = 0;                                                                             \
  const auto vlr = SET1(lr);                                                                     \
  const auto veps = SET1(eps);                                                                   \
  for (; i + (W) <= n; i += (W)) {                                                               \
    const auto gi = LOAD(g + i);                                                                 \
    const auto a = ADD(LOAD(acc + i), MUL(gi, gi));                                              \
    STORE(acc + i, a);                                                                           \
    const auto denom = kInside ? SQRT(ADD(a, veps)) : ADD(SQRT(a), veps);                        \
    STORE(var + i, SUB(LOAD(var + i), DIV(MUL(gi, vlr), denom)));                                \
  }                                                                                              \
  return i;

template <bool kInside>
std::size_t adagrad_sse2(float* var, float* acc, const float* g, std::size_t n, float lr,
                         float eps) {
  TAPEFLOW_ADAGRAD_BODY(4, _mm_loadu_ps, _mm_storeu_ps, _mm_set1_ps, _mm_add_ps, _mm_sub_ps,
                        _mm_mul_ps, _mm_div_ps, _mm_sqrt_ps)
}
template <bool kInside>
std::size_t adagrad_sse2(double* var, double* acc, const double* g, std::size_t n, double lr,
                         double eps) {
  TAPEFLOW_ADAGRAD_BODY(2, _mm_loadu_pd, _mm_storeu_pd, _mm_set1_pd, _mm_add_pd, _mm_sub_pd,
                        _mm_mul_pd, _mm_div_pd, _mm_sqrt_pd)
}
#if defined(TAPEFLOW_X86_SIMD)
template <bool kInside>
__attribute__((target("avx2"))) std::size_t adagrad_avx2(float* var, float* acc, const float* g,
                                                         std::size_t n, float lr, float eps) {
  TAPEFLOW_ADAGRAD_BODY(8, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_set1_ps, _mm256_add_ps,
                        _mm256_sub_ps, _mm256_mul_ps, _mm256_div_ps, _mm256_sqrt_ps)
}
template <bool kInside>
__attribute__((target("avx2"))) std::size_t adagrad_avx2(double* var, double* acc,
                                                         const double* g, std::size_t n,
                                                         double lr, double eps) {
  TAPEFLOW_ADAGRAD_BODY(4, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_set1_pd, _mm256_add_pd,
                        _mm256_sub_pd, _mm256_mul_pd, _mm256_div_pd, _mm256_sqrt_pd)
}
// _mm512_sqrt_ps/pd start from an "undefined" register that GCC 12 warns about
// (-Wmaybe-uninitialized, GCC bug 105593); the all-lanes zero-masked form is the same vsqrt.
__attribute__((target("avx512f"))) inline __m512 sqrt_all(__m512 a) {
  return _mm512_maskz_sqrt_ps(static_cast<__mmask16>(0xFFFF), a);
}
__attribute__((target("avx512f"))) inline __m512d sqrt_all(__m512d a) {
  return _mm512_maskz_sqrt_pd(static_cast<__mmask8>(0xFF), a);
}
template <bool kInside>
__attribute__((target("avx512f"))) std::size_t adagrad_avx512(float* var, float* acc,
                                                              const float* g, std::size_t n,
                                                              float lr, float eps) {
  TAPEFLOW_ADAGRAD_BODY(16, _mm512_loadu_ps, _mm512_storeu_ps, _mm512_set1_ps, _mm512_add_ps,
                        _mm512_sub_ps, _mm512_mul_ps, _mm512_div_ps, sqrt_all)
}
template <bool kInside>
__attribute__((target("avx512f"))) std::size_t adagrad_avx512(double* var, double* acc,
                                                              const double* g, std::size_t n,
                                                              double lr, double eps) {
  TAPEFLOW_ADAGRAD_BODY(8, _mm512_loadu_pd, _mm512_storeu_pd, _mm512_set1_pd, _mm512_add_pd,
                        _mm512_sub_pd, _mm512_mul_pd, _mm512_div_pd, sqrt_all)
}
#endif  // TAPEFLOW_X86_SIMD
#undef TAPEFLOW_ADAGRAD_BODY
#endif  // __SSE2__

/// The widest form this CPU runs (and tapeflow::detail::simd_level() allows), chosen per call.
template <bool kInside, class T>
AdagradPrefix<T> adagrad_prefix() {
  switch (tapeflow::detail::simd_level()) {
#if defined(TAPEFLOW_X86_SIMD)
    case tapeflow::detail::SimdLevel::avx512:
      return &adagrad_avx512<kInside>;
    case tapeflow::detail::SimdLevel::avx2:
      return &adagrad_avx2<kInside>;
#endif
#if defined(__SSE2__)
    case tapeflow::detail::SimdLevel::sse2:
      return &adagrad_sse2<kInside>;
#endif
    default:
      break;
  }
  return &adagrad_no_prefix<T>;
}

/// Runs the Adagrad rule over rows of one variable: each call updates `n` elements in place.
/// The kernel form is picked once, at construction.
template <class T>
class AdagradRows {
 public:
  AdagradRows(double lr_t, double epsilon, bool inside)
      : lr_(static_cast<T>(lr_t)),
        eps_(static_cast<T>(epsilon)),
        inside_(inside),
        prefix_(inside ? adagrad_prefix<true, T>() : adagrad_prefix<false, T>()) {}

  void operator()(T* var, T* acc, const T* g, std::size_t n) const {
    const std::size_t done = prefix_(var, acc, g, n, lr_, eps_);
    if (inside_) {
      adagrad_scalar<true>(var, acc, g, done, n, lr_, eps_);
    } else {
      adagrad_scalar<false>(var, acc, g, done, n, lr_, eps_);
    }
  }

 private:
  T lr_;
  T eps_;
  bool inside_;
  AdagradPrefix<T> prefix_;
};

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
    const AdagradRows<T> update(lr_t, epsilon_, epsilon_inside_sqrt_);
    detail::for_each_chunk(var.size(), [&](std::size_t begin, std::size_t count) {
      update(v + begin, a + begin, g + begin, count);
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
    const AdagradRows<T> update(lr_t, epsilon_, epsilon_inside_sqrt_);
    // The base has summed duplicates, so rows are distinct and any split of them across threads
    // gives the same bits. Each thread brings its own cache-miss buffers, which is what a
    // scattered-row update is bound by.
    auto body = [&](std::size_t begin, std::size_t end) {
      for (std::size_t r = begin; r < end; ++r) {
        // Listed rows are scattered over the table, so each one is a cache (and often TLB)
        // miss: start loading the row kPrefetchAhead places ahead while this one is updated.
        if (r + kPrefetchAhead < end) {
          const std::size_t ahead = static_cast<std::size_t>(indices[r + kPrefetchAhead]);
          prefetch_row(v + ahead * row_size, row_size);
          prefetch_row(a + ahead * row_size, row_size);
        }
        const std::size_t offset = static_cast<std::size_t>(indices[r]) * row_size;
        update(v + offset, a + offset, g + r * row_size, row_size);
      }
    };
    tapeflow::detail::parallel_for(rows, detail::min_rows_per_thread(row_size), body);
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
