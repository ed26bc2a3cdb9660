// Convolutions over NHWC tensors: conv2d (HWIO filters) lowered to GEMM on im2col columns,
// depthwise_conv2d as a direct loop, conv1d as a conv2d over a height-1 image.
//
// A convolution is bilinear, y = B(x, w), and is three recorded ops:
//   forward(x, w) = B(x, w),
//   backprop_input(w, gy)  = ∂⟨B(x, w), gy⟩/∂x,
//   backprop_filter(x, gy) = ∂⟨B(x, w), gy⟩/∂w,
// each of whose gradients is again one of the three (as TF's Conv2DBackpropInput/Filter
// gradients), so nested tapes differentiate to any order.
//
// The im2col columns go to a thread-local scratch buffer, a few images at a time, so a step
// allocates nothing beyond its outputs once the buffer has grown.

#include <algorithm>

#include "tapeflow/autograd/ops.hpp"
#include "tapeflow/autograd/ops_internal.hpp"
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

enum class Kind { dense, depthwise };
enum class Role { forward, backprop_input, backprop_filter };

/// One convolution's geometry. Filters are (kh, kw, c, filter_out); the output has out_c
/// channels: filter_out (dense) or c·filter_out (depthwise, filter_out is the multiplier).
struct Conv {
  Kind kind = Kind::dense;
  Window2D win;
  std::size_t filter_out = 0;
  std::size_t out_c = 0;

  Shape input_shape() const { return {win.n, win.h, win.w, win.c}; }
  Shape filter_shape() const { return {win.kh, win.kw, win.c, filter_out}; }
  Shape output_shape() const { return {win.n, win.oh, win.ow, out_c}; }
  /// The im2col row length: one window's taps times the input channels.
  std::size_t patch() const { return win.kh * win.kw * win.c; }
};

const char* op_name(Kind kind, Role role) {
  static const char* const names[2][3] = {
      {"conv2d", "conv2d_backprop_input", "conv2d_backprop_filter"},
      {"depthwise_conv2d", "depthwise_conv2d_backprop_input", "depthwise_conv2d_backprop_filter"}};
  return names[static_cast<int>(kind)][static_cast<int>(role)];
}

/// The im2col buffer holds this many bytes of columns at most (at least one image's worth).
constexpr std::size_t kColumnBytes = std::size_t{4} << 20;

std::size_t images_per_chunk(const Conv& s, std::size_t element_bytes) {
  const std::size_t per_image = s.win.oh * s.win.ow * s.patch() * element_bytes;
  if (per_image == 0) return std::max<std::size_t>(s.win.n, 1);
  return std::max<std::size_t>(1, kColumnBytes / per_image);
}

/// Visits the im2col row of every output pixel of images [first, last) in runs: at(offset, n)
/// for n input elements that sit contiguously from `offset` (a whole window row when the
/// window's columns are adjacent and inside the input, else one tap's channels), pad(n) for n
/// elements of padding. Runs follow the row's (ky, kx, channel) order.
template <class At, class Pad>
void for_each_patch(const Window2D& g, std::size_t first, std::size_t last, At&& at, Pad&& pad) {
  const std::size_t c = g.c, row = g.kw * c;
  const std::size_t span = (g.kw - 1) * g.dw;  // the window's width minus one
  for (std::size_t b = first; b < last; ++b) {
    for (std::size_t oy = 0; oy < g.oh; ++oy) {
      for (std::size_t ox = 0; ox < g.ow; ++ox) {
        const std::size_t left = ox * g.sw;  // in padded coordinates
        const bool columns_inside = left >= g.pad_left && left - g.pad_left + span < g.w;
        for (std::size_t ky = 0; ky < g.kh; ++ky) {
          const std::size_t iy = oy * g.sh + ky * g.dh;
          if (iy < g.pad_top || iy - g.pad_top >= g.h) {
            pad(row);
            continue;
          }
          const std::size_t line = (b * g.h + iy - g.pad_top) * g.w;
          if (columns_inside && g.dw == 1) {
            at((line + left - g.pad_left) * c, row);
            continue;
          }
          for (std::size_t kx = 0; kx < g.kw; ++kx) {
            const std::size_t ix = left + kx * g.dw;
            if (ix >= g.pad_left && ix - g.pad_left < g.w) {
              at((line + ix - g.pad_left) * c, c);
            } else {
              pad(c);
            }
          }
        }
      }
    }
  }
}

