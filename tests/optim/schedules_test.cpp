// Learning-rate schedules: each against its formula (written out again here, independently of
// the library), validation, configs, and serialization in both Keras forms.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <tapeflow/optim/schedules.hpp>

#include "../support.hpp"

using namespace tapeflow;
using namespace tapeflow::optim::schedules;
using tapeflow::optim::CustomObjects;
using tapeflow::optim::SerializationFormat;

namespace {

const double kPi = std::acos(-1.0);

// Relative comparison tight enough to catch any formula slip (the library computes in double).
#define CHECK_LR(actual, expected) CHECK((actual) == doctest::Approx(expected).epsilon(1e-12))

Config parse(const char* text) { return Config::parse(text); }

std::vector<std::string> keys(const Config& c) {
  std::vector<std::string> out;
  for (const auto& item : c.items()) out.push_back(item.key());
  return out;
}

// SGDR by walking the periods one by one (the "exact loop" of keras-semantics.md §4).
double sgdr_loop(double init, double fds, double t_mul, double m_mul, double alpha, double step) {
  double period = fds, factor = 1.0, s = step;
  while (s >= period) {
    s -= period;
    period *= t_mul;
    factor *= m_mul;
  }
  const double f = s / period;
  return init * ((1 - alpha) * factor * 0.5 * (1 + std::cos(kPi * f)) + alpha);
}

// A user-defined schedule: linear warmup to `lr` over `warmup` steps, then constant.
class WarmupConstant : public LearningRateSchedule {
 public:
  WarmupConstant(double lr, double warmup) : lr_(lr), warmup_(warmup) {}
  double operator()(double step) const override {
    return step < warmup_ ? lr_ * (step + 1) / warmup_ : lr_;
  }
  Config get_config() const override { return {{"lr", lr_}, {"warmup", warmup_}}; }
  std::string class_name() const override { return "WarmupConstant"; }
  static std::shared_ptr<LearningRateSchedule> make(const Config& c) {
    return std::make_shared<WarmupConstant>(c.at("lr").get<double>(), c.at("warmup").get<double>());
  }

 private:
  double lr_, warmup_;
};

// Unregisters on scope exit, so a failing CHECK does not leak a registration into other cases.
struct ScopedRegistration {
  std::string name;
  ScopedRegistration(std::string n, optim::ScheduleFactory f) : name(std::move(n)) {
    register_schedule(name, std::move(f));
  }
  ~ScopedRegistration() { unregister_schedule(name); }
};

}  // namespace

TEST_CASE("ExponentialDecay follows init * rate^(step/decay_steps)") {
  const ExponentialDecay s(0.1, 3, 0.96);
  for (double step : {0.0, 1.0, 2.0, 3.0, 4.5, 100.0, 1e4}) {
    CAPTURE(step);
    CHECK_LR(s(step), 0.1 * std::pow(0.96, step / 3.0));
  }
  SUBCASE("staircase changes only at multiples of decay_steps") {
    const ExponentialDecay st(0.1, 3, 0.96, true);
    CHECK_LR(st(0), 0.1);
    CHECK_LR(st(1), 0.1);
    CHECK_LR(st(2), 0.1);
    CHECK_LR(st(3), 0.1 * 0.96);
    CHECK_LR(st(5.999), 0.1 * 0.96);
    CHECK_LR(st(6), 0.1 * 0.96 * 0.96);
    CHECK_LR(st(100), 0.1 * std::pow(0.96, 33));
  }
}

TEST_CASE("PiecewiseConstantDecay: a boundary belongs to the lower interval") {
  const PiecewiseConstantDecay s({100000, 110000}, {1.0, 0.5, 0.1});
  CHECK(s(0) == 1.0);
  CHECK(s(99999) == 1.0);
  CHECK(s(100000) == 1.0);
  CHECK(s(100000.5) == 0.5);
  CHECK(s(100001) == 0.5);
  CHECK(s(110000) == 0.5);
  CHECK(s(110001) == 0.1);
  CHECK(s(1e9) == 0.1);
  SUBCASE("Keras testPiecewiseFunction: step 0 as a float selects values[0]") {
    const PiecewiseConstantDecay p({1.0}, {1.0, 0.5});
    CHECK(p(0.0) == 1.0);
    CHECK(p(1.0) == 1.0);
    CHECK(p(2.0) == 0.5);
  }
  SUBCASE("no boundaries is a constant") {
    const PiecewiseConstantDecay p({}, {0.25});
    CHECK(p(0) == 0.25);
    CHECK(p(1e12) == 0.25);
  }
  SUBCASE("repeated boundaries leave an empty interval") {
    const PiecewiseConstantDecay p({5, 5}, {3.0, 2.0, 1.0});
    CHECK(p(5) == 3.0);
    CHECK(p(5.5) == 1.0);
  }
  SUBCASE("a NaN step gets values[0], tf.case's default") {
    CHECK(s(std::nan("")) == 1.0);
  }
}

