// Prints its stdin unchanged: the checkers' tests choose the output through the input, and the
// benchmark uses it as a minimal solution. Leaves out everything else.
#include <cstdio>

int main() {
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) std::fwrite(buf, 1, n, stdout);
}
