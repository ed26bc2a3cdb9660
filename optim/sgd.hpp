#pragma once
// SGD: tf.keras.optimizers.SGD, gradient descent with optional (Nesterov) momentum.

#include <string>

#include "tapeflow/optim/elementwise.hpp"

namespace tapeflow::optim {

using SGDImpl = ElementwiseImpl;

/// tf.keras.optimizers.SGD. For each element (lr this step's rate, μ = momentum in [0, 1], m
/// the slot "momentum", from 0, created only when μ > 0):
///     μ = 0:  var <- var - lr·g
///     μ > 0:  m <- μ·m - lr·g;  var <- var + m       (nesterov: var <- var + μ·m - lr·g)
/// Sparse: the listed rows (duplicates summed first, where Keras scatter-adds them one by one:
/// equal up to rounding). "`momentum` must be between [0, 1]. ..." after the kwargs checks.
///
///     optim::SGD opt(0.1, /*momentum=*/0.9, /*nesterov=*/true);
///
/// Config (V2): name, [clips], learning_rate, decay, momentum, nesterov.
/// Weights: [iterations, momentum of each variable] (momentum > 0), else [iterations].
class SGD : public Optimizer {
 public:
  explicit SGD(LearningRate learning_rate = 0.01,
               double momentum = 0.0,
               bool nesterov = false,
               std::string name = "SGD",
               const Config& kwargs = {});
  /// From a config of any Keras generation (see detail::ConfigReader).
  static SGD from_config(const Config& config, const CustomObjects& custom_objects = {});

  double momentum() const { return impl().option(0); }
  bool nesterov() const { return impl().flag(1); }
  SGDImpl& impl() const { return static_cast<SGDImpl&>(Optimizer::impl()); }
};

}  // namespace tapeflow::optim
