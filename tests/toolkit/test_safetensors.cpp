// safetensors: round trip of every dtype, real HF-written (sharded) files, malformed files, and a
// brief mutation fuzz of the header parser (it must only ever throw r1::Error).
#include <torch/torch.h>

#include <fstream>
#include <random>

#include "tests/test_util.h"
#include "toolkit/error.h"
#include "toolkit/safetensors.h"

namespace r1 {
namespace {

void write_bytes(const std::string& path, const std::string& b) {
  std::ofstream(path, std::ios::binary) << b;
}
// A file made of an 8-byte length, the given header text and `data` bytes.
std::string make_file(const std::string& header, size_t data) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + std::string(data, '\x01');
}

TEST(Safetensors, RoundTripsEveryDtype) {
  test::TempDir dir;
  std::vector<std::pair<std::string, torch::Tensor>> ts;
  for (auto dt : {torch::kFloat, torch::kDouble, torch::kHalf, torch::kBFloat16, torch::kLong,
                  torch::kInt, torch::kShort, torch::kChar, torch::kByte, torch::kBool})
    ts.emplace_back(std::string("t_") + c10::toString(dt), (torch::randn({3, 5}) * 10).to(dt));
  ts.emplace_back("empty", torch::zeros({0, 4}));
  ts.emplace_back("scalar", torch::tensor(3.5));
  ts.emplace_back("strided", torch::arange(12.0).view({3, 4}).t());  // non-contiguous input
  safetensors_save(dir / "a.safetensors", ts, {{"format", "pt"}});
  SafetensorsFile f(dir / "a.safetensors");
  EXPECT_EQ(f.header().metadata.at("format"), "pt");
  for (const auto& [name, t] : ts) {
    auto got = f.tensor(name);
    EXPECT_EQ(got.scalar_type(), t.scalar_type()) << name;
    EXPECT_TRUE(torch::equal(got, t)) << name;
  }
  // Writes to a returned tensor never reach the file.
  f.tensor("t_Float").fill_(7);
  SafetensorsFile again(dir / "a.safetensors");
  EXPECT_TRUE(torch::equal(again.tensor("t_Float"), ts[0].second));
}

TEST(Safetensors, ReadsShardedCheckpointWrittenByTransformers) {
  SafetensorsCheckpoint ck("tests/data/models/qwen2-gqa-fp32");
  EXPECT_TRUE(ck.has("model.embed_tokens.weight"));
  EXPECT_TRUE(ck.has("lm_head.weight"));
  EXPECT_EQ(ck.tensor("model.embed_tokens.weight").sizes(), (std::vector<int64_t>{320, 64}));
  EXPECT_NE(ck.file_of("model.embed_tokens.weight"), ck.file_of("lm_head.weight"));
  SafetensorsCheckpoint bf16(r1::test::shared_data("models/tiny_llama_verl_random"));
  EXPECT_EQ(bf16.entry("model.norm.weight").dtype, torch::kBFloat16);
}

TEST(Safetensors, MalformedFilesGiveErrorsNamingTheProblem) {
  test::TempDir dir;
  const std::string p = dir / "bad.safetensors";
  auto expect_error = [&](const std::string& content, const std::string& needle) {
    write_bytes(p, content);
    try {
      SafetensorsFile f(p);
      ADD_FAILURE() << "no error for " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
    }
  };
  expect_error("abc", "too short");
  expect_error(make_file("{not json", 0), "not valid JSON");
  expect_error(make_file("[]", 0), "not a JSON object");
  expect_error(make_file(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 4),
               "past the end");
  expect_error(make_file(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8),
               "need 12");
  expect_error(make_file(R"({"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}})", 8),
               "unsupported dtype");
  expect_error(make_file(R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8),
               "non-negative");
  expect_error(make_file(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8),
               "is after end");
  expect_error(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                         R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                         12),
               "overlap");
  expect_error(
      make_file(
          R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}})",
          8),
      "too large");
  // Header length past the end of the file.
  std::string truncated = make_file(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8);
  expect_error(truncated.substr(0, 30), "past the end of the file");
  EXPECT_THROW(SafetensorsFile(dir / "missing.safetensors"), Error);
}

TEST(Safetensors, FuzzedHeadersOnlyThrowErrors) {
  // Mutations of a valid header (bytes flipped, inserted, deleted, numbers replaced) must either
  // parse into a consistent header or throw r1::Error: never crash, hang or throw anything else.
  const std::string base =
      R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
      R"("b":{"dtype":"BF16","shape":[4],"data_offsets":[24,32]}})";
  const std::string alphabet = "{}[]\":,0123456789-eE.FBIU \\nul";
  std::mt19937_64 rng(42);
  int parsed = 0, rejected = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string h = base;
    const int edits = 1 + rng() % 4;
    for (int e = 0; e < edits && !h.empty(); ++e) {
      const size_t at = rng() % h.size();
      switch (rng() % 4) {
        case 0:
          h[at] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          h.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;
        case 2:
          h.erase(at, 1);
          break;
        default:
          h[at] = static_cast<char>(rng() % 256);
          break;
      }
    }
    const uint64_t data = rng() % 40;
    try {
      auto hdr = safetensors_parse_header(h, data, "fuzz");
      for (const auto& en : hdr.entries) ASSERT_LE(en.end, data);
      ++parsed;
    } catch (const Error&) {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 0);
  EXPECT_GT(parsed, 0);
}

}  // namespace
}  // namespace r1
