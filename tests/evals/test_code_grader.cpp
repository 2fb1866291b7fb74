// The code grader through the real sandbox (label `sandbox`): HumanEval's canonical solutions
// pass 164/164 and two broken variants of each (body `return None`; the result off by one) fail
// 164/164; LiveCodeBench functional problems with hand-written right and wrong solutions (and the
// ways a candidate can misbehave: prints, a main block, exit(0), exceptions, loops); stdin
// problems in Python and C++; the verdict classes of reasons.
#include <gtest/gtest.h>
#include <unistd.h>  // access

#include <map>        // std::map
#include <memory>     // std::unique_ptr
#include <stdexcept>  // std::runtime_error

#include "evals/benchmarks.h"       // r1::find_benchmark, r1::load_dataset
#include "evals/code_benchmarks.h"  // r1::CodeTask
#include "evals/code_grader.h"      // r1::grade_code_samples
#include "tests/test_util.h"        // r1::test::TempDir, r1::test::bin
#include "toolkit/json.h"           // r1::for_each_jsonl_object

namespace {

using r1::CodeGrade;
using r1::CodeSample;
using r1::Problem;

const std::string kData = r1::test::shared_data("benchmarks/");

std::vector<Problem> load(const std::string& name) {
  const auto& spec = r1::find_benchmark(name);
  return r1::load_dataset(kData + spec.file, spec);
}

// A response as an R1-style model writes it: reasoning, then the answer with one code block.
std::string response(const std::string& code, const std::string& lang = "python") {
  return "Let me think.\n</think>\nHere is the solution:\n```" + lang + "\n" + code +
         (code.empty() || code.back() == '\n' ? "" : "\n") + "```\n";
}

class CodeGraderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cache_ = std::make_unique<r1::test::TempDir>();
    r1::sandbox::SandboxOptions o;
    o.init = r1::test::bin("r1sandbox-init");
    o.cache_dir = cache_->path();
    o.uid_base = 64200;  // apart from the sandbox suites' uids and the default 64000
    o.slots = 8;
    sandbox_ = std::make_unique<r1::sandbox::Sandbox>(o);
  }
  static void TearDownTestSuite() {
    sandbox_.reset();
    cache_.reset();
  }
  void SetUp() override {
    if (access("/usr/bin/bwrap", X_OK) != 0) GTEST_SKIP() << "bubblewrap is not installed";
  }
  static r1::CodeGradeOptions options() {
    r1::CodeGradeOptions o;
    o.workers = 4;
    o.require_think = true;
    return o;
  }
  static std::vector<CodeGrade> grade(const std::vector<CodeSample>& samples) {
    return r1::grade_code_samples(*sandbox_, samples, options());
  }
  static CodeGrade grade_one(const Problem& p, const std::string& text) {
    return r1::grade_code(*sandbox_, *p.code, text, options());
  }
  static std::unique_ptr<r1::test::TempDir> cache_;
  static std::unique_ptr<r1::sandbox::Sandbox> sandbox_;
};
std::unique_ptr<r1::test::TempDir> CodeGraderTest::cache_;
std::unique_ptr<r1::sandbox::Sandbox> CodeGraderTest::sandbox_;

// How many of `grades` pass; lists the failures' reasons when `show`.
size_t passed(const std::vector<CodeGrade>& grades, const std::vector<Problem>& ps, bool show) {
  size_t n = 0;
  for (size_t i = 0; i < grades.size(); ++i) {
    n += grades[i].correct;
    if (show && !grades[i].correct) ADD_FAILURE() << ps[i].id << ": " << grades[i].reason;
  }
  return n;
}

// HumanEval's canonical solutions, by task id, read from the file itself.
std::map<std::string, std::string> canonical_solutions() {
  std::map<std::string, std::string> out;
  r1::for_each_jsonl_object(
      kData + "humaneval.jsonl", [&](const nlohmann::json& row, const std::string&) {
        out[row.at("task_id").get<std::string>()] = row.at("canonical_solution").get<std::string>();
      });
  return out;
}

// The canonical function wrapped so that its result is off by one (numbers + 1, booleans
// negated, strings and sequences one item longer): a near miss every check must catch.
std::string off_by_one(const std::string& prompt, const std::string& solution,
                       const std::string& entry) {
  // clang-format off
  return prompt + solution + "\n\n_orig_" + entry + " = " + entry +
         "\n"
         "def _bump(v):\n"
         "    if isinstance(v, bool): return not v\n"
         "    if isinstance(v, (int, float)): return v + 1\n"
         "    if isinstance(v, str): return v + 'x'\n"
         "    if isinstance(v, list): return v + [None]\n"
         "    if isinstance(v, tuple): return v + (None,)\n"
         "    return 0 if v is None else None\n"
         "def " + entry + "(*args, **kwargs):\n"
         "    return _bump(_orig_" + entry + "(*args, **kwargs))\n";
  // clang-format on
}

