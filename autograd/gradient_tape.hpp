#pragma once
// GradientTape: records ops on watched tensors and variables, then differentiates them.

#include <memory>
#include <type_traits>
#include <vector>

#include "tapeflow/autograd/indexed_slices.hpp"
#include "tapeflow/autograd/variable.hpp"
#include "tapeflow/core/tensor.hpp"

namespace tapeflow {

namespace detail {
class Tape;
}

/// What `gradient` returns for a source that the target does not depend on.
enum class UnconnectedGradients { NONE, ZERO };

/// A Tensor or a Variable: something a tape can watch and differentiate with respect to.
class TensorLike {
 public:
  TensorLike(const Tensor& tensor) : tensor_(tensor) {}
  TensorLike(const Variable& variable)
      : variable_(std::make_shared<Variable>(variable)) {}
  bool is_variable() const { return variable_ != nullptr; }
  /// The tensor; ValueError for a variable.
  const Tensor& tensor() const;
  /// The variable; ValueError for a tensor.
  const Variable& variable() const;
  /// Tape id: the tensor's id or the variable's id.
  std::uint64_t id() const;
  /// Shape and dtype of the tensor or of the variable's current value.
  Shape shape() const;
  DType dtype() const;

 private:
  Tensor tensor_;
  std::shared_ptr<Variable> variable_;
};

/// Records operations for automatic differentiation, as tf.GradientTape.
///
///     Variable w(Tensor{1.0, 2.0}, "w");
///     GradientTape tape;                             // records from construction
///     Tensor loss = reduce_sum(square(w));
///     auto grads = tape.gradient(loss, {w});         // grads[0] == 2*w
///
/// Recording rules:
/// - Tapes live on a thread-local stack from construction until destruction.
/// - An op is recorded on each active tape that watches one of its inputs: a watched tensor, a
///   watched variable, or an output of an op the tape recorded. A trainable Variable is watched
///   on first read when `watch_accessed_variables` is true.
/// - Integer and bool results are never recorded: they carry no gradient, as in TensorFlow.
/// - While a tape computes a gradient it does not record; outer tapes do, which gives
///   higher-order gradients from nested tapes.
class GradientTape {
 public:
  explicit GradientTape(bool persistent = false, bool watch_accessed_variables = true);
  ~GradientTape();
  GradientTape(const GradientTape&) = delete;
  GradientTape& operator=(const GradientTape&) = delete;

  /// Watch a tensor or variable, so ops that read it are recorded. Integer tensors are ignored.
  void watch(const TensorLike& source);
  void watch(const std::vector<TensorLike>& sources);

  /// A scope guard: the tape does not record while it lives.
  class StopRecording {
   public:
    explicit StopRecording(detail::Tape* tape);
    ~StopRecording();
    StopRecording(StopRecording&& other) noexcept;
    StopRecording(const StopRecording&) = delete;
    StopRecording& operator=(const StopRecording&) = delete;
    StopRecording& operator=(StopRecording&&) = delete;

   private:
    detail::Tape* tape_;
    bool was_recording_;
  };
  /// `auto pause = tape.stop_recording();` stops recording until `pause` goes out of scope.
  StopRecording stop_recording();

  /// Forget everything recorded and watched; the tape keeps recording afresh.
  void reset();

  /// d(sum of target * output_gradients)/d(source) for each source, as tf.GradientTape.gradient.
  /// A non-scalar target is summed (output_gradients defaults to ones). Unconnected sources give
  /// none, or zeros with UnconnectedGradients::ZERO. A variable read by `gather` gets an
  /// IndexedSlices. A non-persistent tape computes one gradient only; a second call is a
  /// ValueError, as is an integer target or a source of the wrong kind.
  std::vector<Gradient> gradient(const Tensor& target, const std::vector<TensorLike>& sources,
                                 const Tensor& output_gradients = {},
                                 UnconnectedGradients unconnected_gradients =
                                     UnconnectedGradients::NONE);
  /// The same for a list of Variables, such as `model.trainable_variables()`. A template only so
  /// that a braced list `{w, b}` still goes to the overload above (braces deduce nothing).
  template <class V, std::enable_if_t<std::is_same<V, Variable>::value, int> = 0>
  std::vector<Gradient> gradient(const Tensor& target, const std::vector<V>& sources,
                                 const Tensor& output_gradients = {},
                                 UnconnectedGradients unconnected_gradients =
                                     UnconnectedGradients::NONE) {
    return gradient(target, std::vector<TensorLike>(sources.begin(), sources.end()),
                    output_gradients, unconnected_gradients);
  }

  /// J[i..., j...] = d target[i...] / d source[j...]; shape target.shape + source.shape.
  /// Counts as the tape's one gradient computation when the tape is not persistent.
  Tensor jacobian(const Tensor& target, const TensorLike& source,
                  UnconnectedGradients unconnected_gradients = UnconnectedGradients::NONE);

  bool persistent() const;
  /// The variables this tape watched, in the order it first saw them (tf's watched_variables).
  std::vector<Variable> watched_variables() const;

 private:
  std::unique_ptr<detail::Tape> tape_;
};

}  // namespace tapeflow
