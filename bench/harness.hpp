#pragma once
// A small benchmark harness: steady-clock timing, warm-up runs, the median of N repeats, and a
// markdown table that bench/run_all.sh merges across programs. Every program compares against a
// baseline measured in the same run, so a row's ratio does not depend on the machine's mood.
//
// Flags every program takes:
//   --quick        tiny sizes and few repeats (a CI smoke run: checks that it runs, not speed)
//   --repeats N    timed repeats per case (the median is reported)
//   --rows-only    omit the table header (run_all.sh prints one header for all programs)

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace bench {

struct Options {
  bool quick = false;
  bool rows_only = false;
  int repeats = 0;  // 0: the program's default
};

inline Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      options.quick = true;
    } else if (std::strcmp(argv[i], "--rows-only") == 0) {
      options.rows_only = true;
    } else if (std::strcmp(argv[i], "--repeats") == 0 && i + 1 < argc) {
      options.repeats = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: %s [--quick] [--repeats N] [--rows-only]\n", argv[0]);
      std::exit(2);
    }
  }
  return options;
}

/// Keeps the compiler from deleting a computation whose result is otherwise unused.
template <class T>
inline void do_not_optimize(T const& value) {
  asm volatile("" : : "r,m"(value) : "memory");
}

/// Seconds per call of `body`: `warmup` untimed calls, then the median of `repeats` timed calls.
template <class Body>
double median_seconds(int warmup, int repeats, Body&& body) {
  using clock = std::chrono::steady_clock;
  for (int i = 0; i < warmup; ++i) body();
  std::vector<double> times;
  times.reserve(static_cast<std::size_t>(repeats));
  for (int i = 0; i < repeats; ++i) {
    const auto start = clock::now();
    body();
    times.push_back(std::chrono::duration<double>(clock::now() - start).count());
  }
  std::nth_element(times.begin(), times.begin() + repeats / 2, times.end());
  return times[static_cast<std::size_t>(repeats / 2)];
}

/// Heap allocations (operator new calls) counted process-wide; alloc_counter.cpp defines them.
std::size_t allocation_count();

/// The markdown table every program prints, one row per measured case.
class Table {
 public:
  Table(const char* program, bool rows_only) : program_(program) {
    if (!rows_only) {
      std::printf("| program | case | time | unit | vs baseline | allocs | note |\n");
      std::printf("|---|---|---:|---|---:|---:|---|\n");
    }
  }
  /// `ratio` < 0 prints "baseline"; `allocs` < 0 prints "-".
  void row(const std::string& name, double value, const char* unit, double ratio, double allocs,
           const std::string& note = "") {
    char ratio_text[32];
    if (ratio < 0) {
      std::snprintf(ratio_text, sizeof ratio_text, "baseline");
    } else {
      std::snprintf(ratio_text, sizeof ratio_text, "%.2fx", ratio);
    }
    char allocs_text[32];
    if (allocs < 0) {
      std::snprintf(allocs_text, sizeof allocs_text, "-");
    } else {
      std::snprintf(allocs_text, sizeof allocs_text, "%.2f", allocs);
    }
    std::printf("| %s | %s | %.4g | %s | %s | %s | %s |\n", program_, name.c_str(), value, unit,
                ratio_text, allocs_text, note.c_str());
    std::fflush(stdout);
  }

 private:
  const char* program_;
};

}  // namespace bench
