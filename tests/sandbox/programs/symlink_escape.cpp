// Symlink and hard-link escapes: stdin holds "CANARY_FILE HOST_DIR" (host paths). Links in the
// work dir to the canary, to HOST_DIR and through /proc/1/root, writes through each, and leaves
// the links behind (so a host-side cleanup that followed them would do damage). Prints results.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

namespace {

void try_write(const std::string& path) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
  if (fd < 0) {
    std::printf("write %s: failed %s\n", path.c_str(), std::strerror(errno));
    return;
  }
  const bool ok = write(fd, "r1sbx-escape\n", 13) == 13;
  close(fd);
  std::printf("write %s: %s\n", path.c_str(), ok ? "ok" : "short");
}

void try_link(bool hard, const std::string& target, const std::string& name) {
  const int rc = hard ? link(target.c_str(), name.c_str()) : symlink(target.c_str(), name.c_str());
  std::printf("%s %s -> %s: %s\n", hard ? "link" : "symlink", name.c_str(), target.c_str(),
              rc == 0 ? "ok" : std::strerror(errno));
}

}  // namespace

int main() {
  std::string canary, host_dir;
  std::cin >> canary >> host_dir;
  try_link(false, canary, "to_canary");
  try_write("to_canary");
  try_link(false, host_dir, "to_dir");
  try_write("to_dir/r1sbx-escape-via-symlink");
  try_link(false, "/proc/1/root" + canary, "via_proc_root");
  try_write("via_proc_root");
  try_link(false, "/proc/self/root" + host_dir, "via_proc_self");
  try_write("via_proc_self/r1sbx-escape-via-proc");
  try_link(true, canary, "hard_canary");
  try_write("hard_canary");
  try_link(false, "/", "to_root");
  try_link(false, "..", "to_parent");
}
