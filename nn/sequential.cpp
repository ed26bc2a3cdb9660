#include "tapeflow/nn/sequential.hpp"

#include <utility>

#include "tapeflow/core/check.hpp"
#include "config_util.hpp"

namespace tapeflow::nn {

SequentialImpl::SequentialImpl(std::vector<Layer> layers, const std::string& name)
    : ModelImpl("Sequential", name) {
  for (const Layer& layer : layers) add(layer);
}

void SequentialImpl::check_unique_name(const Layer& layer) const {
  for (const Layer& existing : layers_) {
    if (existing.name() == layer.name()) {
      detail::throw_value_error(
          "All layers added to a Sequential model should have unique names. Name \"{}\" is "
          "already the name of a layer in this model. Update the `name` argument to pass a "
          "unique name.",
          layer.name());
    }
  }
  if (&layer.impl() == this) {
    detail::throw_value_error("Sequential \"{}\": a model cannot be added to itself", name());
  }
}

void SequentialImpl::add(const Layer& layer) {
  check_unique_name(layer);
  if (built()) {
    // Build the newcomer now, from the current output shape.
    Shape shape = build_input_shape();
    for (const Layer& existing : layers_) shape = existing.compute_output_shape(shape);
    layer.build(shape);
  }
  layers_.push_back(layer);
}

void SequentialImpl::pop() {
  if (layers_.empty()) {
    detail::throw_value_error("There are no layers in the model.");
  }
  layers_.pop_back();
}

void SequentialImpl::build(const Shape& input_shape) {
  Shape shape = input_shape;
  for (const Layer& layer : layers_) {
    layer.build(shape);
    shape = layer.compute_output_shape(shape);
  }
}

Tensor SequentialImpl::call(const Tensor& inputs) {
  Tensor x = inputs;
  for (const Layer& layer : layers_) x = layer(x, training());
  return x;
}

Shape SequentialImpl::compute_output_shape(const Shape& input_shape) const {
  Shape shape = input_shape;
  for (const Layer& layer : layers_) shape = layer.compute_output_shape(shape);
  return shape;
}

Config SequentialImpl::get_config() const {
  Config layers = Config::array();
  for (const Layer& layer : layers_) layers.push_back(layers::serialize(layer));
  return Config{{"name", name()}, {"layers", layers}};
}

Sequential::Sequential(std::vector<Layer> layers, const std::string& name)
    : Model(std::make_shared<SequentialImpl>(std::move(layers), name)) {}

void Sequential::add(const Layer& layer) const { body().add(layer); }
void Sequential::pop() const { body().pop(); }

Sequential Sequential::from_config(const Config& config) {
  constexpr const char* cls = "Sequential";
  internal::check_config_keys(cls, config, {"name", "layers", "trainable", "dtype"});
  if (!config.contains("layers") || !config["layers"].is_array()) {
    detail::throw_value_error("Sequential.from_config: 'layers' must be a list. Received: {}",
                              config.contains("layers") ? config["layers"].dump() : "nothing");
  }
  std::vector<Layer> layers;
  for (const Config& entry : config["layers"]) {
    if (entry.is_object() && entry.contains("class_name") && entry["class_name"] == "InputLayer") {
      continue;
    }
    layers.push_back(layers::deserialize(entry));
  }
  Sequential model(std::move(layers), internal::config_value<std::string>(cls, config, "name", ""));
  model.set_trainable(internal::config_value<bool>(cls, config, "trainable", true));
  return model;
}

}  // namespace tapeflow::nn
