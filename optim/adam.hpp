#pragma once
// Adam: tf.keras.optimizers.Adam (TF2 optimizer_v2), bias-corrected moment estimates, with the
// optional AMSGrad variant.

#include <cstdint>
#include <string>
#include <vector>

#include "tapeflow/optim/optimizer.hpp"

namespace tapeflow::optim {

/// Adam's body: slots "m", then "v", then "vhat" (amsgrad), each created for every variable of
/// the step before the next name starts; all start at 0.
///
/// Step t = iterations + 1 (iterations before this step), in the variable's dtype:
///     α   = lr_t·√(1-β₂ᵗ) / (1-β₁ᵗ)
/// Dense (TF's ApplyAdam / ApplyAdamWithAmsgrad), for each element:
///     m    <- m + (g - m)·(1-β₁)
///     v    <- v + (g² - v)·(1-β₂)
///     vhat <- max(vhat, v)                         (amsgrad; then used in place of v)
///     var  <- var - α·m / (√v + ε)                 (ε is not bias-corrected: "ε-hat")
/// in one pass over var, its slots and g.
/// Sparse (V2): m and v decay on EVERY row, the listed rows (duplicates summed first by the base)
/// then get their gradient, and var moves on every row:
///     m <- β₁·m (+ (1-β₁)·g on listed rows);  v <- β₂·v (+ (1-β₂)·g² on listed rows)
///     vhat <- max(vhat, v);  var <- var - α·m / (√v + ε)      (all rows)
/// so a row without gradient keeps moving on its momentum. One pass over all rows; cost O(size
/// of var).
class AdamImpl : public OptimizerImpl {
 public:
  /// The base checks of `kwargs` and `name`; beta_1 and beta_2 are not checked (as in Keras).
  /// epsilon == 0 becomes 1e-7 (V2).
  AdamImpl(LearningRate learning_rate, double beta_1, double beta_2, double epsilon, bool amsgrad,
           std::string name, const Config& kwargs);

  double beta_1() const { return beta_1_; }
  double beta_2() const { return beta_2_; }
  double epsilon() const { return epsilon_; }
  bool amsgrad() const { return amsgrad_; }

  /// The base entries, then beta_1, beta_2, epsilon, amsgrad.
  Config get_config() const override;

 protected:
  /// Keras V2's set_weights override: with n = (own - 1) / 2, a list of 3n + 1 entries (saved
  /// with vhat) is cut to `own` entries first; then the base rules apply.
  std::vector<Tensor> normalize_weight_list(const std::vector<Tensor>& weights,
                                            std::size_t own) const override;
  void create_slots(const std::vector<Variable>& var_list) override;
  void apply_dense(const Tensor& grad, Variable& var, double lr_t) override;
  void apply_sparse(const IndexedSlices& grad, Variable& var, double lr_t) override;

 private:
  double beta_1_;
  double beta_2_;
  double epsilon_;
  bool amsgrad_;
  std::vector<std::int64_t> row_map_;  // sparse steps: variable row -> slice row, or -1
};

/// tf.keras.optimizers.Adam (V2). Copies alias one optimizer (see Optimizer).
///
///     optim::Adam opt(0.1);
///     opt.minimize([&] { return reduce_sum(square(w)); }, {w});
///
/// Hyperparameters (Keras defaults): learning_rate 0.001, beta_1 0.9, beta_2 0.999, epsilon
/// 1e-7, amsgrad false. kwargs: clipnorm, clipvalue, global_clipnorm, lr, decay. Config (Keras
/// order): name, [clips], learning_rate, decay, beta_1, beta_2, epsilon, amsgrad.
/// Weights: [iterations, m..., v..., vhat... (amsgrad)].
class Adam : public Optimizer {
 public:
  explicit Adam(LearningRate learning_rate = 0.001, double beta_1 = 0.9, double beta_2 = 0.999,
                double epsilon = 1e-7, bool amsgrad = false, std::string name = "Adam",
                const Config& kwargs = {});

  /// Rebuilds from get_config()'s form (V2 from_config: `lr` renamed to `learning_rate`, a dict
  /// learning_rate deserialized as a schedule, custom_objects first; null name is automatic,
  /// null epsilon is 1e-7). TypeError for a non-object config, an unknown key or a value of the
  /// wrong JSON type.
  static Adam from_config(const Config& config, const CustomObjects& custom_objects = {});

  double beta_1() const { return impl().beta_1(); }
  double beta_2() const { return impl().beta_2(); }
  double epsilon() const { return impl().epsilon(); }
  bool amsgrad() const { return impl().amsgrad(); }

  AdamImpl& impl() const { return static_cast<AdamImpl&>(Optimizer::impl()); }
};

}  // namespace tapeflow::optim
