// Adagrad against a scalar reference written from the formulas (keras-semantics.md §1), after
// each of several steps, in float32 and float64; and its error paths, each leaving the optimizer
// and the variables unchanged.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "optim_support.hpp"
#include "tapeflow/core/cpu.hpp"

using namespace tapeflow;
using namespace tapeflow::testing;
using optim::Adagrad;

namespace {

constexpr int kSteps = 4;

/// lr(step) = 3·0.5^step: a schedule written here, independently of the library's.
class HalvingSchedule : public optim::schedules::LearningRateSchedule {
 public:
  double operator()(double step) const override { return 3.0 * std::pow(0.5, step); }
  Config get_config() const override { return {{"initial", 3.0}}; }
  std::string class_name() const override { return "HalvingSchedule"; }
};

/// Keras adagrad_test.py's setting: var0 = [1, 2], var1 = [3, 4], grads [0.1, 0.1] and
/// [0.01, 0.01]; plus var2 of 9 elements, so the kernels' SIMD blocks and scalar tails both run.
/// Runs kSteps steps of `opt`, comparing with the reference after each one. `lr_at(t)` is the
/// learning rate the formulas give at step t.
template <class T, class LrAt>
void run_dense_case(Adagrad opt, LrAt lr_at, double epsilon = 1e-7, bool inside = false,
                    double initial_accumulator_value = 0.1) {
  Variable var0(vec<T>({1.0, 2.0}), "var0");
  Variable var1(vec<T>({3.0, 4.0}), "var1");
  Variable var2(vec<T>({-0.3, -0.2, -0.1, 0.0, 0.1, 0.2, 0.3, 0.4, 0.5}), "var2");
  const Tensor grads0 = vec<T>({0.1, 0.1});
  const Tensor grads1 = vec<T>({0.01, 0.01});
  const Tensor grads2 = vec<T>({-0.2, -0.15, -0.1, -0.05, 0.0, 0.05, 0.1, 0.15, 0.2});
  AdagradReference<T> ref0(flat<T>(var0), initial_accumulator_value, epsilon, inside);
  AdagradReference<T> ref1(flat<T>(var1), initial_accumulator_value, epsilon, inside);
  AdagradReference<T> ref2(flat<T>(var2), initial_accumulator_value, epsilon, inside);
  for (int t = 0; t < kSteps; ++t) {
    CAPTURE(t);
    opt.apply_gradients({{grads0, var0}, {grads1, var1}, {grads2, var2}});
    ref0.step(flat<T>(grads0), lr_at(t));
    ref1.step(flat<T>(grads1), lr_at(t));
    ref2.step(flat<T>(grads2), lr_at(t));
    check_close(flat<T>(var0), ref0.var, "var0");
    check_close(flat<T>(var1), ref1.var, "var1");
    check_close(flat<T>(var2), ref2.var, "var2");
    check_close(flat<T>(opt.get_slot(var0, "accumulator")), ref0.acc, "acc0");
    check_close(flat<T>(opt.get_slot(var1, "accumulator")), ref1.acc, "acc1");
    check_close(flat<T>(opt.get_slot(var2, "accumulator")), ref2.acc, "acc2");
    CHECK(opt.iterations().numpy<std::int64_t>()() == t + 1);
  }
}

}  // namespace

TEST_CASE_TEMPLATE("Adagrad dense steps match the reference", T, float, double) {
  run_dense_case<T>(Adagrad(3.0), [](int) { return 3.0; });
}

TEST_CASE_TEMPLATE("Adagrad time-inverse decay: lr / (1 + decay·it), it before the step", T,
                   float, double) {
  run_dense_case<T>(Adagrad(3.0, 0.1, 1e-7, "Adagrad", {{"decay", 0.5}}),
                    [](int t) { return 3.0 / (1.0 + 0.5 * t); });
}

TEST_CASE_TEMPLATE("Adagrad with a schedule, alone and combined with decay", T, float, double) {
  SUBCASE("a user schedule is called with the iteration count") {
    run_dense_case<T>(Adagrad(std::make_shared<HalvingSchedule>()),
                      [](int t) { return 3.0 * std::pow(0.5, t); });
  }
  SUBCASE("InverseTimeDecay(3, 1, 0.5) as in Keras's test") {
    run_dense_case<T>(
        Adagrad(std::make_shared<optim::schedules::InverseTimeDecay>(3.0, 1.0, 0.5)),
        [](int t) { return 3.0 / (1.0 + 0.5 * t); });
  }
  SUBCASE("schedule value, then divided by (1 + decay·it)") {
    run_dense_case<T>(
        Adagrad(std::make_shared<HalvingSchedule>(), 0.1, 1e-7, "Adagrad", {{"decay", 0.25}}),
        [](int t) { return 3.0 * std::pow(0.5, t) / (1.0 + 0.25 * t); });
  }
}

