// Fused neural-network ops: softmax / sparse softmax / sigmoid cross-entropy with logits, bias_add.
//
// Forward passes are single fused loops (a stable log-sum-exp per row). Backward closures run a
// fused kernel too, unless some tape is recording: then an outer tape differentiates through the
// backward (nested tapes), so the closure builds the same formula from recorded ops instead.

#include <cmath>
#include <limits>

#include "tapeflow/autograd/ops.hpp"
#include "tapeflow/autograd/ops_internal.hpp"
#include "tapeflow/autograd/record.hpp"
#include "tapeflow/core/kernels.hpp"

namespace tapeflow {

using detail::Grads;
using detail::NeedsGrad;

namespace {

/// A tensor seen as (outer, n, inner) around one axis: element (o, j, i) sits at
/// o·n·inner + j·inner + i.
struct AxisLayout {
  std::size_t outer = 1, n = 1, inner = 1;
};

AxisLayout layout_around(const Shape& shape, std::size_t axis) {
  AxisLayout l;
  for (std::size_t k = 0; k < axis; ++k) l.outer *= shape[k];
  l.n = shape[axis];
  for (std::size_t k = axis + 1; k < shape.size(); ++k) l.inner *= shape[k];
  return l;
}

Shape without_axis(const Shape& shape, std::size_t axis) {
  Shape out;
  for (std::size_t k = 0; k < shape.size(); ++k) {
    if (k != axis) out.push_back(shape[k]);
  }
  return out;
}

/// max_j x_j + log Σ_j e^(x_j - max) over one strided row; -inf for an all -inf row.
template <class T>
T log_sum_exp(const T* x, std::size_t n, std::size_t stride) {
  T m = -std::numeric_limits<T>::infinity();
  for (std::size_t j = 0; j < n; ++j) m = x[j * stride] > m ? x[j * stride] : m;
  if (!std::isfinite(m)) return m;
  T s = 0;
  for (std::size_t j = 0; j < n; ++j) s += std::exp(x[j * stride] - m);
  return m + std::log(s);
}

void check_same_float(const char* op, const Tensor& labels, const Tensor& logits) {
  detail::require_floating(op, logits.dtype());
  if (labels.dtype() != logits.dtype()) {
    detail::throw_type_error(
        "{}: labels and logits must have the same dtype. Received: labels "
        "dtype={}, logits dtype={}",
        op,
        dtype_name(labels.dtype()),
        dtype_name(logits.dtype()));
  }
  if (labels.shape() != logits.shape()) {
    detail::throw_value_error(
        "{}: labels and logits must have the same shape. Received: labels "
        "shape={}, logits shape={}",
        op,
        shape_str(labels.shape()),
        shape_str(logits.shape()));
  }
}

}  // namespace

Tensor softmax_cross_entropy_with_logits(const Tensor& labels, const Tensor& logits, int axis) {
  constexpr const char* op = "softmax_cross_entropy_with_logits";
  check_same_float(op, labels, logits);
  if (logits.rank() == 0) {
    detail::throw_value_error("{}: logits must have rank >= 1. Received: a scalar", op);
  }
  const std::size_t a = static_cast<std::size_t>(detail::normalize_axis(op, axis, logits.rank()));
  const AxisLayout l = layout_around(logits.shape(), a);
  Tensor loss = Tensor::empty(logits.dtype(), without_axis(logits.shape(), a));
  detail::visit_floating(logits.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* x = logits.data<T>();
    const T* y = labels.data<T>();
    T* out = static_cast<T*>(loss.storage()->data());
    for (std::size_t o = 0; o < l.outer; ++o) {
      for (std::size_t i = 0; i < l.inner; ++i) {
        const std::size_t base = o * l.n * l.inner + i;
        const T lse = log_sum_exp(x + base, l.n, l.inner);
        T acc = 0;
        for (std::size_t j = 0; j < l.n; ++j) {
          const T yj = y[base + j * l.inner];
          if (yj != T(0)) acc += yj * (lse - x[base + j * l.inner]);
        }
        out[o * l.inner + i] = acc;
      }
    }
  });
  const int ax = static_cast<int>(a);
  return detail::record(
      op,
      loss,
      {labels, logits},
      [labels, logits, ax, l](const Tensor& g, NeedsGrad needs) -> Grads {
        Grads grads(2);
        if (detail::any_tape_recording()) {
          // An outer tape differentiates this backward: build it from recorded ops.
          const Tensor ge = expand_dims(g, ax);
          if (needs[0]) grads[0] = -log_softmax(logits, ax) * ge;
          if (needs[1]) {
            grads[1] = (softmax(logits, ax) * reduce_sum(labels, {ax}, true) - labels) * ge;
          }
          return grads;
        }
        Tensor d_labels = needs[0] ? Tensor::empty(logits.dtype(), logits.shape()) : Tensor();
        Tensor d_logits = needs[1] ? Tensor::empty(logits.dtype(), logits.shape()) : Tensor();
        detail::visit_floating(logits.dtype(), [&](auto tag) {
          using T = typename decltype(tag)::type;
          const T* x = logits.data<T>();
          const T* y = labels.data<T>();
          const T* pg = g.data<T>();
          T* dy = d_labels ? static_cast<T*>(d_labels.storage()->data()) : nullptr;
          T* dx = d_logits ? static_cast<T*>(d_logits.storage()->data()) : nullptr;
          for (std::size_t o = 0; o < l.outer; ++o) {
            for (std::size_t i = 0; i < l.inner; ++i) {
              const std::size_t base = o * l.n * l.inner + i;
              const T gi = pg[o * l.inner + i];
              const T lse = log_sum_exp(x + base, l.n, l.inner);
              T label_sum = 0;
              for (std::size_t j = 0; j < l.n; ++j) label_sum += y[base + j * l.inner];
              for (std::size_t j = 0; j < l.n; ++j) {
                const std::size_t k = base + j * l.inner;
                const T log_p = x[k] - lse;
                if (dy) dy[k] = -log_p * gi;
                // d/dx_j Σ_i y_i (lse - x_i) = softmax_j·Σy - y_j (softmax - labels when Σy = 1).
                if (dx) dx[k] = (std::exp(log_p) * label_sum - y[k]) * gi;
              }
            }
          }
        });
        grads[0] = d_labels;
        grads[1] = d_logits;
        return grads;
      });
}

