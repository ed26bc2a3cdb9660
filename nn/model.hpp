#pragma once
// Model: a layer made of layers, as tf.keras.Model: the variables of all its layers, compile /
// fit / evaluate / predict, and summary.

#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tapeflow/nn/layer.hpp"
#include "tapeflow/nn/losses.hpp"
#include "tapeflow/optim/optimizer.hpp"

namespace tapeflow::nn {

/// What Model::fit returns, as Keras's History callback: per-epoch values under "loss", each
/// metric's name and, with validation data, "val_loss" and "val_<metric>"; `epochs` lists the
/// epoch indices (0-based), one per entry of each list.
struct History {
  std::map<std::string, std::vector<double>> history;
  std::vector<int> epochs;
};

/// The body of a model: a layer whose weights are those of its layers, plus what compile set.
class ModelImpl : public LayerImpl {
 public:
  /// The layers, in order.
  virtual std::vector<Layer> layers() const = 0;

  /// What compile() stored: the optimizer (shared with the caller's handle), the loss and the
  /// metric names; empty before compile.
  struct Compiled {
    optim::Optimizer optimizer;
    Loss loss;
    std::vector<std::string> metrics;
  };
  const std::optional<Compiled>& compiled() const { return compiled_; }
  void set_compiled(Compiled compiled) { compiled_ = std::move(compiled); }

  /// The trainable variables of every layer (each once), in layer order; none when the model
  /// itself is not trainable.
  std::vector<Variable> trainable_variables() const override;
  /// The other variables of every layer (each once), in layer order.
  std::vector<Variable> non_trainable_variables() const override;

 protected:
  ModelImpl(std::string class_name, const std::string& name);

 private:
  std::optional<Compiled> compiled_;
};

/// A copyable handle to a model; copies alias one model. Sequential is the model to build.
class Model : public Layer {
 public:
  explicit Model(std::shared_ptr<ModelImpl> impl);

  std::vector<Layer> layers() const;

  /// Configures training, as Keras's compile: `optimizer` is shared (copies alias it, so the
  /// caller's handle sees the iterations and slots), `loss` is a Loss or a name ("mse",
  /// "categorical_crossentropy", ...), and `metrics` are names reported by fit and evaluate
  /// ("accuracy" picks binary / categorical / sparse accuracy from the loss, see
  /// metrics::get). ValueError for an unknown loss or metric name; a second compile replaces
  /// the first.
  void compile(optim::Optimizer optimizer, Loss loss, std::vector<std::string> metrics = {}) const;

  /// Trains for `epochs` passes over (x, y), as Keras's fit. Each step takes the next
  /// batch_size rows (all epochs reshuffle the rows first when `shuffle`, drawing from the
  /// library's engine), runs the model with training=true under a GradientTape, takes the
  /// loss (the compiled Loss's batch mean) and calls
  /// optimizer.apply_gradients(zip(grads, trainable_variables())).
  /// An epoch's "loss" is the mean of the batch losses weighted by batch size; metrics are
  /// running means over the epoch's examples, computed on the same forward pass as the loss.
  /// validation_data = {x_val, y_val} adds "val_loss" and "val_<metric>" (evaluated after each
  /// epoch). verbose: 0 silent; 1 a Keras progress bar when stdout is a terminal and otherwise
  /// one line per epoch; 2 one line per epoch. The per-epoch line reads
  ///     Epoch 1/5
  ///     4/4 - loss: 0.1234 - accuracy: 0.9000 - val_loss: 0.2000 - val_accuracy: 0.8500
  /// ValueError before compile, for x and y with different numbers of rows, for batch_size <= 0
  /// or epochs < 0, and for a half-given validation_data.
  History fit(const Tensor& x, const Tensor& y, int epochs = 1, int batch_size = 32,
              int verbose = 1, const std::pair<Tensor, Tensor>& validation_data = {},
              bool shuffle = true) const;

  /// The loss and metrics on (x, y), batch by batch with training=false: {"loss": ...,
  /// "<metric>": ...}. verbose as in fit (1 prints one bar or line). ValueError before compile.
  std::map<std::string, double> evaluate(const Tensor& x, const Tensor& y, int batch_size = 32,
                                         int verbose = 1) const;

  /// The optimizer given to compile; ValueError before compile.
  optim::Optimizer optimizer() const;
  /// The keys fit and evaluate report: "loss", then the metric names (Keras's metrics_names).
  std::vector<std::string> metrics_names() const;

  /// The model's outputs for `x`, computed batch_size rows at a time and joined along axis 0
  /// (Keras's predict), with training=false. The result carries no gradient. ValueError for a
  /// scalar x or batch_size <= 0.
  Tensor predict(const Tensor& x, int batch_size = 32) const;

  /// Prints Keras's summary table to stdout: one row per layer with its name and class, its
  /// output shape (the batch axis shown as None) and its parameter count, then the totals.
  /// ValueError when the model is not built.
  void summary() const;
  /// The same table to `out`, `line_length` characters wide (Keras's default 65).
  void summary(std::ostream& out, std::size_t line_length = 65) const;

 protected:
  ModelImpl& model_impl() const { return static_cast<ModelImpl&>(impl()); }
};

}  // namespace tapeflow::nn