TEST_CASE_TEMPLATE("Adagrad large epsilon: V2 puts it outside the sqrt, the option inside", T,
                   float, double) {
  SUBCASE("outside (V2, default)") {
    run_dense_case<T>(Adagrad(3.0, 0.1, 1.0), [](int) { return 3.0; }, 1.0, false);
  }
  SUBCASE("inside (Keras 2.11+ / 3)") {
    Adagrad opt(3.0, 0.1, 1.0);
    opt.set_epsilon_inside_sqrt(true);
    CHECK(opt.epsilon_inside_sqrt());
    run_dense_case<T>(opt, [](int) { return 3.0; }, 1.0, true);
  }
  SUBCASE("the two rules differ measurably at epsilon 1") {
    Variable a(vec<T>({1.0}), "a"), b(vec<T>({1.0}), "b");
    Adagrad outside(3.0, 0.1, 1.0), inside(3.0, 0.1, 1.0);
    inside.set_epsilon_inside_sqrt(true);
    outside.apply_gradients({{vec<T>({0.1}), a}});
    inside.apply_gradients({{vec<T>({0.1}), b}});
    // 1 - 0.3/(√0.11 + 1) vs 1 - 0.3/√1.11
    CHECK(flat<T>(a)[0] == doctest::Approx(1.0 - 0.3 / (std::sqrt(0.11) + 1.0)).epsilon(1e-6));
    CHECK(flat<T>(b)[0] == doctest::Approx(1.0 - 0.3 / std::sqrt(1.11)).epsilon(1e-6));
    CHECK(std::abs(flat<T>(a)[0] - flat<T>(b)[0]) > 1e-2);
  }
}

TEST_CASE_TEMPLATE("Adagrad initial_accumulator_value 0 and a long vector (SIMD body and tail)", T,
                   float, double) {
  // 11 elements: whole SIMD blocks plus a scalar tail for both float (4) and double (2) lanes.
  std::vector<double> init, grad;
  for (int i = 0; i < 11; ++i) {
    init.push_back(0.5 * i - 2.0);
    grad.push_back(0.3 * std::sin(1.0 + i));
  }
  Variable var(Tensor::from_data(dtype_of_v<T>, {11}, std::vector<T>(init.begin(), init.end()).data()),
               "long");
  const std::vector<T> g(grad.begin(), grad.end());
  const Tensor g_tensor = Tensor::from_data(dtype_of_v<T>, {11}, g.data());
  Adagrad opt(0.5, 0.0);
  AdagradReference<T> ref(flat<T>(var), 0.0);
  for (int t = 0; t < kSteps; ++t) {
    CAPTURE(t);
    opt.apply_gradients({{g_tensor, var}});
    ref.step(g, 0.5);
    check_close(flat<T>(var), ref.var, "var");
    check_close(flat<T>(opt.get_slot(var, "accumulator")), ref.acc, "acc");
  }
}

TEST_CASE_TEMPLATE("Adagrad gives the same bits at every SIMD level, dense and sparse", T, float,
                   double) {
  // Each kernel form (scalar, SSE2, AVX2, AVX-512; those this CPU lacks fall back to the widest it
  // has) must round exactly as the scalar rule. 1037 elements and rows of 37 leave a tail at every
  // width; the values span several magnitudes, zeros included.
  using tapeflow::detail::SimdLevel;
  const std::size_t n = 1037, rows = 40, width = 37;
  std::vector<T> init(n), grad(n), table_init(rows * width), values(25 * width);
  for (std::size_t i = 0; i < n; ++i) {
    init[i] = static_cast<T>(std::sin(0.37 * static_cast<double>(i)) * 3.0);
    grad[i] = i % 11 == 0 ? T(0) : static_cast<T>(std::cos(1.3 * i) * std::pow(10.0, i % 7 - 4.0));
  }
  for (std::size_t i = 0; i < table_init.size(); ++i) table_init[i] = init[i % n];
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = grad[(3 * i) % n];
  std::vector<std::int64_t> listed;
  for (std::int64_t r = 0; r < 25; ++r) listed.push_back((r * 7) % 40);  // distinct, unsorted
  const Tensor g = Tensor::from_data(dtype_of_v<T>, {n}, grad.data());
  const IndexedSlices slices{Tensor::from_data(dtype_of_v<T>, {25, width}, values.data()),
                             Tensor::from_data(DType::int64, {25}, listed.data()),
                             {rows, width}};

  // Three steps of each epsilon placement at `level`; returns every variable and slot element.
  const auto run = [&](SimdLevel level, bool inside) {
    const SimdLevel previous = tapeflow::detail::set_simd_limit(level);
    Variable var(Tensor::from_data(dtype_of_v<T>, {n}, init.data()), "var");
    Variable table(Tensor::from_data(dtype_of_v<T>, {rows, width}, table_init.data()), "table");
    Adagrad opt(0.05, 0.0, 1e-3);
    opt.set_epsilon_inside_sqrt(inside);
    for (int t = 0; t < 3; ++t) opt.apply_gradients({{g, var}, {slices, table}});
    tapeflow::detail::set_simd_limit(previous);
    std::vector<T> out = flat<T>(var);
    for (const Variable& v : {table, opt.get_slot(var, "accumulator"),
                              opt.get_slot(table, "accumulator")}) {
      const std::vector<T> part = flat<T>(v);
      out.insert(out.end(), part.begin(), part.end());
    }
    return out;
  };
  for (bool inside : {false, true}) {
    CAPTURE(inside);
    const std::vector<T> reference = run(SimdLevel::scalar, inside);
    for (SimdLevel level : {SimdLevel::sse2, SimdLevel::avx2, SimdLevel::avx512}) {
      const std::string level_name = tapeflow::detail::simd_level_name(level);
      CAPTURE(level_name);
      const std::vector<T> got = run(level, inside);
      REQUIRE(got.size() == reference.size());
      std::size_t differing = 0;
      for (std::size_t i = 0; i < got.size(); ++i) {
        // Bit equality (NaN-free inputs): == also treats -0 and +0 alike, so compare bits.
        differing += std::memcmp(&got[i], &reference[i], sizeof(T)) != 0;
      }
      CHECK(differing == 0);
    }
  }
  MESSAGE("SIMD level in use: "
          << std::string(tapeflow::detail::simd_level_name(tapeflow::detail::simd_level())));
}

