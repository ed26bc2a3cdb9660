// The Optimizer base: handle/body aliasing, iterations and slots, weights in and out, the
// apply_gradients pipeline's bookkeeping, minimize/get_updates, names, printing, and a custom
// optimizer written against the documented hooks.
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "optim_support.hpp"

using namespace tapeflow;
using namespace tapeflow::testing;
using optim::Adagrad;
using optim::Optimizer;

namespace {

// A custom optimizer, as optimizer.hpp describes: SGD with momentum (Keras V2 SGD's rule)
//   m <- μ·m - lr·g;  var <- var + m
// written with ops, one slot, and an extra config entry. apply_sparse is the base default.
class MomentumImpl : public optim::OptimizerImpl {
 public:
  MomentumImpl(optim::LearningRate lr, double momentum, std::string name, const Config& kwargs)
      : OptimizerImpl("Momentum", std::move(name), std::move(lr), kwargs), momentum_(momentum) {}
  Config get_config() const override {
    Config config = OptimizerImpl::get_config();
    config["momentum"] = momentum_;
    return config;
  }

 protected:
  void create_slots(const std::vector<Variable>& var_list) override {
    for (const Variable& v : var_list) add_slot(v, "momentum");
  }
  void apply_dense(const Tensor& grad, Variable& var, double lr_t) override {
    Variable m = get_slot(var, "momentum");
    m.assign(m.read_value_no_record() * momentum_ - grad * lr_t);
    var.assign_add(m.read_value_no_record());
  }

 private:
  double momentum_;
};

class Momentum : public Optimizer {
 public:
  explicit Momentum(optim::LearningRate lr = 0.01, double momentum = 0.9,
                    std::string name = "Momentum", const Config& kwargs = {})
      : Optimizer(std::make_shared<MomentumImpl>(std::move(lr), momentum, std::move(name), kwargs)) {}
};

std::vector<std::string> names(const std::vector<Variable>& vars) {
  std::vector<std::string> out;
  for (const Variable& v : vars) out.push_back(v.name());
  return out;
}

std::int64_t iteration_value(Optimizer& opt) {
  return opt.iterations().numpy<std::int64_t>()();
}

}  // namespace

TEST_CASE("copies and slices of an optimizer alias one body, which runs the subclass update") {
  Variable v(Tensor{1.0, 2.0}, "v");
  Adagrad adagrad(3.0);
  Optimizer sliced = adagrad;  // a slice: still Adagrad's body
  Optimizer copy = sliced;
  CHECK(sliced.impl_ptr() == adagrad.impl_ptr());
  CHECK(copy.class_name() == "Adagrad");
  copy.apply_gradients({{Tensor{0.1, 0.1}, v}});
  CHECK(iteration_value(adagrad) == 1);
  REQUIRE(adagrad.get_weights().size() == 2);
  AdagradReference<float> ref({1.0f, 2.0f}, 0.1);
  ref.step({0.1f, 0.1f}, 3.0);
  check_close(flat<float>(v), ref.var, "v");
  check_close(flat<float>(adagrad.get_weights()[1]), ref.acc, "accumulator seen by the original");
  CHECK_THROWS_WITH_TEXT(Optimizer(nullptr), ValueError, "null");
}

