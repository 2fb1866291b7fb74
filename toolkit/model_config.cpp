// config.json and generation_config.json parsing (see model_config.h). Defaults follow
// transformers' Qwen2Config and LlamaConfig.
#include "toolkit/model_config.h"

#include <filesystem>  // std::filesystem

#include <nlohmann/json.hpp>  // nlohmann::json

#include "toolkit/error.h"       // r1::Error, r1::check
#include "toolkit/fs.h"          // r1::read_file
#include "toolkit/gguf.h"        // r1::GgufFile, r1::is_gguf_file
#include "toolkit/gguf_model.h"  // r1::gguf_model_config
#include "toolkit/json.h"        // r1::parse_json

namespace r1 {
namespace {

using nlohmann::json;

json parse_json_object(const std::string& text, const std::string& origin) {
  json j = parse_json(text, origin);
  check(j.is_object(), origin + ": expected a JSON object");
  return j;
}

// A field that may be absent or null; present with the wrong type is an error.
template <typename T>
std::optional<T> get_opt(const json& j, const char* key, const std::string& origin) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  const json& v = j[key];
  bool ok = false;
  if constexpr (std::is_same_v<T, bool>)
    ok = v.is_boolean();
  else if constexpr (std::is_integral_v<T>)
    ok = v.is_number_integer();
  else if constexpr (std::is_floating_point_v<T>)
    ok = v.is_number();
  else
    ok = v.is_string();
  check(ok, origin + ": field " + key + " has the wrong type (" + v.dump() + ")");
  return v.get<T>();
}

template <typename T>
T get_req(const json& j, const char* key, const std::string& origin) {
  auto v = get_opt<T>(j, key, origin);
  check(v.has_value(), origin + ": missing field " + key);
  return *v;
}

// eos_token_id may be an int or a list of ints.
std::vector<int64_t> get_ids(const json& j, const char* key, const std::string& origin) {
  std::vector<int64_t> out;
  if (!j.contains(key) || j[key].is_null()) return out;
  const json& v = j[key];
  if (v.is_number_integer()) return {v.get<int64_t>()};
  check(v.is_array(), origin + ": field " + key + " must be an integer or a list of integers");
  for (const auto& x : v) {
    check(x.is_number_integer(), origin + ": field " + key + " must hold integers");
    out.push_back(x.get<int64_t>());
  }
  return out;
}

}  // namespace

at::ScalarType parse_dtype(const std::string& name, const std::string& origin) {
  if (name == "float32" || name == "fp32" || name == "float") return at::kFloat;
  if (name == "bfloat16" || name == "bf16") return at::kBFloat16;
  if (name == "float16" || name == "fp16" || name == "half") return at::kHalf;
  throw Error(origin + ": unsupported dtype \"" + name + "\" (use float32, bfloat16 or float16)");
}

