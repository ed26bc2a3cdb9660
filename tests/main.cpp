// doctest main for every suite: seeds the library's engine and prints the seed, so a failing
// random test can be replayed with `--seed=N` (or TAPEFLOW_SEED=N).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include <tapeflow/core/random.hpp>

int main(int argc, char** argv) {
  std::uint64_t seed = 42;
  if (const char* env = std::getenv("TAPEFLOW_SEED")) seed = std::strtoull(env, nullptr, 10);
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--seed=", 7) == 0) seed = std::strtoull(argv[i] + 7, nullptr, 10);
  }
  tapeflow::random::set_seed(seed);
  std::cout << "[tapeflow] seed: " << seed << " (replay with --seed=" << seed << ")\n";
  doctest::Context context(argc, argv);
  return context.run();
}
