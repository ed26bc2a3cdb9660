// Adam against a reference written from keras-semantics.md §5 (with and without amsgrad), dense
// and sparse (V2: every row's moments decay and every row moves), float32 and float64; slots,
// set_weights of Keras v1 lists, config and errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "reference_steps.hpp"

using namespace tapeflow;
using namespace tapeflow::testing;
using optim::Adam;

namespace {

struct AdamRef {
  double lr = 0.001;
  double beta_1 = 0.9;
  double beta_2 = 0.999;
  double epsilon = 1e-7;
  bool amsgrad = false;
  double decay = 0.0;

  std::vector<std::string> slot_names() const {
    std::vector<std::string> out = {"m", "v"};
    if (amsgrad) out.push_back("vhat");
    return out;
  }
  double slot_initial(const std::string&) const { return 0.0; }

  /// α = lr_t·√(1−β₂ᵗ)/(1−β₁ᵗ), t = it + 1.
  template <class T>
  T alpha(std::int64_t it) const {
    const T t = static_cast<T>(it + 1);
    const T lr_t = static_cast<T>(lr / (1.0 + decay * static_cast<double>(it)));
    return lr_t * std::sqrt(T(1) - std::pow(static_cast<T>(beta_2), t)) /
           (T(1) - std::pow(static_cast<T>(beta_1), t));
  }
  /// vhat = max(vhat, v) (amsgrad), then var −= α·m/(√v̂ + ε) on element i.
  template <class T>
  void move(State<T>& s, std::size_t i, T a) const {
    T v = s.slot.at("v")[i];
    if (amsgrad) {
      T& vhat = s.slot.at("vhat")[i];
      vhat = std::max(vhat, v);
      v = vhat;
    }
    s.var[i] -= a * s.slot.at("m")[i] / (std::sqrt(v) + static_cast<T>(epsilon));
  }
  /// m += (g−m)(1−β₁); v += (g²−v)(1−β₂); then move.
  template <class T>
  void dense(State<T>& s, const std::vector<T>& g, std::int64_t it) const {
    const T a = alpha<T>(it);
    for (std::size_t i = 0; i < g.size(); ++i) {
      T& m = s.slot.at("m")[i];
      T& v = s.slot.at("v")[i];
      m += (g[i] - m) * (T(1) - static_cast<T>(beta_1));
      v += (g[i] * g[i] - v) * (T(1) - static_cast<T>(beta_2));
      move(s, i, a);
    }
  }
  /// Every row: m ·= β₁, v ·= β₂; listed rows add (1−β₁)g and (1−β₂)g²; every row moves.
  template <class T>
  void sparse(State<T>& s, const std::vector<std::int64_t>& rows, const std::vector<T>& values,
              std::size_t row_size, std::int64_t it) const {
    for (T& m : s.slot.at("m")) m *= static_cast<T>(beta_1);
    for (T& v : s.slot.at("v")) v *= static_cast<T>(beta_2);
    for_listed_elements(rows, values, row_size, [&](std::size_t i, T g) {
      s.slot.at("m")[i] += (T(1) - static_cast<T>(beta_1)) * g;
      s.slot.at("v")[i] += (T(1) - static_cast<T>(beta_2)) * g * g;
    });
    const T a = alpha<T>(it);
    for (std::size_t i = 0; i < s.var.size(); ++i) move(s, i, a);
  }
};

}  // namespace

TEST_CASE_TEMPLATE("Adam dense and sparse steps match the reference", T, float, double) {
  for (const bool amsgrad : {false, true}) {
    CAPTURE(amsgrad);
    const AdamRef ref{0.1, 0.8, 0.9, 1e-7, amsgrad};
    check_dense_steps<T>(Adam(0.1, 0.8, 0.9, 1e-7, amsgrad), ref);
    check_sparse_steps<T>(Adam(0.1, 0.8, 0.9, 1e-7, amsgrad), ref);
  }
  SUBCASE("epsilon 0.5 and time-inverse decay") {
    const AdamRef ref{0.1, 0.9, 0.999, 0.5, true, 0.25};
    check_dense_steps<T>(Adam(0.1, 0.9, 0.999, 0.5, true, "Adam", {{"decay", 0.25}}), ref);
    check_sparse_steps<T>(Adam(0.1, 0.9, 0.999, 0.5, true, "Adam", {{"decay", 0.25}}), ref);
  }
}

