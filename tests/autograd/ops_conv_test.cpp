// conv2d, conv1d, depthwise_conv2d and the backprop ops: forward values and gradients against
// PyTorch's (fixtures/conv_pool.json, from make_conv_fixtures.py), gradcheck rows of first and
// second order, chunked batches, and bad input with TF's wording (nothing recorded).

#include "conv_fixtures.hpp"

using namespace tapeflow;
using tapeflow::testing::fixture_tensor;
using tapeflow::testing::Fn;
using tapeflow::testing::ints;
using tapeflow::testing::rand64;

namespace {

Tensor run_conv(const std::string& op, const Tensor& x, const Tensor& w, const Config& c) {
  const std::vector<int> strides = ints(c["strides"]), dilations = ints(c["dilations"]);
  const std::string padding = c["padding"].get<std::string>();
  if (op == "conv1d") return conv1d(x, w, strides, padding, dilations);
  if (op == "depthwise_conv2d") return depthwise_conv2d(x, w, strides, padding, dilations);
  return conv2d(x, w, strides, padding, dilations);
}

/// The gradients of sum(f(x, w)) with respect to both inputs, taken by an inner tape, flattened
/// and joined: a function whose gradcheck checks second derivatives.
Fn second_order(std::function<Tensor(const Tensor&, const Tensor&)> f) {
  return [f](const std::vector<Tensor>& in) {
    GradientTape tape;
    tape.watch(in[0]);
    tape.watch(in[1]);
    const Tensor y = f(in[0], in[1]);
    const auto g = tape.gradient(reduce_sum(y * y), {in[0], in[1]});
    return concat({reshape(g[0].dense(), {-1}), reshape(g[1].dense(), {-1})}, 0);
  };
}

}  // namespace

TEST_CASE("conv ops: forward values and both gradients match PyTorch's") {
  const Config fixtures = tapeflow::testing::conv_pool_fixtures();
  int checked = 0;
  for (const Config& c : fixtures["cases"]) {
    const std::string op = c["op"].get<std::string>();
    if (op.find("conv") == std::string::npos) continue;
    INFO("case " << op << " " << c["strides"].dump() << " " << c["padding"].get<std::string>()
                 << " dilations " << c["dilations"].dump());
    const Tensor x = fixture_tensor(c["x"]), w = fixture_tensor(c["w"]);
    const Tensor gy = fixture_tensor(c["gy"]);
    GradientTape tape;
    tape.watch(x);
    tape.watch(w);
    const Tensor y = run_conv(op, x, w, c);
    CHECK_ALLCLOSE(y, fixture_tensor(c["y"]), 1e-12, 1e-12);
    const auto grads = tape.gradient(reduce_sum(y * gy), {x, w});
    CHECK_ALLCLOSE(grads[0].dense(), fixture_tensor(c["dx"]), 1e-12, 1e-12);
    CHECK_ALLCLOSE(grads[1].dense(), fixture_tensor(c["dw"]), 1e-12, 1e-12);
    // float32 runs through sgemm (or the float loop) and agrees to float32 precision.
    const Tensor y32 = run_conv(op, cast(x, DType::float32), cast(w, DType::float32), c);
    CHECK(y32.dtype() == DType::float32);
    CHECK_ALLCLOSE(y32, fixture_tensor(c["y"]), 1e-5, 1e-5);
    ++checked;
  }
  CHECK(checked == 13);
}

