#include "progbar.hpp"

#include <cmath>
#include <cstdio>
#include <ostream>

#include <fmt/format.h>
#include <unistd.h>

namespace tapeflow::nn::internal {

namespace {

constexpr std::size_t kWidth = 30;

std::string format_duration_per_step(double seconds) {
  if (seconds >= 1 || seconds == 0) return fmt::format("{:.0f}s/step", seconds);
  if (seconds >= 1e-3) return fmt::format("{:.0f}ms/step", seconds * 1e3);
  return fmt::format("{:.0f}us/step", seconds * 1e6);
}

}  // namespace

std::string format_value(double value) {
  return std::abs(value) > 1e-3 ? fmt::format("{:.4f}", value) : fmt::format("{:.4e}", value);
}

bool stdout_is_terminal() { return isatty(fileno(stdout)) != 0; }

Progbar::Progbar(std::size_t target, bool dynamic, std::ostream& out)
    : target_(target),
      dynamic_(dynamic),
      out_(out),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

std::string Progbar::values(const Logs& logs) const {
  std::string out;
  for (const auto& [name, value] : logs) out += " - " + name + ": " + format_value(value);
  return out;
}

void Progbar::update(std::size_t current, const Logs& logs) {
  if (!dynamic_) return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && current < target_ && now - last_draw_ < std::chrono::milliseconds(50)) return;
  last_draw_ = now;
  const std::size_t digits = std::to_string(target_).size();
  std::string line = fmt::format("{:>{}}/{} [", current, digits, target_);
  const std::size_t filled = target_ == 0 ? kWidth : kWidth * current / target_;
  if (filled > 0) {
    line += std::string(filled - 1, '=');
    line += current < target_ ? '>' : '=';
  }
  line += std::string(kWidth - filled, '.') + "]";
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double per_step = current == 0 ? 0.0 : elapsed / static_cast<double>(current);
  const double eta = per_step * static_cast<double>(target_ - current);
  if (eta >= 3600) {
    line += fmt::format(" - ETA: {}:{:02}:{:02}", static_cast<long>(eta) / 3600,
                        (static_cast<long>(eta) % 3600) / 60, static_cast<long>(eta) % 60);
  } else if (eta >= 60) {
    line += fmt::format(" - ETA: {}:{:02}", static_cast<long>(eta) / 60, static_cast<long>(eta) % 60);
  } else {
    line += fmt::format(" - ETA: {:.0f}s", eta);
  }
  line += values(logs);
  // Pad over the previous, longer line.
  const std::size_t width = line.size();
  if (width < drawn_width_) line += std::string(drawn_width_ - width, ' ');
  drawn_width_ = width;
  out_ << '\r' << line << std::flush;
  drawn_ = true;
}

void Progbar::finish(const Logs& logs) {
  if (!dynamic_) {
    out_ << target_ << "/" << target_ << values(logs) << std::endl;
    return;
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double per_step = target_ == 0 ? 0.0 : elapsed / static_cast<double>(target_);
  std::string line = fmt::format("{0}/{0} [{1}] - {2:.0f}s {3}", target_,
                                 std::string(kWidth, '='), elapsed,
                                 format_duration_per_step(per_step));
  line += values(logs);
  const std::size_t width = line.size();
  if (width < drawn_width_) line += std::string(drawn_width_ - width, ' ');
  out_ << '\r' << line << std::endl;
}

}  // namespace tapeflow::nn::internal
