// The classic fork bomb: every process forks forever. The per-run process cap must contain it and
// the wall deadline end it (TLE); nothing may outlive the run. Leaves out output.
#include <unistd.h>

int main() {
  for (;;) fork();
}
