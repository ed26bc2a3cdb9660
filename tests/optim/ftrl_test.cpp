// Ftrl against a reference written from keras-semantics.md §5, with each regularization option
// (l1, l2, l2 shrinkage, beta, learning_rate_power, initial_accumulator_value), dense and
// sparse, float32 and float64; interleaved slots, the ignored `lr`, config and errors.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "reference_steps.hpp"

using namespace tapeflow;
using namespace tapeflow::testing;
using optim::Ftrl;

namespace {

struct FtrlRef {
  double lr = 0.001;
  double power = -0.5;
  double initial = 0.1;
  double l1 = 0.0;
  double l2 = 0.0;
  double shrinkage = 0.0;
  double beta = 0.0;

  Ftrl make() const { return Ftrl(lr, power, initial, l1, l2, "Ftrl", shrinkage, beta); }

  std::vector<std::string> slot_names() const { return {"accumulator", "linear"}; }
  double slot_initial(const std::string& name) const {
    return name == "accumulator" ? initial : 0.0;
  }

  /// x^(−p), written √x for the default p = −0.5 as TF's kernel does: with l1, var is
  /// (sign·l1 − linear)/quad with linear close to l1, which turns powf's last-bit differences
  /// from sqrtf into 1e-5 relative differences in float32.
  template <class T>
  static T neg_power(T x, T p) {
    return p == T(-0.5) ? std::sqrt(x) : std::pow(x, -p);
  }

  /// l2' = l2 + β/(2·lr); g_s = g + 2·l2_shrinkage·var; n = acc + g²;
  /// linear += g_s − (n^(−p) − acc^(−p))/lr·var; quad = n^(−p)/lr + 2·l2';
  /// var = |linear| > l1 ? (sign(linear)·l1 − linear)/quad : 0; acc = n.
  template <class T>
  void update(State<T>& s, std::size_t i, T g) const {
    const T lr_t = static_cast<T>(lr), p = static_cast<T>(power), l1_t = static_cast<T>(l1);
    const T l2_adjusted = static_cast<T>(l2) + static_cast<T>(beta) / (T(2) * lr_t);
    T& acc = s.slot.at("accumulator")[i];
    T& linear = s.slot.at("linear")[i];
    T& var = s.var[i];
    const T g_s = g + T(2) * static_cast<T>(shrinkage) * var;
    const T n = acc + g * g;
    linear += g_s - (neg_power(n, p) - neg_power(acc, p)) / lr_t * var;
    const T quad = neg_power(n, p) / lr_t + T(2) * l2_adjusted;
    const T sign = linear > 0 ? T(1) : (linear < 0 ? T(-1) : T(0));
    var = std::abs(linear) > l1_t ? (sign * l1_t - linear) / quad : T(0);
    acc = n;
  }
  template <class T>
  void dense(State<T>& s, const std::vector<T>& g, std::int64_t) const {
    for (std::size_t i = 0; i < g.size(); ++i) update(s, i, g[i]);
  }
  template <class T>
  void sparse(State<T>& s, const std::vector<std::int64_t>& rows, const std::vector<T>& values,
              std::size_t row_size, std::int64_t) const {
    for_listed_elements(rows, values, row_size, [&](std::size_t i, T g) { update(s, i, g); });
  }
};

}  // namespace