TEST_CASE("iterations: created on first read, weights()[0], +1 per applied step") {
  Adagrad opt(0.1);
  CHECK(opt.weights().empty());
  CHECK(opt.get_slot_names().empty());
  Variable iter = opt.iterations();
  CHECK(iter.name() == "Adagrad/iter:0");
  CHECK(iter.dtype() == DType::int64);
  CHECK(iter.shape().empty());
  CHECK_FALSE(iter.trainable());
  CHECK(names(opt.weights()) == std::vector<std::string>{"Adagrad/iter:0"});

  Variable v0(Tensor{1.0, 2.0}, "v0"), v1(Tensor{3.0}, "v1");
  opt.apply_gradients({{Tensor{0.1, 0.1}, v0}, {Tensor{0.1}, v1}});
  opt.apply_gradients({{Tensor{0.1, 0.1}, v0}, {Tensor{0.1}, v1}});
  CHECK(iteration_value(opt) == 2);
  const std::vector<std::string> expected = {"Adagrad/iter:0", "Adagrad/v0/accumulator:0",
                                             "Adagrad/v1/accumulator:0"};
  CHECK(names(opt.weights()) == expected);
  CHECK(names(opt.variables()) == expected);
  CHECK(opt.get_slot_names() == std::vector<std::string>{"accumulator"});
  CHECK_FALSE(opt.get_slot(v0, "accumulator").trainable());
  std::ostringstream printed;
  printed << opt.iterations();
  CHECK(printed.str() == "<tapeflow.Variable 'Adagrad/iter:0' shape=() dtype=int64, numpy=2>");

  // An empty list does nothing (beyond creating iterations, as Keras does).
  Adagrad fresh(0.1);
  CHECK(fresh.apply_gradients({}).name() == "Adagrad/iter:0");
  CHECK(iteration_value(fresh) == 0);
  CHECK(fresh.weights().size() == 1);
}

TEST_CASE("a variable listed twice in one step gets both updates and one slot") {
  Variable v(Tensor{1.0}, "v");
  Adagrad opt(0.5);
  opt.apply_gradients({{Tensor{0.2}, v}, {Tensor{-0.1}, v}});
  AdagradReference<float> ref({1.0f}, 0.1);
  ref.step({0.2f}, 0.5);
  ref.step({-0.1f}, 0.5);
  check_close(flat<float>(v), ref.var, "v");
  CHECK(opt.weights().size() == 2);
  CHECK(iteration_value(opt) == 1);
}

TEST_CASE("missing gradients: a warning names them; they get no update and no slot") {
  Variable a(Tensor{1.0, 2.0}, "a"), b(Tensor{3.0}, "b");
  Adagrad opt(0.1);
  CaptureCerr cerr;
  opt.apply_gradients({{Tensor{0.1, 0.1}, a}, {Gradient(), b}});
  CHECK(cerr.text().find("Gradients do not exist for variables ['b:0'] when minimizing the loss. "
                         "If you're using `model.compile()`, did you forget to provide a `loss` "
                         "argument?") != std::string::npos);
  CHECK_ALLCLOSE(b.value(), (Tensor{3.0}), 0.0, 0.0);
  CHECK_THROWS_WITH_TEXT(opt.get_slot(b, "accumulator"), ValueError,
                         "has no slot 'accumulator' for variable 'b:0'");
  CHECK(iteration_value(opt) == 1);
}

TEST_CASE("add_slot: names, initializers, reuse; iterations stays first") {
  Momentum opt(0.1, 0.9, "opt");
  Variable v(Tensor{{1.0, 2.0}, {3.0, 4.0}}, "dense/kernel");
  Variable m = opt.add_slot(v, "m");  // before iterations was ever read
  CHECK(m.name() == "opt/dense/kernel/m:0");
  CHECK(names(opt.weights()) == std::vector<std::string>{"opt/iter:0", "opt/dense/kernel/m:0"});
  CHECK_ALLCLOSE(m.value(), zeros({2, 2}), 0.0, 0.0);
  CHECK_ALLCLOSE(opt.add_slot(v, "ones", "ones").value(), ones({2, 2}), 0.0, 0.0);
  CHECK_ALLCLOSE(opt.add_slot(v, "half", 0.5).value(), fill({2, 2}, 0.5), 0.0, 0.0);
  const Tensor given = Tensor{{9.0, 8.0}, {7.0, 6.0}};
  CHECK_ALLCLOSE(opt.add_slot(v, "given", given).value(), given, 0.0, 0.0);
  // An existing slot comes back unchanged, whatever the initializer.
  CHECK_ALLCLOSE(opt.add_slot(v, "half", 3.0).value(), fill({2, 2}, 0.5), 0.0, 0.0);
  CHECK(opt.get_slot_names() == std::vector<std::string>{"m", "ones", "half", "given"});
  CHECK(opt.weights().size() == 5);

  const auto before = snapshot(opt, {v});
  CHECK_THROWS_WITH_TEXT(opt.add_slot(v, "bad", "glorot"), ValueError, "unknown initializer 'glorot'");
  CHECK_THROWS_WITH_TEXT(opt.add_slot(v, "bad", Tensor{1.0, 2.0}), ValueError,
                         "the initial value has shape (2,) and dtype float32, expected (2, 2)");
  CHECK_THROWS_WITH_TEXT(opt.add_slot(v, "", "zeros"), ValueError, "slot name is empty");
  check_unchanged(before, opt, {v});
  CHECK_THROWS_WITH_TEXT(opt.get_slot(v, "velocity"), ValueError,
                         "optimizer 'opt' has no slot 'velocity' for variable 'dense/kernel:0' "
                         "(the variable's slots: ['m', 'ones', 'half', 'given'])");
}

