#include "tapeflow/optim/optimizer.hpp"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <limits>
#include <map>
#include <mutex>
#include <regex>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "tapeflow/autograd/gradient_tape.hpp"
#include "tapeflow/autograd/ops.hpp"
#include "tapeflow/core/check.hpp"
#include "tapeflow/core/format.hpp"
#include "tapeflow/core/kernels.hpp"
#include "tapeflow/optim/checkpoint.hpp"

namespace tapeflow::optim {

using tapeflow::detail::throw_type_error;
using tapeflow::detail::throw_value_error;

namespace {

constexpr const char* kAllowedKwargs =
    "{'clipnorm', 'clipvalue', 'lr', 'decay', 'global_clipnorm'}";

/// A list of strings as Python prints it: ['a:0', 'b:0'].
std::string py_str_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += "'" + items[i] + "'";
  }
  return out + "]";
}

/// TensorFlow's root name-scope pattern ^[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*$.
bool valid_scope_name(const std::string& name) {
  const auto alnum = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  };
  if (name.empty() || !(alnum(name[0]) || name[0] == '.')) return false;
  return std::all_of(name.begin() + 1, name.end(), [&](char c) {
    return alnum(c) || c == '_' || c == '.' || c == '\\' || c == '/' || c == '>' || c == '-';
  });
}

/// "w:0" -> "w", as Keras's var._shared_name.
std::string shared_name(const std::string& variable_name) {
  const std::size_t colon = variable_name.rfind(':');
  return colon == std::string::npos ? variable_name : variable_name.substr(0, colon);
}

/// A fresh copy of a tensor's values (no shared storage).
Tensor deep_copy(const Tensor& value) {
  return Tensor::from_data(value.dtype(), value.shape(), value.raw_data());
}

// ---- clipping (on new tensors: the caller's gradients are never written) -----------------------

double sum_squares(const Tensor& t) {
  return tapeflow::detail::visit_floating(t.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = t.data<T>();
    double s = 0.0;
    for (std::size_t i = 0, n = t.size(); i < n; ++i) s += static_cast<double>(p[i]) * p[i];
    return s;
  });
}

/// The gradient with `f` applied to its dense values or to its IndexedSlices values.
template <class F>
Gradient map_values(const Gradient& g, F&& f) {
  if (!g.is_sparse()) return Gradient(f(g.dense()));
  const IndexedSlices& s = g.indexed_slices();
  return Gradient(IndexedSlices{f(s.values), s.indices, s.dense_shape});
}

/// tf.clip_by_value(t, -c, c); NaN stays NaN.
Tensor clip_value(const Tensor& t, double c) {
  return tapeflow::detail::unary_map(t, [c](auto x) {
    using T = decltype(x);
    const T hi = static_cast<T>(c);
    const T lo = static_cast<T>(-c);
    x = hi < x ? hi : x;
    return x < lo ? lo : x;
  });
}

/// tf.clip_by_norm(t, c) = t·c / max(‖t‖₂, c), computed even when ‖t‖₂ <= c, as TF does (its
/// norm is 0, not NaN, for an all-zero tensor).
Tensor clip_norm(const Tensor& t, double c) {
  const double norm = std::sqrt(sum_squares(t));
  return tapeflow::detail::unary_map(t, [c, norm](auto x) {
    using T = decltype(x);
    const T ct = static_cast<T>(c);
    return static_cast<T>(x * ct) / std::max(static_cast<T>(norm), ct);
  });
}

Tensor scale(const Tensor& t, double factor) {
  return tapeflow::detail::unary_map(t, [factor](auto x) {
    using T = decltype(x);
    return x * static_cast<T>(factor);
  });
}

// ---- validation and sparse preparation ---------------------------------------------------------

/// Calls f(i, index) for each index of an int32 or int64 tensor, in order.
template <class F>
void for_each_index(const Tensor& indices, F&& f) {
  const std::size_t n = indices.size();
  if (indices.dtype() == DType::int64) {
    const std::int64_t* p = indices.data<std::int64_t>();
    for (std::size_t i = 0; i < n; ++i) f(i, p[i]);
  } else {
    const std::int32_t* p = indices.data<std::int32_t>();
    for (std::size_t i = 0; i < n; ++i) f(i, static_cast<std::int64_t>(p[i]));
  }
}

