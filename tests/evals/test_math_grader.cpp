// The first grader: numbers, expressions and text, responses through extraction, and r1eval grade
// as a user runs it (JSONL in and out, a bad line named).
#include <nlohmann/json.hpp>

#include <fstream>

#include "evals/math_grader.h"
#include "tests/test_util.h"

namespace r1 {
namespace {

TEST(MathGrader, AnswersAndResponses) {
  EXPECT_EQ(grade_answer("025", "25").reason, "equal_number");
  EXPECT_TRUE(grade_answer("\\frac{\\sqrt{3}}{2}", "\\frac{3}{2\\sqrt3}").correct);
  EXPECT_FALSE(grade_answer("\\frac{1}{2004}", "\\frac{1}{2006}").correct);
  EXPECT_TRUE(grade_answer("\\text{(B)}", "(b)").correct);
  EXPECT_FALSE(grade_answer("\\text{Monday}", "Tuesday").correct);
  EXPECT_TRUE(grade_answer("5", "x = 5").correct);           // one-variable equation prefix
  EXPECT_TRUE(grade_answer("30^\\circ", "30").correct);      // degrees
  EXPECT_TRUE(grade_answer("12", "12\\text{ cm}").correct);  // a unit after a number
  EXPECT_FALSE(grade_answer("5", "x = 6").correct);
  EXPECT_FALSE(grade_answer("x + y = 5", "5").correct);  // not a one-variable prefix
  // An answer in another base is its digits (issue 20: a real SmolLM2 response answered 42, the
  // decimal value of 6_8 * 7_8, where the question asked for base 8, and r1 credited it).
  for (const char* pred : {"52", "52_8", "52_{8}"})
    EXPECT_TRUE(grade_answer("52_8", pred).correct) << pred;
  EXPECT_FALSE(grade_answer("52_8", "42").correct);
  EXPECT_TRUE(grade_answer("4210_{5}", "4210").correct);
  EXPECT_FALSE(grade_answer("4210_{5}", "555").correct);
  const auto config = extract_preset("boxed");
  auto r =
      grade_response("12", "<think>maybe \\boxed{11}</think>The answer is \\boxed{12}.", config);
  EXPECT_TRUE(r.correct);
  EXPECT_EQ(r.extracted, "12");
  EXPECT_EQ(grade_response("12", "<think>\\boxed{12}", config).reason, "unclosed_think");
  EXPECT_EQ(grade_response("12", "</think>\\boxed{12}", config, "length").reason, "truncated");
  EXPECT_EQ(grade_response("12", "</think>twelve", config).reason, "no_answer");
}

TEST(R1eval, GradeJsonl) {
  test::TempDir dir;
  std::ofstream(dir / "in.jsonl") << R"({"gold": "0.5", "pred": "\\frac{1}{2}"})"
                                  << "\n"
                                  << R"({"gold": "7", "response": "</think>so \\boxed{8}"})"
                                  << "\n";
  auto r = test::run_command(test::bin("r1eval") + " grade < " + (dir / "in.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto first = nlohmann::json::parse(r.out.substr(0, r.out.find('\n')));
  EXPECT_EQ(first["correct"], true);
  const auto second = nlohmann::json::parse(r.out.substr(r.out.find('\n') + 1));
  EXPECT_EQ(second["correct"], false);
  EXPECT_EQ(second["extracted"], "8");
  std::ofstream(dir / "bad.jsonl") << R"({"gold": "1", "pred": "1"})"
                                   << "\n{oops\n";
  auto bad = test::run_command(test::bin("r1eval") + " grade < " + (dir / "bad.jsonl"));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.out.find("stdin line 2: not valid JSON"), std::string::npos) << bad.out;
  // Issue 17, D13: a blank line is refused, naming it (skipping it silently shifted every later
  // answer onto the wrong input line).
  std::ofstream(dir / "blank.jsonl") << R"({"gold": "1", "pred": "1"})"
                                     << "\n\n"
                                     << R"({"gold": "2", "pred": "3"})"
                                     << "\n";
  auto blank = test::run_command(test::bin("r1eval") + " grade < " + (dir / "blank.jsonl"));
  EXPECT_NE(blank.exit_code, 0) << blank.out;
  EXPECT_NE(blank.out.find("stdin line 2: blank"), std::string::npos) << blank.out;
  auto preset =
      test::run_command(test::bin("r1eval") + " grade --preset magic < " + (dir / "in.jsonl"));
  EXPECT_NE(preset.out.find("preset \"magic\""), std::string::npos) << preset.out;
}

}  // namespace
}  // namespace r1

namespace r1 {
namespace {

// math-verify's open false positives and negatives, with the right verdicts.
TEST(MathGraderKnown, MathVerifyFalsePositivesAndNegatives) {
  EXPECT_FALSE(grade_answer("\\frac{1}{2004!}", "\\frac{1}{2006!}").correct);
  EXPECT_FALSE(grade_answer("\\pm 2021", "2021").correct);
  EXPECT_TRUE(grade_answer("\\pm 2021", "\\{-2021, 2021\\}").correct);
  EXPECT_FALSE(grade_answer("a + 3z = 0", "0").correct);  // two different equations, not "0"
  EXPECT_FALSE(grade_answer("2x + z = 1", "a^2 + b = 1").correct);
  EXPECT_FALSE(grade_answer("1 - \\frac{1}{\\mathrm{e}}", "1 + \\frac{1}{\\mathrm{e}}").correct);
  EXPECT_TRUE(grade_answer("x \\in [-2,7]", "-2 \\le x \\le 7").correct);
  EXPECT_TRUE(grade_answer("2x+4y-3=0", "y=-\\frac{1}{2}x+\\frac{3}{4}").correct);
  EXPECT_TRUE(grade_answer("025", "25").correct);
}

// Hostile inputs return within the budget, without crashing.
TEST(MathGraderKnown, PathologicalInputsStayWithinBudget) {
  Grade g = grade_answer("9^{9^{9^{9}}}", "9^{9^{9^{9}}} + 1");
  EXPECT_FALSE(g.correct);
  EXPECT_TRUE(grade_answer("9^{9^{9^{9}}}", "9^{9^{9^{9}}}").correct);
  g = grade_answer("10^{10^{10}}", "2 \\cdot 10^{10^{10}}");
  EXPECT_FALSE(g.correct);
  EXPECT_EQ(g.reason, "budget");
  EXPECT_FALSE(grade_answer("-10^{10^{10}}", "10^{10^{10}}x").correct);
  const std::string nested = std::string(10000, '{') + "1" + std::string(10000, '}');
  EXPECT_FALSE(grade_answer(nested, "2").correct);
  const std::string big(1 << 20, '7');
  g = grade_answer(big, big + "1");
  EXPECT_FALSE(g.correct);
  EXPECT_TRUE(grade_answer("(x+y+z+w)^{200}", "(x+y+z+w)^{200}").correct);
  EXPECT_FALSE(grade_answer("(x+y+z+w)^{200}", "(x+y+z+w)^{201}").correct);
  // Each \\pm doubles the branches: 40 of them (the fuzzer's CI timeout) must not mean 2^40.
  std::string signs = "x = ";
  for (int i = 0; i < 40; ++i) signs += "\\pm " + std::to_string(i % 7 + 1) + " ";
  EXPECT_FALSE(grade_answer(signs, "x = 1").correct);
  EXPECT_TRUE(grade_answer(signs, signs).correct);
}

}  // namespace
}  // namespace r1
