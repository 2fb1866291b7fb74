// The run record: one normalised JSON document for a pipeline run directory (pipeline.json, its
// stages' r1eval dirs and training logs) or a single r1eval run directory, that every renderer
// reads. Damaged or partial runs load: what is missing becomes null and a warning. Leaves out
// rendering, gate evaluation and comparing runs.
#pragma once

#include <nlohmann/json.hpp>  // nlohmann::json

#include <optional>  // std::optional
#include <string>    // std::string

namespace r1 {

// The record of the run in `dir`:
//   {"kind": "pipeline"|"eval", "dir", "name", "status", "command", "recipe", "started", "updated",
//    "promoted", "failed_stage", "error",
//    "stages": [{the pipeline.json stage fields, "results": results.json "benchmarks" or null,
//                "protocol": run.json "protocol" or null, "training": [metrics.jsonl rows],
//                "training_kept": false for a baseline that keeps no training logs (baseline.h),
//                whose logs are then neither read nor warned about}],
//    "warnings": ["one line each"]}
// Training rows keep "step" and the numeric fields (nested values are left out); a torn last line
// is ignored. An r1eval run directory is one stage named after the directory, type "eval".
// Throws r1::Error naming the path only when `dir` holds neither pipeline.json nor run.json /
// results.json, or pipeline.json is not JSON or not an object with "format": "r1-pipeline-run".
// Everything else (missing files, malformed JSON, fields of the wrong type) becomes a warning.
nlohmann::json load_run_record(const std::string& dir);

// Readers of record fields that never throw (records may come from anywhere): the value of `key`
// in `j` when `j` is an object holding it with the right type, else the fallback / nullopt.
std::string record_string(const nlohmann::json& j, const char* key,
                          const std::string& fallback = "");
std::optional<double> record_number(const nlohmann::json& j, const char* key);

}  // namespace r1
