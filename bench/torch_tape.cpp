// Tape overhead against libtorch's autograd: a chain of 1000 ops on 1-element float32 tensors,
// alternating x*a and x+b, forward plus backward, per op. The baseline is libtorch (a tensor of
// shape (1,) with requires_grad, then backward()); tapeflow runs the same chain on a
// GradientTape, on shape (1,) and on scalars. Both gradients are checked against a^(ops/2).
// One thread each. Built with -Dlibtorch=true.

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include <tapeflow/tapeflow.hpp>

#include "harness.hpp"

namespace {

constexpr float kScale = 1.0001f, kShift = 0.0003f;

float tapeflow_chain(const tapeflow::Shape& shape, int ops) {
  const tapeflow::Tensor x = tapeflow::fill(shape, 0.5);
  const tapeflow::Tensor a = tapeflow::fill(shape, kScale), b = tapeflow::fill(shape, kShift);
  tapeflow::GradientTape tape;
  tape.watch(x);
  tapeflow::Tensor y = x;
  for (int i = 0; i < ops; i += 2) y = (y * a) + b;
  return tape.gradient(y, {x})[0].dense().numpy<float>().flat(0);
}

float torch_chain(int ops) {
  const torch::Tensor x = torch::full({1}, 0.5f).requires_grad_();
  const torch::Tensor a = torch::full({1}, kScale), b = torch::full({1}, kShift);
  torch::Tensor y = x;
  for (int i = 0; i < ops; i += 2) y = (y * a) + b;
  y.backward();
  return x.grad().item<float>();
}

}  // namespace

int main(int argc, char** argv) {
  const bench::Options options = bench::parse_options(argc, argv);
  torch::set_num_threads(1);
  const int ops = options.quick ? 50 : 1000;
  const int repeats = options.repeats > 0 ? options.repeats : (options.quick ? 3 : 301);
  const int warmup = options.quick ? 1 : 30;
  float grads[3] = {0, 0, 0};
  const std::vector<std::function<void()>> bodies = {
      [&] { grads[0] = torch_chain(ops); },
      [&] { grads[1] = tapeflow_chain({1}, ops); },
      [&] { grads[2] = tapeflow_chain({}, ops); },
  };
  const auto samples = bench::interleaved_samples(warmup, repeats, bodies);
  bench::Table table("torch_tape", options.rows_only);
  const std::string label = std::to_string(ops) + " ops, forward+backward: ";
  const double theirs = samples[0].median() / ops;
  table.row(label + "libtorch autograd, shape (1,)",
            theirs * 1e6,
            "us/op",
            -1,
            -1,
            "the baseline" + bench::preemption_note(samples[0]));
  const char* names[] = {
      "", "tapeflow GradientTape, shape (1,)", "tapeflow GradientTape, shape ()"};
  for (int c = 1; c < 3; ++c) {
    const double ours = samples[static_cast<std::size_t>(c)].median() / ops;
    char note[64];
    std::snprintf(note, sizeof note, "%.1fx faster than libtorch", theirs / ours);
    table.row(label + names[c],
              ours * 1e6,
              "us/op",
              ours / theirs,
              -1,
              note + bench::preemption_note(samples[static_cast<std::size_t>(c)]));
  }
  const float expected = std::pow(kScale, static_cast<float>(ops / 2));
  int failures = 0;
  for (float g : grads) failures += std::fabs(g - expected) <= 1e-4f * expected ? 0 : 1;
  if (failures != 0) {
    std::fprintf(stderr,
                 "torch_tape: gradients %.7g %.7g %.7g, expected %.7g\n",
                 grads[0],
                 grads[1],
                 grads[2],
                 expected);
  }
  return failures == 0 ? 0 : 1;
}
