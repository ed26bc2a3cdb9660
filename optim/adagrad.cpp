#include "tapeflow/optim/adagrad.hpp"

#include <cmath>

#include "tapeflow/optim/config_reader.hpp"
#include "tapeflow/optim/rule.hpp"

namespace tapeflow::optim {
namespace {

struct AdagradRule : detail::RuleDefaults {
  static constexpr std::size_t kSlots = 1;
  static constexpr int kVariants = 2;  // ε outside or inside the square root
  template <class T>
  struct Step {
    int variant;
    T lr, eps;
  };
  template <class T>
  static Step<T> step(const detail::StepContext& s) {
    return {s.optimizer.epsilon_inside_sqrt() ? 1 : 0,
            static_cast<T>(s.lr_t),
            static_cast<T>(s.optimizer.option(1))};
  }
  template <int kV, class T>
  TAPEFLOW_RULE void update(const Step<T>& c, T g, T& var, T& acc) {
    const T a = acc + g * g;
    acc = a;
    var = var - g * c.lr / (kV == 1 ? std::sqrt(a + c.eps) : std::sqrt(a) + c.eps);
  }
};

constexpr OptionSpec kOptions[] = {
    {"initial_accumulator_value",
     0.1,
     0,
     kNoLimit,
     "{0} must be non-negative: {1}",
     false,
     false,
     true},
    {"epsilon", 1e-7, 0, kNoLimit, nullptr, false, true},
};
constexpr SlotSpec kSlots[] = {{"accumulator", 0}};
constexpr OptimizerSpec kSpec =
    detail::with_kernels<AdagradRule>({"Adagrad", 0.001, kOptions, 2, kSlots, 1, false, true});

}  // namespace

Adagrad::Adagrad(LearningRate learning_rate,
                 double initial_accumulator_value,
                 double epsilon,
                 std::string name,
                 const Config& kwargs)
    : Optimizer(
          std::make_shared<AdagradImpl>(kSpec,
                                        std::move(learning_rate),
                                        std::vector<double>{initial_accumulator_value, epsilon},
                                        std::move(name),
                                        kwargs)) {}

Adagrad Adagrad::from_config(const Config& config, const CustomObjects& custom_objects) {
  return detail::read_config(kSpec, config, custom_objects, [](auto lr, auto& v, auto n, auto& k) {
    return Adagrad(std::move(lr), v[0], v[1], std::move(n), k);
  });
}

}  // namespace tapeflow::optim