/// Everything apply_gradients checks before it changes anything.
void validate_pair(const Gradient& grad, const Variable& var) {
  if (!is_floating(var.dtype())) {
    throw_value_error("Invalid type {} for {}, expected: [float32, float64].",
                      dtype_name(var.dtype()), var.name());
  }
  if (!grad.is_sparse()) {
    const Tensor dense = grad.dense();
    if (dense.dtype() != var.dtype()) {
      throw_value_error(
          "apply_gradients: the gradient of variable '{}' has dtype {}, the variable {}",
          var.name(), dtype_name(dense.dtype()), dtype_name(var.dtype()));
    }
    if (dense.shape() != var.shape()) {
      throw_value_error(
          "apply_gradients: var and grad do not have the same shape for variable '{}': "
          "variable {}, gradient {}",
          var.name(), shape_str(var.shape()), shape_str(dense.shape()));
    }
    return;
  }
  const IndexedSlices& s = grad.indexed_slices();
  if (!s.values || !s.indices) {
    throw_value_error("apply_gradients: the IndexedSlices gradient of variable '{}' has no {}",
                      var.name(), s.values ? "indices" : "values");
  }
  if (s.values.dtype() != var.dtype()) {
    throw_value_error(
        "apply_gradients: the gradient of variable '{}' has dtype {}, the variable {}",
        var.name(), dtype_name(s.values.dtype()), dtype_name(var.dtype()));
  }
  if (var.shape().empty()) {
    throw_value_error(
        "apply_gradients: an IndexedSlices gradient needs a variable of rank >= 1; '{}' is a "
        "scalar",
        var.name());
  }
  if (s.dense_shape != var.shape()) {
    throw_value_error(
        "apply_gradients: var and grad do not have the same shape for variable '{}': variable "
        "{}, IndexedSlices dense_shape {}",
        var.name(), shape_str(var.shape()), shape_str(s.dense_shape));
  }
  if (!is_integer(s.indices.dtype()) || s.indices.rank() != 1) {
    throw_value_error(
        "apply_gradients: IndexedSlices indices for variable '{}' must be int32 or int64 of rank "
        "1, received {} of shape {}",
        var.name(), dtype_name(s.indices.dtype()), shape_str(s.indices.shape()));
  }
  Shape values_shape = var.shape();
  values_shape[0] = s.indices.size();
  if (s.values.shape() != values_shape) {
    throw_value_error(
        "apply_gradients: IndexedSlices values for variable '{}' must have shape {} ({} indices), "
        "received {}",
        var.name(), shape_str(values_shape), s.indices.size(), shape_str(s.values.shape()));
  }
  const std::int64_t rows = static_cast<std::int64_t>(var.shape()[0]);
  for_each_index(s.indices, [&](std::size_t i, std::int64_t index) {
    if (index < 0 || index >= rows) {
      throw_value_error(
          "apply_gradients: Index {} at offset {} in indices is out of range for variable '{}' "
          "with {} rows",
          index, i, var.name(), rows);
    }
  });
}

/// Sums the rows of repeated indices; unique indices keep their first-appearance order and
/// come back as int64 (tf.unique + unsorted_segment_sum). O(rows in the slices): one pass through
/// a flat open-addressing table (no allocation per index), then one pass over the values, which
/// is skipped when there are no duplicates.
IndexedSlices unique_slices(const IndexedSlices& s) {
  const std::size_t n = s.indices.size();
  std::size_t capacity = 16;
  while (capacity < 2 * n) capacity <<= 1;
  int shift = 64;
  for (std::size_t c = capacity; c > 1; c >>= 1) --shift;
  struct Entry {
    std::int64_t index = -1;  // indices are validated >= 0, so -1 marks a free entry
    std::size_t position = 0;
  };
  std::vector<Entry> table(capacity);
  std::vector<std::int64_t> unique;
  unique.reserve(n);
  std::vector<std::size_t> target(n);
  for_each_index(s.indices, [&](std::size_t i, std::int64_t index) {
    // Fibonacci hashing: the top bits of index·2^64/φ spread consecutive rows.
    std::size_t h = static_cast<std::size_t>(
        (static_cast<std::uint64_t>(index) * 0x9E3779B97F4A7C15ULL) >> shift);
    while (table[h].index != -1 && table[h].index != index) h = (h + 1) & (capacity - 1);
    if (table[h].index == -1) {
      table[h] = Entry{index, unique.size()};
      unique.push_back(index);
    }
    target[i] = table[h].position;
  });
  if (unique.size() == n) {
    if (s.indices.dtype() == DType::int64) return s;
    return IndexedSlices{s.values, Tensor::from_data(DType::int64, {n}, unique.data()),
                         s.dense_shape};
  }
  const std::size_t row = s.values.size() / n;
  Shape values_shape = s.values.shape();
  values_shape[0] = unique.size();
  Tensor summed = zeros(values_shape, s.values.dtype());
  tapeflow::detail::visit_floating(s.values.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* in = s.values.data<T>();
    T* out = static_cast<T*>(summed.storage()->data());
    for (std::size_t i = 0; i < n; ++i) {
      T* dst = out + target[i] * row;
      const T* src = in + i * row;
      for (std::size_t j = 0; j < row; ++j) dst[j] += src[j];
    }
  });
  return IndexedSlices{summed, Tensor::from_data(DType::int64, {unique.size()}, unique.data()),
                       s.dense_shape};
}

