// Adadelta against a reference written from keras-semantics.md §5, dense and sparse, float32 and
// float64; slots, Keras v1 set_weights, config and errors.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "reference_steps.hpp"

using namespace tapeflow;
using namespace tapeflow::testing;
using optim::Adadelta;

namespace {

/// ag = ρ·ag + (1−ρ)g²; u = √(av+ε)/√(ag+ε)·g; var −= lr·u; av = ρ·av + (1−ρ)u².
struct AdadeltaRef {
  double lr = 0.001;
  double rho = 0.95;
  double epsilon = 1e-7;

  std::vector<std::string> slot_names() const { return {"accum_grad", "accum_var"}; }
  double slot_initial(const std::string&) const { return 0.0; }

  template <class T>
  void update(State<T>& s, std::size_t i, T g) const {
    const T r = static_cast<T>(rho), eps = static_cast<T>(epsilon);
    T& ag = s.slot.at("accum_grad")[i];
    T& av = s.slot.at("accum_var")[i];
    ag = r * ag + (T(1) - r) * g * g;
    const T u = std::sqrt(av + eps) / std::sqrt(ag + eps) * g;
    s.var[i] -= static_cast<T>(lr) * u;
    av = r * av + (T(1) - r) * u * u;
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

TEST_CASE_TEMPLATE("Adadelta dense and sparse steps match the reference", T, float, double) {
  SUBCASE("lr 1, rho 0.95, epsilon 1e-7 (the original paper's setting)") {
    check_dense_steps<T>(Adadelta(1.0), AdadeltaRef{1.0});
    check_sparse_steps<T>(Adadelta(1.0), AdadeltaRef{1.0});
  }
  SUBCASE("rho 0.5, epsilon 1e-2") {
    check_dense_steps<T>(Adadelta(0.5, 0.5, 1e-2), AdadeltaRef{0.5, 0.5, 1e-2});
    check_sparse_steps<T>(Adadelta(0.5, 0.5, 1e-2), AdadeltaRef{0.5, 0.5, 1e-2});
  }
}

TEST_CASE("Adadelta slots and Keras v1 set_weights") {
  Variable var0(Tensor{1.0, 2.0}, "var0");
  Variable var1(Tensor{3.0}, "var1");
  Adadelta opt(1.0);
  opt.apply_gradients({{Tensor{0.1, 0.1}, var0}, {Tensor{0.1}, var1}});
  CHECK(weight_names(opt) ==
        std::vector<std::string>{"Adadelta/iter:0", "Adadelta/var0/accum_grad:0",
                                 "Adadelta/var1/accum_grad:0", "Adadelta/var0/accum_var:0",
                                 "Adadelta/var1/accum_var:0"});
  CHECK(opt.get_slot_names() == std::vector<std::string>{"accum_grad", "accum_var"});
  opt.set_weights({Tensor{1.0, 1.0}, Tensor{2.0}, Tensor{3.0, 3.0}, Tensor{4.0}});
  CHECK(opt.iterations().numpy<std::int64_t>()() == 0);
  CHECK_ALLCLOSE(opt.get_slot(var1, "accum_var").value(), (Tensor{4.0}), 0.0, 0.0);
}

TEST_CASE("Adadelta get_config: Keras keys and order; from_config round trip; errors") {
  CHECK(Adadelta().get_config().dump() ==
        R"({"name":"Adadelta","learning_rate":0.001,"decay":0.0,"rho":0.95,"epsilon":1e-07})");
  CHECK(Adadelta(1.0, 0.95, 0.0).epsilon() == 1e-7);
  const Adadelta original(1.0, 0.9, 1e-6, "ada", {{"clipvalue", 1.0}, {"decay", 0.01}});
  const Config config = original.get_config();
  CHECK(config_keys(config) == std::vector<std::string>{"name", "clipvalue", "learning_rate",
                                                        "decay", "rho", "epsilon"});
  CHECK(Adadelta::from_config(config).get_config() == config);
  CHECK(Adadelta::from_config(Config::object()).get_config() == Adadelta().get_config());
  CHECK(Adadelta::from_config({{"epsilon", nullptr}}).epsilon() == 1e-7);

  CHECK_THROWS_WITH_TEXT(Adadelta::from_config({{"rho", true}}), TypeError,
                         "Adadelta.from_config: `rho` must be a number, received: true");
  CHECK_THROWS_WITH_TEXT(Adadelta::from_config({{"beta_1", 0.9}}), TypeError,
                         "Unexpected keyword argument passed to optimizer: beta_1");
  CHECK_THROWS_WITH_TEXT(Adadelta(1.0, 0.95, 1e-7, "a b"), ValueError,
                         "'a b' is not a valid scope name");

  Variable a(Tensor{1.0, 2.0}, "a");
  Adadelta opt(1.0);
  opt.apply_gradients({{Tensor{0.5, 0.5}, a}});
  const Snapshot before = snapshot(opt, {a});
  CHECK_THROWS_WITH_TEXT(opt.set_weights({Tensor{1.0, 1.0}}), ValueError,
                         "but the optimizer was expecting 3 weights");
  check_unchanged(before, opt, {a});
  CHECK_THROWS_WITH_TEXT(opt.apply_gradients({{Tensor{0.1, 0.1}, a}, {Tensor{0.1, 0.1, 0.1}, a}}),
                         ValueError, "var and grad do not have the same shape");
  check_unchanged(before, opt, {a});
}
