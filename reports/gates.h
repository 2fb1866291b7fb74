// Gates: the conditions a pipeline stage's evaluation must meet before its checkpoint is promoted,
// and that `r1report compare --gate` checks in CI. A gate is one line:
//
//     [BENCHMARK.]METRIC OP RHS        OP: >= <= > <      RHS: NUMBER | REF | REF +/- NUMBER
//
// METRIC: pass@K, maj@n (per problem, so intervals are paired), truncated_rate, no_answer_rate,
// tokens_mean (aggregates), and the rejection-sampling stage's rows, kept, kept_rate. REF: prev
// (the last promoted stage) or baseline (a baseline run; r1report compare's BASE, also called
// base). NUMBER may end in % (50% = 0.5). Without a benchmark the gate holds for each benchmark
// evaluated.
//
// How a gate is judged (R1-scale benchmarks are small: 30 AIME problems at 16 samples move 2-3
// points between honest runs, so a point estimate against a threshold flakes):
// - absolute (`math500.pass@1 >= 0.5`): the point estimate against the number, with the 95%
//   bootstrap interval over problems and the share of bootstrap resamples that meet it reported.
// - relative (`aime2024.pass@1 >= prev - 0.02`): the paired per-problem difference (this run minus
//   the reference, on the problems both hold) judged on the end of its 95% bootstrap interval that
//   the operator bounds: `>= prev - m` holds when the interval's lower end is >= -m
//   (non-inferiority with margin m); `>= prev` demands a shown improvement; `<= prev + m` bounds
//   the upper end. The interval is r1eval compare's (same resampling and seed). Aggregates have no
//   per-problem values: their difference is judged as a point.
// - guard (`truncated_rate <= 0.05`): an aggregate or data metric against a number, as a point.
// A gate that cannot be judged (metric, benchmark or reference missing) is "missing" and does not
// pass. Leaves out multiple-comparison corrections across gates.
#pragma once

#include <nlohmann/json.hpp>  // nlohmann::json

#include <cstdint>  // uint64_t
#include <map>      // std::map
#include <string>   // std::string
#include <vector>   // std::vector

namespace r1 {

struct GateSpec {
  std::string expr;       // as written
  std::string benchmark;  // "" = every benchmark evaluated
  std::string metric;     // pass@K, maj@n, truncated_rate, no_answer_rate, tokens_mean, rows, ...
  std::string op;         // >=, <=, >, <
  std::string reference;  // "" (RHS is a number), "prev" or "baseline"
  double number = 0;      // the threshold, or the offset added to the reference ("prev - 0.02")
};

// Parses one gate; throws r1::Error quoting it and saying what is wrong.
GateSpec parse_gate(const std::string& expr);
// A YAML/JSON list of gate strings; `where` names it in errors ("tiny-r1.yaml: stages[2].gates").
std::vector<GateSpec> parse_gate_list(const nlohmann::json& list, const std::string& where);

// What a stage's gates are judged on.
struct GateInputs {
  const nlohmann::json* benchmarks = nullptr;  // the stage's results.json "benchmarks" (null: none)
  const nlohmann::json* data = nullptr;        // data metrics ({"rows", "kept", "kept_rate"})
  struct Reference {
    std::string label;                           // "stage grpo", "runs/base", ...
    const nlohmann::json* benchmarks = nullptr;  // its results.json "benchmarks" (null: none)
    const nlohmann::json* data = nullptr;
  };
  std::map<std::string, Reference> references;  // by name: "prev", "baseline"
  int bootstrap = 10000;                        // resamples behind intervals and confidences
  uint64_t seed = 0;
};

// One JSON result per gate and benchmark (a gate without a benchmark expands to each):
// {"expr", "kind": absolute|relative|guard, "benchmark", "metric", "op", "value", "reference",
//  "reference_label", "reference_value", "margin", "threshold", "estimate", "ci95", "judged_on":
//  point|ci95_lo|ci95_hi, "judged", "bound", "slack" (>= 0 inside the bound), "confidence" (share
//  of bootstrap resamples meeting the condition; null for points), "problems_common", "status":
//  passed|failed|missing, "message" (one line)}.
std::vector<nlohmann::json> evaluate_gates(const std::vector<GateSpec>& gates,
                                           const GateInputs& inputs);
// True when every result passed (an empty list passes).
bool gates_passed(const std::vector<nlohmann::json>& results);

}  // namespace r1