/// col[row, (ky·kw + kx)·c + ci] = x at that tap (0 in the padding), for images [first, last).
template <class T>
void im2col(const Window2D& g, const T* x, std::size_t first, std::size_t last, T* col) {
  for_each_patch(
      g, first, last,
      [&](std::size_t offset, std::size_t n) {
        const T* src = x + offset;
        for (std::size_t k = 0; k < n; ++k) col[k] = src[k];
        col += n;
      },
      [&](std::size_t n) {
        for (std::size_t k = 0; k < n; ++k) col[k] = T(0);
        col += n;
      });
}

/// The adjoint of im2col: each column entry is added to the input element it was read from.
template <class T>
void col2im_add(const Window2D& g, const T* col, std::size_t first, std::size_t last, T* dx) {
  for_each_patch(
      g, first, last,
      [&](std::size_t offset, std::size_t n) {
        T* out = dx + offset;
        for (std::size_t k = 0; k < n; ++k) out[k] += col[k];
        col += n;
      },
      [&](std::size_t n) { col += n; });
}

/// y = B(x, w) for a dense convolution: per chunk of images, columns @ filters (K × oc).
template <class T>
void dense_forward(const Conv& s, const T* x, const T* f, T* y) {
  const Window2D& g = s.win;
  const std::size_t pixels = g.oh * g.ow, k = s.patch(), oc = s.out_c;
  if (g.is_pointwise()) {
    detail::blas_gemm(false, false, g.n * pixels, oc, g.c, T(1), x, g.c, f, oc, T(0), y, oc);
    return;
  }
  const std::size_t chunk = images_per_chunk(s, sizeof(T));
  T* col = static_cast<T*>(detail::scratch(chunk * pixels * k * sizeof(T)));
  for (std::size_t b = 0; b < g.n; b += chunk) {
    const std::size_t end = std::min(g.n, b + chunk);
    im2col(g, x, b, end, col);
    detail::blas_gemm(false,
                      false,
                      (end - b) * pixels,
                      oc,
                      k,
                      T(1),
                      col,
                      k,
                      f,
                      oc,
                      T(0),
                      y + b * pixels * oc,
                      oc);
  }
}

/// dx = Bᵀ_x(w, gy): per chunk, gy @ filtersᵀ gives the columns' gradient, scattered by
/// col2im. `dx` is zero on entry.
template <class T>
void dense_backprop_input(const Conv& s, const T* f, const T* gy, T* dx) {
  const Window2D& g = s.win;
  const std::size_t pixels = g.oh * g.ow, k = s.patch(), oc = s.out_c;
  if (g.is_pointwise()) {
    detail::blas_gemm(false, true, g.n * pixels, g.c, oc, T(1), gy, oc, f, oc, T(0), dx, g.c);
    return;
  }
  const std::size_t chunk = images_per_chunk(s, sizeof(T));
  T* col = static_cast<T*>(detail::scratch(chunk * pixels * k * sizeof(T)));
  for (std::size_t b = 0; b < g.n; b += chunk) {
    const std::size_t end = std::min(g.n, b + chunk);
    detail::blas_gemm(false,
                      true,
                      (end - b) * pixels,
                      k,
                      oc,
                      T(1),
                      gy + b * pixels * oc,
                      oc,
                      f,
                      oc,
                      T(0),
                      col,
                      k);
    col2im_add(g, col, b, end, dx);
  }
}

/// dw = Σ over chunks of columnsᵀ @ gy (K × oc). `dw` is zero on entry.
template <class T>
void dense_backprop_filter(const Conv& s, const T* x, const T* gy, T* dw) {
  const Window2D& g = s.win;
  const std::size_t pixels = g.oh * g.ow, k = s.patch(), oc = s.out_c;
  if (g.is_pointwise()) {
    detail::blas_gemm(true, false, g.c, oc, g.n * pixels, T(1), x, g.c, gy, oc, T(0), dw, oc);
    return;
  }
  const std::size_t chunk = images_per_chunk(s, sizeof(T));
  T* col = static_cast<T*>(detail::scratch(chunk * pixels * k * sizeof(T)));
  for (std::size_t b = 0; b < g.n; b += chunk) {
    const std::size_t end = std::min(g.n, b + chunk);
    im2col(g, x, b, end, col);
    detail::blas_gemm(true,
                      false,
                      k,
                      oc,
                      (end - b) * pixels,
                      T(1),
                      col,
                      k,
                      gy + b * pixels * oc,
                      oc,
                      T(1),
                      dw,
                      oc);
  }
}

