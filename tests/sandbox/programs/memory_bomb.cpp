// Allocates and touches 16 MiB blocks forever without checking malloc's result, as careless
// solutions do: the resident set grows to the limit, then a refused allocation crashes it: MLE.
#include <cstdlib>
#include <cstring>

int main() {
  for (;;) {
    char* p = static_cast<char*>(std::malloc(16 << 20));
    std::memset(p, 1, 16 << 20);
  }
}
