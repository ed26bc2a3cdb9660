// optim::serialize / deserialize / the optimizer registry, across the three Keras generations:
// fixture configs written as each generation writes them (tests/optim/fixtures) round-trip
// unchanged, the generation's numerics apply, and malformed configs give typed errors.

#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "optim/optim_support.hpp"
#include "support.hpp"
#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;
using optim::ConfigStyle;
using optim::CustomObjects;
using optim::KerasGeneration;
using optim::SerializationFormat;
using tapeflow::testing::CaptureCerr;

namespace {

/// tests/optim/fixtures: $TAPEFLOW_OPTIM_FIXTURES (set by tests/optim/meson.build), else next
/// to this file as the compiler saw it (a path relative to the build directory).
std::string fixture_path(const std::string& file) {
  if (const char* dir = std::getenv("TAPEFLOW_OPTIM_FIXTURES")) {
    return std::string(dir) + "/" + file;
  }
  const std::string here = __FILE__;
  return here.substr(0, here.rfind('/')) + "/fixtures/" + file;
}

Config read_fixture(const std::string& file) {
  std::ifstream in(fixture_path(file));
  REQUIRE_MESSAGE(in.good(), "cannot open fixture " << fixture_path(file)
                                 << " (run from the build directory, or set "
                                    "TAPEFLOW_OPTIM_FIXTURES to tests/optim/fixtures)");
  std::stringstream text;
  text << in.rdbuf();
  return Config::parse(text.str());
}

/// The custom schedule of Keras 2.15's testGetAndFromConfig: a constant rate.
class CustomLRSchedule : public optim::schedules::LearningRateSchedule {
 public:
  explicit CustomLRSchedule(double initial) : initial_(initial) {}
  double operator()(double /*step*/) const override { return initial_; }
  Config get_config() const override { return {{"initial_learning_rate", initial_}}; }
  std::string class_name() const override { return "CustomLRSchedule"; }

 private:
  double initial_;
};

const CustomObjects& custom_schedule_objects() {
  static const CustomObjects objects{{"CustomLRSchedule", [](const Config& c) {
                                        return std::make_shared<CustomLRSchedule>(
                                            c.at("initial_learning_rate").get<double>());
                                      }}};
  return objects;
}

SerializationFormat format_of(const Config& serialized) {
  return serialized.contains("module") ? SerializationFormat::keras3 : SerializationFormat::tf2;
}

/// A float64 vector [a, b].
Tensor f64(double a, double b) {
  const double data[] = {a, b};
  return Tensor::from_data(DType::float64, {2}, data);
}

/// One step of `opt` on a float64 variable [1, -2] with gradient [0.5, 3]; returns the new value.
Tensor one_step(optim::Optimizer& opt) {
  Variable w(f64(1.0, -2.0), "w");
  opt.apply_gradients({{Gradient(f64(0.5, 3.0)), w}});
  return w.read_value_no_record();
}

Config keras3_config(const std::string& class_name, Config own) {
  Config config = {{"name", "x"},
                   {"learning_rate", 0.1},
                   {"weight_decay", nullptr},
                   {"clipnorm", nullptr},
                   {"global_clipnorm", nullptr},
                   {"clipvalue", nullptr},
                   {"use_ema", false},
                   {"ema_momentum", 0.99},
                   {"ema_overwrite_frequency", nullptr},
                   {"loss_scale_factor", nullptr},
                   {"gradient_accumulation_steps", nullptr}};
  for (const auto& item : own.items()) config[item.key()] = item.value();
  return {{"module", "keras.optimizers"},
          {"class_name", class_name},
          {"config", config},
          {"registered_name", nullptr}};
}

Config keras2_config(const std::string& class_name, Config own) {
  Config config = {{"name", class_name},      {"weight_decay", nullptr},
                   {"clipnorm", nullptr},     {"global_clipnorm", nullptr},
                   {"clipvalue", nullptr},    {"use_ema", false},
                   {"ema_momentum", 0.99},    {"ema_overwrite_frequency", nullptr},
                   {"jit_compile", false},    {"is_legacy_optimizer", false},
                   {"learning_rate", 0.1}};
  for (const auto& item : own.items()) config[item.key()] = item.value();
  return {{"class_name", class_name}, {"config", config}};
}

Config v2_config(const std::string& class_name, Config own) {
  return {{"class_name", class_name}, {"config", std::move(own)}};
}

}  // namespace

