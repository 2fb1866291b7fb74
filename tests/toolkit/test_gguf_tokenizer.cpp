// GGUF tokenizer metadata -> tokenizer.json -> r1::Tokenizer on a hand-built 267-token vocabulary:
// the pre-tokenizer each tokenizer.ggml.pre selects (and gguf_pre_name, its inverse),
// control/user-defined/named tokens, BOS/EOS, decoding, a small .gguf file through
// Tokenizer::load, and the refusals. Parity with transformers
// on the real files runs in tests/reference/check_gguf_tokenizer_parity.py (gguf_tokenizer_parity).
#include <fstream>  // std::ofstream

#include <nlohmann/json.hpp>  // nlohmann::json

#include "tests/test_util.h"         // r1::test::TempDir
#include "toolkit/error.h"           // r1::Error
#include "toolkit/gguf.h"            // r1::GgufFile
#include "toolkit/gguf_tokenizer.h"  // r1::GgufVocab, r1::gguf_tokenizer_json
#include "toolkit/tokenizer.h"       // r1::Tokenizer

namespace r1 {
namespace {

using Ids = std::vector<int64_t>;
using nlohmann::json;

// GPT-2's byte alphabet: the character standing for byte b, as UTF-8.
std::string byte_char(int b) {
  static const auto table = [] {
    std::vector<std::string> t(256);
    int extra = 0;
    for (int c = 0; c < 256; ++c) {
      const bool printable = (c >= 33 && c <= 126) || (c >= 161 && c <= 172) || (c >= 174);
      const int cp = printable ? c : 256 + extra++;
      t[c] = cp < 0x80 ? std::string(1, static_cast<char>(cp))
                       : std::string{static_cast<char>(0xC0 | (cp >> 6)),
                                     static_cast<char>(0x80 | (cp & 0x3F))};
    }
    return t;
  }();
  return table[b];
}

// Ids 0-255 are the bytes, so a byte's id is its value.
GgufVocab tiny_vocab(const std::string& pre = "qwen2") {
  GgufVocab v;
  v.model = "gpt2";
  v.pre = pre;
  for (int b = 0; b < 256; ++b) v.tokens.push_back(byte_char(b));
  v.token_types.assign(256, 1);
  const std::pair<std::string, int32_t> more[] = {
      {"Ġt", 1},             // 256
      {"he", 1},             // 257
      {"Ġthe", 1},           // 258
      {"12", 1},             // 259
      {"<|endoftext|>", 3},  // 260
      {"<|im_start|>", 3},   // 261
      {"<think>", 4},        // 262
      {"</think>", 4},       // 263
      {"<｜User｜>", 3},     // 264: outside the byte alphabet
      {"[PAD265]", 5},       // 265
      {"▁x", 1},             // 266: outside the byte alphabet, stored respelled
  };
  for (const auto& [t, type] : more) {
    v.tokens.push_back(t);
    v.token_types.push_back(type);
  }
  v.merges = {"Ġ t", "h e", "Ġt he", "1 2"};
  v.bos_id = 261;
  v.eos_id = 260;
  v.pad_id = 265;
  return v;
}

Tokenizer build(const GgufVocab& v) {
  return Tokenizer::parse(gguf_tokenizer_json(v, "t.gguf"), "t.gguf");
}

// The message of the r1::Error that f throws ("" when it throws none).
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(GgufTokenizer, Qwen2PreSplitsDigitsAndKeepsAddedTokensWhole) {
  const Tokenizer t = build(tiny_vocab("qwen2"));
  EXPECT_EQ(t.encode(" the"), (Ids{258}));
  EXPECT_EQ(t.encode("the"), (Ids{116, 257}));
  EXPECT_EQ(t.encode("12"), (Ids{49, 50}));  // \p{N}: one digit per piece, "1 2" never applies
  EXPECT_EQ(t.encode("<|im_start|>the<think>x</think>"), (Ids{261, 116, 257, 262, 120, 263}));
  EXPECT_EQ(t.encode("a<｜User｜> the"), (Ids{97, 264, 258}));
  EXPECT_EQ(t.encode("[PAD265]"), (Ids{265}));    // the named pad token is added too
  EXPECT_EQ(t.encode(" the", true), (Ids{258}));  // no add_bos_token: nothing added
  EXPECT_EQ(t.vocab_size(), 267);
}

TEST(GgufTokenizer, Gpt2AndLlama3Pres) {
  for (const char* pre : {"smollm", "gpt-2", "default", ""})
    EXPECT_EQ(build(tiny_vocab(pre)).encode("x12 12"), (Ids{120, 259, 32, 259})) << pre;
  // \p{N}{1,3}: "1212" -> "121" "2"
  EXPECT_EQ(build(tiny_vocab("llama-bpe")).encode("1212"), (Ids{259, 49, 50}));
}

TEST(GgufTokenizer, SpecialFlagsAndDecode) {
  const Tokenizer t = build(tiny_vocab());
  EXPECT_TRUE(t.is_special(260));
  EXPECT_TRUE(t.is_special(261));
  EXPECT_FALSE(t.is_special(262));  // user-defined: added, not special
  EXPECT_TRUE(t.is_special(264));
  EXPECT_TRUE(t.is_special(265));  // named (pad)
  EXPECT_FALSE(t.is_special(258));
  const Ids ids = {261, 258, 262, 264, 266, 120};
  EXPECT_EQ(t.decode(ids), "<|im_start|> the<think><｜User｜>▁xx");
  EXPECT_EQ(t.decode(ids, true), " the<think>▁xx");
  EXPECT_NE(t.id_to_token(266), "▁x");  // keyed in the byte alphabet, as transformers does
  EXPECT_EQ(t.token_to_id(t.id_to_token(266)), 266);
  EXPECT_EQ(t.token_to_id("<｜User｜>"), 264);
}

TEST(GgufTokenizer, AddBosAndEos) {
  GgufVocab v = tiny_vocab();
  v.add_bos = true;
  EXPECT_EQ(build(v).encode(" the", true), (Ids{261, 258}));
  EXPECT_EQ(build(v).encode(" the", false), (Ids{258}));
  v.add_eos = true;
  EXPECT_EQ(build(v).encode(" the", true), (Ids{261, 258, 260}));
  v.bos_id.reset();  // add_bos_token without a BOS adds nothing, as transformers
  EXPECT_EQ(build(v).encode(" the", true), (Ids{258, 260}));
}

TEST(GgufTokenizer, EveryKnownPreCompiles) {
  for (const char* pre :
       {"qwen2", "deepseek-r1-qwen", "qwen35", "llama3", "llama-bpe", "tekken", "gpt-4o", "llama4",
        "dbrx", "smaug-bpe", "default", "gpt-2", "smollm", "starcoder", "mpt", "olmo"})
    EXPECT_EQ(build(tiny_vocab(pre)).encode(" the"), (Ids{258})) << pre;
}

TEST(GgufTokenizer, Refusals) {
  GgufVocab v = tiny_vocab();
  v.model = "llama";
  EXPECT_EQ(error_of([&] { build(v); }),
            "t.gguf: tokenizer.ggml.model \"llama\" (SentencePiece) is not supported: r1 converts "
            "byte-level BPE (\"gpt2\") vocabularies only; use the model's tokenizer.json instead");
  v = tiny_vocab("made-up");
  const std::string pre = error_of([&] { build(v); });
  EXPECT_EQ(pre.rfind("t.gguf: tokenizer.ggml.pre \"made-up\" is not a pre-tokenizer r1 knows "
                      "(known: qwen2, ",
                      0),
            0u)
      << pre;
  EXPECT_EQ(pre.find('\n'), std::string::npos);
  v = tiny_vocab();
  v.bos_id = 267;
  EXPECT_EQ(error_of([&] { build(v); }),
            "t.gguf: tokenizer.ggml.bos_token_id = 267 is outside the 267 tokens");
  v = tiny_vocab();
  v.token_types.pop_back();
  EXPECT_EQ(error_of([&] { build(v); }),
            "t.gguf: tokenizer.ggml.token_type has 266 entries for 267 tokens");
  v = tiny_vocab();
  v.merges.push_back("a b c");
  EXPECT_EQ(error_of([&] { build(v); }),
            "t.gguf: tokenizer.ggml.merges[4] \"a b c\" is not \"left right\"");
  v = tiny_vocab();
  v.merges.clear();
  EXPECT_NE(error_of([&] { build(v); }).find("tokenizer.ggml.merges is missing"),
            std::string::npos);
}

json pre_of(const std::string& tokenizer_json) {
  return json::parse(tokenizer_json)["pre_tokenizer"];
}

TEST(GgufTokenizer, PreNameInvertsTheTable) {
  for (const char* pre : {"qwen2", "deepseek-r1-qwen", "qwen35", "llama3", "llama-bpe", "tekken",
                          "gpt-4o", "llama4", "default", "gpt-2", "smollm", "mpt"}) {
    const json want = pre_of(gguf_tokenizer_json(tiny_vocab(pre), "t.gguf"));
    const std::string name = gguf_pre_name(want, "t.json");
    EXPECT_EQ(pre_of(gguf_tokenizer_json(tiny_vocab(name), "t.gguf")), want) << pre << " " << name;
  }
  EXPECT_EQ(gguf_pre_name(pre_of(gguf_tokenizer_json(tiny_vocab("llama3"), "")), ""), "llama-bpe");
  const std::string dir = r1::test::shared_data("tokenizers/");
  for (const auto& [file, name] : std::vector<std::pair<std::string, std::string>>{
           {"qwen2_5_tokenizer.json", "qwen2"},
           {"deepseek_r1_distill_qwen_tokenizer.json", "qwen2"},
           {"gpt2_tokenizer.json", "gpt-2"}})
    EXPECT_EQ(gguf_pre_name(pre_of(read_file(dir + file)), file), name);
  const json digits = json::parse(R"({"type": "Sequence", "pretokenizers": [
      {"type": "Digits", "individual_digits": true},
      {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}]})");
  EXPECT_EQ(gguf_pre_name(digits, "t.json"), "smollm");
  const json metaspace = {{"type", "Metaspace"}, {"replacement", "▁"}};
  EXPECT_EQ(
      error_of([&] { gguf_pre_name(metaspace, "t.json"); })
          .rfind("t.json: pre_tokenizer {\"replacement\":\"▁\",\"type\":\"Metaspace\"} is none "
                 "that a tokenizer.ggml.pre name stands for (r1 knows: qwen2, ",
                 0),
      0u);
  json prefix = pre_of(gguf_tokenizer_json(tiny_vocab("gpt-2"), ""));
  prefix["add_prefix_space"] = true;
  EXPECT_THROW(gguf_pre_name(prefix, "t.json"), Error);
  EXPECT_THROW(gguf_pre_name(nullptr, "t.json"), Error);
}

