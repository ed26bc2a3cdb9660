// The Adagrad step as plain fused C++ loops over raw float arrays: the baselines that
// bench_adagrad_dense and bench_adagrad_sparse compare tapeflow against. This file is built twice
// (bench/meson.build): with the project's flags, which is what a user's own loop gets, and with
// -O3 -fno-math-errno -march=native, where GCC vectorizes sqrt and division for this CPU (the
// practical limit).

#include <cmath>
#include <cstddef>
#include <cstdint>

#ifndef ADAGRAD_BASELINE_NAME
#error "define ADAGRAD_BASELINE_NAME"
#endif

namespace bench {

/// acc += g²; var -= g·lr / (√acc + ε), element by element (Keras V2 / TF ApplyAdagradV2).
void ADAGRAD_BASELINE_NAME(float* var, float* acc, const float* g, std::size_t n, float lr,
                           float eps) {
  for (std::size_t i = 0; i < n; ++i) {
    const float gi = g[i];
    const float a = acc[i] + gi * gi;
    acc[i] = a;
    var[i] -= gi * lr / (std::sqrt(a) + eps);
  }
}

}  // namespace bench