TEST_CASE_TEMPLATE("Adagrad clipping: clipvalue, clipnorm, global_clipnorm", T, float, double) {
  const std::vector<double> g0 = {0.3, -0.4, 2.0};  // ‖g0‖ = √4.25
  const std::vector<double> g1 = {0.05, 0.1, -0.6};
  const auto to_t = [](const std::vector<double>& v) { return std::vector<T>(v.begin(), v.end()); };

  struct Mode {
    const char* name;
    Config kwargs;
  };
  for (const Mode& mode : {Mode{"clipvalue", {{"clipvalue", 0.5}}},
                           Mode{"clipnorm", {{"clipnorm", 1.0}}},
                           Mode{"global_clipnorm", {{"global_clipnorm", 1.5}}},
                           Mode{"clipvalue then clipnorm", {{"clipvalue", 0.5}, {"clipnorm", 0.6}}}}) {
    CAPTURE(mode.name);
    Variable var0(vec<T>({1.0, 2.0, 3.0}), "var0");
    Variable var1(vec<T>({-1.0, 0.5, 4.0}), "var1");
    const Tensor grads0 = Tensor::from_data(dtype_of_v<T>, {3}, to_t(g0).data());
    const Tensor grads1 = Tensor::from_data(dtype_of_v<T>, {3}, to_t(g1).data());
    Adagrad opt(0.2, 0.1, 1e-7, "Adagrad", mode.kwargs);

    // The clipped gradients, from §2.7's formulas.
    std::vector<double> c0 = g0, c1 = g1;
    const auto norm = [](const std::vector<double>& v) {
      double s = 0;
      for (double x : v) s += x * x;
      return std::sqrt(s);
    };
    if (mode.kwargs.contains("clipvalue")) {
      const double c = mode.kwargs["clipvalue"];
      for (auto* v : {&c0, &c1})
        for (double& x : *v) x = std::min(c, std::max(-c, x));
    }
    if (mode.kwargs.contains("clipnorm")) {
      const double c = mode.kwargs["clipnorm"];
      for (auto* v : {&c0, &c1}) {
        const double n = norm(*v);
        for (double& x : *v) x = x * c / std::max(n, c);
      }
    }
    if (mode.kwargs.contains("global_clipnorm")) {
      const double c = mode.kwargs["global_clipnorm"];
      const double gn = std::sqrt(norm(c0) * norm(c0) + norm(c1) * norm(c1));
      for (auto* v : {&c0, &c1})
        for (double& x : *v) x = x * c * std::min(1.0 / gn, 1.0 / c);
    }
    AdagradReference<T> ref0(flat<T>(var0), 0.1), ref1(flat<T>(var1), 0.1);
    for (int t = 0; t < kSteps; ++t) {
      CAPTURE(t);
      opt.apply_gradients({{grads0, var0}, {grads1, var1}});
      ref0.step(to_t(c0), 0.2);
      ref1.step(to_t(c1), 0.2);
      check_close(flat<T>(var0), ref0.var, "var0");
      check_close(flat<T>(var1), ref1.var, "var1");
    }
    // Clipping works on copies: the caller's gradients keep their values.
    check_close(flat<T>(grads0), to_t(g0), "grads0", 0.0);
    check_close(flat<T>(grads1), to_t(g1), "grads1", 0.0);
  }
}

TEST_CASE_TEMPLATE("Adagrad clipnorm applies to IndexedSlices values", T, float, double) {
  Variable table(mat<T>(3, 2, {1, 2, 3, 4, 5, 6}), "table");
  const Tensor values = mat<T>(2, 2, {3.0, 4.0, 0.0, 0.0});  // norm 5
  Adagrad opt(0.1, 0.1, 1e-7, "Adagrad", {{"clipnorm", 1.0}});
  AdagradReference<T> ref(flat<T>(table), 0.1);
  opt.apply_gradients({{IndexedSlices{values, Tensor{2, 0}, {3, 2}}, table}});
  ref.sparse_step({2, 0}, {T(0.6), T(0.8), T(0), T(0)}, 2, 0.1);
  check_close(flat<T>(table), ref.var, "table");
}