TEST_CASE("fixtures of every generation round-trip unchanged through deserialize/serialize") {
  const struct {
    const char* file;
    KerasGeneration generation;
  } files[] = {{"optimizers_v2.json", KerasGeneration::v2},
               {"optimizers_keras2.json", KerasGeneration::keras2},
               {"optimizers_keras3.json", KerasGeneration::keras3}};
  std::vector<std::string> seen_classes;
  int with_schedule = 0;
  for (const auto& f : files) {
    const Config items = read_fixture(f.file);
    REQUIRE(items.is_array());
    REQUIRE(items.size() >= 8);
    for (const Config& item : items) {
      CAPTURE(f.file);
      CAPTURE(item.dump());
      const auto opt = optim::deserialize(item, custom_schedule_objects());
      REQUIRE(opt);
      CHECK(opt->class_name() == item.at("class_name").get<std::string>());
      CHECK(opt->keras_generation() == f.generation);
      // The identity, keys and their order included (ordered_json compares in order).
      CHECK(optim::serialize(*opt, format_of(item)).dump() == item.dump());
      CHECK(opt->get_config().dump() == item.at("config").dump());
      if (opt->learning_rate().is_schedule()) ++with_schedule;
      if (f.generation == KerasGeneration::keras3) {
        seen_classes.push_back(opt->class_name());
      }
    }
  }
  // All eight built-ins appear in the Keras 3 file; schedules appear in every generation.
  CHECK(seen_classes == optim::optimizer_names());
  CHECK(with_schedule >= 5);
}

TEST_CASE("fixture schedules round-trip unchanged in both envelopes") {
  const Config items = read_fixture("schedules.json");
  REQUIRE(items.size() == 12);
  for (const Config& item : items) {
    CAPTURE(item.dump());
    const auto schedule = optim::schedules::deserialize(item);
    CHECK(optim::schedules::serialize(*schedule, format_of(item)).dump() == item.dump());
  }
  // The custom schedule inside the Keras 3 RMSprop fixture keeps its registered_name.
  const Config k3 = read_fixture("optimizers_keras3.json");
  for (const Config& item : k3) {
    if (item.at("class_name") != "RMSprop") continue;
    const Config& lr = item.at("config").at("learning_rate");
    CHECK(lr.at("registered_name") == "CustomLRSchedule");
    const auto opt = optim::deserialize(item, custom_schedule_objects());
    CHECK(opt->learning_rate()(100) == 0.05);
    CHECK_THROWS_WITH_TEXT(optim::deserialize(item), ValueError, "Unknown decay: CustomLRSchedule");
  }
}

TEST_CASE("from_config reads every generation too, and its get_config is the same") {
  for (const char* file :
       {"optimizers_v2.json", "optimizers_keras2.json", "optimizers_keras3.json"}) {
    for (const Config& item : read_fixture(file)) {
      CAPTURE(item.dump());
      const auto opt = optim::deserialize(item, custom_schedule_objects());
      const Config config = opt->get_config();
      const std::string cls = opt->class_name();
      Config again;
      if (cls == "Adagrad") again = optim::Adagrad::from_config(config, custom_schedule_objects()).get_config();
      if (cls == "RMSprop") again = optim::RMSprop::from_config(config, custom_schedule_objects()).get_config();
      if (cls == "Nadam") again = optim::Nadam::from_config(config, custom_schedule_objects()).get_config();
      if (cls == "Ftrl") again = optim::Ftrl::from_config(config, custom_schedule_objects()).get_config();
      if (cls == "SGD") again = optim::SGD::from_config(config, custom_schedule_objects()).get_config();
      if (cls == "Adam") again = optim::Adam::from_config(config, custom_schedule_objects()).get_config();
      if (cls == "Adamax") again = optim::Adamax::from_config(config, custom_schedule_objects()).get_config();
      if (cls == "Adadelta") again = optim::Adadelta::from_config(config, custom_schedule_objects()).get_config();
      CHECK(again.dump() == config.dump());
    }
  }
}

