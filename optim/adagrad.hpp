#pragma once
// Adagrad: tf.keras.optimizers.Adagrad, per-coordinate learning rates from the accumulated
// squared gradients.

#include <string>

#include "tapeflow/optim/elementwise.hpp"

namespace tapeflow::optim {

using AdagradImpl = ElementwiseImpl;

/// tf.keras.optimizers.Adagrad. For each element, with acc the slot "accumulator" (from
/// initial_accumulator_value, >= 0) and lr this step's learning rate:
///     acc <- acc + g²
///     var <- var - lr·g / (√acc + ε)      (V2, TF ApplyAdagradV2: the default)
///     var <- var - lr·g / √(acc + ε)      (epsilon_inside_sqrt: Keras 2.11+ and Keras 3)
/// Sparse: the listed rows (duplicates summed first); other rows stay. epsilon 0 is 1e-7 (V2).
/// "initial_accumulator_value must be non-negative: <v>" is checked before the kwargs.
///
///     optim::Adagrad opt(0.1);
///     opt.minimize([&] { return reduce_sum(square(w)); }, {w});
///
/// Config (V2): name, [clips], learning_rate, decay, initial_accumulator_value, epsilon.
/// Weights: [iterations, accumulator of each variable in first-update order].
class Adagrad : public Optimizer {
 public:
  explicit Adagrad(LearningRate learning_rate = 0.001,
                   double initial_accumulator_value = 0.1,
                   double epsilon = 1e-7,
                   std::string name = "Adagrad",
                   const Config& kwargs = {});
  /// From a config of any Keras generation (see detail::ConfigReader).
  static Adagrad from_config(const Config& config, const CustomObjects& custom_objects = {});

  double initial_accumulator_value() const { return impl().option(0); }
  double epsilon() const { return impl().option(1); }
  bool epsilon_inside_sqrt() const { return impl().epsilon_inside_sqrt(); }
  void set_epsilon_inside_sqrt(bool inside) { impl().set_epsilon_inside_sqrt(inside); }
  AdagradImpl& impl() const { return static_cast<AdagradImpl&>(Optimizer::impl()); }
};

}  // namespace tapeflow::optim