TEST_F(CodeGraderTest, HumanEvalCanonicalSolutionsPassAndBrokenOnesFail) {
  const auto ps = load("humaneval");
  ASSERT_EQ(ps.size(), 164u);
  const auto canonical = canonical_solutions();
  ASSERT_EQ(canonical.size(), 164u);
  std::vector<std::string> good, none, bumped, body_only;
  for (const auto& p : ps) {
    const auto& t = *p.code;
    const std::string& sol = canonical.at(p.id);
    good.push_back(response(t.prompt + sol));
    none.push_back(response(t.prompt + "    return None\n"));
    bumped.push_back(response(off_by_one(t.prompt, sol, t.entry_point)));
    body_only.push_back(response(sol));  // a completion of the prompt, as base models write
  }
  auto samples = [&](const std::vector<std::string>& texts) {
    std::vector<CodeSample> out;
    for (size_t i = 0; i < ps.size(); ++i) out.push_back({ps[i].code.get(), texts[i], "stop"});
    return out;
  };
  const auto g = grade(samples(good));
  EXPECT_EQ(passed(g, ps, true), 164u);
  for (const auto& x : g) {
    EXPECT_EQ(x.reason, "AC");
    EXPECT_TRUE(x.extracted.has_value());
  }
  EXPECT_EQ(passed(grade(samples(body_only)), ps, true), 164u);
  const auto n = grade(samples(none));
  EXPECT_EQ(passed(n, ps, false), 0u);
  const auto b = grade(samples(bumped));
  EXPECT_EQ(passed(b, ps, false), 0u);
  for (size_t i = 0; i < ps.size(); ++i) {
    // A failed assertion is a wrong answer; an exception from a wrong type, a runtime error.
    const std::string v = r1::code_outcome(b[i].reason);
    EXPECT_TRUE(v == "WA" || v == "RE") << ps[i].id << ": " << b[i].reason;
  }
}

const Problem& by_id(const std::vector<Problem>& ps, const std::string& id) {
  for (const auto& p : ps)
    if (p.id == id) return p;
  throw std::runtime_error("no problem " + id);
}

TEST_F(CodeGraderTest, LiveCodeBenchFunctional) {
  const auto ps = load("livecodebench");
  const Problem& seniors = by_id(ps, "2727");  // countSeniors(details) -> int
  const Problem& matrix = by_id(ps, "2728");   // matrixSum(nums) -> int
  ASSERT_EQ(seniors.code->func_name, "countSeniors");
  ASSERT_EQ(matrix.code->func_name, "matrixSum");
  const std::string seniors_ok =
      "class Solution:\n"
      "    def countSeniors(self, details: List[str]) -> int:\n"
      "        return sum(int(d[11:13]) > 60 for d in details)\n";
  const std::string matrix_ok =
      "class Solution:\n"
      "    def matrixSum(self, nums: List[List[int]]) -> int:\n"
      "        rows = [sorted(r) for r in nums]\n"
      "        return sum(max(col) for col in zip(*rows))\n";
  auto g = grade_one(seniors, response(seniors_ok));
  EXPECT_TRUE(g.correct) << g.reason;
  g = grade_one(matrix, response(matrix_ok));
  EXPECT_TRUE(g.correct) << g.reason;
  // A tuple result is compared as a list (as LiveCodeBench does); a top-level function works too.
  g = grade_one(matrix,
                response("def matrixSum(nums):\n"
                         "    return sum(max(c) for c in zip(*[sorted(r) for r in nums]))\n"));
  EXPECT_TRUE(g.correct) << g.reason;

  // Wrong answers.
  g = grade_one(seniors, response("class Solution:\n"
                                  "    def countSeniors(self, details):\n"
                                  "        return len(details)\n"));
  EXPECT_FALSE(g.correct);
  EXPECT_EQ(g.reason, "WA: test 1/2: a check failed (an assertion, or a wrong return value)");
  g = grade_one(matrix, response("class Solution:\n"
                                 "    def matrixSum(self, nums):\n"
                                 "        return sum(max(r) for r in nums)\n"));
  EXPECT_EQ(r1::code_outcome(g.reason), "WA") << g.reason;

  // The candidate's prints do not disturb the verdict; its main block does not run.
  g = grade_one(seniors,
                response(seniors_ok + "print('debug')\n"
                                      "if __name__ == '__main__':\n"
                                      "    print(Solution().countSeniors(input().split()))\n"));
  EXPECT_TRUE(g.correct) << g.reason;
  // Exiting early with status 0 is not a pass.
  g = grade_one(seniors, response("import sys\nsys.exit(0)\n" + seniors_ok));
  EXPECT_EQ(r1::code_outcome(g.reason), "WA") << g.reason;
  g = grade_one(seniors, response("import os\nos._exit(0)\n"));
  EXPECT_EQ(g.reason, "WA: test 1/2: exited before the checks ran");
  // Exceptions, syntax errors, endless loops, C++.
  g = grade_one(seniors, response("class Solution:\n"
                                  "    def countSeniors(self, details):\n"
                                  "        raise ValueError('no')\n"));
  EXPECT_EQ(r1::code_outcome(g.reason), "RE") << g.reason;
  g = grade_one(seniors, response("class Solution:\n    def countSeniors(self, details)\n"));
  EXPECT_EQ(r1::code_outcome(g.reason), "CE") << g.reason;
  EXPECT_NE(g.reason.find("SyntaxError"), std::string::npos) << g.reason;
  r1::CodeGradeOptions fast = options();
  fast.time_limit_s = 1;
  g = r1::grade_code(*sandbox_, *seniors.code,
                     response("class Solution:\n"
                              "    def countSeniors(self, details):\n"
                              "        while True: pass\n"),
                     fast);
  EXPECT_EQ(r1::code_outcome(g.reason), "TLE") << g.reason;
  g = grade_one(seniors, response("int main() {}", "cpp"));
  EXPECT_FALSE(g.correct);
  EXPECT_EQ(r1::code_outcome(g.reason), "wrong_language") << g.reason;
}