TEST_CASE("Keras 2.11+/3 Adagrad and RMSprop put epsilon inside the square root") {
  // epsilon 0.5 makes the placement visible: acc = 0.1 + g², var -= lr·g/√(acc + ε) vs
  // lr·g/(√acc + ε).
  const double lr = 0.1, eps = 0.5, acc0 = 0.1;
  const double g[] = {0.5, 3.0}, w0[] = {1.0, -2.0};
  double in[2], out[2];
  for (int i = 0; i < 2; ++i) {
    const double acc = acc0 + g[i] * g[i];
    in[i] = w0[i] - lr * g[i] / std::sqrt(acc + eps);
    out[i] = w0[i] - lr * g[i] / (std::sqrt(acc) + eps);
  }
  Tensor inside = f64(in[0], in[1]), outside = f64(out[0], out[1]);
  const Config adagrad_own = {{"initial_accumulator_value", acc0}, {"epsilon", eps}};
  for (const Config& json : {keras3_config("Adagrad", adagrad_own),
                             keras2_config("Adagrad", adagrad_own)}) {
    const auto opt = optim::deserialize(json);
    CHECK(static_cast<optim::AdagradImpl&>(opt->impl()).epsilon_inside_sqrt());
    CHECK_ALLCLOSE(one_step(*opt), inside, 1e-15, 0.0);
  }
  Config v2_own = adagrad_own;
  v2_own["learning_rate"] = lr;
  const auto v2 = optim::deserialize(v2_config("Adagrad", v2_own));
  CHECK_ALLCLOSE(one_step(*v2), outside, 1e-15, 0.0);

  // RMSprop without momentum: rms = (1-ρ)·g²; var -= lr·g/√(rms + ε) vs lr·g/(√rms + ε).
  const double rho = 0.9;
  for (int i = 0; i < 2; ++i) {
    const double rms = (1 - rho) * g[i] * g[i];
    in[i] = w0[i] - lr * g[i] / std::sqrt(rms + eps);
    out[i] = w0[i] - lr * g[i] / (std::sqrt(rms) + eps);
  }
  inside = f64(in[0], in[1]);
  outside = f64(out[0], out[1]);
  const Config rms_own = {{"rho", rho}, {"momentum", 0.0}, {"epsilon", eps}, {"centered", false}};
  const auto k3 = optim::deserialize(keras3_config("RMSprop", rms_own));
  CHECK_ALLCLOSE(one_step(*k3), inside, 1e-15, 0.0);
  Config rms_v2 = rms_own;
  rms_v2["learning_rate"] = lr;
  const auto rv2 = optim::deserialize(v2_config("RMSprop", rms_v2));
  CHECK_ALLCLOSE(one_step(*rv2), outside, 1e-15, 0.0);
  CHECK(std::abs(in[0] - out[0]) > 1e-3);  // the placement matters at this epsilon
}

