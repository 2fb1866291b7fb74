// GGUF <-> Hugging Face conversions (see gguf_convert.h).
#include "toolkit/gguf_convert.h"

#include <filesystem>  // std::filesystem
#include <map>         // std::map

#include <nlohmann/json.hpp>  // nlohmann::json

#include "toolkit/error.h"           // r1::Error, r1::check
#include "toolkit/fs.h"              // r1::write_file_atomic
#include "toolkit/gguf.h"            // r1::GgufFile
#include "toolkit/gguf_model.h"      // r1::gguf_config_json
#include "toolkit/gguf_tokenizer.h"  // r1::gguf_vocab, r1::gguf_tokenizer_json, r1::gguf_pre_name
#include "toolkit/gguf_writer.h"     // r1::GgufWriter
#include "toolkit/json.h"            // r1::read_json_file
#include "toolkit/model_config.h"    // r1::load_model_config
#include "toolkit/safetensors.h"     // r1::SafetensorsCheckpoint
#include "toolkit/tokenizer.h"       // r1::Tokenizer
#include "toolkit/transformer.h"     // r1::load_transformer, r1::save_transformer

namespace r1 {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

void check_empty_out(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return;
  check(fs::is_directory(dir, ec) && fs::is_empty(dir, ec),
        dir + ": exists and is not an empty directory (choose a new --out)");
}

std::string token_text(const GgufVocab& v, std::optional<int64_t> id) {
  if (!id || *id < 0 || *id >= static_cast<int64_t>(v.tokens.size())) return "";
  return v.tokens[*id];
}

// tokenizer_config.json as transformers writes it for a fast tokenizer.
json tokenizer_config(const GgufFile& file, const GgufVocab& v) {
  json c = {{"tokenizer_class", "PreTrainedTokenizerFast"},
            {"clean_up_tokenization_spaces", false},
            {"add_bos_token", v.add_bos.value_or(false)},
            {"add_eos_token", v.add_eos.value_or(false)}};
  if (auto t = token_text(v, v.bos_id); !t.empty()) c["bos_token"] = t;
  if (auto t = token_text(v, v.eos_id); !t.empty()) c["eos_token"] = t;
  if (auto t = token_text(v, v.pad_id); !t.empty()) c["pad_token"] = t;
  if (auto t = token_text(v, v.unk_id); !t.empty()) c["unk_token"] = t;
  if (file.has("tokenizer.chat_template")) c["chat_template"] = file.at("tokenizer.chat_template");
  return c;
}

json generation_config(const json& config) {
  json g = {{"_from_model_config", true}};
  for (const char* k : {"bos_token_id", "eos_token_id", "pad_token_id"})
    if (config.contains(k)) g[k] = config[k];
  return g;
}

void write_json(const fs::path& path, const json& j) {
  write_file_atomic(path.string(), j.dump(2) + "\n");
}

// llama.cpp's general.file_type (LLAMA_FTYPE) for weights stored as `type`.
uint32_t file_type(GgmlType type) {
  switch (type) {
    case GgmlType::kF32:
      return 0;
    case GgmlType::kF16:
      return 1;
    case GgmlType::kQ8_0:
      return 7;
    case GgmlType::kBF16:
      return 32;
    default:
      throw Error("GGUF writer: cannot store type " + ggml_type_name(static_cast<uint32_t>(type)));
  }
}

void add_model_metadata(GgufWriter& g, const ModelConfig& c, const std::string& dir,
                        GgmlType type) {
  check(c.rope_type == "default", dir + ": rope_type \"" + c.rope_type +
                                      "\" cannot be written to GGUF by r1 (default rope only)");
  const std::string a = c.model_type + ".";
  g.add_string("general.architecture", c.model_type);
  g.add_string("general.name", fs::path(dir).filename().string());
  g.add_u32("general.file_type", file_type(type));
  g.add_u32("general.quantization_version", 2);
  g.add_u32(a + "block_count", c.num_hidden_layers);
  g.add_u32(a + "context_length", c.max_position_embeddings);
  g.add_u32(a + "embedding_length", c.hidden_size);
  g.add_u32(a + "feed_forward_length", c.intermediate_size);
  g.add_u32(a + "attention.head_count", c.num_attention_heads);
  g.add_u32(a + "attention.head_count_kv", c.num_key_value_heads);
  g.add_f32(a + "rope.freq_base", static_cast<float>(c.rope_theta));
  g.add_f32(a + "attention.layer_norm_rms_epsilon", static_cast<float>(c.rms_norm_eps));
  g.add_u32(a + "rope.dimension_count", c.head_dim);
  if (c.head_dim * c.num_attention_heads != c.hidden_size) {
    g.add_u32(a + "attention.key_length", c.head_dim);
    g.add_u32(a + "attention.value_length", c.head_dim);
  }
  if (c.model_type == "llama") g.add_u32(a + "vocab_size", c.vocab_size);
}

// tokenizer.json + tokenizer_config.json of `dir` as GGUF vocabulary fields: byte-level BPE only;
// ids the tokenizer does not fill up to the model's vocab_size become "[PADn]" (unused), as
// llama.cpp's converter writes them.
GgufVocab vocab_from_hf(const std::string& dir, int64_t vocab_size) {
  const std::string path = (fs::path(dir) / "tokenizer.json").string();
  check(fs::exists(path), dir + ": no tokenizer.json (a GGUF file carries the tokenizer)");
  const json tj = read_json_file(path);
  const json& model = tj.at("model");
  check(model.value("type", "") == "BPE" && tj.contains("decoder") && tj["decoder"].is_object() &&
            tj["decoder"].value("type", "") == "ByteLevel",
        path + ": not a byte-level BPE tokenizer (the only kind r1 writes to GGUF)");
  GgufVocab v;
  v.model = "gpt2";
  v.pre = gguf_pre_name(tj.value("pre_tokenizer", json()), path);
  std::map<int64_t, std::pair<std::string, int32_t>> by_id;
  for (const auto& [tok, id] : model.at("vocab").items()) by_id[id.get<int64_t>()] = {tok, 1};
  if (tj.contains("added_tokens"))
    for (const auto& a : tj["added_tokens"])
      by_id[a.at("id").get<int64_t>()] = {a.at("content").get<std::string>(),
                                          a.value("special", false) ? 3 : 4};
  const int64_t n = std::max(vocab_size, by_id.empty() ? 0 : by_id.rbegin()->first + 1);
  for (int64_t i = 0; i < n; ++i) {
    auto it = by_id.find(i);
    v.tokens.push_back(it == by_id.end() ? "[PAD" + std::to_string(i) + "]" : it->second.first);
    v.token_types.push_back(it == by_id.end() ? 5 : it->second.second);
  }
  for (const auto& m : model.at("merges"))
    v.merges.push_back(m.is_string()
                           ? m.get<std::string>()
                           : m.at(0).get<std::string>() + " " + m.at(1).get<std::string>());
  const Tokenizer tok = Tokenizer::load(dir);
  v.bos_id = tok.bos_id;
  v.eos_id = tok.eos_id;
  v.pad_id = tok.pad_id;
  const auto specials = tok.encode("", true);  // what the post-processor adds around a text
  v.add_bos = tok.bos_id && !specials.empty() && specials.front() == *tok.bos_id;
  v.add_eos = tok.eos_id && !specials.empty() && specials.back() == *tok.eos_id;
  return v;
}

void add_tokenizer_metadata(GgufWriter& g, const GgufVocab& v, const std::string& dir) {
  g.add_string("tokenizer.ggml.model", v.model);
  g.add_string("tokenizer.ggml.pre", v.pre);
  g.add_strings("tokenizer.ggml.tokens", v.tokens);
  g.add_i32s("tokenizer.ggml.token_type", v.token_types);
  g.add_strings("tokenizer.ggml.merges", v.merges);
  if (v.bos_id) g.add_u32("tokenizer.ggml.bos_token_id", *v.bos_id);
  if (v.eos_id) g.add_u32("tokenizer.ggml.eos_token_id", *v.eos_id);
  if (v.pad_id) g.add_u32("tokenizer.ggml.padding_token_id", *v.pad_id);
  if (v.add_bos) g.add_bool("tokenizer.ggml.add_bos_token", *v.add_bos);
  if (v.add_eos) g.add_bool("tokenizer.ggml.add_eos_token", *v.add_eos);
  const fs::path tc = fs::path(dir) / "tokenizer_config.json";
  const fs::path jinja = fs::path(dir) / "chat_template.jinja";
  if (fs::exists(jinja)) {
    g.add_string("tokenizer.chat_template", read_file(jinja.string()));
  } else if (fs::exists(tc)) {
    const json cfg = read_json_file(tc.string());
    if (cfg.contains("chat_template") && cfg["chat_template"].is_string())
      g.add_string("tokenizer.chat_template", cfg["chat_template"].get<std::string>());
  }
}

// Each checkpoint tensor under its GGUF name: llama's q/k rows permuted, 1-D tensors (norms,
// biases) and rows that Q8_0 cannot block kept as F32 / F16, as llama.cpp's converter does.
void add_tensors(GgufWriter& g, const SafetensorsCheckpoint& w, const ModelConfig& c,
                 GgmlType type) {
  for (const auto& name : w.names()) {
    if (name.find("rotary_emb.inv_freq") != std::string::npos) continue;
    if (name == "lm_head.weight" && c.tie_word_embeddings) continue;
    const std::string gname = hf_to_gguf_name(name);
    check(!gname.empty(), w.file_of(name) + ": tensor \"" + name +
                              "\" has no GGUF name (not a llama/qwen2 checkpoint tensor)");
    torch::Tensor t = w.tensor(name);
    const bool q = name.find(".q_proj.") != std::string::npos;
    const bool k = name.find(".k_proj.") != std::string::npos;
    if (c.model_type == "llama" && (q || k))
      t = permute_llama_rows(t, q ? c.num_attention_heads : c.num_key_value_heads, true);
    GgmlType ty = t.dim() == 1 ? GgmlType::kF32 : type;
    if (ty == GgmlType::kQ8_0 && t.size(-1) % 32 != 0) ty = GgmlType::kF16;
    g.add_tensor(gname, t, ty);
  }
}

}  // namespace

