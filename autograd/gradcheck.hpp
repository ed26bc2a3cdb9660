#pragma once
// gradcheck: compares the tape's Jacobian with central finite differences.

#include <functional>
#include <string>
#include <vector>

#include "tapeflow/core/tensor.hpp"

namespace tapeflow {

/// The outcome of a gradcheck: `ok`, the worst errors, and a readable report of the worst entry.
struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0;
  double max_rel_error = 0;
  std::string report;
};

/// Checks d f(inputs) / d inputs[i] for every floating input against central differences
///   J_num[j, k] = (f(x + eps·e_k)[j] - f(x - eps·e_k)[j]) / (2 eps).
/// An entry passes when |J_tape - J_num| <= atol + rtol·|J_num|. Use float64 inputs.
/// `f` may itself run a GradientTape (then this checks second derivatives).
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                          const std::vector<Tensor>& inputs, double eps = 1e-6, double atol = 1e-6,
                          double rtol = 1e-5);

}  // namespace tapeflow
