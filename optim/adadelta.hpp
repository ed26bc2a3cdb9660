#pragma once
// Adadelta: tf.keras.optimizers.Adadelta, per-dimension rates from running means of squared
// gradients and squared updates.

#include <string>

#include "tapeflow/optim/elementwise.hpp"

namespace tapeflow::optim {

using AdadeltaImpl = ElementwiseImpl;

/// tf.keras.optimizers.Adadelta. Per element (ρ = rho in [0, 1]; slots "accum_grad" and
/// "accum_var", from 0; TF's ApplyAdadelta):
///     accum_grad <- ρ·accum_grad + (1-ρ)·g²
///     u = √(accum_var + ε) / √(accum_grad + ε) · g;  var <- var - lr·u
///     accum_var <- ρ·accum_var + (1-ρ)·u²
/// Sparse: the listed rows (duplicates summed first); other rows stay. epsilon 0 is 1e-7.
///
///     optim::Adadelta opt(1.0);
///
/// Config (V2): name, [clips], learning_rate, decay, rho, epsilon.
/// Weights: [iterations, accum_grad..., accum_var...]; set_weights also takes a Keras v1 list.
class Adadelta : public Optimizer {
 public:
  explicit Adadelta(LearningRate learning_rate = 0.001,
                    double rho = 0.95,
                    double epsilon = 1e-7,
                    std::string name = "Adadelta",
                    const Config& kwargs = {});
  /// From a config of any Keras generation (see detail::ConfigReader).
  static Adadelta from_config(const Config& config, const CustomObjects& custom_objects = {});

  double rho() const { return impl().option(0); }
  double epsilon() const { return impl().option(1); }
  AdadeltaImpl& impl() const { return static_cast<AdadeltaImpl&>(Optimizer::impl()); }
};

}  // namespace tapeflow::optim