TEST_CASE_TEMPLATE("Adagrad sparse: repeated indices are summed, untouched rows stay", T, float,
                   double) {
  // 5 x 3 table; indices with repeats, out of order.
  std::vector<double> init;
  for (int i = 0; i < 15; ++i) init.push_back(1.0 + 0.25 * i);
  Variable table(mat<T>(5, 3, init), "table");
  const std::vector<std::int64_t> indices = {3, 1, 3, 3, 0};
  std::vector<double> vals;
  for (int i = 0; i < 15; ++i) vals.push_back(0.1 * ((i % 4) - 1.5));
  const Tensor values = mat<T>(5, 3, vals);
  Adagrad opt(0.7);
  AdagradReference<T> ref(flat<T>(table), 0.1);
  const std::vector<T> vals_t(vals.begin(), vals.end());
  for (int t = 0; t < kSteps; ++t) {
    CAPTURE(t);
    opt.apply_gradients({{IndexedSlices{values, Tensor{3L, 1L, 3L, 3L, 0L}, {5, 3}}, table}});
    ref.sparse_step(indices, vals_t, 3, 0.7);
    check_close(flat<T>(table), ref.var, "table");
    check_close(flat<T>(opt.get_slot(table, "accumulator")), ref.acc, "acc");
  }
  // Rows 2 and 4 got no gradient: the variable and the accumulator kept their initial values.
  const auto var = flat<T>(table);
  const auto acc = flat<T>(opt.get_slot(table, "accumulator"));
  for (std::size_t row : {2u, 4u}) {
    for (std::size_t j = 0; j < 3; ++j) {
      CHECK(var[row * 3 + j] == static_cast<T>(init[row * 3 + j]));
      CHECK(acc[row * 3 + j] == static_cast<T>(0.1));
    }
  }
}

TEST_CASE_TEMPLATE("Adagrad sparse repeated index equals one index with the summed value", T,
                   float, double) {
  // Keras testSparseRepeatedIndices.
  Variable repeated(mat<T>(2, 1, {1.0, 2.0}), "repeated");
  Variable aggregated(mat<T>(2, 1, {1.0, 2.0}), "aggregated");
  Adagrad opt_repeated(3.0), opt_aggregated(3.0);
  for (int t = 0; t < kSteps; ++t) {
    opt_repeated.apply_gradients(
        {{IndexedSlices{mat<T>(2, 1, {0.1, 0.1}), Tensor{1, 1}, {2, 1}}, repeated}});
    opt_aggregated.apply_gradients(
        {{IndexedSlices{mat<T>(1, 1, {0.2}), Tensor{1}, {2, 1}}, aggregated}});
    check_close(flat<T>(repeated), flat<T>(aggregated), "repeated vs aggregated");
  }
}

TEST_CASE_TEMPLATE("Adagrad minimize through gather takes the IndexedSlices path", T, float,
                   double) {
  Variable emb(mat<T>(4, 2, {1, 2, 3, 4, 5, 6, 7, 8}), "emb");
  const Tensor ids = Tensor{2, 0, 2};
  const Tensor weights = mat<T>(3, 2, {1.0, -2.0, 0.5, 0.25, 3.0, 1.0});
  const auto loss = [&] { return reduce_sum(gather(emb, ids) * weights); };
  {
    GradientTape tape;
    const auto grads = tape.gradient(loss(), {emb});
    REQUIRE(grads[0].is_sparse());
  }
  // d loss / d emb: row 2 gets w[0] + w[2] = (4, -1), row 0 gets w[1] = (0.5, 0.25).
  Adagrad opt(0.3);
  AdagradReference<T> ref(flat<T>(emb), 0.1);
  for (int t = 0; t < kSteps; ++t) {
    CAPTURE(t);
    opt.minimize(loss, {emb});
    ref.sparse_step({2, 0, 2}, {T(1.0), T(-2.0), T(0.5), T(0.25), T(3.0), T(1.0)}, 2, 0.3);
    check_close(flat<T>(emb), ref.var, "emb");
    check_close(flat<T>(opt.get_slot(emb, "accumulator")), ref.acc, "acc");
  }
  const auto acc = flat<T>(opt.get_slot(emb, "accumulator"));
  CHECK(acc[2] == static_cast<T>(0.1));  // rows 1 and 3 never touched
  CHECK(acc[7] == static_cast<T>(0.1));
}