TEST_CASE("Keras 2.11+/3 Nadam uses 0.96^t and accepts a schedule; V2 uses 0.96^(0.004 t)") {
  const double lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-7;
  const auto expected = [&](double d) {
    const double mu_t = b1 * (1 - 0.5 * std::pow(0.96, d * 1));
    const double mu_next = b1 * (1 - 0.5 * std::pow(0.96, d * 2));
    const double s = mu_t, s_next = mu_t * mu_next;
    const double g[] = {0.5, 3.0}, w0[] = {1.0, -2.0};
    double out[2];
    for (int i = 0; i < 2; ++i) {
      const double m = (1 - b1) * g[i], v = (1 - b2) * g[i] * g[i];
      const double g_hat = g[i] / (1 - s), m_hat = m / (1 - s_next), v_hat = v / (1 - b2);
      out[i] = w0[i] - lr * ((1 - mu_t) * g_hat + mu_next * m_hat) / (std::sqrt(v_hat) + eps);
    }
    return f64(out[0], out[1]);
  };
  const Config own = {{"beta_1", b1}, {"beta_2", b2}, {"epsilon", eps}};
  const auto k3 = optim::deserialize(keras3_config("Nadam", own));
  CHECK_ALLCLOSE(one_step(*k3), expected(1.0), 1e-12, 0.0);
  Config v2_own = own;
  v2_own["learning_rate"] = lr;
  v2_own["decay"] = 0.004;
  const auto v2 = optim::deserialize(v2_config("Nadam", v2_own));
  CHECK_ALLCLOSE(one_step(*v2), expected(0.004), 1e-12, 0.0);

  // A schedule is fine in Keras 2.11+ (and evaluated at the step), an error in V2.
  Config scheduled = own;
  scheduled["learning_rate"] = optim::schedules::serialize(
      optim::schedules::ExponentialDecay(0.1, 10, 0.5));
  const auto k2 = optim::deserialize(keras2_config("Nadam", scheduled));
  CHECK(k2->learning_rate().is_schedule());
  CHECK_ALLCLOSE(one_step(*k2), expected(1.0), 1e-12, 0.0);
  CHECK_THROWS_WITH_TEXT(optim::deserialize(v2_config("Nadam", scheduled)), ValueError,
                         "does not support");
}

TEST_CASE("clipping follows the generation: V2 clips value then norm, 2.11+/3 only one") {
  // g = [0.5, 3]: clipvalue 1 then clipnorm 1 gives [0.5, 1]/‖[0.5, 1]‖; clipnorm alone gives
  // [0.5, 3]/‖[0.5, 3]‖.
  const double n1 = std::sqrt(0.25 + 1.0), n2 = std::sqrt(0.25 + 9.0);
  const Tensor v2_expected = f64(1.0 - 0.5 / n1, -2.0 - 1.0 / n1);
  const Tensor k2_expected = f64(1.0 - 0.5 / n2, -2.0 - 3.0 / n2);
  const auto v2 = optim::deserialize(v2_config(
      "SGD", {{"clipnorm", 1.0}, {"clipvalue", 1.0}, {"learning_rate", 1.0}}));
  CHECK_ALLCLOSE(one_step(*v2), v2_expected, 1e-14, 0.0);
  Config k2_json = keras2_config("SGD", {{"learning_rate", 1.0}, {"momentum", 0.0},
                                         {"nesterov", false}});
  k2_json["config"]["clipnorm"] = 1.0;
  k2_json["config"]["clipvalue"] = 1.0;
  const auto k2 = optim::deserialize(k2_json);
  CHECK_ALLCLOSE(one_step(*k2), k2_expected, 1e-14, 0.0);
  CHECK(optim::serialize(*k2).dump() == k2_json.dump());
  // A clip of 0 is off in 2.11+/3 (V2 would clip every gradient to 0).
  Config zero = keras3_config("SGD", {{"momentum", 0.0}, {"nesterov", false}});
  zero["config"]["clipvalue"] = 0.0;
  zero["config"]["learning_rate"] = 1.0;
  const auto k3 = optim::deserialize(zero);
  CHECK_ALLCLOSE(one_step(*k3), f64(0.5, -5.0), 0.0, 0.0);
}

TEST_CASE("class names match built-ins case-insensitively; serialize writes Keras's spelling") {
  for (const char* name : {"adam", "ADAM", "Adam", "aDaM"}) {
    const auto opt = optim::deserialize({{"class_name", name}, {"config", Config::object()}});
    CHECK(opt->class_name() == "Adam");
    CHECK(optim::serialize(*opt).at("class_name") == "Adam");
  }
  const auto rms = optim::deserialize(Config::parse(R"({"class_name": "rmsprop", "config": {}})"));
  CHECK(rms->class_name() == "RMSprop");
  const Config k3 = optim::serialize(*rms, SerializationFormat::keras3);
  CHECK(k3.dump() ==
        Config{{"module", "keras.optimizers.legacy"},
               {"class_name", "RMSprop"},
               {"config", rms->get_config()},
               {"registered_name", nullptr}}
            .dump());
}

