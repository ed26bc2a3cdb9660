#pragma once
// Internal: fmt-based helpers that build and throw ValueError / TypeError.
// Only .cpp files include this, so fmt stays out of the light public headers.

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "tapeflow/core/error.hpp"

namespace tapeflow::detail {

template <class... Args>
[[noreturn]] void throw_value_error(fmt::format_string<Args...> format, Args&&... args) {
  throw ValueError(fmt::format(format, std::forward<Args>(args)...));
}

template <class... Args>
[[noreturn]] void throw_type_error(fmt::format_string<Args...> format, Args&&... args) {
  throw TypeError(fmt::format(format, std::forward<Args>(args)...));
}

/// Throws ValueError with the formatted message unless `condition` holds.
template <class... Args>
void check_value(bool condition, fmt::format_string<Args...> format, Args&&... args) {
  if (!condition) throw ValueError(fmt::format(format, std::forward<Args>(args)...));
}

/// Throws TypeError with the formatted message unless `condition` holds.
template <class... Args>
void check_type(bool condition, fmt::format_string<Args...> format, Args&&... args) {
  if (!condition) throw TypeError(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace tapeflow::detail
