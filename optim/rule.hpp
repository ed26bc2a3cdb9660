#pragma once
// Internal (not installed): from an element rule to an optimizer's dense and sparse kernels.
//
// A rule is a struct with
//   static constexpr std::size_t kSlots;        // its SlotSpec rows, in order
//   static constexpr int kVariants;             // compile-time forms (flags of the options)
//   template <class T> struct Step { int variant; ... };  // this step's form and coefficients
//   template <class T> static Step<T> step(const StepContext&);
//   template <int kV, class T> static void update(const Step<T>&, T g, T& var, T& slot...);
//   static constexpr Sparse kSparse;            // how a sparse step runs (below)
// `update` takes kSlots slot references; a slot that form kV does not use refers to `var`, and
// the form must not touch it. Rules write their arithmetic in one order and never fuse, so every
// SIMD width and every thread split gives the same bits (tests/optim/simd_test.cpp).
//
// The loops live here once: for_each_chunk (dense) and for_each_row (sparse rows, with the rows
// split across threads) run them inside the AVX2/AVX-512 wrappers of kernels.hpp, and the rule's
// functions are TAPEFLOW_RULE (always inlined), so each width vectorizes the rule again.

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "tapeflow/core/dispatch.hpp"
#include "tapeflow/optim/elementwise.hpp"
#include "tapeflow/optim/kernels.hpp"

namespace tapeflow::optim::detail {

/// Marks a rule's update (and row) functions: inlined into every SIMD version of the loops.
#define TAPEFLOW_RULE TAPEFLOW_KERNEL_INLINE static inline

/// How a rule runs a sparse step whose indices are unique (the base sums duplicates first).
enum class Sparse {
  rows,            // update() on each listed row; other rows do not change
  row_rule,        // row() (another arithmetic form) on each listed row
  decay_then_row,  // decay() every row of the slots, then row() on each listed row (V2)
  every_row,       // row<kV, has_gradient>() on every row of the variable (V2 Adam)
  dense,           // densify the gradient and run the dense step
};
// A rule with kDensifyOutsideV2 densifies in Keras 2.11+ and 3 (which have no sparse form).

/// What a rule's step() sees: the optimizer, this step's learning rate and the iteration count
/// before the step (t = it + 1).
struct StepContext {
  const ElementwiseImpl& optimizer;
  double lr_t;
  std::int64_t it;
};

/// Calls f(std::integral_constant<int, v>) for a run-time v in [0, kCount).
template <int kCount, class F, int kV = 0>
TAPEFLOW_KERNEL_INLINE inline void with_variant(int v, F&& f) {
  if constexpr (kV + 1 >= kCount) {
    f(std::integral_constant<int, kV>{});
  } else if (v == kV) {
    f(std::integral_constant<int, kV>{});
  } else {
    with_variant<kCount, F, kV + 1>(v, std::forward<F>(f));
  }
}

/// x *= factor over n elements (the V2 sparse rules' decay of every row).
template <class T>
TAPEFLOW_KERNEL_INLINE inline void scale_in_place(T* x, std::size_t n, T factor) {
  for (std::size_t i = 0; i < n; ++i) x[i] *= factor;
}

/// The element loop over n elements: var, g and the slots never overlap (restrict), and the
/// coefficients are copied once, so the compiler needs no run-time alias checks.
template <class Rule, int kV, bool kRow, class T, class C, std::size_t... I>
TAPEFLOW_KERNEL_INLINE inline void element_loop(const C& coefficients,
                                                T* __restrict var,
                                                const T* __restrict g,
                                                std::size_t n,
                                                std::index_sequence<I...>,
                                                T* __restrict s0,
                                                T* __restrict s1,
                                                T* __restrict s2) {
  const C c = coefficients;
  T* const slots[] = {s0, s1, s2};
  for (std::size_t i = 0; i < n; ++i) {
    if constexpr (kRow) {
      Rule::template row<kV>(c, g[i], var[i], slots[I][i]...);
    } else {
      Rule::template update<kV>(c, g[i], var[i], slots[I][i]...);
    }
  }
}

/// Pointers to the slots in the spec's order, padded to three with `var` (never touched).
template <class T>
struct SlotPointers {
  std::array<T*, 3> p;
  SlotPointers<T> at(std::size_t offset) const {
    return {{p[0] + offset, p[1] + offset, p[2] + offset}};
  }
};

template <class Rule, class T>
SlotPointers<T> slot_pointers(ElementwiseImpl& opt, Variable& var) {
  static_assert(Rule::kSlots <= 3, "a rule has at most three slots");
  Variable slots[3] = {var, var, var};
  const std::size_t n = opt.slots_of(var, slots);
  SlotPointers<T> out{{data_of<T>(var), data_of<T>(var), data_of<T>(var)}};
  for (std::size_t k = 0; k < n; ++k) out.p[k] = data_of<T>(slots[k]);
  return out;
}

template <class Rule>
void dense_kernel(ElementwiseImpl& opt, const Tensor& grad, Variable& var, double lr_t) {
  const std::int64_t it = step_count(opt);
  tapeflow::detail::visit_floating(var.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const auto c = Rule::template step<T>(StepContext{opt, lr_t, it});
    const SlotPointers<T> s = slot_pointers<Rule, T>(opt, var);
    T* v = data_of<T>(var);
    const T* g = grad.data<T>();
    with_variant<Rule::kVariants>(c.variant, [&](auto form) {
      constexpr int kV = decltype(form)::value;
      for_each_chunk(var.size(), [&](std::size_t o, std::size_t n) TAPEFLOW_KERNEL_INLINE {
        const SlotPointers<T> so = s.at(o);
        element_loop<Rule, kV, false>(c,
                                      v + o,
                                      g + o,
                                      n,
                                      std::make_index_sequence<Rule::kSlots>{},
                                      so.p[0],
                                      so.p[1],
                                      so.p[2]);
      });
    });
  });
}

