// SGD against a reference written from keras-semantics.md §5 (plain, momentum, Nesterov), dense
// and sparse, float32 and float64; its slots, config and error paths.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "reference_steps.hpp"

using namespace tapeflow;
using namespace tapeflow::testing;
using optim::SGD;

namespace {

/// var -= lr·g;  or  m = μ·m − lr·g, var += m  (Nesterov: var += μ·m − lr·g).
struct SGDRef {
  double lr = 0.01;
  double momentum = 0.0;
  bool nesterov = false;
  double decay = 0.0;

  std::vector<std::string> slot_names() const {
    return momentum > 0 ? std::vector<std::string>{"momentum"} : std::vector<std::string>{};
  }
  double slot_initial(const std::string&) const { return 0.0; }

  template <class T>
  void update(State<T>& s, std::size_t i, T g, std::int64_t it) const {
    const T lr_t = static_cast<T>(lr / (1.0 + decay * static_cast<double>(it)));
    const T mu = static_cast<T>(momentum);
    if (momentum > 0) {
      T& m = s.slot.at("momentum")[i];
      m = mu * m - lr_t * g;
      s.var[i] = nesterov ? s.var[i] + (mu * m - lr_t * g) : s.var[i] + m;
    } else {
      s.var[i] = s.var[i] - lr_t * g;
    }
  }
  template <class T>
  void dense(State<T>& s, const std::vector<T>& g, std::int64_t it) const {
    for (std::size_t i = 0; i < g.size(); ++i) update(s, i, g[i], it);
  }
  template <class T>
  void sparse(State<T>& s, const std::vector<std::int64_t>& rows, const std::vector<T>& values,
              std::size_t row_size, std::int64_t it) const {
    for_listed_elements(rows, values, row_size, [&](std::size_t i, T g) { update(s, i, g, it); });
  }
};

}  // namespace

TEST_CASE_TEMPLATE("SGD dense and sparse steps match the reference", T, float, double) {
  SUBCASE("plain") {
    check_dense_steps<T>(SGD(0.5), SGDRef{0.5});
    check_sparse_steps<T>(SGD(0.5), SGDRef{0.5});
  }
  SUBCASE("momentum") {
    check_dense_steps<T>(SGD(0.5, 0.9), SGDRef{0.5, 0.9});
    check_sparse_steps<T>(SGD(0.5, 0.9), SGDRef{0.5, 0.9});
  }
  SUBCASE("nesterov") {
    check_dense_steps<T>(SGD(0.5, 0.9, true), SGDRef{0.5, 0.9, true});
    check_sparse_steps<T>(SGD(0.5, 0.9, true), SGDRef{0.5, 0.9, true});
  }
  SUBCASE("momentum 1 and time-inverse decay") {
    check_dense_steps<T>(SGD(0.5, 1.0, false, "SGD", {{"decay", 0.5}}),
                         SGDRef{0.5, 1.0, false, 0.5});
    check_sparse_steps<T>(SGD(0.5, 1.0, true, "SGD", {{"decay", 0.5}}),
                          SGDRef{0.5, 1.0, true, 0.5});
  }
}

TEST_CASE("SGD nesterov differs from plain momentum, and Keras's first step") {
  // Keras testMomentum: lr 2, μ 0.9, var [1, 2], g [0.1, 0.1]: after one step var = 1 - 0.2.
  Variable a(Tensor{1.0, 2.0}, "a");
  Variable b(Tensor{1.0, 2.0}, "b");
  SGD plain(2.0, 0.9), nesterov(2.0, 0.9, true);
  plain.apply_gradients({{Tensor{0.1, 0.1}, a}});
  nesterov.apply_gradients({{Tensor{0.1, 0.1}, b}});
  CHECK_ALLCLOSE(a.value(), (Tensor{0.8, 1.8}), 1e-6, 0.0);
  CHECK_ALLCLOSE(plain.get_slot(a, "momentum").value(), (Tensor{-0.2, -0.2}), 1e-6, 0.0);
  // Nesterov: var += μ·m − lr·g = 0.9·(−0.2) − 0.2.
  CHECK_ALLCLOSE(b.value(), (Tensor{1.0 - 0.38, 2.0 - 0.38}), 1e-6, 0.0);
}

TEST_CASE("SGD slots: momentum only when momentum > 0") {
  Variable var0(Tensor{1.0, 2.0}, "var0");
  Variable var1(Tensor{3.0}, "var1");
  SGD plain(0.1);
  plain.apply_gradients({{Tensor{0.1, 0.1}, var0}, {Tensor{0.1}, var1}});
  CHECK(weight_names(plain) == std::vector<std::string>{"SGD/iter:0"});
  CHECK(plain.get_slot_names().empty());
  CHECK_THROWS_WITH_TEXT(plain.get_slot(var0, "momentum"), ValueError, "has no slot 'momentum'");

  SGD with_momentum(0.1, 0.5, false, "Mom");
  with_momentum.apply_gradients({{Tensor{0.1, 0.1}, var0}, {Tensor{0.1}, var1}});
  CHECK(weight_names(with_momentum) ==
        std::vector<std::string>{"Mom/iter:0", "Mom/var0/momentum:0", "Mom/var1/momentum:0"});
  CHECK(with_momentum.get_slot_names() == std::vector<std::string>{"momentum"});
}

