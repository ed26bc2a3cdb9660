#pragma once
// The tapeflow side of the MLP benchmarks (bench_mlp, bench_torch_mlp): a 3-layer perceptron with
// relu, as nn::Dense computes it (matmul, then bias_add_relu), and one full training step.

#include <cstddef>
#include <vector>

#include <tapeflow/tapeflow.hpp>

namespace bench {

struct MlpSizes {
  std::size_t batch, in, hidden1, hidden2, out;
};

struct Mlp {
  tapeflow::Variable w1, b1, w2, b2, w3, b3;

  explicit Mlp(const MlpSizes& s)
      : w1(tapeflow::random::glorot_uniform({s.in, s.hidden1}), "w1"),
        b1(tapeflow::zeros({s.hidden1}), "b1"),
        w2(tapeflow::random::glorot_uniform({s.hidden1, s.hidden2}), "w2"),
        b2(tapeflow::zeros({s.hidden2}), "b2"),
        w3(tapeflow::random::glorot_uniform({s.hidden2, s.out}), "w3"),
        b3(tapeflow::zeros({s.out}), "b3") {}

  std::vector<tapeflow::Variable> variables() const { return {w1, b1, w2, b2, w3, b3}; }

  /// Mean softmax cross-entropy against integer labels (the fused op, as nn's loss uses).
  tapeflow::Tensor loss(const tapeflow::Tensor& x, const tapeflow::Tensor& labels) const {
    using namespace tapeflow;
    const Tensor a1 = bias_add_relu(matmul(x, w1), b1);
    const Tensor a2 = bias_add_relu(matmul(a1, w2), b2);
    const Tensor logits = bias_add(matmul(a2, w3), b3);
    return reduce_mean(sparse_softmax_cross_entropy_with_logits(labels, logits));
  }
};

/// One training step: forward on a tape, backward, one optimizer update. Returns the loss.
inline float mlp_train_step(const Mlp& model,
                            tapeflow::optim::Optimizer& optimizer,
                            const std::vector<tapeflow::Variable>& variables,
                            const tapeflow::Tensor& x,
                            const tapeflow::Tensor& labels) {
  tapeflow::GradientTape tape;
  const tapeflow::Tensor loss = model.loss(x, labels);
  const std::vector<tapeflow::TensorLike> sources(variables.begin(), variables.end());
  optimizer.apply_gradients(tapeflow::zip(tape.gradient(loss, sources), variables));
  return loss.item<float>();
}

}  // namespace bench
