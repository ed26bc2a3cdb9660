// RMSprop against a reference written from keras-semantics.md §5 (plain, centered, momentum,
// both), dense and sparse, float32 and float64; the §6 weights example, config and errors.
#include <doctest/doctest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "reference_steps.hpp"

using namespace tapeflow;
using namespace tapeflow::testing;
using optim::RMSprop;

namespace {

struct RMSpropRef {
  double lr = 0.001;
  double rho = 0.9;
  double momentum = 0.0;
  double epsilon = 1e-7;
  bool centered = false;

  std::vector<std::string> slot_names() const {
    std::vector<std::string> out = {"rms"};
    if (momentum > 0) out.push_back("momentum");
    if (centered) out.push_back("mg");
    return out;
  }
  double slot_initial(const std::string&) const { return 0.0; }

  /// Momentum > 0: rms += (g²−rms)(1−ρ); mg += (g−mg)(1−ρ); mom = μ·mom + lr·g/√(rms − mg² + ε);
  /// var −= mom (ε inside). Otherwise: rms = ρ·rms + (1−ρ)g²; mg = ρ·mg + (1−ρ)g;
  /// var −= lr·g/(√(rms − mg²) + ε) (ε outside).
  template <class T>
  void update(State<T>& s, std::size_t i, T g) const {
    const T r = static_cast<T>(rho), one = T(1), eps = static_cast<T>(epsilon);
    const T lr_t = static_cast<T>(lr);
    T& rms = s.slot.at("rms")[i];
    T mg2 = 0;
    if (momentum > 0) {
      rms += (g * g - rms) * (one - r);
      if (centered) {
        T& mg = s.slot.at("mg")[i];
        mg += (g - mg) * (one - r);
        mg2 = mg * mg;
      }
      T& mom = s.slot.at("momentum")[i];
      mom = static_cast<T>(momentum) * mom + lr_t * g / std::sqrt(rms - mg2 + eps);
      s.var[i] -= mom;
    } else {
      rms = r * rms + (one - r) * g * g;
      if (centered) {
        T& mg = s.slot.at("mg")[i];
        mg = r * mg + (one - r) * g;
        mg2 = mg * mg;
      }
      s.var[i] -= lr_t * g / (std::sqrt(rms - mg2) + eps);
    }
  }
  template <class T>
  void dense(State<T>& s, const std::vector<T>& g, std::int64_t) const {
    for (std::size_t i = 0; i < g.size(); ++i) update(s, i, g[i]);
  }
  /// With momentum: the dense rule on the listed rows. Without: every row of rms (and mg) decays
  /// by ρ, then the listed rows add (1−ρ)g² ((1−ρ)g) and move.
  template <class T>
  void sparse(State<T>& s, const std::vector<std::int64_t>& rows, const std::vector<T>& values,
              std::size_t row_size, std::int64_t) const {
    if (momentum > 0) {
      for_listed_elements(rows, values, row_size, [&](std::size_t i, T g) { update(s, i, g); });
      return;
    }
    const T r = static_cast<T>(rho), one = T(1), eps = static_cast<T>(epsilon);
    for (T& x : s.slot.at("rms")) x *= r;
    if (centered) {
      for (T& x : s.slot.at("mg")) x *= r;
    }
    for_listed_elements(rows, values, row_size, [&](std::size_t i, T g) {
      T& rms = s.slot.at("rms")[i];
      rms += (one - r) * g * g;
      T den = rms;
      if (centered) {
        T& mg = s.slot.at("mg")[i];
        mg += (one - r) * g;
        den = rms - mg * mg;
      }
      s.var[i] -= static_cast<T>(lr) * g / (std::sqrt(den) + eps);
    });
  }
};

}  // namespace

TEST_CASE_TEMPLATE("RMSprop dense and sparse steps match the reference", T, float, double) {
  for (const double momentum : {0.0, 0.5}) {
    for (const bool centered : {false, true}) {
      CAPTURE(momentum);
      CAPTURE(centered);
      const RMSpropRef ref{0.1, 0.8, momentum, 1e-7, centered};
      check_dense_steps<T>(RMSprop(0.1, 0.8, momentum, 1e-7, centered), ref);
      check_sparse_steps<T>(RMSprop(0.1, 0.8, momentum, 1e-7, centered), ref);
    }
  }
}

