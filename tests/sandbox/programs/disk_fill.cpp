// Fills the work dir: "one" writes a single file until a write fails (SIGXFSZ ignored, so the
// file-size limit shows as EFBIG), "many" writes 4 MiB files until the tmpfs is full. Prints the
// bytes written and the error. Leaves out removing anything.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

int main() {
  std::string mode;
  std::cin >> mode;
  signal(SIGXFSZ, SIG_IGN);
  const std::string block(1 << 16, 'd');
  long long total = 0;
  int err = 0;
  for (int file = 0; err == 0 && file < 100000; ++file) {
    const std::string name = "fill" + std::to_string(file) + ".bin";
    const int fd = open(name.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
      err = errno;
      break;
    }
    long long in_file = 0;
    while (mode == "one" || in_file < (4LL << 20)) {
      const ssize_t w = write(fd, block.data(), block.size());
      if (w <= 0) {
        err = w < 0 ? errno : ENOSPC;
        break;
      }
      total += w;
      in_file += w;
    }
    close(fd);
  }
  std::printf("written %lld %s\n", total, std::strerror(err));
}
