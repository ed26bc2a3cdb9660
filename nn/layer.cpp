#include "tapeflow/nn/layer.hpp"

#include <map>
#include <mutex>
#include <regex>
#include <unordered_set>

#include "tapeflow/autograd/ops.hpp"
#include "tapeflow/core/check.hpp"

namespace tapeflow::nn {

namespace {

struct NameRegistry {
  std::mutex mutex;
  std::map<std::string, std::size_t> counts;
};

NameRegistry& name_registry() {
  static NameRegistry registry;
  return registry;
}

/// Keras's call context: the `training` value of the innermost layer call on this thread.
thread_local bool current_training = false;

/// Sets current_training for one layer call (when given) and restores it after, also on a throw.
class TrainingScope {
 public:
  explicit TrainingScope(std::optional<bool> training) : saved_(current_training) {
    if (training) current_training = *training;
  }
  ~TrainingScope() { current_training = saved_; }
  TrainingScope(const TrainingScope&) = delete;
  TrainingScope& operator=(const TrainingScope&) = delete;

 private:
  bool saved_;
};

}  // namespace

std::string to_snake_case(const std::string& name) {
  static const std::regex word("(.)([A-Z][a-z0-9]+)");
  static const std::regex hump("([a-z])([A-Z])");
  std::string out = std::regex_replace(std::regex_replace(name, word, "$1_$2"), hump, "$1_$2");
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // A leading underscore would make a bad scope name; Keras prefixes "private".
  if (!out.empty() && out[0] == '_') out = "private" + out;
  return out;
}

std::string unique_object_name(const std::string& base) {
  NameRegistry& registry = name_registry();
  std::lock_guard<std::mutex> lock(registry.mutex);
  const std::size_t n = registry.counts[base]++;
  return n == 0 ? base : base + "_" + std::to_string(n);
}

void clear_session() {
  NameRegistry& registry = name_registry();
  std::lock_guard<std::mutex> lock(registry.mutex);
  registry.counts.clear();
}

// ---- LayerImpl -------------------------------------------------------------------------------

LayerImpl::LayerImpl(std::string class_name, const std::string& name, DType dtype)
    : class_name_(std::move(class_name)), dtype_(dtype) {
  if (!is_floating(dtype)) {
    detail::throw_type_error("{}: the layer dtype must be float32 or float64. Received: {}",
                             class_name_, dtype_name(dtype));
  }
  name_ = name.empty() ? unique_object_name(to_snake_case(class_name_)) : name;
}

LayerImpl::~LayerImpl() = default;

Tensor LayerImpl::operator()(const Tensor& inputs, std::optional<bool> training) {
  if (!inputs) {
    detail::throw_value_error("Layer \"{}\": the input is a none tensor", name_);
  }
  maybe_build(inputs.shape());
  TrainingScope scope(training);
  return call(inputs);
}

bool LayerImpl::training() {
  return current_training;
}

void LayerImpl::maybe_build(const Shape& input_shape) {
  if (built_) return;
  try {
    build(input_shape);
  } catch (...) {
    // All-or-nothing: a failed build leaves no half-made weights behind.
    weights_.clear();
    weight_trainable_.clear();
    throw;
  }
  build_input_shape_ = input_shape;
  built_ = true;
}

void LayerImpl::build(const Shape& /*input_shape*/) {}

Config LayerImpl::get_config() const {
  return Config{{"name", name_}, {"trainable", trainable_}, {"dtype", dtype_name(dtype_)}};
}

std::vector<Variable> LayerImpl::trainable_variables() const {
  std::vector<Variable> out;
  if (!trainable_) return out;
  for (std::size_t i = 0; i < weights_.size(); ++i) {
    if (weight_trainable_[i]) out.push_back(weights_[i]);
  }
  return out;
}

std::vector<Variable> LayerImpl::non_trainable_variables() const {
  std::vector<Variable> out;
  for (std::size_t i = 0; i < weights_.size(); ++i) {
    if (!trainable_ || !weight_trainable_[i]) out.push_back(weights_[i]);
  }
  return out;
}

std::vector<Variable> LayerImpl::variables() const {
  std::vector<Variable> out = trainable_variables();
  for (const Variable& v : non_trainable_variables()) out.push_back(v);
  return out;
}

std::size_t LayerImpl::count_params() const {
  if (!built_) {
    detail::throw_value_error(
        "You tried to call `count_params` on layer {}, but the layer isn't built. You can build "
        "it manually via: `{}.build(batch_input_shape)`.",
        name_, name_);
  }
  std::size_t n = 0;
  std::unordered_set<std::uint64_t> seen;
  for (const Variable& v : variables()) {
    if (seen.insert(v.id()).second) n += v.size();
  }
  return n;
}

Variable LayerImpl::add_weight(const std::string& name, const Shape& shape,
                               const Initializer& initializer, bool trainable) {
  Variable v(initializer(shape, dtype_), name_ + "/" + name, trainable);
  weights_.push_back(v);
  weight_trainable_.push_back(trainable);
  return v;
}

// ---- Layer -----------------------------------------------------------------------------------

Layer::Layer(std::shared_ptr<LayerImpl> impl) : impl_(std::move(impl)) {
  if (!impl_) detail::throw_value_error("Layer: the layer body is null");
}

Tensor Layer::operator()(const Tensor& inputs, std::optional<bool> training) const {
  return (*impl_)(inputs, training);
}

Tensor Layer::call(const Tensor& inputs, std::optional<bool> training) const {
  if (!impl_->built()) {
    detail::throw_value_error("Layer \"{}\" is not built: call it on a batch, or build(input_shape) "
                              "first",
                              impl_->name());
  }
  TrainingScope scope(training);
  return impl_->call(inputs);
}

void Layer::build(const Shape& input_shape) const { impl_->maybe_build(input_shape); }
bool Layer::built() const { return impl_->built(); }
Shape Layer::compute_output_shape(const Shape& input_shape) const {
  return impl_->compute_output_shape(input_shape);
}
const std::string& Layer::name() const { return impl_->name(); }
const std::string& Layer::class_name() const { return impl_->class_name(); }
DType Layer::dtype() const { return impl_->dtype(); }
bool Layer::trainable() const { return impl_->trainable(); }
void Layer::set_trainable(bool trainable) const { impl_->set_trainable(trainable); }
std::vector<Variable> Layer::trainable_variables() const { return impl_->trainable_variables(); }
std::vector<Variable> Layer::non_trainable_variables() const {
  return impl_->non_trainable_variables();
}
std::vector<Variable> Layer::variables() const { return impl_->variables(); }
std::size_t Layer::count_params() const { return impl_->count_params(); }
Config Layer::get_config() const { return impl_->get_config(); }

std::vector<Tensor> Layer::get_weights() const {
  std::vector<Tensor> out;
  for (const Variable& v : variables()) out.push_back(v.read_value_no_record());
  return out;
}

void Layer::set_weights(const std::vector<Tensor>& weights) const {
  std::vector<Variable> vars = variables();
  if (weights.size() != vars.size()) {
    detail::throw_value_error(
        "Layer {} weight shape mismatch: you called `set_weights(weights)` with a weight list of "
        "length {}, but the layer was expecting {} weights.",
        name(), weights.size(), vars.size());
  }
  // Check everything first, so a bad entry assigns nothing. Values convert to the variable's
  // dtype, as Keras converts numpy arrays.
  for (std::size_t i = 0; i < vars.size(); ++i) {
    if (!weights[i] || weights[i].shape() != vars[i].shape()) {
      detail::throw_value_error(
          "Layer {} weight shape mismatch: weight {} ({}) has shape {}, received {}", name(), i,
          vars[i].name(), shape_str(vars[i].shape()),
          weights[i] ? shape_str(weights[i].shape()) : std::string("a none tensor"));
    }
  }
  for (std::size_t i = 0; i < vars.size(); ++i) vars[i].assign(cast(weights[i], vars[i].dtype()));
}

Config layers::serialize(const Layer& layer) {
  return Config{{"class_name", layer.class_name()}, {"config", layer.get_config()}};
}

}  // namespace tapeflow::nn
