// Forks children that sleep forever until fork() fails, then prints how many it got and exits 0,
// leaving them behind: the count shows the process cap, and the children (named after the marker
// on stdin) must be gone from the host once the run is over. Leaves out threads.
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

int main() {
  std::string marker;
  std::cin >> marker;
  int forked = 0;
  int err = 0;
  for (int i = 0; i < 10000; ++i) {
    const pid_t pid = fork();
    if (pid < 0) {
      err = errno;
      break;
    }
    if (pid == 0) {
      prctl(PR_SET_NAME, marker.c_str());
      for (;;) pause();
    }
    ++forked;
  }
  std::printf("forked %d %s\n", forked, std::strerror(err));
}
