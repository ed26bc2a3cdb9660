#include "tapeflow/nn/metrics.hpp"

#include <utility>

#include "tapeflow/autograd/ops.hpp"
#include "tapeflow/core/check.hpp"

namespace tapeflow::nn {

namespace metrics {

namespace {

void check_pred(const char* fn, const Tensor& y_true, const Tensor& y_pred) {
  if (!y_true || !y_pred) detail::throw_value_error("{}: y_true and y_pred must not be none", fn);
  if (y_pred.rank() == 0) {
    detail::throw_value_error("{}: y_pred must have rank >= 1. Received: a scalar", fn);
  }
}

Tensor as_float32(const Tensor& bools) { return cast(bools, DType::float32); }

}  // namespace

Tensor binary_accuracy(const Tensor& y_true, const Tensor& y_pred, double threshold) {
  check_pred("binary_accuracy", y_true, y_pred);
  const Tensor predicted = cast(greater(y_pred, scalar_like(y_pred, threshold)), DType::float64);
  const Tensor truth = cast(y_true, DType::float64);
  return reduce_mean(as_float32(equal(truth, predicted)), {-1});
}

Tensor categorical_accuracy(const Tensor& y_true, const Tensor& y_pred) {
  check_pred("categorical_accuracy", y_true, y_pred);
  if (y_true.rank() == 0) {
    detail::throw_value_error("categorical_accuracy: y_true must have rank >= 1 (one-hot rows)");
  }
  return as_float32(equal(argmax(y_true, -1), argmax(y_pred, -1)));
}

Tensor sparse_categorical_accuracy(const Tensor& y_true, const Tensor& y_pred) {
  check_pred("sparse_categorical_accuracy", y_true, y_pred);
  Tensor labels = y_true;
  if (labels.rank() == y_pred.rank() && labels.rank() > 0 && labels.shape().back() == 1) {
    labels = squeeze(labels, {-1});
  }
  const Tensor predicted = argmax(y_pred, -1);
  if (labels.shape() != predicted.shape()) {
    detail::throw_value_error(
        "sparse_categorical_accuracy: y_true of shape {} does not match y_pred of shape {}",
        shape_str(y_true.shape()), shape_str(y_pred.shape()));
  }
  return as_float32(equal(cast(labels, DType::int64), predicted));
}

}  // namespace metrics

Metric::Metric(std::string name, Function per_example)
    : name_(std::move(name)), per_example_(std::move(per_example)) {
  if (!per_example_) detail::throw_value_error("Metric '{}': the metric function is empty", name_);
}

void Metric::update_state(const Tensor& y_true, const Tensor& y_pred) {
  const auto [t, p] = losses::match_ranks(y_true, y_pred);
  const Tensor values = per_example_(t, p);
  total_ += reduce_sum(cast(values, DType::float64)).item<double>();
  count_ += static_cast<double>(values.size());
}

double Metric::result() const { return count_ == 0 ? 0.0 : total_ / count_; }

void Metric::reset_state() {
  total_ = 0;
  count_ = 0;
}

namespace metrics {

bool is_known(const std::string& name) {
  for (const char* known :
       {"accuracy", "acc", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
        "mse", "mae", "mean_squared_error", "mean_absolute_error", "binary_crossentropy",
        "categorical_crossentropy", "sparse_categorical_crossentropy"}) {
    if (name == known) return true;
  }
  return false;
}

Metric get(const std::string& name, const Loss& loss, const Shape& y_true_shape,
           const Shape& y_pred_shape) {
  if (name == "accuracy" || name == "acc") {
    const std::string& cls = loss.class_name();
    if (cls == "SparseCategoricalCrossentropy") return Metric(name, sparse_categorical_accuracy);
    if (cls == "CategoricalCrossentropy") return Metric(name, categorical_accuracy);
    if (cls == "BinaryCrossentropy") {
      const double threshold = loss.from_logits() ? 0.0 : 0.5;
      return Metric(name, [threshold](const Tensor& t, const Tensor& p) {
        return binary_accuracy(t, p, threshold);
      });
    }
    // TF2 Keras's shape rule (compile_utils), on the rank-matched shapes.
    Shape t = y_true_shape;
    if (t.size() == 1 && y_pred_shape.size() == 2) t.push_back(1);
    const std::size_t p_last = y_pred_shape.empty() ? 0 : y_pred_shape.back();
    const std::size_t t_last = t.empty() ? 0 : t.back();
    if (p_last == 1) return Metric(name, [](const Tensor& a, const Tensor& b) {
      return binary_accuracy(a, b);
    });
    if (t.size() < y_pred_shape.size() || (t_last == 1 && p_last > 1)) {
      return Metric(name, sparse_categorical_accuracy);
    }
    return Metric(name, categorical_accuracy);
  }
  if (name == "binary_accuracy") {
    return Metric(name, [](const Tensor& a, const Tensor& b) { return binary_accuracy(a, b); });
  }
  if (name == "categorical_accuracy") return Metric(name, categorical_accuracy);
  if (name == "sparse_categorical_accuracy") return Metric(name, sparse_categorical_accuracy);
  if (name == "mse" || name == "mean_squared_error") return Metric(name, losses::mean_squared_error);
  if (name == "mae" || name == "mean_absolute_error") {
    return Metric(name, losses::mean_absolute_error);
  }
  if (name == "binary_crossentropy") {
    return Metric(name, [](const Tensor& a, const Tensor& b) {
      return losses::binary_crossentropy(a, b);
    });
  }
  if (name == "categorical_crossentropy") {
    return Metric(name, [](const Tensor& a, const Tensor& b) {
      return losses::categorical_crossentropy(a, b);
    });
  }
  if (name == "sparse_categorical_crossentropy") {
    return Metric(name, [](const Tensor& a, const Tensor& b) {
      return losses::sparse_categorical_crossentropy(a, b);
    });
  }
  detail::throw_value_error(
      "Unknown metric function: '{}'. Known metrics: accuracy (acc), binary_accuracy, "
      "categorical_accuracy, sparse_categorical_accuracy, mse, mae, binary_crossentropy, "
      "categorical_crossentropy, sparse_categorical_crossentropy",
      name);
}

}  // namespace metrics

}  // namespace tapeflow::nn
