// Sleeps the seconds given on stdin, then prints "slept": a bystander run that another run's
// kill(-1, SIGKILL) must not reach. Leaves out everything else.
#include <unistd.h>

#include <cstdio>
#include <iostream>

int main() {
  double seconds = 0;
  std::cin >> seconds;
  usleep(static_cast<useconds_t>(seconds * 1e6));
  std::printf("slept\n");
}