TEST_CASE("PolynomialDecay without and with cycle") {
  const double init = 0.1, end = 0.01, ds = 10;
  auto poly = [&](double step, double d, double power) {
    return (init - end) * std::pow(1 - step / d, power) + end;
  };
  const PolynomialDecay linear(init, ds, end);
  const PolynomialDecay sqrt_decay(init, ds, end, 0.5);
  for (double step : {0.0, 1.0, 5.0, 9.5, 10.0}) {
    CAPTURE(step);
    CHECK_LR(linear(step), poly(step, ds, 1.0));
    CHECK_LR(sqrt_decay(step), poly(step, ds, 0.5));
  }
  CHECK_LR(linear(10), end);
  CHECK_LR(linear(11), end);  // stays at end_learning_rate
  CHECK_LR(linear(1e6), end);
  CHECK_LR(PolynomialDecay(1.0, 4)(2), (1.0 - 0.0001) * 0.5 + 0.0001);  // Keras's defaults

  SUBCASE("cycle: the horizon grows to the next multiple of decay_steps") {
    const PolynomialDecay c(init, ds, end, 1.0, true);
    CHECK_LR(c(0), init);  // multiplier forced to 1 at step 0
    CHECK_LR(c(5), poly(5, 10, 1.0));
    CHECK_LR(c(10), end);
    CHECK_LR(c(11), poly(11, 20, 1.0));
    CHECK_LR(c(15), poly(15, 20, 1.0));
    CHECK_LR(c(20), end);
    CHECK_LR(c(25), poly(25, 30, 1.0));
  }
}

TEST_CASE("InverseTimeDecay follows init / (1 + rate * step/decay_steps)") {
  const InverseTimeDecay s(0.5, 2, 0.1);
  for (double step : {0.0, 1.0, 2.0, 3.0, 10.0, 1e5}) {
    CAPTURE(step);
    CHECK_LR(s(step), 0.5 / (1 + 0.1 * step / 2));
  }
  const InverseTimeDecay st(0.5, 2, 0.1, true);
  CHECK_LR(st(1), 0.5);
  CHECK_LR(st(2), 0.5 / 1.1);
  CHECK_LR(st(3), 0.5 / 1.1);
  CHECK_LR(st(7), 0.5 / 1.3);
}

TEST_CASE("CosineDecay: alpha is a fraction of the start; warmup is linear from init") {
  auto cosine = [](double from, double step, double ds, double alpha) {
    const double c = 0.5 * (1 + std::cos(kPi * std::min(step, ds) / ds));
    return from * ((1 - alpha) * c + alpha);
  };
  const CosineDecay plain(2.0, 100);
  const CosineDecay floor(2.0, 100, 0.1);
  for (double step : {0.0, 1.0, 25.0, 50.0, 99.0, 100.0, 150.0}) {
    CAPTURE(step);
    CHECK_LR(plain(step), cosine(2.0, step, 100, 0.0));
    CHECK_LR(floor(step), cosine(2.0, step, 100, 0.1));
  }
  CHECK_LR(plain(50), 1.0);
  CHECK_LR(floor(100), 0.2);  // alpha * init
  CHECK_LR(floor(1e6), 0.2);

  SUBCASE("warmup then decay from warmup_target") {
    const double init = 0.01, target = 1.0, ws = 10, ds = 20, alpha = 0.05;
    const CosineDecay w(init, ds, alpha, "", target, ws);
    CHECK_LR(w(0), init);  // the code adds init; the docstring formula omits it
    CHECK_LR(w(4), init + (target - init) * 4 / ws);
    CHECK_LR(w(9.5), init + (target - init) * 9.5 / ws);
    CHECK_LR(w(10), target);  // s == warmup_steps takes the decay branch
    CHECK_LR(w(15), cosine(target, 5, ds, alpha));
    CHECK_LR(w(30), alpha * target);
    CHECK_LR(w(1000), alpha * target);
  }
  SUBCASE("Keras testWarmup: init 0, linear to the target") {
    const CosineDecay w(0.0, 1000, 0.0, "", 10.0, 1500);
    for (double step = 0; step < 1500; step += 250) CHECK_LR(w(step), 10.0 * step / 1500);
  }
  SUBCASE("warmup_target with warmup_steps 0 decays from the target at once") {
    const CosineDecay w(0.5, 10, 0.0, "", 2.0, 0);
    CHECK_LR(w(0), 2.0);
    CHECK_LR(w(5), 1.0);
  }
}

TEST_CASE("CosineDecayRestarts: exact restarts for t_mul 2, 1 and 1.5") {
  const double init = 1.0, fds = 10;
  SUBCASE("t_mul = 2: restarts at fds * (2^k - 1), each scaled by m_mul^k") {
    const CosineDecayRestarts s(init, fds, 2.0, 0.5, 0.1);
    for (int k = 0; k < 12; ++k) {
      const double boundary = fds * (std::pow(2.0, k) - 1);
      CAPTURE(k);
      CHECK_LR(s(boundary), init * ((1 - 0.1) * std::pow(0.5, k) + 0.1));
      // Just before the restart the period has decayed to alpha * init.
      if (k > 0) CHECK(s(boundary - 1e-9) == doctest::Approx(0.1 * init).epsilon(1e-6));
    }
    for (double step : {0.0, 3.0, 10.0, 17.5, 29.0, 30.0, 31.0, 69.9, 70.0, 1000.0, 12345.0}) {
      CAPTURE(step);
      CHECK_LR(s(step), sgdr_loop(init, fds, 2.0, 0.5, 0.1, step));
    }
  }
  SUBCASE("t_mul = 1: equal periods") {
    const CosineDecayRestarts s(init, fds, 1.0, 0.9);
    for (double step : {0.0, 5.0, 9.0, 10.0, 15.0, 20.0, 95.0}) {
      CAPTURE(step);
      CHECK_LR(s(step), sgdr_loop(init, fds, 1.0, 0.9, 0.0, step));
    }
    CHECK_LR(s(20), 0.81);
  }
  SUBCASE("t_mul = 1.5 and 3: the log formula agrees with the period walk") {
    for (double t : {1.5, 3.0}) {
      const CosineDecayRestarts s(0.3, 7, t, 0.8, 0.01);
      for (double step = 0; step < 2000; step += 0.5) {
        CAPTURE(t);
        CAPTURE(step);
        CHECK(s(step) == doctest::Approx(sgdr_loop(0.3, 7, t, 0.8, 0.01, step)).epsilon(1e-9));
      }
    }
  }
  SUBCASE("Keras's defaults: t_mul 2, m_mul 1, alpha 0") {
    const CosineDecayRestarts s(0.2, 4);
    CHECK_LR(s(2), 0.1);
    CHECK_LR(s(4), 0.2);
    CHECK_LR(s(8), 0.1);
    CHECK_LR(s(12), 0.2);
  }
  SUBCASE("t_mul < 1: NaN past the finite horizon, as Keras") {
    const CosineDecayRestarts s(1.0, 10, 0.5);
    CHECK_LR(s(15), sgdr_loop(1.0, 10, 0.5, 1.0, 0.0, 15));
    CHECK(std::isnan(s(25)));
  }
}