TEST_CASE("add_weight makes a variable that is not in weights()") {
  Adagrad opt(0.1);
  Variable w = opt.add_weight("momentum_cache", {}, DType::float64, 1.0, false);
  CHECK(w.name() == "momentum_cache:0");
  CHECK(w.dtype() == DType::float64);
  CHECK_FALSE(w.trainable());
  CHECK(w.numpy<double>()() == 1.0);
  CHECK(opt.weights().empty());
  CHECK(opt.add_weight("t", {3}).trainable());
}

TEST_CASE("get_weights copies out; set_weights copies in, casting to each weight's dtype") {
  Variable kernel(Tensor{{1.0, 2.0}, {3.0, 4.0}}, "kernel"), bias(Tensor{0.5}, "bias");
  Adagrad opt(0.1);
  opt.apply_gradients({{Tensor{{0.1, 0.1}, {0.1, 0.1}}, kernel}, {Tensor{0.1}, bias}});
  std::vector<Tensor> saved = opt.get_weights();
  REQUIRE(saved.size() == 3);
  CHECK(saved[0].dtype() == DType::int64);
  const Tensor acc_before = copy_of(saved[1]);
  opt.apply_gradients({{Tensor{{0.1, 0.1}, {0.1, 0.1}}, kernel}, {Tensor{0.1}, bias}});
  CHECK_ALLCLOSE(saved[1], acc_before, 0.0, 0.0);  // a copy: training did not change it

  // The V2 docstring example: iterations from a plain integer, slots from arrays.
  opt.set_weights({Tensor(10), Tensor{{1.0, 1.0}, {1.0, 1.0}}, xt::xarray<double>{0.0}});
  CHECK(iteration_value(opt) == 10);
  CHECK(opt.iterations().dtype() == DType::int64);
  CHECK_ALLCLOSE(opt.get_slot(kernel, "accumulator").value(), ones({2, 2}), 0.0, 0.0);
  CHECK_ALLCLOSE(opt.get_slot(bias, "accumulator").value(), (Tensor{0.0}), 0.0, 0.0);
  CHECK(opt.get_slot(bias, "accumulator").dtype() == DType::float32);

  Adagrad fresh(0.1);
  fresh.set_weights({});  // no weights, empty list: nothing to do
  CHECK(fresh.weights().empty());
  // A longer list before the slots exist waits for them (keras-team/keras#15298): a build
  // without variables gives [iterations], which a one-entry list fits.
  fresh.set_weights({Tensor(7)});
  CHECK(fresh.has_pending_weights());
  CHECK(fresh.weights().empty());
  fresh.build({});
  CHECK_FALSE(fresh.has_pending_weights());
  CHECK(fresh.iterations().value().item<std::int64_t>() == 7);
  // Once the slots exist, a list of the wrong length is refused at once.
  CHECK_THROWS_WITH_TEXT(opt.set_weights({Tensor(1), ones({2, 2}), ones({1}), ones({1})}),
                         ValueError, "but the optimizer was expecting 3 weights");
}

