#pragma once
// Config: Keras's config dicts as ordered JSON. Keys keep their insertion order, as Python dicts do,
// so `get_config().dump()` reads like the JSON Keras writes.

#include <nlohmann/json.hpp>

namespace tapeflow {

/// A Keras config dict (an alias of nlohmann::ordered_json).
using Config = nlohmann::ordered_json;

}  // namespace tapeflow
