#pragma once
// Internal (not installed): ops that other ops' backward closures share.

#include "tapeflow/core/tensor.hpp"

namespace tapeflow::detail {

/// relu's backward in one pass: g where features > 0, else 0 (a select, no temporaries).
/// Recorded, so nested tapes can differentiate it: linear in g (the same mask), constant in
/// features. `features` may be relu's input or its output: both are > 0 at the same elements.
Tensor relu_grad(const Tensor& features, const Tensor& g);

}  // namespace tapeflow::detail