/// A vector that borrows `home`'s capacity for one call and hands it back, emptied, on every
/// exit, so that a steady-state apply_gradients allocates nothing and keeps no references.
template <class T>
class Recycled {
 public:
  explicit Recycled(std::vector<T>& home) : home_(home) { items.swap(home_); }
  ~Recycled() {
    items.clear();
    if (items.capacity() >= home_.capacity()) items.swap(home_);
  }
  Recycled(const Recycled&) = delete;
  Recycled& operator=(const Recycled&) = delete;
  std::vector<T> items;

 private:
  std::vector<T>& home_;
};

/// Python's repr of the grads_and_vars tuple, for the "No gradients" message.
std::string grads_and_vars_repr(const GradsAndVars& grads_and_vars) {
  std::string out = "(";
  for (std::size_t i = 0; i < grads_and_vars.size(); ++i) {
    if (i > 0) out += ", ";
    out += fmt::format("({}, {})", grads_and_vars[i].first, grads_and_vars[i].second);
  }
  return out + (grads_and_vars.size() == 1 ? ",)" : ")");
}

}  // namespace

// ---- names -------------------------------------------------------------------------------------

namespace internal {

std::string to_snake_case(const std::string& name) {
  static const std::regex word("(.)([A-Z][a-z0-9]+)");
  static const std::regex boundary("([a-z])([A-Z])");
  std::string out = std::regex_replace(name, word, "$1_$2");
  out = std::regex_replace(out, boundary, "$1_$2");
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!out.empty() && out[0] == '_') out = "private" + out;
  return out;
}

std::string unique_optimizer_name(const std::string& stem) {
  static std::mutex mutex;
  static std::unordered_map<std::string, int> counters;
  std::lock_guard<std::mutex> lock(mutex);
  const int number = counters[stem]++;
  return number == 0 ? stem : stem + "_" + std::to_string(number);
}

}  // namespace internal

// ---- SlotInitializer ---------------------------------------------------------------------------

Tensor SlotInitializer::make(const Shape& shape, DType dtype, const std::string& where) const {
  if (tensor_) {
    if (tensor_.shape() != shape || tensor_.dtype() != dtype) {
      throw_value_error("{}: the initial value has shape {} and dtype {}, expected {} and {}",
                        where, shape_str(tensor_.shape()), dtype_name(tensor_.dtype()),
                        shape_str(shape), dtype_name(dtype));
    }
    return deep_copy(tensor_);
  }
  if (value_) return fill(shape, *value_, dtype);
  if (name_ == "zeros") return zeros(shape, dtype);
  if (name_ == "ones") return ones(shape, dtype);
  throw_value_error(
      "{}: unknown initializer '{}' (expected \"zeros\", \"ones\", a number or a Tensor)", where,
      name_);
}

// ---- OptimizerImpl -----------------------------------------------------------------------------

