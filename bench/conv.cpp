// Convolutions at MNIST sizes (batch 64, 28×28, 3×3 SAME, float32): conv2d forward, and forward
// plus both gradients (input and filters), for 1->32 and 32->64 channels; and a full CNN training
// step (conv 32, max pool, conv 64, max pool, dense 10, softmax cross-entropy, SGD).
// Baselines in the same run: the GEMMs that the im2col lowering performs, alone, as cblas_sgemm
// on preallocated buffers (the floor of this design), and, built with -Dlibtorch=true, libtorch's
// own convolution (torch::conv2d, oneDNN on Debian's build) and training step.
// Threads: --threads N sets OpenBLAS's, tapeflow's and libtorch's (default 1).

#include <cblas.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include <tapeflow/tapeflow.hpp>

#include "harness.hpp"
#include "thread_option.hpp"

#ifdef TAPEFLOW_BENCH_LIBTORCH
#include <torch/torch.h>
#endif

namespace {

using tapeflow::Tensor;

struct ConvCase {
  std::size_t batch, size, in_c, out_c, k;
};

/// The three GEMMs of an im2col convolution (forward, input gradient, filter gradient) on
/// preallocated buffers: rows = batch·h·w, patch = k·k·in_c.
struct GemmFloor {
  std::size_t rows, patch, out_c;
  std::vector<float> col, filt, out, dcol, dfilt;
  explicit GemmFloor(const ConvCase& c)
      : rows(c.batch * c.size * c.size),
        patch(c.k * c.k * c.in_c),
        out_c(c.out_c),
        col(rows * patch, 0.5f),
        filt(patch * out_c, 0.25f),
        out(rows * out_c),
        dcol(rows * patch),
        dfilt(patch * out_c) {}
  void forward() {
    cblas_sgemm(CblasRowMajor,
                CblasNoTrans,
                CblasNoTrans,
                int(rows),
                int(out_c),
                int(patch),
                1.f,
                col.data(),
                int(patch),
                filt.data(),
                int(out_c),
                0.f,
                out.data(),
                int(out_c));
  }
  void backward(bool input_grad) {
    if (input_grad) {
      cblas_sgemm(CblasRowMajor,
                  CblasNoTrans,
                  CblasTrans,
                  int(rows),
                  int(patch),
                  int(out_c),
                  1.f,
                  out.data(),
                  int(out_c),
                  filt.data(),
                  int(out_c),
                  0.f,
                  dcol.data(),
                  int(patch));
    }
    cblas_sgemm(CblasRowMajor,
                CblasTrans,
                CblasNoTrans,
                int(patch),
                int(out_c),
                int(rows),
                1.f,
                col.data(),
                int(patch),
                out.data(),
                int(out_c),
                0.f,
                dfilt.data(),
                int(out_c));
  }
};

/// conv2d, then (with `backward`) both of its gradients through a tape.
void tapeflow_conv(const Tensor& x, const tapeflow::Variable& w, bool backward) {
  if (!backward) {
    bench::do_not_optimize(tapeflow::conv2d(x, w.read_value_no_record(), {1}, "SAME"));
    return;
  }
  tapeflow::GradientTape tape;
  tape.watch(x);
  const Tensor y = tapeflow::conv2d(x, w, {1}, "SAME");
  const auto grads = tape.gradient(y, {x, w}, tapeflow::ones_like(y));
  bench::do_not_optimize(grads[1].dense());
}

/// The CNN of the training-step rows, on tape ops (its layers' computation).
struct Cnn {
  tapeflow::Variable k1, b1, k2, b2, w3, b3;
  /// `flat`: the dense layer's inputs, (size / 4)² · 64.
  explicit Cnn(std::size_t flat)
      : k1(tapeflow::random::glorot_uniform({3, 3, 1, 32}), "k1"),
        b1(tapeflow::zeros({32}), "b1"),
        k2(tapeflow::random::glorot_uniform({3, 3, 32, 64}), "k2"),
        b2(tapeflow::zeros({64}), "b2"),
        w3(tapeflow::random::glorot_uniform({flat, 10}), "w3"),
        b3(tapeflow::zeros({10}), "b3") {}
  std::vector<tapeflow::Variable> variables() const { return {k1, b1, k2, b2, w3, b3}; }
  Tensor loss(const Tensor& x, const Tensor& labels) const {
    Tensor h = tapeflow::bias_add_relu(tapeflow::conv2d(x, k1, {1}, "SAME"), b1);
    h = tapeflow::max_pool2d(h, {2}, {2}, "VALID");
    h = tapeflow::bias_add_relu(tapeflow::conv2d(h, k2, {1}, "SAME"), b2);
    h = tapeflow::max_pool2d(h, {2}, {2}, "VALID");
    h = tapeflow::reshape(h, {static_cast<std::int64_t>(x.shape()[0]), -1});
    const Tensor logits = tapeflow::bias_add(tapeflow::matmul(h, w3), b3);
    return tapeflow::reduce_mean(
        tapeflow::sparse_softmax_cross_entropy_with_logits(labels, logits));
  }
};

#ifdef TAPEFLOW_BENCH_LIBTORCH
struct TorchCnn : torch::nn::Module {
  torch::nn::Conv2d c1{nullptr}, c2{nullptr};
  torch::nn::Linear fc{nullptr};
  explicit TorchCnn(long flat) {
    c1 = register_module("c1", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 32, 3).padding(1)));
    c2 = register_module("c2", torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, 3).padding(1)));
    fc = register_module("fc", torch::nn::Linear(flat, 10));
  }
  torch::Tensor forward(torch::Tensor x) {
    x = torch::max_pool2d(torch::relu(c1->forward(x)), 2);
    x = torch::max_pool2d(torch::relu(c2->forward(x)), 2);
    return fc->forward(x.flatten(1));
  }
};
#endif

}  // namespace

