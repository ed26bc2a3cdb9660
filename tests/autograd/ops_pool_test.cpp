// max_pool2d and avg_pool2d: forward values and input gradients against PyTorch's
// (fixtures/conv_pool.json), gradcheck rows of first and second order, ties, and bad input with
// TF's wording (nothing recorded).

#include "conv_fixtures.hpp"

using namespace tapeflow;
using tapeflow::testing::distinct64;
using tapeflow::testing::f64;
using tapeflow::testing::fixture_tensor;
using tapeflow::testing::Fn;
using tapeflow::testing::ints;
using tapeflow::testing::rand64;

namespace {

/// The gradient of sum(f(x)²) by an inner tape: its gradcheck checks second derivatives.
Fn second_order(std::function<Tensor(const Tensor&)> f) {
  return [f](const std::vector<Tensor>& in) {
    GradientTape tape;
    tape.watch(in[0]);
    const Tensor y = f(in[0]);
    return tape.gradient(reduce_sum(y * y), {in[0]})[0].dense();
  };
}

}  // namespace

TEST_CASE("pools: forward values and gradients match PyTorch's") {
  const Config fixtures = tapeflow::testing::conv_pool_fixtures();
  int checked = 0;
  for (const Config& c : fixtures["cases"]) {
    const std::string op = c["op"].get<std::string>();
    if (op.find("pool") == std::string::npos) continue;
    INFO("case " << op << " ksize " << c["ksize"].dump() << " strides " << c["strides"].dump()
                 << " " << c["padding"].get<std::string>());
    const Tensor x = fixture_tensor(c["x"]), gy = fixture_tensor(c["gy"]);
    const auto pool = op == "max_pool2d" ? max_pool2d : avg_pool2d;
    GradientTape tape;
    tape.watch(x);
    const Tensor y = pool(x, ints(c["ksize"]), ints(c["strides"]), c["padding"].get<std::string>());
    CHECK_ALLCLOSE(y, fixture_tensor(c["y"]), 1e-12, 1e-12);
    CHECK_ALLCLOSE(
        tape.gradient(reduce_sum(y * gy), {x})[0].dense(), fixture_tensor(c["dx"]), 1e-12, 1e-12);
    const Tensor y32 = pool(cast(x, DType::float32),
                            ints(c["ksize"]),
                            ints(c["strides"]),
                            c["padding"].get<std::string>());
    CHECK_ALLCLOSE(y32, fixture_tensor(c["y"]), 1e-6, 1e-6);
    ++checked;
  }
  CHECK(checked == 6);
}

TEST_CASE("pools: gradcheck rows, first and second order") {
  // Distinct values keep every window's maximum away from a tie.
  const Tensor x = distinct64({2, 5, 4, 2});
  GRADCHECK_ROW(
      "max_pool2d VALID",
      [](const std::vector<Tensor>& in) { return max_pool2d(in[0], {2}, {2}, "VALID"); },
      x);
  GRADCHECK_ROW(
      "max_pool2d SAME overlapping",
      [](const std::vector<Tensor>& in) {
        return max_pool2d(in[0], {3, 2}, {1, 1, 1, 1}, "SAME");
      },
      x);
  GRADCHECK_ROW(
      "avg_pool2d VALID",
      [](const std::vector<Tensor>& in) { return avg_pool2d(in[0], {2}, {2}, "VALID"); },
      x);
  GRADCHECK_ROW(
      "avg_pool2d SAME overlapping",
      [](const std::vector<Tensor>& in) { return avg_pool2d(in[0], {3}, {2}, "SAME"); },
      x);
  GRADCHECK_ROW("max_pool2d''",
                second_order([](const Tensor& a) { return max_pool2d(a, {3}, {2}, "SAME"); }),
                x);
  GRADCHECK_ROW("avg_pool2d''",
                second_order([](const Tensor& a) { return avg_pool2d(a, {3}, {1}, "SAME"); }),
                x);
  // The gradient's own gradient with respect to the output gradient (max_pool_grad_grad).
  GRADCHECK_ROW(
      "max_pool2d grad wrt g",
      [](const std::vector<Tensor>& in) {
        GradientTape tape;
        tape.watch(in[0]);
        const Tensor y = max_pool2d(in[0], {2}, {1}, "VALID");
        return tape.gradient(y, {in[0]}, {in[1]})[0].dense();
      },
      x,
      rand64({2, 4, 3, 2}));
}

TEST_CASE("max_pool2d: a tie sends the whole gradient to the first maximum, as TF's") {
  const Tensor x = reshape(f64({1.0, 3.0, 3.0, 2.0}), {1, 2, 2, 1});
  GradientTape tape;
  tape.watch(x);
  const Tensor y = max_pool2d(x, {2}, {2}, "VALID");
  CHECK_ALLCLOSE(y, reshape(f64({3.0}), {1, 1, 1, 1}), 0, 0);
  CHECK_ALLCLOSE(
      tape.gradient(y, {x})[0].dense(), reshape(f64({0.0, 1.0, 0.0, 0.0}), {1, 2, 2, 1}), 0, 0);
}

TEST_CASE("pools: bad input is a ValueError or TypeError with TF's wording; nothing recorded") {
  const Tensor x = rand64({2, 4, 4, 3});
  GradientTape tape;
  tape.watch(x);
  CHECK_THROWS_WITH_TEXT(max_pool2d(x, {2}, {2}, "valid"),
                         ValueError,
                         "max_pool2d: Value for attr 'padding' of \"valid\" is not in the list of "
                         "allowed values");
  CHECK_THROWS_WITH_TEXT(avg_pool2d(x, {2, 2, 2}, {2}, "VALID"),
                         ValueError,
                         "avg_pool2d: ksize should be of length 1, 2 or 4. Received: ksize=[2, 2, "
                         "2] of length 3");
  CHECK_THROWS_WITH_TEXT(max_pool2d(x, {1, 2, 2, 2}, {2}, "VALID"),
                         ValueError,
                         "does not yet support ksize in the batch and depth dimensions");
  CHECK_THROWS_WITH_TEXT(
      max_pool2d(x, {2}, {-1}, "VALID"), ValueError, "strides should be larger than 0");
  CHECK_THROWS_WITH_TEXT(max_pool2d(x, {6}, {1}, "VALID"),
                         ValueError,
                         "max_pool2d: Computed output size would be negative: -1 [input_size: 4, "
                         "effective_filter_size: 6, stride: 1]");
  CHECK_THROWS_WITH_TEXT(avg_pool2d(reshape(x, {8, 4, 3}), {2}, {2}, "VALID"),
                         ValueError,
                         "avg_pool2d: input must be 4-dimensional");
  CHECK_THROWS_WITH_TEXT(max_pool2d(cast(x, DType::int32), {2}, {2}, "VALID"),
                         TypeError,
                         "max_pool2d: expected a float32 or float64 tensor. Received: dtype=int32");
  const Tensor dx = tape.gradient(reduce_sum(avg_pool2d(x, {2}, {2}, "VALID")), {x})[0].dense();
  CHECK_ALLCLOSE(dx, fill(x.shape(), 0.25, DType::float64), 0, 0);
}