/// The depthwise products, one tap at a time: out[c·m + j] += x[c]·w[c·m + j] for the forward,
/// and the matching adjoints. Every output is zero on entry.
template <class T>
void depthwise(const Conv& s, Role role, const T* a, const T* b, T* out) {
  const std::size_t c = s.win.c, m = s.filter_out, oc = s.out_c;
  detail::for_each_tap(s.win, [&](std::size_t out_pixel, std::size_t in_pixel, std::size_t tap) {
    if (role == Role::forward) {  // a = x, b = w
      const T* xr = a + in_pixel * c;
      const T* wr = b + tap * oc;
      T* yr = out + out_pixel * oc;
      for (std::size_t i = 0; i < c; ++i) {
        for (std::size_t j = 0; j < m; ++j) yr[i * m + j] += xr[i] * wr[i * m + j];
      }
    } else if (role == Role::backprop_input) {  // a = w, b = gy
      const T* wr = a + tap * oc;
      const T* gr = b + out_pixel * oc;
      T* dxr = out + in_pixel * c;
      for (std::size_t i = 0; i < c; ++i) {
        T acc = 0;
        for (std::size_t j = 0; j < m; ++j) acc += gr[i * m + j] * wr[i * m + j];
        dxr[i] += acc;
      }
    } else {  // a = x, b = gy
      const T* xr = a + in_pixel * c;
      const T* gr = b + out_pixel * oc;
      T* dwr = out + tap * oc;
      for (std::size_t i = 0; i < c; ++i) {
        for (std::size_t j = 0; j < m; ++j) dwr[i * m + j] += xr[i] * gr[i * m + j];
      }
    }
  });
}

/// The op `role` of convolution `s` on its two inputs (see the file comment for which), recorded
/// with the gradients of the bilinear form.
Tensor conv_op(const Conv& s, Role role, const Tensor& a, const Tensor& b) {
  const Shape shape = role == Role::forward          ? s.output_shape()
                      : role == Role::backprop_input ? s.input_shape()
                                                     : s.filter_shape();
  // The dense forward and the pointwise backprops overwrite their output; the rest accumulate.
  const bool overwrites = s.kind == Kind::dense && (role == Role::forward || s.win.is_pointwise());
  Tensor out = overwrites ? Tensor::empty(a.dtype(), shape) : zeros(shape, a.dtype());
  detail::visit_floating(a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* po = static_cast<T*>(out.storage()->data());
    if (s.kind == Kind::depthwise) {
      depthwise(s, role, pa, pb, po);
    } else if (role == Role::forward) {
      dense_forward(s, pa, pb, po);
    } else if (role == Role::backprop_input) {
      dense_backprop_input(s, pa, pb, po);
    } else {
      dense_backprop_filter(s, pa, pb, po);
    }
  });
  return detail::record(op_name(s.kind, role),
                        out,
                        {a, b},
                        [s, role, a, b](const Tensor& g, NeedsGrad needs) -> Grads {
                          Grads grads(2);
                          if (role == Role::forward) {  // (x, w)
                            if (needs[0]) grads[0] = conv_op(s, Role::backprop_input, b, g);
                            if (needs[1]) grads[1] = conv_op(s, Role::backprop_filter, a, g);
                          } else if (role == Role::backprop_input) {  // (w, gy)
                            if (needs[0]) grads[0] = conv_op(s, Role::backprop_filter, g, b);
                            if (needs[1]) grads[1] = conv_op(s, Role::forward, g, a);
                          } else {  // (x, gy)
                            if (needs[0]) grads[0] = conv_op(s, Role::backprop_input, g, b);
                            if (needs[1]) grads[1] = conv_op(s, Role::forward, a, g);
                          }
                          return grads;
                        });
}

void check_dtypes(
    const char* op, const char* a_name, const Tensor& a, const char* b_name, const Tensor& b) {
  if (!is_floating(a.dtype()) || a.dtype() != b.dtype()) {
    detail::throw_type_error(
        "{}: {} and {} must be float32 or float64 tensors of the same dtype. Received: {} "
        "dtype={}, {} dtype={}",
        op,
        a_name,
        b_name,
        a_name,
        dtype_name(a.dtype()),
        b_name,
        dtype_name(b.dtype()));
  }
}

