#pragma once
// The differentiable ops, as free functions in `tapeflow` (TensorFlow's names and semantics).
//
// Dtypes never mix: float32 with float64 is a TypeError, as in TensorFlow. A plain C++ number
// takes the dtype of the tensor it meets (`x * 0.5` keeps x's dtype); a number an integer tensor
// cannot hold unchanged (`int_tensor * 0.5`) is a TypeError rather than a truncation. Binary ops broadcast as
// NumPy does; incompatible shapes are a ValueError that names the op and both shapes.
// A Variable converts to a Tensor (a recorded read), so gradients reach it.
// Integer tensors compute but carry no gradient.

#include <cstdint>
#include <string>
#include <vector>

#include "tapeflow/autograd/indexed_slices.hpp"
#include "tapeflow/core/tensor.hpp"

namespace tapeflow {

// ---- arithmetic (ops_arithmetic.cpp) ----------------------------------------------------------

/// a + b
Tensor add(const Tensor& a, const Tensor& b);
/// a - b
Tensor subtract(const Tensor& a, const Tensor& b);
/// a * b
Tensor multiply(const Tensor& a, const Tensor& b);
/// a / b (integers divide as float64, as TensorFlow's truediv)
Tensor divide(const Tensor& a, const Tensor& b);
/// -x
Tensor negative(const Tensor& x);

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& x);
// A C++ number on either side takes the tensor's dtype.
Tensor operator+(const Tensor& a, double b);
Tensor operator+(double a, const Tensor& b);
Tensor operator-(const Tensor& a, double b);
Tensor operator-(double a, const Tensor& b);
Tensor operator*(const Tensor& a, double b);
Tensor operator*(double a, const Tensor& b);
Tensor operator/(const Tensor& a, double b);
Tensor operator/(double a, const Tensor& b);

/// A rank-0 tensor holding `value` in `like`'s dtype (how C++ numbers enter ops).
Tensor scalar_like(const Tensor& like, double value);

// ---- elementwise math (ops_elementwise.cpp) ----------------------------------------------------

/// e^x;  d/dx = e^x
Tensor exp(const Tensor& x);
/// ln x;  d/dx = 1/x
Tensor log(const Tensor& x);
/// √x;  d/dx = 1/(2√x)
Tensor sqrt(const Tensor& x);
/// x²;  d/dx = 2x
Tensor square(const Tensor& x);
/// x^y (broadcasting);  d/dx = y·x^(y-1), d/dy = x^y·ln x (taken as 0 where x = 0)
Tensor pow(const Tensor& x, const Tensor& y);
Tensor pow(const Tensor& x, double y);
/// |x|;  d/dx = sign(x) (0 at 0)
Tensor abs(const Tensor& x);
/// sign(x) ∈ {-1, 0, 1}; gradient 0
Tensor sign(const Tensor& x);
/// tanh x;  d/dx = 1 - tanh²x
Tensor tanh(const Tensor& x);
/// σ(x) = 1/(1+e^-x);  d/dx = σ(1-σ)
Tensor sigmoid(const Tensor& x);
/// max(x, 0);  d/dx = 1 where x > 0, else 0
Tensor relu(const Tensor& x);
/// softmax(x)_i = e^(x_i - max) / Σ_j e^(x_j - max) along `axis`
Tensor softmax(const Tensor& x, int axis = -1);
/// log_softmax(x)_i = x_i - max - log Σ_j e^(x_j - max) along `axis`
Tensor log_softmax(const Tensor& x, int axis = -1);

// ---- selection (ops_elementwise.cpp) -----------------------------------------------------------

/// max(a, b) elementwise (broadcasting); the gradient goes to a where a >= b, else to b
Tensor maximum(const Tensor& a, const Tensor& b);
/// min(a, b) elementwise (broadcasting); the gradient goes to a where a <= b, else to b
Tensor minimum(const Tensor& a, const Tensor& b);
/// condition ? x : y elementwise (bool condition, broadcasting); gradient routed by condition
Tensor where(const Tensor& condition, const Tensor& x, const Tensor& y);
/// min(max(x, lo), hi); gradient 1 inside [lo, hi], 0 outside, as tf.clip_by_value
Tensor clip_by_value(const Tensor& x, const Tensor& clip_value_min, const Tensor& clip_value_max);
Tensor clip_by_value(const Tensor& x, double clip_value_min, double clip_value_max);

