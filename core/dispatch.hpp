#pragma once
// Internal: run a generic lambda with the C++ element type of a runtime DType.

#include <cstdint>

#include "tapeflow/core/dtype.hpp"

namespace tapeflow::detail {

template <class T>
struct type_tag {
  using type = T;
};

/// Calls `f(type_tag<T>{})` for the element type T of `dtype`.
template <class F>
decltype(auto) visit_dtype(DType dtype, F&& f) {
  switch (dtype) {
    case DType::float32: return f(type_tag<float>{});
    case DType::float64: return f(type_tag<double>{});
    case DType::int32: return f(type_tag<std::int32_t>{});
    case DType::int64: return f(type_tag<std::int64_t>{});
    case DType::boolean: break;
  }
  return f(type_tag<bool>{});
}

/// As visit_dtype, for the floating dtypes only (callers check is_floating first).
template <class F>
decltype(auto) visit_floating(DType dtype, F&& f) {
  if (dtype == DType::float64) return f(type_tag<double>{});
  return f(type_tag<float>{});
}

}  // namespace tapeflow::detail