TEST_F(CodeGraderTest, StdinProblemsInPythonAndCpp) {
  const auto lcb = load("livecodebench");
  const Problem& cards = by_id(lcb, "1873_A");  // "abc" within one swap: YES / NO
  const std::string py =
      "t = int(input())\n"
      "for _ in range(t):\n"
      "    s = input().strip()\n"
      "    print('YES' if sum(a != b for a, b in zip(s, 'abc')) in (0, 2) else 'NO')\n";
  auto g = grade_one(cards, response(py));
  EXPECT_TRUE(g.correct) << g.reason;
  const std::string cpp =
      "#include <bits/stdc++.h>\n"
      "int main() { int t; std::cin >> t; while (t--) { std::string s; std::cin >> s;\n"
      "  int d = 0; for (int i = 0; i < 3; ++i) d += s[i] != \"abc\"[i];\n"
      "  std::puts(d == 0 || d == 2 ? \"YES\" : \"NO\"); } }\n";
  g = grade_one(cards, response(cpp, "cpp"));
  EXPECT_TRUE(g.correct) << g.reason;
  g = grade_one(cards, response("t = int(input())\nfor _ in range(t): print('YES')\n"));
  EXPECT_EQ(r1::code_outcome(g.reason), "WA") << g.reason;
  g = grade_one(cards, response("int main() { return }", "cpp"));
  EXPECT_EQ(r1::code_outcome(g.reason), "CE") << g.reason;
  EXPECT_NE(g.reason.find("error"), std::string::npos) << g.reason;

  // Codeforces (rllm): min and max of two digits per test case.
  const auto cf = load("codeforces");
  g = grade_one(cf[0], response("import sys\n"
                                "d = sys.stdin.read().split()\n"
                                "for i in range(int(d[0])):\n"
                                "    x, y = int(d[1 + 2 * i]), int(d[2 + 2 * i])\n"
                                "    print(min(x, y), max(x, y))\n"));
  EXPECT_TRUE(g.correct) << g.reason;
}

TEST_F(CodeGraderTest, NoCodeNoVerdict) {
  const auto ps = load("humaneval");
  auto g = grade_one(ps[0], "</think>\nI cannot solve this.");
  EXPECT_FALSE(g.correct);
  EXPECT_FALSE(g.extracted);
  EXPECT_EQ(g.reason, "no_code_block");
  EXPECT_EQ(r1::code_outcome(g.reason), "no_answer");
  g = r1::grade_code(*sandbox_, *ps[0].code, response("pass"), options(), "length");
  EXPECT_EQ(g.reason, "truncated");
  g = grade_one(ps[0], "```python\ndef f(): pass\n```");  // never closed its reasoning
  EXPECT_EQ(g.reason, "unclosed_think");
}

TEST(CodeOutcome, Classes) {
  EXPECT_EQ(r1::code_outcome("AC"), "AC");
  EXPECT_EQ(r1::code_outcome("WA: test 1/2: token 1"), "WA");
  EXPECT_EQ(r1::code_outcome("SE: bwrap failed"), "SE");
  EXPECT_EQ(r1::code_outcome("wrong_language: cpp (...)"), "wrong_language");
  EXPECT_EQ(r1::code_outcome("truncated"), "no_answer");
  const auto c = r1::count_code_outcomes({"AC", "AC", "SE: x", "no_code_block"});
  EXPECT_EQ(c.at("AC"), 2);
  EXPECT_EQ(c.at("SE"), 1);
  EXPECT_EQ(c.at("no_answer"), 1);
  EXPECT_EQ(c.at("WA"), 0);
}

}  // namespace