void hf_to_gguf(const std::string& dir, const std::string& out_path, GgmlType type) {
  std::error_code ec;
  check(!fs::exists(out_path, ec), out_path + ": exists (choose a new --out)");
  check(!is_gguf_file(dir), dir + ": is already a GGUF file");
  const ModelConfig c = load_model_config(dir);
  const SafetensorsCheckpoint weights(dir);
  const GgufVocab vocab = vocab_from_hf(dir, c.vocab_size);
  GgufWriter g;
  add_model_metadata(g, c, dir, type);
  add_tokenizer_metadata(g, vocab, dir);
  add_tensors(g, weights, c, type);
  g.write(out_path);
}

void write_gguf_tokenizer_files(const std::string& gguf_path, const std::string& dir) {
  const GgufFile file(gguf_path);
  const GgufVocab vocab = gguf_vocab(file);
  const fs::path out(dir);
  write_file_atomic((out / "tokenizer.json").string(), gguf_tokenizer_json(vocab, gguf_path));
  const json tc = tokenizer_config(file, vocab);
  write_json(out / "tokenizer_config.json", tc);
  if (tc.contains("chat_template") && tc["chat_template"].is_string())
    write_file_atomic((out / "chat_template.jinja").string(),
                      tc["chat_template"].get<std::string>());
  write_json(out / "generation_config.json", generation_config(gguf_config_json(file)));
}

void gguf_to_hf(const std::string& gguf_path, const std::string& out_dir, at::ScalarType dtype) {
  check_empty_out(out_dir);
  check(is_gguf_file(gguf_path), gguf_path + ": not a GGUF file");
  auto model = load_transformer(gguf_path, dtype);
  save_transformer(*model, out_dir);
  write_gguf_tokenizer_files(gguf_path, out_dir);
}

}  // namespace r1
