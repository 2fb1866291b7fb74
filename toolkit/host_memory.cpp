// Available memory (see host_memory.h).
#include "toolkit/host_memory.h"

#include <sys/resource.h>  // getrlimit
#include <unistd.h>        // sysconf

#include <algorithm>  // std::min
#include <cstdio>     // std::snprintf
#include <fstream>    // std::ifstream
#include <limits>     // std::numeric_limits
#include <sstream>    // std::istringstream

namespace r1 {
namespace {

constexpr int64_t kUnknown = std::numeric_limits<int64_t>::max();

// /proc/meminfo's `field` (in kB there) in bytes, or kUnknown.
int64_t meminfo_bytes(const std::string& field) {
  std::ifstream in("/proc/meminfo");
  std::string name;
  int64_t kb = 0;
  std::string unit;
  while (in >> name >> kb) {
    std::getline(in, unit);
    if (name == field + ":") return kb * 1024;
  }
  return kUnknown;
}

// The first number in `path`, or kUnknown ("max", missing, unreadable).
int64_t file_number(const std::string& path) {
  std::ifstream in(path);
  int64_t v = 0;
  return in >> v ? v : kUnknown;
}

// cgroup v2: memory.max - memory.current of this process's group.
int64_t cgroup_headroom() {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("0::", 0) != 0) continue;
    const std::string dir = "/sys/fs/cgroup" + line.substr(3);
    const int64_t max = file_number(dir + "/memory.max"),
                  current = file_number(dir + "/memory.current");
    if (max == kUnknown || current == kUnknown) return kUnknown;
    return std::max<int64_t>(max - current, 0);
  }
  return kUnknown;
}

// RLIMIT_AS minus the address space in use (/proc/self/statm's first field, in pages).
int64_t address_space_headroom() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_AS, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY) return kUnknown;
  const int64_t pages = file_number("/proc/self/statm");
  if (pages == kUnknown) return kUnknown;
  const int64_t used = pages * ::sysconf(_SC_PAGESIZE);
  return std::max<int64_t>(static_cast<int64_t>(lim.rlim_cur) - used, 0);
}

}  // namespace

int64_t available_memory_bytes() {
  return std::min({meminfo_bytes("MemAvailable"), cgroup_headroom(), address_space_headroom()});
}

std::string format_bytes(int64_t bytes) {
  char buf[32];
  if (bytes >= (int64_t{1} << 30))
    std::snprintf(buf, sizeof buf, "%.1f GB", bytes / double(int64_t{1} << 30));
  else
    std::snprintf(buf, sizeof buf, "%lld MB", static_cast<long long>(bytes >> 20));
  return buf;
}

}  // namespace r1
