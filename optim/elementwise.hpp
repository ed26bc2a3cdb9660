#pragma once
// ElementwiseImpl: the body of every element-wise optimizer (SGD, Adagrad, RMSprop, Adam,
// Adadelta, Adamax, Nadam, Ftrl). Such an optimizer is two declarations in its own .cpp:
//
//  - an options table (OptionSpec rows): each hyperparameter once, with its default, its valid
//    range and Keras's wording for a value out of range. The constructor's checks, the
//    accessors (option(i)), get_config's entries (in each generation's order) and from_config
//    (detail::ConfigReader::options) all read it;
//  - a rule (optim/rule.hpp): its slots (SlotSpec rows: name, initial value, the option that
//    switches it on) and its update of one element, written once as a template over float and
//    double. The base derives create_slots, the dense and sparse loops, thread splitting and the
//    AVX2/AVX-512 versions from it.
//
// Optimizers that are not element-wise (a trust ratio, factored moments, an orthogonalization,
// a wrapper) derive from OptimizerImpl directly and override apply_dense/apply_sparse (and
// prepare_step for work once per step); they can still use an options table through
// ElementwiseImpl's constructor with a spec whose kernels are their own. docs/architecture.md
// has the walk-through.

#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "tapeflow/optim/optimizer.hpp"

namespace tapeflow::optim {

class ElementwiseImpl;

/// "No limit" for an option's range.
constexpr double kNoLimit = std::numeric_limits<double>::infinity();

/// One hyperparameter: a row of an optimizer's options table. Numbers must be finite and in
/// [min, max] (ValueError otherwise, from the constructor and from from_config alike).
struct OptionSpec {
  const char* key;
  double default_value;
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  /// Keras's message for a value out of range ({0} is the key, {1} the value), or null for
  /// "<Class>: `key` must be in [min, max], received: v". With a message, from_config leaves the
  /// range to the constructor, so both paths give Keras's wording.
  const char* range_message = nullptr;
  bool boolean = false;              // a JSON boolean (stored as 0 or 1)
  bool epsilon = false;              // V2's `epsilon or backend.epsilon()`: 0 or null is 1e-7
  bool checked_before_base = false;  // Keras checks it before the base kwargs (Adagrad)
  int v2_position = -1;  // its place among the options in a V2 config, when not the table's
  /// The range binds configs only: Keras's constructor does not check it (Ftrl's beta).
  bool range_in_configs_only = false;
};

/// One slot: created for every variable, zeros or the value of option `initial_option`, and
/// only when option `only_if` is non-zero (when given).
struct SlotSpec {
  const char* name;
  int initial_option = -1;
  int only_if = -1;
};

/// Everything the base needs to know about an element-wise optimizer.
struct OptimizerSpec {
  const char* class_name;
  double default_learning_rate;
  const OptionSpec* options;
  std::size_t num_options;
  const SlotSpec* slots;
  std::size_t num_slots;
  /// Slots are created per variable ({v0.a, v0.b, v1.a, ...}: Ftrl) instead of per slot
  /// ({v0.a, v1.a, v0.b, ...}).
  bool interleave_slots = false;
  /// set_weights accepts Keras v1 lists without the iteration count (Adagrad, RMSprop, Adadelta).
  bool set_weights_prepends_iterations = false;
  /// The update kernels, generated from the rule by detail::kernels<Rule>() (optim/rule.hpp).
  void (*dense)(ElementwiseImpl&, const Tensor&, Variable&, double) = nullptr;
  void (*sparse)(ElementwiseImpl&, const IndexedSlices&, Variable&, double) = nullptr;
};

/// The body of an element-wise optimizer: the options' values and the rule's kernels.
class ElementwiseImpl : public OptimizerImpl {
 public:
  /// The value of option `index` of the table (a boolean is 0 or 1).
  double option(std::size_t index) const { return values_[index]; }
  bool flag(std::size_t index) const { return values_[index] != 0; }
  const OptimizerSpec& spec() const { return spec_; }

  /// The base entries, then the options in the generation's order.
  Config get_config() const override;

  /// The slot variables of `var` in the spec's order; an inactive slot is `var` itself (the
  /// rules never touch it). Returns how many the spec lists.
  std::size_t slots_of(const Variable& var, Variable* out) const;

 public:
  /// Checks `values` against the table (in table order; rows with checked_before_base before
  /// the base's kwargs and name checks), applies `epsilon or 1e-7`, then the base constructor.
  ElementwiseImpl(const OptimizerSpec& spec,
                  LearningRate learning_rate,
                  std::vector<double> values,
                  std::string name,
                  const Config& kwargs);

 protected:
  void create_slots(const std::vector<Variable>& var_list) override;
  void apply_dense(const Tensor& grad, Variable& var, double lr_t) override;
  void apply_sparse(const IndexedSlices& grad, Variable& var, double lr_t) override;

 private:
  const OptimizerSpec& spec_;
  std::vector<double> values_;
};

namespace detail {
/// The table checks of ElementwiseImpl's constructor, for `values` of `spec` (those with
/// checked_before_base when `before_base`, else the others); returns `values` with
/// `epsilon or 1e-7` applied.
std::vector<double> check_options(const OptimizerSpec& spec,
                                  std::vector<double> values,
                                  bool before_base);
}  // namespace detail

}  // namespace tapeflow::optim
