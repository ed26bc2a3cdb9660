#pragma once
// Adadelta: tf.keras.optimizers.Adadelta (TF2 optimizer_v2), steps scaled by the ratio of two
// moving RMS averages (of past updates and of gradients).

#include <string>
#include <vector>

#include "tapeflow/optim/optimizer.hpp"

namespace tapeflow::optim {

/// Adadelta's body: slots "accum_grad", then "accum_var", each created for every variable of
/// the step before the next name starts; both start at 0.
///
/// Step (TF's ApplyAdadelta), for each element, with ag = accum_grad, av = accum_var:
///     ag  <- ρ·ag + (1-ρ)·g²
///     u   <- √(av + ε) / √(ag + ε) · g
///     var <- var - lr_t·u
///     av  <- ρ·av + (1-ρ)·u²
/// in the variable's dtype, in one pass over var, ag, av and g.
/// Sparse step: duplicate indices are summed first (the base), then the same rule on each listed
/// row; other rows of var and both slots do not change. Cost: O(rows listed).
class AdadeltaImpl : public OptimizerImpl {
 public:
  /// The base checks of `kwargs` and `name`; rho is not checked (as in Keras). epsilon == 0
  /// becomes 1e-7 (V2).
  AdadeltaImpl(LearningRate learning_rate, double rho, double epsilon, std::string name,
               const Config& kwargs);

  double rho() const { return rho_; }
  double epsilon() const { return epsilon_; }

  /// The base entries, then rho and epsilon.
  Config get_config() const override;

 protected:
  void create_slots(const std::vector<Variable>& var_list) override;
  void apply_dense(const Tensor& grad, Variable& var, double lr_t) override;
  void apply_sparse(const IndexedSlices& grad, Variable& var, double lr_t) override;

 private:
  double rho_;
  double epsilon_;
};

/// tf.keras.optimizers.Adadelta (V2). Copies alias one optimizer (see Optimizer).
///
///     optim::Adadelta opt(1.0, 0.95);     // lr 1.0 recovers the original paper's rule
///
/// Hyperparameters (Keras defaults): learning_rate 0.001, rho 0.95, epsilon 1e-7. kwargs:
/// clipnorm, clipvalue, global_clipnorm, lr, decay. Config (Keras order): name, [clips],
/// learning_rate, decay, rho, epsilon. Weights: [iterations, accum_grad..., accum_var...].
/// set_weights also accepts a list one short (Keras v1, no iteration count) and puts
/// iteration 0 in front.
class Adadelta : public Optimizer {
 public:
  explicit Adadelta(LearningRate learning_rate = 0.001, double rho = 0.95, double epsilon = 1e-7,
                    std::string name = "Adadelta", const Config& kwargs = {});

  /// Rebuilds from get_config()'s form (V2 from_config: `lr` renamed to `learning_rate`, a dict
  /// learning_rate deserialized as a schedule, custom_objects first; null name is automatic,
  /// null epsilon is 1e-7). TypeError for a non-object config, an unknown key or a value of the
  /// wrong JSON type.
  static Adadelta from_config(const Config& config, const CustomObjects& custom_objects = {});

  double rho() const { return impl().rho(); }
  double epsilon() const { return impl().epsilon(); }

  AdadeltaImpl& impl() const { return static_cast<AdadeltaImpl&>(Optimizer::impl()); }
};

}  // namespace tapeflow::optim