TEST_CASE("conv2d: gradcheck rows, first order") {
  const Tensor x = rand64({2, 5, 4, 2}), w = rand64({3, 2, 2, 3});
  GRADCHECK_ROW(
      "conv2d VALID",
      [](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], {1}, "VALID"); },
      x,
      w);
  GRADCHECK_ROW(
      "conv2d SAME stride 2",
      [](const std::vector<Tensor>& in) {
        return conv2d(in[0], in[1], {2, 2}, "SAME");
      },
      x,
      w);
  GRADCHECK_ROW(
      "conv2d SAME dilation 2",
      [](const std::vector<Tensor>& in) {
        return conv2d(in[0], in[1], {1, 1, 1, 1}, "SAME", {1, 2, 2, 1});
      },
      x,
      w);
  GRADCHECK_ROW(
      "conv2d 1x1",
      [](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], {1}, "SAME"); },
      x,
      rand64({1, 1, 2, 3}));
  const Tensor gy = rand64({2, 3, 2, 3});
  GRADCHECK_ROW(
      "conv2d_backprop_input",
      [](const std::vector<Tensor>& in) {
        return conv2d_backprop_input({2, 5, 4, 2}, in[0], in[1], {2}, "SAME");
      },
      w,
      gy);
  GRADCHECK_ROW(
      "conv2d_backprop_filter",
      [](const std::vector<Tensor>& in) {
        return conv2d_backprop_filter(in[0], {3, 2, 2, 3}, in[1], {2}, "SAME");
      },
      x,
      gy);
  GRADCHECK_ROW(
      "conv2d_backprop_input 1x1",
      [](const std::vector<Tensor>& in) {
        return conv2d_backprop_input({2, 5, 4, 2}, in[0], in[1], {1}, "VALID");
      },
      rand64({1, 1, 2, 3}),
      rand64({2, 5, 4, 3}));
  GRADCHECK_ROW(
      "conv2d_backprop_filter 1x1",
      [](const std::vector<Tensor>& in) {
        return conv2d_backprop_filter(in[0], {1, 1, 2, 3}, in[1], {1}, "VALID");
      },
      x,
      rand64({2, 5, 4, 3}));
}

TEST_CASE("conv1d and depthwise_conv2d: gradcheck rows, first order") {
  GRADCHECK_ROW(
      "conv1d SAME stride 2",
      [](const std::vector<Tensor>& in) { return conv1d(in[0], in[1], {2}, "SAME"); },
      rand64({2, 7, 2}),
      rand64({3, 2, 3}));
  GRADCHECK_ROW(
      "conv1d VALID dilation 2",
      [](const std::vector<Tensor>& in) {
        return conv1d(in[0], in[1], {1, 1, 1}, "VALID", {2});
      },
      rand64({1, 8, 2}),
      rand64({2, 2, 2}));
  const Tensor x = rand64({2, 5, 4, 2}), w = rand64({3, 2, 2, 2});
  GRADCHECK_ROW(
      "depthwise_conv2d SAME",
      [](const std::vector<Tensor>& in) {
        return depthwise_conv2d(in[0], in[1], {1, 1, 1, 1}, "SAME");
      },
      x,
      w);
  GRADCHECK_ROW(
      "depthwise_conv2d VALID stride 2 dilation",
      [](const std::vector<Tensor>& in) {
        return depthwise_conv2d(in[0], in[1], {2, 1}, "VALID", {1, 2});
      },
      x,
      rand64({2, 2, 2, 2}));
  const Tensor gy = rand64({2, 5, 4, 4});
  GRADCHECK_ROW(
      "depthwise_conv2d_backprop_input",
      [](const std::vector<Tensor>& in) {
        return depthwise_conv2d_backprop_input({2, 5, 4, 2}, in[0], in[1], {1}, "SAME");
      },
      w,
      gy);
  GRADCHECK_ROW(
      "depthwise_conv2d_backprop_filter",
      [](const std::vector<Tensor>& in) {
        return depthwise_conv2d_backprop_filter(in[0], {3, 2, 2, 2}, in[1], {1}, "SAME");
      },
      x,
      gy);
}