ModelConfig parse_model_config(const std::string& text, const std::string& origin) {
  const json j = parse_json_object(text, origin);
  ModelConfig c;
  c.model_type = get_req<std::string>(j, "model_type", origin);
  check(c.model_type == "qwen2" || c.model_type == "llama",
        origin + ": model_type \"" + c.model_type + "\" is not supported (qwen2, llama)");
  c.vocab_size = get_req<int64_t>(j, "vocab_size", origin);
  c.hidden_size = get_req<int64_t>(j, "hidden_size", origin);
  c.intermediate_size = get_req<int64_t>(j, "intermediate_size", origin);
  c.num_hidden_layers = get_req<int64_t>(j, "num_hidden_layers", origin);
  c.num_attention_heads = get_req<int64_t>(j, "num_attention_heads", origin);
  c.num_key_value_heads =
      get_opt<int64_t>(j, "num_key_value_heads", origin).value_or(c.num_attention_heads);
  for (auto [name, v] : {std::pair{"vocab_size", c.vocab_size},
                         {"hidden_size", c.hidden_size},
                         {"intermediate_size", c.intermediate_size},
                         {"num_hidden_layers", c.num_hidden_layers},
                         {"num_attention_heads", c.num_attention_heads},
                         {"num_key_value_heads", c.num_key_value_heads}})
    check(v > 0, origin + ": field " + name + " must be positive (got " + std::to_string(v) + ")");
  check(c.num_attention_heads % c.num_key_value_heads == 0,
        origin + ": num_attention_heads " + std::to_string(c.num_attention_heads) +
            " is not a multiple of num_key_value_heads " + std::to_string(c.num_key_value_heads));
  c.head_dim = get_opt<int64_t>(j, "head_dim", origin).value_or(0);
  if (c.head_dim == 0) {
    check(c.hidden_size % c.num_attention_heads == 0,
          origin + ": hidden_size is not a multiple of num_attention_heads");
    c.head_dim = c.hidden_size / c.num_attention_heads;
  }
  check(c.head_dim > 0 && c.head_dim % 2 == 0,
        origin + ": head_dim must be a positive even number (got " + std::to_string(c.head_dim) +
            ")");
  c.max_position_embeddings = get_opt<int64_t>(j, "max_position_embeddings", origin)
                                  .value_or(c.model_type == "qwen2" ? 32768 : 2048);
  check(c.max_position_embeddings > 0,
        origin + ": field max_position_embeddings must be positive (got " +
            std::to_string(c.max_position_embeddings) + ")");
  c.rms_norm_eps = get_opt<double>(j, "rms_norm_eps", origin).value_or(1e-6);
  // transformers 5 moved rope_theta into rope_parameters; accept both places.
  const json* rope = nullptr;
  if (j.contains("rope_scaling") && j["rope_scaling"].is_object()) rope = &j["rope_scaling"];
  if (j.contains("rope_parameters") && j["rope_parameters"].is_object())
    rope = &j["rope_parameters"];
  c.rope_theta = get_opt<double>(j, "rope_theta", origin).value_or(10000.0);
  if (rope != nullptr) {
    const std::string o = origin + ": rope_scaling";
    c.rope_theta = get_opt<double>(*rope, "rope_theta", o).value_or(c.rope_theta);
    c.rope_type = get_opt<std::string>(*rope, "rope_type", o)
                      .value_or(get_opt<std::string>(*rope, "type", o).value_or("default"));
    if (c.rope_type == "llama3") {
      c.rope_factor = get_req<double>(*rope, "factor", o);
      c.rope_low_freq_factor = get_req<double>(*rope, "low_freq_factor", o);
      c.rope_high_freq_factor = get_req<double>(*rope, "high_freq_factor", o);
      c.rope_original_max_position = get_req<int64_t>(*rope, "original_max_position_embeddings", o);
      check(c.rope_high_freq_factor != c.rope_low_freq_factor,
            o + ": high_freq_factor equals low_freq_factor");
    } else {
      check(c.rope_type == "default",
            o + ".rope_type \"" + c.rope_type + "\" is not supported (default, llama3)");
    }
  } else if (j.contains("rope_scaling") && !j["rope_scaling"].is_null()) {
    throw Error(origin + ": rope_scaling must be an object or null");
  }
  check(c.rope_theta > 0, origin + ": rope_theta must be positive");
  c.tie_word_embeddings = get_opt<bool>(j, "tie_word_embeddings", origin).value_or(false);
  c.attention_bias = get_opt<bool>(j, "attention_bias", origin).value_or(false);
  c.mlp_bias = get_opt<bool>(j, "mlp_bias", origin).value_or(false);
  if (c.model_type == "qwen2") {
    c.qkv_bias = true;
    c.o_bias = false;
    check(!get_opt<bool>(j, "use_sliding_window", origin).value_or(false),
          origin + ": use_sliding_window=true is not supported");
  } else {
    c.qkv_bias = c.o_bias = c.attention_bias;
  }
  const std::string act = get_opt<std::string>(j, "hidden_act", origin).value_or("silu");
  check(act == "silu", origin + ": hidden_act \"" + act + "\" is not supported (silu)");
  auto dtype = get_opt<std::string>(j, "torch_dtype", origin);
  if (!dtype) dtype = get_opt<std::string>(j, "dtype", origin);
  c.dtype = dtype ? parse_dtype(*dtype, origin + ": torch_dtype") : at::kFloat;
  c.bos_token_id = get_opt<int64_t>(j, "bos_token_id", origin);
  c.eos_token_ids = get_ids(j, "eos_token_id", origin);
  c.pad_token_id = get_opt<int64_t>(j, "pad_token_id", origin);
  return c;
}

