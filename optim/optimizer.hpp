#pragma once
// Optimizer: the Keras OptimizerV2 base (TF2's tf.keras.optimizers.Optimizer): iterations, slots,
// gradient clipping, learning-rate resolution and the apply_gradients / minimize pipeline.
//
// Handle and body. `Optimizer` is a small copyable handle: copies (and slices, such as
// `Optimizer o = adagrad;`) share one `OptimizerImpl` body, which owns all of the state:
// hyperparameters, learning rate, iterations, slots and name. So `model.compile(opt)` followed by
// `opt.get_weights()` sees the training, as it does in Python.
//
// Writing a custom optimizer: derive a body from OptimizerImpl and override the hooks
// (create_slots, apply_dense, optionally apply_sparse and get_config), then give it a handle
// that only adds a constructor. The base runs the whole pipeline (validation, slots, clipping,
// lr_t, iterations); a hook sees validated gradients and this step's learning rate.
//
//     class SignSGDImpl : public optim::OptimizerImpl {            // var -= lr·sign(g)
//      public:
//       SignSGDImpl(optim::LearningRate lr, std::string name, const Config& kwargs)
//           : OptimizerImpl("SignSGD", std::move(name), std::move(lr), kwargs) {}
//      protected:
//       void create_slots(const std::vector<Variable>&) override {}
//       void apply_dense(const Tensor& grad, Variable& var, double lr_t) override {
//         var.assign_sub(sign(grad) * lr_t);
//       }
//     };
//     class SignSGD : public optim::Optimizer {
//      public:
//       explicit SignSGD(optim::LearningRate lr = 0.01, std::string name = "SignSGD",
//                        const Config& kwargs = {})
//           : Optimizer(std::make_shared<SignSGDImpl>(std::move(lr), std::move(name), kwargs)) {}
//     };
//
// Differences from Keras, all deliberate: names are validated at construction (Keras checks
// them later, in name_scope); a missing slot is a ValueError (Keras raises KeyError, which C++
// has no counterpart for); the learning rate is kept as a double (Keras rounds it through a
// float32 variable after the first step, so its config then shows 0.0010000000474974513).

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "tapeflow/autograd/indexed_slices.hpp"
#include "tapeflow/autograd/variable.hpp"
#include "tapeflow/core/json.hpp"
#include "tapeflow/core/tensor.hpp"
#include "tapeflow/optim/learning_rate.hpp"

namespace tapeflow::optim {

/// (gradient, variable) pairs, as `tapeflow::zip(grads, vars)` builds them.
using GradsAndVars = std::vector<std::pair<Gradient, Variable>>;

/// The initial value of a slot or weight: "zeros", "ones", a number (filled in the variable's
/// dtype), or a Tensor of exactly the variable's shape and dtype.
class SlotInitializer {
 public:
  SlotInitializer(const char* name) : name_(name) {}
  SlotInitializer(std::string name) : name_(std::move(name)) {}
  SlotInitializer(double value) : value_(value) {}
  SlotInitializer(Tensor tensor) : tensor_(std::move(tensor)) {}

  /// The initial value for a variable of `shape` and `dtype`. ValueError, naming `where`, for an
  /// unknown name or a tensor of another shape or dtype.
  Tensor make(const Shape& shape, DType dtype, const std::string& where) const;

 private:
  std::string name_;
  std::optional<double> value_;
  Tensor tensor_;
};

/// minimize's `var_list`: a list of variables, or a callable returning one. A callable is
/// evaluated after the loss, so variables that the loss creates on first call are included.
class VarList {
 public:
  VarList(std::vector<Variable> variables) : variables_(std::move(variables)) {}
  VarList(std::initializer_list<Variable> variables) : variables_(variables) {}
  VarList(const Variable& variable) : variables_{variable} {}
  template <class F,
            std::enable_if_t<std::is_invocable_r<std::vector<Variable>, F&>::value &&
                                 !std::is_convertible<F, std::vector<Variable>>::value,
                             int> = 0>
  VarList(F callable) : callable_(std::move(callable)) {}

  bool is_callable() const { return static_cast<bool>(callable_); }
  /// The list, or the callable's result.
  std::vector<Variable> resolve() const { return callable_ ? callable_() : variables_; }

