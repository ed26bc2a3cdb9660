#pragma once
// Internal (not installed): the geometry of a 2-D sliding window over an NHWC tensor, shared by
// the convolutions (ops_conv.cpp) and the pools (ops_pool.cpp), with TensorFlow's argument rules.

#include <cstddef>
#include <string>
#include <vector>

#include "tapeflow/core/tensor.hpp"

namespace tapeflow::detail {

/// A window of kh×kw taps, spaced by the dilations, slid by the strides over (h, w) of an NHWC
/// input padded by pad_top/pad_left (SAME) or not at all (VALID). Output (n, oh, ow, ·).
struct Window2D {
  std::size_t n = 0, h = 0, w = 0, c = 0;
  std::size_t kh = 1, kw = 1;
  std::size_t sh = 1, sw = 1, dh = 1, dw = 1;
  std::size_t pad_top = 0, pad_left = 0;
  std::size_t oh = 0, ow = 0;
  /// True when every output pixel reads exactly its own input pixel (a 1×1 window, stride 1).
  bool is_pointwise() const { return kh == 1 && kw == 1 && sh == 1 && sw == 1; }
};

/// (height, width) entries of a strides / dilations / ksize argument, as TF's _get_sequence: one
/// entry for both, two, or four (NHWC: the batch and channel entries must be 1). Every entry
/// must be positive. ValueError naming `op` and `name` otherwise.
struct Pair {
  std::size_t h = 1, w = 1;
};
Pair spatial_pair(const char* op, const char* name, const std::vector<int>& value);

/// "SAME" or "VALID" (TF's attr check: anything else is a ValueError that lists both).
bool parse_same_padding(const char* op, const std::string& padding);

/// The window over `input_shape` (rank 4, NHWC) with TF's output sizes:
///   VALID: out = (in - eff + stride) / stride, eff = (k - 1)·dilation + 1 (ValueError if < 0);
///   SAME:  out = ceil(in / stride), padding max((out - 1)·stride + eff - in, 0), half before.
Window2D make_window(const char* op,
                     const Shape& input_shape,
                     std::size_t kh,
                     std::size_t kw,
                     Pair strides,
                     Pair dilations,
                     bool same);

/// Calls visit(out_pixel, in_pixel, tap) for every tap of every output pixel that falls inside
/// the input (padding is skipped), output pixels in row-major order, taps in (ky, kx) order.
/// Pixels are flat indices over (n, y, x); tap = ky·kw + kx.
template <class Visit>
void for_each_tap(const Window2D& g, Visit&& visit) {
  for (std::size_t b = 0; b < g.n; ++b) {
    for (std::size_t oy = 0; oy < g.oh; ++oy) {
      for (std::size_t ox = 0; ox < g.ow; ++ox) {
        const std::size_t out_pixel = (b * g.oh + oy) * g.ow + ox;
        for (std::size_t ky = 0; ky < g.kh; ++ky) {
          const std::size_t iy = oy * g.sh + ky * g.dh;  // in padded coordinates
          if (iy < g.pad_top || iy - g.pad_top >= g.h) continue;
          for (std::size_t kx = 0; kx < g.kw; ++kx) {
            const std::size_t ix = ox * g.sw + kx * g.dw;
            if (ix < g.pad_left || ix - g.pad_left >= g.w) continue;
            visit(out_pixel, (b * g.h + iy - g.pad_top) * g.w + ix - g.pad_left, ky * g.kw + kx);
          }
        }
      }
    }
  }
}

/// The element count of `shape`; ValueError naming `op` when it does not fit in size_t.
std::size_t checked_size(const char* op, const Shape& shape);

/// A thread-local buffer of at least `bytes` bytes, reused across calls on the same thread (the
/// convolutions' im2col columns, the pools' tap lists): no allocation once it has grown. Valid
/// until the next call on this thread.
void* scratch(std::size_t bytes);

}  // namespace tapeflow::detail
