// How the full training step (forward, backward, Adagrad update; bench/mlp_model.hpp) grows
//   - with the parameter count: MLP 784-h-h-10 at batch 128, h from 1 to 6400 (about 1k to 42M
//     parameters), and a 50M-parameter 784-7000-7000-10;
//   - with the batch size: MLP 784-512-512-10 at batch 1 to 2048.
// Per row: ms per step, and throughput (parameters updated per µs, or samples per ms). The
// baseline of each sweep is its first row. Threads: OPENBLAS_NUM_THREADS and --threads N.

#include <cstdio>
#include <string>
#include <vector>

#include <cblas.h>

#include <tapeflow/tapeflow.hpp>

#include "harness.hpp"
#include "mlp_model.hpp"
#include "thread_option.hpp"

namespace {

struct Result {
  double seconds;
  std::size_t parameters;
};

Result time_step(const bench::MlpSizes& s, int repeats) {
  const bench::Mlp model(s);
  const std::vector<tapeflow::Variable> variables = model.variables();
  std::size_t parameters = 0;
  for (const auto& v : variables) parameters += v.size();
  tapeflow::optim::Adagrad optimizer(0.01);
  const tapeflow::Tensor x = tapeflow::random::uniform({s.batch, s.in});
  const tapeflow::Tensor labels = tapeflow::cast(
      tapeflow::random::uniform({s.batch}, 0, static_cast<double>(s.out), tapeflow::DType::float64),
      tapeflow::DType::int32);
  const double seconds = bench::median_seconds(2, repeats, [&] {
    bench::do_not_optimize(bench::mlp_train_step(model, optimizer, variables, x, labels));
  });
  return {seconds, parameters};
}

std::string shape_of(const bench::MlpSizes& s) {
  return std::to_string(s.in) + "-" + std::to_string(s.hidden1) + "-" + std::to_string(s.hidden2) +
         "-" + std::to_string(s.out) + " b" + std::to_string(s.batch);
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = bench::take_threads_option(argc, argv);
  const bench::Options options = bench::parse_options(argc, argv);
  tapeflow::set_num_threads(threads);
  tapeflow::random::set_seed(3);
  bench::Table table("scaling", options.rows_only);
  const std::string suffix = ", " + std::to_string(openblas_get_num_threads()) + "+" +
                             std::to_string(threads) + " threads (OpenBLAS+tapeflow)";

  const std::vector<std::size_t> widths =
      options.quick ? std::vector<std::size_t>{1, 16}
                    : std::vector<std::size_t>{1, 8, 32, 128, 512, 2048, 4096, 7000};
  double base = 0;
  for (std::size_t h : widths) {
    const bench::MlpSizes s{128, 784, h, h, 10};
    const int repeats = options.repeats > 0 ? options.repeats : (h >= 2048 ? 5 : 21);
    const Result r = time_step(s, options.quick ? 2 : repeats);
    if (base == 0) base = r.seconds;
    char note[96];
    std::snprintf(note,
                  sizeof note,
                  "%zu parameters; %.1f parameters/us",
                  r.parameters,
                  static_cast<double>(r.parameters) / r.seconds * 1e-6);
    table.row("params sweep " + shape_of(s) + suffix,
              r.seconds * 1e3,
              "ms/step",
              r.seconds / base,
              -1,
              note);
  }
  const std::vector<std::size_t> batches = options.quick
                                               ? std::vector<std::size_t>{1, 8}
                                               : std::vector<std::size_t>{1, 8, 32, 128, 512, 2048};
  base = 0;
  for (std::size_t b : batches) {
    const bench::MlpSizes s =
        options.quick ? bench::MlpSizes{b, 64, 32, 32, 10} : bench::MlpSizes{b, 784, 512, 512, 10};
    const Result r = time_step(s, options.quick ? 2 : (options.repeats > 0 ? options.repeats : 21));
    if (base == 0) base = r.seconds;
    char note[64];
    std::snprintf(note, sizeof note, "%.1f samples/ms", static_cast<double>(b) / r.seconds * 1e-3);
    table.row("batch sweep " + shape_of(s) + suffix,
              r.seconds * 1e3,
              "ms/step",
              r.seconds / base,
              -1,
              note);
  }
  return 0;
}
