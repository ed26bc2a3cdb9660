#pragma once
// DType: the runtime element type of a Tensor, named as TensorFlow names it.

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>

#include "tapeflow/core/config.hpp"

namespace tapeflow {

/// Element type of a Tensor. `boolean` prints as "bool" (comparison results, `where` conditions).
enum class DType : std::uint8_t { float32, float64, int32, int64, boolean };

/// TensorFlow's name for a dtype: "float32", "float64", "int32", "int64", "bool".
const char* dtype_name(DType dtype);
/// Parses a dtype name as written by `dtype_name` (also "float"/"double"); ValueError otherwise.
DType dtype_from_name(const std::string& name);
/// Bytes per element.
std::size_t dtype_size(DType dtype);
/// True for float32 and float64, the dtypes that carry gradients.
inline bool is_floating(DType dtype) { return dtype == DType::float32 || dtype == DType::float64; }
/// True for int32 and int64.
inline bool is_integer(DType dtype) { return dtype == DType::int32 || dtype == DType::int64; }

std::ostream& operator<<(std::ostream& os, DType dtype);

/// The DType of a C++ element type: float, double, int32_t, int64_t, bool.
template <class T>
struct dtype_of;
template <>
struct dtype_of<float> {
  static constexpr DType value = DType::float32;
};
template <>
struct dtype_of<double> {
  static constexpr DType value = DType::float64;
};
template <>
struct dtype_of<std::int32_t> {
  static constexpr DType value = DType::int32;
};
template <>
struct dtype_of<std::int64_t> {
  static constexpr DType value = DType::int64;
};
template <>
struct dtype_of<long long> {
  static constexpr DType value = sizeof(long long) == 8 ? DType::int64 : DType::int32;
};
template <>
struct dtype_of<bool> {
  static constexpr DType value = DType::boolean;
};
template <class T>
constexpr DType dtype_of_v = dtype_of<T>::value;

}  // namespace tapeflow
