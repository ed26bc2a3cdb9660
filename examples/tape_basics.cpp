// The GradientTape tour: a gradient, a persistent tape asked twice, nested tapes for a second
// derivative, and a jacobian. Every value is checked against its closed form; exits non-zero if
// one is off.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>

#include <tapeflow/tapeflow.hpp>

namespace tf = tapeflow;

namespace {

int failures = 0;

void check(const std::string& what, double got, double want) {
  const bool ok = std::abs(got - want) <= 1e-5 * (1.0 + std::abs(want));
  std::printf("  %-12s %11.6f   expected %11.6f%s\n", what.c_str(), got, want,
              ok ? "" : "   <-- WRONG");
  if (!ok) ++failures;
}

}  // namespace

int main() {
  // 1. d/dw sum(w^2 + 3w) = 2w + 3, for a trainable Variable (watched automatically).
  std::cout << "gradient of sum(w^2 + 3w):\n";
  tf::Variable w(tf::Tensor{1.0, -2.0, 0.5}, "w");
  {
    tf::GradientTape tape;
    const tf::Tensor f = tf::reduce_sum(tf::square(w) + 3.0 * w);
    const tf::Tensor g = tape.gradient(f, {w})[0];
    std::cout << "  " << w << "\n  grad = " << g << "\n";
    const auto gv = g.numpy<double>(), wv = w.numpy<double>();
    for (std::size_t i = 0; i < 3; ++i) {
      check("df/dw[" + std::to_string(i) + "]", gv(i), 2 * wv(i) + 3);
    }
  }

  // 2. A persistent tape answers several questions about one recording: y = x^2, z = y^2.
  std::cout << "persistent tape, x = 3:\n";
  {
    const tf::Tensor x = 3.0;
    tf::GradientTape tape(/*persistent=*/true);
    tape.watch(x);
    const tf::Tensor y = x * x;
    const tf::Tensor z = y * y;
    check("dz/dx = 4x^3", tape.gradient(z, {x})[0].dense().item<double>(), 108.0);
    check("dy/dx = 2x", tape.gradient(y, {x})[0].dense().item<double>(), 6.0);
  }

  // 3. Nested tapes: the outer tape records the inner tape's gradient computation, so it can
  //    differentiate the derivative. y = tanh(x): y' = 1 - tanh^2, y'' = -2 tanh (1 - tanh^2).
  std::cout << "nested tapes, y = tanh(x) at x = 0.5:\n";
  {
    const tf::Tensor x = 0.5;
    tf::GradientTape outer;
    outer.watch(x);
    tf::Tensor dy_dx;
    {
      tf::GradientTape inner;
      inner.watch(x);
      const tf::Tensor y = tf::tanh(x);
      dy_dx = inner.gradient(y, {x})[0];
    }
    const tf::Tensor d2y_dx2 = outer.gradient(dy_dx, {x})[0];
    const double t = std::tanh(0.5);
    check("dy/dx", dy_dx.item<double>(), 1 - t * t);
    check("d2y/dx2", d2y_dx2.item<double>(), -2 * t * (1 - t * t));
  }

  // 4. Jacobian of y = A x + x^2 (elementwise): J = A + diag(2x), shape (2, 2).
  std::cout << "jacobian of A x + x^2:\n";
  {
    const tf::Tensor a = {{1.0, 2.0}, {3.0, 4.0}};
    const tf::Tensor x = {0.5, -1.0};
    tf::GradientTape tape;
    tape.watch(x);
    const tf::Tensor ax = tf::reshape(tf::matmul(a, tf::reshape(x, {2, 1})), {2});
    const tf::Tensor y = ax + tf::square(x);
    const tf::Tensor jac = tape.jacobian(y, x);  // shape y.shape + x.shape = (2, 2)
    std::cout << "  J = " << jac << "\n";
    const auto j = jac.numpy<double>();
    const double want[2][2] = {{1.0 + 2 * 0.5, 2.0}, {3.0, 4.0 + 2 * -1.0}};
    for (std::size_t r = 0; r < 2; ++r) {
      for (std::size_t c = 0; c < 2; ++c) {
        check("J[" + std::to_string(r) + "][" + std::to_string(c) + "]", j(r, c), want[r][c]);
      }
    }
  }

  if (failures > 0) {
    std::fprintf(stderr, "tape_basics: %d value(s) differ from the closed form\n", failures);
    return 1;
  }
  std::cout << "all values match their closed forms\n";
  return 0;
}
