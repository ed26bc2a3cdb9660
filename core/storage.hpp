#pragma once
// Storage: one contiguous row-major buffer with its dtype and shape. Tensors share it.

#include <cstddef>
#include <memory>
#include <vector>

#include "tapeflow/core/dtype.hpp"

namespace tapeflow {

/// A tensor shape, outermost dimension first.
using Shape = std::vector<std::size_t>;

namespace detail {

/// The buffer behind Tensors and Variables. Elements up to 16 bytes live inline (no heap
/// allocation for scalars and small vectors); larger buffers are 64-byte aligned for SIMD loops.
class Storage {
 public:
  Storage(DType dtype, Shape shape);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  std::size_t size() const { return size_; }
  std::size_t nbytes() const { return size_ * dtype_size(dtype_); }
  void* data() { return data_; }
  const void* data() const { return data_; }
  template <class T>
  T* data_as() {
    return static_cast<T*>(data_);
  }
  template <class T>
  const T* data_as() const {
    return static_cast<const T*>(data_);
  }

  /// Allocates storage; the elements are uninitialized.
  static std::shared_ptr<Storage> make(DType dtype, Shape shape);

 private:
  static constexpr std::size_t kInlineBytes = 16;
  DType dtype_;
  Shape shape_;
  std::size_t size_;
  void* data_;
  alignas(16) unsigned char inline_[kInlineBytes];
};

/// Number of elements of a shape (1 for the scalar shape `()`).
inline std::size_t shape_size(const Shape& shape) {
  std::size_t n = 1;
  for (std::size_t d : shape) n *= d;
  return n;
}

}  // namespace detail
}  // namespace tapeflow
