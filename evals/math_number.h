// Exact numbers from answer strings: integers with separators ("7,425,000", "1 000", "7{,}425"),
// decimals with a point or a decimal comma ("1000,99", ".4"), scientific notation ("1.5e3",
// "1.5\times10^{3}"), fractions (\frac \dfrac \tfrac, "\frac12", "a/b"), mixed numbers
// ("3\frac12"), signs and percent marks, inside $...$ or \(...\). Values are exact rationals
// (GMP), so "025" == 25 and 0.5 == \frac{1}{2} exactly. Leaves out expressions: that is the
// grader's parser.
#pragma once

#include <gmpxx.h>  // mpq_class

#include <optional>  // std::optional
#include <string>    // std::string

namespace r1 {

struct ParsedNumber {
  mpq_class value;       // exact rational (GMP: no shared state, safe in any thread)
  bool percent = false;  // written with a percent mark ("28\%", "28 percent")
};

// The number `text` spells, or nullopt when it is not (only) a number.
std::optional<ParsedNumber> parse_number(const std::string& text);

// Whether two answer strings are the same number (percent marks ignored, as math-verify does:
// "28\%" == "28"); nullopt when either is not a number.
std::optional<bool> numbers_equal(const std::string& a, const std::string& b);

}  // namespace r1
