#pragma once
// Ftrl: tf.keras.optimizers.Ftrl (TF2 optimizer_v2), "Follow The Regularized Leader"
// (McMahan et al., 2013) with online L1/L2, L2 shrinkage and beta.

#include <string>
#include <vector>

#include "tapeflow/optim/optimizer.hpp"

namespace tapeflow::optim {

/// Ftrl's body: slots "accumulator" (starting at initial_accumulator_value) and "linear" (0),
/// created per variable, interleaved: acc(v0), lin(v0), acc(v1), lin(v1), ...
///
/// Step (TF's ApplyFtrl / ApplyFtrlV2), for each element, with p = learning_rate_power,
/// lr = lr_t, l2' = l2 + β/(2·lr), and g_s = g + 2·l2_shrinkage·var (g when shrinkage is 0):
///     n      = acc + g²                            (g, not g_s)
///     linear <- linear + g_s - (n^(-p) - acc^(-p))/lr · var
///     quad   = n^(-p)/lr + 2·l2'
///     var    <- (sign(linear)·l1 - linear)/quad    if |linear| > l1, else 0
///     acc    <- n
/// in the variable's dtype, in one pass over var, acc, linear and g.
/// Sparse step: duplicate indices are summed first (the base), then the same rule on each listed
/// row; other rows of var and both slots do not change (so shrinkage acts on active rows only).
/// Cost: O(rows listed).
class FtrlImpl : public OptimizerImpl {
 public:
  /// The base checks of `kwargs` and `name` first, then (ValueError, Keras's order and wording)
  /// "`initial_accumulator_value` needs to be positive or zero. Received: ...",
  /// "`learning_rate_power` needs to be negative or zero. ...", and "needs to be positive or
  /// zero" for l1_regularization_strength, l2_regularization_strength and
  /// l2_shrinkage_regularization_strength. beta is not checked.
  ///
  /// As Keras V2's Ftrl (and unlike the other optimizers), the `lr` kwarg does not replace
  /// `learning_rate`: the base warns about it and the value is ignored.
  FtrlImpl(LearningRate learning_rate, double learning_rate_power,
           double initial_accumulator_value, double l1_regularization_strength,
           double l2_regularization_strength, std::string name,
           double l2_shrinkage_regularization_strength, double beta, const Config& kwargs);

  double learning_rate_power() const { return learning_rate_power_; }
  double initial_accumulator_value() const { return initial_accumulator_value_; }
  double l1_regularization_strength() const { return l1_; }
  double l2_regularization_strength() const { return l2_; }
  double l2_shrinkage_regularization_strength() const { return l2_shrinkage_; }
  double beta() const { return beta_; }

  /// The base entries, then initial_accumulator_value, learning_rate_power,
  /// l1_regularization_strength, l2_regularization_strength, beta,
  /// l2_shrinkage_regularization_strength.
  Config get_config() const override;

 protected:
  void create_slots(const std::vector<Variable>& var_list) override;
  void apply_dense(const Tensor& grad, Variable& var, double lr_t) override;
  void apply_sparse(const IndexedSlices& grad, Variable& var, double lr_t) override;

 private:
  double learning_rate_power_;
  double initial_accumulator_value_;
  double l1_;
  double l2_;
  double l2_shrinkage_;
  double beta_;
};

/// tf.keras.optimizers.Ftrl (V2). Copies alias one optimizer (see Optimizer).
///
///     optim::Ftrl opt(3.0, -0.5, 0.1, /*l1=*/0.001, /*l2=*/2.0);
///
/// Arguments in Keras's order (note `name` before the last two), with Keras defaults:
/// learning_rate 0.001, learning_rate_power -0.5 (<= 0; 0 is a fixed rate),
/// initial_accumulator_value 0.1 (>= 0), l1_regularization_strength 0.0 (>= 0),
/// l2_regularization_strength 0.0 (>= 0), name "Ftrl", l2_shrinkage_regularization_strength 0.0
/// (>= 0), beta 0.0. kwargs: clipnorm, clipvalue, global_clipnorm, lr (ignored, as in Keras),
/// decay. Config (Keras order): name, [clips], learning_rate, decay, initial_accumulator_value,
/// learning_rate_power, l1_regularization_strength, l2_regularization_strength, beta,
/// l2_shrinkage_regularization_strength. Weights: [iterations, accumulator(v0), linear(v0),
/// accumulator(v1), linear(v1), ...].
class Ftrl : public Optimizer {
 public:
  explicit Ftrl(LearningRate learning_rate = 0.001, double learning_rate_power = -0.5,
                double initial_accumulator_value = 0.1, double l1_regularization_strength = 0.0,
                double l2_regularization_strength = 0.0, std::string name = "Ftrl",
                double l2_shrinkage_regularization_strength = 0.0, double beta = 0.0,
                const Config& kwargs = {});

  /// Rebuilds from get_config()'s form (V2 from_config: `lr` renamed to `learning_rate`, a dict
  /// learning_rate deserialized as a schedule, custom_objects first; null name is automatic).
  /// TypeError for a non-object config, an unknown key or a value of the wrong JSON type.
  static Ftrl from_config(const Config& config, const CustomObjects& custom_objects = {});

  double learning_rate_power() const { return impl().learning_rate_power(); }
  double initial_accumulator_value() const { return impl().initial_accumulator_value(); }
  double l1_regularization_strength() const { return impl().l1_regularization_strength(); }
  double l2_regularization_strength() const { return impl().l2_regularization_strength(); }
  double l2_shrinkage_regularization_strength() const {
    return impl().l2_shrinkage_regularization_strength();
  }
  double beta() const { return impl().beta(); }

  FtrlImpl& impl() const { return static_cast<FtrlImpl&>(Optimizer::impl()); }
};

}  // namespace tapeflow::optim