template <class Rule>
void sparse_kernel(ElementwiseImpl& opt, const IndexedSlices& grad, Variable& var, double lr_t) {
  constexpr Sparse kMode = Rule::kSparse;
  if (kMode == Sparse::dense ||
      (Rule::kDensifyOutsideV2 && opt.keras_generation() != KerasGeneration::v2)) {
    dense_kernel<Rule>(opt, grad.to_dense(), var, lr_t);
    return;
  }
  const std::int64_t it = step_count(opt);
  tapeflow::detail::visit_floating(var.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const auto c = Rule::template step<T>(StepContext{opt, lr_t, it});
    const SlotPointers<T> s = slot_pointers<Rule, T>(opt, var);
    T* v = data_of<T>(var);
    const T* g = grad.values.data<T>();
    with_variant<Rule::kVariants>(c.variant, [&](auto form) {
      constexpr int kV = decltype(form)::value;
      if constexpr (kMode == Sparse::every_row) {
        Rule::template every_row<kV>(c, opt, v, g, s.p.data(), var, grad);
      } else {
        if constexpr (kMode == Sparse::decay_then_row) {
          Rule::template decay<kV>(c, s.p.data(), var.size());
        }
        constexpr bool kRow = kMode != Sparse::rows;
        constexpr auto seq = std::make_index_sequence<Rule::kSlots>{};
        for_each_row(
            grad, [&](std::size_t at, std::size_t from, std::size_t n) TAPEFLOW_KERNEL_INLINE {
              const SlotPointers<T> sa = s.at(at);
              element_loop<Rule, kV, kRow>(c, v + at, g + from, n, seq, sa.p[0], sa.p[1], sa.p[2]);
            });
      }
    });
  });
}

/// A rule's kernels, for its OptimizerSpec.
template <class Rule>
constexpr OptimizerSpec with_kernels(OptimizerSpec spec) {
  spec.dense = &dense_kernel<Rule>;
  spec.sparse = &sparse_kernel<Rule>;
  return spec;
}

/// The defaults of a rule that needs none of the optional members.
struct RuleDefaults {
  static constexpr int kVariants = 1;
  static constexpr Sparse kSparse = Sparse::rows;
  static constexpr bool kDensifyOutsideV2 = false;
};

}  // namespace tapeflow::optim::detail