TEST_CASE_TEMPLATE("Adagrad minimize with grad_loss (Keras testPrecomputedGradient)", T, float,
                   double) {
  Variable var0(vec<T>({1.0, 2.0}), "var0");
  Variable var1(vec<T>({3.0, 4.0}), "var1");
  const Tensor grad_loss = vec<T>({42.0, -42.0});
  Adagrad opt(3.0);
  AdagradReference<T> ref0(flat<T>(var0), 0.1), ref1(flat<T>(var1), 0.1);
  for (int t = 0; t < kSteps; ++t) {
    CAPTURE(t);
    opt.minimize([&] { return var0 * 5.0 + var1 * 3.0; }, {var0, var1}, grad_loss);
    ref0.step({T(5 * 42.0), T(5 * -42.0)}, 3.0);
    ref1.step({T(3 * 42.0), T(3 * -42.0)}, 3.0);
    check_close(flat<T>(var0), ref0.var, "var0");
    check_close(flat<T>(var1), ref1.var, "var1");
  }
}

TEST_CASE_TEMPLATE("Adagrad minimize with a callable var_list and a lazily created variable", T,
                   float, double) {
  // Keras testOptimizerWithCallableVarList: the variable exists only after the first loss call.
  std::optional<Variable> lazy;
  Variable fixed(vec<T>({1.0, 2.0}), "fixed");
  const auto loss = [&] {
    if (!lazy) lazy.emplace(vec<T>({3.0, 4.0}), "lazy");
    return reduce_sum(square(*lazy) + fixed * 2.0);
  };
  const auto var_list = [&] { return std::vector<Variable>{*lazy, fixed}; };
  Adagrad opt(0.5);
  std::optional<AdagradReference<T>> ref_lazy;
  AdagradReference<T> ref_fixed(flat<T>(fixed), 0.1);
  for (int t = 0; t < kSteps; ++t) {
    CAPTURE(t);
    opt.minimize(loss, var_list);
    if (!ref_lazy) ref_lazy.emplace(std::vector<T>{T(3.0), T(4.0)}, 0.1);
    std::vector<T> g = ref_lazy->var;
    for (T& x : g) x = T(2) * x;
    ref_lazy->step(g, 0.5);
    ref_fixed.step({T(2), T(2)}, 0.5);
    check_close(flat<T>(*lazy), ref_lazy->var, "lazy");
    check_close(flat<T>(fixed), ref_fixed.var, "fixed");
  }
  CHECK(opt.get_slot(*lazy, "accumulator").name() == "Adagrad/lazy/accumulator:0");
}

// ---- construction and config -------------------------------------------------------------------

TEST_CASE("Adagrad constructor: defaults, epsilon 0, lr alias, validation order") {
  const Adagrad opt;
  CHECK(opt.name() == "Adagrad");
  CHECK(opt.learning_rate().value() == 0.001);
  CHECK(opt.initial_accumulator_value() == 0.1);
  CHECK(opt.epsilon() == 1e-7);
  CHECK_FALSE(opt.epsilon_inside_sqrt());
  CHECK(Adagrad(0.1, 0.1, 0.0).epsilon() == 1e-7);
  CHECK(Adagrad(0.1, 0.0).initial_accumulator_value() == 0.0);  // zero is allowed
  {
    CaptureCerr cerr;  // Keras testConstructAdagradWithLR: lr wins
    CHECK(Adagrad(0.1, 0.1, 1e-7, "Adagrad", {{"lr", 1.0}}).learning_rate().value() == 1.0);
    CHECK(cerr.text().find("The `lr` argument is deprecated") != std::string::npos);
  }
  CHECK_THROWS_WITH_TEXT(Adagrad(0.1, -0.1), ValueError,
                         "initial_accumulator_value must be non-negative: -0.1");
  CHECK_THROWS_WITH_TEXT(Adagrad(0.1, -1.0), ValueError,
                         "initial_accumulator_value must be non-negative: -1.0");
  // The accumulator check runs before the kwargs check, as in Keras.
  CHECK_THROWS_WITH_TEXT(Adagrad(0.1, -0.1, 1e-7, "Adagrad", {{"bogus", 1}}), ValueError,
                         "initial_accumulator_value");
}

TEST_CASE("Adagrad get_config: V2 keys in Keras order") {
  const Config config = Adagrad().get_config();
  CHECK(config.dump() ==
        R"({"name":"Adagrad","learning_rate":0.001,"decay":0.0,"initial_accumulator_value":0.1,)"
        R"("epsilon":1e-07})");
  const Config clipped =
      Adagrad(0.5, 0.2, 1e-6, "opt", {{"global_clipnorm", 2.0}, {"clipvalue", 1.0}, {"decay", 0.1}})
          .get_config();
  CHECK(clipped.dump() ==
        R"({"name":"opt","clipvalue":1.0,"global_clipnorm":2.0,"learning_rate":0.5,"decay":0.1,)"
        R"("initial_accumulator_value":0.2,"epsilon":1e-06})");
}

TEST_CASE("Adagrad from_config round trips and renames lr") {
  const Adagrad original(0.25, 0.3, 1e-5, "round", {{"clipnorm", 1.5}, {"decay", 0.01}});
  const Adagrad rebuilt = Adagrad::from_config(original.get_config());
  CHECK(rebuilt.get_config() == original.get_config());
  CHECK(rebuilt.clipnorm() == 1.5);

  CaptureCerr quiet;  // from_config renames lr, so no deprecation warning
  const Adagrad renamed = Adagrad::from_config({{"lr", 0.5}, {"learning_rate", 0.1}});
  CHECK(renamed.learning_rate().value() == 0.5);
  CHECK(quiet.text().empty());
  const Adagrad defaults = Adagrad::from_config(Config::object());
  CHECK(defaults.get_config() == Adagrad().get_config());
  CHECK(Adagrad::from_config({{"epsilon", nullptr}}).epsilon() == 1e-7);
}

