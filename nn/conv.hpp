#pragma once
// Conv2D and Conv1D: convolution layers over channels-last inputs, as tf.keras.layers.Conv2D and
// Conv1D (kernel `<name>/kernel:0`, bias `<name>/bias:0`).

#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tapeflow/nn/activations.hpp"
#include "tapeflow/nn/initializers.hpp"
#include "tapeflow/nn/layer.hpp"

namespace tapeflow::nn {

/// A window argument (kernel_size, strides, dilation_rate, pool_size) as Keras takes it: one int
/// for every spatial axis, or one int per axis (`{3, 3}`). `{}` is "not given" (a pooling
/// layer's strides then default to its pool_size).
class IntTuple {
 public:
  IntTuple() = default;
  IntTuple(int value) : values_{value}, single_(true) {}  // NOLINT: implicit, as Keras's int
  IntTuple(std::initializer_list<int> values) : values_(values) {}
  explicit IntTuple(std::vector<int> values) : values_(std::move(values)) {}
  bool given() const { return !values_.empty(); }
  /// The per-axis values for `rank` spatial axes: one int repeated, or the list itself.
  /// ValueError (Keras's normalize_tuple wording) for a list of another length or a value <= 0.
  std::vector<int> normalize(std::size_t rank, const char* name) const;

 private:
  std::vector<int> values_;
  bool single_ = false;
};

/// The body of Conv1D and Conv2D; see Conv2D.
class ConvImpl : public LayerImpl {
 public:
  ConvImpl(const char* class_name,
           std::size_t rank,
           int filters,
           const IntTuple& kernel_size,
           const IntTuple& strides,
           const std::string& padding,
           Activation activation,
           bool use_bias,
           Initializer kernel_initializer,
           Initializer bias_initializer,
           const IntTuple& dilation_rate,
           const std::string& name,
           DType dtype);

  Tensor call(const Tensor& inputs) override;
  Shape compute_output_shape(const Shape& input_shape) const override;
  Config get_config() const override;

  std::size_t filters() const { return filters_; }
  const std::vector<int>& kernel_size() const { return kernel_size_; }
  const std::vector<int>& strides() const { return strides_; }
  const std::vector<int>& dilation_rate() const { return dilation_rate_; }
  /// "valid" or "same".
  const std::string& padding() const { return padding_; }
  const Activation& activation() const { return activation_; }
  bool use_bias() const { return use_bias_; }
  /// The kernel (*kernel_size, in_channels, filters); ValueError before the layer is built.
  Variable kernel() const;
  /// The bias (filters,); ValueError before the layer is built or when use_bias is false.
  Variable bias() const;

 protected:
  void build(const Shape& input_shape) override;

 private:
  void check_input(const Shape& input_shape) const;

  std::size_t rank_;
  std::size_t filters_;
  std::vector<int> kernel_size_, strides_, dilation_rate_;
  std::string padding_;
  Activation activation_;
  bool use_bias_;
  Initializer kernel_initializer_;
  Initializer bias_initializer_;
  std::optional<Variable> kernel_;
  std::optional<Variable> bias_;
};

/// 2-D convolution over (batch, height, width, channels):
///   y = activation(conv2d(x, kernel, strides, padding, dilation_rate) + bias),
/// kernel (kh, kw, channels, filters) initialized glorot_uniform (fans include the window).
/// padding "valid" or "same" (either case, as Keras). Inputs of another dtype are cast to the
/// layer's.
///
///     nn::Conv2D conv(32, 3, 1, "same", "relu");   // 3×3 window, 32 output channels
///     Tensor y = conv(images);                    // (b, 28, 28, 1) -> (b, 28, 28, 32)
///
/// ValueError (Keras's wording) for filters <= 0, a bad kernel_size / strides / dilation_rate,
/// strides > 1 together with dilation_rate > 1, an unknown padding, an input that is not rank 4,
/// a channel count that differs from the built one, or an output dimension <= 0 under "valid".
class Conv2D : public Layer {
 public:
  Conv2D(int filters,
         const IntTuple& kernel_size,
         const IntTuple& strides = 1,
         const std::string& padding = "valid",
         Activation activation = "",
         bool use_bias = true,
         Initializer kernel_initializer = "glorot_uniform",
         Initializer bias_initializer = "zeros",
         const IntTuple& dilation_rate = 1,
         const std::string& name = "",
         DType dtype = DType::float32);
  /// From get_config()'s dict (Keras's keys; data_format channels_last, groups 1).
  static Conv2D from_config(const Config& config);
  /// Wraps a body (from_config's).
  explicit Conv2D(std::shared_ptr<ConvImpl> impl) : Layer(std::move(impl)) {}

  Variable kernel() const { return body().kernel(); }
  Variable bias() const { return body().bias(); }
  ConvImpl& body() const { return static_cast<ConvImpl&>(impl()); }
};

/// 1-D convolution over (batch, steps, channels) with kernel (k, channels, filters):
///   y = activation(conv1d(x, kernel, strides, padding, dilation_rate) + bias).
/// Arguments and errors as Conv2D's, one spatial axis ("causal" padding is not supported).
class Conv1D : public Layer {
 public:
  Conv1D(int filters,
         const IntTuple& kernel_size,
         const IntTuple& strides = 1,
         const std::string& padding = "valid",
         Activation activation = "",
         bool use_bias = true,
         Initializer kernel_initializer = "glorot_uniform",
         Initializer bias_initializer = "zeros",
         const IntTuple& dilation_rate = 1,
         const std::string& name = "",
         DType dtype = DType::float32);
  static Conv1D from_config(const Config& config);
  explicit Conv1D(std::shared_ptr<ConvImpl> impl) : Layer(std::move(impl)) {}

  Variable kernel() const { return body().kernel(); }
  Variable bias() const { return body().bias(); }
  ConvImpl& body() const { return static_cast<ConvImpl&>(impl()); }
};

}  // namespace tapeflow::nn
