// The tiny R1-Zero model: Qwen2 configs by named size and a random-init checkpoint directory
// (config.json, generation_config.json, the zero tokenizer, model.safetensors) initialised like
// transformers' Qwen2 _init_weights (normal std 0.02, zero biases, unit norms, zero pad row) from a
// seeded torch generator. Leaves out training: the trainers start from this directory.
#pragma once

#include <cstdint>  // int64_t, uint64_t
#include <memory>   // std::shared_ptr
#include <string>   // std::string
#include <vector>   // std::vector

#include "toolkit/model_config.h"  // r1::ModelConfig
#include "toolkit/transformer.h"   // r1::Transformer

namespace r1 {

// A named model size. All share: 2 KV heads, rope theta 10,000, 256 positions, tied embeddings,
// vocabulary = the zero tokenizer's rounded up to a multiple of 64.
struct ZeroModelSize {
  std::string name;               // "nano", "micro", "tiny", "small"
  int64_t hidden_size = 0;        // C
  int64_t num_layers = 0;         // decoder layers
  int64_t num_heads = 0;          // H query heads (head dim C / H)
  int64_t num_kv_heads = 0;       // Hkv
  int64_t intermediate_size = 0;  // SwiGLU inner width
};

// "micro" (C 64, 2 layers; for tests), "tiny" (C 128, 4 layers), "small" (C 192, 4 layers).
const std::vector<ZeroModelSize>& zero_model_sizes();
// The size named `name`; throws r1::Error listing the names otherwise.
const ZeroModelSize& zero_model_size(const std::string& name);
// The Qwen2 config of a size with the zero tokenizer's vocabulary and special-token ids.
ModelConfig zero_model_config(const std::string& size);

// A float32 CPU model with transformers' Qwen2 initialisation drawn from a CPU generator seeded
// with `seed` (parameters in checkpoint order).
std::shared_ptr<Transformer> zero_init_model(const ModelConfig& config, uint64_t seed);
// Number of parameters (tied embedding counted once).
int64_t zero_parameter_count(Transformer& model);

// Writes the checkpoint directory `dir` (created): config.json and model.safetensors
// (save_transformer), generation_config.json (R1's sampling defaults: temperature 0.6, top-p 0.95),
// tokenizer.json and tokenizer_config.json. Same seed and size -> same bytes on the same build.
void make_zero_model(const std::string& dir, uint64_t seed, const std::string& size = "tiny");

}  // namespace r1
