// OptimizerImpl, part 3 of 3: the apply_gradients pipeline (drop missing gradients,
// aggregate, validate, clip, slots, learning rate, update, count) and minimize.
#include "tapeflow/optim/optimizer.hpp"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <limits>
#include <utility>

#include "tapeflow/autograd/gradient_tape.hpp"
#include "tapeflow/autograd/ops.hpp"
#include "tapeflow/core/check.hpp"
#include "tapeflow/core/format.hpp"
#include "tapeflow/core/kernels.hpp"
#include "tapeflow/optim/optimizer_internal.hpp"

namespace tapeflow::optim {

using detail::py_str_list;
using tapeflow::detail::throw_value_error;

namespace {

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

}  // namespace tapeflow::optim