 private:
  std::vector<Variable> variables_;
  std::function<std::vector<Variable>()> callable_;
};

/// The body of every optimizer: all of its state, the Keras pipeline, and the subclass hooks.
/// Users normally reach it through an Optimizer handle; see the top of this file for how to
/// write one. Member semantics are documented on Optimizer, which forwards to these.
class OptimizerImpl {
 public:
  virtual ~OptimizerImpl();
  OptimizerImpl(const OptimizerImpl&) = delete;
  OptimizerImpl& operator=(const OptimizerImpl&) = delete;

  const std::string& class_name() const { return class_name_; }
  const std::string& name() const { return name_; }
  const LearningRate& learning_rate() const { return learning_rate_; }
  void set_learning_rate(LearningRate learning_rate);
  double decay() const { return initial_decay_; }
  std::optional<double> clipnorm() const { return clipnorm_; }
  std::optional<double> clipvalue() const { return clipvalue_; }
  std::optional<double> global_clipnorm() const { return global_clipnorm_; }
  /// Base entries {name, [clipnorm], [clipvalue], [global_clipnorm], learning_rate, decay}; a
  /// subclass appends its own after them.
  virtual Config get_config() const;

  Variable iterations();
  std::vector<Variable> weights() const;
  Variable add_slot(const Variable& var, const std::string& slot_name,
                    const SlotInitializer& initializer = "zeros");
  Variable get_slot(const Variable& var, const std::string& slot_name) const;
  std::vector<std::string> get_slot_names() const { return slot_names_; }
  Variable add_weight(const std::string& name, const Shape& shape, DType dtype = DType::float32,
                      const SlotInitializer& initializer = "zeros", bool trainable = true);
  std::vector<Tensor> get_weights() const;
  /// Virtual for Adam, which first cuts a Keras v1 list (with vhat) to its own length.
  virtual void set_weights(const std::vector<Tensor>& weights);

  Variable apply_gradients(const GradsAndVars& grads_and_vars, const std::string& name = "",
                           bool experimental_aggregate_gradients = true);
  Variable minimize(const std::function<Tensor()>& loss_fn, const VarList& var_list,
                    const Tensor& grad_loss = {}, const std::string& name = "");
  std::vector<Gradient> get_gradients(const std::function<Tensor()>& loss_fn,
                                      const std::vector<Variable>& params);
  std::vector<Variable> get_updates(const std::function<Tensor()>& loss_fn,
                                    const std::vector<Variable>& params);

 protected:
  /// Validates `kwargs` and `name` as Keras's OptimizerV2 constructor does (TypeError for an
  /// unknown key or a non-number, ValueError for a negative value, for clipnorm together with
  /// global_clipnorm, and for a malformed name). `class_name` is the Keras class name: the
  /// default name, and (snake_cased) the stem of automatic names. `lr` in kwargs replaces
  /// `learning_rate`.
  OptimizerImpl(std::string class_name, std::string name, LearningRate learning_rate,
                const Config& kwargs);

  /// Creates this optimizer's slots for `var_list` (the variables that have a gradient in this
  /// step, in pair order) with add_slot; an existing slot is returned unchanged.
  virtual void create_slots(const std::vector<Variable>& var_list) = 0;
  /// Updates `var` in place from a dense gradient of its shape and dtype. `lr_t` is this step's
  /// learning rate (schedule and decay applied), the same for every variable of the step.
  virtual void apply_dense(const Tensor& grad, Variable& var, double lr_t) = 0;
  /// Updates the rows `grad.indices` of `var` from a sparse gradient whose indices are unique,
  /// int64 and in range (duplicates were summed, first appearance first). The default densifies
  /// and calls apply_dense, which is right only for rules where a zero gradient is a no-op.
  virtual void apply_sparse(const IndexedSlices& grad, Variable& var, double lr_t);

  /// Set by Adagrad, RMSprop and Adadelta: set_weights accepts a list one entry short (Keras v1
  /// weights have no iteration count) and puts iteration 0 in front.
  bool set_weights_prepends_iterations_ = false;

