// The metrics of a GRPO step (see grpo.h): its line of the training log, TRL's names where TRL has
// them (reward, reward_std, reward/NAME, completions/*, kl, entropy, clip_ratio/*), and the
// optional dump of its training batch for checking a step against another trainer.
#pragma once

#include <nlohmann/json.hpp>  // nlohmann::json

#include <cstdint>  // int64_t
#include <string>   // std::string

#include "rl/grpo_rollout.h"  // r1::StepRollouts
#include "rl/grpo_update.h"   // r1::StepUpdate

namespace r1 {

struct GrpoConfig;

// The step's line without its held-out evaluation and total time: rewards (with the overlong
// penalty), completion lengths, groups, tokens, the loss and its statistics (or why nothing was
// trained), the learning rate `lr` of its first update, the data `epoch` and the phases' times.
nlohmann::json step_metrics(const GrpoConfig& cfg, int64_t step, const StepRollouts& rollouts,
                            const StepUpdate& update, double lr, int64_t epoch);

// OUT/batches/step-NNNNNN.json (GrpoConfig::dump_batches): the step's kept completions in group
// order with their advantages and pre-update log-probs, and the step's outcome in `line`.
void dump_batch(const std::string& out, int64_t step, const StepRollouts& rollouts,
                const StepUpdate& update, const nlohmann::json& line);

}  // namespace r1