/// Comparisons give bool tensors (broadcasting); no gradient.
Tensor equal(const Tensor& a, const Tensor& b);
Tensor not_equal(const Tensor& a, const Tensor& b);
Tensor less(const Tensor& a, const Tensor& b);
Tensor less_equal(const Tensor& a, const Tensor& b);
Tensor greater(const Tensor& a, const Tensor& b);
Tensor greater_equal(const Tensor& a, const Tensor& b);
Tensor operator<(const Tensor& a, const Tensor& b);
Tensor operator<=(const Tensor& a, const Tensor& b);
Tensor operator>(const Tensor& a, const Tensor& b);
Tensor operator>=(const Tensor& a, const Tensor& b);

// ---- reductions (ops_reduce.cpp) ---------------------------------------------------------------
// `axis` lists the axes to reduce (negative counts from the end); empty means all axes.

/// Σ x over axis;  the gradient broadcasts back
Tensor reduce_sum(const Tensor& x, std::vector<int> axis = {}, bool keepdims = false);
/// mean of x over axis = reduce_sum / count
Tensor reduce_mean(const Tensor& x, std::vector<int> axis = {}, bool keepdims = false);
/// max of x over axis;  the gradient is split evenly among tied maxima, as TensorFlow
Tensor reduce_max(const Tensor& x, std::vector<int> axis = {}, bool keepdims = false);
/// Index of the largest value along `axis` (int64); no gradient
Tensor argmax(const Tensor& x, int axis = -1);

// ---- linear algebra (ops_linalg.cpp) -----------------------------------------------------------

/// a @ b over the last two axes, batched (with broadcasting) over leading ones; BLAS gemm.
/// transpose_a / transpose_b transpose the last two axes first, passed to BLAS as flags.
///   d/da = g @ bᵀ,  d/db = aᵀ @ g
Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_a = false, bool transpose_b = false);

// ---- shape (ops_shape.cpp) ---------------------------------------------------------------------

/// The same values in a new shape; one entry may be -1 (inferred). ValueError on a size change.
Tensor reshape(const Tensor& x, const std::vector<std::int64_t>& shape);
/// Permutes axes; the default perm reverses them.  d/dx = transpose(g, inverse perm)
Tensor transpose(const Tensor& x, std::vector<int> perm = {});
/// Joins tensors along `axis`.  d/dx_i = the matching slice of g
Tensor concat(const std::vector<Tensor>& values, int axis);
/// x repeated along broadcast axes to `shape` (NumPy rules);  d/dx = sum_to(g, x.shape)
Tensor broadcast_to(const Tensor& x, const Shape& shape);
/// Elements [begin, begin + size) along `axis`;  d/dx = g placed back between zeros
Tensor slice_axis(const Tensor& x, int axis, std::size_t begin, std::size_t size);
/// Inserts a size-1 axis at `axis`.
Tensor expand_dims(const Tensor& x, int axis);
/// Removes size-1 axes (all of them, or those listed).
Tensor squeeze(const Tensor& x, std::vector<int> axis = {});

// ---- indexing (ops_index.cpp) ------------------------------------------------------------------

/// out[i..., rest] = params[indices[i...], rest] along axis 0. ValueError for an index outside
/// [0, params.shape[0]). The gradient with respect to params is an IndexedSlices.
Tensor gather(const Tensor& params, const Tensor& indices);
/// out[indices[i]] += data[i]: rows of `data` summed into `num_segments` rows.
///   d/ddata = gather(g, indices)
Tensor unsorted_segment_sum(const Tensor& data, const Tensor& indices, std::size_t num_segments);
/// One-hot rows: out[..., indices[...]] = on_value (float32 unless dtype says otherwise).
Tensor one_hot(const Tensor& indices, std::size_t depth, DType dtype = DType::float32);

// ---- dtype and gradient control (ops_elementwise.cpp) ------------------------------------------

/// Converts to `dtype` (as numpy astype);  d/dx = cast(g, x.dtype) between floating dtypes
Tensor cast(const Tensor& x, DType dtype);
/// x, with no gradient flowing through it
Tensor stop_gradient(const Tensor& x);
/// A copy of x that the tape sees as an op of its own (gradient 1)
Tensor identity(const Tensor& x);