namespace {

class SignSGDImpl : public optim::OptimizerImpl {
 public:
  SignSGDImpl(optim::LearningRate lr, std::string name, const Config& kwargs)
      : OptimizerImpl("SignSGD", std::move(name), std::move(lr), kwargs) {}

 protected:
  void create_slots(const std::vector<Variable>&) override {}
  void apply_dense(const Tensor& grad, Variable& var, double lr_t) override {
    var.assign_sub(sign(grad) * lr_t);
  }
};

std::shared_ptr<optim::Optimizer> make_sign_sgd(const Config& config, const CustomObjects&) {
  const double lr = config.value("learning_rate", 0.01);
  return std::make_shared<optim::Optimizer>(
      std::make_shared<SignSGDImpl>(lr, config.value("name", std::string("SignSGD")), Config()));
}

}  // namespace

TEST_CASE("registry: register, deserialize, names, overrides, unregister") {
  const std::vector<std::string> builtins = optim::optimizer_names();
  CHECK(builtins == std::vector<std::string>{"Adadelta", "Adagrad", "Adam", "Adamax", "Ftrl",
                                             "Nadam", "RMSprop", "SGD"});
  const Config json = {{"class_name", "SignSGD"},
                       {"config", {{"name", "sign"}, {"learning_rate", 0.5}}}};
  CHECK_THROWS_WITH_TEXT(optim::deserialize(json), ValueError,
                         "Unknown optimizer: SignSGD. Please ensure this object is passed to the "
                         "`custom_objects` argument");
  optim::register_optimizer("SignSGD", make_sign_sgd);
  CHECK(optim::optimizer_names().back() == "SignSGD");
  const auto opt = optim::deserialize(json);
  CHECK(opt->class_name() == "SignSGD");
  CHECK_ALLCLOSE(one_step(*opt), f64(0.5, -2.5), 0.0, 0.0);
  // A custom class: module null, registered_name = class name, and it round-trips.
  const Config k3 = optim::serialize(*opt, SerializationFormat::keras3);
  CHECK(k3.at("module").is_null());
  CHECK(k3.at("registered_name") == "SignSGD");
  CHECK(optim::deserialize(k3)->class_name() == "SignSGD");
  CHECK_THROWS_WITH_TEXT(optim::register_optimizer("SignSGD", make_sign_sgd), ValueError,
                         "already been registered");
  CHECK_THROWS_WITH_TEXT(optim::register_optimizer("adagrad", make_sign_sgd), ValueError,
                         "built-in optimizer Adagrad");
  CHECK_THROWS_WITH_TEXT(optim::register_optimizer("", make_sign_sgd), ValueError, "empty");
  CHECK_THROWS_WITH_TEXT(optim::register_optimizer("X", optim::OptimizerFactory()), ValueError,
                         "factory for 'X' is empty");
  // custom_objects wins over the registry and over a built-in of the same name.
  const CustomObjects objects{{"Adam", make_sign_sgd}};
  CHECK(optim::deserialize({{"class_name", "Adam"}, {"config", Config::object()}}, objects)
            ->class_name() == "SignSGD");
  // registered_name is tried first (Keras 3's "package>Name").
  const Config by_registered = {{"module", "my.module"}, {"class_name", "Whatever"},
                                {"config", Config::object()}, {"registered_name", "SignSGD"}};
  CHECK(optim::deserialize(by_registered)->class_name() == "SignSGD");
  CHECK(optim::unregister_optimizer("SignSGD"));
  CHECK_FALSE(optim::unregister_optimizer("SignSGD"));
  CHECK(optim::optimizer_names() == builtins);
}