// ---- a .gguf file ------------------------------------------------------------------------------

// Writes a GGUF v3 file with the metadata `kv` (strings, integers as uint32, bools, arrays of
// strings or int32) and no tensors.
class GgufBuilder {
 public:
  void str(const std::string& key, const std::string& s) {
    head(key, 8);
    string(s);
  }
  void u32(const std::string& key, uint32_t x) {
    head(key, 4);
    raw(x);
  }
  void boolean(const std::string& key, bool b) {
    head(key, 7);
    raw(static_cast<uint8_t>(b));
  }
  void strings(const std::string& key, const std::vector<std::string>& a) {
    array_head(key, 8, a.size());
    for (const auto& s : a) string(s);
  }
  void int32s(const std::string& key, const std::vector<int32_t>& a) {
    array_head(key, 5, a.size());
    for (int32_t x : a) raw(x);
  }
  void write(const std::string& path) const {
    std::string out = "GGUF";
    auto put = [&](auto x) { out.append(reinterpret_cast<const char*>(&x), sizeof x); };
    put(uint32_t{3});
    put(uint64_t{0});
    put(count_);
    out += kv_;
    out.resize((out.size() + 31) / 32 * 32, '\0');
    std::ofstream(path, std::ios::binary) << out;
  }

 private:
  template <typename T>
  void raw(T x) {
    kv_.append(reinterpret_cast<const char*>(&x), sizeof x);
  }
  void string(const std::string& s) {
    raw(static_cast<uint64_t>(s.size()));
    kv_ += s;
  }
  void head(const std::string& key, uint32_t type) {
    ++count_;
    string(key);
    raw(type);
  }
  void array_head(const std::string& key, uint32_t type, size_t n) {
    head(key, 9);
    raw(type);
    raw(static_cast<uint64_t>(n));
  }
  std::string kv_;
  uint64_t count_ = 0;
};