// ---- factories (ops_factory.cpp); constants, except fill(shape, Tensor) -----------------------

Tensor zeros(const Shape& shape, DType dtype = DType::float32);
Tensor ones(const Shape& shape, DType dtype = DType::float32);
/// A tensor of `shape` filled with `value`, in `dtype`.
Tensor fill(const Shape& shape, double value, DType dtype = DType::float32);
/// A tensor of `shape` filled with the single value of `value`, in its dtype (tf.fill);
///   d/dvalue = Σ g.
Tensor fill(const Shape& shape, const Tensor& value);
Tensor zeros_like(const Tensor& x);
Tensor ones_like(const Tensor& x);
/// [start, start + delta, ...) below limit, as tf.range (float32 unless dtype says otherwise).
Tensor range(double start, double limit, double delta = 1, DType dtype = DType::float32);

// ---- broadcasting helpers (core/broadcast.cpp) -------------------------------------------------

/// The NumPy broadcast of two shapes; ValueError naming `op` and both shapes when incompatible.
Shape broadcast_shape(const Shape& a, const Shape& b, const char* op = "broadcast");
/// Sums `gradient` down to `shape` (the inverse of broadcasting), as the tape does for each input.
Tensor sum_to(const Tensor& gradient, const Shape& shape);

// ---- neural-network ops (ops_nn.cpp): fused, numerically stable --------------------------------

/// Per-example softmax cross-entropy along `axis`, which the result drops (tf.nn's):
///   loss = Σ_j labels_j·(lse - logits_j),  lse = max + log Σ_j e^(logits_j - max)
///   d/dlogits = (softmax(logits)·Σ_j labels_j - labels)·g  (softmax - labels for distributions),
///   d/dlabels = -log_softmax(logits)·g.
/// Same shape and floating dtype for both (ValueError / TypeError otherwise).
Tensor softmax_cross_entropy_with_logits(const Tensor& labels, const Tensor& logits, int axis = -1);
/// Per-example cross-entropy with integer class ids: loss = lse(logits) - logits[labels], over
/// the last axis; labels has logits' shape without its last axis.
///   d/dlogits = (softmax(logits) - one_hot(labels))·g.
/// A label outside [0, classes) is a ValueError that names it.
Tensor sparse_softmax_cross_entropy_with_logits(const Tensor& labels, const Tensor& logits);
/// Elementwise logistic loss with z = labels, x = logits (tf.nn's stable form):
///   loss = max(x, 0) - x·z + log(1 + e^-|x|);  d/dx = (σ(x) - z)·g,  d/dz = -x·g.
Tensor sigmoid_cross_entropy_with_logits(const Tensor& labels, const Tensor& logits);
/// value + bias along the last axis (value rank >= 2, bias a vector of value.shape[-1]):
///   d/dvalue = g,  d/dbias = Σ of g over all axes but the last.
Tensor bias_add(const Tensor& value, const Tensor& bias);
/// relu(bias_add(value, bias)) in one pass (Dense with activation "relu" uses it):
///   out = max(value + bias, 0);  d/dvalue = g where out > 0, else 0;
///   d/dbias = Σ of d/dvalue over all axes but the last. Same argument rules as bias_add.
Tensor bias_add_relu(const Tensor& value, const Tensor& bias);

// ---- convolution and pooling (ops_conv.cpp, ops_pool.cpp) ------------------------------------
// NHWC tensors (batch, height, width, channels), float32 or float64, as TF's defaults.
// `strides`, `dilations` and `ksize` hold 1 entry (both spatial axes), 2 (height, width) or 4
// (NHWC, batch and channel entries 1), all positive. `padding` is "SAME" or "VALID":
//   VALID: out = (in - eff + stride) / stride with eff = (k - 1)·dilation + 1;
//   SAME:  out = ceil(in / stride), zero padding max((out - 1)·stride + eff - in, 0), the
//          smaller half before (top, left).
// Bad shapes or arguments are a ValueError, dtypes a TypeError; nothing is recorded then.

