// Tape overhead: a chain of ops on 1-element float32 tensors, alternating x*a and x+b, timed
//   - as a raw loop on one float (the arithmetic alone: the baseline),
//   - through the element kernel only (detail::binary_map: the op minus recording),
//   - through the public ops with no tape active, and with a tape that watches nothing,
//   - recorded on a GradientTape, forward only and forward plus backward.
// Reported per op. The chain runs on scalars `()` and on vectors of one `(1,)`.
// The recorded chain's gradient is checked against a^(ops/2), so a smoke run also tests it.

#include <cmath>
#include <cstdio>
#include <string>

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

struct Measured {
  double seconds_per_op;
  double allocs_per_op;
};

/// Times `body` (one chain of `ops` ops per call) and counts its allocations.
template <class Body>
Measured measure(int warmup, int repeats, int ops, Body&& body) {
  const double seconds = bench::median_seconds(warmup, repeats, body);
  const std::size_t before = bench::allocation_count();
  body();
  const std::size_t after = bench::allocation_count();
  return {seconds / ops, static_cast<double>(after - before) / ops};
}

int run_shape(bench::Table& table, const tapeflow::Shape& shape, const std::string& label,
              int ops, int warmup, int repeats) {
  const Tensor x0 = filled(shape, 0.5f);
  const Tensor a = filled(shape, kScale);
  const Tensor b = filled(shape, kShift);
  const float expected_grad = std::pow(kScale, static_cast<float>(ops / 2));
  int failures = 0;

  const Measured raw = measure(warmup, repeats, ops, [&] {
    bench::do_not_optimize(raw_chain(0.5f, kScale, kShift, ops));
  });
  const Measured kernel = measure(warmup, repeats, ops, [&] {
    bench::do_not_optimize(kernel_chain(x0, a, b, ops));
  });
  const Measured no_tape = measure(warmup, repeats, ops, [&] {
    bench::do_not_optimize(op_chain(x0, a, b, ops));
  });
  const Measured idle_tape = measure(warmup, repeats, ops, [&] {
    tapeflow::GradientTape tape;  // active, but watches nothing: records nothing
    bench::do_not_optimize(op_chain(x0, a, b, ops));
  });
  const Measured forward = measure(warmup, repeats, ops, [&] {
    tapeflow::GradientTape tape;
    tape.watch(x0);
    bench::do_not_optimize(op_chain(x0, a, b, ops));
  });
  float grad = 0;
  const Measured both = measure(warmup, repeats, ops, [&] {
    tapeflow::GradientTape tape;
    tape.watch(x0);
    const Tensor y = op_chain(x0, a, b, ops);
    const tapeflow::Gradient g = tape.gradient(y, {x0})[0];
    grad = g.dense().numpy<float>().flat(0);
  });
  if (!(std::fabs(grad - expected_grad) <= 1e-4f * expected_grad)) {
    std::fprintf(stderr, "tape_overhead: wrong gradient %.7g, expected %.7g\n", grad,
                 expected_grad);
    ++failures;
  }

  const double ns = 1e9;
  const std::string prefix = label + ": ";
  table.row(prefix + "raw float loop", raw.seconds_per_op * ns, "ns/op", -1, raw.allocs_per_op,
            "the arithmetic alone");
  table.row(prefix + "kernel only (binary_map)", kernel.seconds_per_op * ns, "ns/op",
            kernel.seconds_per_op / raw.seconds_per_op, kernel.allocs_per_op,
            "new Tensor + loop, no record check");
  table.row(prefix + "op, no tape", no_tape.seconds_per_op * ns, "ns/op",
            no_tape.seconds_per_op / raw.seconds_per_op, no_tape.allocs_per_op,
            "vs kernel only: " + std::to_string(no_tape.seconds_per_op / kernel.seconds_per_op)
                .substr(0, 4) + "x");
  table.row(prefix + "op, tape watching nothing", idle_tape.seconds_per_op * ns, "ns/op",
            idle_tape.seconds_per_op / raw.seconds_per_op, idle_tape.allocs_per_op,
            "vs kernel only: " + std::to_string(idle_tape.seconds_per_op / kernel.seconds_per_op)
                .substr(0, 4) + "x");
  table.row(prefix + "recorded op, forward", forward.seconds_per_op * ns, "ns/op",
            forward.seconds_per_op / raw.seconds_per_op, forward.allocs_per_op, "");
  table.row(prefix + "recorded op, forward+backward", both.seconds_per_op * 1e6, "us/op",
            both.seconds_per_op / raw.seconds_per_op, both.allocs_per_op,
            "target <= 1 us; vs op no tape: " +
                std::to_string(both.seconds_per_op / no_tape.seconds_per_op).substr(0, 4) + "x");
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
