#pragma once
// Internal (not installed): the window arguments of the convolution and pooling layers, checked
// with Keras's conv_utils wording, and their output sizes.

#include <cstdint>
#include <string>
#include <vector>

#include "tapeflow/core/check.hpp"
#include "tapeflow/core/json.hpp"
#include "tapeflow/core/tensor.hpp"
#include "tapeflow/nn/conv.hpp"

namespace tapeflow::nn::internal {

/// Keras's normalize_padding: "valid" or "same" in any case, returned lower-case.
inline std::string normalize_padding(const std::string& padding) {
  std::string lower = padding;
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (lower != "valid" && lower != "same") {
    tapeflow::detail::throw_value_error(
        "The `padding` argument must be a list/tuple or one of \"valid\", \"same\". Received: {}",
        padding);
  }
  return lower;
}

/// TF's padding attribute for a Keras padding ("same" -> "SAME").
inline std::string tf_padding(const std::string& padding) {
  return padding == "same" ? "SAME" : "VALID";
}

/// Keras's conv_output_length along one axis: (in - eff + stride) / stride for "valid", ceil(in /
/// stride) for "same", eff = (k - 1)·dilation + 1. Negative when the window does not fit.
inline std::int64_t conv_output_length(
    std::size_t in, int k, const std::string& padding, int stride, int dilation) {
  const std::int64_t n = static_cast<std::int64_t>(in);
  if (padding == "same") return (n + stride - 1) / stride;
  const std::int64_t eff = static_cast<std::int64_t>(k - 1) * dilation + 1;
  const std::int64_t size = n - eff + stride;
  return size < 0 ? -1 : size / stride;
}

/// The input shape with each spatial axis (1..rank) replaced by its output length and the last
/// by `channels`; ValueError (Keras's wording) when one would be <= 0.
inline Shape windowed_output_shape(const char* op,
                                   const Shape& input_shape,
                                   std::size_t rank,
                                   const std::vector<int>& window,
                                   const std::vector<int>& strides,
                                   const std::vector<int>& dilations,
                                   const std::string& padding,
                                   std::size_t channels) {
  Shape out = input_shape;
  for (std::size_t i = 0; i < rank; ++i) {
    const std::int64_t length =
        conv_output_length(input_shape[i + 1], window[i], padding, strides[i], dilations[i]);
    if (length <= 0) {
      tapeflow::detail::throw_value_error(
          "One of the dimensions in the output is <= 0 due to downsampling in {}. Consider "
          "increasing the input size. Received input shape {} which would produce output shape "
          "with a zero or negative value in a dimension.",
          op,
          shape_str(input_shape));
    }
    out[i + 1] = static_cast<std::size_t>(length);
  }
  out.back() = channels;
  return out;
}

/// Keras's "Input 0 of layer ... expected ndim=N" check.
inline void check_input_ndim(const std::string& layer, const Shape& input_shape, std::size_t ndim) {
  if (input_shape.size() != ndim) {
    tapeflow::detail::throw_value_error(
        "Input 0 of layer \"{}\" is incompatible with the layer: expected ndim={}, found ndim={}. "
        "Full shape received: {}",
        layer,
        ndim,
        input_shape.size(),
        shape_str(input_shape));
  }
}

/// ValueError unless a config's data_format is absent, null or "channels_last".
inline void check_channels_last(const char* cls, const Config& config) {
  if (!config.contains("data_format") || config["data_format"].is_null()) return;
  if (config["data_format"] != "channels_last") {
    tapeflow::detail::throw_value_error(
        "{}.from_config: only data_format=\"channels_last\" is supported. Received: {}",
        cls,
        config["data_format"].dump());
  }
}

/// A window tuple read from a config: an int or a list of ints.
inline IntTuple config_tuple(const char* cls,
                             const Config& config,
                             const char* key,
                             IntTuple fallback) {
  if (!config.contains(key) || config[key].is_null()) return fallback;
  const Config& value = config[key];
  if (value.is_number_integer()) return IntTuple(value.get<int>());
  if (value.is_array()) {
    std::vector<int> out;
    for (const Config& v : value) {
      if (!v.is_number_integer()) break;
      out.push_back(v.get<int>());
    }
    if (out.size() == value.size()) return IntTuple(out);
  }
  tapeflow::detail::throw_type_error(
      "{}.from_config: '{}' must be an int or a list of ints. "
      "Received: {}",
      cls,
      key,
      value.dump());
}

}  // namespace tapeflow::nn::internal
