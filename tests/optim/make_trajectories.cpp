// Writes tests/optim/fixtures/trajectories.txt: the bit patterns of every trajectory case in
// tests/optim/trajectories.hpp, one tensor per line (see that header for how to regenerate).
//     make_trajectories OUTPUT

#include <fstream>
#include <iostream>

#include "optim/trajectories.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_trajectories OUTPUT\n";
    return 2;
  }
  std::ofstream out(argv[1]);
  out << "# Optimizer trajectories (raw bits of each variable and optimizer weight after each\n"
         "# step), written by tests/optim/make_trajectories.cpp; see tests/optim/trajectories.hpp.\n";
  std::size_t count = 0;
  for (const std::string& line : tapeflow::testing::trajectories::all_lines()) {
    out << line << '\n';
    ++count;
  }
  out.close();
  if (!out) {
    std::cerr << "make_trajectories: cannot write " << argv[1] << "\n";
    return 1;
  }
  std::cout << "wrote " << count << " lines to " << argv[1] << "\n";
  return 0;
}