TEST_CASE("Adagrad from_config with a schedule: built-in and custom_objects") {
  const auto schedule = std::make_shared<optim::schedules::ExponentialDecay>(0.1, 1000, 0.96);
  const Adagrad original(schedule);
  const Config config = original.get_config();
  CHECK(config["learning_rate"]["class_name"] == "ExponentialDecay");
  const Adagrad rebuilt = Adagrad::from_config(config);
  REQUIRE(rebuilt.learning_rate().is_schedule());
  CHECK(rebuilt.get_config() == config);
  CHECK(rebuilt.learning_rate()(500.0) == doctest::Approx(0.1 * std::pow(0.96, 0.5)));

  const Config custom = {{"learning_rate", {{"class_name", "HalvingSchedule"},
                                            {"config", {{"initial", 3.0}}}}}};
  optim::CustomObjects objects;
  objects.emplace("HalvingSchedule", [](const Config&) {
    return std::shared_ptr<optim::schedules::LearningRateSchedule>(
        std::make_shared<HalvingSchedule>());
  });
  const Adagrad with_custom = Adagrad::from_config(custom, objects);
  CHECK(with_custom.learning_rate()(2.0) == 0.75);
  CHECK_THROWS_AS(Adagrad::from_config(custom), ValueError);  // unknown without custom_objects
}

TEST_CASE("Adagrad from_config errors: unknown key, wrong types") {
  CHECK_THROWS_WITH_TEXT(Adagrad::from_config({{"momentum", 0.9}}), TypeError,
                         "Unexpected keyword argument passed to optimizer: momentum");
  CHECK_THROWS_WITH_TEXT(Adagrad::from_config({{"learning_rate", "fast"}}), TypeError,
                         "`learning_rate`");
  CHECK_THROWS_WITH_TEXT(Adagrad::from_config({{"epsilon", "tiny"}}), TypeError, "`epsilon`");
  CHECK_THROWS_WITH_TEXT(Adagrad::from_config({{"initial_accumulator_value", true}}), TypeError,
                         "`initial_accumulator_value`");
  CHECK_THROWS_WITH_TEXT(Adagrad::from_config({{"name", 3}}), TypeError, "`name`");
  CHECK_THROWS_WITH_TEXT(Adagrad::from_config({{"decay", "slow"}}), TypeError, "`decay`");
  CHECK_THROWS_WITH_TEXT(Adagrad::from_config(Config::array()), TypeError, "JSON object");
}

TEST_CASE("Adagrad set_weights accepts Keras v1 weights (no iteration count)") {
  Variable v(Tensor{1.0, 2.0}, "v");
  Adagrad opt(0.1);
  opt.apply_gradients({{Tensor{0.1, 0.1}, v}});
  opt.apply_gradients({{Tensor{0.1, 0.1}, v}});
  opt.set_weights({Tensor{5.0, 6.0}});
  CHECK(opt.iterations().numpy<std::int64_t>()() == 0);
  CHECK_ALLCLOSE(opt.get_slot(v, "accumulator").value(), (Tensor{5.0, 6.0}), 0.0, 0.0);
}

// ---- error paths: type, message, and nothing changed --------------------------------------------

