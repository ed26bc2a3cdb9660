// Every optimizer's dense step on one float32 variable of 1M elements (it fits in L2/L3, so
// this measures the update's arithmetic rather than DRAM): time, elements per ns, and heap
// allocations per steady-state step (operator new and aligned_alloc, the whole process). The
// baseline is the vectorized fused Adagrad loop (bench/adagrad_baseline.cpp at -O3), in the
// same run. --threads N runs the optimizers on N threads (tapeflow::set_num_threads).

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include <tapeflow/tapeflow.hpp>

#include "harness.hpp"
#include "thread_option.hpp"

namespace bench {
void adagrad_vectorized(float* var, float* acc, const float* g, std::size_t n, float lr, float eps);
}  // namespace bench

namespace {

namespace optim = tapeflow::optim;

struct Case {
  std::string label;
  optim::Optimizer optimizer;
};

std::vector<Case> all_optimizers() {
  return {
      {"SGD", optim::SGD(0.01)},
      {"SGD momentum=0.9 nesterov", optim::SGD(0.01, 0.9, true)},
      {"RMSprop", optim::RMSprop(0.001)},
      {"RMSprop momentum=0.9 centered", optim::RMSprop(0.001, 0.9, 0.9, 1e-7, true)},
      {"Adam", optim::Adam(0.001)},
      {"Adam amsgrad", optim::Adam(0.001, 0.9, 0.999, 1e-7, true)},
      {"Adagrad", optim::Adagrad(0.001)},
      {"Adadelta", optim::Adadelta(0.001)},
      {"Adamax", optim::Adamax(0.001)},
      {"Nadam", optim::Nadam(0.001)},
      {"Ftrl", optim::Ftrl(0.001)},
  };
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = bench::take_threads_option(argc, argv);
  const bench::Options options = bench::parse_options(argc, argv);
  tapeflow::set_num_threads(threads);
  const std::size_t n = options.quick ? 10000 : 1000000;
  const int repeats = options.repeats > 0 ? options.repeats : (options.quick ? 3 : 101);
  const int warmup = options.quick ? 1 : 5;
  bench::Table table("optimizers", options.rows_only);
  const std::string size = (options.quick ? "1x10k" : "1x1M") + std::string(", ") +
                           std::to_string(threads) + " thread" + (threads == 1 ? "" : "s") + ": ";

  std::vector<float> var(n, 1.0f), acc(n, 0.1f), grad(n, 0.01f);
  const double base = bench::median_seconds(warmup, repeats, [&] {
    bench::adagrad_vectorized(var.data(), acc.data(), grad.data(), n, 0.001f, 1e-7f);
  });
  table.row(size + "vectorized fused Adagrad loop (1 thread)",
            base * 1e3,
            "ms/step",
            -1,
            -1,
            "the baseline");

  int failures = 0;
  for (Case& c : all_optimizers()) {
    tapeflow::Variable v(tapeflow::fill({n}, 1.0), "v");
    const optim::GradsAndVars pairs = {{tapeflow::fill({n}, 0.01), v}};
    c.optimizer.apply_gradients(pairs);  // slots
    const double seconds =
        bench::median_seconds(warmup, repeats, [&] { c.optimizer.apply_gradients(pairs); });
    const std::size_t before = bench::allocation_count();
    c.optimizer.apply_gradients(pairs);
    const double allocs = static_cast<double>(bench::allocation_count() - before);
    failures += allocs == 0 ? 0 : 1;
    char note[96];
    std::snprintf(note, sizeof note, "%.2f G elements/s", static_cast<double>(n) / seconds * 1e-9);
    table.row(size + c.label, seconds * 1e3, "ms/step", seconds / base, allocs, note);
  }
  if (failures != 0)
    std::fprintf(stderr, "optimizers: %d optimizers allocate per step\n", failures);
  return failures == 0 ? 0 : 1;
}
