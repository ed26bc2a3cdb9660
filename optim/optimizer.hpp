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
// (create_slots, apply_dense, optionally apply_sparse, prepare_step and get_config; create_slots
// must only create slots, as build() and a rolled-back step run it too), then give it a handle
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

/// A weight of an optimizer other than iterations, named as checkpoints name it: the slot `slot`
/// of the `occurrence`-th distinct variable called `variable` (0 unless several slotted variables
/// share that name; counted in slot-creation order), or, when `variable` is empty, a weight that
/// is not a slot, such as Nadam's "momentum_cache" (then `slot` is its name).
struct NamedWeight {
  std::string variable;
  std::size_t occurrence = 0;
  std::string slot;
  Tensor value;
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
  /// Base entries in the order of config_style().generation; a subclass appends its own after
  /// them. V2: {name, [clipnorm], [clipvalue], [global_clipnorm], learning_rate, decay}.
  /// Keras 2.11+: {name, weight_decay, clipnorm, global_clipnorm, clipvalue, use_ema,
  /// ema_momentum, ema_overwrite_frequency, jit_compile, is_legacy_optimizer, learning_rate}.
  /// Keras 3: {name, learning_rate, weight_decay, clipnorm, global_clipnorm, clipvalue, use_ema,
  /// ema_momentum, ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps}.
  virtual Config get_config() const;

  /// The Keras generation of this optimizer's config and how it is written back (V2 unless
  /// from_config/deserialize read another generation, or set_config_style was called).
  const ConfigStyle& config_style() const { return config_style_; }
  KerasGeneration keras_generation() const { return config_style_.generation; }
  /// Switches the generation (keys written by get_config, and the numerics). ValueError, with
  /// nothing changed, when a setting has no counterpart there: a time-inverse `decay` > 0 outside
  /// V2, or more than one clip option in Keras 3.
  void set_config_style(ConfigStyle style);
  /// A numerics option of the generation (set by set_config_style: true for Keras 2.11+ and
  /// Keras 3): ε inside the square root of Adagrad's and RMSprop's denominators.
  bool epsilon_inside_sqrt() const { return epsilon_inside_sqrt_; }
  void set_epsilon_inside_sqrt(bool inside) { epsilon_inside_sqrt_ = inside; }

  Variable iterations();
  std::vector<Variable> weights() const;
  Variable add_slot(const Variable& var, const std::string& slot_name,
                    const SlotInitializer& initializer = "zeros");
  Variable get_slot(const Variable& var, const std::string& slot_name) const;
  std::vector<std::string> get_slot_names() const { return slot_names_; }
  Variable add_weight(const std::string& name, const Shape& shape, DType dtype = DType::float32,
                      const SlotInitializer& initializer = "zeros", bool trainable = true);
  std::vector<Tensor> get_weights() const;
  virtual void set_weights(const std::vector<Tensor>& weights);
  /// True while a set_weights list or a loaded checkpoint waits for the slots (see Optimizer).
  bool has_pending_weights() const { return pending_.has_value(); }
  void build(const std::vector<Variable>& var_list);
  void save_weights(const std::string& directory) const;
  void load_weights(const std::string& directory);
  /// The weights after iterations, in weights() order, with their checkpoint names; `value`
  /// shares the weight's buffer (copy it before the optimizer steps again).
  std::vector<NamedWeight> named_weights() const;
  /// Restores `iterations` and the named weights (as load_weights does after reading the files):
  /// at once when the optimizer has slots, or when `weights` is empty; otherwise kept pending
  /// until build or the first apply_gradients. ValueError listing every missing, extra,
  /// mis-shaped or mis-typed entry, with nothing changed. `source` names the origin in messages.
  void restore_weights(std::int64_t iterations, std::vector<NamedWeight> weights,
                       const std::string& source);

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


  /// False for Nadam, whose `decay` is its momentum schedule_decay, not a time-inverse decay.
  bool decay_is_time_inverse_ = true;

  /// Set by Adagrad, RMSprop and Adadelta: set_weights accepts a list one entry short (Keras v1
  /// weights have no iteration count) and puts iteration 0 in front.
  bool set_weights_prepends_iterations_ = false;

  /// The set_weights list as it will be matched against `own` weights: the base puts iteration 0
  /// in front of a list one short when set_weights_prepends_iterations_; Adam also cuts a Keras
  /// v1 list (with vhat) to its own length. Called when the list is applied, which for a pending
  /// list is after create_slots.
  virtual std::vector<Tensor> normalize_weight_list(const std::vector<Tensor>& weights,
                                                    std::size_t own) const;

  /// Per-step work that must not run when slots are created outside a step (build): called by
  /// apply_gradients once per step, after create_slots and any pending weights, before the first
  /// update. Default: nothing. Nadam advances its momentum cache here.
  virtual void prepare_step(const std::vector<Variable>& var_list);

  /// True when `weight` is one of weights() (a body can check that a weight it keeps was not
  /// dropped by a failed step's rollback).
  bool owns_weight(const Variable& weight) const;

  /// Appends `weight` to weights() after what is there (iterations is created first), as Keras's
  /// `self._weights.append(w)` for a weight that is not a slot: Nadam's momentum_cache.
  void append_weight(const Variable& weight);