std::string model_config_to_json(const ModelConfig& c) {
  json j = {{"architectures", {c.model_type == "qwen2" ? "Qwen2ForCausalLM" : "LlamaForCausalLM"}},
            {"model_type", c.model_type},
            {"vocab_size", c.vocab_size},
            {"hidden_size", c.hidden_size},
            {"intermediate_size", c.intermediate_size},
            {"num_hidden_layers", c.num_hidden_layers},
            {"num_attention_heads", c.num_attention_heads},
            {"num_key_value_heads", c.num_key_value_heads},
            {"head_dim", c.head_dim},
            {"max_position_embeddings", c.max_position_embeddings},
            {"rms_norm_eps", c.rms_norm_eps},
            {"rope_theta", c.rope_theta},
            {"tie_word_embeddings", c.tie_word_embeddings},
            {"hidden_act", "silu"},
            {"torch_dtype", c.dtype == at::kBFloat16 ? "bfloat16"
                            : c.dtype == at::kHalf   ? "float16"
                                                     : "float32"}};
  if (c.rope_type == "llama3")
    j["rope_scaling"] = {{"rope_type", "llama3"},
                         {"factor", c.rope_factor},
                         {"low_freq_factor", c.rope_low_freq_factor},
                         {"high_freq_factor", c.rope_high_freq_factor},
                         {"original_max_position_embeddings", c.rope_original_max_position}};
  if (c.model_type == "llama") {
    j["attention_bias"] = c.attention_bias;
    j["mlp_bias"] = c.mlp_bias;
  }
  if (c.bos_token_id) j["bos_token_id"] = *c.bos_token_id;
  if (c.eos_token_ids.size() == 1)
    j["eos_token_id"] = c.eos_token_ids[0];
  else if (!c.eos_token_ids.empty())
    j["eos_token_id"] = c.eos_token_ids;
  if (c.pad_token_id) j["pad_token_id"] = *c.pad_token_id;
  return j.dump(2) + "\n";
}

ModelConfig load_model_config(const std::string& dir) {
  if (is_gguf_file(dir)) return gguf_model_config(GgufFile(dir));
  const std::string path = (std::filesystem::path(dir) / "config.json").string();
  check(std::filesystem::is_directory(dir),
        dir + ": not a model directory (config.json + safetensors) or a GGUF file");
  check(std::filesystem::exists(path),
        path + ": missing (a Hugging Face checkpoint needs config.json)");
  return parse_model_config(read_file(path), path);
}

GenerationDefaults load_generation_defaults(const std::string& dir) {
  const std::string path = (std::filesystem::path(dir) / "generation_config.json").string();
  GenerationDefaults g;
  if (!std::filesystem::exists(path)) return g;
  const json j = parse_json_object(read_file(path), path);
  g.do_sample = get_opt<bool>(j, "do_sample", path);
  g.temperature = get_opt<double>(j, "temperature", path);
  g.top_p = get_opt<double>(j, "top_p", path);
  g.top_k = get_opt<int64_t>(j, "top_k", path);
  g.max_new_tokens = get_opt<int64_t>(j, "max_new_tokens", path);
  g.eos_token_ids = get_ids(j, "eos_token_id", path);
  return g;
}

std::vector<int64_t> stop_token_ids(const GenerationDefaults& gen, const ModelConfig& config) {
  return gen.eos_token_ids.empty() ? config.eos_token_ids : gen.eos_token_ids;
}

}  // namespace r1
