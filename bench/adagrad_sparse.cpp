// Adagrad sparse step, float32: an embedding table of 1M x 64 where one step touches 1% of the
// rows (10k distinct rows, in random order), through optim::Adagrad::apply_gradients with an
// IndexedSlices gradient (validation, duplicate summing, the per-row kernel), against
//   - the dense update of the same table (a dense gradient of 1M x 64): the baseline, what the
//     step would cost without the sparse path;
//   - the same rows updated by a plain fused C++ loop on raw arrays;
//   - the memory floor: the same rows only read and written (var += g, acc += g), prefetched, on
//     2 MiB pages: what any sparse update of these rows costs before its arithmetic.
// tapeflow on --threads N (tapeflow::set_num_threads; default 1), for both of its steps; the plain
// loops always on one. Before timing, one sparse step is checked against the plain row loop.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <tapeflow/tapeflow.hpp>

#include "harness.hpp"
#include "thread_option.hpp"

namespace bench {
void adagrad_plain(float* var, float* acc, const float* g, std::size_t n, float lr, float eps);
}  // namespace bench

namespace {

using tapeflow::DType;
using tapeflow::IndexedSlices;
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

int run(bench::Table& table, std::size_t rows, std::size_t width, std::size_t touched,
        int warmup, int repeats) {
  std::mt19937_64 engine(42);
  std::vector<std::int64_t> all(rows);
  std::iota(all.begin(), all.end(), 0);
  std::shuffle(all.begin(), all.end(), engine);
  const std::vector<std::int64_t> picked(all.begin(), all.begin() + touched);
  std::vector<float> values(touched * width);
  std::uniform_real_distribution<float> uniform(-0.1f, 0.1f);
  for (float& v : values) v = uniform(engine);

  const std::string label = std::to_string(rows) + "x" + std::to_string(width) + ", " +
                            std::to_string(touched) + " rows, " +
                            std::to_string(tapeflow::get_num_threads()) + " thread(s)";
  const Tensor indices = Tensor::from_data(DType::int64, {touched}, picked.data());
  const Tensor slice_values = Tensor::from_data(DType::float32, {touched, width}, values.data());
  const tapeflow::Gradient sparse_grad(IndexedSlices{slice_values, indices, {rows, width}});
  const Tensor dense_grad = tapeflow::fill({rows, width}, 0.01, DType::float32);

  Variable sparse_table(tapeflow::ones({rows, width}), "sparse_table");
  Variable dense_table(tapeflow::ones({rows, width}), "dense_table");
  tapeflow::optim::Adagrad sparse_opt(kLr, kInitialAccumulator, kEps);
  tapeflow::optim::Adagrad dense_opt(kLr, kInitialAccumulator, kEps);
  std::vector<float> raw_var(rows * width, 1.0f), raw_acc(rows * width, kInitialAccumulator);

  // One checked step: tapeflow's sparse path against the plain loop on the listed rows.
  sparse_opt.apply_gradients({{sparse_grad, sparse_table}});
  const auto raw_rows = [&] {
    for (std::size_t r = 0; r < touched; ++r) {
      const std::size_t offset = static_cast<std::size_t>(picked[r]) * width;
      bench::adagrad_plain(raw_var.data() + offset, raw_acc.data() + offset,
                           values.data() + r * width, width, kLr, kEps);
    }
  };
  raw_rows();
  {
    const float* got = sparse_table.read_value_no_record().data<float>();
    for (std::size_t i = 0; i < rows * width; ++i) {
      if (!(std::fabs(got[i] - raw_var[i]) <= 1e-6f * std::fabs(raw_var[i]))) {
        std::fprintf(stderr, "adagrad_sparse: element %zu: tapeflow %.9g, plain loop %.9g\n", i,
                     static_cast<double>(got[i]), static_cast<double>(raw_var[i]));
        return 1;
      }
    }
  }
  dense_opt.apply_gradients({{dense_grad, dense_table}});  // slots outside the timed calls

  // The memory floor: the same rows of two tables in tapeflow's 2 MiB-page buffers, each read
  // and written once (var += g, acc += g, no sqrt or division), prefetched as tapeflow does.
  Tensor floor_var = tapeflow::ones({rows, width});
  Tensor floor_acc = tapeflow::ones({rows, width});
  const auto floor_rows = [&] {
    float* fv = static_cast<float*>(floor_var.storage()->data());
    float* fa = static_cast<float*>(floor_acc.storage()->data());
    constexpr std::size_t kAhead = 8;
    for (std::size_t r = 0; r < touched; ++r) {
      if (r + kAhead < touched) {
        const std::size_t ahead = static_cast<std::size_t>(picked[r + kAhead]) * width;
        for (std::size_t j = 0; j < width; j += 16) {
          __builtin_prefetch(fv + ahead + j, 1);
          __builtin_prefetch(fa + ahead + j, 1);
        }
      }
      const std::size_t offset = static_cast<std::size_t>(picked[r]) * width;
      const float* gr = values.data() + r * width;
      for (std::size_t j = 0; j < width; ++j) {
        fv[offset + j] += gr[j];
        fa[offset + j] += gr[j];
      }
    }
  };

  std::vector<std::function<void()>> bodies = {
      [&] { dense_opt.apply_gradients({{dense_grad, dense_table}}); },
      [&] { sparse_opt.apply_gradients({{sparse_grad, sparse_table}}); },
      raw_rows,
      floor_rows,
  };
  const auto samples = bench::interleaved_samples(warmup, repeats, bodies);
  const std::size_t before = bench::allocation_count();
  sparse_opt.apply_gradients({{sparse_grad, sparse_table}});
  const double allocs = static_cast<double>(bench::allocation_count() - before);

  const double ms = 1e3;
  const double dense = samples[0].median();
  table.row(label + ": dense apply_gradients (whole table)", dense * ms, "ms/step", -1, -1,
            note("the baseline", samples[0]));
  char text[96];
  std::snprintf(text, sizeof text, "%.2fx the plain row loop", samples[1].median() /
                                                                   samples[2].median());
  table.row(label + ": sparse apply_gradients (IndexedSlices)", samples[1].median() * ms,
            "ms/step", samples[1].median() / dense, allocs,
            note(text, samples[1]));
  table.row(label + ": plain fused loop on the rows", samples[2].median() * ms, "ms/step",
            samples[2].median() / dense, -1, note("", samples[2]));
  std::snprintf(text, sizeof text, "1 thread; sparse apply_gradients is %.2fx this",
                samples[1].median() / samples[3].median());
  table.row(label + ": memory floor (rows read+written, prefetched, 2 MiB pages)",
            samples[3].median() * ms, "ms/step", samples[3].median() / dense, -1,
            note(text, samples[3]));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  tapeflow::set_num_threads(bench::take_threads_option(argc, argv));
  const bench::Options options = bench::parse_options(argc, argv);
  bench::Table table("adagrad_sparse", options.rows_only);
  const int repeats = options.repeats > 0 ? options.repeats : (options.quick ? 3 : 21);
  const int warmup = options.quick ? 1 : 2;
  if (options.quick) return run(table, 10000, 16, 100, warmup, repeats);
  return run(table, 1000000, 64, 10000, warmup, repeats);
}
