#pragma once
// RMSprop: tf.keras.optimizers.RMSprop, scaled by a running mean of squared gradients.

#include <string>

#include "tapeflow/optim/elementwise.hpp"

namespace tapeflow::optim {

using RMSpropImpl = ElementwiseImpl;

/// tf.keras.optimizers.RMSprop. Per element (ρ = rho in [0, 1], μ = momentum in [0, 1]; slots
/// "rms", "momentum" when μ > 0, "mg" when centered, all from 0):
///     rms <- ρ·rms + (1-ρ)·g²;  D = rms (centered: mg <- ρ·mg + (1-ρ)·g;  D = rms - mg²)
///     μ = 0:  var <- var - lr·g / (√D + ε)   (Keras 2.11+/3: / √(D + ε))
///     μ > 0:  mom <- μ·mom + lr·g / √(D + ε);  var <- var - mom       (TF's ApplyRMSProp)
/// Sparse, V2: with μ = 0 every row of rms (and mg) decays, then the listed rows add (1-ρ)·g²;
/// with μ > 0 only the listed rows change. Keras 2.11+/3 densify the gradient.
///
///     optim::RMSprop opt;                  // lr 0.001, rho 0.9
///
/// Config (V2): name, [clips], learning_rate, decay, rho, momentum, epsilon, centered.
/// Weights: [iterations, rms..., momentum... (μ > 0), mg... (centered)]; set_weights also takes
/// a Keras v1 list (no iteration count).
class RMSprop : public Optimizer {
 public:
  explicit RMSprop(LearningRate learning_rate = 0.001,
                   double rho = 0.9,
                   double momentum = 0.0,
                   double epsilon = 1e-7,
                   bool centered = false,
                   std::string name = "RMSprop",
                   const Config& kwargs = {});
  /// From a config of any Keras generation (see detail::ConfigReader).
  static RMSprop from_config(const Config& config, const CustomObjects& custom_objects = {});

  double rho() const { return impl().option(0); }
  double momentum() const { return impl().option(1); }
  double epsilon() const { return impl().option(2); }
  bool centered() const { return impl().flag(3); }
  RMSpropImpl& impl() const { return static_cast<RMSpropImpl&>(Optimizer::impl()); }
};

}  // namespace tapeflow::optim
