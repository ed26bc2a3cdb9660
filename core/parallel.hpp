#pragma once
// Intra-op threads for large element loops: the optimizers' dense update kernels.
//
// One thread by default, so tapeflow never competes with OpenBLAS's own threads (whose workers
// spin for a while after each GEMM). Set TAPEFLOW_NUM_THREADS in the environment, or call
// set_num_threads, to split large updates across cores; docs/performance.md has the figures.

#include <cstddef>
#include <type_traits>
#include <utility>

namespace tapeflow {

/// The number of threads that large element loops use (the calling thread included): 1 unless
/// TAPEFLOW_NUM_THREADS held a positive integer when the library first needed it.
int get_num_threads();

/// Sets the number of threads for large element loops; 1 runs them on the calling thread only.
/// ValueError outside [1, 256]. Waits for a running loop to finish before resizing the pool.
void set_num_threads(int num_threads);

namespace detail {

/// A non-owning reference to a callable `void(std::size_t begin, std::size_t end)`: no heap
/// allocation, unlike std::function with a capturing lambda. The callable must outlive the call.
class RangeBody {
 public:
  template <class F, std::enable_if_t<!std::is_same_v<std::decay_t<F>, RangeBody>, int> = 0>
  RangeBody(F& f)  // NOLINT: implicit, as a function_ref
      : object_(static_cast<void*>(&f)),
        call_([](void* o, std::size_t b, std::size_t e) { (*static_cast<F*>(o))(b, e); }) {}
  void operator()(std::size_t begin, std::size_t end) const { call_(object_, begin, end); }

 private:
  void* object_;
  void (*call_)(void*, std::size_t, std::size_t);
};

/// Calls body(begin, end) on consecutive chunks that cover [0, n) exactly once: one chunk per
/// thread (get_num_threads()), each at least `min_chunk` elements, so small loops run inline on
/// the calling thread. Chunk boundaries are multiples of 16 elements (whole cache lines for
/// float32). `body` must not throw. A call made while another thread's loop holds the pool, or
/// from inside a body, runs inline.
void parallel_for(std::size_t n, std::size_t min_chunk, RangeBody body);

/// The optimizers' threshold: below about 256k elements per thread, waking a worker costs more
/// than it saves.
inline constexpr std::size_t kElementwiseMinChunk = std::size_t{1} << 18;

}  // namespace detail
}  // namespace tapeflow
