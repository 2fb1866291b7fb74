// Writes 1 MiB blocks forever to the stream named on stdin ("stdout" or "stderr"): OLE, seen while
// the program runs, long before any time limit. Leaves out everything else.
#include <unistd.h>

#include <iostream>
#include <string>

int main() {
  std::string stream;
  std::cin >> stream;
  const int fd = stream == "stderr" ? 2 : 1;
  const std::string block(1 << 20, 'x');
  for (;;)
    if (write(fd, block.data(), block.size()) < 0) return 1;
}
