#pragma once
// SGD: tf.keras.optimizers.SGD (TF2 optimizer_v2), gradient descent with optional (Nesterov)
// momentum.

#include <string>
#include <vector>

#include "tapeflow/optim/optimizer.hpp"

namespace tapeflow::optim {

/// SGD's body: the optional momentum slot and the update kernels.
///
/// Dense step, for each element (lr = lr_t, μ = momentum, m the slot "momentum", from 0):
///     μ = 0:  var <- var - lr·g
///     μ > 0:  m   <- μ·m - lr·g
///             var <- var + m                   (nesterov: var <- var + μ·m - lr·g, new m)
/// in the variable's dtype, in one pass over var, m and g.
/// Sparse step: on each listed row (duplicate indices summed first by the base), the same rule;
/// other rows of var and m do not change. Without momentum Keras scatter-adds the repeated rows
/// one by one; summing them first is equal up to rounding.
class SGDImpl : public OptimizerImpl {
 public:
  /// The base checks of `kwargs` and `name`, then ValueError "`momentum` must be between [0, 1].
  /// Received: momentum=<m> (of type <class 'float'>)." (Keras's order).
  SGDImpl(LearningRate learning_rate, double momentum, bool nesterov, std::string name,
          const Config& kwargs);

  double momentum() const { return momentum_; }
  bool nesterov() const { return nesterov_; }

  /// The base entries, then momentum and nesterov.
  Config get_config() const override;

 protected:
  void create_slots(const std::vector<Variable>& var_list) override;
  void apply_dense(const Tensor& grad, Variable& var, double lr_t) override;
  void apply_sparse(const IndexedSlices& grad, Variable& var, double lr_t) override;

 private:
  double momentum_;
  bool nesterov_;
};

/// tf.keras.optimizers.SGD (V2). Copies alias one optimizer (see Optimizer).
///
///     optim::SGD opt(0.1, /*momentum=*/0.9, /*nesterov=*/true);
///     opt.minimize([&] { return reduce_sum(square(w)); }, {w});
///
/// Hyperparameters (Keras defaults): learning_rate 0.01, momentum 0.0 in [0, 1] (the slot
/// "momentum" exists only when momentum > 0), nesterov false. kwargs: clipnorm, clipvalue,
/// global_clipnorm, lr, decay. Config (Keras order): name, [clips], learning_rate, decay,
/// momentum, nesterov. Weights: [iterations, momentum of each variable] (momentum > 0), else
/// [iterations].
class SGD : public Optimizer {
 public:
  explicit SGD(LearningRate learning_rate = 0.01, double momentum = 0.0, bool nesterov = false,
               std::string name = "SGD", const Config& kwargs = {});

  /// Rebuilds from get_config()'s form (V2 from_config: `lr` renamed to `learning_rate`, a dict
  /// learning_rate deserialized as a schedule, custom_objects first; null name is automatic).
  /// TypeError for a non-object config, an unknown key or a value of the wrong JSON type.
  static SGD from_config(const Config& config, const CustomObjects& custom_objects = {});

  double momentum() const { return impl().momentum(); }
  bool nesterov() const { return impl().nesterov(); }

  SGDImpl& impl() const { return static_cast<SGDImpl&>(Optimizer::impl()); }
};

}  // namespace tapeflow::optim