TEST_CASE("conv ops: second-order gradcheck rows (nested tapes)") {
  const Tensor x = rand64({1, 4, 4, 2}), w = rand64({2, 2, 2, 2});
  GRADCHECK_ROW(
      "conv2d'' SAME stride 2",
      second_order([](const Tensor& a, const Tensor& b) { return conv2d(a, b, {2}, "SAME"); }),
      x,
      w);
  GRADCHECK_ROW("conv2d'' VALID dilation 2",
                second_order([](const Tensor& a, const Tensor& b) {
                  return conv2d(a, b, {1}, "VALID", {2});
                }),
                x,
                w);
  GRADCHECK_ROW(
      "conv2d'' 1x1",
      second_order([](const Tensor& a, const Tensor& b) { return conv2d(a, b, {1}, "VALID"); }),
      x,
      rand64({1, 1, 2, 3}));
  GRADCHECK_ROW(
      "conv1d''",
      second_order([](const Tensor& a, const Tensor& b) { return conv1d(a, b, {1}, "SAME"); }),
      rand64({1, 5, 2}),
      rand64({3, 2, 2}));
  GRADCHECK_ROW("depthwise_conv2d''",
                second_order([](const Tensor& a, const Tensor& b) {
                  return depthwise_conv2d(a, b, {1}, "SAME");
                }),
                x,
                w);
  // Third order: the backprop ops' gradients are convolutions again.
  GRADCHECK_ROW("conv2d_backprop_input''",
                second_order([](const Tensor& a, const Tensor& b) {
                  return conv2d_backprop_input({1, 4, 4, 2}, a, b, {2}, "SAME");
                }),
                w,
                rand64({1, 2, 2, 2}));
  GRADCHECK_ROW("conv2d_backprop_filter''",
                second_order([](const Tensor& a, const Tensor& b) {
                  return conv2d_backprop_filter(a, {2, 2, 2, 2}, b, {2}, "SAME");
                }),
                x,
                rand64({1, 2, 2, 2}));
}

TEST_CASE("conv2d: batches split into several im2col chunks give the per-image results") {
  // 40 images of 16×16×8 with a 3×3 window: 147 kB of float64 columns each, so the 4 MiB
  // column buffer takes them in chunks of 28 and 12.
  const Tensor x = rand64({40, 16, 16, 8}), w = rand64({3, 3, 8, 4});
  const Tensor gy = rand64({40, 16, 16, 4});
  GradientTape tape;
  tape.watch(x);
  tape.watch(w);
  const Tensor y = conv2d(x, w, {1}, "SAME");
  const auto grads = tape.gradient(reduce_sum(y * gy), {x, w});
  Tensor dw_sum = zeros({3, 3, 8, 4}, DType::float64);
  for (std::size_t b = 0; b < 40; b += 13) {
    const Tensor xb = slice_axis(x, 0, b, 1), gb = slice_axis(gy, 0, b, 1);
    CHECK_ALLCLOSE(slice_axis(y, 0, b, 1), conv2d(xb, w, {1}, "SAME"), 1e-12, 1e-12);
    CHECK_ALLCLOSE(slice_axis(grads[0].dense(), 0, b, 1),
                   conv2d_backprop_input({1, 16, 16, 8}, w, gb, {1}, "SAME"),
                   1e-12,
                   1e-12);
  }
  for (std::size_t b = 0; b < 40; ++b) {
    dw_sum =
        dw_sum + conv2d_backprop_filter(
                     slice_axis(x, 0, b, 1), {3, 3, 8, 4}, slice_axis(gy, 0, b, 1), {1}, "SAME");
  }
  CHECK_ALLCLOSE(grads[1].dense(), dw_sum, 1e-11, 1e-11);
}

TEST_CASE("conv ops: empty batches and outputs") {
  const Tensor w = rand64({3, 3, 2, 4});
  CHECK(conv2d(zeros({0, 5, 5, 2}, DType::float64), w, {1}, "SAME").shape() == Shape{0, 5, 5, 4});
  // VALID with the window one larger than the input and stride 1: TF's size is 0, not an error.
  const Tensor x = rand64({2, 2, 5, 2});
  CHECK(conv2d(x, w, {1}, "VALID").shape() == Shape{2, 0, 3, 4});
  CHECK_ALLCLOSE(
      conv2d_backprop_filter(x, {3, 3, 2, 4}, zeros({2, 0, 3, 4}, DType::float64), {1}, "VALID"),
      zeros({3, 3, 2, 4}, DType::float64),
      0,
      0);
}

