// Training step, MLP 784-512-512-10 at batch 128, float32: forward, backward and one Adagrad
// update, in tapeflow (bench/mlp_model.hpp) and in libtorch (torch::nn::Linear, relu,
// cross_entropy, torch::optim::Adagrad), measured in the same run in interleaved rounds of 4
// steps in a row per framework (the first untimed).
// The baseline is libtorch's step. Threads: OPENBLAS_NUM_THREADS for tapeflow's GEMMs and
// at::set_num_threads for libtorch, both from --threads (default 1). Built with -Dlibtorch=true.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <torch/torch.h>
#include <cblas.h>

#include "harness.hpp"
#include "mlp_model.hpp"
#include "thread_option.hpp"

namespace {

/// Each case runs this many times in a row per round, the first untimed: training steps follow
/// each other, so a step's caches hold the model, not the other case's data.
constexpr int kStepsInARow = 4;

struct TorchMlp : torch::nn::Module {
  torch::nn::Linear fc1{nullptr}, fc2{nullptr}, fc3{nullptr};
  explicit TorchMlp(const bench::MlpSizes& s) {
    fc1 = register_module("fc1", torch::nn::Linear(s.in, s.hidden1));
    fc2 = register_module("fc2", torch::nn::Linear(s.hidden1, s.hidden2));
    fc3 = register_module("fc3", torch::nn::Linear(s.hidden2, s.out));
  }
  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(fc1->forward(x));
    x = torch::relu(fc2->forward(x));
    return fc3->forward(x);
  }
};

}  // namespace

int main(int argc, char** argv) {
  const int threads = bench::take_threads_option(argc, argv);
  const bench::Options options = bench::parse_options(argc, argv);
  const bench::MlpSizes s =
      options.quick ? bench::MlpSizes{16, 64, 32, 32, 10} : bench::MlpSizes{128, 784, 512, 512, 10};
  const int repeats = options.repeats > 0 ? options.repeats : (options.quick ? 3 : 51);
  const int warmup = options.quick ? 1 : 5;
  openblas_set_num_threads(threads);
  torch::set_num_threads(threads);
  const std::string shape = std::to_string(s.in) + "-" + std::to_string(s.hidden1) + "-" +
                            std::to_string(s.hidden2) + "-" + std::to_string(s.out) + " b" +
                            std::to_string(s.batch) + ", " + std::to_string(threads) + " thread" +
                            (threads == 1 ? "" : "s");

  tapeflow::random::set_seed(7);
  const bench::Mlp model(s);
  const std::vector<tapeflow::Variable> variables = model.variables();
  tapeflow::optim::Adagrad optimizer(0.01);
  const tapeflow::Tensor x = tapeflow::random::uniform({s.batch, s.in});
  const tapeflow::Tensor labels = tapeflow::cast(
      tapeflow::random::uniform({s.batch}, 0, static_cast<double>(s.out), tapeflow::DType::float64),
      tapeflow::DType::int32);

  torch::manual_seed(7);
  auto net = std::make_shared<TorchMlp>(s);
  torch::optim::Adagrad torch_optimizer(
      net->parameters(),
      torch::optim::AdagradOptions(0.01).initial_accumulator_value(0.1).eps(1e-7));
  const torch::Tensor tx = torch::rand({static_cast<long>(s.batch), static_cast<long>(s.in)});
  const torch::Tensor ty =
      torch::randint(static_cast<long>(s.out), {static_cast<long>(s.batch)}, torch::kLong);

  float tapeflow_loss = 0, torch_loss = 0;
  const std::vector<std::function<void()>> bodies = {
      [&] {
        torch_optimizer.zero_grad();
        torch::Tensor loss = torch::nn::functional::cross_entropy(net->forward(tx), ty);
        loss.backward();
        torch_optimizer.step();
        torch_loss = loss.item<float>();
      },
      [&] { tapeflow_loss = bench::mlp_train_step(model, optimizer, variables, x, labels); },
  };
  const std::vector<bench::Samples> samples =
      bench::interleaved_block_samples(warmup, repeats, kStepsInARow, bodies);
  const std::size_t before = bench::allocation_count();
  bench::mlp_train_step(model, optimizer, variables, x, labels);
  const double allocs = static_cast<double>(bench::allocation_count() - before);

  bench::Table table("torch_mlp", options.rows_only);
  const double torch_seconds = samples[0].median(), ours = samples[1].median();
  table.row(shape + ": libtorch step (Adagrad)",
            torch_seconds * 1e3,
            "ms/step",
            -1,
            -1,
            "the baseline" + bench::preemption_note(samples[0]));
  char note[96];
  std::snprintf(note, sizeof note, "%.2fx faster than libtorch", torch_seconds / ours);
  table.row(shape + ": tapeflow step (Adagrad)",
            ours * 1e3,
            "ms/step",
            ours / torch_seconds,
            allocs,
            note + bench::preemption_note(samples[1]));
  const bool finite = std::isfinite(tapeflow_loss) && std::isfinite(torch_loss);
  if (!finite) std::fprintf(stderr, "torch_mlp: a loss is not finite\n");
  return finite ? 0 : 1;
}
