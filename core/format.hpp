#pragma once
// fmt support: `fmt::format("{}", tensor)` prints what `std::cout << tensor` prints.

#include <fmt/ostream.h>

#include "tapeflow/autograd/indexed_slices.hpp"
#include "tapeflow/autograd/variable.hpp"
#include "tapeflow/core/dtype.hpp"
#include "tapeflow/core/tensor.hpp"

template <>
struct fmt::formatter<tapeflow::Tensor> : fmt::ostream_formatter {};
template <>
struct fmt::formatter<tapeflow::Variable> : fmt::ostream_formatter {};
template <>
struct fmt::formatter<tapeflow::Gradient> : fmt::ostream_formatter {};
template <>
struct fmt::formatter<tapeflow::DType> : fmt::ostream_formatter {};
