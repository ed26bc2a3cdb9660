#pragma once
// Sequential: a plain stack of layers, as tf.keras.Sequential.

#include <memory>
#include <string>
#include <vector>

#include "tapeflow/nn/model.hpp"

namespace tapeflow::nn {

/// The body of Sequential; see Sequential.
class SequentialImpl : public ModelImpl {
 public:
  SequentialImpl(std::vector<Layer> layers, const std::string& name);

  std::vector<Layer> layers() const override { return layers_; }
  void add(const Layer& layer);
  void pop();

  /// Each layer on the previous one's output (each builds on its first call).
  Tensor call(const Tensor& inputs) override;
  Shape compute_output_shape(const Shape& input_shape) const override;
  /// {"name", "layers": [serialized layers]}, as Keras's Sequential.get_config.
  Config get_config() const override;

 protected:
  /// Builds each layer in turn from the previous one's output shape.
  void build(const Shape& input_shape) override;

 private:
  void check_unique_name(const Layer& layer) const;
  std::vector<Layer> layers_;
};

/// A model that runs its layers one after the other.
///
///     nn::Sequential model({nn::Dense(64, "relu"), nn::Dense(10)});
///     Tensor logits = model(x);            // builds every layer from x's shape
///     model.summary();
///
/// Layers are held by handle: the caller's copies see the training. Layer names must be unique
/// within the model (ValueError, as Keras).
class Sequential : public Model {
 public:
  explicit Sequential(std::vector<Layer> layers = {}, const std::string& name = "");

  /// Appends a layer (built at once when the model already is). ValueError for a duplicate name.
  void add(const Layer& layer) const;
  /// Removes the last layer; ValueError when there is none.
  void pop() const;

  /// From get_config()'s dict (InputLayer entries, which Keras writes, are skipped).
  static Sequential from_config(const Config& config);

 private:
  SequentialImpl& body() const { return static_cast<SequentialImpl&>(impl()); }
};

}  // namespace tapeflow::nn
