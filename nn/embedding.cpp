#include "tapeflow/nn/embedding.hpp"

#include <utility>

#include "tapeflow/autograd/ops.hpp"
#include "tapeflow/core/check.hpp"
#include "config_util.hpp"

namespace tapeflow::nn {

namespace {

void check_dims(int input_dim, int output_dim) {
  detail::check_value(input_dim > 0 && output_dim > 0,
                      "Both `input_dim` and `output_dim` should be positive, Received input_dim = "
                      "{} and output_dim = {}",
                      input_dim, output_dim);
}

}  // namespace

EmbeddingImpl::EmbeddingImpl(int input_dim, int output_dim, Initializer embeddings_initializer,
                             const std::string& name, DType dtype)
    // Checked before the base takes a name, so a bad call uses up no name.
    : LayerImpl("Embedding", (check_dims(input_dim, output_dim), name), dtype),
      input_dim_(static_cast<std::size_t>(input_dim)),
      output_dim_(static_cast<std::size_t>(output_dim)),
      embeddings_initializer_(std::move(embeddings_initializer)) {}

void EmbeddingImpl::build(const Shape& /*input_shape*/) {
  embeddings_ = add_weight("embeddings", {input_dim_, output_dim_}, embeddings_initializer_);
}

Tensor EmbeddingImpl::call(const Tensor& inputs) {
  if (!is_integer(inputs.dtype())) {
    detail::throw_type_error("Embedding \"{}\": inputs must be int32 or int64 ids. Received: "
                             "dtype={}",
                             name(), dtype_name(inputs.dtype()));
  }
  const Tensor ids = cast(inputs, DType::int64);
  const auto* id = ids.data<std::int64_t>();
  for (std::size_t i = 0, n = ids.size(); i < n; ++i) {
    if (id[i] < 0 || static_cast<std::size_t>(id[i]) >= input_dim_) {
      detail::throw_value_error("Embedding \"{}\": input id {} (at flat position {} of inputs of "
                                "shape {}) is outside [0, input_dim={})",
                                name(), id[i], i, shape_str(inputs.shape()), input_dim_);
    }
  }
  return gather(embeddings(), inputs);
}

Shape EmbeddingImpl::compute_output_shape(const Shape& input_shape) const {
  Shape out = input_shape;
  out.push_back(output_dim_);
  return out;
}

Config EmbeddingImpl::get_config() const {
  Config config = LayerImpl::get_config();
  config["input_dim"] = input_dim_;
  config["output_dim"] = output_dim_;
  config["embeddings_initializer"] = initializers::serialize(embeddings_initializer_);
  config["embeddings_regularizer"] = nullptr;
  config["activity_regularizer"] = nullptr;
  config["embeddings_constraint"] = nullptr;
  config["mask_zero"] = false;
  config["input_length"] = nullptr;
  return config;
}

Variable EmbeddingImpl::embeddings() const {
  if (!embeddings_) {
    detail::throw_value_error("Embedding layer \"{}\" has no embeddings yet: it is not built",
                              name());
  }
  return *embeddings_;
}

Embedding::Embedding(int input_dim, int output_dim, Initializer embeddings_initializer,
                     const std::string& name, DType dtype)
    : Layer(std::make_shared<EmbeddingImpl>(input_dim, output_dim,
                                            std::move(embeddings_initializer), name, dtype)) {}

Embedding Embedding::from_config(const Config& config) {
  constexpr const char* cls = "Embedding";
  internal::check_config_keys(
      cls, config,
      {"name", "trainable", "dtype", "batch_input_shape", "input_dim", "output_dim",
       "embeddings_initializer", "input_length", "mask_zero"},
      {"embeddings_regularizer", "activity_regularizer", "embeddings_constraint"});
  if (config.contains("mask_zero") && config["mask_zero"] != false) {
    detail::throw_value_error("Embedding.from_config: mask_zero=true is not supported");
  }
  if (!config.contains("input_dim") || !config.contains("output_dim")) {
    detail::throw_type_error(
        "Embedding.from_config: missing required arguments 'input_dim' and 'output_dim'");
  }
  const Initializer init = config.contains("embeddings_initializer")
                               ? initializers::deserialize(config["embeddings_initializer"])
                               : Initializer("uniform");
  Embedding layer(internal::config_value<int>(cls, config, "input_dim", 0),
                  internal::config_value<int>(cls, config, "output_dim", 0), init,
                  internal::config_value<std::string>(cls, config, "name", ""),
                  internal::config_dtype(cls, config));
  layer.set_trainable(internal::config_value<bool>(cls, config, "trainable", true));
  return layer;
}

}  // namespace tapeflow::nn
