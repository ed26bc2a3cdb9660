#pragma once
// The step-by-step harness for the optimizer suites (SGD ... Ftrl): runs an optimizer and a
// reference written in the test from keras-semantics.md §5 side by side, on dense and on sparse
// (IndexedSlices, with repeated indices) gradients, and compares the variables and every slot
// after each step.
//
// A reference `Ref` provides, for element type T:
//   std::vector<std::string> slot_names() const;      // in the optimizer's creation order
//   double slot_initial(const std::string&) const;    // the slot's initial value
//   void dense(State<T>&, const std::vector<T>& g, std::int64_t it) const;
//   void sparse(State<T>&, const std::vector<std::int64_t>& rows, const std::vector<T>& values,
//               std::size_t row_size, std::int64_t it) const;   // rows unique, values summed
// where `it` is the iteration count before the step (t = it + 1).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "optim_support.hpp"

namespace tapeflow::testing {

constexpr int kReferenceSteps = 4;

/// A variable and its slots, as the reference sees them.
template <class T>
struct State {
  std::vector<T> var;
  std::map<std::string, std::vector<T>> slot;
};

template <class T, class Ref>
State<T> initial_state(const Ref& ref, const std::vector<T>& var) {
  State<T> s{var, {}};
  for (const std::string& name : ref.slot_names()) {
    s.slot[name] = std::vector<T>(var.size(), static_cast<T>(ref.slot_initial(name)));
  }
  return s;
}

/// Applies `rule(i, g)` to every element of the listed rows: the sparse step of the optimizers
/// whose sparse rule is their dense rule restricted to the rows.
template <class T, class Rule>
void for_listed_elements(const std::vector<std::int64_t>& rows, const std::vector<T>& values,
                         std::size_t row_size, Rule rule) {
  for (std::size_t r = 0; r < rows.size(); ++r) {
    for (std::size_t j = 0; j < row_size; ++j) {
      rule(static_cast<std::size_t>(rows[r]) * row_size + j, values[r * row_size + j]);
    }
  }
}

/// Sums the values of repeated indices, unique indices in first-appearance order (§1.3).
template <class T>
void sum_duplicates(const std::vector<std::int64_t>& indices, const std::vector<T>& values,
                    std::size_t row_size, std::vector<std::int64_t>& unique,
                    std::vector<T>& summed) {
  unique.clear();
  summed.clear();
  for (std::size_t r = 0; r < indices.size(); ++r) {
    std::size_t u = 0;
    while (u < unique.size() && unique[u] != indices[r]) ++u;
    if (u == unique.size()) {
      unique.push_back(indices[r]);
      summed.resize(summed.size() + row_size, T(0));
    }
    for (std::size_t j = 0; j < row_size; ++j) summed[u * row_size + j] += values[r * row_size + j];
  }
}

template <class T, class Ref>
void check_state(const optim::Optimizer& opt,
                 const Variable& var,
                 const State<T>& s,
                 const Ref& ref,
                 const std::string& what,
                 double rtol = 1e-6) {
  check_close(flat<T>(var), s.var, what, rtol);
  for (const std::string& name : ref.slot_names()) {
    check_close(flat<T>(opt.get_slot(var, name)), s.slot.at(name), what + "/" + name, rtol);
  }
}

/// The gradient of element i at step t: varied magnitudes and signs, some exact zeros.
inline double dense_grad(std::size_t i, int t) {
  if ((i + 2 * t) % 7 == 3) return 0.0;
  const double sign = (i + t) % 3 == 2 ? -1.0 : 1.0;
  return sign * (0.05 + 0.1 * static_cast<double>(i % 4)) * (1.0 + 0.5 * t);
}

/// kReferenceSteps dense steps on a (3,) and a (2, 2) variable, checked after each step.
template <class T, class Ref>
void check_dense_steps(optim::Optimizer opt, const Ref& ref) {
  const std::vector<double> init1 = {3.0, -4.0, 0.25, 0.0};
  Variable var0(vec<T>({1.0, 2.0, -0.5}), "var0");
  Variable var1(mat<T>(2, 2, init1), "var1");
  State<T> s0 = initial_state(ref, flat<T>(var0));
  State<T> s1 = initial_state(ref, flat<T>(var1));
  for (int t = 0; t < kReferenceSteps; ++t) {
    CAPTURE(t);
    std::vector<T> g0(3), g1(4);
    for (std::size_t i = 0; i < 3; ++i) g0[i] = static_cast<T>(dense_grad(i, t));
    for (std::size_t i = 0; i < 4; ++i) g1[i] = static_cast<T>(dense_grad(i + 3, t));
    const std::int64_t it = opt.iterations().numpy<std::int64_t>()();
    opt.apply_gradients({{like<T>(var0.read_value_no_record(), g0), var0},
                         {like<T>(var1.read_value_no_record(), g1), var1}});
    ref.dense(s0, g0, it);
    ref.dense(s1, g1, it);
    check_state(opt, var0, s0, ref, "var0");
    check_state(opt, var1, s1, ref, "var1");
    CHECK(opt.iterations().numpy<std::int64_t>()() == it + 1);
  }
}

/// kReferenceSteps sparse steps on a (5, cols) table, with repeated and unordered indices (and a
/// step that lists the same row only), checked after each step on every row.
template <class T, class Ref>
void check_sparse_steps(optim::Optimizer opt, const Ref& ref, std::size_t cols = 3) {
  std::vector<double> init;
  for (std::size_t i = 0; i < 5 * cols; ++i) {
    init.push_back(1.0 + 0.25 * static_cast<double>(i) - 0.1 * static_cast<double>(i % 3));
  }
  Variable table(mat<T>(5, cols, init), "table");
  State<T> s = initial_state(ref, flat<T>(table));
  const std::vector<std::vector<std::int64_t>> steps = {{3, 1, 3, 3, 0}, {4, 4, 2}, {0, 1}, {3, 3}};
  for (int t = 0; t < kReferenceSteps; ++t) {
    CAPTURE(t);
    const std::vector<std::int64_t>& indices = steps[t % steps.size()];
    std::vector<T> values;
    for (std::size_t r = 0; r < indices.size(); ++r) {
      for (std::size_t j = 0; j < cols; ++j) {
        values.push_back(static_cast<T>(dense_grad(cols * r + j + 1, t)));
      }
    }
    const Tensor values_t = Tensor::from_data(dtype_of_v<T>, {indices.size(), cols}, values.data());
    const Tensor indices_t = Tensor::from_data(DType::int64, {indices.size()}, indices.data());
    const std::int64_t it = opt.iterations().numpy<std::int64_t>()();
    opt.apply_gradients({{IndexedSlices{values_t, indices_t, {5, cols}}, table}});
    std::vector<std::int64_t> unique;
    std::vector<T> summed;
    sum_duplicates(indices, values, cols, unique, summed);
    ref.sparse(s, unique, summed, cols, it);
    check_state(opt, table, s, ref, "table");
  }
}

/// The SIMD kernels' sizes: a variable of 1003 elements and a (5, 67) table. Neither is a
/// multiple of any vector width, so the vector loop and the scalar tail both run, on every lane;
/// the small variables above fit in the tail alone. The variable starts with zeros, negatives and
/// tiny values among the ordinary ones. In float the elements that start at 0 end near it after
/// steps that cancel, where the references' last-bit differences from the kernels (Adam's α and
/// RMSprop's (1−ρ)g² are rounded in another order) grow to ~2e-5 relative: 1e-4 there, still
/// far below what a wrong lane or a skipped tail would give.
template <class T, class Ref>
void check_wide_steps(const optim::Optimizer& dense_opt,
                      const optim::Optimizer& sparse_opt,
                      const Ref& ref) {
  constexpr std::size_t kSize = 1003;
  std::vector<T> init(kSize);
  for (std::size_t i = 0; i < kSize; ++i) {
    const double x = static_cast<double>(i % 13) - 6.0;
    init[i] = static_cast<T>(i % 11 == 5 ? 0.0 : (i % 17 == 3 ? 1e-30 * x : 0.37 * x));
  }
  Variable var(Tensor::from_data(dtype_of_v<T>, {kSize}, init.data()), "var");
  State<T> s = initial_state(ref, init);
  optim::Optimizer opt = dense_opt;
  for (int t = 0; t < kReferenceSteps; ++t) {
    CAPTURE(t);
    std::vector<T> g(kSize);
    for (std::size_t i = 0; i < kSize; ++i) g[i] = static_cast<T>(dense_grad(i, t));
    const std::int64_t it = opt.iterations().numpy<std::int64_t>()();
    opt.apply_gradients({{Tensor::from_data(dtype_of_v<T>, {kSize}, g.data()), var}});
    ref.dense(s, g, it);
    check_state(opt, var, s, ref, "var", sizeof(T) == 4 ? 1e-4 : 1e-6);
  }
  check_sparse_steps<T>(sparse_opt, ref, 67);
}

/// The names of opt.weights().
inline std::vector<std::string> weight_names(const optim::Optimizer& opt) {
  std::vector<std::string> out;
  for (const Variable& w : opt.weights()) out.push_back(w.name());
  return out;
}

/// The keys of a config, in order.
inline std::vector<std::string> config_keys(const Config& config) {
  std::vector<std::string> out;
  for (const auto& item : config.items()) out.push_back(item.key());
  return out;
}

}  // namespace tapeflow::testing
