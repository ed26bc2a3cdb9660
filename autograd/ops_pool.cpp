// 2-D pooling over NHWC tensors: max_pool2d and avg_pool2d, direct loops over each window.
//
// Both are linear in their gradient path, so each is a pair of recorded ops that are each
// other's gradient:
//   avg_pool2d(x)  -> avg_pool_grad(g): g / count spread over each window's inputs, whose
//                     gradient is avg_pool2d again;
//   max_pool2d(x)  -> max_pool_grad(x, g): g routed to each window's (first) maximum, whose
//                     gradient is max_pool_grad_grad(x, gg): gg read back at those maxima.
// The maxima are found again from x in each backward (as TF's MaxPoolGrad), so the forward
// allocates nothing but its output.

#include <limits>

#include "tapeflow/autograd/ops.hpp"
#include "tapeflow/autograd/record.hpp"
#include "tapeflow/autograd/window.hpp"
#include "tapeflow/core/check.hpp"
#include "tapeflow/core/dispatch.hpp"
#include "tapeflow/core/kernels.hpp"

namespace tapeflow {

using detail::Grads;
using detail::NeedsGrad;
using detail::Window2D;

namespace {

enum class Role { forward, grad, grad_grad };

struct Pool {
  bool max = true;
  Window2D win;
  Shape input_shape() const { return {win.n, win.h, win.w, win.c}; }
  Shape output_shape() const { return {win.n, win.oh, win.ow, win.c}; }
};

/// Calls visit(out_pixel, in_pixels, count) for every output pixel with the flat indices of the
/// input pixels its window covers (padding left out; a pool window always covers one).
template <class Visit>
void for_each_window(const Window2D& g, Visit&& visit) {
  auto* pixels = static_cast<std::size_t*>(detail::scratch(g.kh * g.kw * sizeof(std::size_t)));
  std::size_t count = 0, current = 0;
  bool open = false;
  detail::for_each_tap(g, [&](std::size_t out_pixel, std::size_t in_pixel, std::size_t) {
    if (open && out_pixel != current) {
      visit(current, static_cast<const std::size_t*>(pixels), count);
      count = 0;
    }
    current = out_pixel;
    open = true;
    pixels[count++] = in_pixel;
  });
  if (open) visit(current, static_cast<const std::size_t*>(pixels), count);
}

/// The input pixel holding the first maximum of channel k over a window.
template <class T>
std::size_t argmax_pixel(
    const T* x, std::size_t c, std::size_t k, const std::size_t* pixels, std::size_t count) {
  std::size_t best = pixels[0];
  for (std::size_t t = 1; t < count; ++t) {
    if (x[pixels[t] * c + k] > x[best * c + k]) best = pixels[t];
  }
  return best;
}

/// The values of `role`: the pool itself (t = x), its gradient (t = g, input-shaped result) or
/// the gradient's gradient (t = gg, output-shaped result). `x` is the pooled input (max only).
template <class T>
void pool_kernel(const Pool& p, Role role, const T* x, const T* t, T* out) {
  const std::size_t c = p.win.c;
  for_each_window(p.win, [&](std::size_t o, const std::size_t* pixels, std::size_t count) {
    for (std::size_t k = 0; k < c; ++k) {
      if (p.max) {
        const std::size_t best = argmax_pixel(x, c, k, pixels, count);
        if (role == Role::forward) out[o * c + k] = x[best * c + k];
        if (role == Role::grad) out[best * c + k] += t[o * c + k];
        if (role == Role::grad_grad) out[o * c + k] = t[best * c + k];
      } else if (role == Role::grad) {
        const T share = t[o * c + k] / static_cast<T>(count);
        for (std::size_t i = 0; i < count; ++i) out[pixels[i] * c + k] += share;
      } else {
        T sum = 0;
        for (std::size_t i = 0; i < count; ++i) sum += t[pixels[i] * c + k];
        out[o * c + k] = sum / static_cast<T>(count);
      }
    }
  });
}

const char* op_name(const Pool& p, Role role) {
  if (role == Role::forward) return p.max ? "max_pool2d" : "avg_pool2d";
  if (role == Role::grad) return p.max ? "max_pool_grad" : "avg_pool_grad";
  return p.max ? "max_pool_grad_grad" : "avg_pool2d";
}

/// Runs `role` on t (x for the forward, a gradient otherwise) and records it; for the average
/// pool, grad_grad is the forward itself.
Tensor pool_op(const Pool& p, Role role, const Tensor& x, const Tensor& t) {
  const Shape shape = role == Role::grad ? p.input_shape() : p.output_shape();
  Tensor out = role == Role::grad ? zeros(shape, t.dtype()) : Tensor::empty(t.dtype(), shape);
  detail::visit_floating(t.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = p.max ? x.data<T>() : nullptr;
    pool_kernel(p, role, px, t.data<T>(), static_cast<T*>(out.storage()->data()));
  });
  return detail::record(
      op_name(p, role), out, {t}, [p, role, x](const Tensor& g, NeedsGrad) -> Grads {
        const Role next = role == Role::grad ? Role::grad_grad : Role::grad;
        return {pool_op(p, next, x, g)};
      });
}

Tensor pool(const char* op,
            bool max,
            const Tensor& input,
            const std::vector<int>& ksize,
            const std::vector<int>& strides,
            const std::string& padding) {
  detail::require_floating(op, input.dtype());
  if (input.rank() != 4) {
    detail::throw_value_error(
        "{}: input must be 4-dimensional (batch, height, width, channels). Received: input "
        "shape={}",
        op,
        shape_str(input.shape()));
  }
  const detail::Pair k = detail::spatial_pair(op, "ksize", ksize);
  const detail::Pair s = detail::spatial_pair(op, "strides", strides);
  const bool same = detail::parse_same_padding(op, padding);
  Pool p;
  p.max = max;
  p.win = detail::make_window(op, input.shape(), k.h, k.w, s, {1, 1}, same);
  detail::checked_size(op, {k.h, k.w, sizeof(std::size_t)});
  // The average pool needs no copy of x in its backward.
  return pool_op(p, Role::forward, max ? input : Tensor(), input);
}

}  // namespace

Tensor max_pool2d(const Tensor& input,
                  const std::vector<int>& ksize,
                  const std::vector<int>& strides,
                  const std::string& padding) {
  return pool("max_pool2d", true, input, ksize, strides, padding);
}

Tensor avg_pool2d(const Tensor& input,
                  const std::vector<int>& ksize,
                  const std::vector<int>& strides,
                  const std::string& padding) {
  return pool("avg_pool2d", false, input, ksize, strides, padding);
}

}  // namespace tapeflow
