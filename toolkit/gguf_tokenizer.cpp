// GGUF tokenizer metadata -> tokenizer.json (see gguf_tokenizer.h), following transformers 5.23
// (integrations/gguf/gguf_tokenizer_mapping.py, byte_level_tokenizer + add_gguf_special_tokens +
// set_split_regex + TokenizersBackend's named tokens and post-processor) with one difference: a
// control or user-defined token spelled outside the byte alphabet (DeepSeek's "<｜User｜>") stays
// an added token at its own id, as llama.cpp and the original tokenizer.json have it; transformers
// drops it (and gives BOS/EOS new ids past the vocabulary). Also the inverse for pre-tokenizers
// (gguf_pre_name). Leaves out rebuilding missing merges from scores.
#include "toolkit/gguf_tokenizer.h"

#include <utf8proc.h>  // utf8proc_iterate, utf8proc_encode_char

#include <nlohmann/json.hpp>  // nlohmann::json

#include <algorithm>  // std::sort
#include <array>      // std::array
#include <optional>   // std::optional
#include <set>        // std::set

#include "toolkit/error.h"      // r1::Error, r1::check
#include "toolkit/gguf.h"       // r1::GgufFile
#include "toolkit/tokenizer.h"  // r1::Tokenizer, r1::bpe_model_json

