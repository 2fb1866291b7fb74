// kill(-1, SIGKILL) and kill(1, SIGKILL) from inside: only the run's own processes may be hit
// (other runs and host processes of the same uid must survive), and the program itself survives
// to print "survived". Leaves out other signals.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

int main() {
  const int all = kill(-1, SIGKILL);
  const int all_err = errno;
  const int init = kill(1, SIGKILL);
  const int init_err = errno;
  usleep(100 * 1000);
  std::printf("kill(-1): %s\nkill(1): %s\nsurvived\n", all == 0 ? "ok" : std::strerror(all_err),
              init == 0 ? "ok" : std::strerror(init_err));
}
