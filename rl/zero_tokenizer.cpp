// The tiny R1-Zero tokenizer files (see zero_tokenizer.h). Everything is derived from constants
// here, so the files are the same bytes on every run and platform;
// tests/reference/check_zero_tokenizer.py checks that HF tokenizers/transformers read them as r1
// does.
#include "rl/zero_tokenizer.h"

#include <filesystem>  // std::filesystem
#include <optional>    // std::optional
#include <set>         // std::set
#include <vector>      // std::vector

#include <nlohmann/json.hpp>  // nlohmann::ordered_json

#include "toolkit/fs.h"         // r1::write_file_atomic
#include "toolkit/tokenizer.h"  // r1::bpe_model_json

namespace r1 {
namespace {

using ojson = nlohmann::ordered_json;

// Qwen2 / R1-Distill's pre-tokenizer split: letters runs, single digits, punctuation runs,
// newlines.
constexpr const char* kQwen2Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// Whole pre-tokenizer chunks that become one token each: the task's words and those of R1's
// instruction ("Please reason step by step, and put your final answer within \boxed{}.", where
// " \" and "boxed" are chunks of their own).
const std::vector<std::string>& merge_words() {
  static const std::vector<std::string> w = {
      "What", " is",   "\\boxed", "\n\n",    "Please",  " reason", " step", " by", " and",
      " put", " your", " final",  " answer", " within", " \\",     "boxed", "{}."};
  return w;
}

// The added tokens in id order after the BPE vocabulary, with HF's "special" flag.
const std::vector<std::pair<std::string, bool>>& added_tokens() {
  static const std::vector<std::pair<std::string, bool>> a = {
      {kZeroBos, true},        {kZeroEos, true},        {kZeroPad, true},        {kZeroUser, false},
      {kZeroAssistant, false}, {kZeroThinkOpen, false}, {kZeroThinkClose, false}};
  return a;
}

std::string utf8(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

// GPT-2's bytes_to_unicode: printable Latin-1 bytes map to themselves, the others to 256 + n.
std::vector<std::string> byte_symbols() {
  std::vector<std::string> out(256);
  uint32_t n = 0;
  for (uint32_t b = 0; b < 256; ++b) {
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
    out[b] = utf8(printable ? b : 256 + n++);
  }
  return out;
}

struct Bpe {
  std::vector<std::string> vocab;                           // id -> token (byte-level symbols)
  std::vector<std::pair<std::string, std::string>> merges;  // in rank order
};

// Byte symbols as ids 0..255, then left-to-right chain merges of each word ("W h", "Wh a", ...).
const Bpe& bpe() {
  static const Bpe b = [] {
    Bpe out;
    const auto sym = byte_symbols();
    out.vocab = sym;
    std::set<std::string> have(sym.begin(), sym.end());  // tokens in the vocabulary
    for (const auto& word : merge_words()) {
      std::string cur = sym[static_cast<unsigned char>(word[0])];
      for (size_t i = 1; i < word.size(); ++i) {
        const std::string next = sym[static_cast<unsigned char>(word[i])];
        const std::string joined = cur + next;
        if (have.insert(joined).second) {
          out.vocab.push_back(joined);
          out.merges.emplace_back(cur, next);
        }
        cur = joined;
      }
    }
    return out;
  }();
  return b;
}

// An added token as HF writes it; tokenizer.json's entries carry their id, tokenizer_config.json's
// are keyed by it.
ojson added_token_json(const std::string& content, bool special, std::optional<int64_t> id) {
  ojson t;
  if (id) t["id"] = *id;
  t["content"] = content;
  t["single_word"] = false;
  t["lstrip"] = false;
  t["rstrip"] = false;
  t["normalized"] = false;
  t["special"] = special;
  return t;
}

int64_t added_id(size_t index) { return static_cast<int64_t>(bpe().vocab.size() + index); }

}  // namespace

ZeroTokenIds zero_token_ids() {
  ZeroTokenIds ids;
  ids.bos = added_id(0);
  ids.eos = added_id(1);
  ids.pad = added_id(2);
  ids.vocab_size = added_id(added_tokens().size());
  return ids;
}

std::string zero_chat_template() {
  // The DeepSeek-R1 template cut down to system/user/assistant turns; r1's "deepseek-r1" renderer
  // follows the same control flow (reasoning before </think> dropped from assistant turns).
  return "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}"
         "{% endif %}{% set ns = namespace(system_prompt='') %}{% for message in messages %}"
         "{% if message['role'] == 'system' %}{% set ns.system_prompt = message['content'] %}"
         "{% endif %}{% endfor %}{{ bos_token }}{{ ns.system_prompt }}"
         "{% for message in messages %}{% if message['role'] == 'user' %}"
         "{{ '<｜User｜>' + message['content'] }}"
         "{% elif message['role'] == 'assistant' %}{% set content = message['content'] %}"
         "{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}"
         "{% endif %}{{ '<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>' }}{% endif %}"
         "{% endfor %}{% if add_generation_prompt %}{{ '<｜Assistant｜><think>\\n' }}{% endif %}";
}

std::string zero_tokenizer_json() {
  const Bpe& b = bpe();
  ojson j;
  j["version"] = "1.0";
  j["truncation"] = nullptr;
  j["padding"] = nullptr;
  ojson added = ojson::array();
  for (size_t i = 0; i < added_tokens().size(); ++i)
    added.push_back(
        added_token_json(added_tokens()[i].first, added_tokens()[i].second, added_id(i)));
  j["added_tokens"] = added;
  j["normalizer"] = {{"type", "NFC"}};
  j["pre_tokenizer"] = {{"type", "Sequence"},
                        {"pretokenizers",
                         {{{"type", "Split"},
                           {"pattern", {{"Regex", kQwen2Split}}},
                           {"behavior", "Isolated"},
                           {"invert", false}},
                          {{"type", "ByteLevel"},
                           {"add_prefix_space", false},
                           {"trim_offsets", false},
                           {"use_regex", false}}}}};
  const int64_t bos = zero_token_ids().bos;
  auto special = [](const char* name, int type_id) {
    return ojson{{"SpecialToken", {{"id", name}, {"type_id", type_id}}}};
  };
  auto seq = [](const char* name, int type_id) {
    return ojson{{"Sequence", {{"id", name}, {"type_id", type_id}}}};
  };
  j["post_processor"] = {
      {"type", "TemplateProcessing"},
      {"single", {special(kZeroBos, 0), seq("A", 0)}},
      {"pair", {special(kZeroBos, 0), seq("A", 0), special(kZeroBos, 1), seq("B", 1)}},
      {"special_tokens", {{kZeroBos, {{"id", kZeroBos}, {"ids", {bos}}, {"tokens", {kZeroBos}}}}}}};
  j["decoder"] = {{"type", "ByteLevel"},
                  {"add_prefix_space", false},
                  {"trim_offsets", false},
                  {"use_regex", false}};
  ojson vocab = ojson::object();
  for (size_t i = 0; i < b.vocab.size(); ++i) vocab[b.vocab[i]] = static_cast<int64_t>(i);
  ojson merges = ojson::array();
  for (const auto& [l, r] : b.merges) merges.push_back(l + " " + r);
  j["model"] = bpe_model_json(std::move(vocab), std::move(merges));
  return j.dump(2, ' ', false) + "\n";
}

std::string zero_tokenizer_config_json() {
  ojson decoder = ojson::object();
  for (size_t i = 0; i < added_tokens().size(); ++i)
    decoder[std::to_string(added_id(i))] =
        added_token_json(added_tokens()[i].first, added_tokens()[i].second, std::nullopt);
  auto token = [](const char* content) {
    return ojson{{"__type", "AddedToken"}, {"content", content}, {"lstrip", false},
                 {"normalized", false},    {"rstrip", false},    {"single_word", false}};
  };
  ojson j;
  j["add_bos_token"] = true;
  j["add_eos_token"] = false;
  j["added_tokens_decoder"] = decoder;
  j["bos_token"] = token(kZeroBos);
  j["chat_template"] = zero_chat_template();
  j["clean_up_tokenization_spaces"] = false;
  j["eos_token"] = token(kZeroEos);
  j["legacy"] = true;
  j["model_max_length"] = 256;
  j["pad_token"] = token(kZeroPad);
  j["tokenizer_class"] = "PreTrainedTokenizerFast";
  j["unk_token"] = nullptr;
  return j.dump(2, ' ', false) + "\n";
}

void write_zero_tokenizer(const std::string& dir) {
  std::filesystem::create_directories(dir);
  write_file_atomic((std::filesystem::path(dir) / "tokenizer.json").string(),
                    zero_tokenizer_json());
  write_file_atomic((std::filesystem::path(dir) / "tokenizer_config.json").string(),
                    zero_tokenizer_config_json());
}

}  // namespace r1
