#include "tapeflow/nn/activations.hpp"

#include <utility>

#include "tapeflow/autograd/ops.hpp"
#include "tapeflow/core/check.hpp"

namespace tapeflow::nn {

struct Activation::Body {
  std::string name;
  Function function;
};

namespace {

Activation::Function by_name(const std::string& name) {
  if (name.empty() || name == "linear") return activations::linear;
  if (name == "relu") return [](const Tensor& x) { return relu(x); };
  if (name == "sigmoid") return [](const Tensor& x) { return sigmoid(x); };
  if (name == "tanh") return [](const Tensor& x) { return tanh(x); };
  if (name == "softmax") return [](const Tensor& x) { return softmax(x, -1); };
  detail::throw_value_error("Unknown activation function: '{}'. Known activations: {}", name,
                            fmt::join(activations::names(), ", "));
}

}  // namespace

Activation::Activation(const char* name) : Activation(std::string(name)) {}

Activation::Activation(const std::string& name)
    : body_(std::make_shared<const Body>(Body{name.empty() ? "linear" : name, by_name(name)})) {}

Activation::Activation(std::string name, Function function)
    : body_(std::make_shared<const Body>(Body{std::move(name), std::move(function)})) {
  if (!body_->function) {
    detail::throw_value_error("Activation '{}': the function is empty", body_->name);
  }
}

Tensor Activation::operator()(const Tensor& x) const { return body_->function(x); }
const std::string& Activation::name() const { return body_->name; }

namespace activations {

Tensor linear(const Tensor& x) { return x; }
Activation get(const std::string& name) { return Activation(name); }
std::vector<std::string> names() { return {"linear", "relu", "sigmoid", "softmax", "tanh"}; }

}  // namespace activations

}  // namespace tapeflow::nn