Tensor sparse_softmax_cross_entropy_with_logits(const Tensor& labels, const Tensor& logits) {
  constexpr const char* op = "sparse_softmax_cross_entropy_with_logits";
  detail::require_floating(op, logits.dtype());
  if (!is_integer(labels.dtype())) {
    detail::throw_type_error(
        "{}: labels must be int32 or int64. Received: dtype={}", op, dtype_name(labels.dtype()));
  }
  if (logits.rank() == 0) {
    detail::throw_value_error("{}: logits must have rank >= 1. Received: a scalar", op);
  }
  const Shape batch_shape(logits.shape().begin(), logits.shape().end() - 1);
  if (labels.shape() != batch_shape) {
    detail::throw_value_error(
        "{}: labels must have the shape of logits without its last axis. "
        "Received: labels shape={}, logits shape={}",
        op,
        shape_str(labels.shape()),
        shape_str(logits.shape()));
  }
  const std::size_t n = logits.shape().back();
  const Tensor ids = cast(labels, DType::int64);
  const auto* id = ids.data<std::int64_t>();
  for (std::size_t r = 0, rows = ids.size(); r < rows; ++r) {
    if (id[r] < 0 || static_cast<std::size_t>(id[r]) >= n) {
      detail::throw_value_error(
          "{}: received a label value of {} at index {}, which is outside "
          "the valid range of [0, {})",
          op,
          id[r],
          r,
          n);
    }
  }
  Tensor loss = Tensor::empty(logits.dtype(), batch_shape);
  detail::visit_floating(logits.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* x = logits.data<T>();
    T* out = static_cast<T*>(loss.storage()->data());
    for (std::size_t r = 0, rows = loss.size(); r < rows; ++r) {
      const T* row = x + r * n;
      out[r] = log_sum_exp(row, n, 1) - row[id[r]];
    }
  });
  return detail::record(op, loss, {logits}, [ids, logits, n](const Tensor& g, NeedsGrad) -> Grads {
    if (detail::any_tape_recording()) {
      return {(softmax(logits, -1) - one_hot(ids, n, logits.dtype())) * expand_dims(g, -1)};
    }
    Tensor d_logits = Tensor::empty(logits.dtype(), logits.shape());
    detail::visit_floating(logits.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* x = logits.data<T>();
      const T* pg = g.data<T>();
      const auto* label = ids.data<std::int64_t>();
      T* dx = static_cast<T*>(d_logits.storage()->data());
      for (std::size_t r = 0, rows = ids.size(); r < rows; ++r) {
        const T* row = x + r * n;
        const T lse = log_sum_exp(row, n, 1);
        for (std::size_t j = 0; j < n; ++j) dx[r * n + j] = std::exp(row[j] - lse) * pg[r];
        dx[r * n + static_cast<std::size_t>(label[r])] -= pg[r];
      }
    });
    return {d_logits};
  });
}