TEST_CASE("conv ops: bad input is a ValueError or TypeError with TF's wording; nothing recorded") {
  const Tensor x = rand64({2, 5, 5, 3}), w = rand64({3, 3, 3, 4});
  GradientTape tape;
  tape.watch(x);
  tape.watch(w);
  CHECK_THROWS_WITH_TEXT(conv2d(x, w, {1}, "same"),
                         ValueError,
                         "conv2d: Value for attr 'padding' of \"same\" is not in the list of "
                         "allowed values: \"SAME\", \"VALID\"");
  CHECK_THROWS_WITH_TEXT(conv2d(x, w, {1, 1, 1}, "SAME"),
                         ValueError,
                         "strides should be of length 1, 2 or 4. Received: strides=[1, 1, 1] of "
                         "length 3");
  CHECK_THROWS_WITH_TEXT(conv2d(x, w, {2, 1, 1, 1}, "SAME"),
                         ValueError,
                         "does not yet support strides in the batch and depth dimensions");
  CHECK_THROWS_WITH_TEXT(conv2d(x, w, {0}, "SAME"),
                         ValueError,
                         "strides should be larger than 0. Received: strides=[0]");
  CHECK_THROWS_WITH_TEXT(conv2d(x, w, {1}, "SAME", {1, 1, 1, 2}),
                         ValueError,
                         "does not yet support dilations in the batch and depth dimensions");
  CHECK_THROWS_WITH_TEXT(conv2d(reshape(x, {10, 5, 3}), w, {1}, "SAME"),
                         ValueError,
                         "conv2d: input must be 4-dimensional (batch, height, width, channels). "
                         "Received: input shape=(10, 5, 3)");
  CHECK_THROWS_WITH_TEXT(conv2d(x, reshape(w, {9, 3, 4}), {1}, "SAME"),
                         ValueError,
                         "conv2d: filter must be 4-dimensional");
  CHECK_THROWS_WITH_TEXT(conv2d(x, rand64({3, 3, 2, 4}), {1}, "SAME"),
                         ValueError,
                         "conv2d: input and filter must have the same depth: 3 vs 2");
  CHECK_THROWS_WITH_TEXT(conv2d(rand64({1, 1, 5, 3}), w, {1}, "VALID"),
                         ValueError,
                         "Computed output size would be negative: -1 [input_size: 1, "
                         "effective_filter_size: 3, stride: 1]");
  CHECK_THROWS_WITH_TEXT(conv2d(x, cast(w, DType::float32), {1}, "SAME"),
                         TypeError,
                         "conv2d: input and filters must be float32 or float64 tensors of the "
                         "same dtype. Received: input dtype=float64, filters dtype=float32");
  CHECK_THROWS_WITH_TEXT(conv2d(cast(x, DType::int32), cast(w, DType::int32), {1}, "SAME"),
                         TypeError,
                         "input dtype=int32");
  CHECK_THROWS_WITH_TEXT(conv2d_backprop_input({2, 5, 5, 3}, w, rand64({2, 5, 5, 3}), {1}, "SAME"),
                         ValueError,
                         "conv2d_backprop_input: out_backprop must have the convolution's output "
                         "shape (2, 5, 5, 4). Received: out_backprop shape=(2, 5, 5, 3)");
  CHECK_THROWS_WITH_TEXT(conv2d_backprop_filter(x, {3, 3, 3, 4}, rand64({2, 3, 3, 4}), {1}, "SAME"),
                         ValueError,
                         "conv2d_backprop_filter: out_backprop must have");
  CHECK_THROWS_WITH_TEXT(
      conv1d(x, w, {1}, "SAME"), ValueError, "conv1d: input must be 3-dimensional");
  CHECK_THROWS_WITH_TEXT(conv1d(rand64({2, 5, 3}), rand64({3, 3, 2}), {1, 1}, "SAME"),
                         ValueError,
                         "conv1d: stride should be of length 1 or 3");
  CHECK_THROWS_WITH_TEXT(conv1d(rand64({2, 5, 3}), rand64({3, 2, 2}), {1}, "SAME"),
                         ValueError,
                         "conv1d: input and filter must have the same depth: 3 vs 2");
  CHECK_THROWS_WITH_TEXT(depthwise_conv2d(x, rand64({3, 3, 2, 2}), {1}, "SAME"),
                         ValueError,
                         "depthwise_conv2d: input and filter must have the same depth: 3 vs 2");
  // None of the failed calls recorded anything: the tape still gives the plain gradient.
  const auto grads = tape.gradient(reduce_sum(conv2d(x, w, {1}, "VALID")), {x, w});
  CHECK(grads[0].dense().shape() == x.shape());
  CHECK_ALLCLOSE(
      grads[1].dense(),
      conv2d_backprop_filter(x, w.shape(), ones({2, 3, 3, 4}, DType::float64), {1}, "VALID"),
      1e-12,
      1e-12);
}
