// Every optimizer's trajectory, bit for bit, against tests/optim/fixtures/trajectories.txt
// (recorded before the optimizers moved to rules and options tables; see trajectories.hpp).

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "optim/trajectories.hpp"

using namespace tapeflow;

namespace {

std::vector<std::string> recorded() {
  const char* dir = std::getenv("TAPEFLOW_OPTIM_FIXTURES");
  const std::string here = __FILE__;
  const std::string path = (dir != nullptr ? std::string(dir)
                                           : here.substr(0, here.rfind('/')) + "/fixtures") +
                           "/trajectories.txt";
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot open " << path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] != '#') lines.push_back(line);
  }
  return lines;
}

void compare_all(const std::vector<std::string>& expected) {
  const std::vector<std::string> actual = testing::trajectories::all_lines();
  REQUIRE(actual.size() == expected.size());
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    if (actual[i] != expected[i] && ++mismatches <= 5) {
      FAIL_CHECK("line " << i << "\n  recorded: " << expected[i] << "\n  today:    " << actual[i]);
    }
  }
  CHECK(mismatches == 0);
}

}  // namespace

TEST_CASE("trajectories of every optimizer match the recorded bits") {
  const std::vector<std::string> expected = recorded();
  REQUIRE(expected.size() > 1000);
  compare_all(expected);
}