TEST_CASE_TEMPLATE("Adam on sizes past the SIMD width (vector loop and tail) matches the reference",
                   T,
                   float,
                   double) {
  for (const bool amsgrad : {false, true}) {
    CAPTURE(amsgrad);
    const AdamRef ref{0.1, 0.8, 0.9, 1e-7, amsgrad};
    check_wide_steps<T>(
        Adam(0.1, 0.8, 0.9, 1e-7, amsgrad), Adam(0.1, 0.8, 0.9, 1e-7, amsgrad), ref);
  }
}

TEST_CASE("Adam: the docstring's first step, and amsgrad keeps the largest v") {
  // Keras's docstring: Adam(0.1), var 10, loss var²/2: the first step is lr·sign(g).
  Variable w(Tensor{10.0}, "w");
  Adam opt(0.1);
  opt.minimize([&] { return reduce_sum(square(w)) / 2.0; }, {w});
  CHECK(w.numpy<float>()(0) == doctest::Approx(9.9).epsilon(1e-6));

  Variable a(Tensor{1.0}, "a");
  Adam ams(0.1, 0.9, 0.5, 1e-7, true);
  ams.apply_gradients({{Tensor{2.0}, a}});
  ams.apply_gradients({{Tensor{0.1}, a}});  // v drops (β₂ = 0.5), vhat stays at the peak
  const float v = ams.get_slot(a, "v").numpy<float>()(0);
  const float vhat = ams.get_slot(a, "vhat").numpy<float>()(0);
  CHECK(v == doctest::Approx(0.5 * 2.0 + 0.5 * 0.01));
  CHECK(vhat == doctest::Approx(2.0));
}

TEST_CASE("Adam sparse: rows without a gradient keep moving on their momentum") {
  Variable table(Tensor{{1.0, 1.0}, {2.0, 2.0}}, "table");
  Adam opt(0.1);
  opt.apply_gradients({{IndexedSlices{Tensor{{0.5, 0.5}}, Tensor{0}, {2, 2}}, table}});
  const auto after_first = table.numpy<float>();
  CHECK(after_first(1, 0) == 2.0f);  // m of row 1 is still 0
  opt.apply_gradients({{IndexedSlices{Tensor{{0.5, 0.5}}, Tensor{1}, {2, 2}}, table}});
  const auto after_second = table.numpy<float>();
  CHECK(after_second(0, 0) < after_first(0, 0));  // row 0 moved without a gradient
  CHECK(opt.get_slot(table, "m").numpy<float>()(0, 0) == doctest::Approx(0.9 * 0.05));
}