TEST_CASE("schedule validation: type and Keras's wording") {
  CHECK_THROWS_WITH_TEXT(ExponentialDecay(0.1, 0, 0.9), ValueError,
                         "ExponentialDecay: Argument `decay_steps` must be > 0. Received: "
                         "decay_steps=0");
  CHECK_THROWS_WITH_TEXT(InverseTimeDecay(0.1, -2.5, 0.9), ValueError,
                         "Argument `decay_steps` must be > 0. Received: decay_steps=-2.5");
  CHECK_THROWS_WITH_TEXT(PolynomialDecay(0.1, 0), ValueError, "decay_steps=0");
  CHECK_THROWS_WITH_TEXT(CosineDecay(0.1, -1), ValueError, "CosineDecay: Argument `decay_steps`");
  CHECK_THROWS_WITH_TEXT(CosineDecayRestarts(0.1, 0), ValueError,
                         "Argument `first_decay_steps` must be > 0. Received: first_decay_steps=0");
  CHECK_THROWS_WITH_TEXT(ExponentialDecay(0.1, std::nan(""), 0.9), ValueError,
                         "Argument `decay_steps` must be a finite number. Received: decay_steps=nan");
  CHECK_THROWS_WITH_TEXT(ExponentialDecay(std::numeric_limits<double>::infinity(), 10, 0.9),
                         ValueError, "initial_learning_rate=inf");
  CHECK_THROWS_WITH_TEXT(CosineDecay(0.1, 10, 0.0, "", std::nan("")), ValueError,
                         "warmup_target=nan");
  CHECK_THROWS_WITH_TEXT(CosineDecay(0.1, 10, 0.0, "", 1.0, -1), ValueError,
                         "CosineDecay: Argument `warmup_steps` must be >= 0. Received: "
                         "warmup_steps=-1");
  CHECK_THROWS_WITH_TEXT(CosineDecayRestarts(0.1, 10, 0.0), ValueError,
                         "Argument `t_mul` must be > 0. Received: t_mul=0.0");
  CHECK_THROWS_WITH_TEXT(PiecewiseConstantDecay({5, 10}, {1.0, 0.5}), ValueError,
                         "The length of boundaries should be 1 less than the length of values. "
                         "Received: boundaries=[5, 10] of length 2, and values=[1.0, 0.5] of "
                         "length 2.");
  CHECK_THROWS_WITH_TEXT(PiecewiseConstantDecay({}, {}), ValueError,
                         "Received: boundaries=[] of length 0, and values=[] of length 0.");
  CHECK_THROWS_WITH_TEXT(PiecewiseConstantDecay({10, 5}, {1.0, 0.5, 0.1}), ValueError,
                         "boundaries must be in increasing order. Received: boundaries=[10, 5]");
  CHECK_THROWS_WITH_TEXT(PiecewiseConstantDecay({1.5, std::nan("")}, {1.0, 0.5, 0.1}), ValueError,
                         "every entry of `boundaries` must be a finite number");
}

