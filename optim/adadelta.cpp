#include "tapeflow/optim/adadelta.hpp"

#include <cmath>

#include "tapeflow/optim/config_reader.hpp"
#include "tapeflow/optim/rule.hpp"

namespace tapeflow::optim {
namespace {

struct AdadeltaRule : detail::RuleDefaults {
  static constexpr std::size_t kSlots = 2;
  template <class T>
  struct Step {
    int variant;
    T lr, rho, one_minus_rho, eps;
  };
  template <class T>
  static Step<T> step(const detail::StepContext& s) {
    const T rho = static_cast<T>(s.optimizer.option(0));
    return {0, static_cast<T>(s.lr_t), rho, T(1) - rho, static_cast<T>(s.optimizer.option(1))};
  }
  template <int kV, class T>
  TAPEFLOW_RULE void update(const Step<T>& c, T g, T& var, T& ag, T& av) {
    const T a = ag * c.rho + g * g * c.one_minus_rho;
    ag = a;
    const T u = std::sqrt(av + c.eps) / std::sqrt(a + c.eps) * g;
    var -= u * c.lr;
    av = av * c.rho + u * u * c.one_minus_rho;
  }
};

constexpr OptionSpec kOptions[] = {{"rho", 0.95, 0, 1},
                                   {"epsilon", 1e-7, 0, kNoLimit, nullptr, false, true}};
constexpr SlotSpec kSlots[] = {{"accum_grad"}, {"accum_var"}};
constexpr OptimizerSpec kSpec =
    detail::with_kernels<AdadeltaRule>({"Adadelta", 0.001, kOptions, 2, kSlots, 2, false, true});

}  // namespace

Adadelta::Adadelta(
    LearningRate learning_rate, double rho, double epsilon, std::string name, const Config& kwargs)
    : Optimizer(std::make_shared<AdadeltaImpl>(kSpec,
                                               std::move(learning_rate),
                                               std::vector<double>{rho, epsilon},
                                               std::move(name),
                                               kwargs)) {}

Adadelta Adadelta::from_config(const Config& config, const CustomObjects& custom_objects) {
  return detail::read_config(kSpec, config, custom_objects, [](auto lr, auto& v, auto n, auto& k) {
    return Adadelta(std::move(lr), v[0], v[1], std::move(n), k);
  });
}

}  // namespace tapeflow::optim
