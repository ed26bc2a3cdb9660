#pragma once
// Internal (not installed): small helpers shared by optimizer.cpp, optimizer_weights.cpp and
// optimizer_pipeline.cpp (the base class, split by concern).

#include <string>
#include <vector>

#include "tapeflow/core/tensor.hpp"

namespace tapeflow::optim::detail {

/// A list of strings as Python prints it: ['a:0', 'b:0'].
inline std::string py_str_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += "'" + items[i] + "'";
  }
  return out + "]";
}

/// "w:0" -> "w", as Keras's var._shared_name.
inline std::string shared_name(const std::string& variable_name) {
  const std::size_t colon = variable_name.rfind(':');
  return colon == std::string::npos ? variable_name : variable_name.substr(0, colon);
}

/// A fresh copy of a tensor's values (no shared storage).
inline Tensor deep_copy(const Tensor& value) {
  return Tensor::from_data(value.dtype(), value.shape(), value.raw_data());
}

}  // namespace tapeflow::optim::detail
