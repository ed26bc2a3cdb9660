#include "tapeflow/core/tensor.hpp"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "tapeflow/core/check.hpp"
#include "tapeflow/core/dispatch.hpp"

namespace tapeflow {

namespace detail {

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kCache = false;  // let AddressSanitizer see every use after free
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kCache = false;
#else
constexpr bool kCache = true;
#endif
#else
constexpr bool kCache = true;
#endif

/// True once this thread's caches are destroyed (at thread exit; for the main thread, before
/// static objects that may still free tensors). Trivially destructible, so always readable.
bool& caches_gone() {
  static thread_local bool gone = false;
  return gone;
}

/// Freed blocks of one size, kept per thread for reuse. Every op result allocates one Storage
/// block; glibc caches only 7 blocks of a size per thread, so a tape that frees its thousands of
/// intermediates at once would otherwise send them through its slower bins.
template <std::size_t Size>
class BlockCache {
 public:
  ~BlockCache() {
    caches_gone() = true;
    while (head_ != nullptr) {
      Node* next = head_->next;
      ::operator delete(head_);
      head_ = next;
    }
  }
  void* take() {
    if (head_ == nullptr) return ::operator new(Size);
    Node* node = head_;
    head_ = node->next;
    --count_;
    return node;
  }
  void give(void* block) {
    if (count_ >= kMaxBlocks) {
      ::operator delete(block);
      return;
    }
    head_ = new (block) Node{head_};
    ++count_;
  }

 private:
  struct Node {
    Node* next;
  };
  static_assert(Size >= sizeof(Node), "a cached block holds the list link");
  static constexpr std::size_t kMaxBlocks = 8192;
  Node* head_ = nullptr;
  std::size_t count_ = 0;
};

template <std::size_t Size>
BlockCache<Size>& block_cache() {
  static thread_local BlockCache<Size> cache;
  return cache;
}

/// Allocates single objects (the shared_ptr control block with its Storage) from BlockCache.
template <class T>
struct PooledAllocator {
  using value_type = T;
  PooledAllocator() = default;
  template <class U>
  PooledAllocator(const PooledAllocator<U>& /*other*/) {}
  T* allocate(std::size_t n) {
    if (kCache && n == 1 && !caches_gone()) {
      return static_cast<T*>(block_cache<sizeof(T)>().take());
    }
    return static_cast<T*>(::operator new(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) {
    if (kCache && n == 1 && !caches_gone()) {
      block_cache<sizeof(T)>().give(p);
    } else {
      ::operator delete(p);
    }
  }
  template <class U>
  bool operator==(const PooledAllocator<U>& /*other*/) const {
    return true;
  }
  template <class U>
  bool operator!=(const PooledAllocator<U>& /*other*/) const {
    return false;
  }
};

/// Freed large buffers, kept per thread by size class for the next tensor of that class.
/// glibc serves large blocks with fresh mmap pages or trims its heap after freeing them, so each
/// training step would fault in every big intermediate again (~1 us per 4 KiB page: the MLP
/// bench took 937 faults a step). Classes step by 1/8 of a power of two (at most 12.5% slack).
/// At most kMaxCachedBytes stay cached per thread; beyond that buffers go back to the system.
class BufferCache {
 public:
  static constexpr std::size_t kMinBytes = std::size_t{1} << 16;
  static constexpr std::size_t kMaxCachedBytes = std::size_t{1} << 30;

  ~BufferCache() {
    caches_gone() = true;
    for (Node*& head : heads_) {
      while (head != nullptr) {
        Node* next = head->next;
        std::free(head);
        head = next;
      }
    }
  }
  /// A 64-byte aligned buffer of at least `bytes` (>= kMinBytes).
  void* take(std::size_t bytes) {
    const std::size_t c = class_of(bytes);
    if (Node* node = heads_[c]) {
      heads_[c] = node->next;
      cached_bytes_ -= class_bytes(c);
      return node;
    }
    return allocate(class_bytes(c));
  }
  /// Takes back a buffer from take(bytes).
  void give(void* buffer, std::size_t bytes) {
    const std::size_t c = class_of(bytes);
    if (cached_bytes_ + class_bytes(c) > kMaxCachedBytes) {
      std::free(buffer);
      return;
    }
    heads_[c] = new (buffer) Node{heads_[c]};
    cached_bytes_ += class_bytes(c);
  }
  /// 64-byte aligned; from kHugeBytes on, 2 MiB aligned and marked for transparent huge pages
  /// (Linux's default THP mode is `madvise`), so a big table's random rows (sparse updates)
  /// do not each miss the TLB, and first touch faults once per 2 MiB instead of per 4 KiB.
  static void* allocate(std::size_t bytes) {
    if (bytes >= kHugeBytes) {
      const std::size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
      void* p = std::aligned_alloc(kHugePage, rounded);
      if (p == nullptr) throw std::bad_alloc();
#if defined(MADV_HUGEPAGE)
      madvise(p, rounded, MADV_HUGEPAGE);  // a hint: failure leaves ordinary pages
#endif
      return p;
    }
    void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }
  static constexpr std::size_t kHugePage = std::size_t{1} << 21;
  static constexpr std::size_t kHugeBytes = std::size_t{1} << 23;  // at most 25% rounding

 private:
  struct Node {
    Node* next;
  };
  static constexpr std::size_t kMinLog = 16;
  static constexpr std::size_t kClasses = (64 - kMinLog) * 8;
  // bytes in [2^e, 2^(e+1)) round up to 2^e + k 2^(e-3), k = 1..8.
  static std::size_t class_of(std::size_t bytes) {
    const auto e = static_cast<std::size_t>(63 - __builtin_clzll(bytes));  // bytes >= 2^kMinLog
    const std::size_t step = std::size_t{1} << (e - 3);
    const std::size_t k = (bytes - (std::size_t{1} << e) + step - 1) / step;  // 0..8
    return (e - kMinLog) * 8 + k;  // k == 8 is the next power's k == 0
  }
  static std::size_t class_bytes(std::size_t c) {
    const std::size_t e = kMinLog + c / 8;
    return (std::size_t{1} << e) + (c % 8) * (std::size_t{1} << (e - 3));
  }

  Node* heads_[kClasses + 1] = {};
  std::size_t cached_bytes_ = 0;
};

BufferCache& buffer_cache() {
  static thread_local BufferCache cache;
  return cache;
}

bool cache_buffer(std::size_t bytes) {
  return kCache && bytes >= BufferCache::kMinBytes && !caches_gone();
}

}  // namespace

Storage::Storage(DType dtype, Shape shape)
    : dtype_(dtype), shape_(std::move(shape)), size_(shape_size(shape_)), data_(inline_) {
  const std::size_t bytes = nbytes();
  if (bytes > kInlineBytes) {
    data_ = cache_buffer(bytes) ? buffer_cache().take(bytes) : BufferCache::allocate(bytes);
  }
}

Storage::~Storage() {
  if (data_ == inline_) return;
  if (cache_buffer(nbytes())) {
    buffer_cache().give(data_, nbytes());
  } else {
    std::free(data_);
  }
}

std::shared_ptr<Storage> Storage::make(DType dtype, Shape shape) {
  return std::allocate_shared<Storage>(PooledAllocator<Storage>(), dtype, std::move(shape));
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

Tensor::Tensor(std::initializer_list<detail::ListScalar> values) {
  std::vector<float> flat;
  flat.reserve(values.size());
  for (const detail::ListScalar& v : values) flat.push_back(static_cast<float>(v.value));
  *this = from_data(DType::float32, {values.size()}, flat.data());
}
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
