// A Keras custom training loop, step by step: run the model under a GradientTape, take
// tape.gradient of the loss, and hand zip(grads, vars) to optimizer.apply_gradients. The optimizer
// is Adam with clipnorm, so each gradient is rescaled to norm <= clipnorm before the update; after
// the first step the example reads Adam's "m" slot to check it. Exits non-zero if the slot
// disagrees with the clipped gradient or the held-out accuracy is below 95%.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>

#include <tapeflow/tapeflow.hpp>

namespace tf = tapeflow;
namespace nn = tapeflow::nn;
namespace optim = tapeflow::optim;

int main() {
  // Data: points in [-2, 2]^2, class 1 inside the circle x0^2 + x1^2 < 2 (not linearly separable).
  tf::random::set_seed(7);
  const tf::Tensor x = tf::random::uniform({1200, 2}, -2.0, 2.0);
  const tf::Tensor y = tf::cast(tf::reduce_sum(tf::square(x), {1}) < tf::Tensor(2.0),
                                tf::DType::int64);
  // The first 1000 rows train, the last 200 test (x[:1000], x[1000:] in NumPy).
  const tf::Tensor x_train = tf::slice_axis(x, 0, 0, 1000);
  const tf::Tensor y_train = tf::slice_axis(y, 0, 0, 1000);
  const tf::Tensor x_test = tf::slice_axis(x, 0, 1000, 200);
  const tf::Tensor y_test = tf::slice_axis(y, 0, 1000, 200);

  // model = keras.Sequential([Dense(16, "tanh"), Dense(2)]); the loss takes logits.
  nn::Sequential model({nn::Dense(16, "tanh"), nn::Dense(2)});
  const nn::SparseCategoricalCrossentropy loss_fn(/*from_logits=*/true);
  // Adam(learning_rate=0.05, clipnorm=0.1): kwargs are Keras's **kwargs.
  const double clipnorm = 0.1;
  optim::Adam opt(0.05, 0.9, 0.999, 1e-7, false, "Adam", {{"clipnorm", clipnorm}});

  const std::size_t batch = 50;
  int failures = 0;
  for (int epoch = 1; epoch <= 30; ++epoch) {
    double epoch_loss = 0.0;
    for (std::size_t start = 0; start < 1000; start += batch) {
      const tf::Tensor xb = tf::slice_axis(x_train, 0, start, batch);
      const tf::Tensor yb = tf::slice_axis(y_train, 0, start, batch);

      // with tf.GradientTape() as tape: loss = loss_fn(y, model(x))
      tf::GradientTape tape;
      const tf::Tensor loss = loss_fn(yb, model(xb));
      // grads = tape.gradient(loss, model.trainable_variables)
      const std::vector<tf::Variable> vars = model.trainable_variables();
      const std::vector<tf::Gradient> grads = tape.gradient(loss, vars);
      opt.apply_gradients(tf::zip(grads, vars));  // clips, then updates every variable
      epoch_loss += loss.item<double>() * batch / 1000.0;

      if (opt.iterations().numpy<long long>()() == 1) {
        // After one step Adam's first moment is m = (1 - beta_1) * clipped g, with
        // clipped g = g * clipnorm / max(||g||, clipnorm). Read the slot and compare.
        std::cout << "step 1: slots " << opt.get_slot_names().size() << " per variable, "
                  << opt.weights().size() << " optimizer weights\n";
        for (std::size_t i = 0; i < vars.size(); ++i) {
          const tf::Tensor g = grads[i].dense();
          const double norm = std::sqrt(tf::reduce_sum(tf::square(g)).item<double>());
          const tf::Tensor want = g * (0.1 * clipnorm / std::max(norm, clipnorm));
          const tf::Variable m = opt.get_slot(vars[i], "m");
          const double err = tf::reduce_max(tf::abs(m - want)).item<double>();
          std::printf("  %-16s |g| = %.4f%s  max|m - 0.1*clip(g)| = %.2e\n",
                      vars[i].name().c_str(), norm, norm > clipnorm ? " (clipped)" : "", err);
          if (err > 1e-6) ++failures;
        }
      }
    }
    if (epoch % 5 == 0) std::printf("epoch %2d  loss %.4f\n", epoch, epoch_loss);
  }

  // A slot after training: Adam's second moment v of the first kernel.
  std::cout << opt.get_slot(model.trainable_variables()[0], "v") << "\n";

  // Held-out accuracy: argmax of the logits against the labels.
  const tf::Tensor predicted = tf::argmax(model(x_test), -1);
  const double accuracy =
      tf::reduce_mean(tf::cast(tf::equal(predicted, y_test), tf::DType::float64)).item<double>();
  std::printf("held-out accuracy %.3f after %lld steps\n", accuracy,
              opt.iterations().numpy<long long>()());

  if (failures > 0 || accuracy < 0.95) {
    std::fprintf(stderr, "custom_training_loop: %d slot mismatch(es), accuracy %.3f (need 0.95)\n",
                 failures, accuracy);
    return 1;
  }
  return 0;
}
