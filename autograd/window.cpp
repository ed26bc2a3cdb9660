#include "tapeflow/autograd/window.hpp"

#include <cstdint>
#include <memory>

#include "tapeflow/core/check.hpp"

namespace tapeflow::detail {

Pair spatial_pair(const char* op, const char* name, const std::vector<int>& value) {
  const std::size_t length = value.size();
  if (length != 1 && length != 2 && length != 4) {
    throw_value_error("{}: {} should be of length 1, 2 or 4. Received: {}={} of length {}",
                      op,
                      name,
                      name,
                      value,
                      length);
  }
  if (length == 4 && (value[0] != 1 || value[3] != 1)) {
    throw_value_error(
        "{}: current implementation does not yet support {} in the batch and depth dimensions. "
        "Received: {}={}",
        op,
        name,
        name,
        value);
  }
  for (int v : value) {
    if (v <= 0) {
      throw_value_error("{}: {} should be larger than 0. Received: {}={}", op, name, name, value);
    }
  }
  const std::size_t first = length == 4 ? 1 : 0;
  return {static_cast<std::size_t>(value[first]),
          static_cast<std::size_t>(value[length == 1 ? 0 : first + 1])};
}

bool parse_same_padding(const char* op, const std::string& padding) {
  if (padding == "SAME") return true;
  if (padding == "VALID") return false;
  throw_value_error(
      "{}: Value for attr 'padding' of \"{}\" is not in the list of allowed values: \"SAME\", "
      "\"VALID\"",
      op,
      padding);
}

namespace {

/// Output size and padding before, along one axis (TF's GetWindowedOutputSizeVerbose).
void windowed_size(const char* op,
                   std::size_t in,
                   std::size_t k,
                   std::size_t stride,
                   std::size_t dilation,
                   bool same,
                   std::size_t& out,
                   std::size_t& pad_before) {
  // The effective extent cannot overflow: k and dilation come from shapes and ints.
  const std::int64_t eff = static_cast<std::int64_t>((k - 1) * dilation + 1);
  const std::int64_t s = static_cast<std::int64_t>(stride);
  const std::int64_t n = static_cast<std::int64_t>(in);
  if (same) {
    out = static_cast<std::size_t>((n + s - 1) / s);
    const std::int64_t needed = (static_cast<std::int64_t>(out) - 1) * s + eff - n;
    pad_before = needed > 0 ? static_cast<std::size_t>(needed / 2) : 0;
    return;
  }
  const std::int64_t size = (n - eff + s) / s;
  if (n - eff + s < 0) {
    throw_value_error(
        "{}: Computed output size would be negative: {} [input_size: {}, effective_filter_size: "
        "{}, stride: {}]",
        op,
        size,
        in,
        eff,
        stride);
  }
  out = static_cast<std::size_t>(size);
  pad_before = 0;
}

}  // namespace

Window2D make_window(const char* op,
                     const Shape& input_shape,
                     std::size_t kh,
                     std::size_t kw,
                     Pair strides,
                     Pair dilations,
                     bool same) {
  Window2D g;
  g.n = input_shape[0];
  g.h = input_shape[1];
  g.w = input_shape[2];
  g.c = input_shape[3];
  g.kh = kh;
  g.kw = kw;
  g.sh = strides.h;
  g.sw = strides.w;
  g.dh = dilations.h;
  g.dw = dilations.w;
  windowed_size(op, g.h, kh, g.sh, g.dh, same, g.oh, g.pad_top);
  windowed_size(op, g.w, kw, g.sw, g.dw, same, g.ow, g.pad_left);
  return g;
}

std::size_t checked_size(const char* op, const Shape& shape) {
  std::size_t n = 1;
  for (std::size_t d : shape) {
    if (d != 0 && n > SIZE_MAX / d) {
      throw_value_error(
          "{}: the result would have more elements than fit in memory. Received: "
          "shape={}",
          op,
          shape_str(shape));
    }
    n *= d;
  }
  return n;
}

void* scratch(std::size_t bytes) {
  // 64-byte blocks: aligned for any vector width, and grown geometrically.
  struct alignas(64) Block {
    unsigned char bytes[64];
  };
  thread_local std::unique_ptr<Block[]> buffer;
  thread_local std::size_t capacity = 0;
  const std::size_t blocks = (bytes + 63) / 64;
  if (blocks > capacity) {
    const std::size_t grown = blocks > 2 * capacity ? blocks : 2 * capacity;
    buffer.reset();
    buffer.reset(new Block[grown]);
    capacity = grown;
  }
  return buffer.get();
}

}  // namespace tapeflow::detail
