#pragma once
// Adam: tf.keras.optimizers.Adam, bias-corrected moment estimates, with optional AMSGrad.

#include <cstdint>
#include <string>
#include <vector>

#include "tapeflow/optim/elementwise.hpp"

namespace tapeflow::optim {

/// Adam's body: slots "m", "v" and "vhat" (amsgrad), from 0. With t = iterations + 1 and
/// α = lr·√(1-β₂ᵗ) / (1-β₁ᵗ), per element (TF's ApplyAdam / ApplyAdamWithAmsgrad):
///     m <- m + (g - m)·(1-β₁);  v <- v + (g² - v)·(1-β₂)
///     vhat <- max(vhat, v)  (amsgrad; then used as v);  var <- var - α·m / (√v + ε)
/// Sparse (V2): m and v decay on every row, the listed rows add their gradient, var moves on
/// every row: m <- β₁·m (+ (1-β₁)·g), v <- β₂·v (+ (1-β₂)·g²). Cost O(size of var).
class AdamImpl : public ElementwiseImpl {
 public:
  using ElementwiseImpl::ElementwiseImpl;
  std::vector<std::int64_t> row_map;  // sparse steps: variable row -> gradient row, or -1

 protected:
  /// Keras v1 lists (with vhat even without amsgrad: 3n + 1 weights) are cut to 2n + 1.
  std::vector<Tensor> normalize_weight_list(const std::vector<Tensor>& weights,
                                            std::size_t own) const override;
};

/// tf.keras.optimizers.Adam. beta_1 and beta_2 in [0, 1]; epsilon 0 is 1e-7 (V2).
///
///     optim::Adam opt(1e-3);
///
/// Config (V2): name, [clips], learning_rate, decay, beta_1, beta_2, epsilon, amsgrad.
/// Weights: [iterations, m..., v..., vhat... (amsgrad)].
class Adam : public Optimizer {
 public:
  explicit Adam(LearningRate learning_rate = 0.001,
                double beta_1 = 0.9,
                double beta_2 = 0.999,
                double epsilon = 1e-7,
                bool amsgrad = false,
                std::string name = "Adam",
                const Config& kwargs = {});
  /// From a config of any Keras generation (see detail::ConfigReader).
  static Adam from_config(const Config& config, const CustomObjects& custom_objects = {});

  double beta_1() const { return impl().option(0); }
  double beta_2() const { return impl().option(1); }
  double epsilon() const { return impl().option(2); }
  bool amsgrad() const { return impl().flag(3); }
  AdamImpl& impl() const { return static_cast<AdamImpl&>(Optimizer::impl()); }
};

}  // namespace tapeflow::optim
