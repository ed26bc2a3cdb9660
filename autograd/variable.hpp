#pragma once
// Variable: a mutable, named tensor whose reads the tape records, as tf.Variable.

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>

#include "tapeflow/core/tensor.hpp"

namespace tapeflow {

namespace detail {
struct VariableState;
}

/// A mutable named tensor. Copies alias the same variable (like Python references).
/// Reading it in an op (`w * x`, or `value()`) is recorded by every active GradientTape that
/// watches it; a trainable variable is watched automatically on first read.
///
///     Variable w(Tensor{1.0, 2.0}, "w");   // name() == "w:0"
///     w.assign_sub(Tensor{0.1, 0.1});      // in place
class Variable {
 public:
  /// ValueError when `initial_value` is none.
  explicit Variable(Tensor initial_value, std::string name = "Variable", bool trainable = true);

  /// The Keras-style name with the output suffix: "w:0", "dense/kernel:0".
  std::string name() const;
  /// The current value, read through the tape (gradients flow to this variable).
  Tensor value() const;
  /// Same as value(): a Variable converts to a Tensor wherever an op takes one.
  operator Tensor() const { return value(); }
  /// The current value without recording a read (no gradient flows).
  Tensor read_value_no_record() const;

  /// var = value. ValueError, with the variable unchanged, when the shape or dtype differs.
  /// Writes in place unless a Tensor read earlier still shares the buffer (copy-on-write, so
  /// earlier reads keep their values).
  void assign(const Tensor& value);
  /// var += delta, in place; same checks as assign.
  void assign_add(const Tensor& delta);
  /// var -= delta, in place; same checks as assign.
  void assign_sub(const Tensor& delta);

  const Shape& shape() const;
  DType dtype() const;
  std::size_t size() const;
  bool trainable() const;
  template <class T>
  xt::xarray<T> numpy() const {
    return read_value_no_record().numpy<T>();
  }

  /// Identity of the variable (shared by its copies), used by the tape and by optimizers.
  std::uint64_t id() const;
  /// Mutable element pointer for in-place kernels (optimizers). Makes the buffer unique first
  /// (copy-on-write), so tensors read earlier keep their values.
  void* mutable_data();

 private:
  std::shared_ptr<detail::VariableState> state_;
};

/// `<tapeflow.Variable 'w:0' shape=(2,) dtype=float32, numpy=array([1., 2.], dtype=float32)>`
std::ostream& operator<<(std::ostream& os, const Variable& variable);

}  // namespace tapeflow
