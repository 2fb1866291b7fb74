// r1report compare: a new run against a base run, for CI. Both are pipeline runs (stages matched
// by name) or r1eval runs; each benchmark both evaluated gets r1eval compare's paired per-problem
// comparison, and a gates file, when given, is judged with "baseline" (also "base" and "prev")
// meaning the base run's same stage. Renders Markdown for a pull-request comment and JUnit XML.
//
// Gates file (YAML):
//     gates: ["heldout.pass@1 >= baseline - 0.05", "truncated_rate <= 0.05"]   # every stage
//     stages: {distill: ["heldout.pass@1 >= baseline - 0.08"]}                  # one stage
// Leaves out comparing more than two runs.
#pragma once

#include <nlohmann/json.hpp>  // nlohmann::json

#include <cstdint>  // uint64_t
#include <string>   // std::string

namespace r1 {

struct RunCompareOptions {
  std::string base, next;  // run folders
  std::string gates_file;  // "" = compare only
  int bootstrap = 10000;
  uint64_t seed = 0;
};

// {"base", "new", "gates_file", "stages": [{"stage", "base_status", "new_status", "benchmarks":
// {name: comparison (evals/metrics.h comparison_to_json)}, "gates": [gate results]}], "gates": N,
// "failed": N, "passed": bool, "warnings": [...]}. A stage whose gates cannot be judged (the new
// run lacks it) counts its gates as missing. Throws r1::Error for an unreadable run or gates file,
// or runs of different kinds.
nlohmann::json compare_runs(const RunCompareOptions& options);

// Markdown for a pull-request comment: verdict line, a table per stage (base, new, difference with
// its 95% interval and p-value per benchmark), each gate's line.
std::string render_compare_markdown(const nlohmann::json& comparison);
// One <testsuite> per stage with one <testcase> per gate.
std::string render_compare_junit(const nlohmann::json& comparison);

}  // namespace r1
