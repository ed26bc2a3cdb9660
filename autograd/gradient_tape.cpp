#include "tapeflow/autograd/gradient_tape.hpp"

#include <algorithm>
#include <cstring>

#include "tapeflow/autograd/ops.hpp"
#include "tapeflow/autograd/tape.hpp"
#include "tapeflow/core/check.hpp"

namespace tapeflow {

namespace detail {

namespace {
thread_local std::vector<Tape*> active_tapes;
thread_local int recording_tapes = 0;  // how many tapes on this thread record right now
}  // namespace

std::vector<Tape*>& tape_stack() { return active_tapes; }

bool any_tape_recording() { return recording_tapes > 0; }

// ---- IdSet -------------------------------------------------------------------------------------

bool IdSet::insert(std::uint64_t id) {
  if (id == 0) return false;
  if (2 * (size_ + 1) > slots_.size()) grow();
  for (std::size_t i = slot_of(id);; i = (i + 1) & mask_) {
    if (slots_[i] == id) return false;
    if (slots_[i] == 0) {
      slots_[i] = id;
      ++size_;
      return true;
    }
  }
}

void IdSet::clear() {
  std::fill(slots_.begin(), slots_.end(), 0);
  size_ = 0;
}

void IdSet::grow() {
  std::vector<std::uint64_t> old = std::move(slots_);
  const std::size_t capacity = old.empty() ? 64 : 2 * old.size();
  slots_.assign(capacity, 0);
  mask_ = capacity - 1;
  shift_ = 64;
  for (std::size_t c = capacity; c > 1; c >>= 1) --shift_;
  size_ = 0;
  for (std::uint64_t id : old) {
    if (id != 0) insert(id);
  }
}

// ---- Tape --------------------------------------------------------------------------------------

namespace {

/// The emptied buffers of the last tape destroyed on this thread: a loop that makes a tape per
/// step reuses them and stops allocating for entries after its first step.
thread_local bool spare_buffers_gone = false;  // trivially destructible: readable at thread exit
struct SpareBuffers {
  ~SpareBuffers() { spare_buffers_gone = true; }
  std::vector<TapeEntry> entries;
  std::vector<TapeInput> inputs;
  std::vector<std::size_t> dims;
  IdSet known;
  bool full = false;
};
thread_local SpareBuffers spare_buffers;
// Larger buffers go back to the allocator rather than sit idle.
constexpr std::size_t kMaxSpareEntries = std::size_t{1} << 16;

}  // namespace

Tape::Tape(bool persistent, bool watch_accessed_variables)
    : persistent_(persistent), watch_accessed_variables_(watch_accessed_variables) {
  if (!spare_buffers_gone && spare_buffers.full) {
    entries_.swap(spare_buffers.entries);
    inputs_.swap(spare_buffers.inputs);
    dims_.swap(spare_buffers.dims);
    std::swap(known_, spare_buffers.known);
    spare_buffers.full = false;
  }
  active_tapes.push_back(this);
  ++recording_tapes;
}

Tape::~Tape() {
  set_recording(false);
  active_tapes.erase(std::remove(active_tapes.begin(), active_tapes.end(), this),
                     active_tapes.end());
  if (!spare_buffers_gone && !spare_buffers.full && entries_.capacity() <= kMaxSpareEntries) {
    entries_.clear();
    inputs_.clear();
    dims_.clear();
    known_.clear();
    entries_.swap(spare_buffers.entries);
    inputs_.swap(spare_buffers.inputs);
    dims_.swap(spare_buffers.dims);
    std::swap(known_, spare_buffers.known);
    spare_buffers.full = true;
  }
}

void Tape::set_recording(bool on) {
  on = on && !spent_;  // ending a pause does not revive a spent tape
  if (on == recording_) return;
  recording_ = on;
  recording_tapes += on ? 1 : -1;
}

void Tape::watch_tensor(const Tensor& tensor) {
  if (!tensor) throw_value_error("GradientTape.watch: the tensor is none");
  if (is_floating(tensor.dtype()) && !spent_) known_.insert(tensor.id());
}

void Tape::watch_variable(const Variable& variable) {
  if (!is_floating(variable.dtype()) || spent_) return;
  if (known_.insert(variable.id())) watched_variables_.push_back(variable);
}

TapeInput Tape::add_input(std::uint64_t id, const Shape& shape, DType dtype) {
  TapeInput input{id, static_cast<std::uint32_t>(dims_.size()),
                  static_cast<std::uint32_t>(shape.size()), dtype};
  dims_.insert(dims_.end(), shape.begin(), shape.end());
  return input;
}

bool Tape::same_shape(const TapeInput& input, const Shape& shape) const {
  return shape.size() == input.rank &&
         std::equal(shape.begin(), shape.end(), dims_.begin() + input.dims);
}

Shape Tape::shape_of(const TapeInput& input) const {
  return Shape(dims_.begin() + input.dims, dims_.begin() + input.dims + input.rank);
}

void Tape::add_operation(const char* op, const Tensor& output, const Tensor* const* inputs,
                         std::size_t count, std::uint64_t needs, const BackwardPtr& backward) {
  const auto first = static_cast<std::uint32_t>(inputs_.size());
  for (std::size_t i = 0; i < count; ++i) {
    const Tensor& input = *inputs[i];
    inputs_.push_back(input ? add_input(input.id(), input.shape(), input.dtype())
                            : TapeInput{0, 0, 0, DType::float32});
  }
  entries_.push_back(TapeEntry{op, output.id(), needs, first, static_cast<std::uint32_t>(count),
                               backward, false});
  known_.insert(output.id());
}

void Tape::record_read(const VariableState& state, const Variable& variable, const Tensor& value) {
  if (!knows(state.id)) {
    if (!watch_accessed_variables_ || !state.trainable) return;
    watch_variable(variable);
    if (!knows(state.id)) return;
  }
  const auto first = static_cast<std::uint32_t>(inputs_.size());
  inputs_.push_back(add_input(state.id, state.storage->shape(), state.storage->dtype()));
  entries_.push_back(TapeEntry{"ReadVariableOp", value.id(), 1, first, 1, nullptr, true});
  known_.insert(value.id());
}

void Tape::reset() {
  entries_.clear();
  inputs_.clear();
  dims_.clear();
  known_.clear();
  watched_variables_.clear();
  used_ = false;
  if (spent_) {
    spent_ = false;
    set_recording(true);
  }
}

void Tape::release_if_spent() {
  if (persistent_ || !used_) return;
  spent_ = true;
  set_recording(false);
  entries_.clear();
  inputs_.clear();
  dims_.clear();
  known_.clear();
}

void Tape::begin_gradient(const char* what) {
  if (used_ && !persistent_) {
    throw_value_error(
        "GradientTape.{}: a non-persistent GradientTape can only be used to compute one set of "
        "gradients (or jacobians); create it with persistent=true to call it again",
        what);
  }
  used_ = true;
}

namespace {

/// The gradients of one backward pass by id: an open-addressing index (like IdSet) into a dense
/// vector of gradients, which grows as ids arrive. A consumed gradient is left empty in place
/// rather than erased; an empty Gradient reads as "no gradient".
class GradientMap {
 public:
  explicit GradientMap(std::size_t expected_ids) {
    values_.reserve(expected_ids);
    rehash(capacity_for(expected_ids));
  }
  /// The gradient of `id`, or nullptr when it has none.
  Gradient* find(std::uint64_t id) {
    if (id == 0) return nullptr;  // a none tensor; 0 also marks empty slots
    for (std::size_t i = slot_of(id);; i = (i + 1) & mask_) {
      if (slots_[i].id == id) {
        Gradient& value = values_[slots_[i].index];
        return value ? &value : nullptr;
      }
      if (slots_[i].id == 0) return nullptr;
    }
  }
  /// grads[id] += gradient.
  void accumulate(std::uint64_t id, Gradient gradient) {
    if (id == 0) return;
    for (std::size_t i = slot_of(id);; i = (i + 1) & mask_) {
      if (slots_[i].id == id) {
        Gradient& value = values_[slots_[i].index];
        value = value ? add_gradients(value, gradient) : std::move(gradient);
        return;
      }
      if (slots_[i].id == 0) {
        slots_[i] = Slot{id, values_.size()};
        values_.push_back(std::move(gradient));
        if (2 * values_.size() > slots_.size()) rehash(2 * slots_.size());
        return;
      }
    }
  }

