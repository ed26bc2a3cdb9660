#pragma once
// record: the one helper every differentiable op calls to put itself on the active tapes.
//
// An op computes its forward value into a concrete Tensor, then returns
//     detail::record("exp", y, {x}, [y](const Tensor& g, NeedsGrad) -> Grads { return {g * y}; });
// The backward closure returns one Gradient per input (none to skip) and is built from ops, so
// outer tapes record it (higher-order gradients). The tape unbroadcasts each returned gradient to
// its input's shape (`sum_to`) and accumulates gradients of inputs used more than once.
// When no recording tape watches an input, nothing is stored and the closure is never built.

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "tapeflow/autograd/indexed_slices.hpp"
#include "tapeflow/core/tensor.hpp"

namespace tapeflow::detail {

/// Which inputs of an op need a gradient; a backward closure may skip the others.
class NeedsGrad {
 public:
  explicit NeedsGrad(std::uint64_t bits) : bits_(bits) {}
  bool operator[](std::size_t input) const { return input >= 64 || ((bits_ >> input) & 1U) != 0; }
  std::uint64_t bits() const { return bits_; }

 private:
  std::uint64_t bits_;
};

using Grads = std::vector<Gradient>;

/// A recorded op's backward closure. Every tape that records the op shares one; the closure and
/// its reference count sit in a single allocation (no std::function, whose small buffer is too
/// small for the usual two captured Tensors).
class BackwardNode {
 public:
  virtual ~BackwardNode() = default;
  virtual Grads operator()(const Tensor& grad_output, NeedsGrad needs) const = 0;
};

template <class F>
class BackwardClosure final : public BackwardNode {
 public:
  explicit BackwardClosure(F f) : f_(std::move(f)) {}
  Grads operator()(const Tensor& grad_output, NeedsGrad needs) const override {
    return f_(grad_output, needs);
  }

 private:
  F f_;
};

using BackwardPtr = std::shared_ptr<const BackwardNode>;

/// Wraps a closure `(const Tensor& g, NeedsGrad) -> Grads` for the tape (one allocation).
template <class Backward>
BackwardPtr make_backward(Backward&& backward) {
  return std::make_shared<const BackwardClosure<std::decay_t<Backward>>>(
      std::forward<Backward>(backward));
}

using TensorRefs = std::initializer_list<std::reference_wrapper<const Tensor>>;

/// True when some tape on this thread is recording (a thread-local counter: the no-tape fast path).
bool any_tape_recording();

/// Builds the shared backward closure from the caller's closure object (see record).
using MakeBackward = BackwardPtr (*)(void* closure);

/// Stores the op on every recording tape that watches one of its inputs, in one pass over the
/// tapes. `make(closure)` runs once, and only when some tape records the op.
void record_operation(const char* op, const Tensor& output, const Tensor* const* inputs,
                      std::size_t count, MakeBackward make, void* closure);

/// record_operation with `backward` as the closure (moved from when it is an rvalue).
template <class Backward>
void record_with(const char* op, const Tensor& output, const Tensor* const* inputs,
                 std::size_t count, Backward&& backward) {
  using Stored = std::remove_reference_t<Backward>;
  MakeBackward make = [](void* closure) -> BackwardPtr {
    return make_backward(static_cast<Backward&&>(*static_cast<Stored*>(closure)));
  };
  record_operation(op, output, inputs, count, make,
                   const_cast<void*>(static_cast<const void*>(std::addressof(backward))));
}

/// Records `output = op(inputs)` for ops with a variable number of inputs (concat).
template <class Backward>
Tensor record(const char* op, Tensor output, const std::vector<Tensor>& inputs,
              Backward&& backward) {
  if (!any_tape_recording() || !is_floating(output.dtype())) return output;
  std::vector<const Tensor*> pointers;
  pointers.reserve(inputs.size());
  for (const Tensor& input : inputs) pointers.push_back(&input);
  record_with(op, output, pointers.data(), pointers.size(), std::forward<Backward>(backward));
  return output;
}

/// Records `output = op(inputs)` with its backward closure and returns `output`.
template <class Backward>
Tensor record(const char* op, Tensor output, TensorRefs inputs, Backward&& backward) {
  if (!any_tape_recording() || !is_floating(output.dtype())) return output;
  if (inputs.size() > 8) {
    return record(op, std::move(output), std::vector<Tensor>(inputs.begin(), inputs.end()),
                  std::forward<Backward>(backward));
  }
  const Tensor* pointers[8];
  std::size_t count = 0;
  for (const Tensor& input : inputs) pointers[count++] = &input;
  record_with(op, output, pointers, count, std::forward<Backward>(backward));
  return output;
}

}  // namespace tapeflow::detail
