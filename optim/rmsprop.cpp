#include "tapeflow/optim/rmsprop.hpp"

#include <cmath>

#include "tapeflow/optim/config_reader.hpp"
#include "tapeflow/optim/rule.hpp"

namespace tapeflow::optim {
namespace {

struct RMSpropRule : detail::RuleDefaults {
  static constexpr std::size_t kSlots = 3;
  static constexpr int kVariants = 8;  // bits: momentum, centered, ε inside the square root
  static constexpr detail::Sparse kSparse = detail::Sparse::decay_then_row;
  static constexpr bool kDensifyOutsideV2 = true;  // Keras 2.11+ and 3 densify
  template <class T>
  struct Step {
    int variant;
    T lr, rho, one_minus_rho, momentum, eps;
  };
  template <class T>
  static Step<T> step(const detail::StepContext& s) {
    const ElementwiseImpl& o = s.optimizer;
    const T rho = static_cast<T>(o.option(0));
    const int v =
        (o.option(1) > 0 ? 1 : 0) | (o.flag(3) ? 2 : 0) | (o.epsilon_inside_sqrt() ? 4 : 0);
    return {v,
            static_cast<T>(s.lr_t),
            rho,
            T(1) - rho,
            static_cast<T>(o.option(1)),
            static_cast<T>(o.option(2))};
  }
  template <int kV, class T>
  TAPEFLOW_RULE void update(const Step<T>& c, T g, T& var, T& rms, T& mom, T& mg) {
    constexpr bool kCentered = (kV & 2) != 0;
    if (kV & 1) {  // TF's (Centered)RMSProp kernels: ε inside the square root
      const T r = rms + (g * g - rms) * c.one_minus_rho;
      rms = r;
      T den = r + c.eps;
      if (kCentered) {
        const T a = mg + (g - mg) * c.one_minus_rho;
        mg = a;
        den = r - a * a + c.eps;
      }
      const T m = c.momentum * mom + c.lr * g / std::sqrt(den);
      mom = m;
      var -= m;
      return;
    }
    const T r = c.rho * rms + c.one_minus_rho * (g * g);
    rms = r;
    T den = r;
    if (kCentered) {
      const T a = c.rho * mg + c.one_minus_rho * g;
      mg = a;
      den = r - a * a;
    }
    var = var - c.lr * g / ((kV & 4) ? std::sqrt(den + c.eps) : std::sqrt(den) + c.eps);
  }
  // V2 sparse without momentum: every row of rms (and mg) decays, then the listed rows.
  template <int kV, class T>
  static void decay(const Step<T>& c, T* const* slots, std::size_t n) {
    if (kV & 1) return;
    detail::scale_in_place(slots[0], n, c.rho);
    if (kV & 2) detail::scale_in_place(slots[2], n, c.rho);
  }
  template <int kV, class T>
  TAPEFLOW_RULE void row(const Step<T>& c, T g, T& var, T& rms, T& mom, T& mg) {
    if (kV & 1) return update<kV>(c, g, var, rms, mom, mg);
    const T r = rms + (g * g) * c.one_minus_rho;
    rms = r;
    T den = r;
    if (kV & 2) {
      const T a = mg + g * c.one_minus_rho;
      mg = a;
      den = r - a * a;
    }
    var += -c.lr * g / (std::sqrt(den) + c.eps);
  }
};

constexpr OptionSpec kOptions[] = {
    {"rho", 0.9, 0, 1},
    {"momentum",
     0.0,
     0,
     1,
     "`{0}` must be between [0, 1]. Received: {0}={1} (of type <class 'float'>)."},
    {"epsilon", 1e-7, 0, kNoLimit, nullptr, false, true},
    {"centered", 0.0, 0, 1, nullptr, true},
};
constexpr SlotSpec kSlots[] = {{"rms"}, {"momentum", -1, 1}, {"mg", -1, 3}};
constexpr OptimizerSpec kSpec =
    detail::with_kernels<RMSpropRule>({"RMSprop", 0.001, kOptions, 4, kSlots, 3, false, true});

}  // namespace

RMSprop::RMSprop(LearningRate learning_rate,
                 double rho,
                 double momentum,
                 double epsilon,
                 bool centered,
                 std::string name,
                 const Config& kwargs)
    : Optimizer(std::make_shared<RMSpropImpl>(
          kSpec,
          std::move(learning_rate),
          std::vector<double>{rho, momentum, epsilon, centered ? 1.0 : 0.0},
          std::move(name),
          kwargs)) {}

RMSprop RMSprop::from_config(const Config& config, const CustomObjects& custom_objects) {
  return detail::read_config(kSpec, config, custom_objects, [](auto lr, auto& v, auto n, auto& k) {
    return RMSprop(std::move(lr), v[0], v[1], v[2], v[3] != 0, std::move(n), k);
  });
}

}  // namespace tapeflow::optim
