// The update phase of a GRPO step (see grpo.h): group advantages over the kept completions,
// micro-batches cut in group order as one process cuts them (each rank computes the loss of its own
// completions in each, scaled so that the ranks' pieces add up to the one-process loss), old
// log-probs (num_iterations > 1) and reference log-probs (beta > 0) without gradient, then
// num_iterations optimiser updates. The loss, its metrics and the gradients are summed over the
// ranks before anything is decided, so every rank skips or takes the same update.
#pragma once

#include <torch/types.h>  // torch::Tensor

#include <nlohmann/json.hpp>  // nlohmann::json

#include <cstdint>  // int64_t
#include <limits>   // std::numeric_limits
#include <string>   // std::string
#include <vector>   // std::vector

#include "rl/grpo_loss.h"     // r1::GrpoLossConfig, r1::GrpoLossOut
#include "rl/grpo_rollout.h"  // r1::KeptCompletion

namespace r1 {

class AdamW;        // rl/optim.h
class Dist;         // rl/distributed.h
class Transformer;  // toolkit/transformer.h
struct LrSchedule;  // rl/optim.h
struct GrpoConfig;

// Token-weighted means of the loss metrics over micro-batches (clip_low_min / clip_high_max:
// min / max), one optimiser update's worth.
struct LossStats {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  double weight = 0, kl = 0, clip_low = 0, clip_high = 0, clip_region = 0;
  double entropy_weight = 0, entropy = 0;  // entropies are computed on the first update only
  double clip_low_min = kNaN, clip_high_max = kNaN;
  void add(const GrpoLossOut& o, double tokens);
  double mean(double sum) const { return weight > 0 ? sum / weight : 0.0; }
  double entropy_mean() const { return entropy_weight > 0 ? entropy / entropy_weight : 0.0; }
  // The job's stats from every rank's (sums added, extremes taken; NaN where no rank has one).
  void reduce(const Dist& dist);
};

// What the update trains with; fixed for the run.
struct PolicyUpdater {
  const GrpoConfig* config = nullptr;
  Transformer* policy = nullptr;
  Transformer* reference = nullptr;  // null when beta == 0
  AdamW* optimizer = nullptr;
  const LrSchedule* schedule = nullptr;
  const Dist* dist = nullptr;
  GrpoLossConfig loss;
  int64_t pad_id = 0;
  torch::Device device = torch::kCPU;
};

// What one step's updates did.
struct StepUpdate {
  std::vector<float> advantages;  // per kept completion
  double tokens = 0;              // completion tokens carrying loss, all ranks
  nlohmann::json iterations = nlohmann::json::array();  // per update: lr, loss, grad_norm, ...
  LossStats stats;                                      // over every update, all ranks
  double loss_mean = 0, grad_norm_last = 0;
  std::string bad;  // why the first skipped update was skipped ("" = none)
  std::vector<std::vector<double>> dumped_logps;  // dump_batches: per completion, before updating
  double seconds_logprobs = 0, seconds_update = 0;
};

// Trains on the step's kept completions (nothing when none was kept). `step` is 1-based.
StepUpdate update_policy(const PolicyUpdater& u, const std::vector<KeptCompletion>& kept,
                         int64_t step);

}  // namespace r1
