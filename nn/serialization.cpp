// layers::deserialize: the one place that knows every layer class by its Keras name.

#include "tapeflow/core/check.hpp"
#include "tapeflow/nn/dense.hpp"
#include "tapeflow/nn/embedding.hpp"
#include "tapeflow/nn/layer.hpp"
#include "tapeflow/nn/sequential.hpp"

namespace tapeflow::nn::layers {

Layer deserialize(const Config& config) {
  if (!config.is_object() || !config.contains("class_name") || !config["class_name"].is_string()) {
    detail::throw_value_error(
        "layers.deserialize: expected {{\"class_name\": ..., \"config\": ...}}. Received: {}",
        config.dump());
  }
  const std::string cls = config["class_name"].get<std::string>();
  const Config inner = config.contains("config") ? config["config"] : Config::object();
  if (cls == "Dense") return Dense::from_config(inner);
  if (cls == "Embedding") return Embedding::from_config(inner);
  if (cls == "Sequential") return Sequential::from_config(inner);
  detail::throw_value_error("Unknown layer: '{}'. Known layers: Dense, Embedding, Sequential", cls);
}

}  // namespace tapeflow::nn::layers
