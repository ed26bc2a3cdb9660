#include "tapeflow/nn/dense.hpp"

#include <utility>

#include "tapeflow/autograd/ops.hpp"
#include "tapeflow/core/check.hpp"
#include "config_util.hpp"

namespace tapeflow::nn {

namespace {

std::size_t checked_units(int units) {
  detail::check_value(units > 0,
                      "Received an invalid value for `units`, expected a positive integer. "
                      "Received: units={}",
                      units);
  return static_cast<std::size_t>(units);
}

}  // namespace

DenseImpl::DenseImpl(int units, Activation activation, bool use_bias,
                     Initializer kernel_initializer, Initializer bias_initializer,
                     const std::string& name, DType dtype)
    // units is checked before the base takes a name, so a bad call uses up no name.
    : LayerImpl("Dense", (checked_units(units), name), dtype),
      units_(static_cast<std::size_t>(units)),
      activation_(std::move(activation)),
      use_bias_(use_bias),
      kernel_initializer_(std::move(kernel_initializer)),
      bias_initializer_(std::move(bias_initializer)) {}

void DenseImpl::build(const Shape& input_shape) {
  if (input_shape.size() < 2) {
    detail::throw_value_error(
        "Input 0 of layer \"{}\" is incompatible with the layer: expected min_ndim=2, found "
        "ndim={}. Full shape received: {}",
        name(), input_shape.size(), shape_str(input_shape));
  }
  const std::size_t input_dim = input_shape.back();
  detail::check_value(input_dim > 0,
                      "The last dimension of the inputs to a Dense layer should be defined and "
                      "positive. Found 0 (layer \"{}\", input shape {})",
                      name(), shape_str(input_shape));
  // kernel_ is set last: if the bias initializer throws, maybe_build drops both weights.
  Variable kernel = add_weight("kernel", {input_dim, units_}, kernel_initializer_);
  if (use_bias_) bias_ = add_weight("bias", {units_}, bias_initializer_);
  kernel_ = kernel;
}

Tensor DenseImpl::call(const Tensor& inputs) {
  const Shape& shape = inputs.shape();
  const std::size_t input_dim = kernel().shape()[0];
  if (shape.size() < 2 || shape.back() != input_dim) {
    if (shape.size() < 2) {
      detail::throw_value_error(
          "Input 0 of layer \"{}\" is incompatible with the layer: expected min_ndim=2, found "
          "ndim={}. Full shape received: {}",
          name(), shape.size(), shape_str(shape));
    }
    detail::throw_value_error(
        "Input 0 of layer \"{}\" is incompatible with the layer: expected axis -1 of input shape "
        "to have value {}, but received input with shape {}",
        name(), input_dim, shape_str(shape));
  }
  // Keras's Dense casts its inputs (integers too) to the layer's dtype.
  const Tensor x = inputs.dtype() == dtype() ? inputs : cast(inputs, dtype());
  Tensor y;
  if (shape.size() == 2) {
    y = matmul(x, *kernel_);
  } else {
    // Rank > 2: a matmul over the last axis (Keras's tensordot), on a (rows, input_dim) view.
    const std::int64_t in = static_cast<std::int64_t>(input_dim);
    std::vector<std::int64_t> out_shape(shape.begin(), shape.end() - 1);
    out_shape.push_back(static_cast<std::int64_t>(units_));
    y = reshape(matmul(reshape(x, {-1, in}), *kernel_), out_shape);
  }
  if (use_bias_ && activation_.name() == "relu") return bias_add_relu(y, *bias_);  // one pass
  if (use_bias_) y = bias_add(y, *bias_);
  return activation_(y);
}

Shape DenseImpl::compute_output_shape(const Shape& input_shape) const {
  if (input_shape.size() < 2) {
    detail::throw_value_error(
        "Input 0 of layer \"{}\" is incompatible with the layer: expected min_ndim=2, found "
        "ndim={}. Full shape received: {}",
        name(), input_shape.size(), shape_str(input_shape));
  }
  Shape out = input_shape;
  out.back() = units_;
  return out;
}

Config DenseImpl::get_config() const {
  Config config = LayerImpl::get_config();
  config["units"] = units_;
  config["activation"] = activation_.name();
  config["use_bias"] = use_bias_;
  config["kernel_initializer"] = initializers::serialize(kernel_initializer_);
  config["bias_initializer"] = initializers::serialize(bias_initializer_);
  for (const char* key : {"kernel_regularizer", "bias_regularizer", "activity_regularizer",
                          "kernel_constraint", "bias_constraint"}) {
    config[key] = nullptr;
  }
  return config;
}

Variable DenseImpl::kernel() const {
  if (!kernel_) {
    detail::throw_value_error("Dense layer \"{}\" has no kernel yet: it is not built", name());
  }
  return *kernel_;
}

Variable DenseImpl::bias() const {
  if (!use_bias_) {
    detail::throw_value_error("Dense layer \"{}\" has no bias (use_bias=false)", name());
  }
  if (!bias_) {
    detail::throw_value_error("Dense layer \"{}\" has no bias yet: it is not built", name());
  }
  return *bias_;
}

Dense::Dense(int units, Activation activation, bool use_bias, Initializer kernel_initializer,
             Initializer bias_initializer, const std::string& name, DType dtype)
    : Layer(std::make_shared<DenseImpl>(units, std::move(activation), use_bias,
                                        std::move(kernel_initializer),
                                        std::move(bias_initializer), name, dtype)) {}

Dense Dense::from_config(const Config& config) {
  constexpr const char* cls = "Dense";
  internal::check_config_keys(
      cls, config,
      {"name", "trainable", "dtype", "batch_input_shape", "units", "activation", "use_bias",
       "kernel_initializer", "bias_initializer"},
      {"kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
       "bias_constraint"});
  if (!config.contains("units")) {
    detail::throw_type_error("Dense.from_config: missing required argument 'units'");
  }
  const Initializer kernel_init =
      config.contains("kernel_initializer") ? initializers::deserialize(config["kernel_initializer"])
                                            : Initializer("glorot_uniform");
  const Initializer bias_init = config.contains("bias_initializer")
                                    ? initializers::deserialize(config["bias_initializer"])
                                    : Initializer("zeros");
  Dense layer(internal::config_value<int>(cls, config, "units", 0),
              Activation(internal::config_value<std::string>(cls, config, "activation", "linear")),
              internal::config_value<bool>(cls, config, "use_bias", true), kernel_init, bias_init,
              internal::config_value<std::string>(cls, config, "name", ""),
              internal::config_dtype(cls, config));
  layer.set_trainable(internal::config_value<bool>(cls, config, "trainable", true));
  return layer;
}

}  // namespace tapeflow::nn
