// A daemon left behind: double fork + setsid, the grandchild renamed to the marker on stdin sleeps
// forever (with "keep" it also keeps stdout open). The program itself exits 0 at once: AC, quickly,
// and the daemon must be gone from the host after the run. Leaves out other escapes.
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>

int main() {
  std::string marker, mode;
  std::cin >> marker >> mode;
  std::fflush(stdout);
  if (fork() == 0) {
    setsid();
    if (fork() == 0) {
      prctl(PR_SET_NAME, marker.c_str());
      if (mode != "keep") {
        close(0);
        close(1);
        close(2);
      }
      for (;;) pause();
    }
    _exit(0);
  }
  std::printf("parent done\n");
}