TEST_CASE("set_config_style switches the generation or throws with nothing changed") {
  optim::SGD sgd(0.1, 0.0, false, "SGD", {{"decay", 0.01}});
  const std::string before = sgd.get_config().dump();
  ConfigStyle k3;
  k3.generation = KerasGeneration::keras3;
  CHECK_THROWS_WITH_TEXT(sgd.set_config_style(k3), ValueError, "decay=0.01");
  CHECK(sgd.keras_generation() == KerasGeneration::v2);
  CHECK(sgd.get_config().dump() == before);

  optim::Adam adam(0.1, 0.9, 0.999, 1e-7, false, "Adam", {{"clipnorm", 1.0}, {"clipvalue", 1.0}});
  CHECK_THROWS_WITH_TEXT(adam.set_config_style(k3), ValueError, "Only one of `clipnorm`");
  CHECK(adam.keras_generation() == KerasGeneration::v2);

  optim::Adagrad adagrad(0.1);
  adagrad.set_config_style(k3);
  CHECK(adagrad.epsilon_inside_sqrt());
  const Config config = adagrad.get_config();
  CHECK(config.contains("loss_scale_factor"));
  CHECK_FALSE(config.contains("decay"));
  adagrad.set_config_style(ConfigStyle());
  CHECK_FALSE(adagrad.epsilon_inside_sqrt());
  CHECK(adagrad.get_config().contains("decay"));
}

TEST_CASE("legacy kwargs per generation: lr and decay in Keras 2.11+ and Keras 3") {
  Config k2_lr = keras2_config("Adam", {});
  k2_lr["config"]["lr"] = 5.0;
  {
    CaptureCerr err;
    const auto opt = optim::deserialize(k2_lr);
    CHECK(opt->learning_rate().value() == 0.1);  // Keras 2.11+ ignores lr, with a warning
    CHECK(err.text().find("`lr` is deprecated in Keras optimizer") != std::string::npos);
  }
  Config k3_decay = keras3_config("Adam", {});
  k3_decay["config"]["decay"] = 0.5;
  {
    CaptureCerr err;
    const auto opt = optim::deserialize(k3_decay);
    CHECK(opt->decay() == 0.0);
    CHECK(err.text().find("Argument `decay` is no longer supported") != std::string::npos);
  }
}

