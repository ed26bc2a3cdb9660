#include "tapeflow/nn/losses.hpp"

#include <numeric>

#include "tapeflow/autograd/ops.hpp"
#include "tapeflow/core/check.hpp"
#include "tapeflow/core/kernels.hpp"
#include "config_util.hpp"

namespace tapeflow::nn {

namespace {

void check_inputs(const char* fn, const Tensor& y_true, const Tensor& y_pred) {
  if (!y_true || !y_pred) {
    detail::throw_value_error("{}: y_true and y_pred must not be none tensors", fn);
  }
  if (!is_floating(y_pred.dtype())) {
    detail::throw_type_error("{}: y_pred must be float32 or float64. Received: dtype={}", fn,
                             dtype_name(y_pred.dtype()));
  }
  if (y_pred.rank() == 0) {
    detail::throw_value_error("{}: y_pred must have rank >= 1. Received: a scalar", fn);
  }
}

/// y_true in y_pred's dtype.
Tensor as_pred_dtype(const Tensor& y_true, const Tensor& y_pred) {
  return y_true.dtype() == y_pred.dtype() ? y_true : cast(y_true, y_pred.dtype());
}

/// y_true broadcast to y_pred's shape (ValueError naming `fn` when they do not broadcast).
Tensor broadcast_labels(const char* fn, const Tensor& y_true, const Tensor& y_pred) {
  if (y_true.shape() == y_pred.shape()) return y_true;
  const Shape shape = broadcast_shape(y_true.shape(), y_pred.shape(), fn);
  if (shape != y_pred.shape()) {
    detail::throw_value_error("{}: y_true of shape {} does not broadcast to y_pred's shape {}", fn,
                              shape_str(y_true.shape()), shape_str(y_pred.shape()));
  }
  return broadcast_to(y_true, shape);
}

/// The probabilities clipped into [ε, 1 - ε].
Tensor clip_probabilities(const Tensor& p) {
  return clip_by_value(p, losses::kEpsilon, 1.0 - losses::kEpsilon);
}

}  // namespace

namespace losses {

Tensor mean_squared_error(const Tensor& y_true, const Tensor& y_pred) {
  check_inputs("mean_squared_error", y_true, y_pred);
  return reduce_mean(square(y_pred - as_pred_dtype(y_true, y_pred)), {-1});
}

Tensor mean_absolute_error(const Tensor& y_true, const Tensor& y_pred) {
  check_inputs("mean_absolute_error", y_true, y_pred);
  return reduce_mean(abs(y_pred - as_pred_dtype(y_true, y_pred)), {-1});
}

Tensor binary_crossentropy(const Tensor& y_true, const Tensor& y_pred, bool from_logits,
                           double label_smoothing, int axis) {
  constexpr const char* fn = "binary_crossentropy";
  check_inputs(fn, y_true, y_pred);
  Tensor y = broadcast_labels(fn, as_pred_dtype(y_true, y_pred), y_pred);
  if (label_smoothing != 0.0) y = y * (1.0 - label_smoothing) + 0.5 * label_smoothing;
  Tensor per_element;
  if (from_logits) {
    per_element = sigmoid_cross_entropy_with_logits(y, y_pred);
  } else {
    // Keras clips and then still adds ε inside both logs.
    const Tensor p = clip_probabilities(y_pred);
    per_element = -(y * log(p + kEpsilon) + (1.0 - y) * log(1.0 - p + kEpsilon));
  }
  return reduce_mean(per_element, {axis});
}

Tensor categorical_crossentropy(const Tensor& y_true, const Tensor& y_pred, bool from_logits,
                                double label_smoothing, int axis) {
  constexpr const char* fn = "categorical_crossentropy";
  check_inputs(fn, y_true, y_pred);
  if (y_true.shape() != y_pred.shape()) {
    detail::throw_value_error("{}: Shapes {} and {} are incompatible (y_true must have y_pred's "
                              "shape; use sparse_categorical_crossentropy for class ids)",
                              fn, shape_str(y_true.shape()), shape_str(y_pred.shape()));
  }
  const int a = detail::normalize_axis(fn, axis, y_pred.rank());
  Tensor y = as_pred_dtype(y_true, y_pred);
  if (label_smoothing != 0.0) {
    const double classes = static_cast<double>(y_pred.shape()[static_cast<std::size_t>(a)]);
    y = y * (1.0 - label_smoothing) + label_smoothing / classes;
  }
  if (from_logits) return softmax_cross_entropy_with_logits(y, y_pred, a);
  const Tensor p = clip_probabilities(y_pred / reduce_sum(y_pred, {a}, true));
  return -reduce_sum(y * log(p), {a});
}

Tensor sparse_categorical_crossentropy(const Tensor& y_true, const Tensor& y_pred,
                                       bool from_logits, int axis) {
  constexpr const char* fn = "sparse_categorical_crossentropy";
  check_inputs(fn, y_true, y_pred);
  if (y_true.dtype() == DType::boolean) {
    detail::throw_type_error("{}: y_true must hold class ids. Received: dtype=bool", fn);
  }
  const int a = detail::normalize_axis(fn, axis, y_pred.rank());
  Tensor logits = from_logits ? y_pred : log(clip_probabilities(y_pred));
  const int last = static_cast<int>(y_pred.rank()) - 1;
  if (a != last) {
    // Move the class axis last.
    std::vector<int> perm(y_pred.rank());
    std::iota(perm.begin(), perm.end(), 0);
    perm.erase(perm.begin() + a);
    perm.push_back(a);
    logits = transpose(logits, perm);
  }
  const Shape batch_shape(logits.shape().begin(), logits.shape().end() - 1);
  Tensor labels = is_integer(y_true.dtype()) ? y_true : cast(y_true, DType::int64);
  if (labels.shape() != batch_shape) {
    if (labels.size() != detail::shape_size(batch_shape)) {
      detail::throw_value_error(
          "{}: y_true of shape {} does not match y_pred of shape {} (expected class ids of shape "
          "{})",
          fn, shape_str(y_true.shape()), shape_str(y_pred.shape()), shape_str(batch_shape));
    }
    labels = reshape(labels, std::vector<std::int64_t>(batch_shape.begin(), batch_shape.end()));
  }
  return sparse_softmax_cross_entropy_with_logits(labels, logits);
}

std::pair<Tensor, Tensor> match_ranks(const Tensor& y_true, const Tensor& y_pred) {
  Tensor t = y_true;
  Tensor p = y_pred;
  if (!t || !p) return {t, p};
  if (t.rank() == 1 && p.rank() == 2) t = expand_dims(t, -1);
  const int diff = static_cast<int>(p.rank()) - static_cast<int>(t.rank());
  const bool pred_trailing_one = p.rank() > 0 && p.shape().back() == 1;
  if (diff != 1 || pred_trailing_one) {
    if (diff == 1 && pred_trailing_one) {
      p = squeeze(p, {-1});
    } else if (diff == -1 && t.shape().back() == 1) {
      t = squeeze(t, {-1});
    }
  }
  return {t, p};
}

}  // namespace losses

// ---- Loss --------------------------------------------------------------------------------------

struct Loss::Body {
  std::string class_name;
  std::string name;
  Config arguments;
  Function per_example;
};

Loss::Loss(const char* name) : Loss(losses::get(name)) {}
Loss::Loss(const std::string& name) : Loss(losses::get(name)) {}

Loss::Loss(std::string name, Function per_example)
    : Loss("LossFunctionWrapper", std::move(name), Config::object(), std::move(per_example)) {}

Loss::Loss(std::string class_name, std::string name, Config arguments, Function per_example)
    : body_(std::make_shared<const Body>(Body{std::move(class_name), std::move(name),
                                              std::move(arguments), std::move(per_example)})) {
  if (!body_->per_example) {
    detail::throw_value_error("Loss '{}': the loss function is empty", body_->name);
  }
}

Tensor Loss::call(const Tensor& y_true, const Tensor& y_pred) const {
  const auto [t, p] = losses::match_ranks(y_true, y_pred);
  return body_->per_example(t, p);
}

Tensor Loss::operator()(const Tensor& y_true, const Tensor& y_pred) const {
  return reduce_mean(call(y_true, y_pred));
}

const std::string& Loss::class_name() const { return body_->class_name; }
const std::string& Loss::name() const { return body_->name; }

bool Loss::from_logits() const {
  return body_->arguments.contains("from_logits") && body_->arguments["from_logits"].get<bool>();
}

Config Loss::get_config() const {
  Config config{{"reduction", "auto"}, {"name", body_->name}};
  for (auto it = body_->arguments.begin(); it != body_->arguments.end(); ++it) {
    config[it.key()] = it.value();
  }
  return config;
}

MeanSquaredError::MeanSquaredError(std::string name)
    : Loss("MeanSquaredError", std::move(name), Config::object(), losses::mean_squared_error) {}

MeanAbsoluteError::MeanAbsoluteError(std::string name)
    : Loss("MeanAbsoluteError", std::move(name), Config::object(), losses::mean_absolute_error) {}

BinaryCrossentropy::BinaryCrossentropy(bool from_logits, double label_smoothing, int axis,
                                       std::string name)
    : Loss("BinaryCrossentropy", std::move(name),
           Config{{"from_logits", from_logits},
                  {"label_smoothing", label_smoothing},
                  {"axis", axis}},
           [=](const Tensor& t, const Tensor& p) {
             return losses::binary_crossentropy(t, p, from_logits, label_smoothing, axis);
           }) {}

CategoricalCrossentropy::CategoricalCrossentropy(bool from_logits, double label_smoothing,
                                                 int axis, std::string name)
    : Loss("CategoricalCrossentropy", std::move(name),
           Config{{"from_logits", from_logits},
                  {"label_smoothing", label_smoothing},
                  {"axis", axis}},
           [=](const Tensor& t, const Tensor& p) {
             return losses::categorical_crossentropy(t, p, from_logits, label_smoothing, axis);
           }) {}

SparseCategoricalCrossentropy::SparseCategoricalCrossentropy(bool from_logits, std::string name)
    : Loss("SparseCategoricalCrossentropy", std::move(name),
           Config{{"from_logits", from_logits}, {"ignore_class", nullptr}},
           [=](const Tensor& t, const Tensor& p) {
             return losses::sparse_categorical_crossentropy(t, p, from_logits);
           }) {}

namespace losses {

Loss get(const std::string& name) {
  if (name == "mse" || name == "MSE" || name == "mean_squared_error" ||
      name == "MeanSquaredError") {
    return MeanSquaredError();
  }
  if (name == "mae" || name == "MAE" || name == "mean_absolute_error" ||
      name == "MeanAbsoluteError") {
    return MeanAbsoluteError();
  }
  if (name == "binary_crossentropy" || name == "bce" || name == "BinaryCrossentropy") {
    return BinaryCrossentropy();
  }
  if (name == "categorical_crossentropy" || name == "CategoricalCrossentropy") {
    return CategoricalCrossentropy();
  }
  if (name == "sparse_categorical_crossentropy" || name == "SparseCategoricalCrossentropy") {
    return SparseCategoricalCrossentropy();
  }
  detail::throw_value_error(
      "Unknown loss function: '{}'. Known losses: mse (mean_squared_error), mae "
      "(mean_absolute_error), binary_crossentropy (bce), categorical_crossentropy, "
      "sparse_categorical_crossentropy",
      name);
}

Config serialize(const Loss& loss) {
  return Config{{"class_name", loss.class_name()}, {"config", loss.get_config()}};
}

Loss deserialize(const Config& config) {
  if (config.is_string()) return get(config.get<std::string>());
  if (!config.is_object() || !config.contains("class_name") || !config["class_name"].is_string()) {
    detail::throw_value_error(
        "losses.deserialize: expected a name or {{\"class_name\", \"config\"}}. Received: {}",
        config.dump());
  }
  const std::string cls = config["class_name"].get<std::string>();
  const Config c = config.contains("config") ? config["config"] : Config::object();
  const char* where = "losses.deserialize";
  const std::string name = internal::config_value<std::string>(where, c, "name", "");
  const bool from_logits = internal::config_value<bool>(where, c, "from_logits", false);
  const double smoothing = internal::config_value<double>(where, c, "label_smoothing", 0.0);
  const int axis = internal::config_value<int>(where, c, "axis", -1);
  if (cls == "MeanSquaredError") return MeanSquaredError(name.empty() ? "mean_squared_error" : name);
  if (cls == "MeanAbsoluteError") {
    return MeanAbsoluteError(name.empty() ? "mean_absolute_error" : name);
  }
  if (cls == "BinaryCrossentropy") {
    return BinaryCrossentropy(from_logits, smoothing, axis,
                              name.empty() ? "binary_crossentropy" : name);
  }
  if (cls == "CategoricalCrossentropy") {
    return CategoricalCrossentropy(from_logits, smoothing, axis,
                                   name.empty() ? "categorical_crossentropy" : name);
  }
  if (cls == "SparseCategoricalCrossentropy") {
    return SparseCategoricalCrossentropy(from_logits,
                                         name.empty() ? "sparse_categorical_crossentropy" : name);
  }
  detail::throw_value_error("losses.deserialize: unknown loss class '{}'", cls);
}

}  // namespace losses

}  // namespace tapeflow::nn
