// The run-folder guard (see run_dir.h).
#include "toolkit/run_dir.h"

#include <filesystem>  // std::filesystem
#include <vector>      // std::vector

#include "toolkit/error.h"  // r1::Error

namespace r1 {

namespace {

namespace fs = std::filesystem;

// True when `dir` holds nothing but temp files of the marker's first atomic write (MARKER.tmp.PID)
// that a killed run left: the start of a run of this command. They are removed.
bool only_torn_marker(const std::string& dir, const std::string& marker) {
  std::error_code ec;
  std::vector<fs::path> torn;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().filename().string().rfind(marker + ".tmp.", 0) != 0) return false;
    torn.push_back(e.path());
  }
  if (ec) return false;
  for (const auto& p : torn) fs::remove(p, ec);
  return true;
}

}  // namespace

void check_run_dir(const std::string& dir, const std::string& marker, const std::string& command) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return;
  if (!fs::is_directory(dir, ec)) throw Error(dir + ": exists and is not a directory");
  if (fs::is_empty(dir, ec) || fs::exists(fs::path(dir) / marker, ec)) return;
  if (only_torn_marker(dir, marker)) return;
  throw Error(dir + ": not empty and not a run of " + command + " (no " + marker +
              "); refusing to write into it: name a new or empty folder");
}

}  // namespace r1
