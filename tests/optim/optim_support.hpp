#pragma once
// Helpers for the optimizer suites: typed tensors, a scalar Adagrad reference written from the
// formulas of keras-semantics.md §1, and state snapshots for the all-or-nothing checks.

#include <cmath>
#include <initializer_list>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "../support.hpp"

namespace tapeflow::testing {

/// A 1-D tensor of T.
template <class T>
Tensor vec(std::initializer_list<double> values) {
  xt::xarray<T> a = xt::xarray<T>::from_shape({values.size()});
  std::size_t i = 0;
  for (double v : values) a(i++) = static_cast<T>(v);
  return Tensor(a);
}

/// A rows x cols tensor of T, row-major.
template <class T>
Tensor mat(std::size_t rows, std::size_t cols, const std::vector<double>& values) {
  xt::xarray<T> a = xt::xarray<T>::from_shape({rows, cols});
  for (std::size_t i = 0; i < values.size(); ++i) a.data()[i] = static_cast<T>(values[i]);
  return Tensor(a);
}

/// The values of a tensor or variable as a flat std::vector<T>.
template <class T>
std::vector<T> flat(const Tensor& t) {
  const auto a = t.numpy<T>();
  return std::vector<T>(a.begin(), a.end());
}
template <class T>
std::vector<T> flat(const Variable& v) {
  return flat<T>(v.read_value_no_record());
}

/// A tensor of the same shape as `like` holding `values`.
template <class T>
Tensor like(const Tensor& like, const std::vector<T>& values) {
  return Tensor::from_data(dtype_of_v<T>, like.shape(), values.data());
}

/// Adagrad on plain arrays, in T, straight from the formulas:
///   acc += g²;  var -= lr·g / (√acc + ε)   (or / √(acc + ε) when `inside`).
template <class T>
struct AdagradReference {
  std::vector<T> var;
  std::vector<T> acc;
  double epsilon = 1e-7;
  bool inside = false;

  AdagradReference(std::vector<T> initial, double initial_accumulator_value, double eps = 1e-7,
                   bool eps_inside = false)
      : var(std::move(initial)),
        acc(var.size(), static_cast<T>(initial_accumulator_value)),
        epsilon(eps),
        inside(eps_inside) {}

  void update(std::size_t i, T g, double lr_t) {
    const T lr = static_cast<T>(lr_t);
    const T eps = static_cast<T>(epsilon);
    acc[i] = acc[i] + g * g;
    const T denom = inside ? std::sqrt(acc[i] + eps) : std::sqrt(acc[i]) + eps;
    var[i] = var[i] - g * lr / denom;
  }
  /// A dense step.
  void step(const std::vector<T>& g, double lr_t) {
    for (std::size_t i = 0; i < var.size(); ++i) update(i, g[i], lr_t);
  }
  /// A sparse step on rows of `row_size` elements: duplicate indices are summed first.
  void sparse_step(const std::vector<std::int64_t>& indices, const std::vector<T>& values,
                   std::size_t row_size, double lr_t) {
    std::vector<std::int64_t> unique;
    std::vector<T> summed;
    for (std::size_t r = 0; r < indices.size(); ++r) {
      std::size_t u = 0;
      while (u < unique.size() && unique[u] != indices[r]) ++u;
      if (u == unique.size()) {
        unique.push_back(indices[r]);
        summed.resize(summed.size() + row_size, T(0));
      }
      for (std::size_t j = 0; j < row_size; ++j) summed[u * row_size + j] += values[r * row_size + j];
    }
    for (std::size_t u = 0; u < unique.size(); ++u) {
      for (std::size_t j = 0; j < row_size; ++j) {
        update(static_cast<std::size_t>(unique[u]) * row_size + j, summed[u * row_size + j], lr_t);
      }
    }
  }
};

/// |a - e| <= 1e-6·|e| (plus a tiny absolute floor for values that cross zero), elementwise.
template <class T>
void check_close(const std::vector<T>& actual, const std::vector<T>& expected,
                 const std::string& what, double rtol = 1e-6) {
  REQUIRE(actual.size() == expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    const double a = actual[i], e = expected[i];
    CHECK_MESSAGE(std::abs(a - e) <= rtol * std::abs(e) + 1e-12,
                  what << "[" << i << "]: " << a << " vs reference " << e);
  }
}

/// Everything an optimizer call could change: its weights (names and values), slot names, the
/// iteration count, and the variables it was given.
struct Snapshot {
  std::vector<std::string> weight_names;
  std::vector<Tensor> weights;
  std::vector<std::string> slot_names;
  std::vector<Tensor> variables;
};

inline Tensor copy_of(const Tensor& t) {
  return Tensor::from_data(t.dtype(), t.shape(), t.raw_data());
}

inline Snapshot snapshot(const optim::Optimizer& opt, const std::vector<Variable>& vars) {
  Snapshot s;
  for (const Variable& w : opt.weights()) s.weight_names.push_back(w.name());
  s.weights = opt.get_weights();
  s.slot_names = opt.get_slot_names();
  for (const Variable& v : vars) s.variables.push_back(copy_of(v.read_value_no_record()));
  return s;
}

/// CHECKs that nothing in `before` changed (exact equality).
inline void check_unchanged(const Snapshot& before, const optim::Optimizer& opt,
                            const std::vector<Variable>& vars) {
  const Snapshot after = snapshot(opt, vars);
  CHECK(after.weight_names == before.weight_names);
  CHECK(after.slot_names == before.slot_names);
  REQUIRE(after.weights.size() == before.weights.size());
  for (std::size_t i = 0; i < after.weights.size(); ++i) {
    CHECK_ALLCLOSE(after.weights[i], before.weights[i], 0.0, 0.0);
  }
  REQUIRE(after.variables.size() == before.variables.size());
  for (std::size_t i = 0; i < after.variables.size(); ++i) {
    CHECK_ALLCLOSE(after.variables[i], before.variables[i], 0.0, 0.0);
  }
}

/// Captures std::cerr while alive.
class CaptureCerr {
 public:
  CaptureCerr() : old_(std::cerr.rdbuf(buffer_.rdbuf())) {}
  ~CaptureCerr() { std::cerr.rdbuf(old_); }
  std::string text() const { return buffer_.str(); }

 private:
  std::ostringstream buffer_;
  std::streambuf* old_;
};

}  // namespace tapeflow::testing
