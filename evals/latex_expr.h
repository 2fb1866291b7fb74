// LaTeX / plain math expressions -> GiNaC expressions: numbers (exact, see math_number.h),
// variables and Greek letters, + - * / ^ with implicit multiplication, \frac \dfrac \tfrac,
// \sqrt{} and \sqrt[n]{}, \cdot \times \div, \pi, (), [], {}, \left/\right, and the functions
// \sin \cos \tan \ln \log \exp. First part of the grader's parser: sets, intervals, equations,
// matrices and units are left to the grader that builds on it.
#pragma once

#include <ginac/ex.h>  // GiNaC::ex

#include <optional>  // std::optional
#include <string>    // std::string

namespace r1 {

// The expression `text` spells, or nullopt when it cannot be read. Symbols of the same name are
// the same GiNaC symbol across calls, so two parsed expressions can be compared.
std::optional<GiNaC::ex> parse_latex_expr(const std::string& text);

// Equivalence: a - b simplifies to zero (rational normal form after expansion), or, as a second
// opinion, vanishes numerically (relative 1e-12) at three fixed points for its symbols.
bool expr_equivalent(const GiNaC::ex& a, const GiNaC::ex& b);

}  // namespace r1