TEST_CASE("get_config: Keras's keys in Keras's order, name null when empty") {
  CHECK(ExponentialDecay(0.1, 1000, 0.96).get_config().dump() ==
        R"({"initial_learning_rate":0.1,"decay_steps":1000,"decay_rate":0.96,"staircase":false,)"
        R"("name":null})");
  CHECK(PiecewiseConstantDecay({100000, 110000}, {1.0, 0.5, 0.1}, "pw").get_config().dump() ==
        R"({"boundaries":[100000,110000],"values":[1.0,0.5,0.1],"name":"pw"})");
  CHECK(PiecewiseConstantDecay({0.5, 2}, {1.0, 0.5, 0.1}).get_config().dump() ==
        R"({"boundaries":[0.5,2.0],"values":[1.0,0.5,0.1],"name":null})");
  CHECK(keys(PolynomialDecay(0.1, 10).get_config()) ==
        std::vector<std::string>{"initial_learning_rate", "decay_steps", "end_learning_rate",
                                 "power", "cycle", "name"});
  CHECK(PolynomialDecay(0.1, 10).get_config().dump() ==
        R"({"initial_learning_rate":0.1,"decay_steps":10,"end_learning_rate":0.0001,"power":1.0,)"
        R"("cycle":false,"name":null})");
  CHECK(InverseTimeDecay(0.5, 1.5, 0.1, true, "itd").get_config().dump() ==
        R"({"initial_learning_rate":0.5,"decay_steps":1.5,"decay_rate":0.1,"staircase":true,)"
        R"("name":"itd"})");
  CHECK(CosineDecay(0.1, 100).get_config().dump() ==
        R"({"initial_learning_rate":0.1,"decay_steps":100,"alpha":0.0,"name":null,)"
        R"("warmup_target":null,"warmup_steps":0})");
  CHECK(CosineDecay(0.0, 100, 0.1, "", 1.0, 10).get_config().dump() ==
        R"({"initial_learning_rate":0.0,"decay_steps":100,"alpha":0.1,"name":null,)"
        R"("warmup_target":1.0,"warmup_steps":10})");
  CHECK(CosineDecayRestarts(0.1, 100).get_config().dump() ==
        R"({"initial_learning_rate":0.1,"first_decay_steps":100,"t_mul":2.0,"m_mul":1.0,)"
        R"("alpha":0.0,"name":null})");
}

TEST_CASE("from_config(get_config()) is the identity for every schedule") {
  std::vector<std::shared_ptr<LearningRateSchedule>> all = {
      std::make_shared<ExponentialDecay>(0.1, 1000, 0.96),
      std::make_shared<ExponentialDecay>(0.1, 3.5, 0.5, true, "exp"),
      std::make_shared<PiecewiseConstantDecay>(std::vector<double>{5, 10},
                                               std::vector<double>{1.0, 0.5, 0.1}),
      std::make_shared<PiecewiseConstantDecay>(std::vector<double>{}, std::vector<double>{2.0},
                                               "const"),
      std::make_shared<PolynomialDecay>(0.1, 10, 0.01, 2.0, true, "poly"),
      std::make_shared<InverseTimeDecay>(0.5, 1.0, 0.1),
      std::make_shared<CosineDecay>(0.1, 100, 0.05),
      std::make_shared<CosineDecay>(0.0, 100, 0.0, "warm", 1.0, 25),
      std::make_shared<CosineDecayRestarts>(0.1, 10, 1.5, 0.9, 0.01, "sgdr"),
  };
  for (const auto& s : all) {
    CAPTURE(s->get_config().dump());
    const Config c = s->get_config();
    std::shared_ptr<LearningRateSchedule> back;
    if (s->class_name() == "ExponentialDecay") {
      back = std::make_shared<ExponentialDecay>(ExponentialDecay::from_config(c));
    } else if (s->class_name() == "PiecewiseConstantDecay") {
      back = std::make_shared<PiecewiseConstantDecay>(PiecewiseConstantDecay::from_config(c));
    } else if (s->class_name() == "PolynomialDecay") {
      back = std::make_shared<PolynomialDecay>(PolynomialDecay::from_config(c));
    } else if (s->class_name() == "InverseTimeDecay") {
      back = std::make_shared<InverseTimeDecay>(InverseTimeDecay::from_config(c));
    } else if (s->class_name() == "CosineDecay") {
      back = std::make_shared<CosineDecay>(CosineDecay::from_config(c));
    } else {
      back = std::make_shared<CosineDecayRestarts>(CosineDecayRestarts::from_config(c));
    }
    CHECK(back->get_config() == c);
    CHECK(back->get_config().dump() == c.dump());  // same key order and number kinds
    CHECK(back->class_name() == s->class_name());
    for (double step : {0.0, 3.0, 10.0, 57.0, 1000.0}) CHECK((*back)(step) == (*s)(step));
  }
}

TEST_CASE("from_config reads Keras-written configs and writes them back unchanged") {
  // As each generation writes them: TF2 (name None), float decay_steps from
  // testConfigWithLearningRateDecay, Keras 3 default names, a Keras 2.12 CosineDecay.
  const char* fixtures[] = {
      R"({"initial_learning_rate": 0.1, "decay_steps": 1000, "decay_rate": 0.96, "staircase": false, "name": null})",
      R"({"initial_learning_rate": 0.5, "decay_steps": 1.0, "decay_rate": 0.1, "staircase": false, "name": null})",
      R"({"initial_learning_rate": 0.1, "decay_steps": 1000, "decay_rate": 0.96, "staircase": true, "name": "ExponentialDecay"})",
      R"({"boundaries": [5], "values": [1.0, 0.5], "name": null})",
      R"({"boundaries": [100000, 110000], "values": [1.0, 0.5, 0.1], "name": "PiecewiseConstant"})",
      R"({"initial_learning_rate": 0.1, "decay_steps": 10000, "end_learning_rate": 0.01, "power": 0.5, "cycle": true, "name": "PolynomialDecay"})",
      R"({"initial_learning_rate": 0.1, "decay_steps": 1.0, "decay_rate": 0.5, "staircase": false, "name": "InverseTimeDecay"})",
      R"({"initial_learning_rate": 0.1, "decay_steps": 1000, "alpha": 0.0, "name": null})",
      R"({"initial_learning_rate": 0.0, "decay_steps": 1000, "alpha": 0.0, "name": "CosineDecay", "warmup_target": 0.1, "warmup_steps": 100})",
      R"({"initial_learning_rate": 0.1, "first_decay_steps": 1000, "t_mul": 2.0, "m_mul": 1.0, "alpha": 0.0, "name": "SGDRDecay"})",
  };
  const char* classes[] = {"ExponentialDecay", "InverseTimeDecay",    "ExponentialDecay",
                           "PiecewiseConstantDecay", "PiecewiseConstantDecay", "PolynomialDecay",
                           "InverseTimeDecay", "CosineDecay",         "CosineDecay",
                           "CosineDecayRestarts"};
  for (std::size_t i = 0; i < std::size(fixtures); ++i) {
    const Config c = parse(fixtures[i]);
    CAPTURE(c.dump());
    const auto s = deserialize(Config{{"class_name", classes[i]}, {"config", c}});
    CHECK(s->get_config().dump() == c.dump());
  }
  // Values are read as given: decay_steps 1.0 and 1 give the same schedule.
  const auto f = InverseTimeDecay::from_config(parse(fixtures[1]));
  CHECK_LR(f(10), 0.5 / (1 + 0.1 * 10));
}

