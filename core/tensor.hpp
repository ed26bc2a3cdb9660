#pragma once
// Tensor: an immutable n-dimensional value with a runtime dtype and shared storage.

#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "tapeflow/core/config.hpp"
#include "tapeflow/core/error.hpp"
#include "tapeflow/core/storage.hpp"

#include <xtensor/xarray.hpp>

namespace tapeflow {

namespace detail {
/// A process-unique id for a tensor handle, used by the tape (never reused).
std::uint64_t next_tensor_id();
/// Throws the TypeError for numpy<T>/item<T> conversions that are not defined.
[[noreturn]] void throw_item_size_error(const Shape& shape);
/// Integer element types that make an integer Tensor from a braced list (bool is not one).
template <class T>
struct is_list_integer
    : std::integral_constant<bool, std::is_integral<T>::value && !std::is_same<T, bool>::value> {};

/// An element of a flat floating list such as `{1.0, 2.5}`. Taken through this wrapper (a
/// user-defined conversion) rather than as a plain double, so that a list of one-element rows,
/// `{{1.0}, {2.0}}`, picks the 2-D constructor: a plain double would bind `{1.0}` as exactly as
/// the 2-D list does, win as the non-template, and flatten the column to shape (2,).
struct ListScalar {
  ListScalar(double v) : value(v) {}  // NOLINT: implicit, as the list's elements
  double value;
};

/// Throws the ValueError for a ragged nested list.
[[noreturn]] void throw_ragged_list_error();

/// Flattens a nested initializer list row-major, recording its shape; ragged lists are an error.
template <class T, class Out>
void flatten_list(const T& value, std::size_t /*depth*/, Shape& /*shape*/, std::vector<Out>& out) {
  out.push_back(static_cast<Out>(value));
}
template <class T, class Out>
void flatten_list(std::initializer_list<T> list, std::size_t depth, Shape& shape,
                  std::vector<Out>& out) {
  if (shape.size() == depth) {
    shape.push_back(list.size());
  } else if (shape[depth] != list.size()) {
    throw_ragged_list_error();
  }
  for (const T& item : list) flatten_list(item, depth + 1, shape, out);
}
}  // namespace detail

/// An immutable value: dtype, shape and row-major data. Copies share storage (like Python
/// references); ops always produce new tensors. A default-constructed Tensor is "none": it holds
/// no value and `bool(t)` is false, which is how a missing gradient reads.
///
///     Tensor a = 2.0;                       // scalar, float32 (a C++ double gives float32, as Keras)
///     Tensor b = {{1.0, 2.0}, {3.0, 4.0}};  // shape (2, 2), float32
///     Tensor c = {1, 2, 3};                 // int32, as tf.constant([1, 2, 3])
///     Tensor d = xt::xarray<double>{1, 2};  // float64: the dtype follows value_type
///
/// Note: `Tensor(2.0)` is a scalar and `Tensor{2.0}` a vector of one, as with std::vector.
class Tensor {
 public:
  /// "none": no value.
  Tensor() = default;

  Tensor(float value);         ///< scalar float32
  Tensor(double value);        ///< scalar float32 (Keras's default float)
  Tensor(std::int32_t value);  ///< scalar int32
  Tensor(long value);          ///< scalar int64
  Tensor(long long value);     ///< scalar int64

  /// Floating lists give float32; lists of integers give int32 (long: int64), as tf.constant.
  Tensor(std::initializer_list<detail::ListScalar> values);
  /// Nested floating lists are templates, like the integer ones: clang ranks every conversion of
  /// a nested list alike, so a non-template double overload would also take (and win) integer
  /// lists there. Hence a nested list cannot mix integers into floats: write 2.0, not 2.
  template <class T, std::enable_if_t<std::is_floating_point<T>::value, int> = 0>
  Tensor(std::initializer_list<std::initializer_list<T>> values) {
    from_float_list(values);
  }
  template <class T, std::enable_if_t<std::is_floating_point<T>::value, int> = 0>
  Tensor(std::initializer_list<std::initializer_list<std::initializer_list<T>>> values) {
    from_float_list(values);
  }
  Tensor(std::initializer_list<
         std::initializer_list<std::initializer_list<std::initializer_list<double>>>>
             values);
  template <class T, std::enable_if_t<detail::is_list_integer<T>::value, int> = 0>
  Tensor(std::initializer_list<T> values) {
    from_integer_list<T>(values);
  }
  template <class T, std::enable_if_t<detail::is_list_integer<T>::value, int> = 0>
  Tensor(std::initializer_list<std::initializer_list<T>> values) {
    from_integer_list<T>(values);
  }
  template <class T, std::enable_if_t<detail::is_list_integer<T>::value, int> = 0>
  Tensor(std::initializer_list<std::initializer_list<std::initializer_list<T>>> values) {
    from_integer_list<T>(values);
  }

