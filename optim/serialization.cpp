#include "tapeflow/optim/serialization.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>
#include <typeinfo>
#include <utility>

#include "tapeflow/core/check.hpp"
#include "tapeflow/optim/adadelta.hpp"
#include "tapeflow/optim/adagrad.hpp"
#include "tapeflow/optim/adam.hpp"
#include "tapeflow/optim/adamax.hpp"
#include "tapeflow/optim/ftrl.hpp"
#include "tapeflow/optim/nadam.hpp"
#include "tapeflow/optim/rmsprop.hpp"
#include "tapeflow/optim/sgd.hpp"

namespace tapeflow::optim {

using tapeflow::detail::throw_type_error;
using tapeflow::detail::throw_value_error;

namespace {

// ---- the built-in classes: one row each ----

template <class Handle>
std::shared_ptr<Optimizer> make_builtin(const Config& config, const CustomObjects& objects) {
  return std::make_shared<Optimizer>(Handle::from_config(config, objects));
}

struct Builtin {
  const char* name;  // the Keras class name, as serialize writes it
  std::shared_ptr<Optimizer> (*make)(const Config&, const CustomObjects&);
  const std::type_info& type;  // the body's type: a subclass of it is a custom class
};

// Sorted by name.
const Builtin kBuiltins[] = {
    {"Adadelta", &make_builtin<Adadelta>, typeid(AdadeltaImpl)},
    {"Adagrad", &make_builtin<Adagrad>, typeid(AdagradImpl)},
    {"Adam", &make_builtin<Adam>, typeid(AdamImpl)},
    {"Adamax", &make_builtin<Adamax>, typeid(AdamaxImpl)},
    {"Ftrl", &make_builtin<Ftrl>, typeid(FtrlImpl)},
    {"Nadam", &make_builtin<Nadam>, typeid(NadamImpl)},
    {"RMSprop", &make_builtin<RMSprop>, typeid(RMSpropImpl)},
    {"SGD", &make_builtin<SGD>, typeid(SGDImpl)},
};

std::string lowercase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

/// The built-in whose name matches `name` case-insensitively (Keras lowercases built-in names).
const Builtin* find_builtin(const std::string& name) {
  const std::string lower = lowercase(name);
  for (const Builtin& b : kBuiltins) {
    if (lowercase(b.name) == lower) return &b;
  }
  return nullptr;
}

// ---- the registry (process-wide, in the shared library) ----

struct Registry {
  std::mutex mutex;
  std::map<std::string, OptimizerFactory, std::less<>> factories;
};

Registry& registry() {
  static Registry instance;
  return instance;
}

constexpr const char* kEnvelopeKeys[] = {"module", "class_name", "config", "registered_name"};

}  // namespace

Config serialize(const Optimizer& optimizer, SerializationFormat format) {
  const std::string& class_name = optimizer.class_name();
  if (class_name.empty()) {
    throw_value_error("serialize: the optimizer's class_name() is empty (received type {})",
                      typeid(optimizer.impl()).name());
  }
  Config config = optimizer.get_config();
  if (!config.is_object()) {
    throw_value_error("serialize: {}.get_config() must return a JSON object, received {}",
                      class_name, config.dump());
  }
  if (format == SerializationFormat::tf2) {
    return Config{{"class_name", class_name}, {"config", std::move(config)}};
  }
  const Builtin* builtin = find_builtin(class_name);
  const bool is_builtin = builtin != nullptr && typeid(optimizer.impl()) == builtin->type;
  Config module;
  if (is_builtin) {
    module = optimizer.keras_generation() == KerasGeneration::v2 ? "keras.optimizers.legacy"
                                                                 : "keras.optimizers";
  }
  return Config{{"module", std::move(module)},
                {"class_name", class_name},
                {"config", std::move(config)},
                {"registered_name", is_builtin ? Config() : Config(class_name)}};
}

std::shared_ptr<Optimizer> deserialize(const Config& config, const CustomObjects& custom_objects) {
  if (!config.is_object() || !config.contains("class_name") || !config.contains("config")) {
    throw_value_error(
        "Improper config format for {}. Expecting python dict contains `class_name` and "
        "`config` as keys",
        config.dump());
  }
  for (const auto& item : config.items()) {
    if (std::find(std::begin(kEnvelopeKeys), std::end(kEnvelopeKeys), item.key()) ==
        std::end(kEnvelopeKeys)) {
      throw_value_error(
          "deserialize: unexpected key '{}' in a serialized optimizer (expected class_name, "
          "config, module, registered_name). Received: {}",
          item.key(), config.dump());
    }
  }
  const Config& class_name = config.at("class_name");
  const Config& inner = config.at("config");
  if (!class_name.is_string()) {
    throw_type_error("deserialize: `class_name` must be a string, received {} ({})",
                     class_name.dump(), class_name.type_name());
  }
  if (!inner.is_object()) {
    throw_type_error("deserialize: `config` must be a JSON object, received {} ({})",
                     inner.dump(), inner.type_name());
  }
  for (const char* key : {"module", "registered_name"}) {
    const auto it = config.find(key);
    if (it != config.end() && !it->is_string() && !it->is_null()) {
      throw_type_error("deserialize: `{}` must be a string or null, received {} ({})", key,
                       it->dump(), it->type_name());
    }
  }

  // Keras 3 names a registered custom class by registered_name ("Package>Name"); try it first.
  std::vector<std::string> names;
  if (const auto it = config.find("registered_name"); it != config.end() && it->is_string()) {
    names.push_back(it->get<std::string>());
  }
  const std::string& cls = class_name.get_ref<const std::string&>();
  if (names.empty() || names[0] != cls) names.push_back(cls);

  const auto build = [&](const std::string& name, const OptimizerFactory& factory) {
    std::shared_ptr<Optimizer> out = factory(inner, custom_objects);
    if (!out) throw_value_error("deserialize: the factory for '{}' returned no optimizer", name);
    return out;
  };
  for (const std::string& name : names) {
    const auto it = custom_objects.find(name);
    if (it == custom_objects.end()) continue;
    const OptimizerFactory* factory = it->second.optimizer();
    if (factory == nullptr) {
      throw_value_error(
          "deserialize: custom_objects['{}'] is a schedule factory, not an optimizer factory",
          name);
    }
    return build(name, *factory);
  }
  for (const std::string& name : names) {
    OptimizerFactory factory;
    {
      Registry& r = registry();
      std::lock_guard<std::mutex> lock(r.mutex);
      const auto it = r.factories.find(name);
      if (it != r.factories.end()) factory = it->second;
    }
    // Called outside the lock: a factory may deserialize or register in turn.
    if (factory) return build(name, factory);
  }
  if (const Builtin* builtin = find_builtin(cls)) return builtin->make(inner, custom_objects);

  std::vector<std::string> known = optimizer_names();
  for (const auto& [name, object] : custom_objects) {
    if (object.optimizer() != nullptr) known.push_back(name);
  }
  throw_value_error(
      "Unknown optimizer: {}. Please ensure this object is passed to the `custom_objects` "
      "argument or registered with register_optimizer(). Known optimizers: {}",
      cls, fmt::join(known, ", "));
}

void register_optimizer(const std::string& class_name, OptimizerFactory factory) {
  if (class_name.empty()) throw_value_error("register_optimizer: the class name is empty");
  if (!factory) {
    throw_value_error("register_optimizer: the factory for '{}' is empty", class_name);
  }
  if (const Builtin* builtin = find_builtin(class_name)) {
    throw_value_error(
        "register_optimizer: '{}' names the built-in optimizer {} (names match "
        "case-insensitively); register the custom class under another name, or pass it in "
        "`custom_objects` to override the built-in",
        class_name, builtin->name);
  }
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  if (r.factories.count(class_name) != 0) {
    throw_value_error("register_optimizer: '{}' has already been registered", class_name);
  }
  r.factories.emplace(class_name, std::move(factory));
}

bool unregister_optimizer(const std::string& class_name) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  return r.factories.erase(class_name) != 0;
}

std::vector<std::string> optimizer_names() {
  std::vector<std::string> names;
  for (const Builtin& b : kBuiltins) names.emplace_back(b.name);
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (const auto& entry : r.factories) names.push_back(entry.first);
  return names;
}

}  // namespace tapeflow::optim