TEST_CASE("from_config fills Keras's defaults for absent optional keys, in order") {
  CHECK(ExponentialDecay::from_config(
            {{"decay_rate", 0.5}, {"initial_learning_rate", 0.1}, {"decay_steps", 10}})
            .get_config()
            .dump() ==
        R"({"initial_learning_rate":0.1,"decay_steps":10,"decay_rate":0.5,"staircase":false,)"
        R"("name":null})");
  CHECK(keys(CosineDecay::from_config({{"initial_learning_rate", 0.1},
                                       {"decay_steps", 10},
                                       {"warmup_steps", 5}})
                 .get_config()) ==
        std::vector<std::string>{"initial_learning_rate", "decay_steps", "alpha", "name",
                                 "warmup_target", "warmup_steps"});
  const auto p = PolynomialDecay::from_config({{"initial_learning_rate", 1.0}, {"decay_steps", 4}});
  CHECK(p.end_learning_rate() == 0.0001);
  CHECK(p.power() == 1.0);
  CHECK(!p.cycle());
  const auto r = CosineDecayRestarts::from_config({{"initial_learning_rate", 1.0},
                                                   {"first_decay_steps", 4}});
  CHECK(r.t_mul() == 2.0);
  CHECK(r.m_mul() == 1.0);
  CHECK(r.alpha() == 0.0);
}

TEST_CASE("from_config errors: unknown, missing and wrong-typed keys are TypeErrors") {
  const Config good = ExponentialDecay(0.1, 10, 0.9).get_config();
  Config c = good;
  c["lr"] = 0.1;
  CHECK_THROWS_WITH_TEXT(ExponentialDecay::from_config(c), TypeError,
                         "ExponentialDecay.from_config: got an unexpected keyword argument 'lr'");
  c = good;
  c.erase("decay_rate");
  CHECK_THROWS_WITH_TEXT(ExponentialDecay::from_config(c), TypeError,
                         "missing 1 required positional argument: 'decay_rate'");
  c.erase("decay_steps");
  CHECK_THROWS_WITH_TEXT(ExponentialDecay::from_config(c), TypeError,
                         "missing 2 required positional arguments: 'decay_steps' and "
                         "'decay_rate'");
  CHECK_THROWS_WITH_TEXT(ExponentialDecay::from_config(Config::object()), TypeError,
                         "missing 3 required positional arguments: 'initial_learning_rate', "
                         "'decay_steps', and 'decay_rate'");
  CHECK_THROWS_WITH_TEXT(PiecewiseConstantDecay::from_config({{"values", {1.0}}}), TypeError,
                         "PiecewiseConstantDecay.from_config: missing 1 required positional "
                         "argument: 'boundaries'");
  c = good;
  c["decay_steps"] = "1000";
  CHECK_THROWS_WITH_TEXT(ExponentialDecay::from_config(c), TypeError,
                         "`decay_steps` must be a number, received '1000' (string)");
  c = good;
  c["initial_learning_rate"] = true;
  CHECK_THROWS_WITH_TEXT(ExponentialDecay::from_config(c), TypeError,
                         "`initial_learning_rate` must be a number, received True (boolean)");
  c = good;
  c["staircase"] = 1;
  CHECK_THROWS_WITH_TEXT(ExponentialDecay::from_config(c), TypeError,
                         "`staircase` must be a boolean, received 1 (number)");
  c = good;
  c["name"] = 3;
  CHECK_THROWS_WITH_TEXT(ExponentialDecay::from_config(c), TypeError,
                         "`name` must be a string or null, received 3 (number)");
  CHECK_THROWS_WITH_TEXT(
      PiecewiseConstantDecay::from_config({{"boundaries", {1, "2"}}, {"values", {1, 2, 3}}}),
      TypeError, "`boundaries[1]` must be a number, received '2' (string)");
  CHECK_THROWS_WITH_TEXT(PiecewiseConstantDecay::from_config({{"boundaries", 5}, {"values", {1}}}),
                         TypeError, "`boundaries` must be a list of numbers, received 5 (number)");
  CHECK_THROWS_WITH_TEXT(
      CosineDecay::from_config(
          {{"initial_learning_rate", 0.1}, {"decay_steps", 10}, {"warmup_target", "x"}}),
      TypeError, "`warmup_target` must be a number or null, received 'x' (string)");
  CHECK_THROWS_WITH_TEXT(CosineDecayRestarts::from_config(Config::array()), TypeError,
                         "CosineDecayRestarts.from_config: the config must be a JSON object, "
                         "received [] (array)");
  // Well-typed but invalid values give the constructors' ValueErrors, quoting the value as given.
  c = good;
  c["decay_steps"] = 0;
  CHECK_THROWS_WITH_TEXT(ExponentialDecay::from_config(c), ValueError,
                         "Argument `decay_steps` must be > 0. Received: decay_steps=0");
  CHECK_THROWS_WITH_TEXT(
      PiecewiseConstantDecay::from_config({{"boundaries", {5}}, {"values", {1.0}}}), ValueError,
      "Received: boundaries=[5] of length 1, and values=[1.0] of length 1.");
}

