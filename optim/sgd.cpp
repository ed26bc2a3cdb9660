#include "tapeflow/optim/sgd.hpp"

#include "tapeflow/optim/config_reader.hpp"
#include "tapeflow/optim/rule.hpp"

namespace tapeflow::optim {
namespace {

struct SGDRule : detail::RuleDefaults {  // TF's ApplyKerasMomentum
  static constexpr std::size_t kSlots = 1;
  static constexpr int kVariants = 3;  // plain, momentum, Nesterov momentum
  template <class T>
  struct Step {
    int variant;
    T lr, mu;
  };
  template <class T>
  static Step<T> step(const detail::StepContext& s) {
    const ElementwiseImpl& o = s.optimizer;
    return {o.option(0) > 0 ? (o.flag(1) ? 2 : 1) : 0,
            static_cast<T>(s.lr_t),
            static_cast<T>(o.option(0))};
  }
  template <int kV, class T>
  TAPEFLOW_RULE void update(const Step<T>& c, T g, T& var, T& m) {
    if (kV == 0) {
      var -= c.lr * g;
      return;
    }
    const T mi = m * c.mu - g * c.lr;
    m = mi;
    var += kV == 2 ? mi * c.mu - g * c.lr : mi;
  }
};

constexpr OptionSpec kOptions[] = {
    {"momentum",
     0.0,
     0,
     1,
     "`{0}` must be between [0, 1]. Received: {0}={1} (of type <class 'float'>)."},
    {"nesterov", 0.0, 0, 1, nullptr, true},
};
constexpr SlotSpec kSlots[] = {{"momentum", -1, 0}};
constexpr OptimizerSpec kSpec =
    detail::with_kernels<SGDRule>({"SGD", 0.01, kOptions, 2, kSlots, 1});

}  // namespace

SGD::SGD(LearningRate learning_rate,
         double momentum,
         bool nesterov,
         std::string name,
         const Config& kwargs)
    : Optimizer(std::make_shared<SGDImpl>(kSpec,
                                          std::move(learning_rate),
                                          std::vector<double>{momentum, nesterov ? 1.0 : 0.0},
                                          std::move(name),
                                          kwargs)) {}

SGD SGD::from_config(const Config& config, const CustomObjects& custom_objects) {
  return detail::read_config(kSpec, config, custom_objects, [](auto lr, auto& v, auto n, auto& k) {
    return SGD(std::move(lr), v[0], v[1] != 0, std::move(n), k);
  });
}

}  // namespace tapeflow::optim