 private:
  struct Slot {
    std::uint64_t var_id;
    std::string slot_name;
    Variable variable;
    std::string var_name;  // the slotted variable's name; empty for an appended non-slot weight
  };
  /// Weights waiting for the slots: a set_weights list, or a loaded checkpoint (`named`).
  struct Pending {
    bool named = false;
    std::vector<Tensor> list;
    std::int64_t iterations = 0;
    std::vector<NamedWeight> weights;
    std::string source;
  };
  /// What slot creation may add, to undo it when a step or build fails before changing values.
  struct SlotMark {
    bool had_iterations;
    std::size_t slots;
    std::size_t slot_names;
  };
  using Assignments = std::vector<std::pair<Variable, Tensor>>;

  /// The pipeline's "aggregate across replicas" stage: sums `grads` across replicas when
  /// `aggregate` (experimental_aggregate_gradients) under a distribution strategy. One replica
  /// today: a no-op.
  void aggregate_gradients(std::vector<Gradient>& grads, bool aggregate);
  std::int64_t iteration_count() const;
  SlotMark mark_slots() const;
  void rollback_slots(const SlotMark& mark);
  /// Validates a set_weights list against weights() and returns the assignments (converted).
  Assignments plan_weight_list(const std::vector<Tensor>& weights) const;
  /// Validates a checkpoint's named weights against weights(), listing every problem at once.
  Assignments plan_named(std::int64_t iterations, const std::vector<NamedWeight>& weights,
                         const std::string& source) const;
  /// The assignments of the pending weights (empty when none), validated.
  Assignments plan_pending() const;
  static void commit(const Assignments& assignments);

  std::string class_name_;
  std::string name_;
  LearningRate learning_rate_;
  double initial_decay_ = 0.0;
  std::optional<double> clipnorm_, clipvalue_, global_clipnorm_;
  ConfigStyle config_style_;
  bool epsilon_inside_sqrt_ = false;
  std::optional<Variable> iterations_;
  std::vector<Slot> slots_;  // creation order
  std::map<std::pair<std::uint64_t, std::string>, std::size_t> slot_index_;
  std::vector<std::string> slot_names_;
  std::optional<Pending> pending_;
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
  /// mismatch ("Optimizer weight shape (..) not compatible with provided weight shape (..)",
  /// followed by the slot and variable of that weight).
  ///
  /// Before the slots exist (keras-team/keras#15298): a list longer than weights() (a fresh
  /// optimizer has none, one that only counted empty steps has just iterations) is copied and
  /// kept pending; build(var_list) or the next apply_gradients creates the slots, then validates
  /// and applies it before anything else changes. A mismatch then throws the errors above, undoes
  /// the slot creation, applies no step and keeps the list pending; a later set_weights replaces
  /// it. A none entry is a ValueError at once.
  void set_weights(const std::vector<Tensor>& weights) { impl_->set_weights(weights); }
  /// True while a set_weights list or a loaded checkpoint waits for build / the first step.
  bool has_pending_weights() const { return impl_->has_pending_weights(); }

  /// Creates iterations and every slot of `var_list` now (create_slots, as the first
  /// apply_gradients would, without a step), then applies pending weights (set_weights or
  /// load_weights). Variables must be floating ("Invalid type ..." ValueError). All-or-nothing:
  /// on a pending-weights mismatch the slots created here are removed again. Calling it again,
  /// or with more variables, only adds the slots that are missing.
  void build(const std::vector<Variable>& var_list) { impl_->build(var_list); }

  /// Writes a checkpoint into `directory` (created if missing; its parent must exist):
  /// `manifest.json` (format, version, class_name, get_config(), iterations, and for each weight
  /// after iterations its variable name, occurrence, slot name, dtype, shape and file) and one
  /// numpy `.npy` file per weight. Atomic: new files get fresh names and are fsynced, then the
  /// manifest is replaced by rename (then the directory is fsynced) and only then are the files
  /// of the previous checkpoint removed, so a crash at any point leaves a loadable checkpoint.
  /// ValueError when the directory cannot be written or weights are still pending.
  void save_weights(const std::string& directory) const { impl_->save_weights(directory); }
  /// Reads a checkpoint written by save_weights. Everything is read and validated first (the
  /// manifest's keys and types, each .npy header and size, dtypes and shapes against the
  /// manifest and the class name); TypeError for a wrong JSON type, ValueError otherwise (a
  /// missing directory or file names the path). Weights are matched to slots by variable name,
  /// not position: a missing, extra, mis-shaped or mis-typed entry gives one ValueError that
  /// lists them all. Nothing changes on any error. When the optimizer has no slots yet, the
  /// validated weights are kept pending and matched at build(var_list) or the first
  /// apply_gradients (whose slots must then be exactly the checkpoint's).
  void load_weights(const std::string& directory) { impl_->load_weights(directory); }

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

  /// The hyperparameters, with the keys and order of keras_generation() (V2 by default; see
  /// OptimizerImpl::get_config and each subclass).
  Config get_config() const { return impl_->get_config(); }

  /// The Keras generation of the config (V2 unless read from a Keras 2.11+ or Keras 3 config)
  /// and how it is written back; see ConfigStyle.
  const ConfigStyle& config_style() const { return impl_->config_style(); }
  KerasGeneration keras_generation() const { return impl_->keras_generation(); }
  /// Switches the generation: get_config's keys and the generation's numerics (ε inside the
  /// square root for Adagrad and RMSprop, Nadam's 0.96^t, one clip option). ValueError, with
  /// nothing changed, for a time-inverse decay > 0 outside V2 or several clips in Keras 3.
  void set_config_style(ConfigStyle style) { impl_->set_config_style(std::move(style)); }

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
