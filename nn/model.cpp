#include "tapeflow/nn/model.hpp"

#include <algorithm>
#include <iostream>
#include <unordered_set>

#include "tapeflow/autograd/ops.hpp"
#include "tapeflow/core/check.hpp"

namespace tapeflow::nn {

namespace {

/// 1234567 → "1,234,567", as Python's '{:,}'.
std::string with_thousands(std::size_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

/// A shape as Keras prints a symbolic one: the batch axis is None, "(None, 10)", "(None,)".
std::string symbolic_shape(const Shape& shape) {
  if (shape.empty()) return "()";
  std::string out = "(None";
  for (std::size_t k = 1; k < shape.size(); ++k) out += ", " + std::to_string(shape[k]);
  return out + (shape.size() == 1 ? ",)" : ")");
}

/// One table row, wrapped as Keras's print_row does: each field fills its column (two spaces
/// between columns), breaking early after "),", "},", "]," or "',".
void print_row(std::ostream& out, std::vector<std::string> fields,
               const std::vector<std::size_t>& positions) {
  const auto any_left = [&] {
    return std::any_of(fields.begin(), fields.end(), [](const std::string& f) { return !f.empty(); });
  };
  while (any_left()) {
    std::string line;
    for (std::size_t col = 0; col < fields.size(); ++col) {
      const std::size_t start = col > 0 ? positions[col - 1] : 0;
      const std::size_t space = col + 1 != positions.size() ? 2 : 0;
      std::size_t cutoff = positions[col] - start - space;
      std::string fit = fields[col].substr(0, cutoff);
      std::size_t best = std::string::npos;
      for (const char* brk : {"),", "},", "],", "',"}) {
        const std::size_t at = fit.find(brk);
        if (at != std::string::npos) best = std::min(best, at + 2);
      }
      if (best != std::string::npos) {
        cutoff = best;
        fit = fit.substr(0, cutoff);
      }
      if (col == 0) line += ' ';
      line += fit;
      line += std::string(space, ' ');
      fields[col] = cutoff < fields[col].size() ? fields[col].substr(cutoff) : std::string();
      if (positions[col] > line.size()) line += std::string(positions[col] - line.size(), ' ');
    }
    out << line << '\n';
  }
}

/// Appends each variable of `from` not yet in `seen`.
void append_unique(std::vector<Variable>& to, const std::vector<Variable>& from,
                   std::unordered_set<std::uint64_t>& seen) {
  for (const Variable& v : from) {
    if (seen.insert(v.id()).second) to.push_back(v);
  }
}

}  // namespace

// ---- ModelImpl -------------------------------------------------------------------------------

ModelImpl::ModelImpl(std::string class_name, const std::string& name)
    : LayerImpl(std::move(class_name), name) {}

std::vector<Variable> ModelImpl::trainable_variables() const {
  std::vector<Variable> out;
  if (!trainable()) return out;
  std::unordered_set<std::uint64_t> seen;
  append_unique(out, LayerImpl::trainable_variables(), seen);
  for (const Layer& layer : layers()) append_unique(out, layer.trainable_variables(), seen);
  return out;
}

std::vector<Variable> ModelImpl::non_trainable_variables() const {
  std::vector<Variable> out;
  std::unordered_set<std::uint64_t> seen;
  append_unique(out, LayerImpl::non_trainable_variables(), seen);
  for (const Layer& layer : layers()) {
    append_unique(out, trainable() ? layer.non_trainable_variables() : layer.variables(), seen);
  }
  return out;
}

// ---- Model -----------------------------------------------------------------------------------

Model::Model(std::shared_ptr<ModelImpl> impl) : Layer(std::move(impl)) {}

std::vector<Layer> Model::layers() const { return model_impl().layers(); }

Tensor Model::predict(const Tensor& x, int batch_size) const {
  if (!x || x.rank() == 0) {
    detail::throw_value_error("Model.predict: x must have a batch axis. Received: {}",
                              x ? "a scalar" : "a none tensor");
  }
  detail::check_value(batch_size > 0, "Model.predict: batch_size must be positive. Received: {}",
                      batch_size);
  const std::size_t n = x.shape()[0];
  detail::check_value(n > 0, "Model.predict: x has no rows (shape {})", shape_str(x.shape()));
  const std::size_t step = static_cast<std::size_t>(batch_size);
  std::vector<Tensor> outputs;
  for (std::size_t begin = 0; begin < n; begin += step) {
    const std::size_t size = std::min(step, n - begin);
    const Tensor batch = (begin == 0 && size == n) ? x : slice_axis(x, 0, begin, size);
    outputs.push_back(stop_gradient((*this)(batch)));
  }
  return outputs.size() == 1 ? outputs[0] : concat(outputs, 0);
}

void Model::summary() const { summary(std::cout); }

void Model::summary(std::ostream& out, std::size_t line_length) const {
  if (!built()) {
    detail::throw_value_error(
        "This model has not yet been built. Build the model first by calling `build()` or by "
        "calling the model on a batch of data.");
  }
  const std::vector<std::size_t> positions{
      static_cast<std::size_t>(static_cast<double>(line_length) * 0.45),
      static_cast<std::size_t>(static_cast<double>(line_length) * 0.85), line_length};
  out << "Model: \"" << name() << "\"\n";
  out << std::string(line_length, '_') << '\n';
  print_row(out, {"Layer (type)", "Output Shape", "Param #"}, positions);
  out << std::string(line_length, '=') << '\n';
  for (const Layer& layer : layers()) {
    const std::string title = layer.name() + " (" + layer.class_name() + ")";
    if (layer.built()) {
      const Shape output = layer.compute_output_shape(layer.impl().build_input_shape());
      print_row(out, {title, symbolic_shape(output), std::to_string(layer.count_params())},
                positions);
    } else {
      print_row(out, {title, "multiple", "0 (unused)"}, positions);
    }
    out << std::string(line_length, ' ') << '\n';
  }
  out << std::string(line_length, '=') << '\n';
  std::size_t trainable = 0, non_trainable = 0;
  for (const Variable& v : trainable_variables()) trainable += v.size();
  for (const Variable& v : non_trainable_variables()) non_trainable += v.size();
  out << "Total params: " << with_thousands(trainable + non_trainable) << '\n';
  out << "Trainable params: " << with_thousands(trainable) << '\n';
  out << "Non-trainable params: " << with_thousands(non_trainable) << '\n';
  out << std::string(line_length, '_') << '\n';
}

}  // namespace tapeflow::nn