 private:
  struct Slot {
    std::uint64_t id;
    std::size_t index;
  };
  static std::size_t capacity_for(std::size_t ids) {
    std::size_t capacity = 16;
    while (capacity < 2 * ids) capacity *= 2;
    return capacity;
  }
  std::size_t slot_of(std::uint64_t id) const {
    return static_cast<std::size_t>((id * 0x9E3779B97F4A7C15ULL) >> shift_);
  }
  void rehash(std::size_t capacity) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(capacity, Slot{0, 0});
    mask_ = capacity - 1;
    shift_ = 64;
    for (std::size_t c = capacity; c > 1; c >>= 1) --shift_;
    for (const Slot& slot : old) {
      if (slot.id == 0) continue;
      std::size_t i = slot_of(slot.id);
      while (slots_[i].id != 0) i = (i + 1) & mask_;
      slots_[i] = slot;
    }
  }

  std::vector<Slot> slots_;
  std::vector<Gradient> values_;
  std::size_t mask_ = 0;
  unsigned shift_ = 64;
};

/// sum_to for the gradient an op returned for one input; a shape that cannot sum down to the
/// input's shape is the op's bug, so the error names the op (sum_to alone cannot).
Tensor unbroadcast(const char* op, std::size_t input, const Tensor& gradient, const Shape& shape) {
  const Shape& from = gradient.shape();
  bool reduces = shape.size() <= from.size();
  const std::size_t lead = reduces ? from.size() - shape.size() : 0;
  for (std::size_t k = 0; reduces && k < shape.size(); ++k) {
    reduces = shape[k] == 1 || shape[k] == from[k + lead];
  }
  if (!reduces) {
    throw_value_error(
        "GradientTape: the gradient of {} for input {} has shape {}, which does not sum down to "
        "the input's shape {}",
        op, input, shape_str(from), shape_str(shape));
  }
  return sum_to(gradient, shape);
}

}  // namespace

std::vector<Gradient> Tape::backward(const Tensor& target, const Tensor& seed,
                                     const std::vector<std::uint64_t>& sources) {
  // Gradients flow only to ids this tape knows (plus the target).
  GradientMap grads(known_.size() + 1);
  grads.accumulate(target.id(), Gradient(seed));
  IdSet keep;
  for (std::uint64_t id : sources) keep.insert(id);
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    const TapeEntry& entry = *it;
    Gradient* found = grads.find(entry.output_id);
    if (found == nullptr) continue;
    // A source's own gradient stays for the result; any other is consumed here.
    Gradient grad;
    if (keep.contains(entry.output_id)) {
      grad = *found;
    } else {
      grad = std::move(*found);
      *found = Gradient();
    }
    const TapeInput* inputs = inputs_.data() + entry.first_input;
    if (entry.passes_sparse) {
      grads.accumulate(inputs[0].id, std::move(grad));
      continue;
    }
    const NeedsGrad needs(entry.needs);
    Grads input_grads = (*entry.backward)(grad.dense(), needs);
    const std::size_t n = std::min<std::size_t>(entry.input_count, input_grads.size());
    for (std::size_t i = 0; i < n; ++i) {
      if (!needs[i] || !input_grads[i]) continue;
      const TapeInput& input = inputs[i];
      if (i >= 64 && !knows(input.id)) continue;  // past the mask: ask the tape
      Gradient input_grad = std::move(input_grads[i]);
      if (!input_grad.is_sparse()) {
        Tensor dense = input_grad.dense();
        if (!same_shape(input, dense.shape())) {
          dense = unbroadcast(entry.op, i, dense, shape_of(input));
        }
        if (dense.dtype() != input.dtype) {
          throw_value_error("GradientTape: the gradient of {} for input {} has dtype {}, expected {}",
                            entry.op, i, dtype_name(dense.dtype()), dtype_name(input.dtype));
        }
        input_grad = Gradient(std::move(dense));
      }
      grads.accumulate(input.id, std::move(input_grad));
    }
  }
  std::vector<Gradient> result;
  result.reserve(sources.size());
  for (std::uint64_t id : sources) {
    Gradient* found = grads.find(id);
    result.push_back(found == nullptr ? Gradient() : *found);
  }
  return result;
}