/// 2-D convolution (cross-correlation, as TF's) with HWIO filters (kh, kw, in_c, out_c):
///   out[b, i, j, o] = Σ_{dy, dx, c} in[b, i·sh + dy·dh - pad_top, j·sw + dx·dw - pad_left, c]
///                                   · filters[dy, dx, c, o].
///   d/din = conv2d_backprop_input(in.shape, filters, g), d/dfilters =
///   conv2d_backprop_filter(in, filters.shape, g). im2col columns times the filters on BLAS.
Tensor conv2d(const Tensor& input, const Tensor& filters, const std::vector<int>& strides,
              const std::string& padding, const std::vector<int>& dilations = {1});
/// The gradient of conv2d with respect to its input, for an input of shape `input_sizes`:
///   out = ∂⟨conv2d(x, filters), out_backprop⟩/∂x (a transposed convolution).
///   d/dfilters = conv2d_backprop_filter(g, filters.shape, out_backprop), d/dout_backprop =
///   conv2d(g, filters).
Tensor conv2d_backprop_input(const Shape& input_sizes, const Tensor& filters,
                             const Tensor& out_backprop, const std::vector<int>& strides,
                             const std::string& padding, const std::vector<int>& dilations = {1});
/// The gradient of conv2d with respect to filters of shape `filter_sizes`:
///   out = ∂⟨conv2d(input, w), out_backprop⟩/∂w.
///   d/dinput = conv2d_backprop_input(input.shape, g, out_backprop), d/dout_backprop =
///   conv2d(input, g).
Tensor conv2d_backprop_filter(const Tensor& input, const Shape& filter_sizes,
                              const Tensor& out_backprop, const std::vector<int>& strides,
                              const std::string& padding, const std::vector<int>& dilations = {1});
/// 1-D convolution over (batch, width, channels) with filters (kw, in_c, out_c): conv2d on a
/// height-1 image, as TF's. `stride` and `dilations` hold 1 or 3 (NWC) entries.
Tensor conv1d(const Tensor& input, const Tensor& filters, const std::vector<int>& stride,
              const std::string& padding, const std::vector<int>& dilations = {1});
/// Depthwise 2-D convolution with filter (kh, kw, in_c, multiplier): each input channel c is
/// convolved with its own multiplier filters,
///   out[b, i, j, c·multiplier + m] = Σ_{dy, dx} in[b, i·sh + dy·dh - pad_top,
///                                              j·sw + dx·dw - pad_left, c]·filter[dy, dx, c, m].
///   Gradients: depthwise_conv2d_backprop_input / _filter, as for conv2d. (TF asks for 4
///   strides and 2 dilations; the 1-, 2- and 4-entry forms of conv2d are accepted here.)
Tensor depthwise_conv2d(const Tensor& input, const Tensor& filter, const std::vector<int>& strides,
                        const std::string& padding, const std::vector<int>& dilations = {1});
/// The gradient of depthwise_conv2d with respect to its input (shape `input_sizes`).
Tensor depthwise_conv2d_backprop_input(const Shape& input_sizes, const Tensor& filter,
                                       const Tensor& out_backprop, const std::vector<int>& strides,
                                       const std::string& padding,
                                       const std::vector<int>& dilations = {1});
/// The gradient of depthwise_conv2d with respect to its filter (shape `filter_sizes`).
Tensor depthwise_conv2d_backprop_filter(const Tensor& input, const Shape& filter_sizes,
                                        const Tensor& out_backprop,
                                        const std::vector<int>& strides,
                                        const std::string& padding,
                                        const std::vector<int>& dilations = {1});
/// The maximum over each ksize window (padding never wins):
///   out[b, i, j, c] = max_{dy, dx} in[b, i·sh + dy - pad_top, j·sw + dx - pad_left, c].
///   d/din: g routed to each window's first maximum (row-major order); its gradient reads gg
///   back at the same maxima, so second order works.
Tensor max_pool2d(const Tensor& input, const std::vector<int>& ksize,
                  const std::vector<int>& strides, const std::string& padding);
/// The mean over each ksize window of the elements inside the input (SAME padding is not
/// counted, as TF's):  out[b, i, j, c] = Σ_window in / count.
///   d/din: g[b, i, j, c] / count spread over the window (linear; its gradient is avg_pool2d).
Tensor avg_pool2d(const Tensor& input, const std::vector<int>& ksize,
                  const std::vector<int>& strides, const std::string& padding);

}  // namespace tapeflow
