#pragma once
// Adamax: tf.keras.optimizers.Adamax (TF2 optimizer_v2), Adam with the infinity norm in place of
// the second moment.

#include <string>
#include <vector>

#include "tapeflow/optim/optimizer.hpp"

namespace tapeflow::optim {

/// Adamax's body: slots "m", then "v", each created for every variable of the step before the
/// next name starts; both start at 0.
///
/// Step t = iterations + 1 (iterations before this step), for each element, in the variable's
/// dtype (TF's ApplyAdaMax):
///     m   <- m + (g - m)·(1-β₁)
///     v   <- max(β₂·v, |g|)
///     var <- var - lr_t/(1-β₁ᵗ) · m/(v + ε)
/// in one pass over var, m, v and g.
/// Sparse step (V2): duplicate indices are summed first (the base); then on each listed row
///     m <- β₁·m + (1-β₁)·g;  v <- max(β₂·v, |g|);  var <- var - lr_t/(1-β₁ᵗ) · m/(v + ε)
/// and other rows of var, m and v do not change. Cost: O(rows listed).
class AdamaxImpl : public OptimizerImpl {
 public:
  /// The base checks of `kwargs` and `name`; beta_1 and beta_2 are not checked (as in Keras).
  /// epsilon == 0 becomes 1e-7 (V2).
  AdamaxImpl(LearningRate learning_rate, double beta_1, double beta_2, double epsilon,
             std::string name, const Config& kwargs);

  double beta_1() const { return beta_1_; }
  double beta_2() const { return beta_2_; }
  double epsilon() const { return epsilon_; }

  /// The base entries, then beta_1, beta_2, epsilon.
  Config get_config() const override;

 protected:
  void create_slots(const std::vector<Variable>& var_list) override;
  void apply_dense(const Tensor& grad, Variable& var, double lr_t) override;
  void apply_sparse(const IndexedSlices& grad, Variable& var, double lr_t) override;

 private:
  double beta_1_;
  double beta_2_;
  double epsilon_;
};

/// tf.keras.optimizers.Adamax (V2). Copies alias one optimizer (see Optimizer).
///
///     optim::Adamax opt(0.002);
///
/// Hyperparameters (Keras defaults): learning_rate 0.001, beta_1 0.9, beta_2 0.999, epsilon
/// 1e-7. kwargs: clipnorm, clipvalue, global_clipnorm, lr, decay. Config (Keras order): name,
/// [clips], learning_rate, decay, beta_1, beta_2, epsilon. Weights: [iterations, m..., v...].
class Adamax : public Optimizer {
 public:
  explicit Adamax(LearningRate learning_rate = 0.001, double beta_1 = 0.9, double beta_2 = 0.999,
                  double epsilon = 1e-7, std::string name = "Adamax", const Config& kwargs = {});

  /// Rebuilds from get_config()'s form (V2 from_config: `lr` renamed to `learning_rate`, a dict
  /// learning_rate deserialized as a schedule, custom_objects first; null name is automatic,
  /// null epsilon is 1e-7). TypeError for a non-object config, an unknown key or a value of the
  /// wrong JSON type.
  static Adamax from_config(const Config& config, const CustomObjects& custom_objects = {});

  double beta_1() const { return impl().beta_1(); }
  double beta_2() const { return impl().beta_2(); }
  double epsilon() const { return impl().epsilon(); }

  AdamaxImpl& impl() const { return static_cast<AdamaxImpl&>(Optimizer::impl()); }
};

}  // namespace tapeflow::optim
