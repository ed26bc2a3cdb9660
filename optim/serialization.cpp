#include "tapeflow/optim/serialization.hpp"

#include <algorithm>
#include <cctype>
#include <typeinfo>
#include <utility>

#include "tapeflow/core/check.hpp"
#include "tapeflow/optim/builtins.hpp"
#include "tapeflow/optim/envelope.hpp"

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

#define TAPEFLOW_OPTIM_BUILTIN_ROW(Class) \
  {#Class, &make_builtin<Class>, typeid(BodyOf<Class>)},
const Builtin kBuiltins[] = {TAPEFLOW_OPTIM_BUILTINS(TAPEFLOW_OPTIM_BUILTIN_ROW)};
#undef TAPEFLOW_OPTIM_BUILTIN_ROW

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

using Registry = detail::Registry<OptimizerFactory>;

Registry& registry() {
  static Registry instance;
  return instance;
}

}  // namespace

Config serialize(const Optimizer& optimizer, SerializationFormat format) {
  const OptimizerImpl& impl = optimizer.impl();  // typeid of a plain reference: no side effects
  const std::string& class_name = optimizer.class_name();
  if (class_name.empty()) {
    throw_value_error("serialize: the optimizer's class_name() is empty (received type {})",
                      typeid(impl).name());
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
  // A built-in body of that class (several share ElementwiseImpl); a subclass is custom.
  const bool is_builtin = builtin != nullptr && typeid(impl) == builtin->type &&
                          impl.class_name() == builtin->name;
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
  const detail::Envelope envelope = detail::read_envelope(config, "optimizer");
  const Config& inner = *envelope.config;
  const std::string& cls = envelope.class_name;
  const auto build = [&](const std::string& name, const OptimizerFactory& factory) {
    std::shared_ptr<Optimizer> out = factory(inner, custom_objects);
    if (!out) throw_value_error("deserialize: the factory for '{}' returned no optimizer", name);
    return out;
  };
  std::string found;
  if (const OptimizerFactory* factory = detail::find_custom(
          envelope, custom_objects, &CustomObject::optimizer, "optimizer", "schedule", found)) {
    return build(found, *factory);
  }
  // Called outside the registry's lock: a factory may deserialize or register in turn.
  if (const OptimizerFactory factory = registry().find(envelope.names, found)) {
    return build(found, factory);
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
  if (const Builtin* builtin = find_builtin(class_name)) {
    throw_value_error(
        "register_optimizer: '{}' names the built-in optimizer {} (names match "
        "case-insensitively); register the custom class under another name, or pass it in "
        "`custom_objects` to override the built-in",
        class_name, builtin->name);
  }
  registry().add(class_name, std::move(factory), "register_optimizer");
}

bool unregister_optimizer(const std::string& class_name) {
  return registry().remove(class_name);
}

std::vector<std::string> optimizer_names() {
  std::vector<std::string> names;
  for (const Builtin& b : kBuiltins) names.emplace_back(b.name);
  registry().append_names(names);
  return names;
}

}  // namespace tapeflow::optim
