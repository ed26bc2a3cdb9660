#include "tapeflow/core/tensor.hpp"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

#include "tapeflow/core/check.hpp"
#include "tapeflow/core/dispatch.hpp"

namespace tapeflow {

namespace detail {

Storage::Storage(DType dtype, Shape shape)
    : dtype_(dtype), shape_(std::move(shape)), size_(shape_size(shape_)), data_(inline_) {
  const std::size_t bytes = nbytes();
  if (bytes > kInlineBytes) {
    const std::size_t rounded = (bytes + 63) / 64 * 64;
    data_ = std::aligned_alloc(64, rounded);
    if (data_ == nullptr) throw std::bad_alloc();
  }
}

Storage::~Storage() {
  if (data_ != inline_) std::free(data_);
}

std::shared_ptr<Storage> Storage::make(DType dtype, Shape shape) {
  return std::make_shared<Storage>(dtype, std::move(shape));
}

std::uint64_t next_tensor_id() {
  static std::atomic<std::uint64_t> counter{1};
  return counter.fetch_add(1, std::memory_order_relaxed);
}

void throw_item_size_error(const Shape& shape) {
  throw_value_error("item: the tensor must have exactly one element. Received: shape={} ({} elements)",
                    shape_str(shape), shape_size(shape));
}

void throw_ragged_list_error() {
  throw_value_error("Tensor: can't convert a non-rectangular nested list to a Tensor");
}

}  // namespace detail

namespace {

template <class T>
Tensor scalar_of(T value) {
  Tensor t = Tensor::empty(dtype_of_v<T>, {});
  *static_cast<T*>(t.storage()->data()) = value;
  return t;
}

template <class List>
Tensor from_double_list(const List& values) {
  Shape shape;
  std::vector<float> flat;
  detail::flatten_list(values, 0, shape, flat);
  return Tensor::from_data(DType::float32, std::move(shape), flat.data());
}

}  // namespace

Tensor::Tensor(float value) : Tensor(scalar_of(value)) {}
Tensor::Tensor(double value) : Tensor(scalar_of(static_cast<float>(value))) {}
Tensor::Tensor(std::int32_t value) : Tensor(scalar_of(value)) {}
Tensor::Tensor(long value) : Tensor(scalar_of(static_cast<std::int64_t>(value))) {}
Tensor::Tensor(long long value) : Tensor(scalar_of(static_cast<std::int64_t>(value))) {}

Tensor::Tensor(std::initializer_list<double> values) : Tensor(from_double_list(values)) {}
Tensor::Tensor(std::initializer_list<std::initializer_list<double>> values)
    : Tensor(from_double_list(values)) {}
Tensor::Tensor(std::initializer_list<std::initializer_list<std::initializer_list<double>>> values)
    : Tensor(from_double_list(values)) {}
Tensor::Tensor(
    std::initializer_list<std::initializer_list<std::initializer_list<std::initializer_list<double>>>>
        values)
    : Tensor(from_double_list(values)) {}

Tensor::Tensor(std::shared_ptr<detail::Storage> storage)
    : storage_(std::move(storage)), id_(detail::next_tensor_id()) {}

void Tensor::from_int64_values(Shape shape, const std::vector<std::int64_t>& values, bool wide) {
  if (wide) {
    *this = from_data(DType::int64, std::move(shape), values.data());
    return;
  }
  std::vector<std::int32_t> narrow(values.begin(), values.end());
  *this = from_data(DType::int32, std::move(shape), narrow.data());
}

namespace {
[[noreturn]] void throw_none(const char* what) {
  detail::throw_value_error("Tensor::{}: the tensor is none (a missing value, e.g. an unconnected "
                            "gradient)",
                            what);
}
}  // namespace

DType Tensor::dtype() const {
  if (!storage_) throw_none("dtype");
  return storage_->dtype();
}

const Shape& Tensor::shape() const {
  if (!storage_) throw_none("shape");
  return storage_->shape();
}

std::size_t Tensor::size() const {
  if (!storage_) throw_none("size");
  return storage_->size();
}

const void* Tensor::raw_data() const {
  if (!storage_) throw_none("data");
  return storage_->data();
}

Tensor Tensor::empty(DType dtype, Shape shape) {
  return Tensor(detail::Storage::make(dtype, std::move(shape)));
}

Tensor Tensor::from_data(DType dtype, Shape shape, const void* data) {
  Tensor t = empty(dtype, std::move(shape));
  if (t.storage_->nbytes() > 0) std::memcpy(t.storage_->data(), data, t.storage_->nbytes());
  return t;
}

void Tensor::copy_to(DType dtype, void* out) const {
  if (!storage_) throw_none("numpy");
  const std::size_t n = storage_->size();
  detail::visit_dtype(storage_->dtype(), [&](auto from_tag) {
    using From = typename decltype(from_tag)::type;
    const From* src = storage_->data_as<From>();
    detail::visit_dtype(dtype, [&](auto to_tag) {
      using To = typename decltype(to_tag)::type;
      To* dst = static_cast<To*>(out);
      for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<To>(src[i]);
    });
  });
}

void Tensor::check_data_type(DType requested) const {
  if (dtype() != requested) {
    detail::throw_type_error("Tensor::data: requested element type {} of a {} tensor",
                             dtype_name(requested), dtype_name(dtype()));
  }
}

std::string shape_str(const Shape& shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape[0]);
  return fmt::format("({})", fmt::join(shape, ", "));
}

}  // namespace tapeflow
