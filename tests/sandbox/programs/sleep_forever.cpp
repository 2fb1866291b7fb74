// Sleeps forever without using CPU: only the wall-clock deadline can end it (TLE). Leaves out
// output.
#include <unistd.h>

int main() {
  for (;;) sleep(1000);
}
