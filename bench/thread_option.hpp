#pragma once
// `--threads N` for the benchmarks that compare thread counts; removed from argv before the
// harness parses the rest.

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace bench {

inline int take_threads_option(int& argc, char** argv) {
  int threads = 1;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--threads") == 0) {
      threads = std::max(1, std::atoi(argv[i + 1]));
      for (int j = i; j + 2 <= argc; ++j) argv[j] = argv[j + 2];
      argc -= 2;
      break;
    }
  }
  return threads;
}

}  // namespace bench