void record_operation(const char* op, const Tensor& output, const Tensor* const* inputs,
                      std::size_t count, MakeBackward make, void* closure) {
  // The closure is built for the first tape that records the op; the others share it.
  BackwardPtr backward;
  for (Tape* tape : active_tapes) {
    if (!tape->recording()) continue;
    std::uint64_t needs = 0;  // NeedsGrad reads inputs past 63 as needed
    bool wanted_any = false;
    for (std::size_t i = 0; i < count; ++i) {
      // knows() first: it is the cheap test, and false for a none input (id 0).
      if (!tape->knows(inputs[i]->id()) || !is_floating(inputs[i]->dtype())) continue;
      wanted_any = true;
      if (i < 64) needs |= std::uint64_t{1} << i;
    }
    if (!wanted_any) continue;
    if (!backward) backward = make(closure);
    tape->add_operation(op, output, inputs, count, needs, backward);
  }
}

void record_variable_read(const VariableState& state, const Variable& variable,
                          const Tensor& value) {
  if (!any_tape_recording()) return;
  for (Tape* tape : active_tapes) {
    if (tape->recording()) tape->record_read(state, variable, value);
  }
}

Gradient add_gradients(const Gradient& a, const Gradient& b) {
  if (!a) return b;
  if (!b) return a;
  if (a.is_sparse() && b.is_sparse()) {
    const IndexedSlices& x = a.indexed_slices();
    const IndexedSlices& y = b.indexed_slices();
    return IndexedSlices{concat({x.values, y.values}, 0),
                         concat({cast(x.indices, DType::int64), cast(y.indices, DType::int64)}, 0),
                         x.dense_shape};
  }
  return a.dense() + b.dense();
}

}  // namespace detail

