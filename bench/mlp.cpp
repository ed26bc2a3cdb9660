// MLP 784-512-512-10 at batch 128, float32: forward (matmul + bias + relu, softmax
// cross-entropy built from ops) plus backward through a GradientTape, per step. The baseline is
// the same step's GEMMs alone, called as cblas_sgemm on preallocated buffers in the same run:
// 3 forward GEMMs, and 5 backward ones (no gradient for the input batch, which is not watched).
// OpenBLAS threads come from OPENBLAS_NUM_THREADS; run_all.sh runs 1 and 2.

#include <cblas.h>
#include <sys/resource.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include <tapeflow/tapeflow.hpp>

#include "harness.hpp"

namespace {

using tapeflow::Tensor;
using tapeflow::Variable;

struct Sizes {
  std::size_t batch, in, hidden1, hidden2, out;
};

struct Gemm {
  bool ta, tb;
  std::size_t m, n, k;
};

/// The GEMMs one training step makes, with the transposes tapeflow's matmul backward passes.
std::vector<Gemm> step_gemms(const Sizes& s) {
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
  cblas_sgemm(CblasRowMajor, g.ta ? CblasTrans : CblasNoTrans, g.tb ? CblasTrans : CblasNoTrans,
              static_cast<int>(g.m), static_cast<int>(g.n), static_cast<int>(g.k), 1.0f,
              buf.a.data(), lda, buf.b.data(), ldb, 0.0f, buf.c.data(), static_cast<int>(g.n));
}

struct Model {
  Variable w1, b1, w2, b2, w3, b3;
};

Model make_model(const Sizes& s) {
  using tapeflow::random::glorot_uniform;
  return {Variable(glorot_uniform({s.in, s.hidden1}), "w1"),
          Variable(tapeflow::zeros({s.hidden1}), "b1"),
          Variable(glorot_uniform({s.hidden1, s.hidden2}), "w2"),
          Variable(tapeflow::zeros({s.hidden2}), "b2"),
          Variable(glorot_uniform({s.hidden2, s.out}), "w3"),
          Variable(tapeflow::zeros({s.out}), "b3")};
}

/// Mean softmax cross-entropy of the logits against one-hot labels, from ops.
Tensor forward_loss(const Model& m, const Tensor& x, const Tensor& labels) {
  using namespace tapeflow;
  const Tensor a1 = relu(matmul(x, m.w1) + m.b1);
  const Tensor a2 = relu(matmul(a1, m.w2) + m.b2);
  const Tensor logits = matmul(a2, m.w3) + m.b3;
  return -reduce_mean(reduce_sum(labels * log_softmax(logits), {-1}));
}

long minor_page_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

}  // namespace

int main(int argc, char** argv) {
  const bench::Options options = bench::parse_options(argc, argv);
  const Sizes s = options.quick ? Sizes{16, 64, 32, 32, 10} : Sizes{128, 784, 512, 512, 10};
  const int repeats = options.repeats > 0 ? options.repeats : (options.quick ? 3 : 51);
  const int warmup = options.quick ? 1 : 5;
  bench::Table table("mlp", options.rows_only);
  const std::string shape = std::to_string(s.in) + "-" + std::to_string(s.hidden1) + "-" +
                            std::to_string(s.hidden2) + "-" + std::to_string(s.out) + " b" +
                            std::to_string(s.batch);
  const std::string threads =
      "OpenBLAS threads=" + std::to_string(openblas_get_num_threads());

  // Baseline: the step's GEMMs on preallocated buffers.
  const std::vector<Gemm> gemms = step_gemms(s);
  std::vector<GemmBuffers> buffers;
  double flops = 0;
  for (const Gemm& g : gemms) {
    buffers.push_back({std::vector<float>(g.m * g.k, 0.01f), std::vector<float>(g.k * g.n, 0.02f),
                       std::vector<float>(g.m * g.n)});
    flops += 2.0 * static_cast<double>(g.m * g.n * g.k);
  }
  tapeflow::random::set_seed(7);
  const Model model = make_model(s);
  const Tensor x = tapeflow::random::uniform({s.batch, s.in});
  const Tensor classes = tapeflow::cast(
      tapeflow::random::uniform({s.batch}, 0, static_cast<double>(s.out), tapeflow::DType::float64),
      tapeflow::DType::int64);
  const Tensor labels = tapeflow::one_hot(classes, s.out);
  const std::vector<tapeflow::TensorLike> sources = {model.w1, model.b1, model.w2,
                                                      model.b2, model.w3, model.b3};

  int failures = 0;
  enum Case { kGemm, kForward, kTapedForward, kStep, kCases };
  std::vector<std::function<void()>> bodies(kCases);
  bodies[kGemm] = [&] {
    for (std::size_t i = 0; i < gemms.size(); ++i) run_gemm(gemms[i], buffers[i]);
  };
  bodies[kForward] = [&] { bench::do_not_optimize(forward_loss(model, x, labels)); };
  bodies[kTapedForward] = [&] {
    tapeflow::GradientTape tape;
    bench::do_not_optimize(forward_loss(model, x, labels));
  };
  bodies[kStep] = [&] {
    tapeflow::GradientTape tape;
    const Tensor loss = forward_loss(model, x, labels);
    const std::vector<tapeflow::Gradient> grads = tape.gradient(loss, sources);
    for (const tapeflow::Gradient& g : grads) failures += g ? 0 : 1;
    if (!std::isfinite(loss.item<float>())) ++failures;
  };
  const std::vector<bench::Samples> samples = bench::interleaved_samples(warmup, repeats, bodies);
  const double gemm_seconds = samples[kGemm].median();
  const double forward_seconds = samples[kForward].median();
  const double taped_forward_seconds = samples[kTapedForward].median();
  const double step_seconds = samples[kStep].median();
  const std::size_t before = bench::allocation_count();
  const long faults_before = minor_page_faults();
  {
    tapeflow::GradientTape tape;
    const Tensor loss = forward_loss(model, x, labels);
    bench::do_not_optimize(tape.gradient(loss, sources));
  }
  const double step_allocs = static_cast<double>(bench::allocation_count() - before);
  const long step_faults = minor_page_faults() - faults_before;

  const double ms = 1e3;
  char gflops[64];
  std::snprintf(gflops, sizeof gflops, "%.0f GFLOP/s, ", flops / gemm_seconds * 1e-9);
  table.row(shape + ": sgemm only (8 GEMMs)", gemm_seconds * ms, "ms/step", -1, -1,
            gflops + threads + bench::preemption_note(samples[kGemm]));
  table.row(shape + ": forward, no tape", forward_seconds * ms, "ms/step",
            forward_seconds / gemm_seconds, -1,
            threads + bench::preemption_note(samples[kForward]));
  table.row(shape + ": forward, recorded", taped_forward_seconds * ms, "ms/step",
            taped_forward_seconds / gemm_seconds, -1,
            threads + bench::preemption_note(samples[kTapedForward]));
  table.row(shape + ": forward+backward", step_seconds * ms, "ms/step", step_seconds / gemm_seconds,
            step_allocs,
            threads + ", " + std::to_string(step_faults) + " page faults/step" +
                bench::preemption_note(samples[kStep]));
  if (failures != 0) std::fprintf(stderr, "mlp: missing gradients or a non-finite loss\n");
  return failures == 0 ? 0 : 1;
}
