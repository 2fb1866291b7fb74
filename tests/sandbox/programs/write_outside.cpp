// Tries to change the host: for each path on stdin, create it and write to it, then truncate,
// chmod, rename and unlink it. Prints one line per path with what succeeded, e.g. "PATH: create
// failed EROFS; ...". Leaves out directories.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

namespace {

void report(const char* what, int rc) {
  if (rc == 0)
    std::printf(" %s ok;", what);
  else
    std::printf(" %s failed %s;", what, std::strerror(errno));
}

}  // namespace

int main() {
  std::string path;
  while (std::cin >> path) {
    std::printf("%s:", path.c_str());
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0666);
    report("create", fd >= 0 ? 0 : -1);
    if (fd >= 0) {
      report("write", write(fd, "r1sbx-escape\n", 13) == 13 ? 0 : -1);
      close(fd);
    }
    report("truncate", truncate(path.c_str(), 0));
    report("chmod", chmod(path.c_str(), 0777));
    report("rename", rename(path.c_str(), (path + ".r1sbx-escape").c_str()));
    report("unlink", unlink(path.c_str()));
    std::printf("\n");
  }
}
