// layers::deserialize: the one place that knows every layer class by its Keras name.

#include "tapeflow/core/check.hpp"
#include "tapeflow/nn/conv.hpp"
#include "tapeflow/nn/dense.hpp"
#include "tapeflow/nn/embedding.hpp"
#include "tapeflow/nn/layer.hpp"
#include "tapeflow/nn/pooling.hpp"
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
  if (cls == "Conv2D") return Conv2D::from_config(inner);
  if (cls == "Conv1D") return Conv1D::from_config(inner);
  if (cls == "MaxPooling2D" || cls == "MaxPool2D") return MaxPooling2D::from_config(inner);
  if (cls == "AveragePooling2D" || cls == "AvgPool2D") {
    return AveragePooling2D::from_config(inner);
  }
  if (cls == "GlobalAveragePooling2D" || cls == "GlobalAvgPool2D") {
    return GlobalAveragePooling2D::from_config(inner);
  }
  detail::throw_value_error(
      "Unknown layer: '{}'. Known layers: Dense, Embedding, Sequential, Conv1D, Conv2D, "
      "MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D",
      cls);
}

}  // namespace tapeflow::nn::layers