void write_gguf(const GgufVocab& v, const std::string& path) {
  GgufBuilder b;
  b.str("general.architecture", "qwen2");
  b.str("tokenizer.ggml.model", v.model);
  b.str("tokenizer.ggml.pre", v.pre);
  b.strings("tokenizer.ggml.tokens", v.tokens);
  b.int32s("tokenizer.ggml.token_type", v.token_types);
  b.strings("tokenizer.ggml.merges", v.merges);
  b.u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(*v.bos_id));
  b.u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(*v.eos_id));
  b.u32("tokenizer.ggml.padding_token_id", static_cast<uint32_t>(*v.pad_id));
  b.boolean("tokenizer.ggml.add_bos_token", *v.add_bos);
  b.write(path);
}

TEST(GgufTokenizer, LoadsFromGgufFile) {
  test::TempDir dir;
  GgufVocab want = tiny_vocab();
  want.add_bos = true;
  const std::string path = dir / "tiny.gguf";
  write_gguf(want, path);
  ASSERT_TRUE(is_gguf_file(path));

  const GgufVocab got = gguf_vocab(GgufFile(path));
  EXPECT_EQ(got.model, "gpt2");
  EXPECT_EQ(got.pre, "qwen2");
  EXPECT_EQ(got.tokens, want.tokens);
  EXPECT_EQ(got.token_types, want.token_types);
  EXPECT_EQ(got.merges, want.merges);
  EXPECT_EQ(got.bos_id, 261);
  EXPECT_EQ(got.eos_id, 260);
  EXPECT_EQ(got.pad_id, 265);
  EXPECT_FALSE(got.unk_id.has_value());
  EXPECT_EQ(got.add_bos, true);
  EXPECT_FALSE(got.add_eos.has_value());

  const Tokenizer t = Tokenizer::load(path);
  EXPECT_EQ(t.encode("<think> the", true), (Ids{261, 262, 258}));
  EXPECT_EQ(t.bos_id, 261);
  EXPECT_EQ(t.eos_id, 260);
  EXPECT_EQ(t.pad_id, 265);
  EXPECT_EQ(t.bos_token, "<|im_start|>");
  EXPECT_EQ(t.eos_token, "<|endoftext|>");
  EXPECT_EQ(t.think_open_id, 262);
  EXPECT_EQ(t.think_close_id, 263);

  GgufVocab spm = want;
  spm.model = "llama";
  write_gguf(spm, path);
  EXPECT_NE(error_of([&] {
              Tokenizer::load(path);
            }).find(path + ": tokenizer.ggml.model \"llama\" (SentencePiece) is not supported"),
            std::string::npos);
}

}  // namespace
}  // namespace r1
