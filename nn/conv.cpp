#include "tapeflow/nn/conv.hpp"

#include <utility>

#include "tapeflow/autograd/ops.hpp"
#include "tapeflow/core/check.hpp"
#include "config_util.hpp"
#include "window_args.hpp"

namespace tapeflow::nn {

namespace {

/// A Keras tuple as Python prints it: (3, 3), (3,).
std::string tuple_str(const std::vector<int>& v) {
  std::string out = "(";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + std::to_string(v[i]);
  return out + (v.size() == 1 ? ",)" : ")");
}

std::size_t checked_filters(int filters) {
  detail::check_value(filters > 0,
                      "Invalid value for argument `filters`. Expected a strictly positive value. "
                      "Received filters={}.",
                      filters);
  return static_cast<std::size_t>(filters);
}

}  // namespace

std::vector<int> IntTuple::normalize(std::size_t rank, const char* name) const {
  std::vector<int> out = single_ ? std::vector<int>(rank, values_[0]) : values_;
  if (out.size() != rank) {
    detail::throw_value_error("The `{}` argument must be a tuple of {} integers. Received: {}",
                              name,
                              rank,
                              tuple_str(values_));
  }
  for (int v : out) {
    if (v <= 0) {
      detail::throw_value_error(
          "The `{}` argument must be a tuple of {} integers. Received {}={} including {{{}}} that "
          "does not satisfy the requirement `> 0`.",
          name,
          rank,
          name,
          single_ ? std::to_string(values_[0]) : tuple_str(values_),
          v);
    }
  }
  return out;
}

namespace {

/// Every constructor argument check (Keras's order and wording); returns `name`.
const std::string& checked_name(std::size_t rank,
                                int filters,
                                const IntTuple& kernel_size,
                                const IntTuple& strides,
                                const std::string& padding,
                                const IntTuple& dilation_rate,
                                const std::string& name) {
  checked_filters(filters);
  kernel_size.normalize(rank, "kernel_size");
  const std::vector<int> s = strides.normalize(rank, "strides");
  internal::normalize_padding(padding);
  const std::vector<int> d = dilation_rate.normalize(rank, "dilation_rate");
  bool strided = false, dilated = false;
  for (std::size_t i = 0; i < rank; ++i) {
    strided = strided || s[i] > 1;
    dilated = dilated || d[i] > 1;
  }
  if (strided && dilated) {
    detail::throw_value_error(
        "`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: "
        "strides={} and dilation_rate={}",
        tuple_str(s),
        tuple_str(d));
  }
  return name;
}

}  // namespace

ConvImpl::ConvImpl(const char* class_name,
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
                   DType dtype)
    // The arguments are checked before the base takes a name, so a bad call uses up no name.
    : LayerImpl(class_name,
                checked_name(rank, filters, kernel_size, strides, padding, dilation_rate, name),
                dtype),
      rank_(rank),
      filters_(static_cast<std::size_t>(filters)),
      kernel_size_(kernel_size.normalize(rank, "kernel_size")),
      strides_(strides.normalize(rank, "strides")),
      dilation_rate_(dilation_rate.normalize(rank, "dilation_rate")),
      padding_(internal::normalize_padding(padding)),
      activation_(std::move(activation)),
      use_bias_(use_bias),
      kernel_initializer_(std::move(kernel_initializer)),
      bias_initializer_(std::move(bias_initializer)) {}

void ConvImpl::check_input(const Shape& input_shape) const {
  internal::check_input_ndim(name(), input_shape, rank_ + 2);
  if (kernel_ && input_shape.back() != kernel_->shape()[rank_]) {
    detail::throw_value_error(
        "Input 0 of layer \"{}\" is incompatible with the layer: expected axis -1 of input shape "
        "to have value {}, but received input with shape {}",
        name(),
        kernel_->shape()[rank_],
        shape_str(input_shape));
  }
}

void ConvImpl::build(const Shape& input_shape) {
  check_input(input_shape);
  const std::size_t channels = input_shape.back();
  detail::check_value(channels > 0,
                      "The channel dimension of the inputs should be defined. The input_shape "
                      "received is {}, where axis -1 (0-based) is the channel dimension, which "
                      "found to be `0`.",
                      shape_str(input_shape));
  compute_output_shape(input_shape);  // a window that does not fit fails before any weight
  Shape kernel_shape(kernel_size_.begin(), kernel_size_.end());
  kernel_shape.push_back(channels);
  kernel_shape.push_back(filters_);
  // kernel_ is set last: if the bias initializer throws, maybe_build drops both weights.
  Variable kernel = add_weight("kernel", kernel_shape, kernel_initializer_);
  if (use_bias_) bias_ = add_weight("bias", {filters_}, bias_initializer_);
  kernel_ = kernel;
}

Tensor ConvImpl::call(const Tensor& inputs) {
  check_input(inputs.shape());
  compute_output_shape(inputs.shape());
  const Tensor x = inputs.dtype() == dtype() ? inputs : cast(inputs, dtype());
  const std::string padding = internal::tf_padding(padding_);
  const Tensor y = rank_ == 1 ? conv1d(x, *kernel_, strides_, padding, dilation_rate_)
                              : conv2d(x, *kernel_, strides_, padding, dilation_rate_);
  if (use_bias_ && activation_.name() == "relu") return bias_add_relu(y, *bias_);  // one pass
  return activation_(use_bias_ ? bias_add(y, *bias_) : y);
}

Shape ConvImpl::compute_output_shape(const Shape& input_shape) const {
  internal::check_input_ndim(name(), input_shape, rank_ + 2);
  return internal::windowed_output_shape(rank_ == 1 ? "conv1d" : "conv2d",
                                         input_shape,
                                         rank_,
                                         kernel_size_,
                                         strides_,
                                         dilation_rate_,
                                         padding_,
                                         filters_);
}

Config ConvImpl::get_config() const {
  Config config = LayerImpl::get_config();
  config["filters"] = filters_;
  config["kernel_size"] = kernel_size_;
  config["strides"] = strides_;
  config["padding"] = padding_;
  config["data_format"] = "channels_last";
  config["dilation_rate"] = dilation_rate_;
  config["groups"] = 1;
  config["activation"] = activation_.name();
  config["use_bias"] = use_bias_;
  config["kernel_initializer"] = initializers::serialize(kernel_initializer_);
  config["bias_initializer"] = initializers::serialize(bias_initializer_);
  for (const char* key : {"kernel_regularizer",
                          "bias_regularizer",
                          "activity_regularizer",
                          "kernel_constraint",
                          "bias_constraint"}) {
    config[key] = nullptr;
  }
  return config;
}

Variable ConvImpl::kernel() const {
  if (!kernel_) {
    detail::throw_value_error(
        "{} layer \"{}\" has no kernel yet: it is not built", class_name(), name());
  }
  return *kernel_;
}

Variable ConvImpl::bias() const {
  if (!use_bias_) {
    detail::throw_value_error("{} layer \"{}\" has no bias (use_bias=false)", class_name(), name());
  }
  if (!bias_) {
    detail::throw_value_error(
        "{} layer \"{}\" has no bias yet: it is not built", class_name(), name());
  }
  return *bias_;
}

namespace {

/// The ConvImpl described by a Conv1D / Conv2D config (Keras's keys).
std::shared_ptr<ConvImpl> conv_from_config(const char* cls,
                                           std::size_t rank,
                                           const Config& config) {
  internal::check_config_keys(cls,
                              config,
                              {"name",
                               "trainable",
                               "dtype",
                               "batch_input_shape",
                               "filters",
                               "kernel_size",
                               "strides",
                               "padding",
                               "data_format",
                               "dilation_rate",
                               "groups",
                               "activation",
                               "use_bias",
                               "kernel_initializer",
                               "bias_initializer"},
                              {"kernel_regularizer",
                               "bias_regularizer",
                               "activity_regularizer",
                               "kernel_constraint",
                               "bias_constraint"});
  for (const char* key : {"filters", "kernel_size"}) {
    if (!config.contains(key)) {
      detail::throw_type_error("{}.from_config: missing required argument '{}'", cls, key);
    }
  }
  internal::check_channels_last(cls, config);
  const int groups = internal::config_value<int>(cls, config, "groups", 1);
  detail::check_value(
      groups == 1, "{}.from_config: only groups=1 is supported. Received: {}", cls, groups);
  const Initializer kernel_init = config.contains("kernel_initializer")
                                      ? initializers::deserialize(config["kernel_initializer"])
                                      : Initializer("glorot_uniform");
  const Initializer bias_init = config.contains("bias_initializer")
                                    ? initializers::deserialize(config["bias_initializer"])
                                    : Initializer("zeros");
  auto impl = std::make_shared<ConvImpl>(
      cls,
      rank,
      internal::config_value<int>(cls, config, "filters", 0),
      internal::config_tuple(cls, config, "kernel_size", IntTuple()),
      internal::config_tuple(cls, config, "strides", 1),
      internal::config_value<std::string>(cls, config, "padding", "valid"),
      Activation(internal::config_value<std::string>(cls, config, "activation", "linear")),
      internal::config_value<bool>(cls, config, "use_bias", true),
      kernel_init,
      bias_init,
      internal::config_tuple(cls, config, "dilation_rate", 1),
      internal::config_value<std::string>(cls, config, "name", ""),
      internal::config_dtype(cls, config));
  impl->set_trainable(internal::config_value<bool>(cls, config, "trainable", true));
  return impl;
}

}  // namespace

Conv2D::Conv2D(int filters,
               const IntTuple& kernel_size,
               const IntTuple& strides,
               const std::string& padding,
               Activation activation,
               bool use_bias,
               Initializer kernel_initializer,
               Initializer bias_initializer,
               const IntTuple& dilation_rate,
               const std::string& name,
               DType dtype)
    : Layer(std::make_shared<ConvImpl>("Conv2D",
                                       2,
                                       filters,
                                       kernel_size,
                                       strides,
                                       padding,
                                       std::move(activation),
                                       use_bias,
                                       std::move(kernel_initializer),
                                       std::move(bias_initializer),
                                       dilation_rate,
                                       name,
                                       dtype)) {}

Conv2D Conv2D::from_config(const Config& config) {
  return Conv2D(conv_from_config("Conv2D", 2, config));
}

Conv1D::Conv1D(int filters,
               const IntTuple& kernel_size,
               const IntTuple& strides,
               const std::string& padding,
               Activation activation,
               bool use_bias,
               Initializer kernel_initializer,
               Initializer bias_initializer,
               const IntTuple& dilation_rate,
               const std::string& name,
               DType dtype)
    : Layer(std::make_shared<ConvImpl>("Conv1D",
                                       1,
                                       filters,
                                       kernel_size,
                                       strides,
                                       padding,
                                       std::move(activation),
                                       use_bias,
                                       std::move(kernel_initializer),
                                       std::move(bias_initializer),
                                       dilation_rate,
                                       name,
                                       dtype)) {}

Conv1D Conv1D::from_config(const Config& config) {
  return Conv1D(conv_from_config("Conv1D", 1, config));
}

}  // namespace tapeflow::nn