OptimizerImpl::OptimizerImpl(std::string class_name, std::string name, LearningRate learning_rate,
                             const Config& kwargs)
    : class_name_(std::move(class_name)), learning_rate_(std::move(learning_rate)) {
  if (!kwargs.is_null() && !kwargs.is_object()) {
    throw_type_error("{}: kwargs must be a JSON object of keyword arguments, received: {}",
                     class_name_, kwargs.dump());
  }
  static const char* const allowed[] = {"clipnorm", "clipvalue", "lr", "decay",
                                        "global_clipnorm"};
  if (kwargs.is_object()) {
    for (const auto& item : kwargs.items()) {
      const std::string& key = item.key();
      const Config& value = item.value();
      if (std::find(std::begin(allowed), std::end(allowed), key) == std::end(allowed)) {
        throw_type_error(
            "Unexpected keyword argument passed to optimizer: {}. Allowed kwargs are {}.", key,
            kAllowedKwargs);
      }
      if (value.is_null()) continue;  // Python None: not set
      if (!value.is_number()) {
        throw_type_error("{}: keyword argument `{}` must be a number, received: {}", class_name_,
                         key, value.dump());
      }
      if (value.get<double>() < 0) {
        throw_value_error("Expected {} >= 0, received: {}", key, value.dump());
      }
    }
  }
  const auto kwarg = [&](const char* key) -> std::optional<double> {
    if (!kwargs.is_object() || !kwargs.contains(key) || kwargs.at(key).is_null()) return {};
    return kwargs.at(key).get<double>();
  };

  if (name.empty()) {
    name = internal::unique_optimizer_name(internal::to_snake_case(class_name_));
  } else if (!valid_scope_name(name)) {
    throw_value_error(
        "{}: '{}' is not a valid scope name: an optimizer name must match "
        "^[A-Za-z0-9.][A-Za-z0-9_.\\\\/>-]*$",
        class_name_, name);
  }
  clipnorm_ = kwarg("clipnorm");
  clipvalue_ = kwarg("clipvalue");
  global_clipnorm_ = kwarg("global_clipnorm");
  if (clipnorm_ && global_clipnorm_) {
    throw_value_error(
        "Cannot accept both `clipnorm` and `global_clipnorm`. Received: `clipnorm`={}, "
        "`global_clipnorm`={}.",
        kwargs.at("clipnorm").dump(), kwargs.at("global_clipnorm").dump());
  }
  name_ = std::move(name);
  initial_decay_ = kwarg("decay").value_or(0.0);
  if (const auto lr = kwarg("lr")) {
    std::cerr << "WARNING: The `lr` argument is deprecated, use `learning_rate` instead.\n";
    learning_rate_ = LearningRate(*lr);
  }
}

OptimizerImpl::~OptimizerImpl() = default;

void OptimizerImpl::set_learning_rate(LearningRate learning_rate) {
  learning_rate_ = std::move(learning_rate);
}

Config OptimizerImpl::get_config() const {
  const ConfigStyle& style = config_style_;
  const auto optional = [](const std::optional<double>& v) { return v ? Config(*v) : Config(); };
  const auto inert = [&](const char* key, Config fallback) {
    const auto it = style.inert.find(key);
    return it == style.inert.end() ? fallback : *it;
  };
  const Config learning_rate = learning_rate_.to_config(style.schedule_format);
  Config config = Config::object();
  config["name"] = name_;
  switch (style.generation) {
    case KerasGeneration::v2:
      if (clipnorm_) config["clipnorm"] = *clipnorm_;
      if (clipvalue_) config["clipvalue"] = *clipvalue_;
      if (global_clipnorm_) config["global_clipnorm"] = *global_clipnorm_;
      if (style.inert.contains("is_legacy_optimizer")) {
        config["is_legacy_optimizer"] = style.inert.at("is_legacy_optimizer");
      }
      config["learning_rate"] = learning_rate;
      config["decay"] = initial_decay_;
      break;
    case KerasGeneration::keras2:
    case KerasGeneration::keras3: {
      const bool keras3 = style.generation == KerasGeneration::keras3;
      if (keras3) config["learning_rate"] = learning_rate;
      config["weight_decay"] = nullptr;
      config["clipnorm"] = optional(clipnorm_);
      config["global_clipnorm"] = optional(global_clipnorm_);
      config["clipvalue"] = optional(clipvalue_);
      config["use_ema"] = false;
      config["ema_momentum"] = inert("ema_momentum", 0.99);
      config["ema_overwrite_frequency"] = inert("ema_overwrite_frequency", nullptr);
      if (keras3) {
        config["loss_scale_factor"] = nullptr;
        if (style.has_gradient_accumulation_steps) config["gradient_accumulation_steps"] = nullptr;
      } else {
        config["jit_compile"] = inert("jit_compile", false);
        config["is_legacy_optimizer"] = false;
        config["learning_rate"] = learning_rate;
      }
      break;
    }
  }
  return config;
}

