// Adamax against a reference written from keras-semantics.md §5, dense and sparse, float32 and
// float64; slots, config and errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "reference_steps.hpp"

using namespace tapeflow;
using namespace tapeflow::testing;
using optim::Adamax;

namespace {

/// m = β₁m + (1−β₁)g; v = max(β₂v, |g|); var −= lr/(1−β₁ᵗ)·m/(v + ε), t = it + 1. The dense
/// step writes m's update as TF's ApplyAdaMax does, m += (g − m)(1−β₁): in float32 the two forms
/// differ by more than 1e-6 once m is small.
struct AdamaxRef {
  double lr = 0.001;
  double beta_1 = 0.9;
  double beta_2 = 0.999;
  double epsilon = 1e-7;
  double decay = 0.0;

  std::vector<std::string> slot_names() const { return {"m", "v"}; }
  double slot_initial(const std::string&) const { return 0.0; }

  template <class T>
  void update(State<T>& s, std::size_t i, T g, std::int64_t it, bool dense_form) const {
    const T b1 = static_cast<T>(beta_1), b2 = static_cast<T>(beta_2);
    const T lr_t = static_cast<T>(lr / (1.0 + decay * static_cast<double>(it)));
    T& m = s.slot.at("m")[i];
    T& v = s.slot.at("v")[i];
    m = dense_form ? m + (g - m) * (T(1) - b1) : b1 * m + (T(1) - b1) * g;
    v = std::max(b2 * v, std::abs(g));
    const T scaled = lr_t / (T(1) - std::pow(b1, static_cast<T>(it + 1)));
    s.var[i] -= scaled * (m / (v + static_cast<T>(epsilon)));
  }
  template <class T>
  void dense(State<T>& s, const std::vector<T>& g, std::int64_t it) const {
    for (std::size_t i = 0; i < g.size(); ++i) update(s, i, g[i], it, true);
  }
  template <class T>
  void sparse(State<T>& s, const std::vector<std::int64_t>& rows, const std::vector<T>& values,
              std::size_t row_size, std::int64_t it) const {
    for_listed_elements(rows, values, row_size,
                        [&](std::size_t i, T g) { update(s, i, g, it, false); });
  }
};

}  // namespace

TEST_CASE_TEMPLATE("Adamax dense and sparse steps match the reference", T, float, double) {
  SUBCASE("lr 0.1, β₁ 0.8, β₂ 0.5 (v follows |g| down and up)") {
    check_dense_steps<T>(Adamax(0.1, 0.8, 0.5), AdamaxRef{0.1, 0.8, 0.5});
    check_sparse_steps<T>(Adamax(0.1, 0.8, 0.5), AdamaxRef{0.1, 0.8, 0.5});
  }
  SUBCASE("defaults for β, epsilon 0.1, decay 0.5") {
    const AdamaxRef ref{0.1, 0.9, 0.999, 0.1, 0.5};
    check_dense_steps<T>(Adamax(0.1, 0.9, 0.999, 0.1, "Adamax", {{"decay", 0.5}}), ref);
    check_sparse_steps<T>(Adamax(0.1, 0.9, 0.999, 0.1, "Adamax", {{"decay", 0.5}}), ref);
  }
}

TEST_CASE("Adamax slots; sparse steps leave other rows and their slots alone") {
  Variable var0(Tensor{1.0, 2.0}, "var0");
  Variable table(Tensor{{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}}, "table");
  Adamax opt(0.1);
  opt.apply_gradients(
      {{Tensor{0.1, 0.1}, var0}, {Tensor{{0.1, 0.1}, {0.1, 0.1}, {0.1, 0.1}}, table}});
  CHECK(weight_names(opt) == std::vector<std::string>{"Adamax/iter:0", "Adamax/var0/m:0",
                                                      "Adamax/table/m:0", "Adamax/var0/v:0",
                                                      "Adamax/table/v:0"});
  const auto m_before = opt.get_slot(table, "m").numpy<float>();
  const auto var_before = table.numpy<float>();
  opt.apply_gradients({{IndexedSlices{Tensor{{0.5, 0.5}}, Tensor{2}, {3, 2}}, table}});
  const auto m_after = opt.get_slot(table, "m").numpy<float>();
  CHECK(m_after(0, 0) == m_before(0, 0));
  CHECK(table.numpy<float>()(1, 1) == var_before(1, 1));
  CHECK(m_after(2, 0) != m_before(2, 0));
}

TEST_CASE("Adamax get_config: Keras keys and order; from_config round trip; errors") {
  CHECK(Adamax().get_config().dump() ==
        R"({"name":"Adamax","learning_rate":0.001,"decay":0.0,"beta_1":0.9,"beta_2":0.999,)"
        R"("epsilon":1e-07})");
  CHECK(Adamax(0.1, 0.9, 0.999, 0.0).epsilon() == 1e-7);
  const Adamax original(0.02, 0.8, 0.99, 1e-5, "amx", {{"clipnorm", 3.0}});
  const Config config = original.get_config();
  CHECK(config_keys(config) == std::vector<std::string>{"name", "clipnorm", "learning_rate",
                                                        "decay", "beta_1", "beta_2", "epsilon"});
  CHECK(Adamax::from_config(config).get_config() == config);
  CHECK(Adamax::from_config(Config::object()).get_config() == Adamax().get_config());

  CHECK_THROWS_WITH_TEXT(Adamax::from_config({{"beta_2", Config::array()}}), TypeError,
                         "Adamax.from_config: `beta_2` must be a number");
  CHECK_THROWS_WITH_TEXT(Adamax::from_config({{"amsgrad", false}}), TypeError,
                         "Unexpected keyword argument passed to optimizer: amsgrad");

  Variable a(Tensor{1.0, 2.0}, "a");
  Variable table(Tensor{{1.0, 2.0}, {3.0, 4.0}}, "table");
  Adamax opt(0.1);
  opt.apply_gradients({{Tensor{0.5, 0.5}, a}, {Tensor{{0.5, 0.5}, {0.5, 0.5}}, table}});
  const Snapshot before = snapshot(opt, {a, table});
  const IndexedSlices bad{Tensor{{0.1, 0.1, 0.1}}, Tensor{0}, {2, 2}};
  CHECK_THROWS_WITH_TEXT(opt.apply_gradients({{Tensor{0.1, 0.1}, a}, {bad, table}}), ValueError,
                         "must have shape (1, 2)");
  check_unchanged(before, opt, {a, table});
}
