// OptimizerImpl, part 2 of 3: iterations, slots and weights, set_weights, build and
// restore (pending weights, checkpoints).
#include "tapeflow/optim/optimizer.hpp"

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>

#include "tapeflow/autograd/ops.hpp"
#include "tapeflow/core/check.hpp"
#include "tapeflow/core/format.hpp"
#include "tapeflow/optim/checkpoint.hpp"
#include "tapeflow/optim/optimizer_internal.hpp"

namespace tapeflow::optim {

using detail::deep_copy;
using detail::py_str_list;
using detail::shared_name;
using tapeflow::detail::throw_value_error;

Variable OptimizerImpl::iterations() {
  if (!iterations_) iterations_.emplace(Tensor(std::int64_t{0}), name_ + "/iter", false);
  return *iterations_;
}

std::int64_t OptimizerImpl::iteration_count() const {
  return iterations_ ? iterations_->read_value_no_record().item<std::int64_t>() : 0;
}

std::vector<Variable> OptimizerImpl::weights() const {
  std::vector<Variable> out;
  out.reserve(slots_.size() + 1);
  if (iterations_) out.push_back(*iterations_);
  for (const Slot& slot : slots_) out.push_back(slot.variable);
  return out;
}

Variable OptimizerImpl::add_slot(const Variable& var, const std::string& slot_name,
                                 const SlotInitializer& initializer) {
  if (slot_name.empty()) throw_value_error("add_slot: the slot name is empty");
  const auto found = slot_index_.find({var.id(), slot_name});
  if (found != slot_index_.end()) return slots_[found->second].variable;
  Tensor initial = initializer.make(var.shape(), var.dtype(),
                                    fmt::format("add_slot('{}', '{}')", var.name(), slot_name));
  iterations();  // keeps iterations at weights()[0]
  Variable slot(std::move(initial), name_ + "/" + shared_name(var.name()) + "/" + slot_name,
                false);
  slot_index_.emplace(std::make_pair(var.id(), slot_name), slots_.size());
  slots_.push_back(Slot{var.id(), slot_name, slot, var.name()});
  if (std::find(slot_names_.begin(), slot_names_.end(), slot_name) == slot_names_.end()) {
    slot_names_.push_back(slot_name);
  }
  return slot;
}

Variable OptimizerImpl::get_slot(const Variable& var, const std::string& slot_name) const {
  const auto found = slot_index_.find({var.id(), slot_name});
  if (found == slot_index_.end()) {
    std::vector<std::string> own;
    for (const Slot& slot : slots_) {
      if (slot.var_id == var.id()) own.push_back(slot.slot_name);
    }
    throw_value_error(
        "get_slot: optimizer '{}' has no slot '{}' for variable '{}' (the variable's slots: {})",
        name_, slot_name, var.name(), py_str_list(own));
  }
  return slots_[found->second].variable;
}

void OptimizerImpl::append_weight(const Variable& weight) {
  iterations();
  // Variable ids start at 1, so id 0 is never a slot key. The checkpoint name is the last part
  // of the weight's name: "nadam/momentum_cache:0" -> "momentum_cache".
  const std::string name = shared_name(weight.name());
  slots_.push_back(Slot{0, name.substr(name.rfind('/') + 1), weight, std::string()});
}

bool OptimizerImpl::owns_weight(const Variable& weight) const {
  if (iterations_ && iterations_->id() == weight.id()) return true;
  return std::any_of(slots_.begin(), slots_.end(),
                     [&](const Slot& slot) { return slot.variable.id() == weight.id(); });
}

void OptimizerImpl::prepare_step(const std::vector<Variable>& /*var_list*/) {}

Variable OptimizerImpl::add_weight(const std::string& name, const Shape& shape, DType dtype,
                                   const SlotInitializer& initializer, bool trainable) {
  return Variable(initializer.make(shape, dtype, fmt::format("add_weight('{}')", name)), name,
                  trainable);
}

std::vector<Tensor> OptimizerImpl::get_weights() const {
  std::vector<Tensor> out;
  for (const Variable& weight : weights()) out.push_back(deep_copy(weight.read_value_no_record()));
  return out;
}

std::vector<Tensor> OptimizerImpl::normalize_weight_list(const std::vector<Tensor>& weights,
                                                         std::size_t own) const {
  std::vector<Tensor> values = weights;
  if (set_weights_prepends_iterations_ && own == values.size() + 1) {
    values.insert(values.begin(), Tensor(std::int64_t{0}));
  }
  return values;
}

namespace {

/// "slot 'accumulator' of variable 'w:0'", "the iteration count", "weight 'momentum_cache'".
std::string describe(const NamedWeight& weight) {
  if (weight.variable.empty()) return fmt::format("weight '{}'", weight.slot);
  if (weight.occurrence == 0) {
    return fmt::format("slot '{}' of variable '{}'", weight.slot, weight.variable);
  }
  return fmt::format("slot '{}' of variable '{}' (occurrence {})", weight.slot, weight.variable,
                     weight.occurrence);
}

}  // namespace

OptimizerImpl::Assignments OptimizerImpl::plan_weight_list(
    const std::vector<Tensor>& weights) const {
  const std::vector<Variable> params = this->weights();
  std::vector<Tensor> values = normalize_weight_list(weights, params.size());
  if (params.size() != values.size()) {
    std::string provided = "[";
    for (std::size_t i = 0; i < weights.size() && provided.size() < 50; ++i) {
      if (i > 0) provided += ", ";
      provided += weights[i] ? numpy_repr(weights[i]) : "None";
    }
    provided = (provided + "]").substr(0, 50);
    throw_value_error(
        "You called `set_weights(weights)` on optimizer {} with a  weight list of length {}, but "
        "the optimizer was expecting {} weights. Provided weights: {}...",
        name_, weights.size(), params.size(), provided);
  }
  // Validate and convert everything before assigning anything.
  const std::vector<NamedWeight> named = named_weights();
  Assignments out;
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (!values[i]) throw_value_error("set_weights: weight {} is none", i);
    if (values[i].shape() != params[i].shape()) {
      throw_value_error(
          "Optimizer weight shape {} not compatible with provided weight shape {}. (weight {} of "
          "optimizer {}: {})",
          shape_str(params[i].shape()), shape_str(values[i].shape()), i, name_,
          i == 0 ? std::string("the iteration count") : describe(named[i - 1]));
    }
    if (values[i].dtype() != params[i].dtype()) values[i] = cast(values[i], params[i].dtype());
    out.emplace_back(params[i], values[i]);
  }
  return out;
}