TEST_CASE("malformed configs: typed errors naming what was wrong") {
  const std::vector<std::string> names_before = optim::optimizer_names();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Config k3_sgd = keras3_config("SGD", {{"momentum", 0.0}, {"nesterov", false}});
  const Config k2_sgd = keras2_config("SGD", {{"momentum", 0.0}, {"nesterov", false}});
  const auto k3_with = [&](const char* key, Config value) {
    Config c = k3_sgd;
    c["config"][key] = std::move(value);
    return c;
  };
  const auto k2_with = [&](const char* key, Config value) {
    Config c = k2_sgd;
    c["config"][key] = std::move(value);
    return c;
  };
  const auto parse = [](const std::string& text) { return Config::parse(text, nullptr, false); };
  const Config schedule_dict = optim::schedules::serialize(
      optim::schedules::ExponentialDecay(0.1, 10, 0.5));
  Config bad_schedule_key = schedule_dict;
  bad_schedule_key["config"]["bogus"] = 1;

  enum Kind { value, type };
  const struct Case {
    const char* what;
    Config json;
    Kind kind;
    const char* fragment;
  } cases[] = {
      {"truncated JSON", parse(R"({"class_name": "Adam", "config": {"name": "Ad)"), value,
       "Improper config format"},
      {"truncated after a key", parse(R"({"class_name": "Adam", "config": {"learning_rate")"),
       value, "Improper config format"},
      {"a list", parse("[1, 2]"), value, "Improper config format for [1, 2]"},
      {"a string", Config("Adam"), value, "Expecting python dict contains `class_name`"},
      {"no config", parse(R"({"class_name": "Adam"})"), value, "Improper config format"},
      {"no class_name", parse(R"({"config": {}})"), value, "Improper config format"},
      {"extra envelope key", parse(R"({"class_name": "Adam", "config": {}, "cfg": 1})"), value,
       "unexpected key 'cfg'"},
      {"class_name number", parse(R"({"class_name": 3, "config": {}})"), type,
       "`class_name` must be a string"},
      {"config list", parse(R"({"class_name": "Adam", "config": []})"), type,
       "`config` must be a JSON object"},
      {"module number", parse(R"({"module": 5, "class_name": "Adam", "config": {}})"), type,
       "`module` must be a string or null"},
      {"registered_name list",
       parse(R"({"class_name": "Adam", "config": {}, "registered_name": []})"), type,
       "`registered_name` must be a string or null"},
      {"unknown class", v2_config("AdamW2", Config::object()), value,
       "Unknown optimizer: AdamW2. Please ensure this object is passed to the `custom_objects` "
       "argument or registered with register_optimizer(). Known optimizers: Adadelta, Adagrad"},
      {"unknown key", v2_config("Adam", {{"momentum", 0.9}}), type,
       "Unexpected keyword argument passed to optimizer: momentum"},
      {"string learning_rate", v2_config("Adam", {{"learning_rate", "fast"}}), type,
       "`learning_rate` must be a number or a serialized LearningRateSchedule"},
      {"string beta_1", v2_config("Adam", {{"beta_1", "0.9"}}), type,
       "Adam.from_config: `beta_1` must be a number"},
      {"integer amsgrad", v2_config("Adam", {{"amsgrad", 1}}), type,
       "`amsgrad` must be a boolean"},
      {"name number", v2_config("SGD", {{"name", 3}}), type, "`name` must be a string"},
      {"bad name", v2_config("SGD", {{"name", "bad name!"}}), value,
       "'bad name!' is not a valid scope name"},
      {"negative learning_rate", v2_config("SGD", {{"learning_rate", -0.1}}), value,
       "SGD.from_config: `learning_rate` must be a finite number >= 0, received: -0.1"},
      {"NaN learning_rate", v2_config("SGD", {{"learning_rate", nan}}), value,
       "`learning_rate` must be a finite number >= 0, received: nan"},
      {"NaN epsilon", v2_config("Adamax", {{"epsilon", nan}}), value,
       "`epsilon` must be a finite number, received: nan"},
      {"negative epsilon", v2_config("Adadelta", {{"epsilon", -1e-7}}), value,
       "Adadelta.from_config: `epsilon` must be in [0, inf], received: -1e-07"},
      {"rho above 1", v2_config("RMSprop", {{"rho", 1.5}}), value,
       "`rho` must be in [0, 1], received: 1.5"},
      {"negative beta_2", v2_config("Nadam", {{"beta_2", -0.1}}), value,
       "`beta_2` must be in [0, 1]"},
      {"negative initial_accumulator_value",
       v2_config("Adagrad", {{"initial_accumulator_value", -0.1}}), value,
       "initial_accumulator_value must be non-negative: -0.1"},
      {"momentum above 1", v2_config("SGD", {{"momentum", 2.0}}), value,
       "`momentum` must be between [0, 1]. Received: momentum=2.0"},
      {"negative clipnorm", v2_config("SGD", {{"clipnorm", -1.0}}), value,
       "Expected clipnorm >= 0, received: -1.0"},
      {"negative decay", v2_config("SGD", {{"decay", -0.5}}), value, "Expected decay >= 0"},
      {"clipnorm with global_clipnorm", v2_config("SGD", {{"clipnorm", 1.0},
                                                          {"global_clipnorm", 1.0}}),
       value, "Cannot accept both `clipnorm` and `global_clipnorm`"},
      {"Keras 3: two clips", [&] {
         Config c = k3_with("clipnorm", 1.0);
         c["config"]["clipvalue"] = 0.5;
         return c;
       }(),
       value, "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set"},
      {"use_ema true", k3_with("use_ema", true), value,
       "`use_ema`=true is not supported: tapeflow keeps no exponential moving average"},
      {"use_ema string", k2_with("use_ema", "no"), type, "`use_ema` must be a boolean"},
      {"weight_decay set", k3_with("weight_decay", 0.004), value,
       "`weight_decay`=0.004 is not supported"},
      {"weight_decay string", k2_with("weight_decay", "x"), type,
       "`weight_decay` must be a number or null"},
      {"loss_scale_factor set", k3_with("loss_scale_factor", 128.0), value,
       "`loss_scale_factor`=128.0 is not supported"},
      {"gradient accumulation", k3_with("gradient_accumulation_steps", 4), value,
       "`gradient_accumulation_steps`=4 is not supported"},
      {"gradient accumulation of 1", k3_with("gradient_accumulation_steps", 1), value,
       "`gradient_accumulation_steps` must be an integer >= 2"},
      {"ema_momentum out of range", k2_with("ema_momentum", 1.5), value,
       "`ema_momentum` must be in the range [0, 1]. Received: ema_momentum=1.5"},
      {"ema_overwrite_frequency 0", k3_with("ema_overwrite_frequency", 0), value,
       "`ema_overwrite_frequency` must be an integer > 1 or None"},
      {"jit_compile string", k2_with("jit_compile", "yes"), type,
       "`jit_compile` must be a boolean"},
      {"is_legacy_optimizer number", v2_config("SGD", {{"is_legacy_optimizer", 1}}), type,
       "`is_legacy_optimizer` must be a boolean"},
      {"legacy flag with new keys",
       v2_config("SGD", {{"is_legacy_optimizer", true}, {"use_ema", false}}), value,
       "has keys of the new Keras optimizers: use_ema"},
      {"two generations", k2_with("loss_scale_factor", nullptr), value,
       "mixes keys of Keras 2.11+ (jit_compile, is_legacy_optimizer) and of Keras 3 "
       "(loss_scale_factor)"},
      {"Keras 3 lr", k3_with("lr", 0.5), value, "Argument(s) not recognized: {'lr': 0.5}"},
      {"Keras 2.11+ decay", k2_with("decay", 0.01), value,
       "decay is deprecated in the new Keras optimizer"},
      {"Keras 3 integer learning_rate", k3_with("learning_rate", 1), value,
       "Argument `learning_rate` should be float"},
      {"Keras 3 epsilon 0", keras3_config("Adam", {{"epsilon", 0.0}}), value,
       "`epsilon`=0 is not supported in a keras3 config"},
      {"Keras 2 jit_compile in Keras 3 key set", k3_with("jit_compile", false), value,
       "mixes keys"},
      {"schedule without config",
       v2_config("SGD", {{"learning_rate", {{"class_name", "ExponentialDecay"}}}}), value,
       "Improper config format for {'class_name': 'ExponentialDecay'}"},
      {"unknown schedule",
       v2_config("SGD", {{"learning_rate", {{"class_name", "WarmUp"}, {"config", Config::object()}}}}),
       value, "Unknown decay: WarmUp"},
      {"schedule with unknown key", v2_config("SGD", {{"learning_rate", bad_schedule_key}}), type,
       "bogus"},
      {"schedule in V2 Nadam", v2_config("Nadam", {{"learning_rate", schedule_dict}}), value,
       "The Nadam optimizer does not support tf.keras.optimizers.LearningRateSchedules"},
      {"schedule dict as a list", v2_config("SGD", {{"learning_rate", Config::array()}}), type,
       "`learning_rate` must be a number or a serialized LearningRateSchedule"},
  };
  static_assert(sizeof(cases) / sizeof(cases[0]) >= 50, "the issue asks for many malformed cases");
  for (const Case& c : cases) {
    CAPTURE(c.what);
    CAPTURE(c.json.dump());
    CaptureCerr quiet;
    if (c.kind == value) {
      CHECK_THROWS_WITH_TEXT(optim::deserialize(c.json), ValueError, c.fragment);
    } else {
      CHECK_THROWS_WITH_TEXT(optim::deserialize(c.json), TypeError, c.fragment);
    }
  }
  // Custom-object mistakes.
  const CustomObjects schedule_not_optimizer{
      {"Mine", [](const Config&) { return std::make_shared<CustomLRSchedule>(0.1); }}};
  CHECK_THROWS_WITH_TEXT(optim::deserialize(v2_config("Mine", Config::object()),
                                            schedule_not_optimizer),
                         ValueError, "custom_objects['Mine'] is a schedule factory");
  const CustomObjects null_factory{{"Mine", [](const Config&, const CustomObjects&) {
                                      return std::shared_ptr<optim::Optimizer>();
                                    }}};
  CHECK_THROWS_WITH_TEXT(optim::deserialize(v2_config("Mine", Config::object()), null_factory),
                         ValueError, "the factory for 'Mine' returned no optimizer");
  CHECK(optim::optimizer_names() == names_before);
}
