#include "../support.hpp"

using namespace tapeflow;

TEST_CASE("gradient of a sum of squares") {
  Variable w(Tensor{1.0, 2.0}, "w");
  GradientTape tape;
  Tensor loss = reduce_sum(square(w));
  auto grads = tape.gradient(loss, {w});
  REQUIRE(grads.size() == 1);
  CHECK_ALLCLOSE(grads[0].dense(), (Tensor{2.0, 4.0}), 1e-6, 1e-6);
}
