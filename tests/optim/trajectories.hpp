#pragma once
// Optimizer trajectories, recorded bit for bit: each case builds one optimizer from a Keras
// config (optim::deserialize, so every generation's numerics are reachable), runs kSteps steps
// on two variables with fixed gradients, and writes the raw bits of both variables and of every
// optimizer weight after each step. tests/optim/fixtures/trajectories.txt holds the lines that
// the optimizers wrote when they were recorded; trajectory_test compares today's lines with it.
//
// Regenerate (only when a change of numerics is intended, and say so in the commit):
//     ninja -C build tests/optim/make_trajectories
//     build/tests/optim/make_trajectories tests/optim/fixtures/trajectories.txt

#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "tapeflow/tapeflow.hpp"

namespace tapeflow::testing::trajectories {

constexpr int kSteps = 10;

struct Case {
  const char* name;
  const char* json;  // the serialized optimizer (class_name + config)
};

// Schedules shared by several cases.
#define TF_EXP_DECAY                                                                              \
  R"({"class_name": "ExponentialDecay", "config": {"initial_learning_rate": 0.1,)"              \
  R"( "decay_steps": 3, "decay_rate": 0.5, "staircase": false, "name": null}})"
#define TF_PIECEWISE                                                                              \
  R"({"class_name": "PiecewiseConstantDecay", "config": {"boundaries": [2, 5],)"                \
  R"( "values": [0.3, 0.1, 0.03], "name": null}})"
// Keras 3 and Keras 2.11+ markers (each generation's numerics and clipping).
#define TF_K3 R"("loss_scale_factor": null, "gradient_accumulation_steps": null)"
#define TF_K2 R"("jit_compile": false, "is_legacy_optimizer": false)"

inline const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      // SGD
      {"sgd", R"({"class_name": "SGD", "config": {"learning_rate": 0.1}})"},
      {"sgd_momentum", R"({"class_name": "SGD", "config": {"learning_rate": 0.1, "momentum": 0.9}})"},
      {"sgd_nesterov", R"({"class_name": "SGD", "config": {"learning_rate": 0.05,)"
                       R"( "momentum": 0.7, "nesterov": true}})"},
      {"sgd_clipvalue_decay", R"({"class_name": "SGD", "config": {"learning_rate": 0.2,)"
                              R"( "clipvalue": 0.5, "decay": 0.1}})"},
      {"sgd_momentum_clipnorm_schedule",
       R"({"class_name": "SGD", "config": {"learning_rate": )" TF_EXP_DECAY
       R"(, "momentum": 0.5, "clipnorm": 1.0}})"},
      {"sgd_global_clipnorm_clipvalue",
       R"({"class_name": "SGD", "config": {"learning_rate": 0.1, "global_clipnorm": 1.5,)"
       R"( "clipvalue": 0.75}})"},
      {"sgd_keras3_clipnorm", R"({"class_name": "SGD", "config": {"learning_rate": 0.1,)"
                              R"( "momentum": 0.9, "clipnorm": 0.8, )" TF_K3 "}}"},
      {"sgd_keras3_clipvalue", R"({"class_name": "SGD", "config": {"learning_rate": 0.1,)"
                               R"( "clipvalue": 0.3, "nesterov": true, "momentum": 0.3, )" TF_K3
                               "}}"},
      {"sgd_keras2_global_clipnorm",
       R"({"class_name": "SGD", "config": {"learning_rate": 0.1, "global_clipnorm": 1.0, )" TF_K2
       "}}"},
      // RMSprop
      {"rmsprop", R"({"class_name": "RMSprop", "config": {"learning_rate": 0.01}})"},
      {"rmsprop_momentum", R"({"class_name": "RMSprop", "config": {"learning_rate": 0.01,)"
                           R"( "rho": 0.8, "momentum": 0.5, "epsilon": 1e-3}})"},
      {"rmsprop_centered", R"({"class_name": "RMSprop", "config": {"learning_rate": 0.01,)"
                           R"( "centered": true}})"},
      {"rmsprop_centered_momentum_schedule",
       R"({"class_name": "RMSprop", "config": {"learning_rate": )" TF_PIECEWISE
       R"(, "momentum": 0.9, "centered": true, "clipvalue": 1.0}})"},
      {"rmsprop_keras3", R"({"class_name": "RMSprop", "config": {"learning_rate": 0.01, )" TF_K3
                         "}}"},
      {"rmsprop_keras3_centered_momentum",
       R"({"class_name": "RMSprop", "config": {"learning_rate": 0.01, "momentum": 0.5,)"
       R"( "centered": true, )" TF_K3 "}}"},
      // Adagrad
      {"adagrad", R"({"class_name": "Adagrad", "config": {"learning_rate": 0.1}})"},
      {"adagrad_initial_epsilon", R"({"class_name": "Adagrad", "config": {"learning_rate": 0.1,)"
                                  R"( "initial_accumulator_value": 0.5, "epsilon": 1e-3}})"},
      {"adagrad_global_clipnorm_schedule",
       R"({"class_name": "Adagrad", "config": {"learning_rate": )" TF_EXP_DECAY
       R"(, "global_clipnorm": 1.0}})"},
      {"adagrad_keras3", R"({"class_name": "Adagrad", "config": {"learning_rate": 0.1, )" TF_K3
                         "}}"},
      {"adagrad_keras2", R"({"class_name": "Adagrad", "config": {"learning_rate": 0.1,)"
                         R"( "epsilon": 1e-2, )" TF_K2 "}}"},
      // Adam
      {"adam", R"({"class_name": "Adam", "config": {"learning_rate": 0.01}})"},
      {"adam_amsgrad", R"({"class_name": "Adam", "config": {"learning_rate": 0.01,)"
                       R"( "beta_1": 0.8, "beta_2": 0.95, "amsgrad": true}})"},
      {"adam_clipnorm_decay", R"({"class_name": "Adam", "config": {"learning_rate": 0.01,)"
                              R"( "clipnorm": 0.5, "decay": 0.05}})"},
      {"adam_schedule", R"({"class_name": "Adam", "config": {"learning_rate": )" TF_PIECEWISE
                        "}}"},
      {"adam_keras3_amsgrad", R"({"class_name": "Adam", "config": {"learning_rate": 0.01,)"
                              R"( "amsgrad": true, )" TF_K3 "}}"},
      // Adadelta
      {"adadelta", R"({"class_name": "Adadelta", "config": {"learning_rate": 1.0}})"},
      {"adadelta_rho_clipvalue", R"({"class_name": "Adadelta", "config": {"learning_rate": 0.5,)"
                                 R"( "rho": 0.8, "epsilon": 1e-4, "clipvalue": 0.5}})"},
      {"adadelta_keras3", R"({"class_name": "Adadelta", "config": {"learning_rate": 1.0, )" TF_K3
                          "}}"},
      // Adamax
      {"adamax", R"({"class_name": "Adamax", "config": {"learning_rate": 0.01}})"},
      {"adamax_betas_schedule", R"({"class_name": "Adamax", "config": {"learning_rate": )"
                                TF_EXP_DECAY R"(, "beta_1": 0.7, "beta_2": 0.9}})"},
      {"adamax_keras3", R"({"class_name": "Adamax", "config": {"learning_rate": 0.01, )" TF_K3
                        "}}"},
      // Nadam
      {"nadam", R"({"class_name": "Nadam", "config": {"learning_rate": 0.01}})"},
      {"nadam_decay_clipnorm", R"({"class_name": "Nadam", "config": {"learning_rate": 0.01,)"
                               R"( "beta_1": 0.8, "decay": 0.01, "clipnorm": 1.0}})"},
      {"nadam_keras3", R"({"class_name": "Nadam", "config": {"learning_rate": 0.01, )" TF_K3
                       "}}"},
      {"nadam_keras2", R"({"class_name": "Nadam", "config": {"learning_rate": 0.01, )" TF_K2
                       "}}"},
      // Ftrl
      {"ftrl", R"({"class_name": "Ftrl", "config": {"learning_rate": 0.1}})"},
      {"ftrl_l1", R"({"class_name": "Ftrl", "config": {"learning_rate": 0.1,)"
                  R"( "l1_regularization_strength": 0.05}})"},
      {"ftrl_l2", R"({"class_name": "Ftrl", "config": {"learning_rate": 0.1,)"
                  R"( "l2_regularization_strength": 0.3}})"},
      {"ftrl_l1_l2_shrinkage", R"({"class_name": "Ftrl", "config": {"learning_rate": 0.2,)"
                               R"( "l1_regularization_strength": 0.01,)"
                               R"( "l2_regularization_strength": 0.1,)"
                               R"( "l2_shrinkage_regularization_strength": 0.2}})"},
      {"ftrl_beta_power", R"({"class_name": "Ftrl", "config": {"learning_rate": 0.1,)"
                          R"( "beta": 0.5, "learning_rate_power": -0.7,)"
                          R"( "initial_accumulator_value": 0.3}})"},
      {"ftrl_fixed_rate_schedule", R"({"class_name": "Ftrl", "config": {"learning_rate": )"
                                   TF_EXP_DECAY R"(, "learning_rate_power": 0.0,)"
                                   R"( "l1_regularization_strength": 0.02}})"},
      {"ftrl_keras3_shrinkage_clipnorm",
       R"({"class_name": "Ftrl", "config": {"learning_rate": 0.1,)"
       R"( "l2_shrinkage_regularization_strength": 0.1, "beta": 0.2, "clipnorm": 1.0, )" TF_K3
       "}}"},
  };
  return all;
}

