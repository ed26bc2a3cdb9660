#pragma once
// Rich display in Jupyter. xeus-cling (and xeus-cpp) show a cell's trailing value through
// `mime_bundle_repr(value)`, found by argument-dependent lookup, which returns a JSON object
// mapping MIME types to renderings. Tensor, Variable and Gradient get a plain-text entry (what
// operator<< prints) and an HTML table. Plain interpreters (clang-repl) never call it; print with
// std::cout there.
//
//     #include <tapeflow/core/display.hpp>
//     tapeflow::Tensor t = {{1.0, 2.0}, {3.0, 4.0}};
//     t                                           // xeus-cling: a 2 x 2 table
//     xcpp::display(t);                           // the same, from inside a cell

#include <string>

#include <nlohmann/json.hpp>

#include "tapeflow/autograd/indexed_slices.hpp"
#include "tapeflow/autograd/variable.hpp"
#include "tapeflow/core/tensor.hpp"

namespace tapeflow {

/// What `std::cout << x` prints, as a string (TensorFlow's repr).
std::string repr(const Tensor& tensor);
std::string repr(const Variable& variable);
std::string repr(const Gradient& gradient);

/// An HTML table of the values under a caption with the shape and dtype (and a variable's name).
/// A matrix is one row per row; a vector one row; a rank-3+ tensor one table per leading index.
/// Above 1000 elements, as numpy, each axis shows its first and last 5 entries around an ellipsis.
/// A sparse gradient is a table of (index, row of values); none is "None".
std::string to_html(const Tensor& tensor);
std::string to_html(const Variable& variable);
std::string to_html(const Gradient& gradient);

// The bundles are built inline from the strings above so that no nlohmann type crosses the
// library boundary: the notebook's nlohmann version need not match the one libtapeflow saw.

/// `{"text/plain": repr(tensor), "text/html": to_html(tensor)}`, for xeus-cling's display.
inline nlohmann::json mime_bundle_repr(const Tensor& tensor) {
  return nlohmann::json{{"text/plain", repr(tensor)}, {"text/html", to_html(tensor)}};
}
/// `{"text/plain": repr(variable), "text/html": to_html(variable)}`.
inline nlohmann::json mime_bundle_repr(const Variable& variable) {
  return nlohmann::json{{"text/plain", repr(variable)}, {"text/html", to_html(variable)}};
}
/// `{"text/plain": repr(gradient), "text/html": to_html(gradient)}`.
inline nlohmann::json mime_bundle_repr(const Gradient& gradient) {
  return nlohmann::json{{"text/plain", repr(gradient)}, {"text/html", to_html(gradient)}};
}

}  // namespace tapeflow
