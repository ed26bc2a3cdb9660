#pragma once
// Internal (not installed): Keras's Progbar, the progress display of fit and evaluate.

#include <chrono>
#include <cstddef>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

namespace tapeflow::nn::internal {

/// Values shown after the bar, in order: {"loss", 0.25}, {"accuracy", 0.9}.
using Logs = std::vector<std::pair<std::string, double>>;

/// Keras's value format: "%.4f", or "%.4e" for |v| <= 1e-3.
std::string format_value(double value);

/// Progress over `target` steps. Dynamic (a terminal): one line redrawn with '\r',
///     12/32 [===========>..................] - ETA: 1s - loss: 0.2500
/// finished as "32/32 [==============================] - 1s 31ms/step - loss: 0.2500".
/// Not dynamic: nothing until the end, then "32/32 - loss: 0.2500" (no timings, so logs compare).
class Progbar {
 public:
  Progbar(std::size_t target, bool dynamic, std::ostream& out);
  /// Shows step `current` of target (redraws at most every 50 ms when dynamic).
  void update(std::size_t current, const Logs& logs);
  /// The final line, with `logs` (including any val_ entries), and a newline.
  void finish(const Logs& logs);

 private:
  std::string values(const Logs& logs) const;
  std::size_t target_;
  bool dynamic_;
  std::ostream& out_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  std::size_t drawn_width_ = 0;
  bool drawn_ = false;
};

/// True when the process's stdout is a terminal.
bool stdout_is_terminal();

}  // namespace tapeflow::nn::internal
