// MLP 784-512-512-10 at batch 128, float32 (bench/mlp_model.hpp: matmul, bias_add_relu, fused
// sparse softmax cross-entropy): forward, forward plus backward through a GradientTape, and the
// full training step with an Adagrad update, per step. The baseline is
// the same step's GEMMs alone, called as cblas_sgemm on preallocated buffers in the same run:
// 3 forward GEMMs, and 5 backward ones (no gradient for the input batch, which is not watched).
// OpenBLAS threads come from OPENBLAS_NUM_THREADS; run_all.sh runs 1 and 2. Cases run in
// interleaved rounds of 4 calls in a row each (the first untimed).

#include <cblas.h>
#include <sys/resource.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include <tapeflow/tapeflow.hpp>

#include "harness.hpp"
#include "mlp_model.hpp"

namespace {

/// Each case runs this many times in a row per round, the first untimed: training steps follow
/// each other, so a step's caches hold the model, not the other case's data.
constexpr int kStepsInARow = 4;

using tapeflow::Tensor;
using tapeflow::Variable;

struct Gemm {
  bool ta, tb;
  std::size_t m, n, k;
};

/// The GEMMs one training step makes, with the transposes tapeflow's matmul backward passes.
std::vector<Gemm> step_gemms(const bench::MlpSizes& s) {
  return {
      {false, false, s.batch, s.hidden1, s.in},       // h1 = x @ W1
      {false, false, s.batch, s.hidden2, s.hidden1},  // h2 = a1 @ W2
      {false, false, s.batch, s.out, s.hidden2},      // logits = a2 @ W3
      {true, false, s.hidden2, s.out, s.batch},       // dW3 = a2ᵀ @ g3
      {false, true, s.batch, s.hidden2, s.out},       // da2 = g3 @ W3ᵀ
      {true, false, s.hidden1, s.hidden2, s.batch},   // dW2 = a1ᵀ @ g2
      {false, true, s.batch, s.hidden1, s.hidden2},   // da1 = g2 @ W2ᵀ
      {true, false, s.in, s.hidden1, s.batch},        // dW1 = xᵀ @ g1
  };
}

struct GemmBuffers {
  std::vector<float> a, b, c;
};

void run_gemm(const Gemm& g, GemmBuffers& buf) {
  const int lda = static_cast<int>(g.ta ? g.m : g.k);
  const int ldb = static_cast<int>(g.tb ? g.k : g.n);
  cblas_sgemm(CblasRowMajor,
              g.ta ? CblasTrans : CblasNoTrans,
              g.tb ? CblasTrans : CblasNoTrans,
              static_cast<int>(g.m),
              static_cast<int>(g.n),
              static_cast<int>(g.k),
              1.0f,
              buf.a.data(),
              lda,
              buf.b.data(),
              ldb,
              0.0f,
              buf.c.data(),
              static_cast<int>(g.n));
}

long minor_page_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

}  // namespace