  /// Appends `weight` to weights() after what is there (iterations is created first), as Keras's
  /// `self._weights.append(w)` for a weight that is not a slot: Nadam's momentum_cache.
  void append_weight(const Variable& weight);

 private:
  struct Slot {
    std::uint64_t var_id;
    std::string slot_name;
    Variable variable;
  };

  std::int64_t iteration_count() const;

  std::string class_name_;
  std::string name_;
  LearningRate learning_rate_;
  double initial_decay_ = 0.0;
  std::optional<double> clipnorm_, clipvalue_, global_clipnorm_;
  std::optional<Variable> iterations_;
  std::vector<Slot> slots_;  // creation order
  std::map<std::pair<std::uint64_t, std::string>, std::size_t> slot_index_;
  std::vector<std::string> slot_names_;
  // apply_gradients' working lists, kept between calls (empty) for their capacity.
  std::vector<Gradient> step_grads_;
  std::vector<Variable> step_vars_;
};

/// A Keras optimizer (handle). Copies alias one optimizer. Subclasses (Adagrad, ...) only add a
/// constructor and typed accessors; all behaviour lives in the shared OptimizerImpl body.
class Optimizer {
 public:
  /// Wraps a body; ValueError when null.
  explicit Optimizer(std::shared_ptr<OptimizerImpl> impl);

  /// The Keras class name ("Adagrad").
  const std::string& class_name() const { return impl_->class_name(); }
  /// The optimizer's name: the constructor's, or an automatic one (`adagrad`, `adagrad_1`, ...).
  const std::string& name() const { return impl_->name(); }

  /// The learning rate: a number or a schedule.
  const LearningRate& learning_rate() const { return impl_->learning_rate(); }
  /// Replaces the learning rate (number or schedule); the next apply_gradients uses it.
  void set_learning_rate(LearningRate learning_rate) {
    impl_->set_learning_rate(std::move(learning_rate));
  }
  /// The time-inverse decay fixed at construction (kwarg `decay`, default 0).
  double decay() const { return impl_->decay(); }
  std::optional<double> clipnorm() const { return impl_->clipnorm(); }
  std::optional<double> clipvalue() const { return impl_->clipvalue(); }
  std::optional<double> global_clipnorm() const { return impl_->global_clipnorm(); }

  /// The int64 step counter `<name>/iter:0`, created (at 0) on first call, always weights()[0].
  /// apply_gradients adds 1 after each call that applied at least one gradient.
  /// Const because it does not change the optimizer's behaviour (the body is shared anyway).
  Variable iterations() const { return impl_->iterations(); }
  /// [iterations, slots in creation order]; empty on a fresh optimizer.
  std::vector<Variable> weights() const { return impl_->weights(); }
  /// Same as weights() (a method in Keras V2 too).
  std::vector<Variable> variables() const { return impl_->weights(); }

  /// The slot `slot_name` of `var`, created on first call as the non-trainable variable
  /// `<optimizer name>/<var name>/<slot_name>:0` with var's shape and dtype, and appended to
  /// weights(). An existing slot is returned unchanged. Creates iterations() first.
  Variable add_slot(const Variable& var, const std::string& slot_name,
                    const SlotInitializer& initializer = "zeros") {
    return impl_->add_slot(var, slot_name, initializer);
  }
  /// The slot; ValueError naming the variable and the slot when there is none (Keras: KeyError).
  Variable get_slot(const Variable& var, const std::string& slot_name) const {
    return impl_->get_slot(var, slot_name);
  }
  /// Slot names in first-use order: ["accumulator"] for Adagrad after its first step.
  std::vector<std::string> get_slot_names() const { return impl_->get_slot_names(); }
  /// A new variable named `name` (no optimizer prefix), not appended to weights().
  Variable add_weight(const std::string& name, const Shape& shape, DType dtype = DType::float32,
                      const SlotInitializer& initializer = "zeros", bool trainable = true) {
    return impl_->add_weight(name, shape, dtype, initializer, trainable);
  }

