// GGUF <-> Hugging Face checkpoint mapping (see gguf_model.h). Key names follow llama.cpp's
// gguf-py constants (LLM_KV_*, MODEL_TENSOR names).
#include "toolkit/gguf_model.h"

#include <regex>  // std::regex

#include "toolkit/error.h"        // r1::Error, r1::check
#include "toolkit/gguf.h"         // r1::GgufFile
#include "toolkit/gguf_quants.h"  // r1::GgmlType

namespace r1 {
namespace {

using nlohmann::json;

// GGUF tensor suffix <-> HF suffix, per layer and global.
struct NamePair {
  const char* gguf;
  const char* hf;
};
constexpr NamePair kLayerNames[] = {
    {"attn_norm.weight", "input_layernorm.weight"},
    {"ffn_norm.weight", "post_attention_layernorm.weight"},
    {"attn_q.weight", "self_attn.q_proj.weight"},
    {"attn_k.weight", "self_attn.k_proj.weight"},
    {"attn_v.weight", "self_attn.v_proj.weight"},
    {"attn_q.bias", "self_attn.q_proj.bias"},
    {"attn_k.bias", "self_attn.k_proj.bias"},
    {"attn_v.bias", "self_attn.v_proj.bias"},
    {"attn_output.weight", "self_attn.o_proj.weight"},
    {"attn_output.bias", "self_attn.o_proj.bias"},
    {"ffn_gate.weight", "mlp.gate_proj.weight"},
    {"ffn_up.weight", "mlp.up_proj.weight"},
    {"ffn_down.weight", "mlp.down_proj.weight"},
    {"ffn_gate.bias", "mlp.gate_proj.bias"},
    {"ffn_up.bias", "mlp.up_proj.bias"},
    {"ffn_down.bias", "mlp.down_proj.bias"},
};
constexpr NamePair kGlobalNames[] = {
    {"token_embd.weight", "model.embed_tokens.weight"},
    {"output_norm.weight", "model.norm.weight"},
    {"output.weight", "lm_head.weight"},
};

// An unsigned integer key, or nullopt when absent; wrong types are errors.
std::optional<int64_t> opt_int(const GgufFile& f, const std::string& key) {
  if (!f.has(key)) return std::nullopt;
  const json& v = f.at(key);
  check(v.is_number_integer(),
        f.path() + ": metadata " + key + " is not an integer (" + v.dump().substr(0, 80) + ")");
  return v.get<int64_t>();
}
int64_t req_int(const GgufFile& f, const std::string& key) {
  auto v = opt_int(f, key);
  check(v.has_value(), f.path() + ": no metadata key \"" + key + "\"");
  return *v;
}
std::optional<double> opt_float(const GgufFile& f, const std::string& key) {
  if (!f.has(key)) return std::nullopt;
  const json& v = f.at(key);
  check(v.is_number(), f.path() + ": metadata " + key + " is not a number");
  return v.get<double>();
}

std::string architecture(const GgufFile& f) {
  const json& a = f.at("general.architecture");
  check(a.is_string(), f.path() + ": general.architecture is not a string");
  const std::string arch = a.get<std::string>();
  check(arch == "llama" || arch == "qwen2",
        f.path() + ": architecture \"" + arch + "\" is not supported (llama, qwen2)");
  return arch;
}

void check_rope_scaling(const GgufFile& f, const std::string& arch) {
  if (f.has(arch + ".rope.scaling.type")) {
    const json& t = f.at(arch + ".rope.scaling.type");
    check(t.is_string() && t.get<std::string>() == "none",
          f.path() + ": " + arch + ".rope.scaling.type " + t.dump() +
              " is not supported (r1 reads GGUF files without rope scaling)");
  }
  check(f.find("rope_freqs.weight") == nullptr,
        f.path() +
            ": rope_freqs.weight (Llama 3.1-style rope scaling) is not supported for GGUF "
            "files; convert the Hugging Face checkpoint instead");
}

// The dtype a checkpoint of this file would have: its float type when unquantized, else bf16.
std::string checkpoint_dtype(const GgufFile& f) {
  const GgufTensorInfo* t = f.find("blk.0.attn_q.weight");
  if (t == nullptr) return "bfloat16";
  if (t->type == static_cast<uint32_t>(GgmlType::kF32)) return "float32";
  if (t->type == static_cast<uint32_t>(GgmlType::kF16)) return "float16";
  return "bfloat16";
}

}  // namespace

json gguf_config_json(const GgufFile& f) {
  const std::string arch = architecture(f);
  check_rope_scaling(f, arch);
  const std::string p = arch + ".";
  const GgufTensorInfo* embd = f.find("token_embd.weight");
  check(embd != nullptr && embd->dims.size() == 2,
        f.path() + ": no 2-D tensor \"token_embd.weight\"");
  json c = json::object();
  c["architectures"] = json::array({arch == "llama" ? "LlamaForCausalLM" : "Qwen2ForCausalLM"});
  c["model_type"] = arch;
  c["vocab_size"] = embd->dims[1];
  c["hidden_size"] = req_int(f, p + "embedding_length");
  c["intermediate_size"] = req_int(f, p + "feed_forward_length");
  c["num_hidden_layers"] = req_int(f, p + "block_count");
  c["num_attention_heads"] = req_int(f, p + "attention.head_count");
  c["num_key_value_heads"] =
      opt_int(f, p + "attention.head_count_kv").value_or(c["num_attention_heads"].get<int64_t>());
  if (auto d = opt_int(f, p + "attention.key_length")) c["head_dim"] = *d;
  c["max_position_embeddings"] = req_int(f, p + "context_length");
  c["rms_norm_eps"] = opt_float(f, p + "attention.layer_norm_rms_epsilon").value_or(1e-6);
  c["rope_theta"] = opt_float(f, p + "rope.freq_base").value_or(10000.0);
  c["tie_word_embeddings"] = f.find("output.weight") == nullptr;
  if (arch == "llama") c["attention_bias"] = f.find("blk.0.attn_q.bias") != nullptr;
  c["hidden_act"] = "silu";
  c["torch_dtype"] = checkpoint_dtype(f);
  if (auto b = opt_int(f, "tokenizer.ggml.bos_token_id")) c["bos_token_id"] = *b;
  if (auto e = opt_int(f, "tokenizer.ggml.eos_token_id")) c["eos_token_id"] = *e;
  if (auto pad = opt_int(f, "tokenizer.ggml.padding_token_id")) c["pad_token_id"] = *pad;
  return c;
}

ModelConfig gguf_model_config(const GgufFile& f) {
  const json j = gguf_config_json(f);
  ModelConfig c = parse_model_config(j.dump(), f.path());
  const std::string arch = c.model_type;
  if (auto rot = opt_int(f, arch + ".rope.dimension_count"))
    check(*rot == c.head_dim, f.path() + ": " + arch + ".rope.dimension_count " +
                                  std::to_string(*rot) + " differs from the head size " +
                                  std::to_string(c.head_dim) +
                                  " (partial rotary is not supported)");
  // GGUF keeps one end-of-turn id beside eos: both end a sample.
  if (auto eot = opt_int(f, "tokenizer.ggml.eot_token_id"))
    if (std::find(c.eos_token_ids.begin(), c.eos_token_ids.end(), *eot) == c.eos_token_ids.end())
      c.eos_token_ids.push_back(*eot);
  return c;
}

std::string gguf_to_hf_name(const std::string& name) {
  for (const auto& n : kGlobalNames)
    if (name == n.gguf) return n.hf;
  static const std::regex layer(R"(blk\.(\d+)\.(.+))");
  std::smatch m;
  if (!std::regex_match(name, m, layer)) return "";
  for (const auto& n : kLayerNames)
    if (m[2] == n.gguf) return "model.layers." + m[1].str() + "." + n.hf;
  return "";
}

std::string hf_to_gguf_name(const std::string& name) {
  for (const auto& n : kGlobalNames)
    if (name == n.hf) return n.gguf;
  static const std::regex layer(R"(model\.layers\.(\d+)\.(.+))");
  std::smatch m;
  if (!std::regex_match(name, m, layer)) return "";
  for (const auto& n : kLayerNames)
    if (m[2] == n.hf) return "blk." + m[1].str() + "." + n.gguf;
  return "";
}

torch::Tensor permute_llama_rows(const torch::Tensor& w, int64_t n_heads, bool to_gguf) {
  const auto shape = w.sizes().vec();
  const int64_t half = shape[0] / n_heads / 2;
  std::vector<int64_t> split = {n_heads, to_gguf ? 2 : half, to_gguf ? half : 2};
  split.insert(split.end(), shape.begin() + 1, shape.end());
  return w.reshape(split).transpose(1, 2).reshape(shape).contiguous();
}

torch::Tensor gguf_hf_tensor(const GgufFile& f, const ModelConfig& c, const std::string& hf_name,
                             at::ScalarType dtype) {
  const std::string name = hf_to_gguf_name(hf_name);
  const GgufTensorInfo* t = name.empty() ? nullptr : f.find(name);
  check(t != nullptr, f.path() + ": no tensor \"" + (name.empty() ? hf_name : name) +
                          "\" (needed for " + hf_name + ")");
  torch::Tensor w = f.tensor(*t, at::kFloat);
  if (c.model_type == "llama") {
    const bool q = hf_name.find(".q_proj.") != std::string::npos;
    const bool k = hf_name.find(".k_proj.") != std::string::npos;
    if (q || k) w = permute_llama_rows(w, q ? c.num_attention_heads : c.num_key_value_heads, false);
  }
  return dtype == at::kFloat ? w : w.to(dtype);
}

}  // namespace r1