TEST_CASE_TEMPLATE("Ftrl dense and sparse steps match the reference, option by option", T, float,
                   double) {
  struct Case {
    std::string what;
    FtrlRef ref;
  };
  const Case cases[] = {
      {"no regularization", {3.0}},
      {"l1", {3.0, -0.5, 0.1, 0.05}},
      {"l2", {3.0, -0.5, 0.1, 0.0, 0.5}},
      {"l1 and l2", {3.0, -0.5, 0.1, 0.05, 0.5}},
      {"l2 shrinkage", {3.0, -0.5, 0.1, 0.0, 0.0, 0.1}},
      {"l2 shrinkage with l1 and l2", {3.0, -0.5, 0.1, 0.02, 0.2, 0.1}},
      {"beta", {3.0, -0.5, 0.1, 0.0, 0.0, 0.0, 0.5}},
      {"learning_rate_power -0.25", {3.0, -0.25, 0.5}},
      {"learning_rate_power 0 (fixed rate)", {0.5, 0.0, 0.1, 0.01, 0.1}},
      {"learning_rate_power -1", {0.5, -1.0, 0.2}},
      {"initial_accumulator_value 0", {3.0, -0.5, 0.0}},
      {"everything at once", {2.0, -0.3, 0.3, 0.01, 0.3, 0.05, 0.2}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    check_dense_steps<T>(c.ref.make(), c.ref);
    check_sparse_steps<T>(c.ref.make(), c.ref);
  }
}

TEST_CASE_TEMPLATE("Ftrl on sizes past the SIMD width (vector loop and tail) matches the reference",
                   T,
                   float,
                   double) {
  struct Case {
    std::string what;
    FtrlRef ref;
  };
  const Case cases[] = {
      {"no regularization", {3.0}},
      {"l1 (some weights at exactly 0)", {3.0, -0.5, 0.1, 0.3}},
      {"l2 shrinkage with l1, l2 and beta", {2.0, -0.5, 0.3, 0.01, 0.3, 0.05, 0.2}},
      {"initial_accumulator_value 0", {3.0, -0.5, 0.0, 0.01}},
      {"learning_rate_power -0.25 (the pow form)", {3.0, -0.25, 0.5, 0.01, 0.1, 0.05}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    check_wide_steps<T>(c.ref.make(), c.ref.make(), c.ref);
  }
}

TEST_CASE("Ftrl l1 sets small weights to exactly 0; Keras's first-step numbers") {
  // l1 = 1 exceeds |linear| (close to |g| here) after one step: both weights are zeroed.
  Variable a(Tensor{1.0, 2.0}, "a");
  Ftrl strong(3.0, -0.5, 0.1, 1.0);
  strong.apply_gradients({{Tensor{0.1, 0.2}, a}});
  CHECK_ALLCLOSE(a.value(), (Tensor{0.0, 0.0}), 0.0, 0.0);

  // From var 0 with lr 3 and accumulator 0.1: linear = g, var = −g / (√(0.1 + g²)/3).
  Variable b(Tensor{0.0, 0.0}, "b");
  Ftrl plain(3.0);
  plain.apply_gradients({{Tensor{0.1, 0.2}, b}});
  const double n0 = 0.11, n1 = 0.14;
  CHECK_ALLCLOSE(b.value(), (Tensor{-0.1 / (std::sqrt(n0) / 3.0), -0.2 / (std::sqrt(n1) / 3.0)}),
                 1e-6, 0.0);
}

TEST_CASE("Ftrl slots are interleaved per variable") {
  Variable var0(Tensor{1.0, 2.0}, "var0");
  Variable var1(Tensor{3.0}, "var1");
  Ftrl opt(0.1, -0.5, 0.25);
  opt.apply_gradients({{Tensor{0.1, 0.1}, var0}, {Tensor{0.1}, var1}});
  CHECK(weight_names(opt) == std::vector<std::string>{"Ftrl/iter:0", "Ftrl/var0/accumulator:0",
                                                      "Ftrl/var0/linear:0",
                                                      "Ftrl/var1/accumulator:0",
                                                      "Ftrl/var1/linear:0"});
  CHECK(opt.get_slot_names() == std::vector<std::string>{"accumulator", "linear"});
  CHECK_ALLCLOSE(opt.get_slot(var1, "accumulator").value(), (Tensor{0.26}), 1e-6, 0.0);
}

TEST_CASE("Ftrl ignores the `lr` kwarg, as Keras V2's Ftrl does") {
  CaptureCerr captured;
  const Ftrl opt(0.5, -0.5, 0.1, 0.0, 0.0, "Ftrl", 0.0, 0.0, {{"lr", 5.0}});
  CHECK(opt.learning_rate().value() == 0.5);
  CHECK(captured.text().find("The `lr` argument is deprecated") != std::string::npos);
  // from_config renames lr to learning_rate (the base from_config does), so there it counts.
  CHECK(Ftrl::from_config({{"lr", 0.25}}).learning_rate().value() == 0.25);
}

TEST_CASE("Ftrl get_config: Keras keys and order; from_config round trip") {
  CHECK(Ftrl().get_config().dump() ==
        R"({"name":"Ftrl","learning_rate":0.001,"decay":0.0,"initial_accumulator_value":0.1,)"
        R"("learning_rate_power":-0.5,"l1_regularization_strength":0.0,)"
        R"("l2_regularization_strength":0.0,"beta":0.0,)"
        R"("l2_shrinkage_regularization_strength":0.0})");
  const Ftrl original(0.2, -0.3, 0.4, 0.01, 0.02, "f", 0.03, 0.04, {{"clipnorm", 1.0}});
  const Config config = original.get_config();
  CHECK(config_keys(config) ==
        std::vector<std::string>{"name", "clipnorm", "learning_rate", "decay",
                                 "initial_accumulator_value", "learning_rate_power",
                                 "l1_regularization_strength", "l2_regularization_strength",
                                 "beta", "l2_shrinkage_regularization_strength"});
  const Ftrl rebuilt = Ftrl::from_config(config);
  CHECK(rebuilt.get_config() == config);
  CHECK(rebuilt.l2_shrinkage_regularization_strength() == 0.03);
  CHECK(rebuilt.beta() == 0.04);
  CHECK(Ftrl::from_config(Config::object()).get_config() == Ftrl().get_config());
}

TEST_CASE("Ftrl construction errors: Keras's wording, kwargs checked first") {
  CHECK_THROWS_WITH_TEXT(Ftrl(0.1, -0.5, -0.1), ValueError,
                         "`initial_accumulator_value` needs to be positive or zero. Received: "
                         "initial_accumulator_value=-0.1.");
  CHECK_THROWS_WITH_TEXT(Ftrl(0.1, 0.5), ValueError,
                         "`learning_rate_power` needs to be negative or zero. Received: "
                         "learning_rate_power=0.5.");
  CHECK_THROWS_WITH_TEXT(Ftrl(0.1, -0.5, 0.1, -1.0), ValueError,
                         "`l1_regularization_strength` needs to be positive or zero. Received: "
                         "l1_regularization_strength=-1.0.");
  CHECK_THROWS_WITH_TEXT(Ftrl(0.1, -0.5, 0.1, 0.0, -2.0), ValueError,
                         "`l2_regularization_strength` needs to be positive or zero. Received: "
                         "l2_regularization_strength=-2.0.");
  CHECK_THROWS_WITH_TEXT(Ftrl(0.1, -0.5, 0.1, 0.0, 0.0, "Ftrl", -0.5), ValueError,
                         "`l2_shrinkage_regularization_strength` needs to be positive or zero. "
                         "Received: l2_shrinkage_regularization_strength=-0.5.");
  // Keras runs the base checks first.
  CHECK_THROWS_WITH_TEXT(Ftrl(0.1, 0.5, 0.1, 0.0, 0.0, "Ftrl", 0.0, 0.0, {{"momentum", 0.1}}),
                         TypeError, "Unexpected keyword argument passed to optimizer: momentum");
  CHECK_NOTHROW(Ftrl(0.1, 0.0, 0.0, 0.0, 0.0, "Ftrl", 0.0, -1.0));  // beta is not checked

  CHECK_THROWS_WITH_TEXT(Ftrl::from_config({{"beta", "x"}}), TypeError,
                         "Ftrl.from_config: `beta` must be a number");
  CHECK_THROWS_WITH_TEXT(Ftrl::from_config({{"l1_regularization_strength", -1.0}}), ValueError,
                         "`l1_regularization_strength` needs to be positive or zero");
}

TEST_CASE("Ftrl apply_gradients errors change nothing") {
  Variable a(Tensor{1.0, 2.0}, "a");
  Variable table(Tensor{{1.0, 2.0}, {3.0, 4.0}}, "table");
  Ftrl opt(0.1, -0.5, 0.1, 0.01, 0.01, "Ftrl", 0.01);
  opt.apply_gradients({{Tensor{0.5, 0.5}, a}, {Tensor{{0.5, 0.5}, {0.5, 0.5}}, table}});
  const Snapshot before = snapshot(opt, {a, table});
  CHECK_THROWS_WITH_TEXT(
      opt.apply_gradients({{Tensor{0.1, 0.1}, a}, {Tensor{{1, 1}, {1, 1}}, table}}), ValueError,
      "has dtype int32, the variable float32");
  check_unchanged(before, opt, {a, table});
}
