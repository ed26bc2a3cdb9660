// Fits y = 3x + 2 from noisy samples with plain gradient descent written by hand: the tape gives
// d(loss)/dw and d(loss)/db, and each step moves w and b against them. Exits non-zero if the fit
// misses the true line.
#include <cmath>
#include <cstdio>
#include <iostream>

#include <tapeflow/tapeflow.hpp>

namespace tf = tapeflow;

int main() {
  tf::random::set_seed(2024);
  const std::size_t n = 200;
  const tf::Tensor x = tf::random::uniform({n, 1}, -1.0, 1.0);
  const tf::Tensor y = 3.0 * x + 2.0 + tf::random::normal({n, 1}, 0.0, 0.1);

  tf::Variable w(tf::Tensor(0.0), "w");
  tf::Variable b(tf::Tensor(0.0), "b");
  const double learning_rate = 0.05;
  const int steps = 300;
  double first_loss = 0.0, last_loss = 0.0;

  for (int step = 0; step <= steps; ++step) {
    tf::GradientTape tape;
    const tf::Tensor loss = tf::reduce_mean(tf::square(w * x + b - y));  // mean squared error
    const std::vector<tf::Gradient> grads = tape.gradient(loss, {w, b});
    w.assign_sub(grads[0].dense() * learning_rate);
    b.assign_sub(grads[1].dense() * learning_rate);

    last_loss = loss.item<double>();
    if (step == 0) first_loss = last_loss;
    if (step % 30 == 0) std::printf("step %3d  loss %.6f\n", step, last_loss);
  }

  const double w_fit = w.numpy<double>()(), b_fit = b.numpy<double>()();
  std::cout << w << "\n" << b << "\n";
  std::printf("learned y = %.4f x + %.4f (true: y = 3x + 2)\n", w_fit, b_fit);
  // The noise (sd 0.1) leaves a loss floor near 0.01; anything well above it did not converge.
  const bool converged = std::abs(w_fit - 3.0) < 0.1 && std::abs(b_fit - 2.0) < 0.1 &&
                         last_loss < 0.02 && last_loss < first_loss;
  if (!converged) {
    std::fprintf(stderr, "fit_line: did not converge (w=%g, b=%g, loss=%g)\n", w_fit, b_fit,
                 last_loss);
    return 1;
  }
  return 0;
}
