#pragma once
// Layer: the base of every layer, as tf.keras.layers.Layer: a unique name, weights created by
// `build` on the first call, trainable / non-trainable variables and a Keras config.
//
// Handle and body, as Variable and Optimizer: `Layer` is a small copyable handle and copies share
// one `LayerImpl` body, so `Sequential({Dense(10), Dense(1)})` takes layers by value and the model
// trains the very layers the caller holds.
//
// Writing a layer: derive a body from LayerImpl, override `build` (create weights with
// add_weight), `call` and `compute_output_shape`, and give it a handle that adds a constructor:
//
//     class ScaleImpl : public nn::LayerImpl {                    // y = x · s, one s per feature
//      public:
//       explicit ScaleImpl(const std::string& name) : LayerImpl("Scale", name) {}
//       Tensor call(const Tensor& x) override { return x * scale_; }
//       Shape compute_output_shape(const Shape& s) const override { return s; }
//      protected:
//       void build(const Shape& s) override { scale_ = add_weight("scale", {s.back()}, "ones"); }
//      private:
//       Variable scale_{Tensor(0.0f)};
//     };
//     class Scale : public nn::Layer {
//      public:
//       explicit Scale(const std::string& name = "") : Layer(std::make_shared<ScaleImpl>(name)) {}
//     };
//
// A layer that behaves differently in training (Dropout, BatchNormalization) reads `training()`
// in `call`: Keras's `training` argument, true under Model::fit and for `layer(x, true)`.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tapeflow/autograd/variable.hpp"
#include "tapeflow/core/json.hpp"
#include "tapeflow/core/tensor.hpp"
#include "tapeflow/nn/initializers.hpp"

namespace tapeflow::nn {

/// "Dense" → "dense", "SimpleRNN" → "simple_rnn", as Keras's generic_utils.to_snake_case.
std::string to_snake_case(const std::string& name);
/// Keras's backend.unique_object_name: the first request for `base` gives `base`, later ones
/// `base_1`, `base_2`, ... The counters live in libtapeflow (one set per process).
std::string unique_object_name(const std::string& base);
/// Forgets the names handed out so far, as tf.keras.backend.clear_session does for names.
void clear_session();

/// The body of a layer: all of its state. Reached through a Layer handle.
class LayerImpl {
 public:
  virtual ~LayerImpl();
  LayerImpl(const LayerImpl&) = delete;
  LayerImpl& operator=(const LayerImpl&) = delete;

  /// The Keras class name: "Dense", "Embedding", "Sequential".
  const std::string& class_name() const { return class_name_; }
  /// The layer's name: given, or unique_object_name(to_snake_case(class_name)).
  const std::string& name() const { return name_; }
  /// The dtype of the layer's weights and outputs (float32 unless given).
  DType dtype() const { return dtype_; }
  /// When false, every weight is reported as non-trainable (Keras's `layer.trainable = False`).
  bool trainable() const { return trainable_; }
  void set_trainable(bool trainable) { trainable_ = trainable; }
  bool built() const { return built_; }
  /// The input shape the layer was built for (empty until built).
  const Shape& build_input_shape() const { return build_input_shape_; }

  /// Keras's __call__: builds from `inputs.shape()` on the first call, then runs `call`.
  /// `training` is Keras's argument: given, it holds for this call and for the layer calls made
  /// inside it; omitted, the enclosing layer call's value holds, and outside any call false
  /// (inference). `call` reads it as training().
  Tensor operator()(const Tensor& inputs, std::optional<bool> training = std::nullopt);
  /// Builds unless already built. A failed build leaves the layer unbuilt, with no weights.
  void maybe_build(const Shape& input_shape);

  /// The forward computation (the layer is built).
  virtual Tensor call(const Tensor& inputs) = 0;
  /// Keras's `training` for the call in progress on this thread: true under Model::fit and for
  /// `layer(x, true)` (and the layers it calls), false outside any call.
  static bool training();
  /// The output shape for an input shape (used by summary; the batch axis is passed through).
  virtual Shape compute_output_shape(const Shape& input_shape) const = 0;
  /// {"name", "trainable", "dtype"}; subclasses append their constructor arguments.
  virtual Config get_config() const;

