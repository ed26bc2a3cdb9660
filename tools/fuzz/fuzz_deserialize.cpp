// libFuzzer target for optim::deserialize (Keras optimizer JSON of any generation).
//
// The input is parsed as JSON with exceptions off (text that is not JSON becomes a discarded
// value, which deserialize must reject like any other non-object) and handed to deserialize,
// with a custom schedule and a custom optimizer in custom_objects so that those paths run too.
// deserialize may only answer with an optimizer or with tapeflow's ValueError / TypeError: any
// other exception, a crash or a sanitizer report is a finding. An optimizer it returns must
// serialize in both outer forms, and each must deserialize again to the same config.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include <tapeflow/core/error.hpp>
#include <tapeflow/optim/optim.hpp>

namespace {

namespace optim = tapeflow::optim;
using tapeflow::Config;

void check(bool condition) {
  if (!condition) std::abort();
}

/// A constant schedule, registered in custom_objects as "CustomLRSchedule".
class ConstantSchedule : public optim::schedules::LearningRateSchedule {
 public:
  explicit ConstantSchedule(double value) : value_(value) {}
  double operator()(double /*step*/) const override { return value_; }
  Config get_config() const override { return {{"initial_learning_rate", value_}}; }
  std::string class_name() const override { return "CustomLRSchedule"; }

 private:
  double value_;
};

const optim::CustomObjects& custom_objects() {
  static const optim::CustomObjects objects{
      {"CustomLRSchedule",
       [](const Config& c) {
         const auto it = c.find("initial_learning_rate");
         if (it == c.end() || !it->is_number()) {
           throw tapeflow::TypeError(
               "CustomLRSchedule: `initial_learning_rate` must be a number");
         }
         return std::make_shared<ConstantSchedule>(it->get<double>());
       }},
      {"CustomSGD", [](const Config& c, const optim::CustomObjects& objects) {
         return std::make_shared<optim::Optimizer>(optim::SGD::from_config(c, objects));
       }}};
  return objects;
}

}  // namespace

// The library sources this target fuzzes are compiled into it (instrumented for coverage) and
// are also in libtapeflow.so, which it links for the rest of the library. The executable's
// definitions win at load time, so the duplicates are harmless, but ASan reports each global
// defined twice (type_info names) as an ODR violation: turn that one check off here. Options in
// ASAN_OPTIONS still apply on top of these.
extern "C" const char* __asan_default_options() { return "detect_odr_violation=0"; }

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Keras's warnings (`lr`, `decay`) go to std::cerr: keep them out of the fuzzer's output.
  static std::ostringstream sink;
  static std::streambuf* const quiet = [] { return std::cerr.rdbuf(sink.rdbuf()); }();
  (void)quiet;
  sink.str(std::string());

  const std::string text(reinterpret_cast<const char*>(data), size);
  const Config json = Config::parse(text, nullptr, /*allow_exceptions=*/false);
  std::shared_ptr<optim::Optimizer> opt;
  try {
    opt = optim::deserialize(json, custom_objects());
  } catch (const tapeflow::ValueError&) {
    return 0;
  } catch (const tapeflow::TypeError&) {
    return 0;
  }
  check(opt != nullptr);
  const Config config = opt->get_config();
  check(config.is_object());
  for (const auto format : {optim::SerializationFormat::tf2, optim::SerializationFormat::keras3}) {
    const Config written = optim::serialize(*opt, format);
    const std::shared_ptr<optim::Optimizer> again = optim::deserialize(written, custom_objects());
    check(again != nullptr);
    check(again->get_config() == config);
    check(again->keras_generation() == opt->keras_generation());
  }
  return 0;
}
