#pragma once
// Pooling layers over channels-last images, as tf.keras.layers.MaxPooling2D,
// AveragePooling2D and GlobalAveragePooling2D. They hold no weights.

#include <string>
#include <vector>

#include "tapeflow/nn/conv.hpp"
#include "tapeflow/nn/layer.hpp"

namespace tapeflow::nn {

/// The body of MaxPooling2D and AveragePooling2D; see MaxPooling2D.
class Pooling2DImpl : public LayerImpl {
 public:
  Pooling2DImpl(const char* class_name,
                bool max,
                const IntTuple& pool_size,
                const IntTuple& strides,
                const std::string& padding,
                const std::string& name,
                DType dtype);

  Tensor call(const Tensor& inputs) override;
  Shape compute_output_shape(const Shape& input_shape) const override;
  Config get_config() const override;

  const std::vector<int>& pool_size() const { return pool_size_; }
  const std::vector<int>& strides() const { return strides_; }
  /// "valid" or "same".
  const std::string& padding() const { return padding_; }

 private:
  bool max_;
  std::vector<int> pool_size_, strides_;
  std::string padding_;
};

/// The maximum over each pool_size window of (batch, height, width, channels):
///   y = max_pool2d(x, pool_size, strides, padding); strides default to pool_size.
///
///     nn::MaxPooling2D pool;               // 2×2 windows, stride 2: (b, 28, 28, c) -> (b, 14, 14, c)
///
/// ValueError (Keras's wording) for a bad pool_size / strides, an unknown padding, an input that
/// is not rank 4, or an output dimension <= 0 under "valid".
class MaxPooling2D : public Layer {
 public:
  explicit MaxPooling2D(const IntTuple& pool_size = 2,
                        const IntTuple& strides = {},
                        const std::string& padding = "valid",
                        const std::string& name = "",
                        DType dtype = DType::float32);
  static MaxPooling2D from_config(const Config& config);
  explicit MaxPooling2D(std::shared_ptr<Pooling2DImpl> impl) : Layer(std::move(impl)) {}
};

/// The mean over each pool_size window (under "same", of the elements inside the input):
///   y = avg_pool2d(x, pool_size, strides, padding). Arguments as MaxPooling2D's.
class AveragePooling2D : public Layer {
 public:
  explicit AveragePooling2D(const IntTuple& pool_size = 2,
                            const IntTuple& strides = {},
                            const std::string& padding = "valid",
                            const std::string& name = "",
                            DType dtype = DType::float32);
  static AveragePooling2D from_config(const Config& config);
  explicit AveragePooling2D(std::shared_ptr<Pooling2DImpl> impl) : Layer(std::move(impl)) {}
};

/// The body of GlobalAveragePooling2D.
class GlobalAveragePooling2DImpl : public LayerImpl {
 public:
  GlobalAveragePooling2DImpl(bool keepdims, const std::string& name, DType dtype);
  Tensor call(const Tensor& inputs) override;
  Shape compute_output_shape(const Shape& input_shape) const override;
  Config get_config() const override;
  bool keepdims() const { return keepdims_; }

 private:
  bool keepdims_;
};

/// The mean over height and width: (batch, h, w, c) -> (batch, c), or (batch, 1, 1, c) with
/// keepdims;  y = reduce_mean(x, {1, 2}, keepdims). ValueError for an input that is not rank 4.
class GlobalAveragePooling2D : public Layer {
 public:
  explicit GlobalAveragePooling2D(bool keepdims = false,
                                  const std::string& name = "",
                                  DType dtype = DType::float32);
  static GlobalAveragePooling2D from_config(const Config& config);
};

}  // namespace tapeflow::nn
