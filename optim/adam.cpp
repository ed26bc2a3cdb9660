#include "tapeflow/optim/adam.hpp"

#include <cmath>

#include "tapeflow/optim/config_reader.hpp"
#include "tapeflow/optim/rule.hpp"

namespace tapeflow::optim {
namespace {

struct AdamRule : detail::RuleDefaults {
  static constexpr std::size_t kSlots = 3;
  static constexpr int kVariants = 2;  // amsgrad
  static constexpr detail::Sparse kSparse = detail::Sparse::every_row;
  template <class T>
  struct Step {
    int variant;
    T alpha, beta_1, one_minus_beta_1, beta_2, one_minus_beta_2, eps;
  };
  template <class T>  // Keras's _prepare_local: powers at t = it + 1
  static Step<T> step(const detail::StepContext& s) {
    const ElementwiseImpl& o = s.optimizer;
    const T b1 = static_cast<T>(o.option(0)), b2 = static_cast<T>(o.option(1));
    const T t = static_cast<T>(s.it + 1);
    const T alpha =
        static_cast<T>(s.lr_t) * (std::sqrt(T(1) - std::pow(b2, t)) / (T(1) - std::pow(b1, t)));
    return {o.flag(3) ? 1 : 0, alpha, b1, T(1) - b1, b2, T(1) - b2, static_cast<T>(o.option(2))};
  }
  template <int kV, class T>
  TAPEFLOW_RULE void update(const Step<T>& c, T g, T& var, T& m, T& v, T& vhat) {
    const T mi = m + (g - m) * c.one_minus_beta_1;
    m = mi;
    T vi = v + (g * g - v) * c.one_minus_beta_2;
    v = vi;
    if (kV == 1) vhat = vi = vhat < vi ? vi : vhat;
    var -= (mi * c.alpha) / (std::sqrt(vi) + c.eps);
  }
  // V2's sparse rule on one row: decay, add the gradient when the row has one, move var.
  template <int kV, bool kHasGrad, class T>
  TAPEFLOW_RULE void row(const Step<T>& c, T g, T& var, T& m, T& v, T& vhat) {
    T mi = m * c.beta_1, vi = v * c.beta_2;
    if (kHasGrad) {
      mi += g * c.one_minus_beta_1;
      vi += (g * g) * c.one_minus_beta_2;
    }
    m = mi;
    v = vi;
    if (kV == 1) vhat = vi = vhat < vi ? vi : vhat;
    var -= c.alpha * mi / (std::sqrt(vi) + c.eps);
  }
  template <int kV, class T>
  static void every_row(const Step<T>& c,
                        ElementwiseImpl& o,
                        T* var,
                        const T* g,
                        T* const* s,
                        const Variable& v,
                        const IndexedSlices& grad) {
    const std::size_t rows = v.shape()[0], size = rows == 0 ? 0 : v.size() / rows;
    const std::int64_t* of = detail::build_row_map(static_cast<AdamImpl&>(o).row_map, grad, rows);
    detail::run_simd(tapeflow::detail::simd_level(), [&]() TAPEFLOW_KERNEL_INLINE {
      for (std::size_t r = 0, at = 0; r < rows; ++r, at += size) {
        if (of[r] >= 0) {
          const T* gr = g + static_cast<std::size_t>(of[r]) * size;
          for (std::size_t j = 0, i = at; j < size; ++j, ++i) {
            row<kV, true>(c, gr[j], var[i], s[0][i], s[1][i], s[2][i]);
          }
        } else {
          for (std::size_t i = at; i < at + size; ++i) {
            row<kV, false>(c, T(0), var[i], s[0][i], s[1][i], s[2][i]);
          }
        }
      }
    });
  }
};

constexpr OptionSpec kOptions[] = {
    {"beta_1", 0.9, 0, 1},
    {"beta_2", 0.999, 0, 1},
    {"epsilon", 1e-7, 0, kNoLimit, nullptr, false, true},
    {"amsgrad", 0.0, 0, 1, nullptr, true},
};
constexpr SlotSpec kSlots[] = {{"m"}, {"v"}, {"vhat", -1, 3}};
constexpr OptimizerSpec kSpec =
    detail::with_kernels<AdamRule>({"Adam", 0.001, kOptions, 4, kSlots, 3});

}  // namespace

std::vector<Tensor> AdamImpl::normalize_weight_list(const std::vector<Tensor>& weights,
                                                    std::size_t own) const {
  const std::size_t num_vars = own == 0 ? 0 : (own - 1) / 2;
  if (weights.size() == 3 * num_vars + 1 && weights.size() > own) {
    return std::vector<Tensor>(weights.begin(), weights.begin() + static_cast<std::ptrdiff_t>(own));
  }
  return ElementwiseImpl::normalize_weight_list(weights, own);
}

Adam::Adam(LearningRate learning_rate,
           double beta_1,
           double beta_2,
           double epsilon,
           bool amsgrad,
           std::string name,
           const Config& kwargs)
    : Optimizer(std::make_shared<AdamImpl>(
          kSpec,
          std::move(learning_rate),
          std::vector<double>{beta_1, beta_2, epsilon, amsgrad ? 1.0 : 0.0},
          std::move(name),
          kwargs)) {}

Adam Adam::from_config(const Config& config, const CustomObjects& custom_objects) {
  return detail::read_config(kSpec, config, custom_objects, [](auto lr, auto& v, auto n, auto& k) {
    return Adam(std::move(lr), v[0], v[1], v[2], v[3] != 0, std::move(n), k);
  });
}

}  // namespace tapeflow::optim