#undef TF_EXP_DECAY
#undef TF_PIECEWISE
#undef TF_K3
#undef TF_K2

/// A gradient value for (step, variable, element): multiples of 1/64 in [-2, 2], a few of them
/// zero, exact in float32 and float64 alike.
inline double gradient_value(int step, int variable, std::size_t element) {
  std::uint32_t h = static_cast<std::uint32_t>(step * 7919 + variable * 104729) ^
                    static_cast<std::uint32_t>(element * 2654435761u);
  h ^= h >> 13;
  h *= 0x5bd1e995u;
  h ^= h >> 15;
  if (h % 9 == 0) return 0.0;
  return (static_cast<int>(h % 257) - 128) / 64.0;
}

template <class T>
Tensor filled(const Shape& shape, int step, int variable) {
  std::size_t n = 1;
  for (std::size_t d : shape) n *= d;
  std::vector<T> values(n);
  for (std::size_t i = 0; i < n; ++i) values[i] = static_cast<T>(gradient_value(step, variable, i));
  return Tensor::from_data(dtype_of_v<T>, shape, values.data());
}

template <class T>
std::string bits(const Tensor& t) {
  std::string out;
  const T* p = t.data<T>();
  char buffer[24];
  for (std::size_t i = 0; i < t.size(); ++i) {
    if constexpr (sizeof(T) == 4) {
      std::uint32_t b;
      std::memcpy(&b, &p[i], 4);
      std::snprintf(buffer, sizeof buffer, " %08" PRIx32, b);
    } else {
      std::uint64_t b;
      std::memcpy(&b, &p[i], 8);
      std::snprintf(buffer, sizeof buffer, " %016" PRIx64, b);
    }
    out += buffer;
  }
  return out;
}

