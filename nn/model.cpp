#include "tapeflow/nn/model.hpp"

#include <algorithm>
#include <iostream>
#include <unordered_set>

#include "tapeflow/autograd/gradient_tape.hpp"
#include "tapeflow/autograd/ops.hpp"
#include "tapeflow/core/check.hpp"
#include "tapeflow/core/random.hpp"
#include "tapeflow/nn/metrics.hpp"
#include "progbar.hpp"

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

/// Rows of a dataset: the number of examples, checked to agree between x and y.
std::size_t checked_rows(const char* fn, const Tensor& x, const Tensor& y) {
  if (!x || !y) detail::throw_value_error("{}: x and y must not be none tensors", fn);
  if (x.rank() == 0 || y.rank() == 0) {
    detail::throw_value_error("{}: x and y need a batch axis. Received: shapes {} and {}", fn,
                              shape_str(x.shape()), shape_str(y.shape()));
  }
  if (x.shape()[0] != y.shape()[0]) {
    detail::throw_value_error(
        "Data cardinality is ambiguous:\n  x sizes: {}\n  y sizes: {}\nMake sure all arrays "
        "contain the same number of samples.",
        x.shape()[0], y.shape()[0]);
  }
  detail::check_value(x.shape()[0] > 0, "{}: x and y have no rows", fn);
  return x.shape()[0];
}

/// Rows [begin, begin + size) of `t`, or the rows `order` lists there.
Tensor take_rows(const Tensor& t, const Tensor& order, std::size_t begin, std::size_t size) {
  if (order) return gather(t, slice_axis(order, 0, begin, size));
  if (begin == 0 && size == t.shape()[0]) return t;
  return slice_axis(t, 0, begin, size);
}

/// Mean of per-batch losses weighted by batch size, as Keras's loss tracker.
struct MeanTracker {
  double total = 0;
  double count = 0;
  void add(double value, double weight) {
    total += value * weight;
    count += weight;
  }
  double result() const { return count == 0 ? 0.0 : total / count; }
};

