// Progress line (see progress.h).
#include "toolkit/progress.h"

#include <unistd.h>  // isatty

#include <cstdio>  // std::fprintf

namespace r1 {

Progress::Progress(std::string label, int64_t total, bool enabled)
    : label_(std::move(label)),
      total_(total),
      enabled_(enabled),
      start_(std::chrono::steady_clock::now()),
      last_draw_() {}

Progress::~Progress() {
  if (drawn_) std::fprintf(stderr, "\n");
}

bool Progress::stderr_is_terminal() { return ::isatty(2) == 1; }

void Progress::update(int64_t done, const std::string& note) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (done < total_ && now - last_draw_ < std::chrono::milliseconds(200)) return;
  last_draw_ = now;
  const double secs = std::chrono::duration<double>(now - start_).count();
  const double rate = secs > 0 ? done / secs : 0;
  std::string eta = "?";
  if (rate > 0 && total_ >= done) {
    const int64_t s = static_cast<int64_t>((total_ - done) / rate);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
    eta = buf;
  }
  std::fprintf(stderr, "\r\033[K%s %lld/%lld (%.2f/s, ETA %s)%s%s", label_.c_str(),
               static_cast<long long>(done), static_cast<long long>(total_), rate, eta.c_str(),
               note.empty() ? "" : " ", note.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace r1
