// The Hugging Face config.json (and generation_config.json) of the decoder-only models r1 runs:
// model_type "qwen2" and "llama". Leaves out sliding-window attention, MoE and rope types other
// than "default" and "llama3" (each is refused with an error naming the field).
#pragma once

#include <torch/types.h>  // at::ScalarType

#include <cstdint>   // int64_t
#include <optional>  // std::optional
#include <string>    // std::string
#include <vector>    // std::vector

namespace r1 {

// config.json, resolved: every field has its transformers default when absent.
struct ModelConfig {
  std::string model_type;                     // "qwen2" or "llama"
  int64_t vocab_size = 0;                     // rows of the embedding and the LM head
  int64_t hidden_size = 0;                    // C
  int64_t intermediate_size = 0;              // SwiGLU inner width
  int64_t num_hidden_layers = 0;              // decoder layers
  int64_t num_attention_heads = 0;            // H query heads
  int64_t num_key_value_heads = 0;            // KV heads (GQA when < H; defaults to H)
  int64_t head_dim = 0;                       // D; defaults to hidden_size / num_attention_heads
  int64_t max_position_embeddings = 0;        // context length the model was trained for
  double rms_norm_eps = 1e-6;                 // RMSNorm epsilon
  double rope_theta = 10000.0;                // rotary base
  std::string rope_type = "default";          // "default" or "llama3"
  double rope_factor = 1.0;                   // llama3: factor
  double rope_low_freq_factor = 1.0;          // llama3: low_freq_factor
  double rope_high_freq_factor = 4.0;         // llama3: high_freq_factor
  int64_t rope_original_max_position = 8192;  // llama3: original_max_position_embeddings
  bool tie_word_embeddings = false;           // LM head shares the embedding matrix
  bool attention_bias = false;          // q/k/v/o biases (llama); qwen2 has q/k/v biases always
  bool qkv_bias = false;                // resolved: q/k/v projections have a bias
  bool o_bias = false;                  // resolved: o projection has a bias
  bool mlp_bias = false;                // llama: gate/up/down biases
  at::ScalarType dtype = at::kFloat;    // torch_dtype (or "dtype"): the stored weights' type
  std::optional<int64_t> bos_token_id;  // beginning of sequence
  std::vector<int64_t> eos_token_ids;   // one or several end-of-sequence ids
  std::optional<int64_t> pad_token_id;  // padding id, when the config names one
};

// generation_config.json: the checkpoint author's sampling defaults.
struct GenerationDefaults {
  std::optional<bool> do_sample;
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<int64_t> top_k;
  std::optional<int64_t> max_new_tokens;
  std::vector<int64_t> eos_token_ids;  // overrides config.json's when present
};

// Reads `dir`/config.json, or a GGUF file's metadata when `dir` is one; throws r1::Error naming
// the file and field.
ModelConfig load_model_config(const std::string& dir);
// Parses config.json's text; `origin` names it in errors.
ModelConfig parse_model_config(const std::string& json_text, const std::string& origin);
// Reads `dir`/generation_config.json when present (all fields empty when not).
GenerationDefaults load_generation_defaults(const std::string& dir);
// The ids that end a sample: generation_config.json's when it names any, else config.json's.
std::vector<int64_t> stop_token_ids(const GenerationDefaults& gen, const ModelConfig& config);

// config.json text for `c` (transformers field names), so checkpoints r1 writes load in
// transformers.
std::string model_config_to_json(const ModelConfig& c);

// "float32", "bfloat16", "float16" -> at::ScalarType; throws r1::Error otherwise.
at::ScalarType parse_dtype(const std::string& name, const std::string& origin);

}  // namespace r1
