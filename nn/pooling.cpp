#include "tapeflow/nn/pooling.hpp"

#include <utility>

#include "tapeflow/autograd/ops.hpp"
#include "config_util.hpp"
#include "window_args.hpp"

namespace tapeflow::nn {

namespace {

/// Every constructor argument check (Keras's wording); returns `name`.
const std::string& checked_name(const IntTuple& pool_size,
                                const IntTuple& strides,
                                const std::string& padding,
                                const std::string& name) {
  pool_size.normalize(2, "pool_size");
  if (strides.given()) strides.normalize(2, "strides");
  internal::normalize_padding(padding);
  return name;
}

}  // namespace

Pooling2DImpl::Pooling2DImpl(const char* class_name,
                             bool max,
                             const IntTuple& pool_size,
                             const IntTuple& strides,
                             const std::string& padding,
                             const std::string& name,
                             DType dtype)
    : LayerImpl(class_name, checked_name(pool_size, strides, padding, name), dtype),
      max_(max),
      pool_size_(pool_size.normalize(2, "pool_size")),
      strides_(strides.given() ? strides.normalize(2, "strides") : pool_size_),
      padding_(internal::normalize_padding(padding)) {}

Tensor Pooling2DImpl::call(const Tensor& inputs) {
  compute_output_shape(inputs.shape());
  const Tensor x = inputs.dtype() == dtype() ? inputs : cast(inputs, dtype());
  const std::string padding = internal::tf_padding(padding_);
  return max_ ? max_pool2d(x, pool_size_, strides_, padding)
              : avg_pool2d(x, pool_size_, strides_, padding);
}

Shape Pooling2DImpl::compute_output_shape(const Shape& input_shape) const {
  internal::check_input_ndim(name(), input_shape, 4);
  return internal::windowed_output_shape(max_ ? "max_pool2d" : "avg_pool2d",
                                         input_shape,
                                         2,
                                         pool_size_,
                                         strides_,
                                         {1, 1},
                                         padding_,
                                         input_shape.back());
}

Config Pooling2DImpl::get_config() const {
  Config config = LayerImpl::get_config();
  config["pool_size"] = pool_size_;
  config["padding"] = padding_;
  config["strides"] = strides_;
  config["data_format"] = "channels_last";
  return config;
}

namespace {

std::shared_ptr<Pooling2DImpl> pooling_from_config(const char* cls,
                                                   bool max,
                                                   const Config& config) {
  internal::check_config_keys(cls,
                              config,
                              {"name",
                               "trainable",
                               "dtype",
                               "batch_input_shape",
                               "pool_size",
                               "strides",
                               "padding",
                               "data_format"});
  internal::check_channels_last(cls, config);
  auto impl = std::make_shared<Pooling2DImpl>(
      cls,
      max,
      internal::config_tuple(cls, config, "pool_size", 2),
      internal::config_tuple(cls, config, "strides", IntTuple()),
      internal::config_value<std::string>(cls, config, "padding", "valid"),
      internal::config_value<std::string>(cls, config, "name", ""),
      internal::config_dtype(cls, config));
  impl->set_trainable(internal::config_value<bool>(cls, config, "trainable", true));
  return impl;
}

}  // namespace

MaxPooling2D::MaxPooling2D(const IntTuple& pool_size,
                           const IntTuple& strides,
                           const std::string& padding,
                           const std::string& name,
                           DType dtype)
    : Layer(std::make_shared<Pooling2DImpl>(
          "MaxPooling2D", true, pool_size, strides, padding, name, dtype)) {}

MaxPooling2D MaxPooling2D::from_config(const Config& config) {
  return MaxPooling2D(pooling_from_config("MaxPooling2D", true, config));
}

AveragePooling2D::AveragePooling2D(const IntTuple& pool_size,
                                   const IntTuple& strides,
                                   const std::string& padding,
                                   const std::string& name,
                                   DType dtype)
    : Layer(std::make_shared<Pooling2DImpl>(
          "AveragePooling2D", false, pool_size, strides, padding, name, dtype)) {}

AveragePooling2D AveragePooling2D::from_config(const Config& config) {
  return AveragePooling2D(pooling_from_config("AveragePooling2D", false, config));
}

GlobalAveragePooling2DImpl::GlobalAveragePooling2DImpl(bool keepdims,
                                                       const std::string& name,
                                                       DType dtype)
    : LayerImpl("GlobalAveragePooling2D", name, dtype), keepdims_(keepdims) {}

Tensor GlobalAveragePooling2DImpl::call(const Tensor& inputs) {
  internal::check_input_ndim(name(), inputs.shape(), 4);
  const Tensor x = inputs.dtype() == dtype() ? inputs : cast(inputs, dtype());
  return reduce_mean(x, {1, 2}, keepdims_);
}

Shape GlobalAveragePooling2DImpl::compute_output_shape(const Shape& input_shape) const {
  internal::check_input_ndim(name(), input_shape, 4);
  if (keepdims_) return {input_shape[0], 1, 1, input_shape[3]};
  return {input_shape[0], input_shape[3]};
}

Config GlobalAveragePooling2DImpl::get_config() const {
  Config config = LayerImpl::get_config();
  config["data_format"] = "channels_last";
  config["keepdims"] = keepdims_;
  return config;
}

GlobalAveragePooling2D::GlobalAveragePooling2D(bool keepdims, const std::string& name, DType dtype)
    : Layer(std::make_shared<GlobalAveragePooling2DImpl>(keepdims, name, dtype)) {}

GlobalAveragePooling2D GlobalAveragePooling2D::from_config(const Config& config) {
  constexpr const char* cls = "GlobalAveragePooling2D";
  internal::check_config_keys(
      cls, config, {"name", "trainable", "dtype", "batch_input_shape", "data_format", "keepdims"});
  internal::check_channels_last(cls, config);
  GlobalAveragePooling2D layer(internal::config_value<bool>(cls, config, "keepdims", false),
                               internal::config_value<std::string>(cls, config, "name", ""),
                               internal::config_dtype(cls, config));
  layer.set_trainable(internal::config_value<bool>(cls, config, "trainable", true));
  return layer;
}

}  // namespace tapeflow::nn
