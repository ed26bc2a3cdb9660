#pragma once
// Adamax: tf.keras.optimizers.Adamax, Adam with the infinity norm.

#include <string>

#include "tapeflow/optim/elementwise.hpp"

namespace tapeflow::optim {

using AdamaxImpl = ElementwiseImpl;

/// tf.keras.optimizers.Adamax. With t = iterations + 1, per element (slots "m", "v", from 0;
/// TF's ApplyAdaMax):
///     m <- m + (g - m)·(1-β₁);  v <- max(β₂·v, |g|);  var <- var - lr/(1-β₁ᵗ) · m/(v + ε)
/// Sparse (V2): on the listed rows, m <- β₁·m + (1-β₁)·g (V2's gather/scatter form), then the
/// same; other rows stay. beta_1 and beta_2 in [0, 1]; epsilon 0 is 1e-7.
///
///     optim::Adamax opt(0.002);
///
/// Config (V2): name, [clips], learning_rate, decay, beta_1, beta_2, epsilon.
/// Weights: [iterations, m..., v...].
class Adamax : public Optimizer {
 public:
  explicit Adamax(LearningRate learning_rate = 0.001,
                  double beta_1 = 0.9,
                  double beta_2 = 0.999,
                  double epsilon = 1e-7,
                  std::string name = "Adamax",
                  const Config& kwargs = {});
  /// From a config of any Keras generation (see detail::ConfigReader).
  static Adamax from_config(const Config& config, const CustomObjects& custom_objects = {});

  double beta_1() const { return impl().option(0); }
  double beta_2() const { return impl().option(1); }
  double epsilon() const { return impl().option(2); }
  AdamaxImpl& impl() const { return static_cast<AdamaxImpl&>(Optimizer::impl()); }
};

}  // namespace tapeflow::optim
