// Per-token log-probabilities of target ids under logits = hidden @ weight^T / temperature,
// computed over the vocabulary in chunks so (N, V) float32 logits never exist at once: a running
// log-sum-exp in the forward pass, and a backward pass that recomputes each chunk. CPU reference
// (any device LibTorch runs on); a fused CUDA kernel is left to the training work.
#pragma once

#include <torch/types.h>  // torch::Tensor

namespace r1 {

// hidden (N, C), weight (V, C), targets (N) int64 -> log p(target) (N) float32, differentiable
// with respect to hidden and weight. chunk: vocabulary rows per chunk.
torch::Tensor token_logprobs(const torch::Tensor& hidden, const torch::Tensor& weight,
                             const torch::Tensor& targets, double temperature = 1.0,
                             int64_t chunk = 8192);

}  // namespace r1