  /// Copies of the weights' values, in weights() order.
  std::vector<Tensor> get_weights() const { return impl_->get_weights(); }
  /// Copies values into the weights (cast to each weight's dtype). ValueError, with nothing
  /// assigned, on a length mismatch ("You called `set_weights(weights)` on optimizer <name> with
  /// a  weight list of length <n>, but the optimizer was expecting <m> weights. ...") or a shape
  /// mismatch ("Optimizer weight shape (..) not compatible with provided weight shape (..)").
  void set_weights(const std::vector<Tensor>& weights) { impl_->set_weights(weights); }

  /// One optimization step (Keras V2), all-or-nothing:
  ///  1. drop pairs whose gradient is none (a warning names their variables on stderr; all none
  ///     is a ValueError "No gradients provided for any variable: ..."; an empty list does
  ///     nothing but create iterations);
  ///  2. validate every remaining pair before anything changes: floating variable ("Invalid
  ///     type ..."), gradient dtype and shape equal to the variable's, sparse indices int32 or
  ///     int64, of rank 1 and in range (ValueError);
  ///  3. create slots (create_slots);
  ///  4. clip, on copies: clipvalue (clamp to [-c, c]), then clipnorm per tensor
  ///     (g·c/max(‖g‖₂, c)) or global_clipnorm (every g·c/max(‖all‖₂, c); NaN when that norm
  ///     is not finite); an IndexedSlices is clipped through its values;
  ///  5. lr_t = learning_rate(it) / (1 + decay·it), it = iterations before the step;
  ///  6. apply each pair in order: apply_dense, or apply_sparse after summing duplicate indices;
  ///  7. iterations += 1.
  /// `name` names the update scope in Keras and is unused here. With a distribution strategy,
  /// `experimental_aggregate_gradients` would sum the gradients across replicas before step 4;
  /// tapeflow runs one replica, so it has no effect. Returns iterations().
  Variable apply_gradients(const GradsAndVars& grads_and_vars, const std::string& name = "",
                           bool experimental_aggregate_gradients = true) {
    return impl_->apply_gradients(grads_and_vars, name, experimental_aggregate_gradients);
  }
  /// Records `loss_fn()` on a fresh GradientTape, takes the gradient with respect to var_list
  /// (seeded with `grad_loss`, whose shape is the loss's, when given) and applies it. A callable
  /// var_list is called after the loss. Returns iterations().
  Variable minimize(const std::function<Tensor()>& loss_fn, const VarList& var_list,
                    const Tensor& grad_loss = {}, const std::string& name = "") {
    return impl_->minimize(loss_fn, var_list, grad_loss, name);
  }
  /// The gradients of `loss_fn()` with respect to `params`, unclipped. ValueError "Variable <v>
  /// has `None` for gradient. ..." when one is missing.
  std::vector<Gradient> get_gradients(const std::function<Tensor()>& loss_fn,
                                      const std::vector<Variable>& params) {
    return impl_->get_gradients(loss_fn, params);
  }
  /// get_gradients, then apply_gradients once; returns `params`, now updated.
  std::vector<Variable> get_updates(const std::function<Tensor()>& loss_fn,
                                    const std::vector<Variable>& params) {
    return impl_->get_updates(loss_fn, params);
  }

  /// The hyperparameters, in Keras V2 order (see OptimizerImpl::get_config and each subclass).
  Config get_config() const { return impl_->get_config(); }

  /// The shared body.
  OptimizerImpl& impl() const { return *impl_; }
  const std::shared_ptr<OptimizerImpl>& impl_ptr() const { return impl_; }

 protected:
  std::shared_ptr<OptimizerImpl> impl_;
};

/// `<tapeflow.optim.Adagrad name='Adagrad' learning_rate=0.001 decay=0.0 ...>`: class, name, and
/// every other get_config() entry.
std::ostream& operator<<(std::ostream& os, const Optimizer& optimizer);

namespace internal {
/// Keras's unique_object_name for optimizers: `stem`, then `stem_1`, `stem_2`, ... (one counter
/// per stem, process-wide, in libtapeflow).
std::string unique_optimizer_name(const std::string& stem);
/// Keras's to_snake_case: "Adagrad" -> "adagrad", "RMSprop" -> "rm_sprop".
std::string to_snake_case(const std::string& name);
}  // namespace internal

}  // namespace tapeflow::optim