TEST_CASE("serialize: TF2 two-key form and the Keras 3 four-key form") {
  const ExponentialDecay s(0.1, 1000, 0.96);
  CHECK(serialize(s).dump() ==
        R"({"class_name":"ExponentialDecay","config":{"initial_learning_rate":0.1,)"
        R"("decay_steps":1000,"decay_rate":0.96,"staircase":false,"name":null}})");
  CHECK(serialize(s, SerializationFormat::keras3).dump() ==
        R"({"module":"keras.optimizers.schedules","class_name":"ExponentialDecay","config":)"
        R"({"initial_learning_rate":0.1,"decay_steps":1000,"decay_rate":0.96,"staircase":false,)"
        R"("name":null},"registered_name":null})");
  const WarmupConstant custom(0.05, 10);
  CHECK(serialize(custom, SerializationFormat::keras3).dump() ==
        R"({"module":null,"class_name":"WarmupConstant","config":{"lr":0.05,"warmup":10.0},)"
        R"("registered_name":"WarmupConstant"})");
}

TEST_CASE("deserialize reads all three generations' forms for every built-in") {
  const std::vector<std::shared_ptr<LearningRateSchedule>> all = {
      std::make_shared<ExponentialDecay>(0.1, 1000, 0.96, true),
      std::make_shared<PiecewiseConstantDecay>(std::vector<double>{5, 10},
                                               std::vector<double>{1.0, 0.5, 0.1}, "pw"),
      std::make_shared<PolynomialDecay>(0.1, 10, 0.01, 2.0, true),
      std::make_shared<InverseTimeDecay>(0.5, 1.0, 0.1),
      std::make_shared<CosineDecay>(0.0, 100, 0.0, "", 1.0, 25),
      std::make_shared<CosineDecayRestarts>(0.1, 10, 1.5, 0.9, 0.01),
  };
  for (const auto& s : all) {
    for (auto format : {SerializationFormat::tf2, SerializationFormat::keras3}) {
      const Config json = serialize(*s, format);
      CAPTURE(json.dump());
      const auto back = deserialize(json);
      REQUIRE(back);
      const LearningRateSchedule& rebuilt = *back;
      const LearningRateSchedule& original = *s;
      CHECK(typeid(rebuilt) == typeid(original));
      CHECK(serialize(*back, format) == json);
      for (double step : {0.0, 7.0, 26.0, 500.0}) CHECK((*back)((step)) == (*s)(step));
    }
  }
  // Keras 2.13+ writes the keys in another order; only the names matter.
  const auto k3 = deserialize(parse(
      R"({"class_name": "CosineDecayRestarts", "config": {"initial_learning_rate": 0.1, "first_decay_steps": 1000, "t_mul": 2.0, "m_mul": 1.0, "alpha": 0.0, "name": "SGDRDecay"}, "module": "keras.optimizers.schedules", "registered_name": null})"));
  CHECK(k3->class_name() == "CosineDecayRestarts");
  CHECK(k3->get_config()["name"] == "SGDRDecay");
}

TEST_CASE("deserialize errors") {
  CHECK_THROWS_WITH_TEXT(deserialize(parse(R"({"class_name": "ExponentialDecay"})")), ValueError,
                         "Improper config format for {'class_name': 'ExponentialDecay'}. "
                         "Expecting python dict contains `class_name` and `config` as keys");
  CHECK_THROWS_WITH_TEXT(deserialize(Config("ExponentialDecay")), ValueError,
                         "Improper config format for 'ExponentialDecay'");
  CHECK_THROWS_WITH_TEXT(deserialize(parse(R"({"class_name": "Nope", "config": {}})")), ValueError,
                         "Unknown decay: Nope. Please ensure this object is passed to the "
                         "`custom_objects` argument");
  CHECK_THROWS_WITH_TEXT(deserialize(parse(R"({"class_name": "Nope", "config": {}})")), ValueError,
                         "Known schedules: CosineDecay, CosineDecayRestarts, ExponentialDecay, "
                         "InverseTimeDecay, PiecewiseConstantDecay, PolynomialDecay");
  // Schedule names are case-sensitive in Keras (unlike optimizer names).
  CHECK_THROWS_WITH_TEXT(deserialize(parse(R"({"class_name": "exponentialdecay", "config": {}})")),
                         ValueError, "Unknown decay: exponentialdecay.");
  CHECK_THROWS_WITH_TEXT(deserialize(parse(R"({"class_name": 3, "config": {}})")), TypeError,
                         "`class_name` must be a string, received 3 (number)");
  CHECK_THROWS_WITH_TEXT(
      deserialize(parse(R"({"class_name": "ExponentialDecay", "config": [1]})")), TypeError,
      "`config` must be a JSON object, received [1] (array)");
  CHECK_THROWS_WITH_TEXT(
      deserialize(parse(R"({"class_name": "ExponentialDecay", "config": {}, "module": 1})")),
      TypeError, "`module` must be a string or null, received 1 (number)");
  CHECK_THROWS_WITH_TEXT(
      deserialize(parse(R"({"class_name": "ExponentialDecay", "config": {}, "extra": 1})")),
      ValueError, "unexpected key 'extra' in a serialized schedule");
  CHECK_THROWS_WITH_TEXT(
      deserialize(parse(R"({"class_name": "ExponentialDecay", "config": {"initial_learning_rate": 0.1}})")),
      TypeError, "ExponentialDecay.from_config: missing 2 required positional arguments");
}

