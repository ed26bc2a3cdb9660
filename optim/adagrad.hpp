#pragma once
// Adagrad: tf.keras.optimizers.Adagrad (TF2 optimizer_v2), per-coordinate learning rates from
// the accumulated squared gradients.

#include <string>
#include <vector>

#include "tapeflow/optim/optimizer.hpp"

namespace tapeflow::optim {

/// Adagrad's body: the accumulator slot and the update kernels.
///
/// Dense step, for each element, with acc the slot "accumulator" (starting at
/// initial_accumulator_value) and lr_t this step's learning rate:
///     acc <- acc + g²
///     var <- var - lr_t·g / (√acc + ε)          (Keras V2 / TF ApplyAdagradV2; the default)
///     var <- var - lr_t·g / √(acc + ε)          (epsilon_inside_sqrt: Keras 2.11+ and Keras 3)
/// in the variable's dtype, in one pass over var, acc and g.
/// Sparse step: duplicate indices are summed first (the base does it), then the same rule is
/// applied to each listed row; other rows of var and acc do not change. Cost: O(rows listed).
class AdagradImpl : public OptimizerImpl {
 public:
  /// ValueError "initial_accumulator_value must be non-negative: <v>" (checked first, as Keras
  /// does), then the base checks of `kwargs` and `name`. epsilon == 0 becomes 1e-7 (V2).
  AdagradImpl(LearningRate learning_rate, double initial_accumulator_value, double epsilon,
              std::string name, const Config& kwargs, bool epsilon_inside_sqrt = false);

  double initial_accumulator_value() const { return initial_accumulator_value_; }
  double epsilon() const { return epsilon_; }
  bool epsilon_inside_sqrt() const { return epsilon_inside_sqrt_; }
  /// Switches between the V2 rule (false) and the Keras 2.11+/3 rule (true); not in the config.
  /// set_config_style sets it from the generation (true for Keras 2.11+ and Keras 3).
  void set_epsilon_inside_sqrt(bool inside) { epsilon_inside_sqrt_ = inside; }

  /// The base entries, then initial_accumulator_value and epsilon.
  Config get_config() const override;

 protected:
  void create_slots(const std::vector<Variable>& var_list) override;
  void apply_dense(const Tensor& grad, Variable& var, double lr_t) override;
  void apply_sparse(const IndexedSlices& grad, Variable& var, double lr_t) override;
  /// ε inside the square root exactly when the generation is Keras 2.11+ or Keras 3.
  void config_style_changed() override;

 private:
  double initial_accumulator_value_;
  double epsilon_;
  bool epsilon_inside_sqrt_;
};

/// tf.keras.optimizers.Adagrad (V2). Copies alias one optimizer (see Optimizer).
///
///     optim::Adagrad opt(0.1);                                  // lr 0.1
///     Variable w(Tensor{1.0, 2.0}, "w");
///     for (int i = 0; i < 100; ++i) opt.minimize([&] { return reduce_sum(square(w)); }, {w});
///
/// kwargs: clipnorm, clipvalue, global_clipnorm, lr (replaces learning_rate), decay
/// (lr_t = lr / (1 + decay·iterations)). Config (Keras order): name, [clipnorm], [clipvalue],
/// [global_clipnorm], learning_rate, decay, initial_accumulator_value, epsilon.
/// Weights: [iterations, accumulator of each variable in first-update order].
class Adagrad : public Optimizer {
 public:
  explicit Adagrad(LearningRate learning_rate = 0.001, double initial_accumulator_value = 0.1,
                   double epsilon = 1e-7, std::string name = "Adagrad",
                   const Config& kwargs = {});

  /// Rebuilds from a config of any Keras generation (V2's from_config, extended): `lr` is
  /// renamed to `learning_rate`, a missing initial_accumulator_value is 0.1, a dict
  /// `learning_rate` is deserialized as a schedule (custom_objects first), null name or epsilon
  /// take the defaults ("" and 1e-7). A Keras 2.11+/3 config gives that generation (ε inside
  /// the square root; get_config writes its keys). TypeError for a non-object config, an
  /// unknown key (in the constructor's wording) or a value of the wrong JSON type (naming the
  /// key); ValueError for NaN or negative values and unsupported generation keys.
  static Adagrad from_config(const Config& config, const CustomObjects& custom_objects = {});

  double initial_accumulator_value() const { return impl().initial_accumulator_value(); }
  double epsilon() const { return impl().epsilon(); }
  bool epsilon_inside_sqrt() const { return impl().epsilon_inside_sqrt(); }
  void set_epsilon_inside_sqrt(bool inside) { impl().set_epsilon_inside_sqrt(inside); }

  AdagradImpl& impl() const { return static_cast<AdagradImpl&>(Optimizer::impl()); }
};

}  // namespace tapeflow::optim
