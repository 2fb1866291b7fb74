// How fast a run generated, recorded with its accuracy as evalscope does: prompt and generated
// tokens per second over the run's generation passes (run.json "generations", one per r1eval
// invocation that generated), time to first token and time per output token over the stored
// samples that carry them (mean, p50, p90), and how full the backend's batch was.
#pragma once

#include <nlohmann/json.hpp>  // nlohmann::json

#include <string>  // std::string
#include <vector>  // std::vector

#include "evals/sample_store.h"  // r1::SampleRecord

namespace r1 {

// One generation pass, for run.json's "generations": its wall time, what it produced and the
// backend's stats() (batch_fill...).
nlohmann::json generation_record(double wall_s, int64_t samples, int64_t prompt_tokens,
                                 int64_t completion_tokens, const nlohmann::json& backend_stats);
// results.json's "speed": from run.json's generations and the stored samples' ttft_s / tpot_s.
nlohmann::json speed_json(const nlohmann::json& run, const std::vector<SampleRecord>& samples);
// One line for summary.md ("" when the run generated nothing it timed).
std::string speed_line(const nlohmann::json& speed);

}  // namespace r1
