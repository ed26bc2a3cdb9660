// Adagrad dense step, float32: optim::Adagrad::apply_gradients (the whole pipeline: validation,
// slot lookup, lr_t, the fused kernel, iterations) against the same update as a plain fused C++
// loop on raw arrays, measured in the same run:
//   - "plain loop": the loop compiled with the project's flags (what a user's own loop gets;
//     at -O2 GCC keeps sqrt scalar because of errno), the baseline of the ratio column;
//   - "vectorized loop": the same loop at -O3 -fno-math-errno -march=native (GCC vectorizes it
//     for this CPU): the practical limit, memory bandwidth.
// Shapes (variables x elements): 1 x 10M, 100 x 100k, 1 x 1M. The loops run on one thread;
// tapeflow on --threads N (tapeflow::set_num_threads; default 1).
// Before timing, a few steps on a small vector check that tapeflow and the plain loop agree.

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include <tapeflow/tapeflow.hpp>

#include "harness.hpp"
#include "thread_option.hpp"

namespace bench {
void adagrad_plain(float* var, float* acc, const float* g, std::size_t n, float lr, float eps);
void adagrad_vectorized(float* var, float* acc, const float* g, std::size_t n, float lr, float eps);
}  // namespace bench

namespace {

using tapeflow::Tensor;
using tapeflow::Variable;

constexpr float kLr = 0.001f;
constexpr float kEps = 1e-7f;
constexpr float kInitialAccumulator = 0.1f;

/// `head`, then the harness's preemption note for `samples` ("" or "; ...").
std::string note(const std::string& head, const bench::Samples& samples) {
  std::string text = head + bench::preemption_note(samples);
  return text.rfind("; ", 0) == 0 ? text.substr(2) : text;
}

Tensor filled(std::size_t n, float value) {
  return tapeflow::fill({n}, value, tapeflow::DType::float32);
}

/// Three steps of tapeflow and of the plain loop on 37 elements; 0 when they agree to 1e-6.
int check_agreement() {
  constexpr std::size_t n = 37;
  std::vector<float> var(n), acc(n, kInitialAccumulator), g(n);
  for (std::size_t i = 0; i < n; ++i) {
    var[i] = 0.1f * static_cast<float>(i) - 1.0f;
    g[i] = 0.05f * std::sin(static_cast<float>(i));
  }
  Variable v(Tensor::from_data(tapeflow::DType::float32, {n}, var.data()), "check");
  const Tensor grad = Tensor::from_data(tapeflow::DType::float32, {n}, g.data());
  tapeflow::optim::Adagrad opt(kLr, kInitialAccumulator, kEps);
  for (int step = 0; step < 3; ++step) {
    opt.apply_gradients({{grad, v}});
    bench::adagrad_plain(var.data(), acc.data(), g.data(), n, kLr, kEps);
  }
  const auto got = v.numpy<float>();
  for (std::size_t i = 0; i < n; ++i) {
    if (!(std::fabs(got(i) - var[i]) <= 1e-6f * std::fabs(var[i]) + 1e-12f)) {
      std::fprintf(stderr,
                   "adagrad_dense: element %zu: tapeflow %.9g, plain loop %.9g\n",
                   i,
                   static_cast<double>(got(i)),
                   static_cast<double>(var[i]));
      return 1;
    }
  }
  return 0;
}

/// Buffers for one baseline: `count` arrays of `size` floats for var, acc and g.
struct RawSet {
  std::vector<std::vector<float>> var, acc, grad;
  RawSet(std::size_t count, std::size_t size)
      : var(count, std::vector<float>(size, 1.0f)),
        acc(count, std::vector<float>(size, kInitialAccumulator)),
        grad(count, std::vector<float>(size, 0.01f)) {}
  template <class Kernel>
  void step(Kernel kernel) {
    for (std::size_t k = 0; k < var.size(); ++k) {
      kernel(var[k].data(), acc[k].data(), grad[k].data(), var[k].size(), kLr, kEps);
    }
  }
};

void run_shape(bench::Table& table,
               std::size_t count,
               std::size_t size,
               const std::string& label,
               int warmup,
               int repeats) {
  std::vector<Variable> vars;
  tapeflow::optim::GradsAndVars pairs;
  for (std::size_t k = 0; k < count; ++k) {
    vars.emplace_back(filled(size, 1.0f), "w" + std::to_string(k));
    pairs.emplace_back(filled(size, 0.01f), vars.back());
  }
  tapeflow::optim::Adagrad opt(kLr, kInitialAccumulator, kEps);
  opt.apply_gradients(pairs);  // creates the slots outside the timed calls
  RawSet plain(count, size), vectorized(count, size);

  std::vector<std::function<void()>> bodies = {
      [&] { plain.step(bench::adagrad_plain); },
      [&] { vectorized.step(bench::adagrad_vectorized); },
      [&] { opt.apply_gradients(pairs); },
  };
  const auto samples = bench::interleaved_samples(warmup, repeats, bodies);
  const std::size_t before = bench::allocation_count();
  opt.apply_gradients(pairs);
  const double allocs = static_cast<double>(bench::allocation_count() - before);

  const double ms = 1e3;
  const double base = samples[0].median();
  table.row(label + ": plain fused loop (-O2)",
            base * ms,
            "ms/step",
            -1,
            -1,
            note("the baseline", samples[0]));
  table.row(label + ": vectorized loop (-O3 -fno-math-errno -march=native)",
            samples[1].median() * ms,
            "ms/step",
            samples[1].median() / base,
            -1,
            note("the practical limit", samples[1]));
  const double ours = samples[2].median();
  char text[128];
  std::snprintf(text,
                sizeof text,
                "%.2fx the vectorized loop; %.1f GB/s",
                ours / samples[1].median(),
                // per element: read var, acc, g; write var, acc
                5.0 * 4.0 * static_cast<double>(count * size) / ours / 1e9);
  table.row(label + ": optim::Adagrad apply_gradients, " +
                std::to_string(tapeflow::get_num_threads()) + " thread(s)",
            ours * ms,
            "ms/step",
            ours / base,
            allocs,
            note(text, samples[2]));
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = bench::take_threads_option(argc, argv);
  const bench::Options options = bench::parse_options(argc, argv);
  tapeflow::set_num_threads(threads);
  if (check_agreement() != 0) return 1;
  bench::Table table("adagrad_dense", options.rows_only);
  const int repeats = options.repeats > 0 ? options.repeats : (options.quick ? 3 : 31);
  const int warmup = options.quick ? 1 : 3;
  if (options.quick) {
    run_shape(table, 1, 10000, "1x10k", warmup, repeats);
    run_shape(table, 10, 1000, "10x1k", warmup, repeats);
    return 0;
  }
  run_shape(table, 1, 10000000, "1x10M", warmup, repeats);
  run_shape(table, 100, 100000, "100x100k", warmup, repeats);
  run_shape(table, 1, 1000000, "1x1M", warmup, repeats * 4);
  return 0;
}