OptimizerImpl::Assignments OptimizerImpl::plan_named(std::int64_t steps,
                                                     const std::vector<NamedWeight>& weights,
                                                     const std::string& source) const {
  if (!iterations_) throw_value_error("load_weights: optimizer '{}' has no iterations", name_);
  using Key = std::tuple<std::string, std::size_t, std::string>;
  const std::vector<NamedWeight> own = named_weights();
  const std::vector<Variable> params = this->weights();  // [iterations, own...]
  std::map<Key, std::size_t> own_index;
  for (std::size_t k = 0; k < own.size(); ++k) {
    own_index.emplace(Key{own[k].variable, own[k].occurrence, own[k].slot}, k);
  }
  std::vector<std::string> extra, duplicate, mistyped, misshaped, missing;
  std::vector<bool> seen(own.size(), false);
  Assignments out;
  out.emplace_back(*iterations_, Tensor(steps));
  for (const NamedWeight& w : weights) {
    const auto found = own_index.find(Key{w.variable, w.occurrence, w.slot});
    if (found == own_index.end()) {
      extra.push_back(describe(w));
      continue;
    }
    const std::size_t k = found->second;
    if (seen[k]) {
      duplicate.push_back(describe(w));
      continue;
    }
    seen[k] = true;
    const Variable& param = params[k + 1];
    if (!w.value) {
      misshaped.push_back(describe(w) + ": no value");
    } else if (w.value.dtype() != param.dtype()) {
      mistyped.push_back(fmt::format("{}: optimizer {}, checkpoint {}", describe(w),
                                     dtype_name(param.dtype()), dtype_name(w.value.dtype())));
    } else if (w.value.shape() != param.shape()) {
      misshaped.push_back(fmt::format("{}: optimizer {}, checkpoint {}", describe(w),
                                      shape_str(param.shape()), shape_str(w.value.shape())));
    } else {
      out.emplace_back(param, w.value);
    }
  }
  for (std::size_t k = 0; k < own.size(); ++k) {
    if (!seen[k]) missing.push_back(describe(own[k]));
  }
  std::vector<std::string> parts;
  const auto section = [&](const char* title, const std::vector<std::string>& items) {
    if (!items.empty()) parts.push_back(fmt::format("{} {}: {}", items.size(), title,
                                                    fmt::join(items, ", ")));
  };
  section("missing from the checkpoint", missing);
  section("extra in the checkpoint", extra);
  section("duplicated in the checkpoint", duplicate);
  section("mis-shaped", misshaped);
  section("of the wrong dtype", mistyped);
  if (!parts.empty()) {
    throw_value_error("load_weights: the checkpoint {} does not match optimizer '{}' ({} weights "
                      "after iterations, {} in the checkpoint): {}",
                      source, name_, own.size(), weights.size(), fmt::join(parts, "; "));
  }
  return out;
}

