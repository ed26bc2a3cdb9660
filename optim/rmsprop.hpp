#pragma once
// RMSprop: tf.keras.optimizers.RMSprop (TF2 optimizer_v2), steps scaled by a moving average of
// the squared gradients, with optional momentum and centering.

#include <string>
#include <vector>

#include "tapeflow/optim/optimizer.hpp"

namespace tapeflow::optim {

/// RMSprop's body: slots "rms", then "momentum" (momentum > 0), then "mg" (centered), each
/// created for every variable of the step before the next name starts; all start at 0.
///
/// Dense step, for each element (lr = lr_t, ρ = rho, μ = momentum):
///   μ = 0 (the V2 Python path; ε OUTSIDE the sqrt):
///     rms <- ρ·rms + (1-ρ)·g²
///     mg  <- ρ·mg + (1-ρ)·g                       (centered)
///     var <- var - lr·g / (√(rms - mg²) + ε)       (not centered: √rms)
///   μ > 0 (TF's ApplyRMSProp / ApplyCenteredRMSProp kernels; ε INSIDE the sqrt):
///     rms <- rms + (g² - rms)·(1-ρ)
///     mg  <- mg + (g - mg)·(1-ρ)                  (centered)
///     mom <- μ·mom + lr·g / √(rms - mg² + ε)       (not centered: √(rms + ε))
///     var <- var - mom
/// in the variable's dtype, in one pass over var, its slots and g.
/// Sparse step (duplicate indices summed first by the base):
///   μ = 0: ALL of rms (and mg) decay, rms <- ρ·rms (mg <- ρ·mg); then on the listed rows
///          rms += (1-ρ)·g² (mg += (1-ρ)·g) and var -= lr·g / (√(rms - mg²) + ε). Unlisted rows of
///          var do not change. Cost O(size of var).
///   μ > 0: the dense rule on the listed rows only; other rows of var and every slot stay.
/// Keras 2.11+ and Keras 3 configs (keras_generation() != v2): the μ = 0 rule puts ε INSIDE
/// the sqrt, var -= lr·g / √(rms - mg² + ε), and a sparse gradient is densified and given the
/// dense rule, as those generations do.
class RMSpropImpl : public OptimizerImpl {
 public:
  /// The base checks of `kwargs` and `name`, then ValueError "`momentum` must be between [0, 1].
  /// Received: momentum=<m> (of type <class 'float'>).". epsilon == 0 becomes 1e-7 (V2).
  RMSpropImpl(LearningRate learning_rate, double rho, double momentum, double epsilon,
              bool centered, std::string name, const Config& kwargs);

  double rho() const { return rho_; }
  double momentum() const { return momentum_; }
  double epsilon() const { return epsilon_; }
  bool centered() const { return centered_; }

  /// The base entries, then rho, momentum, epsilon, centered.
  Config get_config() const override;

 protected:
  void create_slots(const std::vector<Variable>& var_list) override;
  void apply_dense(const Tensor& grad, Variable& var, double lr_t) override;
  void apply_sparse(const IndexedSlices& grad, Variable& var, double lr_t) override;

 private:
  double rho_;
  double momentum_;
  double epsilon_;
  bool centered_;
};

/// tf.keras.optimizers.RMSprop (V2). Copies alias one optimizer (see Optimizer).
///
///     optim::RMSprop opt;                  // lr 0.001, rho 0.9
///     ... fit a Dense(10) on 20 inputs ...
///     opt.get_weights().size() == 3;       // [iter, rms(kernel), rms(bias)]
///
/// Hyperparameters (Keras defaults): learning_rate 0.001, rho 0.9, momentum 0.0 in [0, 1],
/// epsilon 1e-7, centered false. kwargs: clipnorm, clipvalue, global_clipnorm, lr, decay.
/// Config (Keras order): name, [clips], learning_rate, decay, rho, momentum, epsilon, centered.
/// Weights: [iterations, rms..., momentum... (momentum > 0), mg... (centered)]. set_weights
/// also accepts a list one short (Keras v1, no iteration count) and puts iteration 0 in front.
class RMSprop : public Optimizer {
 public:
  explicit RMSprop(LearningRate learning_rate = 0.001, double rho = 0.9, double momentum = 0.0,
                   double epsilon = 1e-7, bool centered = false, std::string name = "RMSprop",
                   const Config& kwargs = {});

  /// Rebuilds from get_config()'s form (V2 from_config: `lr` renamed to `learning_rate`, a dict
  /// learning_rate deserialized as a schedule, custom_objects first; null name is automatic,
  /// null epsilon is 1e-7). TypeError for a non-object config, an unknown key or a value of the
  /// wrong JSON type.
  static RMSprop from_config(const Config& config, const CustomObjects& custom_objects = {});

  double rho() const { return impl().rho(); }
  double momentum() const { return impl().momentum(); }
  double epsilon() const { return impl().epsilon(); }
  bool centered() const { return impl().centered(); }

  RMSpropImpl& impl() const { return static_cast<RMSpropImpl&>(Optimizer::impl()); }
};

}  // namespace tapeflow::optim
