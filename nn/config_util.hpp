#pragma once
// Internal (not installed): reading layer configs in from_config.

#include <initializer_list>
#include <string>

#include "tapeflow/core/check.hpp"
#include "tapeflow/core/dtype.hpp"
#include "tapeflow/core/json.hpp"

namespace tapeflow::nn::internal {

/// TypeError for a key outside `known` (Keras passes config keys to the constructor, where an
/// unknown one is a TypeError), and ValueError for a non-null entry among `unsupported`.
inline void check_config_keys(const char* cls, const Config& config,
                              std::initializer_list<const char*> known,
                              std::initializer_list<const char*> unsupported = {}) {
  if (!config.is_object()) {
    tapeflow::detail::throw_type_error("{}.from_config: expected a JSON object. Received: {}", cls,
                                       config.dump());
  }
  for (auto it = config.begin(); it != config.end(); ++it) {
    bool ok = false;
    for (const char* k : known) ok = ok || it.key() == k;
    for (const char* k : unsupported) {
      if (it.key() == k) {
        ok = true;
        if (!it.value().is_null()) {
          tapeflow::detail::throw_value_error("{}.from_config: '{}' is not supported (only null). "
                                              "Received: {}",
                                              cls, k, it.value().dump());
        }
      }
    }
    if (!ok) {
      tapeflow::detail::throw_type_error("{}.from_config: unexpected keyword argument '{}'", cls,
                                         it.key());
    }
  }
}

template <class T>
T config_value(const char* cls, const Config& config, const char* key, T fallback) {
  if (!config.contains(key) || config[key].is_null()) return fallback;
  try {
    return config[key].get<T>();
  } catch (const nlohmann::ordered_json::exception&) {
    tapeflow::detail::throw_type_error("{}.from_config: '{}' has the wrong type. Received: {}", cls,
                                       key, config[key].dump());
  }
}

inline DType config_dtype(const char* cls, const Config& config) {
  return dtype_from_name(config_value<std::string>(cls, config, "dtype", "float32"));
}

}  // namespace tapeflow::nn::internal
