// The tokenizer: the 51 Qwen2.5 golden cases, R1-Distill's BOS post-processor and added tokens,
// decode round trips, streaming decode that never splits a character, malformed tokenizer.json
// errors naming the field, and random bytes encoding without a crash. Parity on the benchmark
// corpora runs in tests/reference/check_tokenizer_parity.py (ctest: tokenizer_parity).
#include <nlohmann/json.hpp>

#include <utf8proc.h>

#include <random>

#include "tests/test_util.h"
#include "toolkit/error.h"
#include "toolkit/fs.h"
#include "toolkit/tokenizer.h"

namespace r1 {
namespace {

// The NFC form of s (the Qwen tokenizers normalise to NFC, so round trips give NFC text).
std::string nfc(const std::string& s) {
  utf8proc_uint8_t* out = nullptr;
  auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()), s.size(), &out,
                        static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  std::string r(reinterpret_cast<char*>(out), n);
  std::free(out);
  return r;
}

const Tokenizer& qwen() {
  static const Tokenizer t =
      Tokenizer::load(r1::test::shared_data("tokenizers/qwen2_5_tokenizer.json"));
  return t;
}
const Tokenizer& r1_distill() {
  static const Tokenizer t =
      Tokenizer::load(r1::test::shared_data("tokenizers/deepseek_r1_distill_qwen_tokenizer.json"));
  return t;
}

TEST(Tokenizer, QwenGoldenTokens) {
  auto cases = nlohmann::json::parse(
      read_file(r1::test::shared_data("tokenizers/qwen2_5_golden_tokens.json")));
  int passed = 0;
  for (const auto& c : cases) {
    const auto want = c["ids"].get<std::vector<int64_t>>();
    const auto got = qwen().encode(c["text"].get<std::string>());
    EXPECT_EQ(got, want) << c["text"];
    passed += got == want;
  }
  EXPECT_EQ(passed, 51);
}

TEST(Tokenizer, R1DistillSpecialTokens) {
  const auto& t = r1_distill();
  EXPECT_EQ(
      t.encode("<think>\nx</think>", true),
      (std::vector<int64_t>{151646, 151648, 198, 87, 151649}));  // BOS from TemplateProcessing
  EXPECT_EQ(t.token_to_id("<｜User｜>"), 151644);
  EXPECT_EQ(t.think_open_id, 151648);
  EXPECT_EQ(t.think_close_id, 151649);
  EXPECT_TRUE(t.is_special(151646));
  EXPECT_FALSE(t.is_special(151648));  // <think> is an added token, not a special one
  EXPECT_EQ(t.decode({151646, 9707, 151643}, /*skip_special_tokens=*/true), "Hello");
  EXPECT_EQ(t.decode({151646, 9707, 151643}), "<｜begin▁of▁sentence｜>Hello<｜end▁of▁sentence｜>");
  // Ids past the tokenizer (models have 151936 rows, the tokenizer 151665) are skipped, as HF.
  EXPECT_EQ(t.decode({9707, 151900, 1879}), "Hello world");
  EXPECT_THROW(t.decode({-1}), Error);
}

TEST(Tokenizer, RoundTripsAndLossyBytes) {
  for (const std::string s :
       {"", " ", "  \t\t x\r\n\r\ny  ", "数学 مرحبا 👩🏽‍🚀 e\u0301",
        "12345678901234567890", "\\frac{1}{2} + \\sqrt{x}", "def f(x):\n    return x  # ok\n"})
    EXPECT_EQ(qwen().decode(qwen().encode(s)), nfc(s)) << s;
  EXPECT_EQ(qwen().decode(qwen().encode("e\u0301")), "\u00e9");  // NFC composes, as HF does
  // Invalid UTF-8 reads as U+FFFD per maximal subpart, as Python's errors="replace".
  EXPECT_EQ(utf8_lossy("a\xff"
                       "b\xe2\x82"),
            "a\uFFFD"
            "b\uFFFD");
  EXPECT_EQ(utf8_lossy("\xed\xa0\x80"), "\uFFFD\uFFFD\uFFFD");
  EXPECT_EQ(qwen().decode(qwen().encode("x\xc3(")), "x\uFFFD(");
}

TEST(Tokenizer, StreamingNeverEmitsHalfACharacter) {
  const std::string text = "a😀b数学c👩🏽‍🚀";
  const auto ids = qwen().encode(text);
  StreamDecoder stream(qwen());
  std::string joined;
  for (int64_t id : ids) {
    const std::string piece = stream.push(id);
    EXPECT_EQ(utf8_lossy(piece), piece) << "emitted an incomplete character";
    joined += piece;
  }
  joined += stream.flush();
  EXPECT_EQ(joined, text);
  EXPECT_GT(ids.size(), 8u);  // emoji take several byte-level tokens: the test has teeth
}

TEST(Tokenizer, MalformedFilesNameTheField) {
  auto error_of = [](const std::string& json) {
    try {
      Tokenizer::parse(json, "tok.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error_of("{").find("not valid JSON"), std::string::npos);
  EXPECT_NE(
      error_of(R"({"model":{"type":"WordPiece","vocab":{}}})").find("model.type \"WordPiece\""),
      std::string::npos);
  EXPECT_NE(error_of(R"({"model":{"type":"BPE","vocab":{"a":0}}})").find("model.merges"),
            std::string::npos);
  EXPECT_NE(
      error_of(R"({"model":{"type":"BPE","vocab":{"a":0},"merges":["a b"]}})").find("merges[0]"),
      std::string::npos);
  EXPECT_NE(
      error_of(
          R"({"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"Whitespace"}})")
          .find("pre_tokenizer type \"Whitespace\""),
      std::string::npos);
  EXPECT_NE(
      error_of(
          R"({"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"Split","pattern":{"Regex":"(("},"behavior":"Isolated"}})")
          .find("regex does not compile"),
      std::string::npos);
  EXPECT_THROW(Tokenizer::load("/nonexistent/tokenizer.json"), Error);
}

TEST(Tokenizer, RandomBytesNeverCrash) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 3000; ++i) {
    std::string s(rng() % 64, '\0');
    for (auto& c : s) c = static_cast<char>(rng() % 256);
    const auto ids = r1_distill().encode(s, true);
    EXPECT_EQ(r1_distill().decode(ids, true), nfc(utf8_lossy(s)));
  }
}

TEST(Tokenizer, BatchEqualsSingle) {
  std::vector<std::string> texts;
  for (int i = 0; i < 50; ++i)
    texts.push_back("Problem " + std::to_string(i) + ": compute 2^" + std::to_string(i));
  auto batch = qwen().encode_batch(texts, false, 2);
  for (size_t i = 0; i < texts.size(); ++i) EXPECT_EQ(batch[i], qwen().encode(texts[i]));
}

}  // namespace
}  // namespace r1
