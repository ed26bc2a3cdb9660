#pragma once
// The two exception types users catch, named after the Python exceptions Keras raises.

#include <stdexcept>
#include <string>

namespace tapeflow {

/// A value is wrong: a shape mismatch, an out-of-range index, a negative hyperparameter.
/// Messages say which op, what was wrong and what was received.
class ValueError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// A type is wrong: mixed dtypes, an unknown keyword argument, a string where a number belongs.
class TypeError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

}  // namespace tapeflow
