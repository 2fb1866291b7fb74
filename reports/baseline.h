// A regression baseline: the slim copy of a pipeline or r1eval run that `r1report compare` reads
// (pipeline.json, report.md, and each evaluation's run.json / results.json / summary.md), with no
// checkpoints, samples or training logs, and a record in pipeline.json that it keeps none, so
// loading it warns of nothing. Leaves out comparing (compare.h) and loading (record.h).
#pragma once

#include <nlohmann/json.hpp>  // nlohmann::json

#include <string>  // std::string

namespace r1 {

// Writes the baseline of the run in `run_dir` to `out_dir`: created if missing, replaced if it
// holds an earlier baseline, refused (r1::Error naming it) if it holds anything else. A pipeline
// run's pipeline.json gains "baseline": {"from", "training_logs": false, "checkpoints": false,
// "samples": false}. Returns the number of files written.
int write_baseline(const std::string& run_dir, const std::string& out_dir);

// Whether the pipeline.json object `p` is a baseline's that keeps no training logs.
bool baseline_without_training_logs(const nlohmann::json& p);

}  // namespace r1
