// Tries to read the host: each stdin line "file PATH" prints the file's first 4 KiB (or the error),
// "dir PATH" lists the directory. Then prints its environment and the pids it can see in /proc.
// Leaves out recursion.
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

extern char** environ;

int main() {
  std::string kind, path;
  while (std::cin >> kind >> path) {
    if (kind == "file") {
      const int fd = open(path.c_str(), O_RDONLY);
      if (fd < 0) {
        std::printf("file %s: failed %s\n", path.c_str(), std::strerror(errno));
        continue;
      }
      char buf[4096];
      const ssize_t n = read(fd, buf, sizeof buf);
      close(fd);
      std::printf("file %s: read %zd bytes\n", path.c_str(), n);
      if (n > 0) std::fwrite(buf, 1, static_cast<size_t>(n), stdout);
      std::printf("\n");
    } else {
      DIR* d = opendir(path.c_str());
      if (!d) {
        std::printf("dir %s: failed %s\n", path.c_str(), std::strerror(errno));
        continue;
      }
      std::printf("dir %s:", path.c_str());
      while (dirent* e = readdir(d)) std::printf(" %s", e->d_name);
      std::printf("\n");
      closedir(d);
    }
  }
  std::printf("environment:");
  for (char** e = environ; *e; ++e) std::printf(" %s", *e);
  std::printf("\npids:");
  if (DIR* d = opendir("/proc")) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] >= '0' && e->d_name[0] <= '9') std::printf(" %s", e->d_name);
    closedir(d);
  }
  std::printf("\n");
}