TEST_CASE("set_learning_rate takes effect at the next step") {
  Variable v(Tensor{1.0, -1.0}, "v");
  Adagrad opt(0.1);
  AdagradReference<float> ref(flat<float>(v), 0.1);
  opt.apply_gradients({{Tensor{0.3, 0.2}, v}});
  ref.step({0.3f, 0.2f}, 0.1);
  opt.set_learning_rate(0.5);
  CHECK(opt.learning_rate().value() == 0.5);
  opt.apply_gradients({{Tensor{0.3, 0.2}, v}});
  ref.step({0.3f, 0.2f}, 0.5);
  check_close(flat<float>(v), ref.var, "after the number");
  // A schedule set at run time sees the current iteration count (2).
  opt.set_learning_rate(std::make_shared<optim::schedules::InverseTimeDecay>(1.0, 1.0, 1.0));
  opt.apply_gradients({{Tensor{0.3, 0.2}, v}});
  ref.step({0.3f, 0.2f}, 1.0 / 3.0);
  check_close(flat<float>(v), ref.var, "after the schedule");
}

TEST_CASE("clipping edge cases: zero gradient under clipnorm, non-finite global norm") {
  Variable v(Tensor{1.0, 2.0}, "v"), w(Tensor{3.0}, "w");
  Adagrad by_norm(0.1, 0.1, 1e-7, "Adagrad", {{"clipnorm", 1.0}});
  by_norm.apply_gradients({{Tensor{0.0, 0.0}, v}});
  CHECK_ALLCLOSE(v.value(), (Tensor{1.0, 2.0}), 0.0, 0.0);  // TF: norm 0 -> g·c/c, no NaN

  Adagrad global(0.1, 0.1, 1e-7, "Adagrad", {{"global_clipnorm", 1.0}});
  global.apply_gradients({{Tensor{INFINITY, 0.0}, v}, {Tensor{0.5}, w}});
  CHECK(std::isnan(flat<float>(w)[0]));  // every output is NaN, as tf.clip_by_global_norm
}

TEST_CASE("minimize, get_gradients and get_updates") {
  Variable w(Tensor{1.0, 2.0}, "w"), frozen(Tensor{1.0}, "frozen", false);
  const auto loss = [&] { return reduce_sum(square(w)) + reduce_sum(frozen * 3.0); };
  Adagrad opt(0.2);
  // A listed non-trainable variable is watched explicitly, so it trains too.
  opt.minimize(loss, {w, frozen});
  AdagradReference<float> ref_w({1.0f, 2.0f}, 0.1), ref_f({1.0f}, 0.1);
  ref_w.step({2.0f, 4.0f}, 0.2);
  ref_f.step({3.0f}, 0.2);
  check_close(flat<float>(w), ref_w.var, "w");
  check_close(flat<float>(frozen), ref_f.var, "frozen");

  const auto grads = opt.get_gradients(loss, {w});
  REQUIRE(grads.size() == 1);
  CHECK_ALLCLOSE(grads[0].dense(), w.value() * 2.0, 1e-6, 0.0);

  const std::vector<Variable> updated = opt.get_updates(loss, {w});
  REQUIRE(updated.size() == 1);
  CHECK(updated[0].id() == w.id());
  ref_w.step({2 * ref_w.var[0], 2 * ref_w.var[1]}, 0.2);
  check_close(flat<float>(w), ref_w.var, "w after get_updates");
  CHECK(iteration_value(opt) == 2);

  // experimental_aggregate_gradients=false is accepted (one replica: same result).
  Variable a(Tensor{1.0}, "a"), b(Tensor{1.0}, "b");
  Adagrad x(0.1), y(0.1);
  x.apply_gradients({{Tensor{0.4}, a}}, "step", true);
  y.apply_gradients({{Tensor{0.4}, b}}, "step", false);
  CHECK_ALLCLOSE(a.value(), b.value(), 0.0, 0.0);
}

TEST_CASE("names: class-name default, automatic names from a library counter, snake case") {
  CHECK(Adagrad().name() == "Adagrad");
  const std::string first = Adagrad(0.1, 0.1, 1e-7, "").name();
  const std::string second = Adagrad(0.1, 0.1, 1e-7, "").name();
  std::smatch match;
  REQUIRE(std::regex_match(first, match, std::regex("adagrad(?:_([0-9]+))?")));
  const int n = match[1].matched ? std::stoi(match[1].str()) : 0;
  CHECK(second == "adagrad_" + std::to_string(n + 1));
  CHECK(Adagrad(0.1, 0.1, 1e-7, "").iterations().name() == "adagrad_" + std::to_string(n + 2) +
                                                               "/iter:0");
  CHECK(Momentum(0.1, 0.9, "").name().rfind("momentum", 0) == 0);
  CHECK(optim::internal::to_snake_case("RMSprop") == "rm_sprop");
  CHECK(optim::internal::to_snake_case("SGD") == "sgd");
  CHECK(optim::internal::to_snake_case("SignSGD") == "sign_sgd");
  CHECK(optim::internal::to_snake_case("Adagrad") == "adagrad");
}