inline std::string tensor_bits(const Tensor& t) {
  if (t.dtype() == DType::float32) return bits<float>(t);
  if (t.dtype() == DType::float64) return bits<double>(t);
  return " " + std::to_string(t.item<std::int64_t>());  // iterations
}

/// The lines of one case in one dtype: dense (both variables get dense gradients) or sparse
/// (w1 gets IndexedSlices with a repeated index, int64 and int32 on alternate steps).
template <class T>
std::vector<std::string> run(const Case& c, bool sparse) {
  const char* dtype = sizeof(T) == 4 ? "float32" : "float64";
  const std::string prefix =
      std::string(c.name) + " " + dtype + (sparse ? " sparse " : " dense ");
  std::vector<std::string> lines;
  std::shared_ptr<optim::Optimizer> opt = optim::deserialize(Config::parse(c.json));
  const Shape shape1{5, 3};
  std::vector<T> init1(15), init2(7);
  for (std::size_t i = 0; i < init1.size(); ++i) init1[i] = static_cast<T>((double(i) - 7) / 4);
  for (std::size_t i = 0; i < init2.size(); ++i) init2[i] = static_cast<T>(0.5 - double(i) / 8);
  Variable w1(Tensor::from_data(dtype_of_v<T>, shape1, init1.data()), "w1");
  Variable w2(Tensor::from_data(dtype_of_v<T>, {7}, init2.data()), "w2");
  for (int step = 0; step < kSteps; ++step) {
    Gradient g1;
    if (sparse) {
      const std::int64_t a = step % 5, b = (step + 2) % 5, d = (3 * step + 1) % 5;
      Tensor indices = step % 2 == 0 ? Tensor{a, b, a, d}
                                     : Tensor{static_cast<std::int32_t>(a),
                                              static_cast<std::int32_t>(b),
                                              static_cast<std::int32_t>(a),
                                              static_cast<std::int32_t>(d)};
      g1 = Gradient(IndexedSlices{filled<T>({4, 3}, step, 1), indices, shape1});
    } else {
      g1 = Gradient(filled<T>(shape1, step, 1));
    }
    const Gradient g2(filled<T>({7}, step, 2));
    opt->apply_gradients({{g1, w1}, {g2, w2}});
    const std::string at = prefix + std::to_string(step + 1) + " ";
    lines.push_back(at + "w1" + tensor_bits(w1.read_value_no_record()));
    lines.push_back(at + "w2" + tensor_bits(w2.read_value_no_record()));
    const std::vector<Variable> weights = opt->weights();
    for (const Variable& w : weights) {
      lines.push_back(at + w.name() + tensor_bits(w.read_value_no_record()));
    }
  }
  return lines;
}

/// Every line of every case: float32 then float64, dense then sparse.
inline std::vector<std::string> all_lines() {
  std::vector<std::string> out;
  for (const Case& c : cases()) {
    for (bool sparse : {false, true}) {
      for (const std::string& l : run<float>(c, sparse)) out.push_back(l);
      for (const std::string& l : run<double>(c, sparse)) out.push_back(l);
    }
  }
  return out;
}

}  // namespace tapeflow::testing::trajectories