namespace r1 {
namespace {

using nlohmann::json;

// ---- pre-tokenizers ---------------------------------------------------------------------------

// The Split regexes of transformers' GGUF_PRE_TOKENIZER_SPLITS, verbatim.
constexpr const char* kLlama3Split =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
constexpr const char* kQwen2Split =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
constexpr const char* kQwen35Split =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
constexpr const char* kTekkenSplit =
    R"re([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
constexpr const char* kGpt4oSplit =
    R"re([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";

// tokenizer.ggml.pre -> Split regex; nullptr: GPT-2's regex inside ByteLevel, which transformers
// keeps for every value outside its table. r1 accepts that only for the values whose vocabularies
// it fits: llama.cpp's GPT-2 family ("default" is also what an absent key means) and the
// digit-splitting SmolLM/StarCoder one, whose merges join no digit to anything. Where names share
// a regex, the first is the one gguf_pre_name gives (the one llama.cpp's converter writes).
struct PreSplit {
  const char* pre;
  const char* regex;
};
constexpr PreSplit kPreSplits[] = {
    {"qwen2", kQwen2Split},
    {"deepseek-r1-qwen", kQwen2Split},
    {"kormo", kQwen2Split},
    {"f2llmv2", kQwen2Split},
    {"megrez", kQwen2Split},
    {"qwen35", kQwen35Split},
    {"llama-bpe", kLlama3Split},
    {"llama3", kLlama3Split},
    {"llama-v3", kLlama3Split},
    {"falcon3", kLlama3Split},
    {"falcon-h1", kLlama3Split},
    {"pixtral", kLlama3Split},
    {"midm-2.0", kLlama3Split},
    {"lfm2", kLlama3Split},
    {"jina-v5-nano", kLlama3Split},
    {"dbrx", kLlama3Split},
    {"smaug-bpe", kLlama3Split},
    {"tekken", kTekkenSplit},
    {"gpt-4o", kGpt4oSplit},
    {"llama4", kGpt4oSplit},
    {"kanana2", kGpt4oSplit},
    {"talkie", kGpt4oSplit},
    {"minimax-m2", kGpt4oSplit},
    {"gpt-2", nullptr},
    {"default", nullptr},
    {"mpt", nullptr},
    {"olmo", nullptr},
    {"smollm", nullptr},
    {"starcoder", nullptr},
};

std::string known_pres() {
  std::string known;
  for (const auto& p : kPreSplits) known += std::string(known.empty() ? "" : ", ") + p.pre;
  return known;
}

json pre_tokenizer(const std::string& pre, const std::string& origin) {
  const std::string name = pre.empty() ? "default" : pre;
  for (const auto& p : kPreSplits) {
    if (name != p.pre) continue;
    json byte_level = {{"type", "ByteLevel"},
                       {"add_prefix_space", false},
                       {"trim_offsets", true},
                       {"use_regex", p.regex == nullptr}};
    if (p.regex == nullptr) return byte_level;
    json split = {{"type", "Split"},
                  {"pattern", {{"Regex", p.regex}}},
                  {"behavior", "Isolated"},
                  {"invert", false}};
    return {{"type", "Sequence"}, {"pretokenizers", json::array({split, byte_level})}};
  }
  throw Error(origin + ": tokenizer.ggml.pre \"" + pre +
              "\" is not a pre-tokenizer r1 knows (known: " + known_pres() + ")");
}

// ---- GPT-2's byte alphabet --------------------------------------------------------------------

// A token as transformers keys it: as stored when every character is in the byte alphabet, else
// its UTF-8 bytes spelled in that alphabet (bytes that are not UTF-8 are spelled the same way).
std::string byte_level_spelling(const std::string& token) {
  const auto* s = reinterpret_cast<const utf8proc_uint8_t*>(token.data());
  bool plain = true;
  for (size_t i = 0; i < token.size() && plain;) {
    utf8proc_int32_t cp = -1;
    const auto n = utf8proc_iterate(s + i, static_cast<utf8proc_ssize_t>(token.size() - i), &cp);
    plain = n > 0 && in_byte_alphabet(static_cast<uint32_t>(cp));
    i += n > 0 ? static_cast<size_t>(n) : 1;
  }
  if (plain) return token;
  static const auto table = [] {
    std::array<std::string, 256> t;
    for (int b = 0; b < 256; ++b) {
      utf8proc_uint8_t buf[4];
      const auto cp =
          static_cast<utf8proc_int32_t>(byte_alphabet_char(static_cast<unsigned char>(b)));
      t[b].assign(reinterpret_cast<char*>(buf), utf8proc_encode_char(cp, buf));
    }
    return t;
  }();
  std::string out;
  for (unsigned char c : token) out += table[c];
  return out;
}

// ---- metadata --------------------------------------------------------------------------------

std::vector<std::string> string_array(const GgufFile& f, const std::string& key) {
  const json& a = f.at(key);
  check(a.is_array(), f.path() + ": " + key + " is not an array");
  std::vector<std::string> out;
  out.reserve(a.size());
  for (const auto& x : a) {
    check(x.is_string(), f.path() + ": " + key + " holds a value that is not a string");
    out.push_back(x.get<std::string>());
  }
  return out;
}

std::optional<int64_t> optional_id(const GgufFile& f, const std::string& key) {
  if (!f.has(key)) return std::nullopt;
  const json& v = f.at(key);
  check(v.is_number_integer() && (v.is_number_unsigned() || v.get<int64_t>() >= 0),
        f.path() + ": " + key + " = " + v.dump() + " is not a token id");
  return v.get<int64_t>();
}

std::optional<bool> optional_bool(const GgufFile& f, const std::string& key) {
  if (!f.has(key)) return std::nullopt;
  check(f.at(key).is_boolean(), f.path() + ": " + key + " is not a bool");
  return f.at(key).get<bool>();
}

// j[key] when j is an object holding that string, else "".
std::string string_at(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

// A ByteLevel step without a prefix space, with GPT-2's regex or without a regex.
bool is_byte_level(const json& p, bool use_regex) {
  return string_at(p, "type") == "ByteLevel" && !p.value("add_prefix_space", false) &&
         p.value("use_regex", true) == use_regex;
}

std::string model_kind(const std::string& model) {
  if (model == "llama" || model == "gemma4") return " (SentencePiece)";
  if (model == "bert") return " (WordPiece)";
  if (model == "t5") return " (Unigram)";
  return "";
}

}  // namespace

GgufVocab gguf_vocab(const GgufFile& f) {
  GgufVocab v;
  const json& model = f.at("tokenizer.ggml.model");
  check(model.is_string(), f.path() + ": tokenizer.ggml.model is not a string");
  v.model = model.get<std::string>();
  if (f.has("tokenizer.ggml.pre")) {
    check(f.at("tokenizer.ggml.pre").is_string(),
          f.path() + ": tokenizer.ggml.pre is not a string");
    v.pre = f.at("tokenizer.ggml.pre").get<std::string>();
  }
  v.tokens = string_array(f, "tokenizer.ggml.tokens");
  if (f.has("tokenizer.ggml.token_type")) {
    const json& a = f.at("tokenizer.ggml.token_type");
    check(a.is_array(), f.path() + ": tokenizer.ggml.token_type is not an array");
    for (const auto& x : a) {
      check(x.is_number_integer(), f.path() + ": tokenizer.ggml.token_type holds a non-integer");
      v.token_types.push_back(x.get<int32_t>());
    }
  }
  if (f.has("tokenizer.ggml.merges")) v.merges = string_array(f, "tokenizer.ggml.merges");
  v.bos_id = optional_id(f, "tokenizer.ggml.bos_token_id");
  v.eos_id = optional_id(f, "tokenizer.ggml.eos_token_id");
  v.pad_id = optional_id(f, "tokenizer.ggml.padding_token_id");
  v.unk_id = optional_id(f, "tokenizer.ggml.unknown_token_id");
  v.add_bos = optional_bool(f, "tokenizer.ggml.add_bos_token");
  v.add_eos = optional_bool(f, "tokenizer.ggml.add_eos_token");
  return v;
}

namespace {

// How many tokens at the end are llama.cpp's padding: unused (type 5) and spelled "[PAD<id>]".
size_t trailing_padding(const GgufVocab& v) {
  size_t n = v.tokens.size(), pad = 0;
  while (pad < n && v.token_types.size() == n && v.token_types[n - 1 - pad] == 5 &&
         v.tokens[n - 1 - pad] == "[PAD" + std::to_string(n - 1 - pad) + "]")
    ++pad;
  return pad == n ? 0 : pad;
}

}  // namespace

std::string gguf_tokenizer_json(const GgufVocab& v, const std::string& origin) {
  check(v.model == "gpt2", origin + ": tokenizer.ggml.model \"" + v.model + "\"" +
                               model_kind(v.model) +
                               " is not supported: r1 converts byte-level BPE (\"gpt2\") "
                               "vocabularies only; use the model's tokenizer.json instead");
  json pre = pre_tokenizer(v.pre, origin);
  const size_t n = v.tokens.size();
  check(n > 0, origin + ": tokenizer.ggml.tokens is empty");
  check(v.token_types.empty() || v.token_types.size() == n,
        origin + ": tokenizer.ggml.token_type has " + std::to_string(v.token_types.size()) +
            " entries for " + std::to_string(n) + " tokens");
  check(!v.merges.empty(), origin +
                               ": tokenizer.ggml.merges is missing (r1 does not rebuild merges "
                               "from scores)");
  const std::pair<const char*, std::optional<int64_t>> named[] = {{"bos_token_id", v.bos_id},
                                                                  {"eos_token_id", v.eos_id},
                                                                  {"unknown_token_id", v.unk_id},
                                                                  {"padding_token_id", v.pad_id}};
  for (const auto& [key, id] : named)
    check(!id || (*id >= 0 && static_cast<size_t>(*id) < n),
          origin + ": tokenizer.ggml." + key + " = " + std::to_string(id.value_or(0)) +
              " is outside the " + std::to_string(n) + " tokens");

  // Vocabulary: a later duplicate wins, as in transformers' dict. The "[PADn]" rows that
  // llama.cpp's converter appends (type 5, unused) to fill the embedding are left out, so those
  // ids decode to nothing, as with the model's own tokenizer.json (transformers keeps them as
  // text "[PADn]").
  json vocab = json::object();
  const size_t kept = n - trailing_padding(v);
  for (size_t id = 0; id < kept; ++id) vocab[byte_level_spelling(v.tokens[id])] = id;
  json merges = json::array();
  for (size_t r = 0; r < v.merges.size(); ++r) {
    const std::string& m = v.merges[r];
    const size_t sp = m.find(' ');
    check(sp != std::string::npos && sp > 0 && sp + 1 < m.size() &&
              m.find(' ', sp + 1) == std::string::npos,
          origin + ": tokenizer.ggml.merges[" + std::to_string(r) + "] \"" + m +
              "\" is not \"left right\"");
    merges.push_back({m.substr(0, sp), m.substr(sp + 1)});
  }

  // Added tokens: control (3) as special, user-defined (4) as plain, then the named ones not
  // already added as special; all matched whole in the raw text (normalized false).
  json added = json::array();
  std::set<std::string> contents;
  auto add = [&](size_t id, bool special) {
    if (!contents.insert(v.tokens[id]).second) return;
    added.push_back({{"id", id},
                     {"content", v.tokens[id]},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", special}});
  };
  for (int32_t type : {3, 4})
    for (size_t id = 0; id < v.token_types.size(); ++id)
      if (v.token_types[id] == type && !v.tokens[id].empty()) add(id, type == 3);
  for (const auto& [key, id] : named)
    if (id && !v.tokens[*id].empty()) add(static_cast<size_t>(*id), true);
  std::sort(added.begin(), added.end(),
            [](const json& a, const json& b) { return a["id"] < b["id"]; });  // as HF writes them

  // Post-processor: BOS/EOS around the sequence when the file asks for them.
  const bool bos = v.add_bos.value_or(false) && v.bos_id;
  const bool eos = v.add_eos.value_or(false) && v.eos_id;
  json special_tokens = json::object();
  auto special = [&](int64_t id, int type_id) {
    const std::string& t = v.tokens[id];
    special_tokens[t] = {{"id", t}, {"ids", {id}}, {"tokens", {t}}};
    return json{{"SpecialToken", {{"id", t}, {"type_id", type_id}}}};
  };
  auto sequence = [](const char* name, int type_id) {
    return json{{"Sequence", {{"id", name}, {"type_id", type_id}}}};
  };
  json single = json::array();
  if (bos) single.push_back(special(*v.bos_id, 0));
  single.push_back(sequence("A", 0));
  if (eos) single.push_back(special(*v.eos_id, 0));
  json pair = single;
  if (bos) pair.push_back(special(*v.bos_id, 1));
  pair.push_back(sequence("B", 1));
  if (eos) pair.push_back(special(*v.eos_id, 1));

  const json out = {{"version", "1.0"},
                    {"truncation", nullptr},
                    {"padding", nullptr},
                    {"added_tokens", std::move(added)},
                    {"normalizer", nullptr},
                    {"pre_tokenizer", std::move(pre)},
                    {"post_processor",
                     {{"type", "TemplateProcessing"},
                      {"single", std::move(single)},
                      {"pair", std::move(pair)},
                      {"special_tokens", std::move(special_tokens)}}},
                    {"decoder",
                     {{"type", "ByteLevel"},
                      {"add_prefix_space", true},
                      {"trim_offsets", true},
                      {"use_regex", true}}},
                    {"model", json(bpe_model_json(std::move(vocab), std::move(merges)))}};
  try {
    return out.dump();
  } catch (const json::exception& e) {
    throw Error(origin + ": tokenizer metadata holds text that is not UTF-8 (" + e.what() + ")");
  }
}

std::string gguf_pre_name(const json& pre, const std::string& origin) {
  const json steps = string_at(pre, "type") == "Sequence" && pre.contains("pretokenizers")
                         ? pre["pretokenizers"]
                         : json::array({pre});
  if (steps.is_array() && steps.size() == 1 && is_byte_level(steps[0], true)) return "gpt-2";
  // Digits then ByteLevel is llama.cpp's "smollm"; read back as ByteLevel alone (transformers, r1),
  // it gives the same ids, as those vocabularies have no merge that joins a digit to anything.
  if (steps.is_array() && steps.size() == 2 && string_at(steps[0], "type") == "Digits" &&
      steps[0].value("individual_digits", false) && is_byte_level(steps[1], true))
    return "smollm";
  if (steps.is_array() && steps.size() == 2 && is_byte_level(steps[1], false)) {
    const json& split = steps[0];
    const std::string regex =
        split.is_object() && split.contains("pattern") ? string_at(split["pattern"], "Regex") : "";
    if (string_at(split, "type") == "Split" && string_at(split, "behavior") == "Isolated" &&
        !split.value("invert", false))
      for (const auto& p : kPreSplits)
        if (p.regex != nullptr && regex == p.regex) return p.pre;
  }
  throw Error(origin + ": pre_tokenizer " + pre.dump() +
              " is none that a tokenizer.ggml.pre name stands for (r1 knows: " + known_pres() +
              ")");
}

Tokenizer load_gguf_tokenizer(const std::string& path) {
  const GgufVocab v = gguf_vocab(GgufFile(path));
  Tokenizer t = Tokenizer::parse(gguf_tokenizer_json(v, path), path);
  t.bos_id = v.bos_id;
  t.eos_id = v.eos_id;
  t.pad_id = v.pad_id;
  if (v.bos_id) t.bos_token = v.tokens[*v.bos_id];
  if (v.eos_id) t.eos_token = v.tokens[*v.eos_id];
  t.think_open_id = t.token_to_id("<think>");
  t.think_close_id = t.token_to_id("</think>");
  return t;
}

}  // namespace r1
