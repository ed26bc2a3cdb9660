#include "tapeflow/optim/adamax.hpp"

#include <cmath>

#include "tapeflow/optim/config_reader.hpp"
#include "tapeflow/optim/rule.hpp"

namespace tapeflow::optim {
namespace {

struct AdamaxRule : detail::RuleDefaults {
  static constexpr std::size_t kSlots = 2;
  static constexpr detail::Sparse kSparse = detail::Sparse::row_rule;
  template <class T>
  struct Step {
    int variant;
    T scaled_lr, beta_1, one_minus_beta_1, beta_2, eps;
  };
  template <class T>  // lr/(1-β₁ᵗ) at t = it + 1
  static Step<T> step(const detail::StepContext& s) {
    const T b1 = static_cast<T>(s.optimizer.option(0));
    const T b1_power = std::pow(b1, static_cast<T>(s.it + 1));
    return {0,
            static_cast<T>(s.lr_t) / (T(1) - b1_power),
            b1,
            T(1) - b1,
            static_cast<T>(s.optimizer.option(1)),
            static_cast<T>(s.optimizer.option(2))};
  }
  template <int kV, bool kRowForm = false, class T>
  TAPEFLOW_RULE void update(const Step<T>& c, T g, T& var, T& m, T& v) {
    const T mi =
        kRowForm ? m * c.beta_1 + g * c.one_minus_beta_1 : m + (g - m) * c.one_minus_beta_1;
    m = mi;
    const T decayed = c.beta_2 * v, abs_g = std::abs(g);
    const T vi = decayed < abs_g ? abs_g : decayed;
    v = vi;
    var -= c.scaled_lr * (mi / (vi + c.eps));
  }
  template <int kV, class T>
  TAPEFLOW_RULE void row(const Step<T>& c, T g, T& var, T& m, T& v) {
    update<kV, true>(c, g, var, m, v);
  }
};

constexpr OptionSpec kOptions[] = {{"beta_1", 0.9, 0, 1},
                                   {"beta_2", 0.999, 0, 1},
                                   {"epsilon", 1e-7, 0, kNoLimit, nullptr, false, true}};
constexpr SlotSpec kSlots[] = {{"m"}, {"v"}};
constexpr OptimizerSpec kSpec =
    detail::with_kernels<AdamaxRule>({"Adamax", 0.001, kOptions, 3, kSlots, 2});

}  // namespace

Adamax::Adamax(LearningRate learning_rate,
               double beta_1,
               double beta_2,
               double epsilon,
               std::string name,
               const Config& kwargs)
    : Optimizer(std::make_shared<AdamaxImpl>(kSpec,
                                             std::move(learning_rate),
                                             std::vector<double>{beta_1, beta_2, epsilon},
                                             std::move(name),
                                             kwargs)) {}

Adamax Adamax::from_config(const Config& config, const CustomObjects& custom_objects) {
  return detail::read_config(kSpec, config, custom_objects, [](auto lr, auto& v, auto n, auto& k) {
    return Adamax(std::move(lr), v[0], v[1], v[2], std::move(n), k);
  });
}

}  // namespace tapeflow::optim
