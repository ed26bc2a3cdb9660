#pragma once
// Ftrl: tf.keras.optimizers.Ftrl, Follow The Regularized Leader (McMahan et al., 2013).

#include <string>

#include "tapeflow/optim/elementwise.hpp"

namespace tapeflow::optim {

using FtrlImpl = ElementwiseImpl;

/// tf.keras.optimizers.Ftrl. Per element, with p = learning_rate_power (<= 0), slots
/// "accumulator" n (from initial_accumulator_value) and "linear" z (from 0), TF's ApplyFtrlV2:
///     l2' = l2 + β/(2·lr);  g_s = g + 2·l2_shrinkage·var;  n' = n + g²
///     z <- z + g_s - (n'^(-p) - n^(-p))/lr · var
///     var <- |z| > l1 ? (sign(z)·l1 - z) / (n'^(-p)/lr + 2·l2') : 0;  n <- n'
/// Sparse: the listed rows (duplicates summed first); other rows stay. l1, l2, the shrinkage,
/// beta and initial_accumulator_value are >= 0 (Keras's messages); an `lr` kwarg is ignored.
///
///     optim::Ftrl opt(3.0, -0.5, 0.1, /*l1=*/0.001, /*l2=*/2.0);
///
/// Config (V2): name, [clips], learning_rate, decay, initial_accumulator_value,
/// learning_rate_power, l1_..., l2_..., beta, l2_shrinkage_... (Keras 2.11+/3: the
/// constructor's order). Weights: [iterations, accumulator(v0), linear(v0), accumulator(v1), ...].
class Ftrl : public Optimizer {
 public:
  explicit Ftrl(LearningRate learning_rate = 0.001,
                double learning_rate_power = -0.5,
                double initial_accumulator_value = 0.1,
                double l1_regularization_strength = 0.0,
                double l2_regularization_strength = 0.0,
                std::string name = "Ftrl",
                double l2_shrinkage_regularization_strength = 0.0,
                double beta = 0.0,
                const Config& kwargs = {});
  /// From a config of any Keras generation (see detail::ConfigReader).
  static Ftrl from_config(const Config& config, const CustomObjects& custom_objects = {});

  double learning_rate_power() const { return impl().option(0); }
  double initial_accumulator_value() const { return impl().option(1); }
  double l1_regularization_strength() const { return impl().option(2); }
  double l2_regularization_strength() const { return impl().option(3); }
  double l2_shrinkage_regularization_strength() const { return impl().option(4); }
  double beta() const { return impl().option(5); }
  FtrlImpl& impl() const { return static_cast<FtrlImpl&>(Optimizer::impl()); }
};

}  // namespace tapeflow::optim
