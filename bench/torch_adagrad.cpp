// Adagrad dense step, float32, against libtorch's torch::optim::Adagrad on the same shapes, and
// against the vectorized fused loop (the practical limit; bench/adagrad_baseline.cpp at -O3),
// in one run with interleaved rounds. Shapes (variables x elements): 1 x 10M, 100 x 100k, 1 x 1M.
// --threads N sets tapeflow::set_num_threads and at::set_num_threads (the loop runs on 1).
// The baseline is the vectorized loop. Built with -Dlibtorch=true.

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include <tapeflow/tapeflow.hpp>

#include "harness.hpp"
#include "thread_option.hpp"

namespace bench {
void adagrad_vectorized(float* var, float* acc, const float* g, std::size_t n, float lr, float eps);
}  // namespace bench

namespace {

constexpr float kLr = 0.001f, kEps = 1e-7f, kInitialAccumulator = 0.1f;

void run_shape(bench::Table& table,
               std::size_t count,
               std::size_t size,
               int threads,
               const std::string& label,
               int warmup,
               int repeats) {
  // tapeflow
  std::vector<tapeflow::Variable> vars;
  tapeflow::optim::GradsAndVars pairs;
  for (std::size_t k = 0; k < count; ++k) {
    vars.emplace_back(tapeflow::fill({size}, 1.0, tapeflow::DType::float32));
    pairs.emplace_back(tapeflow::fill({size}, 0.01, tapeflow::DType::float32), vars.back());
  }
  tapeflow::optim::Adagrad opt(kLr, kInitialAccumulator, kEps);
  opt.apply_gradients(pairs);  // slots outside the timed calls
  // libtorch
  std::vector<torch::Tensor> params;
  for (std::size_t k = 0; k < count; ++k) {
    params.push_back(torch::ones({static_cast<long>(size)}).requires_grad_());
    params.back().mutable_grad() = torch::full({static_cast<long>(size)}, 0.01f);
  }
  torch::optim::Adagrad torch_opt(
      params,
      torch::optim::AdagradOptions(kLr).initial_accumulator_value(kInitialAccumulator).eps(kEps));
  torch_opt.step();
  // the loop
  std::vector<std::vector<float>> var(count, std::vector<float>(size, 1.0f)),
      acc(count, std::vector<float>(size, kInitialAccumulator)),
      grad(count, std::vector<float>(size, 0.01f));

  const std::vector<std::function<void()>> bodies = {
      [&] {
        for (std::size_t k = 0; k < count; ++k) {
          bench::adagrad_vectorized(var[k].data(), acc[k].data(), grad[k].data(), size, kLr, kEps);
        }
      },
      [&] { torch_opt.step(); },
      [&] { opt.apply_gradients(pairs); },
  };
  const auto samples = bench::interleaved_samples(warmup, repeats, bodies);
  const std::size_t before = bench::allocation_count();
  opt.apply_gradients(pairs);
  const double allocs = static_cast<double>(bench::allocation_count() - before);

  const std::string prefix =
      label + ", " + std::to_string(threads) + " thread" + (threads == 1 ? "" : "s") + ": ";
  const double base = samples[0].median(), theirs = samples[1].median(), ours = samples[2].median();
  table.row(prefix + "vectorized fused loop (1 thread)",
            base * 1e3,
            "ms/step",
            -1,
            -1,
            "the practical limit" + bench::preemption_note(samples[0]));
  table.row(prefix + "libtorch optim::Adagrad",
            theirs * 1e3,
            "ms/step",
            theirs / base,
            -1,
            bench::preemption_note(samples[1]).substr(2));
  char note[96];
  std::snprintf(note, sizeof note, "%.2fx faster than libtorch", theirs / ours);
  table.row(prefix + "tapeflow optim::Adagrad",
            ours * 1e3,
            "ms/step",
            ours / base,
            allocs,
            note + bench::preemption_note(samples[2]));
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = bench::take_threads_option(argc, argv);
  const bench::Options options = bench::parse_options(argc, argv);
  tapeflow::set_num_threads(threads);
  torch::set_num_threads(threads);
  bench::Table table("torch_adagrad", options.rows_only);
  const int repeats = options.repeats > 0 ? options.repeats : (options.quick ? 3 : 31);
  const int warmup = options.quick ? 1 : 3;
  if (options.quick) {
    run_shape(table, 1, 10000, threads, "1x10k", warmup, repeats);
    return 0;
  }
  run_shape(table, 1, 10000000, threads, "1x10M", warmup, repeats);
  run_shape(table, 100, 100000, threads, "100x100k", warmup, repeats);
  run_shape(table, 1, 1000000, threads, "1x1M", warmup, repeats * 4);
  return 0;
}
