#include "tapeflow/optim/schedules.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <string_view>
#include <typeinfo>
#include <utility>

#include "tapeflow/core/check.hpp"
#include "tapeflow/optim/envelope.hpp"

namespace tapeflow::optim::schedules {
namespace {

using tapeflow::detail::throw_type_error;
using tapeflow::detail::throw_value_error;

constexpr double kPi = 3.14159265358979323846;

using optim::detail::py_repr;

// Step counts are integers in Keras's own usage (`decay_steps=1000`), so a whole double is
// written as a JSON integer; anything else stays a float.
Config steps_json(double d) {
  if (std::isfinite(d) && d == std::floor(d) && std::abs(d) <= 9007199254740992.0) {
    return Config(static_cast<std::int64_t>(d));
  }
  return Config(d);
}

Config name_json(const std::string& name) { return name.empty() ? Config(nullptr) : Config(name); }

// ---- from_config: key, type and arity checks with Python's wording ----

enum class Kind { number, boolean, name, optional_number, number_list };

struct Arg {
  const char* key;
  Kind kind;
  bool required;
  Config default_value;
};

const char* kind_text(Kind kind) {
  switch (kind) {
    case Kind::number: return "a number";
    case Kind::boolean: return "a boolean";
    case Kind::name: return "a string or null";
    case Kind::optional_number: return "a number or null";
    case Kind::number_list: return "a list of numbers";
  }
  return "";
}

bool has_kind(const Config& v, Kind kind) {
  switch (kind) {
    case Kind::number: return v.is_number();
    case Kind::boolean: return v.is_boolean();
    case Kind::name: return v.is_string() || v.is_null();
    case Kind::optional_number: return v.is_number() || v.is_null();
    case Kind::number_list: return v.is_array();  // elements are checked one by one
  }
  return false;
}

// Returns `config` with every argument present, in `args` order (defaults filled in), or throws
// TypeError: unexpected keyword first, then missing arguments, then wrong types (Python's order).
Config normalize(std::string_view cls, const std::vector<Arg>& args, const Config& config) {
  if (!config.is_object()) {
    throw_type_error("{}.from_config: the config must be a JSON object, received {} ({})", cls,
                     py_repr(config), config.type_name());
  }
  for (const auto& item : config.items()) {
    const bool known = std::any_of(args.begin(), args.end(),
                                   [&](const Arg& a) { return item.key() == a.key; });
    if (!known) {
      throw_type_error("{}.from_config: got an unexpected keyword argument '{}'", cls, item.key());
    }
  }
  std::vector<std::string> missing;
  for (const Arg& a : args) {
    if (a.required && !config.contains(a.key)) missing.push_back(fmt::format("'{}'", a.key));
  }
  if (!missing.empty()) {
    std::string list = missing[0];
    if (missing.size() == 2) list += " and " + missing[1];
    if (missing.size() > 2) {
      for (std::size_t i = 1; i + 1 < missing.size(); ++i) list += ", " + missing[i];
      list += ", and " + missing.back();
    }
    throw_type_error("{}.from_config: missing {} required positional argument{}: {}", cls,
                     missing.size(), missing.size() == 1 ? "" : "s", list);
  }
  Config out = Config::object();
  for (const Arg& a : args) {
    const auto it = config.find(a.key);
    if (it == config.end()) {
      out[a.key] = a.default_value;
      continue;
    }
    if (!has_kind(*it, a.kind)) {
      throw_type_error("{}.from_config: `{}` must be {}, received {} ({})", cls, a.key,
                       kind_text(a.kind), py_repr(*it), it->type_name());
    }
    if (a.kind == Kind::number_list) {
      for (std::size_t i = 0; i < it->size(); ++i) {
        const Config& e = (*it)[i];
        if (!e.is_number()) {
          throw_type_error("{}.from_config: `{}[{}]` must be a number, received {} ({})", cls,
                           a.key, i, py_repr(e), e.type_name());
        }
      }
    }
    out[a.key] = *it;
  }
  return out;
}

// ---- construction-time validation, shared by the C++ constructors and from_config ----

double number(std::string_view cls, const Config& config, const char* key) {
  const Config& v = config.at(key);
  const double d = v.get<double>();
  if (!std::isfinite(d)) {
    throw_value_error("{}: Argument `{}` must be a finite number. Received: {}={}", cls, key, key,
                      py_repr(v));
  }
  return d;
}

double positive_steps(std::string_view cls, const Config& config, const char* key) {
  const double d = number(cls, config, key);
  if (!(d > 0)) {  // Keras 3's check and wording; TF2 divides by zero instead
    throw_value_error("{}: Argument `{}` must be > 0. Received: {}={}", cls, key, key,
                      py_repr(config.at(key)));
  }
  return d;
}

std::string name_of(const Config& config) {
  const Config& v = config.at("name");
  return v.is_null() ? std::string() : v.get<std::string>();
}

// ---- the registry (process-wide, in the shared library) ----

using Registry = optim::detail::Registry<ScheduleFactory>;

Registry& registry() {
  static Registry instance;
  return instance;
}

template <class T>
std::shared_ptr<LearningRateSchedule> make_builtin(const Config& config) {
  return std::make_shared<T>(T::from_config(config));
}

struct Builtin {
  const char* name;
  std::shared_ptr<LearningRateSchedule> (*make)(const Config&);
  const std::type_info& type;
};

// Sorted by name.
const Builtin kBuiltins[] = {
    {"CosineDecay", &make_builtin<CosineDecay>, typeid(CosineDecay)},
    {"CosineDecayRestarts", &make_builtin<CosineDecayRestarts>, typeid(CosineDecayRestarts)},
    {"ExponentialDecay", &make_builtin<ExponentialDecay>, typeid(ExponentialDecay)},
    {"InverseTimeDecay", &make_builtin<InverseTimeDecay>, typeid(InverseTimeDecay)},
    {"PiecewiseConstantDecay", &make_builtin<PiecewiseConstantDecay>,
     typeid(PiecewiseConstantDecay)},
    {"PolynomialDecay", &make_builtin<PolynomialDecay>, typeid(PolynomialDecay)},
};

const Builtin* find_builtin(std::string_view name) {
  for (const Builtin& b : kBuiltins) {
    if (name == b.name) return &b;
  }
  return nullptr;
}

}  // namespace

// ---- ExponentialDecay ----

ExponentialDecay::ExponentialDecay(double initial_learning_rate, double decay_steps,
                                   double decay_rate, bool staircase, std::string name)
    : ExponentialDecay(Config{{"initial_learning_rate", initial_learning_rate},
                              {"decay_steps", steps_json(decay_steps)},
                              {"decay_rate", decay_rate},
                              {"staircase", staircase},
                              {"name", name_json(name)}}) {}

ExponentialDecay::ExponentialDecay(Config config)
    : config_(std::move(config)),
      initial_learning_rate_(number("ExponentialDecay", config_, "initial_learning_rate")),
      decay_steps_(positive_steps("ExponentialDecay", config_, "decay_steps")),
      decay_rate_(number("ExponentialDecay", config_, "decay_rate")),
      staircase_(config_.at("staircase").get<bool>()),
      name_(name_of(config_)) {}

double ExponentialDecay::operator()(double step) const {
  double p = step / decay_steps_;
  if (staircase_) p = std::floor(p);
  return initial_learning_rate_ * std::pow(decay_rate_, p);
}

Config ExponentialDecay::get_config() const { return config_; }

ExponentialDecay ExponentialDecay::from_config(const Config& config) {
  return ExponentialDecay(normalize("ExponentialDecay",
                                    {{"initial_learning_rate", Kind::number, true, {}},
                                     {"decay_steps", Kind::number, true, {}},
                                     {"decay_rate", Kind::number, true, {}},
                                     {"staircase", Kind::boolean, false, false},
                                     {"name", Kind::name, false, nullptr}},
                                    config));
}

// ---- PiecewiseConstantDecay ----

namespace {

Config boundaries_json(const std::vector<double>& boundaries) {
  // Boundaries are step counts: all-whole lists are written as integers, as Keras users write them.
  const bool whole = std::all_of(boundaries.begin(), boundaries.end(), [](double b) {
    return steps_json(b).is_number_integer();
  });
  Config out = Config::array();
  for (double b : boundaries) out.push_back(whole ? steps_json(b) : Config(b));
  return out;
}

std::vector<double> number_list(std::string_view cls, const Config& config, const char* key) {
  std::vector<double> out;
  const Config& list = config.at(key);
  out.reserve(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) {
    const double d = list[i].get<double>();
    if (!std::isfinite(d)) {
      throw_value_error("{}: every entry of `{}` must be a finite number. Received: {}={}", cls,
                        key, key, py_repr(list));
    }
    out.push_back(d);
  }
  return out;
}

}  // namespace

PiecewiseConstantDecay::PiecewiseConstantDecay(std::vector<double> boundaries,
                                               std::vector<double> values, std::string name)
    : PiecewiseConstantDecay(Config{{"boundaries", boundaries_json(boundaries)},
                                    {"values", Config(values)},
                                    {"name", name_json(name)}}) {}

PiecewiseConstantDecay::PiecewiseConstantDecay(Config config) : config_(std::move(config)) {
  const Config& b = config_.at("boundaries");
  const Config& v = config_.at("values");
  if (b.size() + 1 != v.size()) {
    throw_value_error(
        "PiecewiseConstantDecay: The length of boundaries should be 1 less than the length of "
        "values. Received: boundaries={} of length {}, and values={} of length {}.",
        py_repr(b), b.size(), py_repr(v), v.size());
  }
  boundaries_ = number_list("PiecewiseConstantDecay", config_, "boundaries");
  values_ = number_list("PiecewiseConstantDecay", config_, "values");
  // TF2's exclusive tf.case fails at call time on overlapping intervals; fail at construction.
  if (!std::is_sorted(boundaries_.begin(), boundaries_.end())) {
    throw_value_error(
        "PiecewiseConstantDecay: boundaries must be in increasing order. Received: boundaries={}",
        py_repr(b));
  }
  name_ = name_of(config_);
}

double PiecewiseConstantDecay::operator()(double step) const {
  // The first boundary >= step closes step's interval (a boundary belongs to the lower one).
  // A NaN step compares false everywhere and gets values[0], tf.case's default.
  const auto it = std::lower_bound(boundaries_.begin(), boundaries_.end(), step);
  return values_[static_cast<std::size_t>(it - boundaries_.begin())];
}

Config PiecewiseConstantDecay::get_config() const { return config_; }

PiecewiseConstantDecay PiecewiseConstantDecay::from_config(const Config& config) {
  return PiecewiseConstantDecay(normalize("PiecewiseConstantDecay",
                                          {{"boundaries", Kind::number_list, true, {}},
                                           {"values", Kind::number_list, true, {}},
                                           {"name", Kind::name, false, nullptr}},
                                          config));
}

// ---- PolynomialDecay ----

PolynomialDecay::PolynomialDecay(double initial_learning_rate, double decay_steps,
                                 double end_learning_rate, double power, bool cycle,
                                 std::string name)
    : PolynomialDecay(Config{{"initial_learning_rate", initial_learning_rate},
                             {"decay_steps", steps_json(decay_steps)},
                             {"end_learning_rate", end_learning_rate},
                             {"power", power},
                             {"cycle", cycle},
                             {"name", name_json(name)}}) {}

PolynomialDecay::PolynomialDecay(Config config)
    : config_(std::move(config)),
      initial_learning_rate_(number("PolynomialDecay", config_, "initial_learning_rate")),
      decay_steps_(positive_steps("PolynomialDecay", config_, "decay_steps")),
      end_learning_rate_(number("PolynomialDecay", config_, "end_learning_rate")),
      power_(number("PolynomialDecay", config_, "power")),
      cycle_(config_.at("cycle").get<bool>()),
      name_(name_of(config_)) {}

double PolynomialDecay::operator()(double step) const {
  double s = step, d = decay_steps_;
  if (cycle_) {
    // Keras forces the multiplier to 1 at step 0, so the cycle starts at the initial rate.
    d *= step == 0 ? 1.0 : std::ceil(step / decay_steps_);
  } else {
    s = std::min(step, decay_steps_);
  }
  return (initial_learning_rate_ - end_learning_rate_) * std::pow(1.0 - s / d, power_) +
         end_learning_rate_;
}

Config PolynomialDecay::get_config() const { return config_; }

PolynomialDecay PolynomialDecay::from_config(const Config& config) {
  return PolynomialDecay(normalize("PolynomialDecay",
                                   {{"initial_learning_rate", Kind::number, true, {}},
                                    {"decay_steps", Kind::number, true, {}},
                                    {"end_learning_rate", Kind::number, false, 0.0001},
                                    {"power", Kind::number, false, 1.0},
                                    {"cycle", Kind::boolean, false, false},
                                    {"name", Kind::name, false, nullptr}},
                                   config));
}

// ---- InverseTimeDecay ----

InverseTimeDecay::InverseTimeDecay(double initial_learning_rate, double decay_steps,
                                   double decay_rate, bool staircase, std::string name)
    : InverseTimeDecay(Config{{"initial_learning_rate", initial_learning_rate},
                              {"decay_steps", steps_json(decay_steps)},
                              {"decay_rate", decay_rate},
                              {"staircase", staircase},
                              {"name", name_json(name)}}) {}

InverseTimeDecay::InverseTimeDecay(Config config)
    : config_(std::move(config)),
      initial_learning_rate_(number("InverseTimeDecay", config_, "initial_learning_rate")),
      decay_steps_(positive_steps("InverseTimeDecay", config_, "decay_steps")),
      decay_rate_(number("InverseTimeDecay", config_, "decay_rate")),
      staircase_(config_.at("staircase").get<bool>()),
      name_(name_of(config_)) {}

double InverseTimeDecay::operator()(double step) const {
  double p = step / decay_steps_;
  if (staircase_) p = std::floor(p);
  return initial_learning_rate_ / (1.0 + decay_rate_ * p);
}

Config InverseTimeDecay::get_config() const { return config_; }

InverseTimeDecay InverseTimeDecay::from_config(const Config& config) {
  return InverseTimeDecay(normalize("InverseTimeDecay",
                                    {{"initial_learning_rate", Kind::number, true, {}},
                                     {"decay_steps", Kind::number, true, {}},
                                     {"decay_rate", Kind::number, true, {}},
                                     {"staircase", Kind::boolean, false, false},
                                     {"name", Kind::name, false, nullptr}},
                                    config));
}

// ---- CosineDecay ----

CosineDecay::CosineDecay(double initial_learning_rate, double decay_steps, double alpha,
                         std::string name, std::optional<double> warmup_target,
                         double warmup_steps)
    : CosineDecay(Config{{"initial_learning_rate", initial_learning_rate},
                         {"decay_steps", steps_json(decay_steps)},
                         {"alpha", alpha},
                         {"name", name_json(name)},
                         {"warmup_target", warmup_target ? Config(*warmup_target) : Config()},
                         {"warmup_steps", steps_json(warmup_steps)}}) {}

CosineDecay::CosineDecay(Config config)
    : config_(std::move(config)),
      initial_learning_rate_(number("CosineDecay", config_, "initial_learning_rate")),
      decay_steps_(positive_steps("CosineDecay", config_, "decay_steps")),
      alpha_(number("CosineDecay", config_, "alpha")),
      name_(name_of(config_)),
      warmup_steps_(0.0) {
  // A Keras <= 2.12 config has neither warmup key; from_config keeps it that way.
  if (const auto it = config_.find("warmup_target"); it != config_.end() && !it->is_null()) {
    warmup_target_ = number("CosineDecay", config_, "warmup_target");
  }
  if (config_.contains("warmup_steps")) {
    warmup_steps_ = number("CosineDecay", config_, "warmup_steps");
    if (warmup_steps_ < 0) {
      throw_value_error("CosineDecay: Argument `warmup_steps` must be >= 0. Received: "
                        "warmup_steps={}",
                        py_repr(config_.at("warmup_steps")));
    }
  }
}

double CosineDecay::operator()(double step) const {
  auto decay = [this](double s, double from) {
    const double c = 0.5 * (1.0 + std::cos(kPi * s / decay_steps_));
    return from * ((1.0 - alpha_) * c + alpha_);
  };
  if (!warmup_target_) return decay(std::min(step, decay_steps_), initial_learning_rate_);
  const double s = std::min(step, decay_steps_ + warmup_steps_);
  if (s < warmup_steps_) {
    // Linear from initial_learning_rate (at step 0) to warmup_target (at warmup_steps).
    return (*warmup_target_ - initial_learning_rate_) * (s / warmup_steps_) +
           initial_learning_rate_;
  }
  return decay(s - warmup_steps_, *warmup_target_);
}

Config CosineDecay::get_config() const { return config_; }

CosineDecay CosineDecay::from_config(const Config& config) {
  Config normalized = normalize("CosineDecay",
                                {{"initial_learning_rate", Kind::number, true, {}},
                                 {"decay_steps", Kind::number, true, {}},
                                 {"alpha", Kind::number, false, 0.0},
                                 {"name", Kind::name, false, nullptr},
                                 {"warmup_target", Kind::optional_number, false, nullptr},
                                 {"warmup_steps", Kind::number, false, 0}},
                                config);
  if (!config.contains("warmup_target") && !config.contains("warmup_steps")) {
    normalized.erase("warmup_target");
    normalized.erase("warmup_steps");
  }
  return CosineDecay(std::move(normalized));
}

// ---- CosineDecayRestarts ----

CosineDecayRestarts::CosineDecayRestarts(double initial_learning_rate, double first_decay_steps,
                                         double t_mul, double m_mul, double alpha,
                                         std::string name)
    : CosineDecayRestarts(Config{{"initial_learning_rate", initial_learning_rate},
                                 {"first_decay_steps", steps_json(first_decay_steps)},
                                 {"t_mul", t_mul},
                                 {"m_mul", m_mul},
                                 {"alpha", alpha},
                                 {"name", name_json(name)}}) {}

CosineDecayRestarts::CosineDecayRestarts(Config config)
    : config_(std::move(config)),
      initial_learning_rate_(number("CosineDecayRestarts", config_, "initial_learning_rate")),
      first_decay_steps_(positive_steps("CosineDecayRestarts", config_, "first_decay_steps")),
      t_mul_(number("CosineDecayRestarts", config_, "t_mul")),
      m_mul_(number("CosineDecayRestarts", config_, "m_mul")),
      alpha_(number("CosineDecayRestarts", config_, "alpha")),
      name_(name_of(config_)) {
  // ln(t_mul) is undefined for t_mul <= 0: every step would give NaN.
  if (!(t_mul_ > 0)) {
    throw_value_error("CosineDecayRestarts: Argument `t_mul` must be > 0. Received: t_mul={}",
                      py_repr(config_.at("t_mul")));
  }
}

double CosineDecayRestarts::operator()(double step) const {
  double f = step / first_decay_steps_;
  double i;
  if (t_mul_ == 1.0) {
    i = std::floor(f);
    f -= i;
  } else {
    // Start of period k, in units of first_decay_steps: (1 - t^k) / (1 - t), increasing in k.
    const double t = t_mul_;
    auto start = [t](double k) { return (1.0 - std::pow(t, k)) / (1.0 - t); };
    i = std::floor(std::log(1.0 - f * (1.0 - t)) / std::log(t));
    // The log can land an ulp on the wrong side of a restart; step i to the period holding f.
    if (std::isfinite(i)) {
      if (f < start(i)) {
        i -= 1;
      } else if (f >= start(i + 1)) {
        i += 1;
      }
    }
    f = (f - start(i)) / std::pow(t, i);  // NaN past the horizon when t_mul < 1, as Keras
  }
  const double cosine = 0.5 * std::pow(m_mul_, i) * (1.0 + std::cos(kPi * f));
  return initial_learning_rate_ * ((1.0 - alpha_) * cosine + alpha_);
}

Config CosineDecayRestarts::get_config() const { return config_; }

CosineDecayRestarts CosineDecayRestarts::from_config(const Config& config) {
  return CosineDecayRestarts(normalize("CosineDecayRestarts",
                                       {{"initial_learning_rate", Kind::number, true, {}},
                                        {"first_decay_steps", Kind::number, true, {}},
                                        {"t_mul", Kind::number, false, 2.0},
                                        {"m_mul", Kind::number, false, 1.0},
                                        {"alpha", Kind::number, false, 0.0},
                                        {"name", Kind::name, false, nullptr}},
                                       config));
}

// ---- serialize / deserialize / registry ----

Config serialize(const LearningRateSchedule& schedule, SerializationFormat format) {
  const std::string class_name = schedule.class_name();
  if (class_name.empty()) {
    throw_value_error("serialize: the schedule's class_name() is empty (received type {})",
                      typeid(schedule).name());
  }
  Config config = schedule.get_config();
  if (!config.is_object()) {
    throw_value_error("serialize: {}.get_config() must return a JSON object, received {}",
                      class_name, py_repr(config));
  }
  if (format == SerializationFormat::tf2) {
    return Config{{"class_name", class_name}, {"config", std::move(config)}};
  }
  const Builtin* builtin = find_builtin(class_name);
  const bool is_builtin = builtin != nullptr && typeid(schedule) == builtin->type;
  return Config{{"module", is_builtin ? Config("keras.optimizers.schedules") : Config()},
                {"class_name", class_name},
                {"config", std::move(config)},
                {"registered_name", is_builtin ? Config() : Config(class_name)}};
}

std::shared_ptr<LearningRateSchedule> deserialize(const Config& config,
                                                  const CustomObjects& custom_objects) {
  const optim::detail::Envelope envelope = optim::detail::read_envelope(config, "schedule");
  const Config& inner = *envelope.config;
  const std::string& cls = envelope.class_name;
  auto build = [&](const std::string& name, const ScheduleFactory& factory) {
    std::shared_ptr<LearningRateSchedule> out = factory(inner);
    if (!out) throw_value_error("deserialize: the factory for '{}' returned no schedule", name);
    return out;
  };
  std::string found;
  if (const ScheduleFactory* factory = optim::detail::find_custom(
          envelope, custom_objects, &CustomObject::schedule, "schedule", "optimizer", found)) {
    return build(found, *factory);
  }
  // Called outside the registry's lock: a factory may itself deserialize a nested schedule.
  if (const ScheduleFactory factory = registry().find(envelope.names, found)) {
    return build(found, factory);
  }
  if (const Builtin* builtin = find_builtin(cls)) return builtin->make(inner);

  std::vector<std::string> known = schedule_names();
  for (const auto& [name, object] : custom_objects) {
    if (object.schedule() != nullptr) known.push_back(name);
  }
  throw_value_error(
      "Unknown decay: {}. Please ensure this object is passed to the `custom_objects` argument "
      "or registered with register_schedule(). Known schedules: {}",
      cls, fmt::join(known, ", "));
}

void register_schedule(const std::string& class_name, ScheduleFactory factory) {
  if (find_builtin(class_name) != nullptr) {
    throw_value_error(
        "register_schedule: '{}' is a built-in schedule; register the custom class under "
        "another name, or pass it in `custom_objects` to override the built-in",
        class_name);
  }
  registry().add(class_name, std::move(factory), "register_schedule");
}

bool unregister_schedule(const std::string& class_name) {
  return registry().remove(class_name);
}

std::vector<std::string> schedule_names() {
  std::vector<std::string> names;
  for (const Builtin& b : kBuiltins) names.emplace_back(b.name);
  registry().append_names(names);
  return names;
}

}  // namespace tapeflow::optim::schedules
