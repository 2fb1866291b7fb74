// A one-line progress display for long work: items done / total, rate, ETA and a caller's extra
// text, redrawn in place on a terminal at most a few times a second; silent when stderr is not a
// terminal (logs, CI). Leaves out nested bars.
#pragma once

#include <chrono>   // std::chrono::steady_clock
#include <cstdint>  // int64_t
#include <string>   // std::string

namespace r1 {

// Seconds from `t` until now (steady clock).
inline double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

class Progress {
 public:
  Progress(std::string label, int64_t total, bool enabled = stderr_is_terminal());
  ~Progress();  // ends the line if anything was drawn

  // Sets the count of items done and an extra note (e.g. "412 tok/s"); redraws if due.
  void update(int64_t done, const std::string& note = "");
  static bool stderr_is_terminal();

 private:
  std::string label_;
  int64_t total_;
  bool enabled_, drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace r1