TEST_CASE("Adagrad apply_gradients errors leave the optimizer and the variables unchanged") {
  Variable a(Tensor{1.0, 2.0}, "a");
  Variable b(Tensor{3.0, 4.0}, "b");
  Variable table(Tensor{{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}}, "table");
  Variable counts(Tensor{1, 2}, "counts");
  Variable wide(xt::xarray<double>{1.0, 2.0}, "wide");
  const std::vector<Variable> vars = {a, b, table, counts, wide};

  for (bool warmed_up : {false, true}) {
    CAPTURE(warmed_up);
    Adagrad opt(0.1);
    if (warmed_up) opt.apply_gradients({{Tensor{0.5, 0.5}, a}});
    const Snapshot before = snapshot(opt, vars);

    // The first pair is valid each time: it must not be applied when a later one is bad.
    CHECK_THROWS_WITH_TEXT(opt.apply_gradients({{Tensor{0.1, 0.1}, a}, {Tensor{0.1, 0.1, 0.1}, b}}),
                           ValueError, "var and grad do not have the same shape");
    check_unchanged(before, opt, vars);

    CHECK_THROWS_WITH_TEXT(
        opt.apply_gradients({{Tensor{0.1, 0.1}, a}, {Tensor(xt::xarray<double>{0.1, 0.1}), b}}),
        ValueError, "has dtype float64, the variable float32");
    check_unchanged(before, opt, vars);

    CHECK_THROWS_WITH_TEXT(opt.apply_gradients({{Tensor{0.1, 0.1}, a}, {Tensor{1, 1}, counts}}),
                           ValueError, "Invalid type int32 for counts:0");
    check_unchanged(before, opt, vars);

    const IndexedSlices out_of_range{Tensor{{0.1, 0.1}, {0.2, 0.2}}, Tensor{0, 3}, {3, 2}};
    CHECK_THROWS_WITH_TEXT(opt.apply_gradients({{Tensor{0.1, 0.1}, a}, {out_of_range, table}}),
                           ValueError, "Index 3 at offset 1 in indices is out of range");
    check_unchanged(before, opt, vars);

    const IndexedSlices negative{Tensor{{0.1, 0.1}}, Tensor{-1}, {3, 2}};
    CHECK_THROWS_WITH_TEXT(opt.apply_gradients({{Tensor{0.1, 0.1}, a}, {negative, table}}),
                           ValueError, "Index -1 at offset 0");
    check_unchanged(before, opt, vars);

    const IndexedSlices bad_rows{Tensor{{0.1, 0.1, 0.1}}, Tensor{0}, {3, 2}};
    CHECK_THROWS_WITH_TEXT(opt.apply_gradients({{Tensor{0.1, 0.1}, a}, {bad_rows, table}}),
                           ValueError, "values for variable 'table:0' must have shape (1, 2)");
    check_unchanged(before, opt, vars);

    const IndexedSlices bad_dense_shape{Tensor{{0.1, 0.1}}, Tensor{0}, {4, 2}};
    CHECK_THROWS_WITH_TEXT(opt.apply_gradients({{Tensor{0.1, 0.1}, a}, {bad_dense_shape, table}}),
                           ValueError, "dense_shape (4, 2)");
    check_unchanged(before, opt, vars);

    const IndexedSlices float_indices{Tensor{{0.1, 0.1}}, Tensor{0.0}, {3, 2}};
    CHECK_THROWS_WITH_TEXT(opt.apply_gradients({{Tensor{0.1, 0.1}, a}, {float_indices, table}}),
                           ValueError, "must be int32 or int64");
    check_unchanged(before, opt, vars);

    CHECK_THROWS_WITH_TEXT(opt.apply_gradients({{Gradient(), a}, {Gradient(), b}}), ValueError,
                           "No gradients provided for any variable: (['a:0', 'b:0'],)");
    check_unchanged(before, opt, vars);

    // A throwing schedule (user code) is evaluated before anything changes as well.
    struct Throwing : optim::schedules::LearningRateSchedule {
      double operator()(double) const override { throw std::runtime_error("schedule failed"); }
      Config get_config() const override { return Config::object(); }
      std::string class_name() const override { return "Throwing"; }
    };
    const optim::LearningRate kept = opt.learning_rate();
    opt.set_learning_rate(std::make_shared<Throwing>());
    CHECK_THROWS_AS(opt.apply_gradients({{Tensor{0.1, 0.1}, a}}), std::runtime_error);
    opt.set_learning_rate(kept);
    check_unchanged(before, opt, vars);
  }
}

TEST_CASE("Adagrad minimize and get_gradients errors leave everything unchanged") {
  Variable a(Tensor{1.0, 2.0}, "a");
  Variable unused(Tensor{3.0}, "unused");
  const std::vector<Variable> vars = {a, unused};
  Adagrad opt(0.1);
  opt.minimize([&] { return reduce_sum(square(a)); }, {a});
  const Snapshot before = snapshot(opt, vars);

  // Keras testNoGradients: a var_list that does not reach the loss.
  CHECK_THROWS_WITH_TEXT(opt.minimize([&] { return reduce_sum(square(a)); }, {unused}),
                         ValueError, "No gradients provided for any variable: (['unused:0'],)");
  check_unchanged(before, opt, vars);

  CHECK_THROWS_WITH_TEXT(opt.get_gradients([&] { return reduce_sum(square(a)); }, {a, unused}),
                         ValueError, "has `None` for gradient. Please make sure that all of your "
                                     "ops have a gradient defined");
  CHECK_THROWS_WITH_TEXT(opt.get_updates([&] { return reduce_sum(square(a)); }, {a, unused}),
                         ValueError, "Variable <tapeflow.Variable 'unused:0'");
  check_unchanged(before, opt, vars);

  // A loss function that throws changes nothing either.
  CHECK_THROWS_AS(opt.minimize([]() -> Tensor { throw std::runtime_error("loss failed"); }, {a}),
                  std::runtime_error);
  check_unchanged(before, opt, vars);

  // grad_loss must have the loss's shape: the tape's error, before any update.
  CHECK_THROWS_AS(opt.minimize([&] { return a * 2.0; }, {a}, Tensor{1.0, 2.0, 3.0}), ValueError);
  check_unchanged(before, opt, vars);

  // A callable var_list that throws (it runs after the loss) changes nothing.
  CHECK_THROWS_AS(opt.minimize([&] { return reduce_sum(square(a)); },
                               [&]() -> std::vector<Variable> {
                                 throw std::runtime_error("var_list failed");
                               }),
                  std::runtime_error);
  check_unchanged(before, opt, vars);

  // The gather path: an out-of-range id fails in the forward pass, before any update.
  Variable emb(Tensor{{1.0, 2.0}, {3.0, 4.0}}, "emb");
  const std::vector<Variable> with_emb = {a, unused, emb};
  const Snapshot before_emb = snapshot(opt, with_emb);
  CHECK_THROWS_AS(opt.minimize([&] { return reduce_sum(gather(emb, Tensor{0, 5})); }, {emb}),
                  ValueError);
  check_unchanged(before_emb, opt, with_emb);
}

