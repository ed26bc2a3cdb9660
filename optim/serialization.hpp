#pragma once
// Keras JSON in and out for optimizers: serialize / deserialize in the outer
// {"class_name", "config"} (TF2, Keras <= 2.12) or {"module", "class_name", "config",
// "registered_name"} (Keras 2.13+, Keras 3) form, and the process-wide registry of custom
// optimizer classes. The inner config may come from any of the three Keras generations
// (TF2 optimizer_v2, Keras 2.11+, Keras 3); see docs/keras-compatibility.md.
//
//     Config json = Config::parse(R"({"class_name": "Adagrad", "config": {"name": "adagrad",
//         "learning_rate": 0.01, ..., "loss_scale_factor": null, ...}})");
//     std::shared_ptr<optim::Optimizer> opt = optim::deserialize(json);   // a Keras 3 Adagrad
//     optim::serialize(*opt, optim::SerializationFormat::keras3);          // the same keys back

#include <memory>
#include <string>
#include <vector>

#include "tapeflow/core/json.hpp"
#include "tapeflow/optim/optimizer.hpp"
#include "tapeflow/optim/serialization_types.hpp"

namespace tapeflow::optim {

/// The serialized form of `optimizer`, its config being get_config() (whose keys follow the
/// optimizer's Keras generation):
///   tf2:    {"class_name": optimizer.class_name(), "config": ...};
///   keras3: {"module", "class_name", "config", "registered_name"}, with module
///           "keras.optimizers" (Keras 2.11+/3 generation) or "keras.optimizers.legacy" (V2)
///           and registered_name null for a built-in class, and module null and
///           registered_name = class_name for a custom one.
/// ValueError when the class name is empty or get_config() is not a JSON object.
Config serialize(const Optimizer& optimizer,
                 SerializationFormat format = SerializationFormat::tf2);

/// Rebuilds an optimizer from either outer form, with an inner config of any Keras generation
/// (the generation is detected from its keys and kept: get_config() writes it back, and its
/// numerics apply). The class is looked up by `registered_name` (when a string) and then by
/// `class_name`: first in `custom_objects`, then in the registry (register_optimizer), then
/// among the eight built-ins, whose names match case-insensitively ("adam", "ADAM").
/// ValueError "Improper config format for ..." for a value that is not an object with
/// `class_name` and `config`; ValueError for another outer key; TypeError for a class_name,
/// module or registered_name of the wrong JSON type or a config that is not an object;
/// ValueError "Unknown optimizer: <name>. ..." listing the known names. The class's from_config
/// errors propagate (TypeError for an unknown key or a wrong type, ValueError for a value
/// tapeflow cannot honour, such as `use_ema: true`).
std::shared_ptr<Optimizer> deserialize(const Config& config,
                                       const CustomObjects& custom_objects = {});

/// Registers a custom optimizer class for deserialize, process-wide (thread-safe; the registry
/// lives in libtapeflow). ValueError for an empty name, an empty factory, a built-in name (in
/// any case) or a name already registered.
void register_optimizer(const std::string& class_name, OptimizerFactory factory);

/// Removes a registered optimizer class; false when `class_name` was not registered.
bool unregister_optimizer(const std::string& class_name);

/// The names deserialize knows without custom_objects: the eight built-ins, then the
/// registered names, each group sorted.
std::vector<std::string> optimizer_names();

}  // namespace tapeflow::optim