TEST_CASE("a custom schedule: registered, round-tripped, and overridden by custom_objects") {
  const WarmupConstant custom(0.05, 10);
  const Config tf2 = serialize(custom);
  CHECK(tf2.dump() == R"({"class_name":"WarmupConstant","config":{"lr":0.05,"warmup":10.0}})");
  CHECK_THROWS_WITH_TEXT(deserialize(tf2), ValueError, "Unknown decay: WarmupConstant.");

  SUBCASE("through the process-wide registry") {
    const std::vector<std::string> before = schedule_names();
    ScopedRegistration reg("WarmupConstant", &WarmupConstant::make);
    CHECK(schedule_names().size() == before.size() + 1);
    CHECK(schedule_names().back() == "WarmupConstant");
    for (auto format : {SerializationFormat::tf2, SerializationFormat::keras3}) {
      const auto back = deserialize(serialize(custom, format));
      REQUIRE(back);
      CHECK(back->class_name() == "WarmupConstant");
      CHECK(back->get_config() == custom.get_config());
      for (double step : {0.0, 4.0, 9.0, 50.0}) CHECK((*back)(step) == custom(step));
    }
    // Keras 2.15's testGetAndFromConfig form.
    const auto keras215 = deserialize(parse(
        R"({"class_name": "WarmupConstant", "config": {"lr": 0.05, "warmup": 10}, "module": null, "registered_name": "WarmupConstant"})"));
    CHECK((*keras215)(4) == custom(4));
    // The registered name shows up among the known names.
    CHECK_THROWS_WITH_TEXT(deserialize(parse(R"({"class_name": "Nope", "config": {}})")),
                           ValueError, "PolynomialDecay, WarmupConstant");

    SUBCASE("custom_objects overrides the registry") {
      const CustomObjects objects{{"WarmupConstant", [](const Config& c) {
                                     return std::make_shared<WarmupConstant>(
                                         2 * c.at("lr").get<double>(), 1);
                                   }}};
      const auto over = tapeflow::optim::schedules::deserialize(tf2, objects);
      CHECK((*over)(0) == 0.1);
    }
    SUBCASE("registration errors leave the registry unchanged") {
      const auto names = schedule_names();
      CHECK_THROWS_WITH_TEXT(register_schedule("WarmupConstant", &WarmupConstant::make),
                             ValueError, "'WarmupConstant' has already been registered");
      CHECK_THROWS_WITH_TEXT(register_schedule("ExponentialDecay", &WarmupConstant::make),
                             ValueError, "'ExponentialDecay' is a built-in schedule");
      CHECK_THROWS_WITH_TEXT(register_schedule("", &WarmupConstant::make), ValueError,
                             "the class name is empty");
      CHECK_THROWS_WITH_TEXT(register_schedule("Other", optim::ScheduleFactory()), ValueError,
                             "the factory for 'Other' is empty");
      CHECK(schedule_names() == names);
    }
  }
  CHECK(!unregister_schedule("WarmupConstant"));  // the scoped registration is gone

  SUBCASE("through custom_objects alone") {
    const CustomObjects objects{{"WarmupConstant", &WarmupConstant::make}};
    const auto back = tapeflow::optim::schedules::deserialize(
        serialize(custom, SerializationFormat::keras3), objects);
    CHECK(back->get_config() == custom.get_config());
  }
  SUBCASE("Keras 3's registered_name is tried before class_name") {
    const CustomObjects objects{{"Custom>WarmupConstant", &WarmupConstant::make}};
    const auto back = tapeflow::optim::schedules::deserialize(
        parse(R"({"module": "my_pkg", "class_name": "WarmupConstant", "config": {"lr": 0.5, "warmup": 2}, "registered_name": "Custom>WarmupConstant"})"),
        objects);
    CHECK((*back)(5) == 0.5);
  }
  SUBCASE("custom_objects may override a built-in name") {
    const CustomObjects objects{{"ExponentialDecay", [](const Config&) {
                                   return std::make_shared<WarmupConstant>(1.0, 1);
                                 }}};
    const auto back = tapeflow::optim::schedules::deserialize(
        serialize(ExponentialDecay(0.1, 10, 0.5)), objects);
    CHECK(back->class_name() == "WarmupConstant");
  }
  SUBCASE("a factory that returns nothing, or an optimizer factory, is an error") {
    const CustomObjects null_factory{
        {"WarmupConstant", [](const Config&) { return std::shared_ptr<LearningRateSchedule>(); }}};
    CHECK_THROWS_WITH_TEXT(tapeflow::optim::schedules::deserialize(tf2, null_factory), ValueError,
                           "the factory for 'WarmupConstant' returned no schedule");
    const CustomObjects optimizer_factory{
        {"WarmupConstant", [](const Config&, const CustomObjects&) {
           return std::shared_ptr<optim::Optimizer>();
         }}};
    CHECK_THROWS_WITH_TEXT(tapeflow::optim::schedules::deserialize(tf2, optimizer_factory),
                           ValueError,
                           "custom_objects['WarmupConstant'] is an optimizer factory");
  }
  SUBCASE("a custom schedule with an empty class_name cannot be serialized") {
    struct Nameless : WarmupConstant {
      Nameless() : WarmupConstant(1, 1) {}
      std::string class_name() const override { return ""; }
    };
    CHECK_THROWS_WITH_TEXT(serialize(Nameless()), ValueError, "class_name() is empty");
  }
}