TEST_CASE_TEMPLATE("RMSprop past the SIMD width (vector loop and tail) matches the reference",
                   T,
                   float,
                   double) {
  for (const double momentum : {0.0, 0.5}) {
    for (const bool centered : {false, true}) {
      CAPTURE(momentum);
      CAPTURE(centered);
      const RMSpropRef ref{0.1, 0.8, momentum, 1e-7, centered};
      check_wide_steps<T>(RMSprop(0.1, 0.8, momentum, 1e-7, centered),
                          RMSprop(0.1, 0.8, momentum, 1e-7, centered),
                          ref);
    }
  }
}

TEST_CASE_TEMPLATE("RMSprop epsilon 1: outside the sqrt without momentum, inside with it", T,
                   float, double) {
  for (const double momentum : {0.0, 0.5}) {
    for (const bool centered : {false, true}) {
      CAPTURE(momentum);
      CAPTURE(centered);
      const RMSpropRef ref{0.1, 0.8, momentum, 1.0, centered};
      check_dense_steps<T>(RMSprop(0.1, 0.8, momentum, 1.0, centered), ref);
      check_sparse_steps<T>(RMSprop(0.1, 0.8, momentum, 1.0, centered), ref);
    }
  }
  // One step from 1 with g = 0.5, ρ = 0.8, lr = 0.1: rms = 0.05.
  Variable a(vec<T>({1.0}), "a"), b(vec<T>({1.0}), "b");
  RMSprop plain(0.1, 0.8, 0.0, 1.0), with_momentum(0.1, 0.8, 0.5, 1.0);
  plain.apply_gradients({{vec<T>({0.5}), a}});
  with_momentum.apply_gradients({{vec<T>({0.5}), b}});
  CHECK(flat<T>(a)[0] == doctest::Approx(1.0 - 0.05 / (std::sqrt(0.05) + 1.0)).epsilon(1e-6));
  CHECK(flat<T>(b)[0] == doctest::Approx(1.0 - 0.05 / std::sqrt(1.05)).epsilon(1e-6));
}

TEST_CASE("RMSprop weights: the Dense(10) on 20 inputs example (§6)") {
  Variable kernel(zeros({20, 10}), "dense/kernel");
  Variable bias(zeros({10}), "dense/bias");
  RMSprop opt;
  opt.apply_gradients({{ones({20, 10}), kernel}, {ones({10}), bias}});
  CHECK(opt.get_weights().size() == 3);
  CHECK(weight_names(opt) == std::vector<std::string>{"RMSprop/iter:0",
                                                      "RMSprop/dense/kernel/rms:0",
                                                      "RMSprop/dense/bias/rms:0"});
  CHECK(opt.get_weights()[1].shape() == Shape{20, 10});
  CHECK(opt.get_weights()[2].shape() == Shape{10});

  opt.set_weights({Tensor(std::int64_t{10}), ones({20, 10}), zeros({10})});
  std::ostringstream printed;
  printed << opt.iterations();
  CHECK(printed.str() == "<tapeflow.Variable 'RMSprop/iter:0' shape=() dtype=int64, numpy=10>");
  CHECK_ALLCLOSE(opt.get_slot(kernel, "rms").value(), ones({20, 10}), 0.0, 0.0);

  // Keras v1 weights have no iteration count: one short means iteration 0 in front.
  opt.set_weights({fill({20, 10}, 2.0), fill({10}, 3.0)});
  CHECK(opt.iterations().numpy<std::int64_t>()() == 0);
  CHECK_ALLCLOSE(opt.get_slot(bias, "rms").value(), fill({10}, 3.0), 0.0, 0.0);
}

