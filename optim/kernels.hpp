#pragma once
// Internal (not installed): the glue every optimizer kernel shares. Each optimizer's .cpp writes
// its element rule once, as a loop over [begin, end) of the variable and its slots; these helpers
// point that loop at the whole tensor (dense) or at each listed row (sparse), in the variable's
// dtype, without allocating.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tapeflow/autograd/indexed_slices.hpp"
#include "tapeflow/autograd/variable.hpp"
#include "tapeflow/core/cpu.hpp"
#include "tapeflow/core/dispatch.hpp"
#include "tapeflow/core/parallel.hpp"
#include "tapeflow/optim/optimizer.hpp"

namespace tapeflow::optim::detail {

/// The element pointer of a variable or slot, for writing in place.
template <class T>
T* data_of(Variable& v) {
  return static_cast<T*>(v.mutable_data());
}

/// `iterations` before the running step (`it`; the formulas' t is it + 1).
inline std::int64_t step_count(OptimizerImpl& optimizer) {
  return optimizer.iterations().read_value_no_record().item<std::int64_t>();
}

// ---- wider vectors at run time -----------------------------------------------------------------
// The library is built for the baseline ISA (SSE2 on x86-64). An element rule whose loop, and
// the lambda that calls it, are marked TAPEFLOW_KERNEL_INLINE is inlined into the wrappers
// below, where the compiler vectorizes it again for AVX2 or AVX-512; run_simd picks the widest
// one that simd_level() allows. Element rules are independent per element and FMA contraction is
// off (meson.build), so every version gives the same bits (tests/optim/simd_test.cpp).

#if defined(__GNUC__)
#define TAPEFLOW_KERNEL_INLINE __attribute__((always_inline))
#else
#define TAPEFLOW_KERNEL_INLINE
#endif

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
template <class F>
__attribute__((target("avx2"))) void run_avx2(const F& body) {
  body();
}
template <class F>
__attribute__((target("avx512f"))) void run_avx512(const F& body) {
  body();
}
#endif

/// Calls body() as compiled for the widest SIMD level in use (see above).
template <class F>
void run_simd(tapeflow::detail::SimdLevel level, const F& body) {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  if (level == tapeflow::detail::SimdLevel::avx512) return run_avx512(body);
  if (level == tapeflow::detail::SimdLevel::avx2) return run_avx2(body);
#endif
  (void)level;
  body();
}

/// Calls f(offset, count) over consecutive chunks covering [0, n): one chunk on the calling
/// thread for small tensors, else one per thread (tapeflow::set_num_threads), each at the widest
/// SIMD level (f must be TAPEFLOW_KERNEL_INLINE to gain from it). The element rules are
/// independent per element, so any split gives bit-identical results.
template <class F>
void for_each_chunk(std::size_t n, F&& f) {
  const tapeflow::detail::SimdLevel level = tapeflow::detail::simd_level();
  auto body = [&f, level](std::size_t begin, std::size_t end) {
    run_simd(level, [&]() TAPEFLOW_KERNEL_INLINE { f(begin, end - begin); });
  };
  tapeflow::detail::parallel_for(n, tapeflow::detail::kElementwiseMinChunk, body);
}

/// `p + offset`, or null for a null `p` (optional slots): offsetting a null pointer is undefined.
template <class T>
T* offset(T* p, std::size_t offset) {
  return p == nullptr ? nullptr : p + offset;
}

/// Rows per thread in a sparse step: a scattered row costs about as much as 4 streamed ones, so
/// the threshold is a quarter of the dense one's elements.
inline std::size_t min_rows_per_thread(std::size_t row_size) {
  return std::max<std::size_t>(
      1, tapeflow::detail::kElementwiseMinChunk / 4 / std::max<std::size_t>(1, row_size));
}

/// Calls f(var_offset, values_offset, row_size) for each row of a sparse gradient whose indices
/// are unique int64 (the base's guarantee): row `indices[r]` of the variable pairs with row r of
/// `values`. The rows are disjoint, so many of them are split across threads like
/// for_each_chunk's chunks, and each runs at the widest SIMD level (f must be
/// TAPEFLOW_KERNEL_INLINE to gain from it).
template <class F>
void for_each_row(const IndexedSlices& grad, F&& f) {
  const std::size_t rows = grad.indices.size();
  if (rows == 0) return;
  const std::size_t row_size = grad.values.size() / rows;
  const std::int64_t* indices = grad.indices.data<std::int64_t>();
  const tapeflow::detail::SimdLevel level = tapeflow::detail::simd_level();
  auto body = [&f, level, indices, row_size](std::size_t begin, std::size_t end) {
    run_simd(level, [&]() TAPEFLOW_KERNEL_INLINE {
      for (std::size_t r = begin; r < end; ++r) {
        f(static_cast<std::size_t>(indices[r]) * row_size, r * row_size, row_size);
      }
    });
  };
  tapeflow::detail::parallel_for(rows, min_rows_per_thread(row_size), body);
}

/// For sparse rules that also touch the rows without a gradient (Adam): fills `map` so that
/// map[row] is the row of `values` for variable row `row`, or -1, for a variable of `rows` rows,
/// and returns map.data(). Kept by the caller between steps, the buffer stops allocating once it
/// has grown to the largest variable.
inline const std::int64_t* build_row_map(std::vector<std::int64_t>& map,
                                         const IndexedSlices& grad,
                                         std::size_t rows) {
  if (map.size() < rows) map.resize(rows);
  std::fill_n(map.begin(), rows, std::int64_t{-1});
  const std::int64_t* indices = grad.indices.data<std::int64_t>();
  for (std::size_t r = 0, n = grad.indices.size(); r < n; ++r) {
    map[static_cast<std::size_t>(indices[r])] = static_cast<std::int64_t>(r);
  }
  return map.data();
}

}  // namespace tapeflow::optim::detail
