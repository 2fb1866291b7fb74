// The decoder-only transformer of the Qwen2 / Llama family as a LibTorch module: token embedding,
// RMSNorm, rotary embedding (default and llama3 scaling), GQA attention, SwiGLU MLP, LM head.
// Two paths over the same weights: a full-sequence forward (training, scoring, prefill) and one-
// token incremental decoding against a KVCache. Leaves out sliding windows, MoE and tensor
// parallelism. Shapes: B batch, T tokens, S cache slots, C width, H/Hkv heads, D head dim, V vocab.
#pragma once

#include <torch/nn/module.h>  // torch::nn::Module
#include <torch/types.h>      // torch::Tensor

#include <memory>  // std::shared_ptr
#include <string>  // std::string
#include <vector>  // std::vector

#include "toolkit/kv_cache.h"      // r1::KVCache
#include "toolkit/model_config.h"  // r1::ModelConfig

namespace r1 {

// Per-layer K and V produced by a full forward, each (B, Hkv, T, D); filled when requested.
struct LayerKV {
  std::vector<torch::Tensor> k, v;
};

class Transformer : public torch::nn::Module {
 public:
  // Parameters are created uninitialised (zeros) with the given dtype and device; load weights
  // with load_transformer or initialise them yourself.
  Transformer(const ModelConfig& config, torch::TensorOptions options);

  const ModelConfig& config() const { return config_; }
  torch::TensorOptions options() const { return options_; }

  // Full-sequence forward. ids, positions: (B, T) int64; valid: (B, T) bool, false at padding
  // (undefined = all valid). Each token attends to valid tokens at or before it in the same row.
  // Returns the final-normed hidden states (B, T, C). When kv_out is given, it receives each
  // layer's K and V (B, Hkv, T, D) (rotary already applied).
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& positions,
                        const torch::Tensor& valid = {}, LayerKV* kv_out = nullptr);

  // One decoding step for cache rows [0, B): ids (B, 1); positions (B) int64, the slot each new
  // token is written to. Each row attends to its slots [0, positions[b]]. Returns hidden (B, 1, C).
  torch::Tensor decode(const torch::Tensor& ids, const torch::Tensor& positions, KVCache& cache);

  // LM head over hidden states (..., C) -> logits (..., V) in float32.
  torch::Tensor logits(const torch::Tensor& hidden);
  // The LM head matrix (V, C): the embedding when tied.
  torch::Tensor lm_head_weight() const;

  // Checkpoint name -> parameter (split views into the fused q/k/v and gate/up matrices), so
  // loaders and savers speak the Hugging Face names.
  std::vector<std::pair<std::string, torch::Tensor>> hf_parameters();

 private:
  struct Layer {
    torch::Tensor input_norm, post_norm;  // (C)
    torch::Tensor qkv_w, qkv_b;           // ((H + 2 Hkv) D, C), bias optional
    torch::Tensor o_w, o_b;               // (C, H D), bias optional
    torch::Tensor gate_up_w, gate_up_b;   // (2 I, C): rows [0, I) gate, [I, 2 I) up
    torch::Tensor down_w, down_b;         // (C, I)
  };
  torch::Tensor layer_forward(Layer& layer, size_t index, const torch::Tensor& x,
                              const torch::Tensor& cos, const torch::Tensor& sin,
                              const torch::Tensor& mask, LayerKV* kv_out, KVCache* cache,
                              const torch::Tensor& slots);
  torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& w) const;
  std::pair<torch::Tensor, torch::Tensor> rotary(const torch::Tensor& positions) const;

  ModelConfig config_;
  torch::TensorOptions options_;
  torch::Tensor embed_, final_norm_, lm_head_;  // lm_head_ undefined when tied
  torch::Tensor inv_freq_;                      // (D/2) float32
  std::vector<Layer> layers_;
};

// Loads a Hugging Face checkpoint directory (config.json + safetensors) into a Transformer with
// the given dtype (default: the checkpoint's torch_dtype) on `device`. Checks every tensor's
// presence, shape and dtype against the config and names the file and tensor on a mismatch.
std::shared_ptr<Transformer> load_transformer(const std::string& dir,
                                              std::optional<at::ScalarType> dtype = std::nullopt,
                                              torch::Device device = torch::kCPU);

// "cpu", "cuda", "cuda:1" -> a device that is available here; throws r1::Error naming `flag`.
torch::Device parse_device(const std::string& name, const std::string& flag);
// A command's --dtype/--device pair: "auto" dtype is float32 on CPU and the checkpoint's on CUDA.
std::shared_ptr<Transformer> load_transformer_for(const std::string& dir,
                                                  const std::string& dtype_name,
                                                  const std::string& device_name);

// Writes `model` as a Hugging Face checkpoint directory (config.json + model.safetensors in the
// model's dtype), creating `dir`. Loadable by load_transformer and by transformers.
void save_transformer(Transformer& model, const std::string& dir);

}  // namespace r1
