#pragma once
// Nadam: tf.keras.optimizers.Nadam, Adam with Nesterov momentum and Dozat's momentum schedule.

#include <optional>
#include <string>
#include <vector>

#include "tapeflow/optim/elementwise.hpp"

namespace tapeflow::optim {

/// Nadam's body: the weight "momentum_cache" (a scalar of the first variable's dtype, from 1,
/// `<name>/momentum_cache:0`, created right after iterations), then the slots "m" and "v".
/// Per step, with t = iterations + 1 and d = schedule_decay (0.004; 1 in Keras 2.11+/3):
///     μ_t = β₁·(1 - ½·0.96^(d·t)),  μ_t+1 = β₁·(1 - ½·0.96^(d·(t+1))),  cache <- cache·μ_t = s
/// then per element: g' = g/(1 - s);  m <- β₁·m + (1-β₁)·g;  m' = m/(1 - s·μ_t+1);
///     v <- β₂·v + (1-β₂)·g²;  v' = v/(1 - β₂ᵗ);  var <- var - lr·((1-μ_t)·g' + μ_t+1·m')/(√v' + ε)
/// V2's lr is the learning rate itself (no decay, no schedule); Keras 2.11+/3 take this step's.
/// Sparse, V2: m and v decay on every row, the listed rows add their gradient and move; Keras
/// 2.11+/3 densify.
class NadamImpl : public ElementwiseImpl {
 public:
  /// ValueError "The Nadam optimizer does not support tf.keras.optimizers.LearningRateSchedules
  /// as the learning rate." for a schedule (first, as Keras), then the base checks. kwargs also
  /// takes `schedule_decay` (default 0.004), which replaces any `decay`.
  NadamImpl(LearningRate learning_rate,
            std::vector<double> values,
            std::string name,
            const Config& kwargs);
  /// Dozat's momentum-schedule decay (Keras stores it as `decay`).
  double schedule_decay() const { return decay(); }
  /// The d in 0.96^(d·t) and this step's learning rate, by generation.
  double momentum_decay() const;
  double step_learning_rate(double lr_t) const;
  double cache_before_step() const { return cache_before_step_; }

 protected:
  /// Creates momentum_cache and the slots; a schedule set in a V2 Nadam is rejected here.
  void create_slots(const std::vector<Variable>& var_list) override;
  /// Advances the momentum cache once for this step (Keras's _prepare).
  void prepare_step(const std::vector<Variable>& var_list) override;

 private:
  std::optional<Variable> momentum_cache_;
  double cache_before_step_ = 1.0;  // the cache as read before this step's update
};

/// tf.keras.optimizers.Nadam. beta_1 and beta_2 in [0, 1]; epsilon 0 is 1e-7.
///
///     optim::Nadam slower(0.002, 0.9, 0.999, 1e-7, "Nadam", {{"schedule_decay", 0.01}});
///
/// Config (V2): name, [clips], learning_rate, decay (= schedule_decay), beta_1, beta_2, epsilon.
/// Weights: [iterations, momentum_cache, m..., v...].
class Nadam : public Optimizer {
 public:
  explicit Nadam(LearningRate learning_rate = 0.001,
                 double beta_1 = 0.9,
                 double beta_2 = 0.999,
                 double epsilon = 1e-7,
                 std::string name = "Nadam",
                 const Config& kwargs = {});
  /// From a config of any Keras generation; `decay` is read back as schedule_decay (Keras's
  /// constructor drops it), and Keras 2.11+/3 configs may hold a schedule.
  static Nadam from_config(const Config& config, const CustomObjects& custom_objects = {});

  double beta_1() const { return impl().option(0); }
  double beta_2() const { return impl().option(1); }
  double epsilon() const { return impl().option(2); }
  double schedule_decay() const { return impl().schedule_decay(); }
  NadamImpl& impl() const { return static_cast<NadamImpl&>(Optimizer::impl()); }
};

}  // namespace tapeflow::optim