Tensor sigmoid_cross_entropy_with_logits(const Tensor& labels, const Tensor& logits) {
  constexpr const char* op = "sigmoid_cross_entropy_with_logits";
  check_same_float(op, labels, logits);
  Tensor loss = Tensor::empty(logits.dtype(), logits.shape());
  detail::visit_floating(logits.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* x = logits.data<T>();
    const T* z = labels.data<T>();
    T* out = static_cast<T*>(loss.storage()->data());
    // max(x, 0) - x·z + log(1 + e^-|x|): never exponentiates a positive number.
    for (std::size_t k = 0, n = logits.size(); k < n; ++k) {
      out[k] = (x[k] > T(0) ? x[k] : T(0)) - x[k] * z[k] + std::log1p(std::exp(-std::abs(x[k])));
    }
  });
  return detail::record(
      op, loss, {labels, logits}, [labels, logits](const Tensor& g, NeedsGrad needs) -> Grads {
        Grads grads(2);
        if (detail::any_tape_recording()) {
          if (needs[0]) grads[0] = -logits * g;
          if (needs[1]) grads[1] = (sigmoid(logits) - labels) * g;
          return grads;
        }
        Tensor d_labels = needs[0] ? Tensor::empty(logits.dtype(), logits.shape()) : Tensor();
        Tensor d_logits = needs[1] ? Tensor::empty(logits.dtype(), logits.shape()) : Tensor();
        detail::visit_floating(logits.dtype(), [&](auto tag) {
          using T = typename decltype(tag)::type;
          const T* x = logits.data<T>();
          const T* z = labels.data<T>();
          const T* pg = g.data<T>();
          T* dz = d_labels ? static_cast<T*>(d_labels.storage()->data()) : nullptr;
          T* dx = d_logits ? static_cast<T*>(d_logits.storage()->data()) : nullptr;
          for (std::size_t k = 0, n = logits.size(); k < n; ++k) {
            if (dz) dz[k] = -x[k] * pg[k];
            if (dx) {
              const T e = std::exp(-std::abs(x[k]));
              const T s = x[k] >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
              dx[k] = (s - z[k]) * pg[k];
            }
          }
        });
        grads[0] = d_labels;
        grads[1] = d_logits;
        return grads;
      });
}

