#include "tapeflow/autograd/variable.hpp"

#include <cstring>
#include <ostream>

#include "tapeflow/autograd/tape.hpp"
#include "tapeflow/core/check.hpp"
#include "tapeflow/core/dispatch.hpp"

namespace tapeflow {

namespace {

std::shared_ptr<detail::Storage> copy_storage(const Tensor& value) {
  auto storage = detail::Storage::make(value.dtype(), value.shape());
  if (storage->nbytes() > 0) std::memcpy(storage->data(), value.raw_data(), storage->nbytes());
  return storage;
}

/// Gives the variable a buffer no Tensor shares, copying only when one does.
void make_unique(detail::VariableState& state) {
  if (state.storage.use_count() == 1) return;
  auto fresh = detail::Storage::make(state.storage->dtype(), state.storage->shape());
  if (fresh->nbytes() > 0) std::memcpy(fresh->data(), state.storage->data(), fresh->nbytes());
  state.storage = std::move(fresh);
}

void check_compatible(const char* op, const detail::VariableState& state, const Tensor& value) {
  if (!value) detail::throw_value_error("{}: the value for variable '{}:0' is none", op, state.name);
  if (value.dtype() != state.storage->dtype()) {
    detail::throw_value_error("{}: dtype mismatch for variable '{}:0': expected {}, received {}",
                              op, state.name, dtype_name(state.storage->dtype()),
                              dtype_name(value.dtype()));
  }
  if (value.shape() != state.storage->shape()) {
    detail::throw_value_error("{}: shape mismatch for variable '{}:0': expected {}, received {}",
                              op, state.name, shape_str(state.storage->shape()),
                              shape_str(value.shape()));
  }
}

template <class Combine>
void update_in_place(detail::VariableState& state, const Tensor& delta, Combine combine) {
  make_unique(state);
  detail::visit_dtype(state.storage->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* dst = state.storage->data_as<T>();
    const T* src = static_cast<const T*>(delta.raw_data());
    const std::size_t n = state.storage->size();
    for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<T>(combine(dst[i], src[i]));
  });
}

}  // namespace

Variable::Variable(Tensor initial_value, std::string name, bool trainable) {
  if (!initial_value) {
    detail::throw_value_error("Variable: initial_value is none for variable '{}'", name);
  }
  state_ = std::make_shared<detail::VariableState>(detail::VariableState{
      detail::next_tensor_id(), std::move(name), trainable, copy_storage(initial_value)});
}

std::string Variable::name() const { return state_->name + ":0"; }

Tensor Variable::value() const {
  Tensor value(state_->storage);
  detail::record_variable_read(*state_, *this, value);
  return value;
}

Tensor Variable::read_value_no_record() const { return Tensor(state_->storage); }

void Variable::assign(const Tensor& value) {
  check_compatible("assign", *state_, value);
  if (state_->storage.use_count() == 1) {
    if (state_->storage->nbytes() > 0) {
      std::memcpy(state_->storage->data(), value.raw_data(), state_->storage->nbytes());
    }
  } else {
    state_->storage = copy_storage(value);
  }
}

void Variable::assign_add(const Tensor& delta) {
  check_compatible("assign_add", *state_, delta);
  update_in_place(*state_, delta, [](auto a, auto b) { return a + b; });
}

void Variable::assign_sub(const Tensor& delta) {
  check_compatible("assign_sub", *state_, delta);
  update_in_place(*state_, delta, [](auto a, auto b) { return a - b; });
}

const Shape& Variable::shape() const { return state_->storage->shape(); }
DType Variable::dtype() const { return state_->storage->dtype(); }
std::size_t Variable::size() const { return state_->storage->size(); }
bool Variable::trainable() const { return state_->trainable; }
std::uint64_t Variable::id() const { return state_->id; }

void* Variable::mutable_data() {
  make_unique(*state_);
  return state_->storage->data();
}

std::ostream& operator<<(std::ostream& os, const Variable& variable) {
  const Tensor value = variable.read_value_no_record();
  const std::string numpy = numpy_repr(value);
  // TensorFlow starts a multi-line value on its own line.
  const char* lead = numpy.find('\n') == std::string::npos ? "" : "\n";
  return os << "<tapeflow.Variable '" << variable.name() << "' shape=" << shape_str(value.shape())
            << " dtype=" << dtype_name(value.dtype()) << ", numpy=" << lead << numpy << ">";
}

}  // namespace tapeflow