TEST_CASE("SGD get_config: Keras keys and order; from_config round trip") {
  CHECK(SGD().get_config().dump() ==
        R"({"name":"SGD","learning_rate":0.01,"decay":0.0,"momentum":0.0,"nesterov":false})");
  const SGD original(0.25, 0.75, true, "mine", {{"clipvalue", 0.5}, {"decay", 0.1}});
  const Config config = original.get_config();
  CHECK(config_keys(config) == std::vector<std::string>{"name", "clipvalue", "learning_rate",
                                                        "decay", "momentum", "nesterov"});
  const SGD rebuilt = SGD::from_config(config);
  CHECK(rebuilt.get_config() == config);
  CHECK(rebuilt.momentum() == 0.75);
  CHECK(rebuilt.nesterov());
  CHECK(rebuilt.clipvalue() == 0.5);
  CHECK(rebuilt.decay() == 0.1);

  CaptureCerr quiet;
  CHECK(SGD::from_config({{"lr", 0.5}, {"learning_rate", 0.1}}).learning_rate().value() == 0.5);
  CHECK(quiet.text().empty());
  CHECK(SGD::from_config(Config::object()).get_config() == SGD().get_config());
  const auto schedule = std::make_shared<optim::schedules::ExponentialDecay>(0.1, 10, 0.5);
  const SGD scheduled(schedule, 0.5);
  CHECK(SGD::from_config(scheduled.get_config()).get_config() == scheduled.get_config());
}

TEST_CASE("SGD construction errors: momentum range, kwargs first") {
  CHECK_THROWS_WITH_TEXT(
      SGD(0.1, 1.5), ValueError,
      "`momentum` must be between [0, 1]. Received: momentum=1.5 (of type <class 'float'>).");
  CHECK_THROWS_WITH_TEXT(SGD(0.1, -0.1), ValueError,
                         "Received: momentum=-0.1 (of type <class 'float'>).");
  // Keras runs the base checks (kwargs) before its own.
  CHECK_THROWS_WITH_TEXT(SGD(0.1, 1.5, false, "SGD", {{"rho", 0.9}}), TypeError,
                         "Unexpected keyword argument passed to optimizer: rho");
  CHECK_NOTHROW(SGD(0.1, 0.0));
  CHECK_NOTHROW(SGD(0.1, 1.0));

  CHECK_THROWS_WITH_TEXT(SGD::from_config({{"momentum", "high"}}), TypeError,
                         "SGD.from_config: `momentum` must be a number");
  CHECK_THROWS_WITH_TEXT(SGD::from_config({{"nesterov", 1}}), TypeError,
                         "`nesterov` must be a boolean");
  CHECK_THROWS_WITH_TEXT(SGD::from_config({{"epsilon", 1e-7}}), TypeError,
                         "Unexpected keyword argument passed to optimizer: epsilon");
  CHECK_THROWS_WITH_TEXT(SGD::from_config({{"momentum", 2.0}}), ValueError,
                         "`momentum` must be between [0, 1]");
  CHECK_THROWS_WITH_TEXT(SGD::from_config(Config::array()), TypeError, "JSON object");
}

TEST_CASE("SGD apply_gradients errors change nothing, momentum slots included") {
  Variable a(Tensor{1.0, 2.0}, "a");
  Variable table(Tensor{{1.0, 2.0}, {3.0, 4.0}}, "table");
  const std::vector<Variable> vars = {a, table};
  SGD opt(0.1, 0.9);
  opt.apply_gradients({{Tensor{0.5, 0.5}, a}, {Tensor{{0.1, 0.1}, {0.1, 0.1}}, table}});
  const Snapshot before = snapshot(opt, vars);
  const IndexedSlices out_of_range{Tensor{{0.1, 0.1}}, Tensor{2}, {2, 2}};
  CHECK_THROWS_WITH_TEXT(opt.apply_gradients({{Tensor{0.1, 0.1}, a}, {out_of_range, table}}),
                         ValueError, "Index 2 at offset 0 in indices is out of range");
  check_unchanged(before, opt, vars);
  CHECK_THROWS_WITH_TEXT(opt.apply_gradients({{Tensor{0.1, 0.1}, a}, {Tensor{0.1}, table}}),
                         ValueError, "var and grad do not have the same shape");
  check_unchanged(before, opt, vars);
}
