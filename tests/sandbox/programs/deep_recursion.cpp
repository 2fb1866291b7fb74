// Recurses 1,000,000 deep with a 64-byte frame or more (about 100 MiB of main-thread stack), as a
// DFS on a path graph does, and prints the depth: a judge lets the main stack grow to the memory
// limit. Leaves out anything else.
#include <iostream>

long depth(long n, volatile char* prev) {
  volatile char frame[64];
  frame[0] = prev ? prev[0] : 1;
  return n == 0 ? frame[0] : depth(n - 1, frame) + 1;
}

int main() { std::cout << depth(1000000, nullptr) - 1 << "\n"; }