  /// From any xtensor expression; evaluated once, dtype from its value_type
  /// (float, double, int32_t, int64_t or bool).
  template <class E>
  Tensor(const xt::xexpression<E>& expression) {
    using value_type = std::decay_t<typename E::value_type>;
    const xt::xarray<value_type> evaluated = expression.derived_cast();
    Shape shape(evaluated.shape().begin(), evaluated.shape().end());
    *this = from_data(dtype_of_v<value_type>, std::move(shape), evaluated.data());
  }

  /// Wraps existing storage under a new id (internal: ops and variables use it).
  explicit Tensor(std::shared_ptr<detail::Storage> storage);

  DType dtype() const;
  /// The dimensions, outermost first; `()` for a scalar.
  const Shape& shape() const;
  std::size_t rank() const { return shape().size(); }
  /// Number of elements.
  std::size_t size() const;
  /// False for the "none" tensor.
  explicit operator bool() const { return static_cast<bool>(storage_); }

  /// A copy of the values as an xt::xarray<T>, converted like numpy's astype.
  template <class T>
  xt::xarray<T> numpy() const {
    xt::xarray<T> out = xt::xarray<T>::from_shape(shape());
    copy_to(dtype_of_v<T>, out.data());
    return out;
  }
  /// The single value of a one-element tensor, converted to T. ValueError for other sizes.
  template <class T>
  T item() const {
    if (size() != 1) detail::throw_item_size_error(shape());
    T out{};
    copy_to(dtype_of_v<T>, &out);
    return out;
  }

  /// The id the tape knows this handle by. Copies share it.
  std::uint64_t id() const { return id_; }
  /// The shared buffer (internal).
  const std::shared_ptr<detail::Storage>& storage() const { return storage_; }
  /// Typed read-only element pointer; TypeError when T does not match dtype().
  template <class T>
  const T* data() const {
    check_data_type(dtype_of_v<T>);
    return static_cast<const T*>(raw_data());
  }
  const void* raw_data() const;

  /// New uninitialized storage (internal: ops fill it before anyone sees it).
  static Tensor empty(DType dtype, Shape shape);
  /// Copies shape_size(shape) elements of `dtype` from `data`.
  static Tensor from_data(DType dtype, Shape shape, const void* data);

 private:
  template <class T, class List>
  void from_integer_list(const List& values) {
    Shape shape;
    std::vector<std::int64_t> flat;
    detail::flatten_list(values, 0, shape, flat);
    from_int64_values(std::move(shape), flat, sizeof(T) > 4);
  }
  void from_int64_values(Shape shape, const std::vector<std::int64_t>& values, bool wide);
  template <class List>
  void from_float_list(const List& values) {
    Shape shape;
    std::vector<float> flat;
    detail::flatten_list(values, 0, shape, flat);
    *this = from_data(DType::float32, std::move(shape), flat.data());
  }
  void copy_to(DType dtype, void* out) const;
  void check_data_type(DType requested) const;

  std::shared_ptr<detail::Storage> storage_;
  std::uint64_t id_ = 0;
};

/// A Shape as Python prints a tuple: `()`, `(3,)`, `(2, 3)`.
std::string shape_str(const Shape& shape);

/// `tapeflow.Tensor([1. 2.], shape=(2,), dtype=float32)`, as TensorFlow's repr.
std::ostream& operator<<(std::ostream& os, const Tensor& tensor);
/// The values alone, numpy's str: `[1. 2.]`.
std::string to_string(const Tensor& tensor);
/// The values as numpy's repr: `array([1., 2.], dtype=float32)`; a scalar prints bare (`10`).
std::string numpy_repr(const Tensor& tensor);

}  // namespace tapeflow