int main(int argc, char** argv) {
  const bench::Options options = bench::parse_options(argc, argv);
  const bench::MlpSizes s =
      options.quick ? bench::MlpSizes{16, 64, 32, 32, 10} : bench::MlpSizes{128, 784, 512, 512, 10};
  const int repeats = options.repeats > 0 ? options.repeats : (options.quick ? 3 : 51);
  const int warmup = options.quick ? 1 : 5;
  bench::Table table("mlp", options.rows_only);
  const std::string shape = std::to_string(s.in) + "-" + std::to_string(s.hidden1) + "-" +
                            std::to_string(s.hidden2) + "-" + std::to_string(s.out) + " b" +
                            std::to_string(s.batch);
  const std::string threads = "OpenBLAS threads=" + std::to_string(openblas_get_num_threads());

  // Baseline: the step's GEMMs on preallocated buffers.
  const std::vector<Gemm> gemms = step_gemms(s);
  std::vector<GemmBuffers> buffers;
  double flops = 0;
  for (const Gemm& g : gemms) {
    buffers.push_back({std::vector<float>(g.m * g.k, 0.01f),
                       std::vector<float>(g.k * g.n, 0.02f),
                       std::vector<float>(g.m * g.n)});
    flops += 2.0 * static_cast<double>(g.m * g.n * g.k);
  }
  tapeflow::random::set_seed(7);
  const bench::Mlp model(s);
  const std::vector<Variable> variables = model.variables();
  tapeflow::optim::Adagrad optimizer(0.01);
  const Tensor x = tapeflow::random::uniform({s.batch, s.in});
  const Tensor labels = tapeflow::cast(
      tapeflow::random::uniform({s.batch}, 0, static_cast<double>(s.out), tapeflow::DType::float64),
      tapeflow::DType::int32);
  const std::vector<tapeflow::TensorLike> sources(variables.begin(), variables.end());

  int failures = 0;
  enum Case { kGemm, kForward, kTapedForward, kStep, kTrain, kCases };
  std::vector<std::function<void()>> bodies(kCases);
  bodies[kGemm] = [&] {
    for (std::size_t i = 0; i < gemms.size(); ++i) run_gemm(gemms[i], buffers[i]);
  };
  bodies[kForward] = [&] { bench::do_not_optimize(model.loss(x, labels)); };
  bodies[kTapedForward] = [&] {
    tapeflow::GradientTape tape;
    bench::do_not_optimize(model.loss(x, labels));
  };
  bodies[kStep] = [&] {
    tapeflow::GradientTape tape;
    const Tensor loss = model.loss(x, labels);
    const std::vector<tapeflow::Gradient> grads = tape.gradient(loss, sources);
    for (const tapeflow::Gradient& g : grads) failures += g ? 0 : 1;
    if (!std::isfinite(loss.item<float>())) ++failures;
  };
  bodies[kTrain] = [&] {
    const float loss = bench::mlp_train_step(model, optimizer, variables, x, labels);
    if (!std::isfinite(loss)) ++failures;
  };
  const std::vector<bench::Samples> samples =
      bench::interleaved_block_samples(warmup, repeats, kStepsInARow, bodies);
  const double gemm_seconds = samples[kGemm].median();
  const double forward_seconds = samples[kForward].median();
  const double taped_forward_seconds = samples[kTapedForward].median();
  const double step_seconds = samples[kStep].median();
  const std::size_t before = bench::allocation_count();
  const long faults_before = minor_page_faults();
  {
    tapeflow::GradientTape tape;
    const Tensor loss = model.loss(x, labels);
    bench::do_not_optimize(tape.gradient(loss, sources));
  }
  const double step_allocs = static_cast<double>(bench::allocation_count() - before);
  const long step_faults = minor_page_faults() - faults_before;
  const std::size_t before_train = bench::allocation_count();
  const long faults_before_train = minor_page_faults();
  bench::mlp_train_step(model, optimizer, variables, x, labels);
  const double train_allocs = static_cast<double>(bench::allocation_count() - before_train);
  const long train_faults = minor_page_faults() - faults_before_train;
  const double train_seconds = samples[kTrain].median();

  const double ms = 1e3;
  char gflops[64];
  std::snprintf(gflops, sizeof gflops, "%.0f GFLOP/s, ", flops / gemm_seconds * 1e-9);
  table.row(shape + ": sgemm only (8 GEMMs)",
            gemm_seconds * ms,
            "ms/step",
            -1,
            -1,
            gflops + threads + bench::preemption_note(samples[kGemm]));
  table.row(shape + ": forward, no tape",
            forward_seconds * ms,
            "ms/step",
            forward_seconds / gemm_seconds,
            -1,
            threads + bench::preemption_note(samples[kForward]));
  table.row(shape + ": forward, recorded",
            taped_forward_seconds * ms,
            "ms/step",
            taped_forward_seconds / gemm_seconds,
            -1,
            threads + bench::preemption_note(samples[kTapedForward]));
  table.row(shape + ": forward+backward",
            step_seconds * ms,
            "ms/step",
            step_seconds / gemm_seconds,
            step_allocs,
            threads + ", " + std::to_string(step_faults) + " page faults/step" +
                bench::preemption_note(samples[kStep]));
  table.row(shape + ": full step (+ Adagrad update)",
            train_seconds * ms,
            "ms/step",
            train_seconds / gemm_seconds,
            train_allocs,
            threads + ", " + std::to_string(train_faults) + " page faults/step" +
                bench::preemption_note(samples[kTrain]));
  if (failures != 0) std::fprintf(stderr, "mlp: missing gradients or a non-finite loss\n");
  return failures == 0 ? 0 : 1;
}
