#pragma once
// Model: a layer made of layers, as tf.keras.Model: the variables of all its layers, predict,
// and summary.

#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "tapeflow/nn/layer.hpp"

namespace tapeflow::nn {

/// The body of a model: a layer whose weights are those of its layers.
class ModelImpl : public LayerImpl {
 public:
  /// The layers, in order.
  virtual std::vector<Layer> layers() const = 0;

  /// The trainable variables of every layer (each once), in layer order; none when the model
  /// itself is not trainable.
  std::vector<Variable> trainable_variables() const override;
  /// The other variables of every layer (each once), in layer order.
  std::vector<Variable> non_trainable_variables() const override;

 protected:
  ModelImpl(std::string class_name, const std::string& name);
};

/// A copyable handle to a model; copies alias one model. Sequential is the model to build.
class Model : public Layer {
 public:
  explicit Model(std::shared_ptr<ModelImpl> impl);

  std::vector<Layer> layers() const;

  /// The model's outputs for `x`, computed batch_size rows at a time and joined along axis 0
  /// (Keras's predict). The result carries no gradient. ValueError for a scalar x or
  /// batch_size <= 0.
  Tensor predict(const Tensor& x, int batch_size = 32) const;

  /// Prints Keras's summary table to stdout: one row per layer with its name and class, its
  /// output shape (the batch axis shown as None) and its parameter count, then the totals.
  /// ValueError when the model is not built.
  void summary() const;
  /// The same table to `out`, `line_length` characters wide (Keras's default 65).
  void summary(std::ostream& out, std::size_t line_length = 65) const;

 protected:
  ModelImpl& model_impl() const { return static_cast<ModelImpl&>(impl()); }
};

}  // namespace tapeflow::nn
