#pragma once
// Helpers for the example notebooks: a curve as a table and as a text plot (no graphics needed,
// so the same cell works in xeus-cling and under clang-repl), and a value check.
//
// A header with `#pragma once`, not a cell: re-running `#include "notebook_tools.hpp"` is a no-op,
// whereas re-running a cell that defines a function is a redefinition error.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

namespace nbtools {

/// One curve y = f(x), drawn with `mark`.
struct Curve {
  std::string label;
  char mark;
  std::function<double(double)> f;
};

/// A Markdown-style table: one row per x, one column per curve.
inline void print_table(const std::vector<Curve>& curves, const std::vector<double>& xs,
                        const std::string& x_label = "step") {
  std::printf("| %8s |", x_label.c_str());
  for (const Curve& c : curves) std::printf(" %14s |", (c.label + " (" + c.mark + ")").c_str());
  std::printf("\n|---------:|");
  for (std::size_t i = 0; i < curves.size(); ++i) std::printf("---------------:|");
  std::printf("\n");
  for (double x : xs) {
    std::printf("| %8g |", x);
    for (const Curve& c : curves) std::printf(" %14.8g |", c.f(x));
    std::printf("\n");
  }
  std::fflush(stdout);
}

/// A text plot of the curves over [x_first, x_last]: `width` columns (one sample each) by `height`
/// rows, y from the smallest to the largest value seen. Where two curves share a cell, the later
/// one's mark wins.
inline void plot(const std::vector<Curve>& curves, double x_first, double x_last, int width = 64,
                 int height = 12) {
  std::vector<std::vector<double>> ys(curves.size(), std::vector<double>(width));
  double lo = INFINITY, hi = -INFINITY;
  for (std::size_t c = 0; c < curves.size(); ++c) {
    for (int i = 0; i < width; ++i) {
      const double x = x_first + (x_last - x_first) * i / (width - 1);
      ys[c][i] = curves[c].f(x);
      lo = std::min(lo, ys[c][i]);
      hi = std::max(hi, ys[c][i]);
    }
  }
  if (hi == lo) hi = lo + 1;  // a flat curve sits on the bottom row
  std::vector<std::string> grid(height, std::string(width, ' '));
  for (std::size_t c = 0; c < curves.size(); ++c) {
    for (int i = 0; i < width; ++i) {
      const int row = static_cast<int>(std::lround((hi - ys[c][i]) / (hi - lo) * (height - 1)));
      grid[row][i] = curves[c].mark;
    }
  }
  for (int r = 0; r < height; ++r) {
    if (r == 0 || r == height - 1) {
      std::printf("%10.4g |%s\n", r == 0 ? hi : lo, grid[r].c_str());
    } else {
      std::printf("%10s |%s\n", "", grid[r].c_str());
    }
  }
  std::printf("%10s +%s\n", "", std::string(width, '-').c_str());
  char left[32], right[32];
  std::snprintf(left, sizeof left, "%g", x_first);
  std::snprintf(right, sizeof right, "%g", x_last);
  const int gap = std::max(1, width - static_cast<int>(std::string(left).size()) -
                                  static_cast<int>(std::string(right).size()));
  std::printf("%10s  %s%s%s\n", "", left, std::string(gap, ' ').c_str(), right);
  std::fflush(stdout);
}

/// Prints `label: got (expected want)`. A mismatch beyond `tolerance` (relative, plus the same
/// absolute) is printed to stderr as a line starting with "error: ", which
/// tools/run_notebooks.py reports as a failing cell; xeus-cling shows it in red.
inline bool expect_near(const std::string& label, double got, double want,
                        double tolerance = 1e-6) {
  const bool ok = std::abs(got - want) <= tolerance * (1.0 + std::abs(want));
  std::cout << label << ": " << got << " (expected " << want << ")" << std::endl;
  if (!ok) {
    std::cerr << "error: " << label << " is " << got << ", expected " << want << std::endl;
  }
  return ok;
}

}  // namespace nbtools
