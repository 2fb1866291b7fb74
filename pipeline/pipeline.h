// The stage runner of r1pipeline: builds or checks the recipe's input model and evaluates it, then
// runs each stage (its trainer in RUN/stages/NN-NAME/train, started from the promoted checkpoint
// unless the stage says otherwise), evaluates the stage's checkpoint through r1eval's runner
// (RUN/stages/NN-NAME/eval), judges its gates against the previous promoted stage and the baseline
// (reports/gates.h), and promotes the checkpoint only when every gate holds. A failed gate stops
// the run: the last promoted checkpoint stays what RUN/pipeline.json names, and RUN/report.md and
// RUN/report.html say which gate failed, by how much and with what confidence.
//
// RUN/pipeline.json is the run's state, rewritten atomically at every step: the schema
// reports/record.h reads ("format": "r1-pipeline-run", "status", "promoted", "stages" [{"name",
// "type", "status", "dir", "checkpoint", "train_dir", "metrics", "eval_dir", "data", "gates",
// "seconds", "error", "spec"}]); paths are relative to RUN. --resume continues a run: passed stages
// are kept (a passed stage whose config or eval changed in the recipe is refused; changed gates
// are judged again on the stored evaluation), and the failed or interrupted stage runs again:
// trainers and evaluations resume from what they stored, or start over in a fresh folder (the old
// one kept as NN-NAME.attempt-K) when the recipe changed that stage's config.
// Leaves out running stages on several machines (each trainer runs in this process).
#pragma once

#include <nlohmann/json.hpp>  // nlohmann::json

#include <cstdint>  // int64_t
#include <string>   // std::string

namespace r1 {

struct PipelineOptions {
  std::string recipe;    // the YAML file
  std::string out;       // the run folder ("" = runs/RECIPE_NAME)
  bool resume = false;   // continue the run in `out`
  std::string until;     // stop after this stage ("" = all)
  std::string baseline;  // overrides the recipe's baseline run ("" = the recipe's)
  int64_t threads = -1;  // overrides the recipe's threads (-1 = the recipe's)
  std::string command;   // the command line, stored in pipeline.json
};

// Exit codes of r1pipeline and r1report compare.
constexpr int kExitGateFailed = 3;

struct PipelineResult {
  std::string status;        // passed, failed (a gate), stopped (--until)
  std::string failed_stage;  // "" unless failed
  std::string promoted;      // the last promoted checkpoint (absolute)
  std::string run_dir;
  nlohmann::json state;  // pipeline.json
};

// Runs or resumes the pipeline. A failed gate is a result (status "failed"), not an exception;
// throws r1::Error for a bad recipe, a refused resume, or a stage that fails to run (recorded in
// pipeline.json as the stage's error first).
PipelineResult run_pipeline(const PipelineOptions& options);

}  // namespace r1