/// The geometry of `op` from the input and filter shapes and TF's arguments, every check done.
Conv make_conv(const char* op,
               Kind kind,
               const Shape& input_shape,
               const Shape& filter_shape,
               const std::vector<int>& strides,
               const std::string& padding,
               const std::vector<int>& dilations) {
  if (input_shape.size() != 4) {
    detail::throw_value_error(
        "{}: input must be 4-dimensional (batch, height, width, channels). Received: input "
        "shape={}",
        op,
        shape_str(input_shape));
  }
  if (filter_shape.size() != 4) {
    detail::throw_value_error(
        "{}: filter must be 4-dimensional (height, width, in_channels, {}). Received: filter "
        "shape={}",
        op,
        kind == Kind::dense ? "out_channels" : "channel_multiplier",
        shape_str(filter_shape));
  }
  if (filter_shape[2] != input_shape[3]) {
    detail::throw_value_error(
        "{}: input and filter must have the same depth: {} vs {}. Received: input shape={}, "
        "filter shape={}",
        op,
        input_shape[3],
        filter_shape[2],
        shape_str(input_shape),
        shape_str(filter_shape));
  }
  if (filter_shape[0] == 0 || filter_shape[1] == 0) {
    detail::throw_value_error(
        "{}: filter height and width must be positive. Received: filter shape={}",
        op,
        shape_str(filter_shape));
  }
  const detail::Pair s = detail::spatial_pair(op, "strides", strides);
  const detail::Pair d = detail::spatial_pair(op, "dilations", dilations);
  const bool same = detail::parse_same_padding(op, padding);
  Conv conv;
  conv.kind = kind;
  conv.win = detail::make_window(op, input_shape, filter_shape[0], filter_shape[1], s, d, same);
  conv.filter_out = filter_shape[3];
  if (kind == Kind::depthwise) {
    detail::checked_size(op, {input_shape[3], filter_shape[3]});
    conv.out_c = input_shape[3] * filter_shape[3];
  } else {
    conv.out_c = filter_shape[3];
  }
  detail::checked_size(op, conv.output_shape());
  detail::checked_size(op, {images_per_chunk(conv, 1), conv.win.oh, conv.win.ow, conv.patch(), 8});
  return conv;
}

void check_out_backprop(const char* op, const Conv& s, const Tensor& out_backprop) {
  if (out_backprop.shape() != s.output_shape()) {
    detail::throw_value_error(
        "{}: out_backprop must have the convolution's output shape {}. Received: out_backprop "
        "shape={}",
        op,
        shape_str(s.output_shape()),
        shape_str(out_backprop.shape()));
  }
}

Tensor convolve(const char* op,
                Kind kind,
                const Tensor& input,
                const Tensor& filters,
                const std::vector<int>& strides,
                const std::string& padding,
                const std::vector<int>& dilations) {
  check_dtypes(op, "input", input, "filters", filters);
  const Conv s = make_conv(op, kind, input.shape(), filters.shape(), strides, padding, dilations);
  return conv_op(s, Role::forward, input, filters);
}

Tensor backprop_input(const char* op,
                      Kind kind,
                      const Shape& input_sizes,
                      const Tensor& filters,
                      const Tensor& out_backprop,
                      const std::vector<int>& strides,
                      const std::string& padding,
                      const std::vector<int>& dilations) {
  check_dtypes(op, "filters", filters, "out_backprop", out_backprop);
  const Conv s = make_conv(op, kind, input_sizes, filters.shape(), strides, padding, dilations);
  check_out_backprop(op, s, out_backprop);
  return conv_op(s, Role::backprop_input, filters, out_backprop);
}

Tensor backprop_filter(const char* op,
                       Kind kind,
                       const Tensor& input,
                       const Shape& filter_sizes,
                       const Tensor& out_backprop,
                       const std::vector<int>& strides,
                       const std::string& padding,
                       const std::vector<int>& dilations) {
  check_dtypes(op, "input", input, "out_backprop", out_backprop);
  const Conv s = make_conv(op, kind, input.shape(), filter_sizes, strides, padding, dilations);
  check_out_backprop(op, s, out_backprop);
  return conv_op(s, Role::backprop_filter, input, out_backprop);
}

