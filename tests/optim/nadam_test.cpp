// Nadam against a reference written from keras-semantics.md §5 (the V2 momentum schedule
// 0.96^(d·t) and the momentum_cache weight), dense and sparse, float32 and float64; the cache
// in weights(), mixed dtypes, schedule rejection, config and errors.
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "reference_steps.hpp"

using namespace tapeflow;
using namespace tapeflow::testing;
using optim::Nadam;

namespace {

struct NadamRef {
  double lr = 0.001;
  double beta_1 = 0.9;
  double beta_2 = 0.999;
  double epsilon = 1e-7;
  double schedule_decay = 0.004;

  std::vector<std::string> slot_names() const { return {"m", "v"}; }
  double slot_initial(const std::string&) const { return 0.0; }

  /// μ at step k: β₁(1 − ½·0.96^(d·k)).
  template <class T>
  T mu(std::int64_t k) const {
    return static_cast<T>(beta_1) *
           (T(1) - T(0.5) * std::pow(T(0.96), static_cast<T>(schedule_decay) *
                                                  static_cast<T>(k)));
  }
  /// The cache after `steps` steps: 1·μ₁·μ₂·…, multiplied step by step in T.
  template <class T>
  T cache_after(std::int64_t steps) const {
    T cache = 1;
    for (std::int64_t k = 1; k <= steps; ++k) cache = cache * mu<T>(k);
    return cache;
  }
  /// The var step for element values g, m, v (this step's), t = it + 1.
  template <class T>
  T step(T g, T m, T v, std::int64_t it) const {
    const T s_new = cache_after<T>(it + 1);
    const T mu_t = mu<T>(it + 1), mu_next = mu<T>(it + 2);
    const T g_prime = g / (T(1) - s_new);
    const T m_prime = m / (T(1) - s_new * mu_next);
    const T v_prime = v / (T(1) - std::pow(static_cast<T>(beta_2), static_cast<T>(it + 1)));
    return static_cast<T>(lr) * ((T(1) - mu_t) * g_prime + mu_next * m_prime) /
           (std::sqrt(v_prime) + static_cast<T>(epsilon));
  }
  /// m = β₁m + (1−β₁)g; v = β₂v + (1−β₂)g²; var −= step.
  template <class T>
  void dense(State<T>& s, const std::vector<T>& g, std::int64_t it) const {
    const T b1 = static_cast<T>(beta_1), b2 = static_cast<T>(beta_2);
    for (std::size_t i = 0; i < g.size(); ++i) {
      T& m = s.slot.at("m")[i];
      T& v = s.slot.at("v")[i];
      m = b1 * m + (T(1) - b1) * g[i];
      v = b2 * v + (T(1) - b2) * g[i] * g[i];
      s.var[i] -= step(g[i], m, v, it);
    }
  }
  /// Every row of m and v decays; listed rows add their gradient terms and only they move.
  template <class T>
  void sparse(State<T>& s, const std::vector<std::int64_t>& rows, const std::vector<T>& values,
              std::size_t row_size, std::int64_t it) const {
    const T b1 = static_cast<T>(beta_1), b2 = static_cast<T>(beta_2);
    for (T& m : s.slot.at("m")) m *= b1;
    for (T& v : s.slot.at("v")) v *= b2;
    for_listed_elements(rows, values, row_size, [&](std::size_t i, T g) {
      T& m = s.slot.at("m")[i];
      T& v = s.slot.at("v")[i];
      m += (T(1) - b1) * g;
      v += (T(1) - b2) * g * g;
      s.var[i] -= step(g, m, v, it);
    });
  }
};

}  // namespace

