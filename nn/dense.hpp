#pragma once
// Dense: the densely-connected layer, as tf.keras.layers.Dense.

#include <memory>
#include <optional>
#include <string>

#include "tapeflow/nn/activations.hpp"
#include "tapeflow/nn/initializers.hpp"
#include "tapeflow/nn/layer.hpp"

namespace tapeflow::nn {

/// The body of Dense; see Dense.
class DenseImpl : public LayerImpl {
 public:
  DenseImpl(int units, Activation activation, bool use_bias, Initializer kernel_initializer,
            Initializer bias_initializer, const std::string& name, DType dtype);

  Tensor call(const Tensor& inputs) override;
  Shape compute_output_shape(const Shape& input_shape) const override;
  Config get_config() const override;

  std::size_t units() const { return units_; }
  const Activation& activation() const { return activation_; }
  bool use_bias() const { return use_bias_; }
  /// The kernel (input_dim, units); ValueError before the layer is built.
  Variable kernel() const;
  /// The bias (units,); ValueError before the layer is built or when use_bias is false.
  Variable bias() const;

 protected:
  void build(const Shape& input_shape) override;

 private:
  std::size_t units_;
  Activation activation_;
  bool use_bias_;
  Initializer kernel_initializer_;
  Initializer bias_initializer_;
  std::optional<Variable> kernel_;
  std::optional<Variable> bias_;
};

/// y = activation(x @ kernel + bias), the matmul over x's last axis (x of rank >= 2; integer
/// inputs are cast to the layer's dtype, as Keras's Dense does). Weights `<name>/kernel:0` of
/// shape (x.shape[-1], units) and `<name>/bias:0` of shape (units,) are created on the first call.
///
///     nn::Dense layer(10, "relu");          // name "dense", then "dense_1", ...
///     Tensor y = layer(x);                  // x: (batch, 20) -> y: (batch, 10)
///
/// ValueError for units <= 0, for inputs of rank < 2 and, once built, for inputs whose last
/// dimension differs from the one the layer was built with; the messages are Keras's.
class Dense : public Layer {
 public:
  explicit Dense(int units, Activation activation = "", bool use_bias = true,
                 Initializer kernel_initializer = "glorot_uniform",
                 Initializer bias_initializer = "zeros", const std::string& name = "",
                 DType dtype = DType::float32);
  /// From get_config()'s dict (initializers as serialized dicts or names).
  static Dense from_config(const Config& config);

  std::size_t units() const { return body().units(); }
  const Activation& activation() const { return body().activation(); }
  bool use_bias() const { return body().use_bias(); }
  Variable kernel() const { return body().kernel(); }
  Variable bias() const { return body().bias(); }

 private:
  DenseImpl& body() const { return static_cast<DenseImpl&>(impl()); }
};

}  // namespace tapeflow::nn