TEST_CASE("Adam slots, and set_weights of a Keras v1 list (with vhat)") {
  Variable var0(Tensor{1.0, 2.0}, "var0");
  Variable var1(Tensor{3.0}, "var1");
  Adam opt(0.1);
  opt.apply_gradients({{Tensor{0.1, 0.1}, var0}, {Tensor{0.1}, var1}});
  CHECK(weight_names(opt) == std::vector<std::string>{"Adam/iter:0", "Adam/var0/m:0",
                                                      "Adam/var1/m:0", "Adam/var0/v:0",
                                                      "Adam/var1/v:0"});
  CHECK(opt.get_slot_names() == std::vector<std::string>{"m", "v"});

  // 3·2 + 1 entries: the last two (vhat) are dropped.
  opt.set_weights({Tensor(std::int64_t{7}), Tensor{1.0, 1.0}, Tensor{2.0}, Tensor{3.0, 3.0},
                   Tensor{4.0}, Tensor{5.0, 5.0}, Tensor{6.0}});
  CHECK(opt.iterations().numpy<std::int64_t>()() == 7);
  CHECK_ALLCLOSE(opt.get_slot(var1, "v").value(), (Tensor{4.0}), 0.0, 0.0);
  // The exact length still works, and other lengths are errors (no v1 prepend for Adam).
  opt.set_weights({Tensor(std::int64_t{1}), Tensor{0.0, 0.0}, Tensor{0.0}, Tensor{0.0, 0.0},
                   Tensor{0.0}});
  CHECK(opt.iterations().numpy<std::int64_t>()() == 1);
  const Snapshot before = snapshot(opt, {var0, var1});
  CHECK_THROWS_WITH_TEXT(
      opt.set_weights({Tensor{0.0, 0.0}, Tensor{0.0}, Tensor{0.0, 0.0}, Tensor{0.0}}), ValueError,
      "with a  weight list of length 4, but the optimizer was expecting 5 weights");
  check_unchanged(before, opt, {var0, var1});

  Adam with_vhat(0.1, 0.9, 0.999, 1e-7, true, "A");
  with_vhat.apply_gradients({{Tensor{0.1, 0.1}, var0}, {Tensor{0.1}, var1}});
  CHECK(weight_names(with_vhat).size() == 7);
  CHECK(weight_names(with_vhat)[5] == "A/var0/vhat:0");
  // Through the base handle too: set_weights is virtual.
  optim::Optimizer base = opt;
  base.set_weights({Tensor(std::int64_t{3}), Tensor{1.0, 1.0}, Tensor{2.0}, Tensor{3.0, 3.0},
                    Tensor{4.0}, Tensor{5.0, 5.0}, Tensor{6.0}});
  CHECK(opt.iterations().numpy<std::int64_t>()() == 3);
}

TEST_CASE("Adam get_config: Keras keys and order; from_config round trip; errors") {
  CHECK(Adam().get_config().dump() ==
        R"({"name":"Adam","learning_rate":0.001,"decay":0.0,"beta_1":0.9,"beta_2":0.999,)"
        R"("epsilon":1e-07,"amsgrad":false})");
  CHECK(Adam(0.1, 0.9, 0.999, 0.0).epsilon() == 1e-7);
  const Adam original(0.5, 0.8, 0.99, 1e-4, true, "adam_x", {{"global_clipnorm", 1.0}});
  const Config config = original.get_config();
  CHECK(config_keys(config) == std::vector<std::string>{"name", "global_clipnorm",
                                                        "learning_rate", "decay", "beta_1",
                                                        "beta_2", "epsilon", "amsgrad"});
  CHECK(Adam::from_config(config).get_config() == config);
  CHECK(Adam::from_config(Config::object()).get_config() == Adam().get_config());

  CHECK_THROWS_WITH_TEXT(Adam::from_config({{"amsgrad", 0}}), TypeError,
                         "Adam.from_config: `amsgrad` must be a boolean");
  CHECK_THROWS_WITH_TEXT(Adam::from_config({{"beta_1", "0.9"}}), TypeError,
                         "`beta_1` must be a number");
  CHECK_THROWS_WITH_TEXT(Adam::from_config({{"rho", 0.9}}), TypeError,
                         "Unexpected keyword argument passed to optimizer: rho");
  CHECK_THROWS_WITH_TEXT(Adam(0.1, 0.9, 0.999, 1e-7, false, "Adam", {{"clipvalue", -1.0}}),
                         ValueError, "Expected clipvalue >= 0, received: -1.0");

  Variable a(Tensor{1.0, 2.0}, "a");
  Variable table(Tensor{{1.0, 2.0}, {3.0, 4.0}}, "table");
  Adam opt(0.1, 0.9, 0.999, 1e-7, true);
  opt.apply_gradients({{Tensor{0.5, 0.5}, a}});
  const Snapshot before = snapshot(opt, {a, table});
  const IndexedSlices bad{Tensor{{0.1, 0.1}}, Tensor{-1}, {2, 2}};
  CHECK_THROWS_WITH_TEXT(opt.apply_gradients({{Tensor{0.1, 0.1}, a}, {bad, table}}), ValueError,
                         "Index -1 at offset 0");
  check_unchanged(before, opt, {a, table});
}
