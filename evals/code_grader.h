// The code grader: a response -> its last fenced code block (code_extract.h) -> the program and
// tests of its problem (code_benchmarks.h) -> judged in the sandbox, many samples at once on one
// shared Sandbox. A sample is correct iff every test is AC. Leaves out partial credit and
// choosing among several code blocks.
//
// Reasons (SampleRecord::reason): "AC"; a verdict and why, "WA: test 3/12: token 1: got '4',
// expected '5'", "RE: test 1/3: exit code 1", "CE: <first compiler line>", "TLE: ...", "MLE: ...",
// "OLE: ..."; "SE: ..." when the sandbox itself failed (never the model's fault: counted apart,
// and retried by a resumed run or regrade); no code: the extraction status ("truncated",
// "unclosed_think", "no_code_block", "unsupported_language"), or "wrong_language: cpp (...)".
#pragma once

#include <cstdint>     // int64_t
#include <functional>  // std::function
#include <map>         // std::map
#include <optional>    // std::optional
#include <string>      // std::string
#include <vector>      // std::vector

#include "evals/code_benchmarks.h"  // r1::CodeTask
#include "sandbox/sandbox.h"        // r1::sandbox::Sandbox

namespace r1 {

struct CodeGradeOptions {
  double time_limit_s = 0;     // CPU seconds per test; 0: the problem's (stated or its benchmark's)
  int64_t memory_mb = 0;       // memory per test in MB; 0: the problem's
  int workers = 0;             // judge jobs at once; 0: hardware threads
  bool require_think = false;  // a response without "</think>" has no code (forced <think>)
  sandbox::SandboxOptions sandbox;  // for the Sandbox a run makes (runner.h); grade_* take theirs
};

struct CodeGrade {
  bool correct = false;
  std::optional<std::string> extracted;  // the code judged; nullopt when none was found
  std::string reason;                    // see the header comment
};

// One sample to grade: its problem and its text (grading_text: reasoning put back in front).
struct CodeSample {
  const CodeTask* task = nullptr;
  std::string text;
  std::string finish_reason = "stop";
};

// Grades every sample; results in input order. on_done(done, total) after each sample that
// reached the sandbox (total: how many do; samples without code are graded at once).
std::vector<CodeGrade> grade_code_samples(
    sandbox::Sandbox& sandbox, const std::vector<CodeSample>& samples,
    const CodeGradeOptions& options,
    const std::function<void(size_t done, size_t total)>& on_done = {});
// One sample (the same path as above).
CodeGrade grade_code(sandbox::Sandbox& sandbox, const CodeTask& task, const std::string& text,
                     const CodeGradeOptions& options, const std::string& finish_reason = "stop");

// The class of a stored code reason: "AC", "WA", "CE", "RE", "TLE", "MLE", "OLE", "SE",
// "wrong_language" (code the problem cannot run, e.g. C++ for HumanEval), or "no_answer".
std::string code_outcome(const std::string& reason);
// Samples per outcome class, for results.json.
std::map<std::string, int64_t> count_code_outcomes(const std::vector<std::string>& reasons);

}  // namespace r1
