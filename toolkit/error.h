// r1::Error, the one exception type library code throws for bad input or failed I/O.
// Messages name the file, field or value and say what to do next; each main() prints one line.
// Leaves out error codes and stack traces: the message is the contract.
#pragma once

#include <stdexcept>  // std::runtime_error
#include <string>     // std::string

namespace r1 {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// Throws r1::Error(message) when cond is false.
inline void check(bool cond, const std::string& message) {
  if (!cond) throw Error(message);
}

}  // namespace r1