int main(int argc, char** argv) {
  const int threads = bench::take_threads_option(argc, argv);
  const bench::Options options = bench::parse_options(argc, argv);
  const int repeats = options.repeats > 0 ? options.repeats : (options.quick ? 2 : 31);
  const int warmup = options.quick ? 1 : 3;
  const std::size_t batch = options.quick ? 2 : 64, size = options.quick ? 8 : 28;
  openblas_set_num_threads(threads);
  tapeflow::set_num_threads(threads);
#ifdef TAPEFLOW_BENCH_LIBTORCH
  torch::set_num_threads(threads);
  torch::manual_seed(7);
#endif
  tapeflow::random::set_seed(7);
  const std::string suffix = ", " + std::to_string(threads) + " thread" + (threads == 1 ? "" : "s");
  bench::Table table("conv", options.rows_only);
  bool ok = true;

  for (const ConvCase c : {ConvCase{batch, size, 1, 32, 3}, ConvCase{batch, size, 32, 64, 3}}) {
    const std::string shape = "b" + std::to_string(c.batch) + " " + std::to_string(c.size) + "x" +
                              std::to_string(c.size) + " " + std::to_string(c.in_c) + "->" +
                              std::to_string(c.out_c) + " 3x3 SAME" + suffix;
    const Tensor x = tapeflow::random::uniform({c.batch, c.size, c.size, c.in_c});
    const tapeflow::Variable w(tapeflow::random::glorot_uniform({c.k, c.k, c.in_c, c.out_c}));
    GemmFloor floor(c);
    std::vector<std::function<void()>> bodies = {
        [&] { floor.forward(); },
        [&] { tapeflow_conv(x, w, false); },
        [&] {
          floor.forward();
          floor.backward(true);
        },
        [&] { tapeflow_conv(x, w, true); },
    };
#ifdef TAPEFLOW_BENCH_LIBTORCH
    const long n = static_cast<long>(c.batch), s = static_cast<long>(c.size);
    const torch::Tensor tx = torch::rand({n, static_cast<long>(c.in_c), s, s}).requires_grad_(true);
    const torch::Tensor tw =
        torch::rand({static_cast<long>(c.out_c), static_cast<long>(c.in_c), 3, 3})
            .requires_grad_(true);
    bodies.push_back([&] {
      torch::NoGradGuard no_grad;
      bench::do_not_optimize(torch::conv2d(tx, tw, {}, 1, 1));
    });
    bodies.push_back([&] {
      torch::conv2d(tx, tw, {}, 1, 1).sum().backward();
      tx.mutable_grad().reset();
      tw.mutable_grad().reset();
    });
#endif
    const auto samples = bench::interleaved_samples(warmup, repeats, bodies);
    std::size_t before = bench::allocation_count();
    tapeflow_conv(x, w, true);
    const double allocs = static_cast<double>(bench::allocation_count() - before);
    const double gemm_fwd = samples[0].median(), gemm_all = samples[2].median();
    const double fwd = samples[1].median(), all = samples[3].median();
    table.row(shape + ": GEMMs alone, forward",
              gemm_fwd * 1e3,
              "ms",
              -1,
              -1,
              "cblas_sgemm on preallocated buffers" + bench::preemption_note(samples[0]));
    table.row(shape + ": tapeflow conv2d forward",
              fwd * 1e3,
              "ms",
              fwd / gemm_fwd,
              -1,
              "vs its GEMMs" + bench::preemption_note(samples[1]));
    table.row(shape + ": GEMMs alone, forward + both gradients",
              gemm_all * 1e3,
              "ms",
              -1,
              -1,
              "3 cblas_sgemm" + bench::preemption_note(samples[2]));
    table.row(shape + ": tapeflow conv2d forward + both gradients",
              all * 1e3,
              "ms",
              all / gemm_all,
              allocs,
              "vs its GEMMs" + bench::preemption_note(samples[3]));
#ifdef TAPEFLOW_BENCH_LIBTORCH
    const double tfwd = samples[4].median(), tall = samples[5].median();
    char note[96];
    std::snprintf(note, sizeof note, "tapeflow forward %.2fx faster", tfwd / fwd);
    table.row(shape + ": libtorch conv2d forward",
              tfwd * 1e3,
              "ms",
              tfwd / gemm_fwd,
              -1,
              note + bench::preemption_note(samples[4]));
    std::snprintf(note, sizeof note, "tapeflow forward + gradients %.2fx faster", tall / all);
    table.row(shape + ": libtorch conv2d forward + both gradients",
              tall * 1e3,
              "ms",
              tall / gemm_all,
              -1,
              note + bench::preemption_note(samples[5]));
#endif
  }

  // The training step.
  const std::size_t flat = (size / 4) * (size / 4) * 64;
  const Cnn cnn(flat);
  const std::vector<tapeflow::Variable> variables = cnn.variables();
  const std::vector<tapeflow::TensorLike> sources(variables.begin(), variables.end());
  tapeflow::optim::SGD sgd(0.01);
  const Tensor images = tapeflow::random::uniform({batch, size, size, 1});
  const Tensor labels = tapeflow::cast(
      tapeflow::random::uniform({batch}, 0, 10, tapeflow::DType::float64), tapeflow::DType::int32);
  float loss = 0;
  const auto step = [&] {
    tapeflow::GradientTape tape;
    const Tensor l = cnn.loss(images, labels);
    sgd.apply_gradients(tapeflow::zip(tape.gradient(l, sources), variables));
    loss = l.item<float>();
  };
  std::vector<std::function<void()>> steps = {step};
#ifdef TAPEFLOW_BENCH_LIBTORCH
  auto net = std::make_shared<TorchCnn>(static_cast<long>(flat));
  torch::optim::SGD torch_sgd(net->parameters(), torch::optim::SGDOptions(0.01));
  const torch::Tensor timages =
      torch::rand({static_cast<long>(batch), 1, static_cast<long>(size), static_cast<long>(size)});
  const torch::Tensor tlabels = torch::randint(10, {static_cast<long>(batch)}, torch::kLong);
  float torch_loss = 0;
  steps.push_back([&] {
    torch_sgd.zero_grad();
    torch::Tensor l = torch::nn::functional::cross_entropy(net->forward(timages), tlabels);
    l.backward();
    torch_sgd.step();
    torch_loss = l.item<float>();
  });
#endif
  const auto step_samples = bench::interleaved_block_samples(warmup, repeats, 4, steps);
  std::size_t before = bench::allocation_count();
  step();
  const double step_allocs = static_cast<double>(bench::allocation_count() - before);
  const std::string cnn_name = "CNN step b" + std::to_string(batch) + " " + std::to_string(size) +
                               "x" + std::to_string(size) + " conv32-pool-conv64-pool-dense10 SGD" +
                               suffix;
  const double ours = step_samples[0].median();
#ifdef TAPEFLOW_BENCH_LIBTORCH
  const double theirs = step_samples[1].median();
  table.row(cnn_name + ": libtorch",
            theirs * 1e3,
            "ms/step",
            -1,
            -1,
            "the baseline" + bench::preemption_note(step_samples[1]));
  char step_note[96];
  std::snprintf(step_note, sizeof step_note, "%.2fx faster than libtorch", theirs / ours);
  table.row(cnn_name + ": tapeflow",
            ours * 1e3,
            "ms/step",
            ours / theirs,
            step_allocs,
            step_note + bench::preemption_note(step_samples[0]));
  ok = ok && std::isfinite(torch_loss);
#else
  table.row(cnn_name + ": tapeflow",
            ours * 1e3,
            "ms/step",
            -1,
            step_allocs,
            "libtorch side needs -Dlibtorch=true" + bench::preemption_note(step_samples[0]));
#endif
  ok = ok && std::isfinite(loss);
  if (!ok) std::fprintf(stderr, "conv: a loss is not finite\n");
  return ok ? 0 : 1;
}
