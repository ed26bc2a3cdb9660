#include "tapeflow/core/dtype.hpp"

#include <ostream>

#include "tapeflow/core/check.hpp"

namespace tapeflow {

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::float32: return "float32";
    case DType::float64: return "float64";
    case DType::int32: return "int32";
    case DType::int64: return "int64";
    case DType::boolean: return "bool";
  }
  return "unknown";
}

DType dtype_from_name(const std::string& name) {
  if (name == "float32" || name == "float") return DType::float32;
  if (name == "float64" || name == "double") return DType::float64;
  if (name == "int32") return DType::int32;
  if (name == "int64") return DType::int64;
  if (name == "bool") return DType::boolean;
  detail::throw_value_error(
      "Unknown dtype '{}'. Expected one of: float32, float64, int32, int64, bool", name);
}

std::size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::float32: return 4;
    case DType::float64: return 8;
    case DType::int32: return 4;
    case DType::int64: return 8;
    case DType::boolean: return 1;
  }
  return 1;
}

std::ostream& operator<<(std::ostream& os, DType dtype) { return os << dtype_name(dtype); }

}  // namespace tapeflow
