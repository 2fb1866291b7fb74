// Small text helpers every layer shares (answer extraction, grading, rewards, the hub, gates).
#pragma once

#include <cctype>  // std::isspace
#include <string>  // std::string

namespace r1 {

// s without leading and trailing ASCII whitespace (std::isspace).
inline std::string trim_space(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

}  // namespace r1
