// Code benchmarks: loaders for HumanEval (openai/human-eval JSONL), LiveCodeBench (release JSONL,
// stdin and functional LeetCode-style problems), CodeContests/Codeforces (rllm/DeepCoder JSON and
// SandboxFusion JSONL, told apart by content), their prompts, and the program and tests that judge
// one candidate solution. Leaves out running them (code_grader.h) and private/hidden test sets.
#pragma once

#include <cstdint>  // int64_t
#include <string>   // std::string
#include <vector>   // std::vector

#include "evals/benchmarks.h"  // r1::Problem, r1::BenchmarkSpec
#include "sandbox/sandbox.h"   // r1::sandbox::Test, r1::sandbox::Lang, r1::sandbox::Checker

namespace r1 {

// What grading one code problem needs (Problem::code).
struct CodeTask {
  enum class Kind {
    Stdin,       // a whole program: tests are stdin -> expected stdout (token comparison)
    Functional,  // LiveCodeBench LeetCode-style: Solution().<func_name>(*args), Python only
    HumanEval,   // a Python function checked by the benchmark's check(candidate) asserts
  };
  Kind kind = Kind::Stdin;
  sandbox::Lang default_lang = sandbox::Lang::Python;  // of an untagged fence (spec.language)
  // Stdin: input and expected stdout. Functional: input = one JSON value per line (the
  // arguments), output = the JSON of the expected return value. HumanEval: empty.
  std::vector<sandbox::Test> tests;
  std::string func_name;     // Functional: the method to call
  std::string starter_code;  // Functional: the class skeleton shown in the prompt
  std::string prompt;        // HumanEval: the signature and docstring (also the question)
  std::string entry_point;   // HumanEval: the function check() is given
  std::string check_code;    // HumanEval: the `test` field, defining check(candidate)
  std::string date;          // LiveCodeBench: contest date, "YYYY-MM-DD"; else empty
  double time_limit_s = 0;   // CPU s per test: stated ("Time Limit: 2000 ms") or the spec's
  int64_t memory_mb = 0;     // MB per test: stated ("Memory Limit: 256 MB") or the spec's
  bool lcb_imports = false;  // prepend LiveCodeBench's standard-library import block
  bool lang_asked = false;   // the row names its language (default_lang): the prompt asks for it
};

const char* code_kind_name(CodeTask::Kind kind);  // "stdin", "functional", "humaneval"

// Reads the problems of a code benchmark; spec.format picks the loader: "humaneval",
// "livecodebench", "codecontests" (an rllm JSON list, with tests as {inputs, outputs} or
// [{input, output}], or SandboxFusion JSONL rows {content, id, labels, test}). Malformed rows throw
// r1::Error "PATH:LINE: ..." (JSON lists: "PATH: [INDEX]: ...") naming the field.
std::vector<Problem> load_code_dataset(const std::string& path, const BenchmarkSpec& spec);

// Keeps the problems whose date is within [since, until] ("YYYY-MM-DD", inclusive; "" = open).
// Throws r1::Error for a malformed date or when no problem of `benchmark` carries a date.
std::vector<Problem> filter_by_date(std::vector<Problem> problems, const std::string& since,
                                    const std::string& until, const std::string& benchmark);
// Checks "YYYY-MM-DD" (flag named in the error).
void check_date(const std::string& date, const std::string& flag);

// The user turn for a code problem (LiveCodeBench's own format for stdin and functional
// problems; HumanEval and contests: write the program in one fenced block).
std::string code_prompt(const Problem& problem);

// What to judge for one candidate: the program (the code, or the code inside a harness) and its
// tests, compared with `checker`. Harnessed programs (Functional, HumanEval) print a marker line
// on the real stdout only when every check passed, so an early exit(0) of the candidate is a WA;
// the candidate's own prints go to stderr.
struct CodeProgram {
  sandbox::Lang lang = sandbox::Lang::Python;
  std::string source;
  std::vector<sandbox::Test> tests;
  sandbox::Checker checker;
};

// The program for `code` written in `lang`. Throws r1::Error when the problem cannot be judged in
// that language (Functional and HumanEval need Python): the caller records it as a wrong answer.
CodeProgram build_code_program(const CodeTask& task, const std::string& code, sandbox::Lang lang);

// The marker line a harnessed program prints when it passes.
inline constexpr const char* kHarnessPass = "R1_PASS";

}  // namespace r1