// ---- TensorLike --------------------------------------------------------------------------------

const Tensor& TensorLike::tensor() const {
  if (variable_) detail::throw_value_error("TensorLike: holds a variable, not a tensor");
  return tensor_;
}

const Variable& TensorLike::variable() const {
  if (!variable_) detail::throw_value_error("TensorLike: holds a tensor, not a variable");
  return *variable_;
}

std::uint64_t TensorLike::id() const { return variable_ ? variable_->id() : tensor_.id(); }
Shape TensorLike::shape() const { return variable_ ? variable_->shape() : tensor_.shape(); }
DType TensorLike::dtype() const { return variable_ ? variable_->dtype() : tensor_.dtype(); }

// ---- GradientTape ------------------------------------------------------------------------------

GradientTape::GradientTape(bool persistent, bool watch_accessed_variables)
    : tape_(std::make_unique<detail::Tape>(persistent, watch_accessed_variables)) {}

GradientTape::~GradientTape() = default;

void GradientTape::watch(const TensorLike& source) {
  if (source.is_variable()) {
    tape_->watch_variable(source.variable());
  } else {
    tape_->watch_tensor(source.tensor());
  }
}

void GradientTape::watch(const std::vector<TensorLike>& sources) {
  for (const TensorLike& source : sources) watch(source);
}

GradientTape::StopRecording::StopRecording(detail::Tape* tape)
    : tape_(tape), was_recording_(tape->recording()) {
  tape_->set_recording(false);
}

GradientTape::StopRecording::~StopRecording() {
  if (tape_ != nullptr) tape_->set_recording(was_recording_);
}

GradientTape::StopRecording::StopRecording(StopRecording&& other) noexcept
    : tape_(other.tape_), was_recording_(other.was_recording_) {
  other.tape_ = nullptr;
}

GradientTape::StopRecording GradientTape::stop_recording() { return StopRecording(tape_.get()); }

void GradientTape::reset() { tape_->reset(); }

bool GradientTape::persistent() const { return tape_->persistent(); }

std::vector<Variable> GradientTape::watched_variables() const {
  return tape_->watched_variables();
}

