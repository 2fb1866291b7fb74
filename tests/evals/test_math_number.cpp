// Exact number parsing for answers: separators, decimal commas, fractions, mixed numbers,
// scientific notation, percent marks, and what is not a number.
#include <gtest/gtest.h>

#include "evals/math_number.h"

namespace r1 {
namespace {

void expect_same(const std::string& a, const std::string& b) {
  auto eq = numbers_equal(a, b);
  ASSERT_TRUE(eq.has_value()) << a << " | " << b;
  EXPECT_TRUE(*eq) << a << " | " << b;
}

TEST(MathNumber, EqualSpellings) {
  expect_same("7425000", "7,425,000");
  expect_same("1000", "1 000");
  expect_same("1000", "1000.0");
  expect_same("1000.0", "1,000.0");
  expect_same("1000.99", "1000,99");
  expect_same("1,22", "1.22");
  expect_same("0.4", ".4");
  expect_same("0,111", "0.111");
  expect_same("1000.99", "$1,000.99");
  expect_same("025", "25");  // AIME answers compare as integers
  expect_same("10/9", "\\frac{10}{9}");
  expect_same("-10/9", "-\\frac{10}{9}");
  expect_same("0.5", "\\dfrac{1}{2}");
  expect_same("\\frac12", "\\tfrac{1}{2}");
  expect_same("3\\frac{1}{2}", "3.5");
  expect_same("1.5e3", "1500");
  expect_same("1.5 \\times 10^{3}", "1500");
  expect_same("2\\cdot10^{-2}", "0.02");
  expect_same("7{,}425", "7425");
  expect_same("$28\\%$", "28");  // math-verify's convention: the percent mark is dropped
  expect_same("28 percent", "28\\%");
  expect_same("\\left( -3 \\right)", "-3");
}

TEST(MathNumber, ExactNotApproximate) {
  EXPECT_FALSE(*numbers_equal("0.3333333333", "\\frac{1}{3}"));
  EXPECT_FALSE(*numbers_equal("1000.99", "1000.9900001"));
  EXPECT_TRUE(
      *numbers_equal("123456789012345678901234567890", "123,456,789,012,345,678,901,234,567,890"));
  EXPECT_FALSE(*numbers_equal("-5", "5"));
}

TEST(MathNumber, NotNumbers) {
  for (const std::string& s :
       std::vector<std::string>{"x+1", "AZYUK2A", "\\frac{1}{0}", "1,000,99", "", "\\sqrt{2}",
                                "2^{10}", "1/0", "(1,2)", "\\frac{1}{x}", std::string(20000, '9')})
    EXPECT_FALSE(parse_number(s).has_value()) << s;
}

}  // namespace
}  // namespace r1
