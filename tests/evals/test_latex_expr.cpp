// The LaTeX expression parser and symbolic equivalence: equal rewrites are equivalent, different
// values are not, and hostile input fails cleanly.
#include <gtest/gtest.h>

#include "evals/latex_expr.h"

namespace r1 {
namespace {

bool same(const std::string& a, const std::string& b) {
  auto x = parse_latex_expr(a), y = parse_latex_expr(b);
  EXPECT_TRUE(x.has_value()) << a;
  EXPECT_TRUE(y.has_value()) << b;
  return x && y && expr_equivalent(*x, *y);
}

TEST(LatexExpr, EquivalentRewrites) {
  EXPECT_TRUE(same("\\frac{1}{2}", "0.5"));
  EXPECT_TRUE(same("\\dfrac{x}{2}", "\\frac12 x"));
  EXPECT_TRUE(same("2\\sqrt{2}", "\\sqrt{8}"));
  EXPECT_TRUE(same("\\sqrt[3]{27}", "3"));
  EXPECT_TRUE(same("(x+1)^2", "x^2+2x+1"));
  EXPECT_TRUE(same("\\frac{x^2-1}{x-1}", "x+1"));
  EXPECT_TRUE(same("2\\pi r", "r \\cdot 2 \\pi"));
  EXPECT_TRUE(same("\\left( a+b \\right) \\times c", "ac+bc"));
  EXPECT_TRUE(same("6 \\div 4", "\\frac{3}{2}"));
  EXPECT_TRUE(same("\\alpha+\\beta", "\\beta+\\alpha"));
  EXPECT_TRUE(same("$\\frac{\\sqrt{3}}{2}$", "\\frac{3}{2\\sqrt{3}}"));
}

TEST(LatexExpr, DifferentValues) {
  EXPECT_FALSE(same("\\frac{1}{2004}", "\\frac{1}{2006}"));
  EXPECT_FALSE(same("x^2", "x^3"));
  EXPECT_FALSE(same("\\sqrt{2}", "1.414"));
  EXPECT_FALSE(same("2\\pi", "6.28"));
  // Tiny exact values: equal in floating point, different in fact.
  EXPECT_FALSE(same("\\frac{1}{10^{5000}}", "\\frac{1}{10^{5001}}"));
  EXPECT_FALSE(same("10^{-20}\\pi", "2 \\cdot 10^{-20}\\pi"));
}

// Issue 17, D7: infinity was an ordinary symbol, so indeterminate forms simplified to numbers and
// graded equal to them; \sqrt{x^2} equalled x because every sample point of x was positive.
TEST(LatexExpr, IndeterminateFormsAndSignAssumptionsAreNotEqual) {
  for (const char* form :
       {"\\infty-\\infty", "\\frac{\\infty}{\\infty}", "0\\cdot\\infty", "1^\\infty", "\\infty^0",
        "\\infty+1", "2\\infty", "\\mathrm{\\infty}-\\infty"})
    EXPECT_FALSE(parse_latex_expr(form).has_value()) << form;
  EXPECT_TRUE(same("\\infty", "+\\infty"));
  EXPECT_TRUE(same("-\\infty", "-\\infty"));
  EXPECT_FALSE(same("\\infty", "-\\infty"));
  EXPECT_TRUE(same("\\mathrm{\\infty}", "\\infty"));
  EXPECT_FALSE(same("x", "\\sqrt{x^2}"));
  EXPECT_FALSE(same("\\ln(x^2)", "2\\ln x"));
  EXPECT_TRUE(same("|x|", "\\sqrt{x^2}"));
  EXPECT_TRUE(same("\\sqrt{x}", "x^{1/2}"));
}

TEST(LatexExpr, BadAndHostileInput) {
  for (const std::string& s :
       std::vector<std::string>{"", "\\frac{1}{0}", "x+", "(1+2", "\\unknowncommand", "1/0"})
    EXPECT_FALSE(parse_latex_expr(s).has_value()) << s;
  std::string nested;
  for (int i = 0; i < 10000; ++i) nested += "{";
  nested += "1";
  for (int i = 0; i < 10000; ++i) nested += "}";
  EXPECT_FALSE(parse_latex_expr(nested).has_value());  // deeper than the parser allows
  auto tower = parse_latex_expr("9^{9^{9^{9}}}");      // stays symbolic: parsing returns at once
  EXPECT_TRUE(tower.has_value());
}

}  // namespace
}  // namespace r1
