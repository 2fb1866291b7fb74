// Touches 64 MiB and spins until it has used 0.3 s of CPU, then does what stdin names: "sleep"
// forever (a wall-clock TLE) or "flood" stdout (an OLE). The verdict's time and memory must be this
// program's, not the sandbox's. Leaves out anything else.
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <iostream>
#include <string>
#include <vector>

int main() {
  std::string mode;
  std::cin >> mode;
  std::vector<char> block(64 << 20);
  std::memset(block.data(), 1, block.size());
  volatile unsigned long spin = 0;
  while (std::clock() < CLOCKS_PER_SEC * 3 / 10) ++spin;  // CPU time, whatever the load
  if (mode == "flood") {
    const std::string out(1 << 20, 'x');
    for (;;)
      if (write(1, out.data(), out.size()) < 0) return 1;
  }
  for (;;) sleep(1000);
}
