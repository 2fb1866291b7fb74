// A GGUF file as a Hugging Face checkpoint of the llama and qwen2 architectures: its metadata as
// config.json, its tensor names as transformers' names, with the Q/K row permutation that
// llama.cpp's converter applies to Llama undone. The reverse mapping serves the GGUF writer.
// Leaves out other architectures and rope scaling stored as rope_freqs (Llama 3.1): refused by
// name.
#pragma once

#include <torch/types.h>      // torch::Tensor
#include <nlohmann/json.hpp>  // nlohmann::json

#include <string>  // std::string

#include "toolkit/model_config.h"  // r1::ModelConfig

namespace r1 {

class GgufFile;

// config.json (transformers' field names) from the metadata; throws r1::Error naming the file
// and key for an unsupported architecture, rope scaling or a missing key.
nlohmann::json gguf_config_json(const GgufFile& file);
ModelConfig gguf_model_config(const GgufFile& file);

// "blk.3.attn_q.weight" -> "model.layers.3.self_attn.q_proj.weight"; empty when the name is not
// one of a llama/qwen2 checkpoint's.
std::string gguf_to_hf_name(const std::string& gguf_name);
// The inverse: "model.norm.weight" -> "output_norm.weight"; empty when unknown.
std::string hf_to_gguf_name(const std::string& hf_name);

// llama.cpp's converter permutes Llama's q_proj/k_proj rows (per head: the two rotary halves
// interleaved); `to_gguf` false undoes it. Rows: n_heads * head_dim (weights or biases).
torch::Tensor permute_llama_rows(const torch::Tensor& w, int64_t n_heads, bool to_gguf);

// The checkpoint tensor `hf_name` (transformers' name and layout) dequantized to `dtype`;
// throws r1::Error naming the file and tensor when absent.
torch::Tensor gguf_hf_tensor(const GgufFile& file, const ModelConfig& config,
                             const std::string& hf_name, at::ScalarType dtype);

}  // namespace r1