  /// The layer's trainable weights in creation order (all of them when trainable(), else none).
  virtual std::vector<Variable> trainable_variables() const;
  /// The non-trainable weights (every weight when !trainable()).
  virtual std::vector<Variable> non_trainable_variables() const;
  /// trainable_variables() then non_trainable_variables(), as Keras's `weights`.
  std::vector<Variable> variables() const;
  /// Number of scalars in variables(); ValueError when the layer is not built.
  std::size_t count_params() const;

 protected:
  /// `name` empty: a unique name from the class name. TypeError for a non-floating dtype.
  LayerImpl(std::string class_name, const std::string& name, DType dtype = DType::float32);

  /// Creates the weights for `input_shape` (validate first: a throw must leave no weights).
  virtual void build(const Shape& input_shape);
  /// A new weight named "<layer>/<name>:0", filled by `initializer` in the layer's dtype.
  Variable add_weight(const std::string& name, const Shape& shape, const Initializer& initializer,
                      bool trainable = true);

 private:
  std::string class_name_;
  std::string name_;
  DType dtype_;
  bool trainable_ = true;
  bool built_ = false;
  Shape build_input_shape_;
  std::vector<Variable> weights_;
  std::vector<bool> weight_trainable_;
};

/// A copyable handle to a layer; copies alias one layer.
///
///     nn::Dense dense(10);
///     Tensor y = dense(x);                  // builds kernel (x.shape[-1], 10) and bias (10,)
///     dense.trainable_variables();          // {dense/kernel:0, dense/bias:0}
class Layer {
 public:
  /// Wraps a body (for layers written outside the library). ValueError for a null body.
  explicit Layer(std::shared_ptr<LayerImpl> impl);

  /// Builds on the first call, then runs the layer. `training`: Keras's argument (see
  /// LayerImpl::operator()); omitted, inherited from the enclosing layer call, else false.
  Tensor operator()(const Tensor& inputs, std::optional<bool> training = std::nullopt) const;
  /// The forward computation alone; ValueError when the layer is not built yet.
  Tensor call(const Tensor& inputs, std::optional<bool> training = std::nullopt) const;
  /// Builds the layer for `input_shape` (batch axis first); nothing when already built.
  void build(const Shape& input_shape) const;
  bool built() const;
  Shape compute_output_shape(const Shape& input_shape) const;

  const std::string& name() const;
  const std::string& class_name() const;
  DType dtype() const;
  bool trainable() const;
  void set_trainable(bool trainable) const;

  std::vector<Variable> trainable_variables() const;
  std::vector<Variable> non_trainable_variables() const;
  std::vector<Variable> variables() const;
  /// Same as variables() (Keras's name).
  std::vector<Variable> weights() const { return variables(); }
  /// The values of variables(), as Keras's get_weights.
  std::vector<Tensor> get_weights() const;
  /// Assigns each variable its value (ValueError, with nothing assigned, on a count, shape or
  /// dtype mismatch).
  void set_weights(const std::vector<Tensor>& weights) const;
  std::size_t count_params() const;
  Config get_config() const;

  /// The body (shared by every copy).
  LayerImpl& impl() const { return *impl_; }
  const std::shared_ptr<LayerImpl>& impl_ptr() const { return impl_; }
  /// True when both handles alias one layer.
  bool is(const Layer& other) const { return impl_ == other.impl_; }

 private:
  std::shared_ptr<LayerImpl> impl_;
};

namespace layers {
/// {"class_name": ..., "config": ...}, as tf.keras.layers.serialize.
Config serialize(const Layer& layer);
/// A new layer from a serialize() dict: Dense, Embedding, Sequential, Conv1D, Conv2D,
/// MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D. ValueError otherwise.
/// (Defined in serialization.cpp, which knows every layer class.)
Layer deserialize(const Config& config);
}  // namespace layers

}  // namespace tapeflow::nn
