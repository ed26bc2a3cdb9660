#include "tapeflow/core/cpu.hpp"

#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>

namespace tapeflow::detail {
namespace {

SimdLevel detect() {
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return SimdLevel::avx512;
  if (__builtin_cpu_supports("avx2")) return SimdLevel::avx2;
#endif
#if defined(__SSE2__)
  return SimdLevel::sse2;
#else
  return SimdLevel::scalar;
#endif
}

bool equal_ignoring_case(const char* a, const char* b) {
  for (; *a != '\0' && *b != '\0'; ++a, ++b) {
    if (std::tolower(static_cast<unsigned char>(*a)) !=
        std::tolower(static_cast<unsigned char>(*b))) {
      return false;
    }
  }
  return *a == *b;
}

SimdLevel limit_from_environment() {
  const char* text = std::getenv("TAPEFLOW_SIMD");
  if (text == nullptr || *text == '\0') return SimdLevel::avx512;  // no limit
  for (SimdLevel level :
       {SimdLevel::scalar, SimdLevel::sse2, SimdLevel::avx2, SimdLevel::avx512}) {
    if (equal_ignoring_case(text, simd_level_name(level))) return level;
  }
  // An environment variable cannot throw at the user: say so once, and set no limit.
  std::fprintf(stderr,
               "tapeflow: ignoring TAPEFLOW_SIMD=%s (expected scalar, sse2, avx2 or avx512)\n",
               text);
  return SimdLevel::avx512;
}

std::atomic<int>& limit() {
  static std::atomic<int> value{static_cast<int>(limit_from_environment())};
  return value;
}

}  // namespace

SimdLevel simd_level() {
  static const SimdLevel supported = detect();
  const int capped = limit().load(std::memory_order_relaxed);
  return static_cast<int>(supported) < capped ? supported : static_cast<SimdLevel>(capped);
}

SimdLevel set_simd_limit(SimdLevel new_limit) {
  return static_cast<SimdLevel>(
      limit().exchange(static_cast<int>(new_limit), std::memory_order_relaxed));
}

const char* simd_level_name(SimdLevel level) {
  switch (level) {
    case SimdLevel::scalar:
      return "scalar";
    case SimdLevel::sse2:
      return "sse2";
    case SimdLevel::avx2:
      return "avx2";
    case SimdLevel::avx512:
      return "avx512";
  }
  return "unknown";
}

}  // namespace tapeflow::detail
