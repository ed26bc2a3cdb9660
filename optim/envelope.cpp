#include "tapeflow/optim/envelope.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>

#include "tapeflow/core/check.hpp"

namespace tapeflow::optim::detail {

using tapeflow::detail::throw_type_error;
using tapeflow::detail::throw_value_error;

std::string py_repr(const Config& v) {
  switch (v.type()) {
    case Config::value_t::null:
      return "None";
    case Config::value_t::boolean:
      return v.get<bool>() ? "True" : "False";
    case Config::value_t::string: {
      std::string out = "'";
      for (char c : v.get_ref<const std::string&>()) {
        if (c == '\'' || c == '\\') out += '\\';
        out += c;
      }
      return out + "'";
    }
    case Config::value_t::number_float: {
      const double d = v.get<double>();
      if (std::isnan(d)) return "nan";
      if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
      return v.dump();  // shortest round-trip digits, "1.0" for whole numbers, like Python
    }
    case Config::value_t::array: {
      std::string out = "[";
      for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + py_repr(v[i]);
      return out + "]";
    }
    case Config::value_t::object: {
      std::string out = "{";
      bool first = true;
      for (const auto& [key, value] : v.items()) {
        out += (first ? "'" : ", '") + key + "': " + py_repr(value);
        first = false;
      }
      return out + "}";
    }
    default:
      return v.dump();
  }
}

Envelope read_envelope(const Config& value, const char* what) {
  if (!value.is_object() || !value.contains("class_name") || !value.contains("config")) {
    throw_value_error(
        "Improper config format for {}. Expecting python dict contains `class_name` and "
        "`config` as keys",
        py_repr(value));
  }
  static const char* const keys[] = {"class_name", "config", "module", "registered_name"};
  for (const auto& item : value.items()) {
    if (std::find(std::begin(keys), std::end(keys), item.key()) == std::end(keys)) {
      throw_value_error(
          "deserialize: unexpected key '{}' in a serialized {} (expected class_name, config, "
          "module, registered_name). Received: {}",
          item.key(), what, py_repr(value));
    }
  }
  const Config& class_name = value.at("class_name");
  const Config& inner = value.at("config");
  if (!class_name.is_string()) {
    throw_type_error("deserialize: `class_name` must be a string, received {} ({})",
                     py_repr(class_name), class_name.type_name());
  }
  if (!inner.is_object()) {
    throw_type_error("deserialize: `config` must be a JSON object, received {} ({})",
                     py_repr(inner), inner.type_name());
  }
  for (const char* key : {"module", "registered_name"}) {
    const auto it = value.find(key);
    if (it != value.end() && !it->is_string() && !it->is_null()) {
      throw_type_error("deserialize: `{}` must be a string or null, received {} ({})", key,
                       py_repr(*it), it->type_name());
    }
  }
  Envelope out;
  out.config = &inner;
  out.class_name = class_name.get<std::string>();
  // Keras 3 names a registered custom class by registered_name ("Package>Name"); try it first.
  if (const auto it = value.find("registered_name"); it != value.end() && it->is_string()) {
    out.names.push_back(it->get<std::string>());
  }
  if (out.names.empty() || out.names[0] != out.class_name) out.names.push_back(out.class_name);
  return out;
}

void check_registration_args(const std::string& name, bool has_factory, const char* caller) {
  if (name.empty()) throw_value_error("{}: the class name is empty", caller);
  if (!has_factory) throw_value_error("{}: the factory for '{}' is empty", caller, name);
}

void throw_already_registered(const std::string& name, const char* caller) {
  throw_value_error("{}: '{}' has already been registered", caller, name);
}

void throw_wrong_kind(const std::string& name, const char* what, const char* other) {
  const auto article = [](const char* noun) { return noun[0] == 'o' ? "an" : "a"; };
  throw_value_error("deserialize: custom_objects['{}'] is {} {} factory, not {} {} factory", name,
                    article(other), other, article(what), what);
}

}  // namespace tapeflow::optim::detail