/// conv1d's stride or dilations (1 or 3 entries, NWC) as conv2d's (1, value).
std::vector<int> widthwise(const char* name, const std::vector<int>& value) {
  if (value.size() != 1 && value.size() != 3) {
    detail::throw_value_error("conv1d: {} should be of length 1 or 3. Received: {}={} of length {}",
                              name,
                              name,
                              value,
                              value.size());
  }
  if (value.size() == 3 && (value[0] != 1 || value[2] != 1)) {
    detail::throw_value_error(
        "conv1d: current implementation does not yet support {} in the batch and depth "
        "dimensions. Received: {}={}",
        name,
        name,
        value);
  }
  return {1, value.size() == 3 ? value[1] : value[0]};
}

}  // namespace

Tensor conv2d(const Tensor& input,
              const Tensor& filters,
              const std::vector<int>& strides,
              const std::string& padding,
              const std::vector<int>& dilations) {
  return convolve("conv2d", Kind::dense, input, filters, strides, padding, dilations);
}

Tensor conv2d_backprop_input(const Shape& input_sizes,
                             const Tensor& filters,
                             const Tensor& out_backprop,
                             const std::vector<int>& strides,
                             const std::string& padding,
                             const std::vector<int>& dilations) {
  return backprop_input("conv2d_backprop_input",
                        Kind::dense,
                        input_sizes,
                        filters,
                        out_backprop,
                        strides,
                        padding,
                        dilations);
}

Tensor conv2d_backprop_filter(const Tensor& input,
                              const Shape& filter_sizes,
                              const Tensor& out_backprop,
                              const std::vector<int>& strides,
                              const std::string& padding,
                              const std::vector<int>& dilations) {
  return backprop_filter("conv2d_backprop_filter",
                         Kind::dense,
                         input,
                         filter_sizes,
                         out_backprop,
                         strides,
                         padding,
                         dilations);
}

Tensor depthwise_conv2d(const Tensor& input,
                        const Tensor& filter,
                        const std::vector<int>& strides,
                        const std::string& padding,
                        const std::vector<int>& dilations) {
  return convolve("depthwise_conv2d", Kind::depthwise, input, filter, strides, padding, dilations);
}

Tensor depthwise_conv2d_backprop_input(const Shape& input_sizes,
                                       const Tensor& filter,
                                       const Tensor& out_backprop,
                                       const std::vector<int>& strides,
                                       const std::string& padding,
                                       const std::vector<int>& dilations) {
  return backprop_input("depthwise_conv2d_backprop_input",
                        Kind::depthwise,
                        input_sizes,
                        filter,
                        out_backprop,
                        strides,
                        padding,
                        dilations);
}

Tensor depthwise_conv2d_backprop_filter(const Tensor& input,
                                        const Shape& filter_sizes,
                                        const Tensor& out_backprop,
                                        const std::vector<int>& strides,
                                        const std::string& padding,
                                        const std::vector<int>& dilations) {
  return backprop_filter("depthwise_conv2d_backprop_filter",
                         Kind::depthwise,
                         input,
                         filter_sizes,
                         out_backprop,
                         strides,
                         padding,
                         dilations);
}

Tensor conv1d(const Tensor& input,
              const Tensor& filters,
              const std::vector<int>& stride,
              const std::string& padding,
              const std::vector<int>& dilations) {
  constexpr const char* op = "conv1d";
  check_dtypes(op, "input", input, "filters", filters);
  if (input.rank() != 3) {
    detail::throw_value_error(
        "{}: input must be 3-dimensional (batch, width, channels). Received: input shape={}",
        op,
        shape_str(input.shape()));
  }
  if (filters.rank() != 3) {
    detail::throw_value_error(
        "{}: filters must be 3-dimensional (width, in_channels, out_channels). Received: filters "
        "shape={}",
        op,
        shape_str(filters.shape()));
  }
  const std::vector<int> strides2 = widthwise("stride", stride);
  const std::vector<int> dilations2 = widthwise("dilations", dilations);
  // Checked on the 2-D shapes before any op runs, so a bad call records nothing.
  const Shape& is = input.shape();
  const Shape& fs = filters.shape();
  make_conv(op,
            Kind::dense,
            {is[0], 1, is[1], is[2]},
            {1, fs[0], fs[1], fs[2]},
            strides2,
            padding,
            dilations2);
  return squeeze(
      conv2d(expand_dims(input, 1), expand_dims(filters, 0), strides2, padding, dilations2), {1});
}

}  // namespace tapeflow
