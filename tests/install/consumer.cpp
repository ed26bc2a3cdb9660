// y = tanh(x w), loss = sum(y^2): the tape's dloss/dw must equal x^T (2 y (1 - y^2)).
#include <iostream>

#include <tapeflow/tapeflow.hpp>

int main() {
  using namespace tapeflow;
  Variable w(Tensor{{0.5, -1.0}, {0.25, 2.0}}, "w");  // trainable, so the tape watches it
  Tensor x = {{1.0, 2.0}};
  GradientTape tape;  // records from construction
  Tensor y = tanh(matmul(x, w));
  Tensor loss = reduce_sum(square(y));
  std::vector<Gradient> grads = tape.gradient(loss, {w});
  Tensor expected = matmul(x, 2.0 * y * (1.0 - y * y), /*transpose_a=*/true);
  std::cout << w << "\nloss: " << loss << "\ndloss/dw: " << grads[0].dense() << "\n";
  return reduce_max(abs(grads[0].dense() - expected)).item<double>() < 1e-5 ? 0 : 1;
}
