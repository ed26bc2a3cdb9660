// Tape overhead: a chain of ops on 1-element float32 tensors, alternating x*a and x+b, timed
//   - as a raw loop on one float (the arithmetic alone: the baseline),
//   - through the element kernel only (detail::binary_map: the op minus recording),
//   - through the public ops with no tape active, and with a tape that watches nothing,
//   - recorded on a GradientTape, forward only and forward plus backward.
// Reported per op. The chain runs on scalars `()` and on vectors of one `(1,)`.
// The recorded chain's gradient is checked against a^(ops/2), so a smoke run also tests it.

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include <tapeflow/tapeflow.hpp>
#include <tapeflow/core/kernels.hpp>

#include "harness.hpp"

namespace {

using tapeflow::Tensor;

constexpr float kScale = 1.0001f;
constexpr float kShift = 0.0003f;

float raw_chain(float x, float a, float b, int ops) {
  for (int i = 0; i < ops; i += 2) {
    x = x * a;
    bench::do_not_optimize(x);  // one op at a time, as the tensor chain does
    x = x + b;
    bench::do_not_optimize(x);
  }
  return x;
}

Tensor kernel_chain(Tensor x, const Tensor& a, const Tensor& b, int ops) {
  for (int i = 0; i < ops; i += 2) {
    x = tapeflow::detail::binary_map("multiply", x, a, [](auto u, auto v) { return u * v; });
    x = tapeflow::detail::binary_map("add", x, b, [](auto u, auto v) { return u + v; });
  }
  return x;
}

Tensor op_chain(Tensor x, const Tensor& a, const Tensor& b, int ops) {
  for (int i = 0; i < ops; i += 2) {
    x = tapeflow::multiply(x, a);
    x = tapeflow::add(x, b);
  }
  return x;
}

Tensor filled(const tapeflow::Shape& shape, float value) {
  return tapeflow::fill(shape, value, tapeflow::DType::float32);
}

/// Allocations per op of one call of `body` (a chain of `ops` ops), after the timed runs.
template <class Body>
double allocs_per_op(int ops, Body&& body) {
  const std::size_t before = bench::allocation_count();
  body();
  return static_cast<double>(bench::allocation_count() - before) / ops;
}

std::string times(double ratio) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2fx", ratio);
  return text;
}

int run_shape(bench::Table& table, const tapeflow::Shape& shape, const std::string& label,
              int ops, int warmup, int repeats) {
  const Tensor x0 = filled(shape, 0.5f);
  const Tensor a = filled(shape, kScale);
  const Tensor b = filled(shape, kShift);
  const float expected_grad = std::pow(kScale, static_cast<float>(ops / 2));
  float grad = 0;

  enum Case { kRaw, kKernel, kNoTape, kIdleTape, kForward, kBoth, kCases };
  std::vector<std::function<void()>> bodies(kCases);
  bodies[kRaw] = [&] { bench::do_not_optimize(raw_chain(0.5f, kScale, kShift, ops)); };
  bodies[kKernel] = [&] { bench::do_not_optimize(kernel_chain(x0, a, b, ops)); };
  bodies[kNoTape] = [&] { bench::do_not_optimize(op_chain(x0, a, b, ops)); };
  bodies[kIdleTape] = [&] {
    tapeflow::GradientTape tape;  // active, but watches nothing: records nothing
    bench::do_not_optimize(op_chain(x0, a, b, ops));
  };
  bodies[kForward] = [&] {
    tapeflow::GradientTape tape;
    tape.watch(x0);
    bench::do_not_optimize(op_chain(x0, a, b, ops));
  };
  bodies[kBoth] = [&] {
    tapeflow::GradientTape tape;
    tape.watch(x0);
    const Tensor y = op_chain(x0, a, b, ops);
    const tapeflow::Gradient g = tape.gradient(y, {x0})[0];
    grad = g.dense().numpy<float>().flat(0);
  };
  const std::vector<bench::Samples> samples = bench::interleaved_samples(warmup, repeats, bodies);
  std::vector<double> per_op(kCases), allocs(kCases);
  for (int c = 0; c < kCases; ++c) {
    per_op[c] = samples[c].median() / ops;
    allocs[c] = allocs_per_op(ops, bodies[c]);
  }

  int failures = 0;
  if (!(std::fabs(grad - expected_grad) <= 1e-4f * expected_grad)) {
    std::fprintf(stderr, "tape_overhead: wrong gradient %.7g, expected %.7g\n", grad,
                 expected_grad);
    ++failures;
  }

  const double ns = 1e9;
  const double raw = per_op[kRaw];
  const double kernel = per_op[kKernel];
  const std::string prefix = label + ": ";
  table.row(prefix + "raw float loop", raw * ns, "ns/op", -1, allocs[kRaw],
            "the arithmetic alone");
  table.row(prefix + "kernel only (binary_map)", kernel * ns, "ns/op", kernel / raw,
            allocs[kKernel], "new Tensor + loop, no record check");
  table.row(prefix + "op, no tape", per_op[kNoTape] * ns, "ns/op", per_op[kNoTape] / raw,
            allocs[kNoTape], "vs kernel only: " + times(per_op[kNoTape] / kernel));
  table.row(prefix + "op, tape watching nothing", per_op[kIdleTape] * ns, "ns/op",
            per_op[kIdleTape] / raw, allocs[kIdleTape],
            "vs kernel only: " + times(per_op[kIdleTape] / kernel));
  table.row(prefix + "recorded op, forward", per_op[kForward] * ns, "ns/op",
            per_op[kForward] / raw, allocs[kForward],
            "vs op no tape: " + times(per_op[kForward] / per_op[kNoTape]));
  table.row(prefix + "recorded op, forward+backward", per_op[kBoth] * 1e6, "us/op",
            per_op[kBoth] / raw, allocs[kBoth],
            "target <= 1 us; vs op no tape: " + times(per_op[kBoth] / per_op[kNoTape]) +
                bench::preemption_note(samples[kBoth]));
  return failures;
}

}  // namespace

int main(int argc, char** argv) {
  const bench::Options options = bench::parse_options(argc, argv);
  const int ops = options.quick ? 50 : 1000;
  const int repeats = options.repeats > 0 ? options.repeats : (options.quick ? 3 : 301);
  const int warmup = options.quick ? 1 : 30;
  bench::Table table("tape_overhead", options.rows_only);
  int failures = 0;
  failures += run_shape(table, {}, std::to_string(ops) + " ops, shape ()", ops, warmup, repeats);
  failures += run_shape(table, {1}, std::to_string(ops) + " ops, shape (1,)", ops, warmup, repeats);
  return failures == 0 ? 0 : 1;
}
