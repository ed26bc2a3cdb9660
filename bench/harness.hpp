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
#include <functional>
#include <string>
#include <vector>

#include <sys/resource.h>

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

/// Involuntary context switches of this process so far (the scheduler preempted a thread).
inline long preemptions() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_nivcsw;
}

/// The timed calls of one case. A call during which the scheduler preempted the process measured
/// someone else's work too: the median is over the clean calls when at least a quarter of them
/// are clean, else over all (on a machine that busy, say so next to the number).
struct Samples {
  std::vector<double> clean, all;
  void add(double seconds, bool preempted) {
    all.push_back(seconds);
    if (!preempted) clean.push_back(seconds);
  }
  bool mostly_preempted() const { return clean.size() * 4 < all.size() || clean.empty(); }
  double median() const {
    std::vector<double> t = mostly_preempted() ? all : clean;
    std::nth_element(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(t.size() / 2), t.end());
    return t[t.size() / 2];
  }
};

/// Times `body` once into `samples`.
template <class Body>
void time_once(Body&& body, Samples& samples) {
  using clock = std::chrono::steady_clock;
  const long switches = preemptions();
  const auto start = clock::now();
  body();
  const double seconds = std::chrono::duration<double>(clock::now() - start).count();
  samples.add(seconds, preemptions() != switches);
}

/// Seconds per call of `body`: `warmup` untimed calls, then the median of `repeats` timed calls.
template <class Body>
double median_seconds(int warmup, int repeats, Body&& body) {
  for (int i = 0; i < warmup; ++i) body();
  Samples samples;
  for (int i = 0; i < repeats; ++i) time_once(body, samples);
  return samples.median();
}

/// Samples of each body, measured in rounds (each round calls every body once, in turn), so
/// load from other processes hits all cases alike and their ratios stay meaningful. `warmup`
/// untimed rounds, then `repeats` timed rounds.
inline std::vector<Samples> interleaved_samples(int warmup, int repeats,
                                                const std::vector<std::function<void()>>& bodies) {
  for (int i = 0; i < warmup; ++i) {
    for (const auto& body : bodies) body();
  }
  std::vector<Samples> samples(bodies.size());
  for (int i = 0; i < repeats; ++i) {
    for (std::size_t b = 0; b < bodies.size(); ++b) time_once(bodies[b], samples[b]);
  }
  return samples;
}

/// As interleaved_samples, but each round calls every body `block` times in a row and times all
/// but the first call: the steady state of a training loop, where a step follows a step of the
/// same model, rather than a step whose caches the previous case just flushed. At least
/// `repeats` timed calls per body (whole blocks).
inline std::vector<Samples> interleaved_block_samples(
    int warmup, int repeats, int block, const std::vector<std::function<void()>>& bodies) {
  for (int i = 0; i < warmup; ++i) {
    for (const auto& body : bodies) body();
  }
  std::vector<Samples> samples(bodies.size());
  const int timed_per_block = block > 1 ? block - 1 : 1;
  for (int done = 0; done < repeats; done += timed_per_block) {
    for (std::size_t b = 0; b < bodies.size(); ++b) {
      if (block > 1) bodies[b]();  // the untimed first call of the block
      for (int k = 0; k < timed_per_block; ++k) time_once(bodies[b], samples[b]);
    }
  }
  return samples;
}

/// For the table's note column: how many timed calls ran unpreempted, and a warning when the
/// median had to include preempted calls.
inline std::string preemption_note(const Samples& samples) {
  std::string note = "; " + std::to_string(samples.clean.size()) + "/" +
                     std::to_string(samples.all.size()) + " calls unpreempted";
  if (samples.mostly_preempted()) note += ": machine busy, median over all calls";
  return note;
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