namespace {

void check_target(const char* what, const Tensor& target) {
  if (!target) detail::throw_value_error("GradientTape.{}: the target is none", what);
  if (!is_floating(target.dtype())) {
    detail::throw_value_error(
        "GradientTape.{}: the target must be a float32 or float64 tensor. Received: dtype={}",
        what, dtype_name(target.dtype()));
  }
}

void check_source(const char* what, const TensorLike& source, std::size_t index) {
  if (!source.is_variable() && !source.tensor()) {
    detail::throw_value_error("GradientTape.{}: source {} is none", what, index);
  }
  if (!is_floating(source.dtype())) {
    detail::throw_type_error(
        "GradientTape.{}: sources must be float32 or float64 tensors or variables. Received: "
        "dtype={} for source {}",
        what, dtype_name(source.dtype()), index);
  }
}

Tensor zeros_for(const TensorLike& source) { return zeros(source.shape(), source.dtype()); }

/// Releases a non-persistent tape when the gradient computation ends, returned or thrown. Made
/// before the recording pause, so it runs after the pause has ended.
class ReleaseWhenSpent {
 public:
  explicit ReleaseWhenSpent(detail::Tape& tape) : tape_(tape) {}
  ~ReleaseWhenSpent() { tape_.release_if_spent(); }
  ReleaseWhenSpent(const ReleaseWhenSpent&) = delete;
  ReleaseWhenSpent& operator=(const ReleaseWhenSpent&) = delete;

 private:
  detail::Tape& tape_;
};

}  // namespace

std::vector<Gradient> GradientTape::gradient(const Tensor& target,
                                             const std::vector<TensorLike>& sources,
                                             const Tensor& output_gradients,
                                             UnconnectedGradients unconnected_gradients) {
  check_target("gradient", target);
  std::vector<std::uint64_t> ids;
  ids.reserve(sources.size());
  for (std::size_t i = 0; i < sources.size(); ++i) {
    check_source("gradient", sources[i], i);
    ids.push_back(sources[i].id());
  }
  Tensor seed = output_gradients;
  if (seed) {
    if (seed.shape() != target.shape() || seed.dtype() != target.dtype()) {
      detail::throw_value_error(
          "GradientTape.gradient: output_gradients must match the target. Received: shape={} "
          "dtype={} for a target of shape={} dtype={}",
          shape_str(seed.shape()), dtype_name(seed.dtype()), shape_str(target.shape()),
          dtype_name(target.dtype()));
    }
  } else {
    seed = ones_like(target);
  }
  tape_->begin_gradient("gradient");
  const ReleaseWhenSpent release(*tape_);
  auto pause = stop_recording();
  std::vector<Gradient> grads = tape_->backward(target, seed, ids);
  if (unconnected_gradients == UnconnectedGradients::ZERO) {
    for (std::size_t i = 0; i < grads.size(); ++i) {
      if (!grads[i]) grads[i] = Gradient(zeros_for(sources[i]));
    }
  }
  return grads;
}

Tensor GradientTape::jacobian(const Tensor& target, const TensorLike& source,
                              UnconnectedGradients unconnected_gradients) {
  check_target("jacobian", target);
  check_source("jacobian", source, 0);
  tape_->begin_gradient("jacobian");
  const ReleaseWhenSpent release(*tape_);
  auto pause = stop_recording();
  const Shape source_shape = source.shape();
  const std::size_t source_size = detail::shape_size(source_shape);
  const std::size_t n = target.size();
  std::vector<std::int64_t> full_shape(target.shape().begin(), target.shape().end());
  full_shape.insert(full_shape.end(), source_shape.begin(), source_shape.end());
  Shape result_shape(full_shape.begin(), full_shape.end());

  std::vector<Tensor> rows;
  rows.reserve(n);
  bool connected = false;
  const std::size_t element_bytes = dtype_size(target.dtype());
  for (std::size_t i = 0; i < n; ++i) {
    Tensor seed = zeros(target.shape(), target.dtype());
    // One-hot seed: set element i to one (seed is fresh, so writing it is safe).
    const Tensor one = ones({}, target.dtype());
    std::memcpy(static_cast<unsigned char*>(seed.storage()->data()) + i * element_bytes,
                one.raw_data(), element_bytes);
    Gradient g = tape_->backward(target, seed, {source.id()})[0];
    if (g) connected = true;
    Tensor row = g ? g.dense() : zeros_for(source);
    rows.push_back(reshape(row, {1, static_cast<std::int64_t>(source_size)}));
  }
  if (!connected && unconnected_gradients == UnconnectedGradients::NONE) return Tensor();
  if (n == 0) return zeros(result_shape, source.dtype());
  return reshape(concat(rows, 0), full_shape);
}

}  // namespace tapeflow