void OptimizerImpl::set_config_style(ConfigStyle style) {
  if (!style.inert.is_object()) {
    throw_type_error("{}.set_config_style: `inert` must be a JSON object, received: {}",
                     class_name_, style.inert.dump());
  }
  if (style.generation != KerasGeneration::v2 && decay_is_time_inverse_ && initial_decay_ > 0) {
    throw_value_error(
        "{}: decay={} (a time-inverse learning-rate decay) has no counterpart in a {} config; "
        "Keras 2.11+ rejects `decay` and Keras 3 ignores it. Use a LearningRateSchedule "
        "(InverseTimeDecay) instead",
        class_name_, Config(initial_decay_).dump(), generation_name(style.generation));
  }
  if (style.generation == KerasGeneration::keras3 &&
      (clipnorm_ ? 1 : 0) + (clipvalue_ ? 1 : 0) + (global_clipnorm_ ? 1 : 0) > 1) {
    const auto repr = [](const std::optional<double>& v) {
      return v ? Config(*v).dump() : std::string("None");
    };
    throw_value_error(
        "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
        "clipnorm={}, clipvalue={}, global_clipnorm={}",
        repr(clipnorm_), repr(clipvalue_), repr(global_clipnorm_));
  }
  config_style_ = std::move(style);
  epsilon_inside_sqrt_ = config_style_.generation != KerasGeneration::v2;
}

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

void OptimizerImpl::apply_sparse(const IndexedSlices& grad, Variable& var, double lr_t) {
  apply_dense(grad.to_dense(), var, lr_t);
}

Variable OptimizerImpl::apply_gradients(const GradsAndVars& grads_and_vars,
                                        const std::string& /*name*/,
                                        bool experimental_aggregate_gradients) {
  if (grads_and_vars.empty()) return iterations();

  // 1. Drop missing gradients. The two lists reuse the previous step's capacity.
  Recycled<Gradient> recycled_grads(step_grads_);
  Recycled<Variable> recycled_vars(step_vars_);
  std::vector<Gradient>& grads = recycled_grads.items;
  std::vector<Variable>& vars = recycled_vars.items;
  std::vector<std::string> missing;
  for (const auto& [grad, var] : grads_and_vars) {
    if (grad) {
      grads.push_back(grad);
      vars.push_back(var);
    } else {
      missing.push_back(var.name());
    }
  }
  if (grads.empty()) {
    throw_value_error(
        "No gradients provided for any variable: ({},). Provided `grads_and_vars` is {}.",
        py_str_list(missing), grads_and_vars_repr(grads_and_vars));
  }

  // Aggregate across replicas: the one place where a distribution strategy sums the gradients
  // (the distribution issue fills it in); with one replica it is the identity.
  aggregate_gradients(grads, experimental_aggregate_gradients);

  // 2. Validate every pair before any state changes.
  for (std::size_t k = 0; k < grads.size(); ++k) validate_pair(grads[k], vars[k]);

  // 3.-4. Clip into new tensors (no state is touched).
  // V2 applies clipvalue, then clipnorm or global_clipnorm. Keras 2.11+ and 3 apply only one,
  // clipnorm first, then global_clipnorm, then clipvalue, and a value of 0 disables it.
  const bool v2 = config_style_.generation == KerasGeneration::v2;
  const auto active = [v2](const std::optional<double>& c) { return c && (v2 || *c > 0); };
  const bool use_clipnorm = active(clipnorm_);
  const bool use_global_clipnorm = active(global_clipnorm_) && !use_clipnorm;
  const bool use_clipvalue = active(clipvalue_) && (v2 || (!use_clipnorm && !use_global_clipnorm));
  if (use_clipvalue) {
    const double c = *clipvalue_;
    for (Gradient& g : grads) g = map_values(g, [c](const Tensor& t) { return clip_value(t, c); });
  }
  if (use_clipnorm) {
    const double c = *clipnorm_;
    for (Gradient& g : grads) g = map_values(g, [c](const Tensor& t) { return clip_norm(t, c); });
  } else if (use_global_clipnorm) {
    double total = 0.0;
    for (const Gradient& g : grads) {
      total += sum_squares(g.is_sparse() ? g.indexed_slices().values : g.dense());
    }
    const double norm = std::sqrt(total);
    const double c = *global_clipnorm_;
    const double factor = std::isfinite(norm) ? c * std::min(1.0 / norm, 1.0 / c)
                                              : std::numeric_limits<double>::quiet_NaN();
    for (Gradient& g : grads) g = map_values(g, [&](const Tensor& t) { return scale(t, factor); });
  }
  // Slots, pending weights (set_weights / load_weights before the slots existed) and lr_t, at
  // the step count those weights set: undone together when any of them throws.
  const SlotMark mark = mark_slots();
  Assignments pending_plan;
  double lr_t = 0.0;
  try {
    const Variable iter = iterations();
    create_slots(vars);
    pending_plan = plan_pending();
    std::int64_t steps = iteration_count();
    for (const auto& [param, value] : pending_plan) {
      if (param.id() == iter.id()) steps = value.item<std::int64_t>();
    }
    const double it = static_cast<double>(steps);
    lr_t = learning_rate_(it);
    if (initial_decay_ > 0 && v2) lr_t /= 1.0 + initial_decay_ * it;
  } catch (...) {
    rollback_slots(mark);
    throw;
  }
  if (pending_) {
    commit(pending_plan);
    pending_.reset();
  }

  if (!missing.empty()) {
    std::cerr << "WARNING: Gradients do not exist for variables " << py_str_list(missing)
              << " when minimizing the loss. If you're using `model.compile()`, did you forget to "
                 "provide a `loss` argument?\n";
  }

  // The per-step hook, then the updates in pair order, then the step count.
  Variable iter = iterations();
  prepare_step(vars);
  for (std::size_t k = 0; k < grads.size(); ++k) {
    if (grads[k].is_sparse()) {
      apply_sparse(unique_slices(grads[k].indexed_slices()), vars[k], lr_t);
    } else {
      apply_dense(grads[k].dense(), vars[k], lr_t);
    }
  }
  ++*static_cast<std::int64_t*>(iter.mutable_data());
  return iter;
}

