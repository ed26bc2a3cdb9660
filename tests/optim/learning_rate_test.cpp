// LearningRate: a number or a shared schedule, its config form, and its errors.
#include <doctest/doctest.h>

#include <memory>
#include <sstream>
#include <string>

#include "optim_support.hpp"

using namespace tapeflow;
using optim::LearningRate;

TEST_CASE("LearningRate holds a number or a schedule") {
  const LearningRate constant = 0.25;
  CHECK_FALSE(constant.is_schedule());
  CHECK(constant.value() == 0.25);
  CHECK(constant(7.0) == 0.25);
  CHECK(constant.to_config() == Config(0.25));
  CHECK(LearningRate(1).value() == 1.0);  // an int converts

  auto decay = std::make_shared<optim::schedules::InverseTimeDecay>(1.0, 2.0, 0.5);
  const LearningRate scheduled = decay;  // a subclass pointer converts
  REQUIRE(scheduled.is_schedule());
  CHECK(scheduled.schedule().get() == decay.get());  // shared, not copied
  CHECK(scheduled(4.0) == doctest::Approx(1.0 / (1.0 + 0.5 * 2.0)));
  const Config config = scheduled.to_config();
  CHECK(config["class_name"] == "InverseTimeDecay");
  CHECK(config["config"] == decay->get_config());
  CHECK_THROWS_WITH_TEXT(scheduled.value(), ValueError, "is a schedule (InverseTimeDecay)");

  std::ostringstream printed;
  printed << constant << " " << scheduled;
  CHECK(printed.str().rfind("0.25 InverseTimeDecay({", 0) == 0);
}

TEST_CASE("LearningRate from_config: numbers, schedule dicts, and errors") {
  CHECK(LearningRate::from_config(Config(0.5)).value() == 0.5);
  CHECK(LearningRate::from_config(Config(2)).value() == 2.0);
  const LearningRate rebuilt = LearningRate::from_config(
      Config::parse(R"({"class_name": "ExponentialDecay", "config": {"initial_learning_rate": 0.1,
                        "decay_steps": 10, "decay_rate": 0.5, "staircase": false, "name": null}})"));
  REQUIRE(rebuilt.is_schedule());
  CHECK(rebuilt(10.0) == doctest::Approx(0.05));
  CHECK_THROWS_WITH_TEXT(LearningRate::from_config(Config("fast")), TypeError,
                         "`learning_rate` must be a number or a serialized LearningRateSchedule");
  CHECK_THROWS_WITH_TEXT(LearningRate::from_config(Config(true), {}, "lr"), TypeError, "`lr`");
  CHECK_THROWS_AS(LearningRate::from_config(Config::parse(R"({"class_name": "Nope", "config": {}})")),
                  ValueError);
  CHECK_THROWS_WITH_TEXT(
      LearningRate(std::shared_ptr<optim::schedules::ExponentialDecay>()), ValueError,
      "schedule is null");
}