internal::Logs logs_of(double loss, const std::vector<Metric>& metrics,
                       const std::string& prefix = "") {
  internal::Logs logs{{prefix + "loss", loss}};
  for (const Metric& m : metrics) logs.emplace_back(prefix + m.name(), m.result());
  return logs;
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

void Model::compile(optim::Optimizer optimizer, Loss loss, std::vector<std::string> metrics) const {
  for (const std::string& name : metrics) {
    if (!metrics::is_known(name)) {
      detail::throw_value_error(
          "Unknown metric function: '{}'. Known metrics: accuracy (acc), binary_accuracy, "
          "categorical_accuracy, sparse_categorical_accuracy, mse, mae, binary_crossentropy, "
          "categorical_crossentropy, sparse_categorical_crossentropy",
          name);
    }
  }
  model_impl().set_compiled(
      ModelImpl::Compiled{std::move(optimizer), std::move(loss), std::move(metrics)});
}

optim::Optimizer Model::optimizer() const {
  if (!model_impl().compiled()) {
    detail::throw_value_error("Model \"{}\" has no optimizer: call `compile()` first", name());
  }
  return model_impl().compiled()->optimizer;
}

std::vector<std::string> Model::metrics_names() const {
  std::vector<std::string> names{"loss"};
  if (model_impl().compiled()) {
    for (const std::string& m : model_impl().compiled()->metrics) names.push_back(m);
  }
  return names;
}

namespace {

const ModelImpl::Compiled& require_compiled(const ModelImpl& model, const char* fn) {
  if (!model.compiled()) {
    detail::throw_value_error("You must compile your model before {}. Call `model.compile(optimizer, "
                              "loss)`.",
                              fn);
  }
  return *model.compiled();
}

void check_verbose(const char* fn, int verbose) {
  detail::check_value(verbose >= 0 && verbose <= 2, "{}: verbose must be 0, 1 or 2. Received: {}",
                      fn, verbose);
}

/// The metrics of `compiled`, resolved for this data ("accuracy" needs the shapes).
std::vector<Metric> make_metrics(const ModelImpl::Compiled& compiled, const Tensor& y_true,
                                 const Tensor& y_pred) {
  std::vector<Metric> out;
  for (const std::string& name : compiled.metrics) {
    out.push_back(metrics::get(name, compiled.loss, y_true.shape(), y_pred.shape()));
  }
  return out;
}

}  // namespace

std::map<std::string, double> Model::evaluate(const Tensor& x, const Tensor& y, int batch_size,
                                              int verbose) const {
  const ModelImpl::Compiled& compiled = require_compiled(model_impl(), "evaluating it");
  const std::size_t n = checked_rows("Model.evaluate", x, y);
  detail::check_value(batch_size > 0, "Model.evaluate: batch_size must be positive. Received: {}",
                      batch_size);
  check_verbose("Model.evaluate", verbose);
  const std::size_t step = static_cast<std::size_t>(batch_size);
  const std::size_t steps = (n + step - 1) / step;
  internal::Progbar bar(steps, verbose == 1 && internal::stdout_is_terminal(), std::cout);
  MeanTracker loss;
  std::vector<Metric> metrics;
  for (std::size_t s = 0; s < steps; ++s) {
    const std::size_t begin = s * step, size = std::min(step, n - begin);
    const Tensor xb = take_rows(x, Tensor(), begin, size);
    const Tensor yb = take_rows(y, Tensor(), begin, size);
    const Tensor y_pred = stop_gradient((*this)(xb, false));
    loss.add(compiled.loss(yb, y_pred).item<double>(), static_cast<double>(size));
    if (s == 0) metrics = make_metrics(compiled, yb, y_pred);
    for (Metric& m : metrics) m.update_state(yb, y_pred);
    if (verbose != 0) bar.update(s + 1, logs_of(loss.result(), metrics));
  }
  if (verbose != 0) bar.finish(logs_of(loss.result(), metrics));
  std::map<std::string, double> out{{"loss", loss.result()}};
  for (const Metric& m : metrics) out[m.name()] = m.result();
  return out;
}

History Model::fit(const Tensor& x, const Tensor& y, int epochs, int batch_size, int verbose,
                   const std::pair<Tensor, Tensor>& validation_data, bool shuffle) const {
  const ModelImpl::Compiled& compiled = require_compiled(model_impl(), "training it");
  const std::size_t n = checked_rows("Model.fit", x, y);
  detail::check_value(batch_size > 0, "Model.fit: batch_size must be positive. Received: {}",
                      batch_size);
  detail::check_value(epochs >= 0, "Model.fit: epochs must be >= 0. Received: {}", epochs);
  check_verbose("Model.fit", verbose);
  const auto& [x_val, y_val] = validation_data;
  const bool validate = static_cast<bool>(x_val) || static_cast<bool>(y_val);
  if (validate) checked_rows("Model.fit (validation_data)", x_val, y_val);

  optim::Optimizer optimizer = compiled.optimizer;
  const std::size_t step = static_cast<std::size_t>(batch_size);
  const std::size_t steps = (n + step - 1) / step;
  const bool dynamic = verbose == 1 && internal::stdout_is_terminal();
  History history;
  for (int epoch = 0; epoch < epochs; ++epoch) {
    if (verbose != 0) std::cout << "Epoch " << epoch + 1 << "/" << epochs << std::endl;
    internal::Progbar bar(steps, dynamic, std::cout);
    const Tensor order = shuffle ? random::permutation(n) : Tensor();
    MeanTracker loss_tracker;
    std::vector<Metric> metrics;
    for (std::size_t s = 0; s < steps; ++s) {
      const std::size_t begin = s * step, size = std::min(step, n - begin);
      const Tensor xb = take_rows(x, order, begin, size);
      const Tensor yb = take_rows(y, order, begin, size);
      Tensor y_pred, loss;
      std::vector<Variable> vars;
      std::vector<Gradient> grads;
      {
        GradientTape tape;
        y_pred = (*this)(xb, true);
        loss = compiled.loss(yb, y_pred);
        vars = trainable_variables();  // after the call: the first call builds the layers
        grads = tape.gradient(loss, std::vector<TensorLike>(vars.begin(), vars.end()));
      }
      optimizer.apply_gradients(zip(grads, vars));
      loss_tracker.add(loss.item<double>(), static_cast<double>(size));
      if (s == 0) metrics = make_metrics(compiled, yb, y_pred);
      for (Metric& m : metrics) m.update_state(yb, stop_gradient(y_pred));
      if (verbose != 0) bar.update(s + 1, logs_of(loss_tracker.result(), metrics));
    }
    internal::Logs logs = logs_of(loss_tracker.result(), metrics);
    if (validate) {
      const std::map<std::string, double> val = evaluate(x_val, y_val, batch_size, 0);
      for (const std::string& key : metrics_names()) logs.emplace_back("val_" + key, val.at(key));
    }
    if (verbose != 0) bar.finish(logs);
    for (const auto& [key, value] : logs) history.history[key].push_back(value);
    history.epochs.push_back(epoch);
  }
  return history;
}

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
    outputs.push_back(stop_gradient((*this)(batch, false)));
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
