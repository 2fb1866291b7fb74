// Token sampling: temperature, top-k, top-p (nucleus) and greedy, with a per-sequence random
// stream, so a sequence's tokens depend only on its seed and its logits, never on its batch.
// Semantics follow transformers' warpers (temperature, then top-k, then top-p over the
// renormalised top-k); the draw is an inverse-CDF over the kept tokens in descending order.
#pragma once

#include <torch/types.h>  // torch::Tensor

#include <cstdint>  // uint64_t
#include <vector>   // std::vector

namespace r1 {

// How one sequence samples.
struct SamplingParams {
  double temperature = 1.0;  // 0 = greedy (argmax); otherwise logits are divided by it
  double top_p = 1.0;        // nucleus mass in (0, 1]; 1 = off
  int64_t top_k = 0;         // keep the k most likely tokens; 0 = off
};

// A counter-based random stream: the i-th draw of a seed is a pure function of (seed, i).
struct SampleRng {
  uint64_t seed = 0;
  uint64_t counter = 0;
  double next_uniform();  // in [0, 1)
};

// Derives a sequence seed from a run seed and identifying integers (splitmix64 chain).
uint64_t derive_seed(uint64_t seed, std::initializer_list<uint64_t> parts);

// One sampled token per row and its log-probability under the temperature-scaled distribution
// (before top-k/top-p truncation, as policy-gradient code needs; raw log-softmax when greedy).
struct SampledTokens {
  std::vector<int64_t> ids;
  std::vector<float> logprobs;
};

// logits: (B, V) float32; params and rngs: one per row (rngs advance by one draw per sampled row).
SampledTokens sample_tokens(const torch::Tensor& logits, const std::vector<SamplingParams>& params,
                            std::vector<SampleRng*>& rngs);

}  // namespace r1
