#pragma once
// Activations by name, as tf.keras.activations.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tapeflow/core/tensor.hpp"

namespace tapeflow::nn {

/// An activation function with its Keras name. Constructible from a name, so layers take
/// `activation = "relu"`:
///   "linear" (also ""): x;  "relu": max(x, 0);  "sigmoid": 1/(1+e^-x);  "tanh": tanh x;
///   "softmax": e^(x_i - max) / Σ_j e^(x_j - max) over the last axis.
/// An unknown name is a ValueError that lists the known ones.
class Activation {
 public:
  using Function = std::function<Tensor(const Tensor&)>;

  Activation(const char* name);
  Activation(const std::string& name);
  /// A custom activation; `name` is what get_config reports.
  Activation(std::string name, Function function);

  Tensor operator()(const Tensor& x) const;
  /// The Keras name: "linear" for the identity.
  const std::string& name() const;

 private:
  struct Body;
  std::shared_ptr<const Body> body_;
};

namespace activations {
/// The identity, as Keras's "linear".
Tensor linear(const Tensor& x);
/// The activation named `name`; ValueError listing the known names otherwise.
Activation get(const std::string& name);
/// The names `get` knows, sorted.
std::vector<std::string> names();
}  // namespace activations

}  // namespace tapeflow::nn
