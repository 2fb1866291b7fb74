// The shared body of every r1 command's main(): run it, and turn any exception into one line
// "NAME: error: ..." on stderr and exit code 1 (LibTorch errors without their backtrace).
#pragma once

#include <c10/util/Exception.h>  // c10::Error

#include <cstdio>     // std::fprintf
#include <exception>  // std::exception

namespace r1 {

template <typename Run>
int guarded_main(const char* name, Run&& run) {
  try {
    return run();
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "%s: error: %s\n", name, e.what_without_backtrace());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: error: %s\n", name, e.what());
  }
  return 1;
}

}  // namespace r1
