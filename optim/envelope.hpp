#pragma once
// Internal (not installed): the outer {"class_name", "config"[, "module", "registered_name"]}
// form that schedules::deserialize and optim::deserialize both read, and the custom_objects /
// registry lookup they share. Keras's messages quote Python reprs, hence py_repr.

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "tapeflow/core/json.hpp"
#include "tapeflow/optim/serialization_types.hpp"

namespace tapeflow::optim::detail {

/// A config value as Python prints it: None, True, 'text', 1.0, [..], {'key': ..}.
std::string py_repr(const Config& value);

/// A checked envelope.
struct Envelope {
  /// The inner config (an object).
  const Config* config = nullptr;
  /// The class_name.
  std::string class_name;
  /// The names to look up, in order: registered_name (when a string), then class_name.
  std::vector<std::string> names;
};

/// Checks `value` as a serialized `what` ("schedule", "optimizer"): ValueError "Improper config
/// format for ..." without class_name and config, ValueError for another outer key, TypeError
/// for a class_name that is not a string, a config that is not an object, or a module /
/// registered_name that is neither a string nor null.
Envelope read_envelope(const Config& value, const char* what);

/// The first of `envelope.names` found in custom_objects, as a factory of the kind `get` picks
/// (CustomObject::schedule or CustomObject::optimizer), or null. ValueError when the entry is
/// of the other kind ("custom_objects['<n>'] is a <other> factory, not a <what> factory").
template <class Factory>
const Factory* find_custom(const Envelope& envelope, const CustomObjects& custom_objects,
                           const Factory* (CustomObject::*get)() const, const char* what,
                           const char* other, std::string& found_name);

/// A process-wide registry of factories (one per kind, in libtapeflow).
template <class Factory>
struct Registry {
  std::mutex mutex;
  std::map<std::string, Factory, std::less<>> factories;

  /// The factory registered under the first of `names` that has one (copied out under the
  /// lock, so that the caller may call it without holding the lock), or an empty factory.
  Factory find(const std::vector<std::string>& names, std::string& found_name) {
    std::lock_guard<std::mutex> lock(mutex);
    for (const std::string& name : names) {
      const auto it = factories.find(name);
      if (it != factories.end()) {
        found_name = name;
        return it->second;
      }
    }
    return Factory();
  }

  /// Adds `factory` under `name`. `caller` ("register_schedule") starts the ValueError for an
  /// empty name, an empty factory or a name registered already.
  void add(const std::string& name, Factory factory, const char* caller) {
    check_registration(name, static_cast<bool>(factory), caller);
    std::lock_guard<std::mutex> lock(mutex);
    if (factories.count(name) != 0) throw_registered(name, caller);
    factories.emplace(name, std::move(factory));
  }

  /// Removes `name`; false when it was not registered.
  bool remove(const std::string& name) {
    std::lock_guard<std::mutex> lock(mutex);
    return factories.erase(name) != 0;
  }

  /// Appends the registered names, sorted, to `out`.
  void append_names(std::vector<std::string>& out) {
    std::lock_guard<std::mutex> lock(mutex);
    for (const auto& entry : factories) out.push_back(entry.first);
  }

 private:
  static void check_registration(const std::string& name, bool has_factory, const char* caller);
  [[noreturn]] static void throw_registered(const std::string& name, const char* caller);
};

/// ValueError "<caller>: the class name is empty" / "the factory for '<name>' is empty".
void check_registration_args(const std::string& name, bool has_factory, const char* caller);
/// ValueError "<caller>: '<name>' has already been registered".
[[noreturn]] void throw_already_registered(const std::string& name, const char* caller);

template <class Factory>
void Registry<Factory>::check_registration(const std::string& name, bool has_factory,
                                           const char* caller) {
  check_registration_args(name, has_factory, caller);
}

template <class Factory>
void Registry<Factory>::throw_registered(const std::string& name, const char* caller) {
  throw_already_registered(name, caller);
}

[[noreturn]] void throw_wrong_kind(const std::string& name, const char* what, const char* other);

template <class Factory>
const Factory* find_custom(const Envelope& envelope, const CustomObjects& custom_objects,
                           const Factory* (CustomObject::*get)() const, const char* what,
                           const char* other, std::string& found_name) {
  for (const std::string& name : envelope.names) {
    const auto it = custom_objects.find(name);
    if (it == custom_objects.end()) continue;
    const Factory* factory = (it->second.*get)();
    if (factory == nullptr) throw_wrong_kind(name, what, other);
    found_name = name;
    return factory;
  }
  return nullptr;
}

}  // namespace tapeflow::optim::detail
