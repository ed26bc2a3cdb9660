#pragma once
// Test helpers: tolerance comparisons that print both tensors on failure.

#include <doctest/doctest.h>

#include <cmath>
#include <sstream>
#include <string>

#include <tapeflow/tapeflow.hpp>

namespace tapeflow::testing {

/// Empty when every element of `actual` is within atol + rtol·|expected|, else a report with
/// both tensors and the first offending element.
inline std::string compare(const Tensor& actual, const Tensor& expected, double rtol, double atol) {
  std::ostringstream out;
  if (!actual || !expected) {
    out << "missing tensor: actual=" << actual << " expected=" << expected;
    return out.str();
  }
  if (actual.shape() != expected.shape()) {
    out << "shape " << shape_str(actual.shape()) << " != " << shape_str(expected.shape()) << "\n  actual:   "
        << actual << "\n  expected: " << expected;
    return out.str();
  }
  const auto a = actual.numpy<double>();
  const auto e = expected.numpy<double>();
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double x = a.data()[i], y = e.data()[i];
    const bool both_nan = std::isnan(x) && std::isnan(y);
    if (!both_nan && !(std::abs(x - y) <= atol + rtol * std::abs(y))) {
      out << "element " << i << ": " << x << " vs " << y << "\n  actual:   " << actual
          << "\n  expected: " << expected;
      return out.str();
    }
  }
  return {};
}

}  // namespace tapeflow::testing

/// CHECK that two tensors agree elementwise (relative and absolute tolerance).
#define CHECK_ALLCLOSE(actual, expected, rtol, atol)                                      \
  do {                                                                                    \
    const std::string tapeflow_report_ =                                                  \
        ::tapeflow::testing::compare((actual), (expected), (rtol), (atol));               \
    CHECK_MESSAGE(tapeflow_report_.empty(), tapeflow_report_);                            \
  } while (0)

/// CHECK that a gradcheck passes, printing its report when it does not.
#define CHECK_GRADCHECK(result)                                                           \
  do {                                                                                    \
    const ::tapeflow::GradcheckResult tapeflow_gc_ = (result);                            \
    CHECK_MESSAGE(tapeflow_gc_.ok, tapeflow_gc_.report);                                  \
  } while (0)

/// CHECK that `expr` throws exception type `type` with `text` in its message.
#define CHECK_THROWS_WITH_TEXT(expr, type, text)                                          \
  do {                                                                                    \
    bool tapeflow_thrown_ = false;                                                        \
    try {                                                                                 \
      (void)(expr);                                                                       \
    } catch (const type& tapeflow_e_) {                                                   \
      tapeflow_thrown_ = true;                                                            \
      const std::string tapeflow_msg_ = tapeflow_e_.what();                               \
      CHECK_MESSAGE(tapeflow_msg_.find(text) != std::string::npos,                        \
                    "message \"" << tapeflow_msg_ << "\" lacks \"" << text << "\"");      \
    }                                                                                     \
    CHECK_MESSAGE(tapeflow_thrown_, "expected " #type " from " #expr);                    \
  } while (0)
