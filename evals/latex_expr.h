// LaTeX / plain math expressions -> GiNaC expressions: numbers (exact, see math_number.h), numbers
// in other bases (1011_2), variables with subscripts (a_{37}) and Greek letters, + - * / ^ with
// implicit multiplication, \frac \dfrac \tfrac \cfrac (also \frac12), \sqrt{} and \sqrt[n]{},
// \cdot \times \div, n!, |x|, \pi, e, i, \infty, (), [], {}, \left/\right, functions (\sin^2 x,
// \sec, \arctan, \ln, \log, \exp, ...), and matrices (pmatrix, bmatrix, array; + and products
// evaluate). Structure (sets, intervals, relations, lists) is math_answer.h's part.
//
// GiNaC is not thread-safe (its reference counts are not atomic): every call into this header,
// and any use of the expressions it returns, must hold ginac_mutex().
#pragma once

#include <ginac/ex.h>  // GiNaC::ex

#include <mutex>     // std::mutex
#include <optional>  // std::optional
#include <string>    // std::string

namespace r1 {

std::mutex& ginac_mutex();

struct ParsedExpr {
  GiNaC::ex e;
  bool oversized = false;  // holds a power or factorial too large to evaluate (kept unevaluated)
};

// The expression `text` spells, or nullopt when it cannot be read. Symbols of the same name are
// the same GiNaC symbol across calls, so two parsed expressions can be compared.
std::optional<ParsedExpr> parse_latex_expr(const std::string& text);

enum class ExprVerdict { kEqual, kDifferent, kBudget };

// Equivalence: a - b simplifies to zero (rational normal form after expansion), or, as a second
// opinion, vanishes numerically (relative 1e-12) at three fixed points for its symbols. Matrices
// compare elementwise after evaluation. Expressions holding oversized parts are equal only when
// they cancel exactly; otherwise the verdict is kBudget. Expansion is skipped (numbers only) when
// it would make more than kMaxExpandTerms terms.
ExprVerdict expr_compare(const ParsedExpr& a, const ParsedExpr& b);
inline bool expr_equivalent(const ParsedExpr& a, const ParsedExpr& b) {
  return expr_compare(a, b) == ExprVerdict::kEqual;
}

// The expression's value as a real double when it is a number (no symbols), else nullopt.
std::optional<double> expr_real_value(const ParsedExpr& a);

}  // namespace r1
