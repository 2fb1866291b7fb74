// Runtime errors chosen by stdin: "abort" (SIGABRT), "exit N" (exit code N, e.g. 3 or 134, which
// must not be read as a signal), "segv" (SIGSEGV), "throw" (uncaught exception). Leaves out others.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <string>

int main() {
  std::string mode;
  std::cin >> mode;
  std::printf("partial output\n");
  std::fflush(stdout);
  if (mode == "abort") std::abort();
  if (mode == "exit") {
    int code = 0;
    std::cin >> code;
    std::exit(code);
  }
  if (mode == "segv") {
    volatile int* p = nullptr;
    *p = 1;
  }
  if (mode == "throw") throw std::runtime_error("r1 uncaught");
  return 0;
}
