// An evaluation run, end to end: benchmarks -> prompts (protocol) -> backend -> sample store
// (append + fsync per sample, resumable) -> grading -> metrics -> results.json and summary.md in
// the run directory. Also re-grading a run without generating, and comparing two runs paired per
// problem. Math samples are graded as they arrive; code samples are stored "pending" and judged
// in the sandbox after generation, in parallel (a resumed run judges what is still pending, and
// retries sandbox errors). Leaves out judging while generating.
#pragma once

#include <nlohmann/json.hpp>  // nlohmann::json

#include <cstdint>  // int64_t
#include <ostream>  // std::ostream
#include <string>   // std::string
#include <vector>   // std::vector

#include "evals/backend.h"      // r1::Backend
#include "evals/code_grader.h"  // r1::CodeGradeOptions
#include "evals/protocol.h"     // r1::Protocol

namespace r1 {

struct RunOptions {
  std::vector<std::string> benchmarks;  // registry names
  // A user's own JSONL instead (or as well): path and fields.
  std::string dataset, question_field = "problem", answer_field = "answer", id_field;
  std::string data_dir;  // searched first (then $R1_DATA, ~/.cache/r1/datasets)
  Protocol protocol;
  std::string out_dir;    // the run directory (created; resumed when it holds a run)
  int64_t limit = 0;      // only the first `limit` problems of each benchmark (0: all)
  bool progress = true;   // a progress line on a terminal
  bool quiet = false;     // no per-run count line ("N problems x S samples; ...") on stderr
  int bootstrap = 10000;  // bootstrap replicates for intervals
  std::string command;    // the command line, stored in run.json
  // Contest-date window of dated benchmarks (livecodebench), "YYYY-MM-DD" inclusive, "" = open.
  // Stored in run.json per benchmark; another window on resume selects other problems (like
  // --limit): results cover the window of the latest invocation.
  std::string since, until;
  CodeGradeOptions code;  // limits and workers for code benchmarks (require_think: the protocol's)
};

// Runs or resumes the evaluation and writes results.json and summary.md; returns results.json.
// Throws r1::Error when the run directory holds a different run (other model or generation
// settings), for bad data, or when the backend gives up (completed samples stay stored).
nlohmann::json run_eval(const RunOptions& options, Backend& backend);
// Writes, one JSON line per problem of the run's benchmarks, what `backend` would send for it:
// {benchmark, problem_id, messages, prompt} (prompt: the rendered text, or the messages for a
// chat API). Generates nothing and writes no run directory.
void print_prompts(const RunOptions& options, Backend& backend, std::ostream& out);

struct RegradeOptions {
  std::string extract;    // extraction preset; empty: the run's
  int float_places = -1;  // -1: the run's
  std::string data_dir;   // where to find the datasets if they moved
  int bootstrap = 10000;
  // Code benchmarks: limits 0 = the run's (run.json "code_grading"); workers 0 = hardware threads.
  CodeGradeOptions code;
  bool progress = true;  // a progress line on a terminal while judging
};
// Re-extracts and re-grades every stored sample (code: judged again in the sandbox; the store is
// rewritten atomically), then recomputes results.json and summary.md. Generates nothing.
nlohmann::json regrade_run(const std::string& run_dir, const RegradeOptions& options);

// Paired per-problem comparison of two runs' results.json, for each benchmark they share; returns
// {"benchmarks": {name: comparison}} and fills `markdown`.
nlohmann::json compare_run_dirs(const std::string& run_a, const std::string& run_b,
                                std::string* markdown, int bootstrap = 10000);

// The text graded for a sample: the response, with separately returned reasoning put back in
// front of it and closed ("...</think>\n" + response).
std::string grading_text(const std::string& response, const std::string& reasoning);

}  // namespace r1