OptimizerImpl::Assignments OptimizerImpl::plan_pending() const {
  if (!pending_) return {};
  if (pending_->named) return plan_named(pending_->iterations, pending_->weights, pending_->source);
  return plan_weight_list(pending_->list);
}

OptimizerImpl::SlotMark OptimizerImpl::mark_slots() const {
  return SlotMark{iterations_.has_value(), slots_.size(), slot_names_.size()};
}

void OptimizerImpl::rollback_slots(const SlotMark& mark) {
  for (std::size_t i = mark.slots; i < slots_.size(); ++i) {
    if (!slots_[i].var_name.empty()) slot_index_.erase({slots_[i].var_id, slots_[i].slot_name});
  }
  slots_.erase(slots_.begin() + static_cast<std::ptrdiff_t>(mark.slots), slots_.end());
  slot_names_.erase(slot_names_.begin() + static_cast<std::ptrdiff_t>(mark.slot_names),
                    slot_names_.end());
  if (!mark.had_iterations) iterations_.reset();
}

void OptimizerImpl::commit(const Assignments& assignments) {
  for (const auto& [param, value] : assignments) {
    Variable target = param;
    target.assign(value);
  }
}

void OptimizerImpl::set_weights(const std::vector<Tensor>& weights) {
  if (slots_.empty() && weights.size() > this->weights().size()) {
    // Before the slots exist: keep a copy until build or the first step knows the variables.
    Pending pending;
    for (std::size_t i = 0; i < weights.size(); ++i) {
      if (!weights[i]) throw_value_error("set_weights: weight {} is none", i);
      pending.list.push_back(deep_copy(weights[i]));
    }
    pending_ = std::move(pending);
    return;
  }
  commit(plan_weight_list(weights));
  pending_.reset();
}

std::vector<NamedWeight> OptimizerImpl::named_weights() const {
  std::vector<NamedWeight> out;
  out.reserve(slots_.size());
  std::map<std::string, std::vector<std::uint64_t>> ids_by_name;  // distinct variables per name
  for (const Slot& slot : slots_) {
    NamedWeight weight;
    weight.slot = slot.slot_name;
    weight.value = slot.variable.read_value_no_record();
    if (!slot.var_name.empty()) {
      std::vector<std::uint64_t>& ids = ids_by_name[slot.var_name];
      auto found = std::find(ids.begin(), ids.end(), slot.var_id);
      if (found == ids.end()) found = ids.insert(ids.end(), slot.var_id);
      weight.variable = slot.var_name;
      weight.occurrence = static_cast<std::size_t>(found - ids.begin());
    }
    out.push_back(std::move(weight));
  }
  return out;
}

void OptimizerImpl::restore_weights(std::int64_t steps, std::vector<NamedWeight> weights,
                                    const std::string& source) {
  if (steps < 0) {
    throw_value_error("load_weights: the checkpoint {} has a negative iteration count {}", source,
                      steps);
  }
  for (const NamedWeight& w : weights) {
    if (!w.value || w.slot.empty()) {
      throw_value_error("load_weights: the checkpoint {} has an entry without {} ({})", source,
                        w.value ? "a slot name" : "a value", describe(w));
    }
  }
  if (slots_.empty() && !weights.empty()) {
    // No slots to match yet: kept until build or the first step creates them.
    Pending pending;
    pending.named = true;
    pending.iterations = steps;
    for (NamedWeight& w : weights) w.value = deep_copy(w.value);
    pending.weights = std::move(weights);
    pending.source = source;
    pending_ = std::move(pending);
    return;
  }
  const SlotMark mark = mark_slots();
  Assignments plan;
  try {
    iterations();
    plan = plan_named(steps, weights, source);
  } catch (...) {
    rollback_slots(mark);
    throw;
  }
  commit(plan);
  pending_.reset();
}

void OptimizerImpl::build(const std::vector<Variable>& var_list) {
  for (const Variable& var : var_list) {
    if (!is_floating(var.dtype())) {
      throw_value_error("Invalid type {} for {}, expected: [float32, float64].",
                        dtype_name(var.dtype()), var.name());
    }
  }
  const SlotMark mark = mark_slots();
  Assignments plan;
  try {
    iterations();
    if (!var_list.empty()) create_slots(var_list);
    plan = plan_pending();
  } catch (...) {
    rollback_slots(mark);
    throw;
  }
  commit(plan);
  pending_.reset();
}

void OptimizerImpl::save_weights(const std::string& directory) const {
  detail::save_checkpoint(*this, directory);
}

void OptimizerImpl::load_weights(const std::string& directory) {
  detail::load_checkpoint(*this, directory);
}

}  // namespace tapeflow::optim
