// The tiny R1-Zero model's sizes, initialisation and checkpoint writer (see zero_model.h).
#include "rl/zero_model.h"

#include <ATen/CPUGeneratorImpl.h>  // at::detail::createCPUGenerator
#include <torch/torch.h>            // torch::NoGradGuard

#include <filesystem>  // std::filesystem

#include <nlohmann/json.hpp>  // nlohmann::ordered_json

#include "rl/zero_tokenizer.h"  // r1::zero_token_ids, r1::write_zero_tokenizer
#include "toolkit/error.h"      // r1::Error
#include "toolkit/fs.h"         // r1::write_file_atomic

namespace r1 {

const std::vector<ZeroModelSize>& zero_model_sizes() {
  static const std::vector<ZeroModelSize> s = {
      {"nano", 48, 2, 4, 2, 128},
      {"micro", 64, 2, 4, 2, 256},
      {"tiny", 128, 4, 4, 2, 512},
      {"small", 192, 4, 4, 2, 768},
  };
  return s;
}

const ZeroModelSize& zero_model_size(const std::string& name) {
  std::string names;
  for (const auto& s : zero_model_sizes()) {
    if (s.name == name) return s;
    names += (names.empty() ? "" : ", ") + s.name;
  }
  throw Error("zero model size \"" + name + "\" is unknown (" + names + ")");
}

ModelConfig zero_model_config(const std::string& size) {
  const ZeroModelSize& s = zero_model_size(size);
  const ZeroTokenIds ids = zero_token_ids();
  ModelConfig c;
  c.model_type = "qwen2";
  c.vocab_size = (ids.vocab_size + 63) / 64 * 64;  // rows past the tokenizer are never sampled
  c.hidden_size = s.hidden_size;
  c.intermediate_size = s.intermediate_size;
  c.num_hidden_layers = s.num_layers;
  c.num_attention_heads = s.num_heads;
  c.num_key_value_heads = s.num_kv_heads;
  c.head_dim = s.hidden_size / s.num_heads;
  c.max_position_embeddings = 256;
  c.rms_norm_eps = 1e-6;
  c.rope_theta = 10000.0;
  c.tie_word_embeddings = true;
  c.qkv_bias = true;  // qwen2 always has q/k/v biases
  c.dtype = at::kFloat;
  c.bos_token_id = ids.bos;
  c.eos_token_ids = {ids.eos};
  c.pad_token_id = ids.pad;
  return c;
}

std::shared_ptr<Transformer> zero_init_model(const ModelConfig& config, uint64_t seed) {
  constexpr double kStd = 0.02;  // transformers' initializer_range default
  auto model = std::make_shared<Transformer>(config, torch::TensorOptions().dtype(torch::kFloat));
  at::Generator gen = at::detail::createCPUGenerator(seed);
  torch::NoGradGuard no_grad;
  for (auto& [name, p] : model->hf_parameters()) {
    const bool norm = name.find("norm.weight") != std::string::npos;
    const bool bias = name.size() > 5 && name.compare(name.size() - 5, 5, ".bias") == 0;
    if (norm)
      p.fill_(1.0);
    else if (bias)
      p.zero_();
    else
      p.normal_(0.0, kStd, gen);
  }
  if (config.pad_token_id) {
    // nn.Embedding(padding_idx=pad) starts with a zero row.
    for (auto& [name, p] : model->hf_parameters())
      if (name == "model.embed_tokens.weight") p[*config.pad_token_id].zero_();
  }
  return model;
}

int64_t zero_parameter_count(Transformer& model) {
  int64_t n = 0;
  for (auto& [name, p] : model.hf_parameters()) n += p.numel();
  return n;
}

void make_zero_model(const std::string& dir, uint64_t seed, const std::string& size) {
  const ModelConfig config = zero_model_config(size);
  auto model = zero_init_model(config, seed);
  save_transformer(*model, dir);
  nlohmann::ordered_json gen = {{"bos_token_id", *config.bos_token_id},
                                {"eos_token_id", config.eos_token_ids[0]},
                                {"pad_token_id", *config.pad_token_id},
                                {"do_sample", true},
                                {"temperature", 0.6},
                                {"top_p", 0.95},
                                {"max_new_tokens", 128}};
  write_file_atomic((std::filesystem::path(dir) / "generation_config.json").string(),
                    gen.dump(2) + "\n");
  write_zero_tokenizer(dir);
}

}  // namespace r1