namespace {

/// bias_add's argument rules (shared with bias_add_relu).
void check_bias_add(const char* op, const Tensor& value, const Tensor& bias) {
  if (value.dtype() != bias.dtype()) detail::throw_dtype_mismatch(op, value.dtype(), bias.dtype());
  if (value.dtype() == DType::boolean) {
    detail::throw_type_error("{}: bool tensors are not supported", op);
  }
  if (value.rank() < 2) {
    detail::throw_value_error(
        "{}: value must have rank >= 2. Received: shape={}", op, shape_str(value.shape()));
  }
  if (bias.rank() != 1 || bias.shape()[0] != value.shape().back()) {
    detail::throw_value_error(
        "{}: bias must be a vector of the size of value's last dimension "
        "({}). Received: bias shape={}, value shape={}",
        op,
        value.shape().back(),
        shape_str(bias.shape()),
        shape_str(value.shape()));
  }
}

/// activation(value + bias) along the last axis in one pass, after bias_add's argument checks
/// (bias_add and bias_add_relu).
template <class Activation>
Tensor add_bias_rows(const char* op,
                     const Tensor& value,
                     const Tensor& bias,
                     Activation activation) {
  check_bias_add(op, value, bias);
  const std::size_t c = bias.size();
  Tensor out = Tensor::empty(value.dtype(), value.shape());
  detail::visit_dtype(value.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* x = static_cast<const T*>(value.raw_data());
    const T* b = static_cast<const T*>(bias.raw_data());
    T* po = static_cast<T*>(out.storage()->data());
    for (std::size_t r = 0, rows = c == 0 ? 0 : value.size() / c; r < rows; ++r) {
      for (std::size_t j = 0; j < c; ++j) {
        po[r * c + j] = static_cast<T>(activation(static_cast<T>(x[r * c + j] + b[j])));
      }
    }
  });
  return out;
}

/// The axes bias_add's bias gradient sums over: all but the last.
std::vector<int> leading_axes(std::size_t rank) {
  std::vector<int> axes(rank - 1);
  for (std::size_t k = 0; k + 1 < rank; ++k) axes[k] = static_cast<int>(k);
  return axes;
}

/// bias_add's gradient for the bias: g summed over all axes but the last (c entries). Recorded
/// (reduce_sum) when a tape is recording, so nested tapes see it; else one fused pass.
Tensor bias_gradient(const Tensor& g, std::size_t rank, std::size_t c) {
  if (detail::any_tape_recording()) return reduce_sum(g, leading_axes(rank));
  Tensor d_bias = zeros({c}, g.dtype());
  detail::visit_floating(g.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* pg = g.data<T>();
    T* db = static_cast<T*>(d_bias.storage()->data());
    for (std::size_t r = 0, rows = c == 0 ? 0 : g.size() / c; r < rows; ++r) {
      for (std::size_t j = 0; j < c; ++j) db[j] += pg[r * c + j];
    }
  });
  return d_bias;
}

}  // namespace

Tensor bias_add(const Tensor& value, const Tensor& bias) {
  constexpr const char* op = "bias_add";
  const std::size_t c = bias.size();
  Tensor out = add_bias_rows(op, value, bias, [](auto v) { return v; });
  const std::size_t rank = value.rank();
  return detail::record(
      op, out, {value, bias}, [rank, c](const Tensor& g, NeedsGrad needs) -> Grads {
        Grads grads(2);
        if (needs[0]) grads[0] = g;
        if (!needs[1]) return grads;
        grads[1] = bias_gradient(g, rank, c);
        return grads;
      });
}

Tensor bias_add_relu(const Tensor& value, const Tensor& bias) {
  constexpr const char* op = "bias_add_relu";
  const std::size_t c = bias.size();
  Tensor out = add_bias_rows(op, value, bias, [](auto v) { return v > 0 ? v : decltype(v)(0); });
  const std::size_t rank = value.rank();
  return detail::record(
      op, out, {value, bias}, [out, rank, c](const Tensor& g, NeedsGrad needs) -> Grads {
        // out > 0 exactly where value + bias > 0, so the output is the mask.
        const Tensor masked = detail::relu_grad(out, g);
        Grads grads(2);
        if (needs[0]) grads[0] = masked;
        if (needs[1]) grads[1] = bias_gradient(masked, rank, c);
        return grads;
      });
}

}  // namespace tapeflow