TEST_CASE("RMSprop slot order: rms, then momentum, then mg, each over all variables") {
  Variable k(zeros({2, 2}), "k");
  Variable b(zeros({2}), "b");
  const auto names_after_step = [&](RMSprop opt) {
    opt.apply_gradients({{ones({2, 2}), k}, {ones({2}), b}});
    return weight_names(opt);
  };
  CHECK(names_after_step(RMSprop(0.1, 0.9, 0.5, 1e-7, false, "R")) ==
        std::vector<std::string>{"R/iter:0", "R/k/rms:0", "R/b/rms:0", "R/k/momentum:0",
                                 "R/b/momentum:0"});
  CHECK(names_after_step(RMSprop(0.1, 0.9, 0.5, 1e-7, true, "R")) ==
        std::vector<std::string>{"R/iter:0", "R/k/rms:0", "R/b/rms:0", "R/k/momentum:0",
                                 "R/b/momentum:0", "R/k/mg:0", "R/b/mg:0"});
  CHECK(names_after_step(RMSprop(0.1, 0.9, 0.0, 1e-7, true, "R")) ==
        std::vector<std::string>{"R/iter:0", "R/k/rms:0", "R/b/rms:0", "R/k/mg:0", "R/b/mg:0"});
}

TEST_CASE("RMSprop get_config: Keras keys and order; from_config round trip") {
  CHECK(RMSprop().get_config().dump() ==
        R"({"name":"RMSprop","learning_rate":0.001,"decay":0.0,"rho":0.9,"momentum":0.0,)"
        R"("epsilon":1e-07,"centered":false})");
  CHECK(RMSprop(0.1, 0.9, 0.0, 0.0).epsilon() == 1e-7);  // V2: epsilon 0 becomes 1e-7
  const RMSprop original(0.5, 0.7, 0.25, 1e-3, true, "r2", {{"clipnorm", 2.0}});
  const Config config = original.get_config();
  CHECK(config_keys(config) == std::vector<std::string>{"name", "clipnorm", "learning_rate",
                                                        "decay", "rho", "momentum", "epsilon",
                                                        "centered"});
  const RMSprop rebuilt = RMSprop::from_config(config);
  CHECK(rebuilt.get_config() == config);
  CHECK(rebuilt.centered());
  CHECK(RMSprop::from_config({{"epsilon", nullptr}}).epsilon() == 1e-7);
  CHECK(RMSprop::from_config(Config::object()).get_config() == RMSprop().get_config());
}

TEST_CASE("RMSprop errors: momentum range, config types, set_weights") {
  CHECK_THROWS_WITH_TEXT(
      RMSprop(0.1, 0.9, 2.0), ValueError,
      "`momentum` must be between [0, 1]. Received: momentum=2.0 (of type <class 'float'>).");
  CHECK_THROWS_WITH_TEXT(RMSprop(0.1, 0.9, -1.0, 1e-7, false, "RMSprop", {{"decay", -1.0}}),
                         ValueError, "Expected decay >= 0, received: -1.0");
  CHECK_THROWS_WITH_TEXT(RMSprop::from_config({{"centered", "yes"}}), TypeError,
                         "RMSprop.from_config: `centered` must be a boolean");
  CHECK_THROWS_WITH_TEXT(RMSprop::from_config({{"rho", nullptr}}), TypeError,
                         "`rho` must be a number");

  Variable a(Tensor{1.0, 2.0}, "a");
  const std::vector<Variable> vars = {a};
  RMSprop opt(0.1, 0.9, 0.5);
  opt.apply_gradients({{Tensor{0.5, 0.5}, a}});
  const Snapshot before = snapshot(opt, vars);
  // Two short is not the Keras v1 form.
  CHECK_THROWS_WITH_TEXT(opt.set_weights({Tensor{1.0, 1.0}}), ValueError,
                         "with a  weight list of length 1, but the optimizer was expecting 3");
  check_unchanged(before, opt, vars);
  CHECK_THROWS_WITH_TEXT(
      opt.apply_gradients({{Tensor{0.1, 0.1}, a}, {Gradient(), a}, {Tensor{0.1}, a}}), ValueError,
      "var and grad do not have the same shape");
  check_unchanged(before, opt, vars);
}
