#include "tapeflow/optim/ftrl.hpp"

#include <cmath>

#include "tapeflow/optim/config_reader.hpp"
#include "tapeflow/optim/rule.hpp"

namespace tapeflow::optim {
namespace {

// GCC vectorizes the √ form only with -fno-trapping-math (root meson.build), which changes no
// value; pow (p != -0.5) stays scalar.
struct FtrlRule : detail::RuleDefaults {
  static constexpr std::size_t kSlots = 2;
  static constexpr int kVariants = 4;  // bits: √ form (p = -0.5), shrinkage
  template <class T>
  struct Step {
    int variant;
    T lr, l1, l2, shrinkage, power;
  };
  template <class T>  // l2' = l2 + β/(2·lr) in T, as Keras adjusts it in the variable's dtype
  static Step<T> step(const detail::StepContext& s) {
    const ElementwiseImpl& o = s.optimizer;
    const T lr = static_cast<T>(s.lr_t), power = static_cast<T>(o.option(0));
    const T shrinkage = static_cast<T>(o.option(4));
    return {(power == T(-0.5) ? 1 : 0) | (shrinkage > T(0) ? 2 : 0),
            lr,
            static_cast<T>(o.option(2)),
            static_cast<T>(o.option(3)) + static_cast<T>(o.option(5)) / (T(2) * lr),
            shrinkage,
            power};
  }
  template <int kV, class T>
  TAPEFLOW_RULE T neg_power(T x, T p) {
    return (kV & 1) ? std::sqrt(x) : std::pow(x, -p);
  }
  template <int kV, class T>
  TAPEFLOW_RULE void update(const Step<T>& c, T g, T& var, T& acc, T& linear) {
    const T w = var;
    const T g_s = (kV & 2) ? g + T(2) * c.shrinkage * w : g;
    const T a = acc, new_acc = a + g * g;
    const T new_pow = neg_power<kV>(new_acc, c.power);
    const T lin = linear + (g_s - (new_pow - neg_power<kV>(a, c.power)) / c.lr * w);
    linear = lin;
    const T quad = new_pow / c.lr + T(2) * c.l2;
    const T sign = lin > T(0) ? T(1) : (lin < T(0) ? T(-1) : T(0));
    var = std::abs(lin) > c.l1 ? (sign * c.l1 - lin) / quad : T(0);
    acc = new_acc;
  }
};

constexpr const char* kNonNegative = "`{0}` needs to be positive or zero. Received: {0}={1}.";
constexpr OptionSpec kOptions[] = {
    // Keras 2.11+/3 order; v2_position gives V2's
    {"learning_rate_power",
     -0.5,
     -kNoLimit,
     0,
     "`{0}` needs to be negative or zero. Received: {0}={1}.",
     false,
     false,
     false,
     1},
    {"initial_accumulator_value", 0.1, 0, kNoLimit, kNonNegative, false, false, false, 0},
    {"l1_regularization_strength", 0.0, 0, kNoLimit, kNonNegative, false, false, false, 2},
    {"l2_regularization_strength", 0.0, 0, kNoLimit, kNonNegative, false, false, false, 3},
    {"l2_shrinkage_regularization_strength",
     0.0,
     0,
     kNoLimit,
     kNonNegative,
     false,
     false,
     false,
     5},
    {"beta", 0.0, 0, kNoLimit, nullptr, false, false, false, 4, true},
};
constexpr SlotSpec kSlots[] = {{"accumulator", 1}, {"linear"}};
constexpr OptimizerSpec kSpec =
    detail::with_kernels<FtrlRule>({"Ftrl", 0.001, kOptions, 6, kSlots, 2, true});

}  // namespace

Ftrl::Ftrl(LearningRate learning_rate,
           double learning_rate_power,
           double initial_accumulator_value,
           double l1_regularization_strength,
           double l2_regularization_strength,
           std::string name,
           double l2_shrinkage_regularization_strength,
           double beta,
           const Config& kwargs)
    : Optimizer(std::make_shared<FtrlImpl>(kSpec,
                                           learning_rate,
                                           std::vector<double>{learning_rate_power,
                                                               initial_accumulator_value,
                                                               l1_regularization_strength,
                                                               l2_regularization_strength,
                                                               l2_shrinkage_regularization_strength,
                                                               beta},
                                           std::move(name),
                                           kwargs)) {
  impl().set_learning_rate(std::move(learning_rate));  // Keras's Ftrl ignores an `lr` kwarg
}

Ftrl Ftrl::from_config(const Config& config, const CustomObjects& custom_objects) {
  return detail::read_config(kSpec, config, custom_objects, [](auto lr, auto& v, auto n, auto& k) {
    return Ftrl(std::move(lr), v[0], v[1], v[2], v[3], std::move(n), v[4], v[5], k);
  });
}

}  // namespace tapeflow::optim