TEST_CASE_TEMPLATE("Nadam dense and sparse steps match the reference", T, float, double) {
  SUBCASE("lr 0.1, β₁ 0.8, β₂ 0.9, the default schedule_decay") {
    check_dense_steps<T>(Nadam(0.1, 0.8, 0.9), NadamRef{0.1, 0.8, 0.9});
    check_sparse_steps<T>(Nadam(0.1, 0.8, 0.9), NadamRef{0.1, 0.8, 0.9});
  }
  SUBCASE("schedule_decay 0.5 (a fast schedule), epsilon 0.01") {
    const NadamRef ref{0.1, 0.9, 0.999, 0.01, 0.5};
    check_dense_steps<T>(Nadam(0.1, 0.9, 0.999, 0.01, "Nadam", {{"schedule_decay", 0.5}}), ref);
    check_sparse_steps<T>(Nadam(0.1, 0.9, 0.999, 0.01, "Nadam", {{"schedule_decay", 0.5}}), ref);
  }
  SUBCASE("a `decay` kwarg is replaced by schedule_decay: no time-inverse decay of lr") {
    const Nadam opt(0.1, 0.8, 0.9, 1e-7, "Nadam", {{"decay", 0.9}});
    CHECK(opt.decay() == 0.004);
    check_dense_steps<T>(opt, NadamRef{0.1, 0.8, 0.9});
  }
}

TEST_CASE_TEMPLATE("Nadam momentum_cache: a weight after iterations, advanced once per step", T,
                   float, double) {
  Variable var0(vec<T>({1.0, 2.0}), "var0");
  Variable var1(vec<T>({3.0}), "var1");
  Nadam opt(0.1);
  CHECK(opt.weights().empty());
  const NadamRef ref{0.1};
  for (int t = 0; t < 3; ++t) {
    opt.apply_gradients({{vec<T>({0.1, 0.2}), var0}, {vec<T>({0.3}), var1}});
    const std::vector<Variable> w = opt.weights();
    REQUIRE(w.size() == 6);
    CHECK(w[1].dtype() == dtype_of_v<T>);
    CHECK(w[1].shape().empty());
    check_close(flat<T>(w[1]), std::vector<T>{ref.cache_after<T>(t + 1)}, "momentum_cache");
  }
  CHECK(weight_names(opt) == std::vector<std::string>{"Nadam/iter:0", "Nadam/momentum_cache:0",
                                                      "Nadam/var0/m:0", "Nadam/var1/m:0",
                                                      "Nadam/var0/v:0", "Nadam/var1/v:0"});
  CHECK(opt.get_slot_names() == std::vector<std::string>{"m", "v"});

  // set_weights covers the cache too.
  std::vector<Tensor> values = opt.get_weights();
  values[0] = Tensor(std::int64_t{0});
  values[1] = Tensor::from_data(dtype_of_v<T>, {}, std::vector<T>{T(1)}.data());
  opt.set_weights(values);
  CHECK(opt.iterations().numpy<std::int64_t>()() == 0);
  CHECK(flat<T>(opt.weights()[1])[0] == T(1));
}

TEST_CASE("Nadam with float32 and float64 variables in one step: one cache update") {
  Variable a(vec<float>({1.0, -1.0, 0.5}), "a");
  Variable b(vec<double>({2.0, 0.25}), "b");
  Nadam opt(0.1, 0.8, 0.9);
  const NadamRef ref{0.1, 0.8, 0.9};
  State<float> sa = initial_state(ref, flat<float>(a));
  State<double> sb = initial_state(ref, flat<double>(b));
  for (int t = 0; t < kReferenceSteps; ++t) {
    CAPTURE(t);
    const std::vector<float> ga = {0.1f * (t + 1), -0.2f, 0.3f};
    const std::vector<double> gb = {0.05 * (t + 1), 0.4};
    opt.apply_gradients({{like<float>(a.read_value_no_record(), ga), a},
                         {like<double>(b.read_value_no_record(), gb), b}});
    ref.dense(sa, ga, t);
    ref.dense(sb, gb, t);
    check_state(opt, a, sa, ref, "a");
    check_state(opt, b, sb, ref, "b");
    // The cache has the first variable's dtype.
    check_close(flat<float>(opt.weights()[1]), std::vector<float>{ref.cache_after<float>(t + 1)},
                "momentum_cache");
  }
}

