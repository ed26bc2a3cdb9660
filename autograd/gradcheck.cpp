#include "tapeflow/autograd/gradcheck.hpp"

#include <cmath>
#include <cstring>

#include "tapeflow/autograd/gradient_tape.hpp"
#include "tapeflow/autograd/ops.hpp"
#include "tapeflow/core/check.hpp"

namespace tapeflow {

namespace {

/// A float64 copy of `x` with element k moved by delta.
Tensor perturbed(const Tensor& x, std::size_t k, double delta) {
  xt::xarray<double> values = x.numpy<double>();
  values.data()[k] += delta;
  return cast(Tensor(values), x.dtype());
}

}  // namespace

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                          const std::vector<Tensor>& inputs, double eps, double atol, double rtol) {
  GradcheckResult result;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!is_floating(inputs[i].dtype())) continue;
    // The tape's Jacobian, flattened to (output size, input size).
    Tensor analytic;
    std::size_t out_size = 0;
    {
      GradientTape tape(true);
      tape.watch(inputs[i]);
      const Tensor y = f(inputs);
      out_size = y.size();
      analytic = tape.jacobian(y, inputs[i], UnconnectedGradients::ZERO);
    }
    const xt::xarray<double> jt = analytic.numpy<double>();
    const std::size_t in_size = inputs[i].size();
    for (std::size_t k = 0; k < in_size; ++k) {
      std::vector<Tensor> plus = inputs, minus = inputs;
      plus[i] = perturbed(inputs[i], k, eps);
      minus[i] = perturbed(inputs[i], k, -eps);
      const xt::xarray<double> yp = f(plus).numpy<double>();
      const xt::xarray<double> ym = f(minus).numpy<double>();
      for (std::size_t j = 0; j < out_size; ++j) {
        const double numeric = (yp.data()[j] - ym.data()[j]) / (2 * eps);
        const double tape_value = jt.data()[j * in_size + k];
        const double err = std::abs(tape_value - numeric);
        const double rel = err / std::max(std::abs(numeric), 1e-12);
        result.max_abs_error = std::max(result.max_abs_error, err);
        if (err > atol) result.max_rel_error = std::max(result.max_rel_error, rel);
        if (err > atol + rtol * std::abs(numeric) && result.ok) {
          result.ok = false;
          result.report = fmt::format(
              "input {} element {}, output element {}: tape {} vs finite difference {} "
              "(|diff| {:.3g})",
              i, k, j, tape_value, numeric, err);
        }
      }
    }
  }
  if (result.ok) {
    result.report = fmt::format("ok (max abs error {:.3g})", result.max_abs_error);
  }
  return result;
}

}  // namespace tapeflow
