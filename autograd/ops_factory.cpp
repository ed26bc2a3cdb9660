// Factories: new tensors from shapes and values. Only fill(shape, Tensor value) is recorded
// (through reshape and broadcast_to), as TensorFlow differentiates tf.fill in its value.

#include <cmath>

#include "tapeflow/autograd/ops.hpp"
#include "tapeflow/core/kernels.hpp"

namespace tapeflow {

namespace {

Tensor filled(const Shape& shape, double value, DType dtype) {
  Tensor out = Tensor::empty(dtype, shape);
  detail::visit_dtype(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = static_cast<T*>(out.storage()->data());
    const T v = static_cast<T>(value);
    for (std::size_t i = 0, n = out.size(); i < n; ++i) p[i] = v;
  });
  return out;
}

}  // namespace

Tensor scalar_like(const Tensor& like, double value) { return filled({}, value, like.dtype()); }

Tensor zeros(const Shape& shape, DType dtype) { return filled(shape, 0.0, dtype); }
Tensor ones(const Shape& shape, DType dtype) { return filled(shape, 1.0, dtype); }
Tensor fill(const Shape& shape, double value, DType dtype) { return filled(shape, value, dtype); }

Tensor fill(const Shape& shape, const Tensor& value) {
  if (value.size() != 1) {
    detail::throw_value_error("fill: value must be a scalar. Received: shape={}",
                              shape_str(value.shape()));
  }
  // Differentiable in value (d/dvalue = Σ g), as TensorFlow's FillGrad.
  return broadcast_to(reshape(value, {}), shape);
}

Tensor zeros_like(const Tensor& x) { return filled(x.shape(), 0.0, x.dtype()); }
Tensor ones_like(const Tensor& x) { return filled(x.shape(), 1.0, x.dtype()); }

Tensor range(double start, double limit, double delta, DType dtype) {
  if (delta == 0) detail::throw_value_error("range: delta must not be 0");
  const double count = std::ceil((limit - start) / delta);
  const std::size_t n = count > 0 ? static_cast<std::size_t>(count) : 0;
  Tensor out = Tensor::empty(dtype, {n});
  detail::visit_dtype(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = static_cast<T*>(out.storage()->data());
    for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<T>(start + static_cast<double>(i) * delta);
  });
  return out;
}

}  // namespace tapeflow