// ---- docs/schedules.md: the tables and plots there are this case's output ----
// Run with: build/tests/optim_schedules_test --no-skip -tc='print the curves*'

namespace {

struct Curve {
  const LearningRateSchedule* schedule;
  char mark;
};

void print_curves(const std::string& title, const std::vector<Curve>& curves,
                  const std::vector<double>& steps, double max_step) {
  std::printf("\n#### %s\n\n| step |", title.c_str());
  for (const Curve& c : curves) std::printf(" lr (`%c`) |", c.mark);
  std::printf("\n|---:|");
  for (std::size_t i = 0; i < curves.size(); ++i) std::printf("---:|");
  std::printf("\n");
  for (double step : steps) {
    std::printf("| %g |", step);
    for (const Curve& c : curves) std::printf(" %.6g |", (*c.schedule)(step));
    std::printf("\n");
  }
  const int width = 61, height = 12;
  double lo = 0, hi = 0;
  for (const Curve& c : curves) {
    for (int x = 0; x < width; ++x) hi = std::max(hi, (*c.schedule)(max_step * x / (width - 1)));
  }
  std::vector<std::string> grid(height, std::string(width, ' '));
  for (const Curve& c : curves) {
    for (int x = 0; x < width; ++x) {
      const double lr = (*c.schedule)(max_step * x / (width - 1));
      const int y = static_cast<int>(std::lround((lr - lo) / (hi - lo) * (height - 1)));
      grid[height - 1 - y][x] = c.mark;
    }
  }
  std::printf("\n```\n");
  for (int r = 0; r < height; ++r) {
    const char* label = r == 0 ? "%8.4g |" : r == height - 1 ? "%8.4g |" : "%8s |";
    if (r == 0) std::printf(label, hi);
    else if (r == height - 1) std::printf(label, lo);
    else std::printf(label, "");
    std::printf("%s\n", grid[r].c_str());
  }
  std::printf("%8s +%s\n%9s0%*g  (step)\n```\n", "", std::string(width, '-').c_str(), "",
              width - 1, max_step);
}

}  // namespace

TEST_CASE("print the curves in docs/schedules.md" * doctest::skip()) {
  const ExponentialDecay exp_smooth(0.1, 100, 0.5);
  const ExponentialDecay exp_stairs(0.1, 100, 0.5, true);
  print_curves("ExponentialDecay(0.1, 100, 0.5): smooth `*`, staircase `o`",
               {{&exp_smooth, '*'}, {&exp_stairs, 'o'}}, {0, 50, 99, 100, 150, 200, 300, 400, 500},
               500);
  const PiecewiseConstantDecay piecewise({100, 200}, {0.1, 0.05, 0.01});
  print_curves("PiecewiseConstantDecay({100, 200}, {0.1, 0.05, 0.01})", {{&piecewise, '*'}},
               {0, 99, 100, 101, 200, 201, 300}, 300);
  const PolynomialDecay poly(0.1, 100, 0.01, 2.0);
  const PolynomialDecay poly_cycle(0.1, 100, 0.01, 2.0, true);
  print_curves("PolynomialDecay(0.1, 100, 0.01, power=2): no cycle `*`, cycle `o`",
               {{&poly, '*'}, {&poly_cycle, 'o'}}, {0, 50, 100, 101, 150, 200, 201, 250, 300},
               300);
  const InverseTimeDecay inv(0.1, 10, 0.5);
  const InverseTimeDecay inv_stairs(0.1, 10, 0.5, true);
  print_curves("InverseTimeDecay(0.1, 10, 0.5): smooth `*`, staircase `o`",
               {{&inv, '*'}, {&inv_stairs, 'o'}}, {0, 5, 10, 15, 20, 50, 100, 200}, 200);
  const CosineDecay cosine(0.1, 200, 0.1);
  const CosineDecay warm(0.0, 150, 0.1, "", 0.1, 50);
  print_curves("CosineDecay(0.1, 200, alpha=0.1) `*`; CosineDecay(0.0, 150, alpha=0.1, "
               "warmup_target=0.1, warmup_steps=50) `o`",
               {{&cosine, '*'}, {&warm, 'o'}}, {0, 25, 50, 100, 150, 200, 250}, 250);
  const CosineDecayRestarts sgdr(0.1, 50, 2.0, 0.8, 0.05);
  print_curves("CosineDecayRestarts(0.1, 50, t_mul=2, m_mul=0.8, alpha=0.05)", {{&sgdr, '*'}},
               {0, 25, 49, 50, 100, 149, 150, 250, 349, 350, 400}, 400);
}
