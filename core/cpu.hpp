#pragma once
// Internal (not installed): which SIMD instruction set the hand-written element kernels may use.
//
// The library is built for the baseline ISA of its target (SSE2 on x86-64), so that one binary
// runs everywhere; kernels that gain from wider vectors carry extra versions compiled with
// function-level target attributes and pick one at run time through simd_level(). Every version
// does the same IEEE operations in the same order, so the choice never changes a result bit.

namespace tapeflow::detail {

/// Ordered from narrowest to widest; each level implies the ones before it.
enum class SimdLevel { scalar = 0, sse2 = 1, avx2 = 2, avx512 = 3 };

/// The widest level that both the CPU supports and the current limit allows. The limit starts at
/// the TAPEFLOW_SIMD environment variable ("scalar", "sse2", "avx2" or "avx512"; unset means no
/// limit) and changes through set_simd_limit.
SimdLevel simd_level();

/// Caps simd_level() at `limit` (tests run every kernel version this way; benchmarks compare
/// them). Returns the previous limit. Not for use while another thread runs a kernel.
SimdLevel set_simd_limit(SimdLevel limit);

/// "scalar", "sse2", "avx2" or "avx512".
const char* simd_level_name(SimdLevel level);

}  // namespace tapeflow::detail
