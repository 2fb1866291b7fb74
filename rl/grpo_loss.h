// The GRPO objective as TRL 1.16.0 computes it: group advantages, the clipped surrogate (clip-
// higher, two-sided clip, token or sequence ratios), k3 KL, grpo/bnpo/dr_grpo/dapo aggregation,
// TRL's clip metrics; truncation masking, DAPO's overlong punishment, token entropy. Leaves out
// cispo, sapo, vespo, luspo, the off-policy mask, top-entropy masking, entropy bonus, vLLM IS.
#pragma once

#include <torch/types.h>  // torch::Tensor

#include <cstdint>   // int64_t
#include <optional>  // std::optional
#include <string>    // std::string

namespace r1 {

// B = completions in the micro-batch, T = completion tokens (right-padded), G = group size.

struct GrpoLossConfig {
  // Lower clip: the importance ratio is clipped below at 1 - epsilon.
  double epsilon = 0.2;
  // Upper clip at 1 + epsilon_high; unset: epsilon. DAPO's clip-higher uses 0.28.
  std::optional<double> epsilon_high;
  // Two-sided clipping (INTELLECT-2): the unclipped ratio is also capped at delta, which should be
  // above 1 + epsilon_high. Unset: off.
  std::optional<double> delta;
  // KL coefficient. 0 (TRL's default): no KL term, and no reference model need be loaded.
  double beta = 0.0;
  // Multiplies the k3 KL by the importance ratio (DeepSeek-V3.2's unbiased KL gradient; TRL's
  // default). Changes the KL gradient even when old == current log-probs (the ratio is 1 with
  // gradient 1).
  bool use_bias_correction_kl = true;
  // How per-token losses become the loss (TRL's default is "dapo"):
  //   "grpo":    mean over each sequence's tokens, then over sequences (length-biased);
  //   "bnpo":    sum over the micro-batch's tokens / its token count;
  //   "dr_grpo": sum / (B * max_completion_length), a constant (Dr. GRPO);
  //   "dapo":    sum / tokens of the whole generation batch (GrpoLossBatch::num_items_in_batch).
  std::string loss_type = "dapo";
  // "token": one ratio per token; "sequence": exp of the masked mean log-ratio per sequence (GSPO).
  std::string importance_sampling_level = "token";
  // The generation limit; dr_grpo's constant normaliser is B * max_completion_length.
  int64_t max_completion_length = 512;
  // Advantage scaling (group_advantages): "group" (by each group's std), "batch" (by the whole
  // batch's std, PPO-Lite), "none" (mean-centred only, Dr. GRPO).
  std::string scale_rewards = "group";
  // Completions cut at the length limit (no EOS) are left out of the loss (mask_truncated()).
  bool mask_truncated_completions = false;
  // Micro-batches per optimiser step: grpo, bnpo and dr_grpo divide the loss by it; dapo rescales
  // its normaliser by it / steps_per_generation. Eval (GrpoLossBatch::training false) ignores it.
  int64_t gradient_accumulation_steps = 1;
  // Micro-batches per generation batch; 0: gradient_accumulation_steps (TRL's default).
  int64_t steps_per_generation = 0;
};

// Throws r1::Error naming the field and value when a GrpoLossConfig is invalid.
void check_grpo_loss_config(const GrpoLossConfig& cfg);

// What one micro-batch's loss needs to know about the rest of the step.
struct GrpoLossBatch {
  // dapo: completion tokens (mask sum) of the whole generation batch, summed over ranks; < 0:
  // this micro-batch's own (one micro-batch per generation batch on one rank).
  double num_items_in_batch = -1.0;
  int64_t num_processes = 1;  // data-parallel ranks; dapo divides num_items_in_batch by it
  bool training = true;       // false: eval, no gradient-accumulation scaling (as TRL)
  torch::Tensor entropies;    // (B, T) optional per-token entropies, only logged
};

// One micro-batch's loss and the metrics TRL logs for it. The metrics are this rank's means
// (TRL all-reduces their sums and counts across ranks); NaN when not computed.
struct GrpoLossOut {
  torch::Tensor loss;             // () differentiable w.r.t. logps, scaled for accumulation
  double kl_mean = 0.0;           // masked mean per-token KL (bias-corrected if so); NaN if beta 0
  double entropy_mean = 0.0;      // masked mean of GrpoLossBatch::entropies; NaN if not given
  double clip_low_mean = 0.0;     // fraction of tokens with ratio < 1 - epsilon and A < 0
  double clip_high_mean = 0.0;    // fraction of tokens with ratio > 1 + epsilon_high and A > 0
  double clip_region_mean = 0.0;  // fraction of tokens clipped either way
  double clip_low_min = 0.0;      // min over sequences of their low-clipped fraction
  double clip_high_max = 0.0;     // max over sequences of their high-clipped fraction
};

// The GRPO loss of one micro-batch. Per token, with r = exp(logps - old_logps):
//   loss_t = -min(r * A, clamp(r, 1 - epsilon, 1 + epsilon_high) * A) + beta * KL_t,
//   KL_t = exp(ref - logps) - (ref - logps) - 1  (k3; times r if use_bias_correction_kl),
// aggregated by cfg.loss_type over the tokens where completion_mask is set. old_logps undefined
// (num_iterations == 1): logps.detach(), so r == 1 and the gradient is the policy gradient.
// ref_logps is read only when beta != 0. All tensors on one device; computed in logps' dtype.
GrpoLossOut grpo_loss(const torch::Tensor& logps,            // (B, T)
                      const torch::Tensor& old_logps,        // (B, T) or undefined
                      const torch::Tensor& ref_logps,        // (B, T) or undefined if beta == 0
                      const torch::Tensor& advantages,       // (B) or (B, T)
                      const torch::Tensor& completion_mask,  // (B, T) bool, integer or float
                      const GrpoLossConfig& cfg, const GrpoLossBatch& batch = {});

// Advantages from rewards laid out group by group (G consecutive completions per prompt):
// r - mean(group), divided by std + 1e-4 unless scale_rewards is "none"; the std is
// Bessel-corrected (torch's .std()), over the group ("group") or all rewards ("batch"). NaN rewards
// (unscorable) are left out of means and stds and get advantage 0, as does a group with one
// scorable reward.
torch::Tensor group_advantages(const torch::Tensor& rewards,       // (B * G) float
                               int64_t group_size,                 // G
                               const std::string& scale_rewards);  // -> (B * G)

// completion_mask with the rows of truncated completions zeroed (TRL's
// mask_truncated_completions; also the token count for dapo's num_items_in_batch).
torch::Tensor mask_truncated(const torch::Tensor& completion_mask,  // (B, T)
                             const torch::Tensor& truncated);       // (B) bool -> (B, T)

// DAPO's soft overlong punishment (Eq. 13; TRL's get_soft_overlong_punishment): 0 up to
// max_length - buffer_len tokens, then falling linearly to -1 at max_length, -1 beyond.
// length counts the completion's tokens as generated (EOS included).
double overlong_penalty(int64_t length, int64_t max_length, int64_t buffer_len);

// Per-position entropy (nats) of softmax(logits) over the last dimension, without gradient,
// computed `chunk` rows at a time so only a chunk's probabilities exist at once.
torch::Tensor token_entropy(const torch::Tensor& logits,  // (..., V)
                            int64_t chunk = 128);         // -> (...)

}  // namespace r1
