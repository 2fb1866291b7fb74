// The rollout phase of a GRPO step (see grpo.h): generate G completions per prompt on the live
// policy, score them, gather every completion's facts across the ranks, and keep the groups that
// train (DAPO dynamic sampling drops the groups whose rewards are all equal and draws more prompts
// until the batch is full or the refill rounds are spent). Each rank generates the groups of its
// contiguous share of a round's prompts; sampling seeds follow (run seed, the prompt's draw number,
// sample index), so the samples do not depend on the rank.
#pragma once

#include <cstdint>  // int64_t
#include <deque>    // std::deque
#include <vector>   // std::vector

#include "rl/rewards.h"  // r1::RewardScores, r1::RewardSet

namespace r1 {

class Dist;        // rl/distributed.h
class Engine;      // toolkit/engine.h
class SftSampler;  // rl/sft_data.h
class Tokenizer;   // toolkit/tokenizer.h
struct GrpoConfig;
struct GrpoPrompt;

// Streams derived from the run seed (derive_seed's first part), one per use.
inline constexpr uint64_t kGrpoStreamOrder = 1, kGrpoStreamSample = 2;

// One sampled completion of a step.
struct Rollout {
  const GrpoPrompt* prompt = nullptr;
  std::vector<int64_t> ids;  // generated tokens, the stop token included
  bool truncated = false;    // cut at max_new_tokens (or the context)
  double reward = 0.0;       // weighted total, overlong penalty included
};

// What every rank knows of a kept completion, whichever rank generated it.
struct KeptCompletion {
  const Rollout* local = nullptr;  // this rank's rollout (its tokens); null: another rank's
  double reward = 0.0;             // weighted total plus the overlong penalty
  double tokens = 0.0;             // completion tokens carrying loss (0 when masked as truncated)
};

// Everything one step generated, as every rank sees it (local: this rank's own).
struct StepRollouts {
  std::deque<Rollout> local;         // this rank's completions, every round (kept points here)
  std::vector<KeptCompletion> kept;  // group-major: G consecutive completions per prompt
  RewardScores scores;               // every generated completion's, all ranks
  RewardScores local_scores;         // this rank's (its reward errors)
  std::vector<double> lengths;       // per generated completion
  std::vector<double> overlong;      // overlong penalty per generated completion (when on)
  int64_t groups_generated = 0, groups_dropped = 0, rounds = 0, truncated = 0;
  double seconds_generate = 0, seconds_reward = 0;
};

// What rollouts are drawn from; fixed for the run.
struct RolloutSource {
  const GrpoConfig* config = nullptr;
  const Tokenizer* tokenizer = nullptr;
  const std::vector<GrpoPrompt>* prompts = nullptr;
  std::vector<int64_t> stop_ids;
  const Dist* dist = nullptr;
  Engine* engine = nullptr;
  RewardSet* rewards = nullptr;
};

// Generates and scores one step's rollouts into `out` (empty), drawing prompts from `sampler`;
// `drawn` counts the prompts drawn so far in the run (the sampling seeds' draw numbers).
void collect_rollouts(const RolloutSource& src, SftSampler& sampler, int64_t& drawn,
                      StepRollouts& out);

// Prints each reward that could not score some of this rank's samples in step `step` (stderr).
void report_reward_errors(const StepRollouts& step_rollouts, const Dist& dist, int64_t step);

}  // namespace r1