void OptimizerImpl::aggregate_gradients(std::vector<Gradient>& /*grads*/, bool /*aggregate*/) {}

Variable OptimizerImpl::minimize(const std::function<Tensor()>& loss_fn, const VarList& var_list,
                                 const Tensor& grad_loss, const std::string& name) {
  std::vector<Variable> vars;
  std::vector<Gradient> grads;
  {
    // The tape (and its references to the variables' buffers) is gone before the update, so
    // the in-place kernels need no copy-on-write.
    GradientTape tape;
    if (!var_list.is_callable()) {
      vars = var_list.resolve();
      for (const Variable& v : vars) tape.watch(v);
    }
    const Tensor loss = loss_fn();
    if (var_list.is_callable()) vars = var_list.resolve();
    grads = tape.gradient(loss, std::vector<TensorLike>(vars.begin(), vars.end()), grad_loss);
  }
  return apply_gradients(zip(grads, vars), name);
}

std::vector<Gradient> OptimizerImpl::get_gradients(const std::function<Tensor()>& loss_fn,
                                                   const std::vector<Variable>& params) {
  GradientTape tape;
  for (const Variable& p : params) tape.watch(p);
  const Tensor loss = loss_fn();
  std::vector<Gradient> grads =
      tape.gradient(loss, std::vector<TensorLike>(params.begin(), params.end()));
  for (std::size_t i = 0; i < grads.size(); ++i) {
    if (!grads[i]) {
      throw_value_error(
          "Variable {} has `None` for gradient. Please make sure that all of your ops have a "
          "gradient defined (i.e. are differentiable). Common ops without gradient: K.argmax, "
          "K.round, K.eval.",
          params[i]);
    }
  }
  return grads;
}

std::vector<Variable> OptimizerImpl::get_updates(const std::function<Tensor()>& loss_fn,
                                                 const std::vector<Variable>& params) {
  const std::vector<Gradient> grads = get_gradients(loss_fn, params);
  apply_gradients(zip(grads, params));
  return params;
}

// ---- Optimizer ---------------------------------------------------------------------------------

Optimizer::Optimizer(std::shared_ptr<OptimizerImpl> impl) : impl_(std::move(impl)) {
  if (!impl_) throw_value_error("Optimizer: the implementation is null");
}

std::ostream& operator<<(std::ostream& os, const Optimizer& optimizer) {
  os << "<tapeflow.optim." << optimizer.class_name() << " name='" << optimizer.name() << "'";
  const Config config = optimizer.get_config();
  for (const auto& item : config.items()) {
    if (item.key() == "name") continue;
    os << " " << item.key() << "=";
    if (item.key() == "learning_rate") {
      os << optimizer.learning_rate();
    } else {
      os << item.value().dump();
    }
  }
  return os << ">";
}

}  // namespace tapeflow::optim
