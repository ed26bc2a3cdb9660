#pragma once
// Nadam: tf.keras.optimizers.Nadam (TF2 optimizer_v2), Adam with Nesterov momentum and Dozat's
// momentum schedule.

#include <optional>
#include <string>
#include <vector>

#include "tapeflow/optim/optimizer.hpp"

namespace tapeflow::optim {

/// Nadam's body: the weight "momentum_cache" (a scalar of the first variable's dtype, from 1,
/// named `<name>/momentum_cache:0`, created on the first step right after iterations), then the
/// slots "m" and "v", each created for every variable of the step before the next name starts.
///
/// Per step, with t = iterations + 1 and d = the kwarg `schedule_decay` (0.004), in the
/// variable's dtype:
///     μ_t   = β₁·(1 - ½·0.96^(d·t)),   μ_t+1 = β₁·(1 - ½·0.96^(d·(t+1)))
///     cache <- cache·μ_t                          (once per step; s = the new cache)
/// then for each element:
///     g' = g/(1 - s)
///     m  <- β₁·m + (1-β₁)·g;    m' = m/(1 - s·μ_t+1)
///     v  <- β₂·v + (1-β₂)·g²;   v' = v/(1 - β₂ᵗ)
///     var <- var - lr·((1-μ_t)·g' + μ_t+1·m') / (√v' + ε)
/// in one pass over var, m, v and g. lr is the learning rate itself: Nadam applies no
/// time-inverse decay (the base's `decay` holds schedule_decay).
/// Sparse step (V2): duplicate indices are summed first (the base); m and v decay on EVERY row
/// (m <- β₁·m, v <- β₂·v), the listed rows then add (1-β₁)·g and (1-β₂)·g², and only the listed
/// rows of var move, by the rule above. Cost: O(size of var).
class NadamImpl : public OptimizerImpl {
 public:
  /// ValueError "The Nadam optimizer does not support tf.keras.optimizers.LearningRateSchedules
  /// as the learning rate." for a schedule (checked first, as Keras does), then the base checks
  /// of `kwargs` and `name`. kwargs also accepts `schedule_decay` (default 0.004), which replaces
  /// any `decay`. epsilon == 0 becomes 1e-7 (V2).
  NadamImpl(LearningRate learning_rate, double beta_1, double beta_2, double epsilon,
            std::string name, const Config& kwargs);

  double beta_1() const { return beta_1_; }
  double beta_2() const { return beta_2_; }
  double epsilon() const { return epsilon_; }
  /// Dozat's momentum-schedule decay (Keras stores it as `decay`).
  double schedule_decay() const { return decay(); }

  /// The base entries (with decay = schedule_decay), then beta_1, beta_2, epsilon.
  Config get_config() const override;

 protected:
  /// Creates momentum_cache and the slots. A schedule set with set_learning_rate is rejected
  /// here, before any variable changes.
  void create_slots(const std::vector<Variable>& var_list) override;
  /// Advances the momentum cache once for this step (Keras's _prepare).
  void prepare_step(const std::vector<Variable>& var_list) override;
  void apply_dense(const Tensor& grad, Variable& var, double lr_t) override;
  void apply_sparse(const IndexedSlices& grad, Variable& var, double lr_t) override;

 private:
  /// The d in 0.96^(d·t): schedule_decay in V2, 1 in Keras 2.11+ and 3 (0.96^t, §7).
  double momentum_decay() const;
  /// The learning rate of this step: V2's constant, or `lr_t` (schedule allowed) in 2.11+/3.
  double step_learning_rate(double lr_t) const;

  double beta_1_;
  double beta_2_;
  double epsilon_;
  std::optional<Variable> momentum_cache_;
  double cache_before_step_ = 1.0;  // the cache as read before this step's update
};

/// tf.keras.optimizers.Nadam (V2). Copies alias one optimizer (see Optimizer).
///
///     optim::Nadam opt(0.002);
///     optim::Nadam slower(0.002, 0.9, 0.999, 1e-7, "Nadam", {{"schedule_decay", 0.01}});
///
/// Hyperparameters (Keras defaults): learning_rate 0.001 (a number: schedules are rejected),
/// beta_1 0.9, beta_2 0.999, epsilon 1e-7. kwargs: clipnorm, clipvalue, global_clipnorm, lr,
/// schedule_decay (0.004; replaces decay). Config (Keras order): name, [clips], learning_rate,
/// decay (= schedule_decay), beta_1, beta_2, epsilon.
/// Weights: [iterations, momentum_cache, m..., v...].
class Nadam : public Optimizer {
 public:
  explicit Nadam(LearningRate learning_rate = 0.001, double beta_1 = 0.9, double beta_2 = 0.999,
                 double epsilon = 1e-7, std::string name = "Nadam", const Config& kwargs = {});

  /// Rebuilds from get_config()'s form (V2 from_config: `lr` renamed to `learning_rate`; null
  /// name is automatic, null epsilon is 1e-7). Unlike Keras, whose constructor drops the config's
  /// `decay` for the default schedule_decay, `decay` is read back as schedule_decay, so the round
  /// trip keeps it. TypeError for a non-object config, an unknown key or a value of the wrong
  /// JSON type; ValueError for a schedule in a V2 config. A Keras 2.11+/3 config gives that
  /// generation: μ_t = β₁(1 - ½·0.96^t), schedules allowed, no `decay` key.
  static Nadam from_config(const Config& config, const CustomObjects& custom_objects = {});

  double beta_1() const { return impl().beta_1(); }
  double beta_2() const { return impl().beta_2(); }
  double epsilon() const { return impl().epsilon(); }
  double schedule_decay() const { return impl().schedule_decay(); }

  NadamImpl& impl() const { return static_cast<NadamImpl&>(Optimizer::impl()); }
};

}  // namespace tapeflow::optim
