// The options tables of the element-wise optimizers: one rule for the C++ constructor and
// from_config (finite values, ranges, Keras's wording), and a config round trip for every
// built-in of optim/builtins.hpp.

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <tuple>

#include "support.hpp"
#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}  // namespace

TEST_CASE_TEMPLATE_DEFINE("every built-in round-trips its config", Opt, round_trip) {
  const Opt opt;
  const Config config = opt.get_config();
  CHECK(Opt::from_config(config).get_config() == config);
  CHECK(optim::deserialize(optim::serialize(opt))->get_config() == config);
}
TEST_CASE_TEMPLATE_APPLY(round_trip, optim::Builtins<std::tuple>);

TEST_CASE("constructors reject NaN and out-of-range options, as from_config does") {
  CHECK_THROWS_WITH_AS(
      optim::SGD(0.1, kNaN), "SGD: `momentum` must be a finite number, received: nan", ValueError);
  CHECK_THROWS_WITH_AS(optim::RMSprop(0.01, kNaN),
                       "RMSprop: `rho` must be a finite number, received: nan",
                       ValueError);
  CHECK_THROWS_WITH_AS(
      optim::RMSprop(0.01, 1.5), "RMSprop: `rho` must be in [0, 1], received: 1.5", ValueError);
  CHECK_THROWS_WITH_AS(optim::RMSprop::from_config({{"rho", 1.5}}),
                       "RMSprop.from_config: `rho` must be in [0, 1], received: 1.5",
                       ValueError);
  CHECK_THROWS_WITH_AS(
      optim::Adam(0.01, 2.0), "Adam: `beta_1` must be in [0, 1], received: 2.0", ValueError);
  CHECK_THROWS_WITH_AS(optim::Adamax(0.01, 0.9, -1.0),
                       "Adamax: `beta_2` must be in [0, 1], received: -1.0",
                       ValueError);
  CHECK_THROWS_WITH_AS(optim::Adagrad(0.01, 0.1, kNaN),
                       "Adagrad: `epsilon` must be a finite number, received: nan",
                       ValueError);
  CHECK_THROWS_WITH_AS(optim::Ftrl(0.1, -0.5, 0.1, kNaN),
                       "Ftrl: `l1_regularization_strength` must be a finite number, received: nan",
                       ValueError);
  // Keras's own wording where Keras checks the value.
  CHECK_THROWS_WITH_AS(optim::SGD(0.1, 1.5),
                       "`momentum` must be between [0, 1]. Received: momentum=1.5 (of type "
                       "<class 'float'>).",
                       ValueError);
  CHECK_THROWS_WITH_AS(optim::SGD::from_config({{"momentum", 1.5}}),
                       "`momentum` must be between [0, 1]. Received: momentum=1.5 (of type "
                       "<class 'float'>).",
                       ValueError);
  // epsilon 0 is V2's `epsilon or 1e-7`, from both paths.
  CHECK(optim::Adam(0.01, 0.9, 0.999, 0.0).epsilon() == 1e-7);
  CHECK(optim::Adam::from_config({{"epsilon", 0.0}}).epsilon() == 1e-7);
}

TEST_CASE("a NaN or negative learning rate or clip is a ValueError, from the constructor too") {
  CHECK_THROWS_WITH_AS(static_cast<void>(optim::SGD(kNaN)),
                       "SGD: `learning_rate` must be a finite number >= 0, received: nan",
                       ValueError);
  CHECK_THROWS_WITH_AS(optim::Adam(-0.1),
                       "Adam: `learning_rate` must be a finite number >= 0, received: -0.1",
                       ValueError);
  CHECK_THROWS_WITH_AS(optim::SGD(0.1, 0.0, false, "SGD", {{"clipnorm", kNaN}}),
                       "Expected clipnorm >= 0, received: nan", ValueError);
  optim::SGD opt(0.1);
  CHECK_THROWS_WITH_AS(opt.set_learning_rate(kNaN),
                       "SGD: `learning_rate` must be a finite number >= 0, received: nan",
                       ValueError);
  CHECK(opt.learning_rate().value() == 0.1);  // nothing changed
}
