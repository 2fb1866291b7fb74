// The run-folder guard (see run_dir.h).
#include "toolkit/run_dir.h"

#include <filesystem>  // std::filesystem

#include "toolkit/error.h"  // r1::Error

namespace r1 {

void check_run_dir(const std::string& dir, const std::string& marker, const std::string& command) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return;
  if (!fs::is_directory(dir, ec)) throw Error(dir + ": exists and is not a directory");
  if (fs::is_empty(dir, ec) || fs::exists(fs::path(dir) / marker, ec)) return;
  throw Error(dir + ": not empty and not a run of " + command + " (no " + marker +
              "); refusing to write into it: name a new or empty folder");
}

}  // namespace r1