TEST_CASE("printing shows class, name and hyperparameters") {
  std::ostringstream out;
  out << Adagrad(0.01, 0.1, 1e-7, "ada", {{"clipnorm", 2.0}});
  CHECK(out.str() ==
        "<tapeflow.optim.Adagrad name='ada' clipnorm=2.0 learning_rate=0.01 decay=0.0 "
        "initial_accumulator_value=0.1 epsilon=1e-07>");
  std::ostringstream scheduled;
  scheduled << Adagrad(std::make_shared<optim::schedules::InverseTimeDecay>(0.5, 10, 0.1));
  CHECK(scheduled.str().find("learning_rate=InverseTimeDecay({\"initial_learning_rate\":0.5") !=
        std::string::npos);
  std::ostringstream custom;
  custom << Momentum(0.1, 0.5, "mom");
  CHECK(custom.str() == "<tapeflow.optim.Momentum name='mom' learning_rate=0.1 decay=0.0 "
                        "momentum=0.5>");
}

TEST_CASE_TEMPLATE("a custom optimizer: hooks, slots, the base pipeline and the sparse default", T,
                   float, double) {
  Variable v(vec<T>({1.0, -2.0, 0.5}), "v");
  Variable table(mat<T>(3, 2, {1, 2, 3, 4, 5, 6}), "table");
  Momentum opt(0.1, 0.9, "Momentum", {{"clipvalue", 1.0}});
  std::vector<T> ref_v = flat<T>(v), m_v(3, T(0));
  std::vector<T> ref_t = flat<T>(table), m_t(6, T(0));
  const std::vector<T> g = {T(0.5), T(2.0), T(-3.0)};  // clipped to [0.5, 1, -1]
  const std::vector<T> g_clipped = {T(0.5), T(1.0), T(-1.0)};
  const Tensor values = mat<T>(2, 2, {0.25, 0.5, 0.75, 1.0});
  for (int t = 0; t < 3; ++t) {
    CAPTURE(t);
    opt.apply_gradients({{Tensor::from_data(dtype_of_v<T>, {3}, g.data()), v},
                         {IndexedSlices{values, Tensor{2, 2}, {3, 2}}, table}});
    for (std::size_t i = 0; i < 3; ++i) {
      m_v[i] = m_v[i] * T(0.9) - g_clipped[i] * T(0.1);
      ref_v[i] = ref_v[i] + m_v[i];
    }
    // Densified sparse gradient: row 2 gets values[0] + values[1]; momentum decays every row.
    const std::vector<T> dense = {0, 0, 0, 0, T(0.25) + T(0.75), T(0.5) + T(1.0)};
    for (std::size_t i = 0; i < 6; ++i) {
      m_t[i] = m_t[i] * T(0.9) - dense[i] * T(0.1);
      ref_t[i] = ref_t[i] + m_t[i];
    }
    check_close(flat<T>(v), ref_v, "v");
    check_close(flat<T>(table), ref_t, "table");
  }
  CHECK(names(opt.weights()) ==
        std::vector<std::string>{"Momentum/iter:0", "Momentum/v/momentum:0",
                                 "Momentum/table/momentum:0"});
  CHECK(opt.get_config().dump() ==
        R"({"name":"Momentum","clipvalue":1.0,"learning_rate":0.1,"decay":0.0,"momentum":0.9})");
  // The base validation protects custom optimizers too.
  const auto before = snapshot(opt, {v, table});
  CHECK_THROWS_WITH_TEXT(opt.apply_gradients({{vec<T>({1.0}), v}}), ValueError,
                         "do not have the same shape");
  check_unchanged(before, opt, {v, table});
}