TEST_CASE("Nadam rejects schedules, as Keras does") {
  const auto schedule = std::make_shared<optim::schedules::ExponentialDecay>(0.1, 10, 0.5);
  const char* message =
      "The Nadam optimizer does not support tf.keras.optimizers.LearningRateSchedules as the "
      "learning rate.";
  CHECK_THROWS_WITH_TEXT(Nadam(schedule), ValueError, message);
  // Checked before the kwargs, as in Keras.
  CHECK_THROWS_WITH_TEXT(Nadam(schedule, 0.9, 0.999, 1e-7, "Nadam", {{"bad", 1}}), ValueError,
                         message);
  CHECK_THROWS_WITH_TEXT(Nadam::from_config({{"learning_rate", optim::schedules::serialize(
                                                                   *schedule)}}),
                         ValueError, message);
  // Keras checks kwargs["lr"] when given, which wins over the schedule.
  CaptureCerr quiet;
  CHECK(Nadam(schedule, 0.9, 0.999, 1e-7, "Nadam", {{"lr", 0.2}}).learning_rate().value() == 0.2);

  // A schedule set later is refused at the next step, before anything changes.
  Variable a(Tensor{1.0, 2.0}, "a");
  Nadam opt(0.1);
  opt.apply_gradients({{Tensor{0.1, 0.1}, a}});
  const Snapshot before = snapshot(opt, {a});
  opt.set_learning_rate(schedule);
  CHECK_THROWS_WITH_TEXT(opt.apply_gradients({{Tensor{0.1, 0.1}, a}}), ValueError, message);
  check_unchanged(before, opt, {a});
}

TEST_CASE("Nadam get_config: Keras keys and order; from_config keeps schedule_decay; errors") {
  CHECK(Nadam().get_config().dump() ==
        R"({"name":"Nadam","learning_rate":0.001,"decay":0.004,"beta_1":0.9,"beta_2":0.999,)"
        R"("epsilon":1e-07})");
  CHECK(Nadam(0.1, 0.9, 0.999, 0.0).epsilon() == 1e-7);
  const Nadam original(0.01, 0.8, 0.99, 1e-5, "nd", {{"schedule_decay", 0.01}, {"clipnorm", 1.0}});
  CHECK(original.schedule_decay() == 0.01);
  const Config config = original.get_config();
  CHECK(config_keys(config) == std::vector<std::string>{"name", "clipnorm", "learning_rate",
                                                        "decay", "beta_1", "beta_2", "epsilon"});
  CHECK(config["decay"] == 0.01);
  const Nadam rebuilt = Nadam::from_config(config);
  CHECK(rebuilt.get_config() == config);
  CHECK(rebuilt.schedule_decay() == 0.01);
  CHECK(Nadam::from_config(Config::object()).get_config() == Nadam().get_config());

  CHECK_THROWS_WITH_TEXT(Nadam(0.1, 0.9, 0.999, 1e-7, "Nadam", {{"schedule_decay", -0.1}}),
                         ValueError, "Expected decay >= 0, received: -0.1");
  CHECK_THROWS_WITH_TEXT(Nadam(0.1, 0.9, 0.999, 1e-7, "Nadam", {{"schedule_decay", "x"}}),
                         TypeError, "`schedule_decay` must be a number");
  CHECK_THROWS_WITH_TEXT(Nadam(0.1, 0.9, 0.999, 1e-7, "Nadam", {{"amsgrad", true}}), TypeError,
                         "Unexpected keyword argument passed to optimizer: amsgrad");
  CHECK_THROWS_WITH_TEXT(Nadam::from_config({{"epsilon", "small"}}), TypeError,
                         "Nadam.from_config: `epsilon` must be a number");
}

TEST_CASE("Nadam apply_gradients errors change nothing") {
  Variable a(Tensor{1.0, 2.0}, "a");
  Variable table(Tensor{{1.0, 2.0}, {3.0, 4.0}}, "table");
  Nadam opt(0.1);
  opt.apply_gradients({{Tensor{0.5, 0.5}, a}});
  const Snapshot before = snapshot(opt, {a, table});
  const IndexedSlices bad{Tensor{{0.1, 0.1}}, Tensor{5}, {2, 2}};
  CHECK_THROWS_WITH_TEXT(opt.apply_gradients({{Tensor{0.1, 0.1}, a}, {bad, table}}), ValueError,
                         "Index 5 at offset 0 in indices is out of range");
  check_unchanged(before, opt, {a, table});
}