TEST_CASE("Adagrad set_weights errors assign nothing") {
  Variable a(Tensor{1.0, 2.0}, "a");
  Variable b(Tensor{{1.0, 2.0, 3.0}}, "b");
  const std::vector<Variable> vars = {a, b};
  Adagrad opt(0.1);
  opt.apply_gradients({{Tensor{0.1, 0.1}, a}, {Tensor{{0.1, 0.2, 0.3}}, b}});
  const Snapshot before = snapshot(opt, vars);

  CHECK_THROWS_WITH_TEXT(
      opt.set_weights({Tensor(std::int64_t{3})}), ValueError,
      "You called `set_weights(weights)` on optimizer Adagrad with a  weight list of length 1, "
      "but the optimizer was expecting 3 weights. Provided weights: [3]...");
  check_unchanged(before, opt, vars);

  // The first two entries are fine; the shape error in the third must stop all three.
  CHECK_THROWS_WITH_TEXT(
      opt.set_weights({Tensor(std::int64_t{7}), Tensor{9.0, 9.0}, Tensor{9.0, 9.0, 9.0}}),
      ValueError, "Optimizer weight shape (1, 3) not compatible with provided weight shape (3,).");
  check_unchanged(before, opt, vars);

  CHECK_THROWS_WITH_TEXT(opt.set_weights({Tensor(std::int64_t{7}), Tensor(), Tensor{{1.0, 1.0, 1.0}}}),
                         ValueError, "weight 1 is none");
  check_unchanged(before, opt, vars);
}

TEST_CASE("Adagrad construction errors: kwargs and names") {
  CHECK_THROWS_WITH_TEXT(
      Adagrad(0.1, 0.1, 1e-7, "Adagrad", {{"momentum", 0.9}}), TypeError,
      "Unexpected keyword argument passed to optimizer: momentum. Allowed kwargs are {'clipnorm', "
      "'clipvalue', 'lr', 'decay', 'global_clipnorm'}.");
  CHECK_THROWS_WITH_TEXT(Adagrad(0.1, 0.1, 1e-7, "Adagrad", {{"clipnorm", -1.0}}), ValueError,
                         "Expected clipnorm >= 0, received: -1.0");
  CHECK_THROWS_WITH_TEXT(Adagrad(0.1, 0.1, 1e-7, "Adagrad", {{"decay", -1}}), ValueError,
                         "Expected decay >= 0, received: -1");
  CHECK_THROWS_WITH_TEXT(Adagrad(0.1, 0.1, 1e-7, "Adagrad", {{"clipvalue", "big"}}), TypeError,
                         "`clipvalue` must be a number, received: \"big\"");
  CHECK_THROWS_WITH_TEXT(Adagrad(0.1, 0.1, 1e-7, "Adagrad", {{"lr", true}}), TypeError, "`lr`");
  CHECK_THROWS_WITH_TEXT(
      Adagrad(0.1, 0.1, 1e-7, "Adagrad", {{"clipnorm", 1.0}, {"global_clipnorm", 2.0}}),
      ValueError,
      "Cannot accept both `clipnorm` and `global_clipnorm`. Received: `clipnorm`=1.0, "
      "`global_clipnorm`=2.0.");
  CHECK_THROWS_WITH_TEXT(Adagrad(0.1, 0.1, 1e-7, "Adagrad", Config::array({1, 2})), TypeError,
                         "kwargs must be a JSON object");
  CHECK_THROWS_WITH_TEXT(Adagrad(0.1, 0.1, 1e-7, "bad name"), ValueError,
                         "'bad name' is not a valid scope name");
  CHECK_THROWS_WITH_TEXT(Adagrad(0.1, 0.1, 1e-7, "_private"), ValueError, "not a valid scope name");
  CHECK_THROWS_WITH_TEXT(Adagrad(0.1, 0.1, 1e-7, "x:0"), ValueError, "not a valid scope name");
  // Valid: dots, slashes, dashes, '>' and digits first, as TF's root scope pattern allows.
  CHECK(Adagrad(0.1, 0.1, 1e-7, ".opt/a-b>c_1").name() == ".opt/a-b>c_1");
  CHECK(Adagrad(0.1, 0.1, 1e-7, "0th").name() == "0th");
  // A value of null is Python's None: not set.
  CHECK_FALSE(Adagrad(0.1, 0.1, 1e-7, "Adagrad", {{"clipnorm", nullptr}}).clipnorm().has_value());
}
