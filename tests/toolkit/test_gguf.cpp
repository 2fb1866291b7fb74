// GGUF reader and writer: a written file reads back (typed metadata, F32/F16/BF16/Q8_0 tensors,
// ggml dimension order), the llama Q/K permutation round-trips, a checkpoint goes HF -> GGUF ->
// HF unchanged, and malformed or hostile files (every truncation, lying lengths, bad types,
// misaligned or out-of-file data) get r1::Error naming the file, never a crash.
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "tests/test_util.h"
#include "toolkit/error.h"
#include "toolkit/fs.h"
#include "toolkit/gguf.h"
#include "toolkit/gguf_convert.h"
#include "toolkit/gguf_model.h"
#include "toolkit/gguf_writer.h"
#include "toolkit/model_config.h"
#include "toolkit/transformer.h"

namespace r1 {
namespace {

void write_bytes(const std::string& path, const std::string& b) {
  std::ofstream(path, std::ios::binary) << b;
}

// A small file with one of each metadata kind and four tensors.
std::string small_file(const test::TempDir& dir) {
  GgufWriter w;
  w.add_string("general.architecture", "llama");
  w.add_u32("llama.block_count", 2);
  w.add_f32("llama.rope.freq_base", 10000.5f);
  w.add_bool("tokenizer.ggml.add_bos_token", true);
  w.add_strings("tokenizer.ggml.tokens", {"a", "b", "\xc4\xa0"});
  w.add_i32s("tokenizer.ggml.token_type", {1, 3, -2});
  w.add_tensor("f32", torch::arange(6, torch::kFloat).reshape({2, 3}), GgmlType::kF32);
  w.add_tensor("f16", torch::tensor({0.5f, -2.0f, 65504.0f, 1e-8f}), GgmlType::kF16);
  w.add_tensor("bf16", torch::tensor({1.0f, 3.0f}), GgmlType::kBF16);
  w.add_tensor("q8", torch::linspace(-1, 1, 64).reshape({2, 32}), GgmlType::kQ8_0);
  const std::string path = dir / "small.gguf";
  w.write(path);
  return path;
}

TEST(Gguf, WrittenFileReadsBack) {
  test::TempDir dir;
  const GgufFile f(small_file(dir));
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.at("general.architecture"), "llama");
  EXPECT_EQ(f.at("llama.block_count"), 2);
  EXPECT_FLOAT_EQ(f.at("llama.rope.freq_base").get<float>(), 10000.5f);
  EXPECT_EQ(f.at("tokenizer.ggml.add_bos_token"), true);
  EXPECT_EQ(f.at("tokenizer.ggml.tokens")[2], "\xc4\xa0");
  EXPECT_EQ(f.at("tokenizer.ggml.token_type")[2], -2);
  const auto* t = f.find("f32");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->dims, (std::vector<int64_t>{3, 2}));  // ggml order: innermost first
  EXPECT_TRUE(torch::equal(f.tensor(*t), torch::arange(6, torch::kFloat).reshape({2, 3})));
  EXPECT_TRUE(torch::equal(
      f.tensor(*f.find("f16")),
      torch::tensor({0.5f, -2.0f, 65504.0f, 1e-8f}).to(torch::kHalf).to(torch::kFloat)));
  EXPECT_TRUE(torch::equal(f.tensor(*f.find("bf16")), torch::tensor({1.0f, 3.0f})));
  const auto q8 = f.tensor(*f.find("q8"));
  EXPECT_EQ(q8.sizes(), (std::vector<int64_t>{2, 32}));
  EXPECT_LT((q8 - torch::linspace(-1, 1, 64).reshape({2, 32})).abs().max().item<float>(), 0.01f);
  EXPECT_THROW(f.at("no.such.key"), Error);
  EXPECT_TRUE(is_gguf_file(f.path()));
  EXPECT_FALSE(is_gguf_file(dir.path()));
}

TEST(Gguf, LlamaRowPermutationRoundTrips) {
  const auto w = torch::randn({4 * 8, 5});  // 4 heads of 8
  const auto g = permute_llama_rows(w, 4, true);
  EXPECT_FALSE(torch::equal(g, w));
  EXPECT_TRUE(torch::equal(permute_llama_rows(g, 4, false), w));
  // llama.cpp's converter: head h's rows [r0, r4, r1, r5, ...] (the halves interleaved).
  EXPECT_TRUE(torch::equal(g[1], w[4]));
  EXPECT_TRUE(torch::equal(g[2], w[1]));
}

TEST(Gguf, TensorNamesMapBothWays) {
  EXPECT_EQ(gguf_to_hf_name("blk.12.attn_q.bias"), "model.layers.12.self_attn.q_proj.bias");
  EXPECT_EQ(gguf_to_hf_name("output.weight"), "lm_head.weight");
  EXPECT_EQ(gguf_to_hf_name("blk.0.ffn_gate_exps.weight"), "");
  EXPECT_EQ(hf_to_gguf_name("model.layers.3.mlp.down_proj.weight"), "blk.3.ffn_down.weight");
  EXPECT_EQ(hf_to_gguf_name("model.norm.weight"), "output_norm.weight");
}

// A qwen2 checkpoint with a tokenizer (tiny-r1) to GGUF (F32) and back: the same weights, config
// and token ids; the same model loads straight from the GGUF file.
TEST(Gguf, CheckpointRoundTripsThroughGguf) {
  test::TempDir dir;
  const std::string src = "tests/data/models/tiny-r1";
  hf_to_gguf(src, dir / "m.gguf", GgmlType::kF32);
  EXPECT_THROW(hf_to_gguf(src, dir / "m.gguf", GgmlType::kF32), Error);  // refuses to overwrite
  gguf_to_hf(dir / "m.gguf", dir / "back", at::kFloat);
  auto a = load_transformer(src, at::kFloat);
  auto b = load_transformer(dir / "back", at::kFloat);
  auto c = load_transformer(dir / "m.gguf", at::kFloat);
  auto pb = b->hf_parameters(), pc = c->hf_parameters();
  size_t i = 0;
  for (auto& [name, t] : a->hf_parameters()) {
    EXPECT_TRUE(torch::equal(t, pb[i].second)) << name;
    EXPECT_TRUE(torch::equal(t, pc[i].second)) << name;
    ++i;
  }
  const ModelConfig ca = load_model_config(src), cg = load_model_config(dir / "m.gguf");
  EXPECT_EQ(cg.num_hidden_layers, ca.num_hidden_layers);
  EXPECT_EQ(cg.tie_word_embeddings, ca.tie_word_embeddings);
  EXPECT_DOUBLE_EQ(cg.rope_theta, ca.rope_theta);
  EXPECT_EQ(
      read_file(dir / "back/tokenizer_config.json").find("chat_template") != std::string::npos,
      true);
  EXPECT_THROW(gguf_to_hf(dir / "m.gguf", dir / "back", at::kFloat), Error);  // not empty
}

// Every truncation of a valid file is refused with an error naming it (never a crash or hang).
TEST(Gguf, EveryTruncationIsRefused) {
  test::TempDir dir;
  const std::string bytes = read_file(small_file(dir));
  const std::string cut = dir / "cut.gguf";
  for (size_t n = 0; n < bytes.size(); n += (n < 600 ? 1 : 97)) {
    write_bytes(cut, bytes.substr(0, n));
    try {
      GgufFile f(cut);
      ADD_FAILURE() << "a file cut to " << n << " of " << bytes.size() << " bytes was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(cut), std::string::npos) << e.what();
    }
  }
}

// Random byte flips in the header and tables: only ever r1::Error, or a file that reads.
TEST(Gguf, ByteFlipsGiveErrorsNotCrashes) {
  test::TempDir dir;
  const std::string bytes = read_file(small_file(dir));
  const std::string bad = dir / "bad.gguf";
  std::mt19937 rng(7);
  for (int i = 0; i < 3000; ++i) {
    std::string b = bytes;
    for (int k = 0; k < 1 + i % 4; ++k) b[rng() % 600] = static_cast<char>(rng());
    write_bytes(bad, b);
    try {
      GgufFile f(bad);
      for (const auto& t : f.tensors()) f.tensor(t);
    } catch (const Error&) {
    }
  }
}

// Hand-made headers that lie: each gets an error naming what is wrong.
std::string header(uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
  std::string h = "GGUF";
  h.append(reinterpret_cast<const char*>(&version), 4);
  h.append(reinterpret_cast<const char*>(&n_tensors), 8);
  h.append(reinterpret_cast<const char*>(&n_kv), 8);
  return h;
}
template <typename T>
std::string le(T v) {
  return std::string(reinterpret_cast<const char*>(&v), sizeof(T));
}
std::string str(const std::string& s) { return le<uint64_t>(s.size()) + s; }

void expect_refused(const test::TempDir& dir, const std::string& bytes, const std::string& says) {
  write_bytes(dir / "x.gguf", bytes);
  try {
    GgufFile f(dir / "x.gguf");
    ADD_FAILURE() << "accepted; expected: " << says;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
  }
}

TEST(Gguf, LyingHeadersAreRefusedByName) {
  test::TempDir dir;
  expect_refused(dir, "GGML" + std::string(20, '\0'), "no \"GGUF\" magic");
  expect_refused(dir, header(1, 0, 0), "version 1");
  expect_refused(dir, header(3u << 24, 0, 0), "big-endian");
  expect_refused(dir, header(7, 0, 0), "unknown GGUF version 7");
  expect_refused(dir, header(3, 0, 1ull << 60), "key-value count");
  expect_refused(dir, header(3, 1ull << 60, 0), "tensor count");
  // A string whose length runs past the end, an array of 2^40 strings, an unknown value type.
  expect_refused(dir, header(3, 0, 1) + str("k") + le<uint32_t>(8) + le<uint64_t>(1ull << 50),
                 "k runs past the end");
  expect_refused(
      dir,
      header(3, 0, 1) + str("big") + le<uint32_t>(9) + le<uint32_t>(8) + le<uint64_t>(1ull << 40),
      "big: array length");
  expect_refused(dir, header(3, 0, 1) + str("t") + le<uint32_t>(13), "t: unknown value type 13");
  expect_refused(dir,
                 header(3, 0, 2) + str("a") + le<uint32_t>(4) + le<uint32_t>(1) + str("a") +
                     le<uint32_t>(4) + le<uint32_t>(1),
                 "\"a\" appears twice");
  expect_refused(dir,
                 header(3, 0, 1) + str("general.alignment") + le<uint32_t>(4) + le<uint32_t>(3),
                 "not a power of two");
  // Tensors: an IQ type, a row that is not whole blocks, data past the end, misaligned data.
  auto tensor = [](uint32_t type, uint64_t d0, uint64_t offset) {
    return header(3, 1, 0) + str("w") + le<uint32_t>(1) + le<uint64_t>(d0) + le<uint32_t>(type) +
           le<uint64_t>(offset);
  };
  expect_refused(dir, tensor(16, 256, 0) + std::string(200, '\0'), "IQ2_XXS");
  expect_refused(dir, tensor(12, 100, 0) + std::string(200, '\0'), "not a multiple of Q4_K");
  expect_refused(dir, tensor(0, 1000, 0) + std::string(100, '\0'), "runs past the end");
  expect_refused(dir, tensor(0, 4, 4) + std::string(100, '\0'), "not a multiple of the alignment");
  expect_refused(dir, header(3, 1, 0) + str("w") + le<uint32_t>(5) + std::string(64, '\0'),
                 "5 dimensions");
  expect_refused(
      dir, header(3, 1, 0) + str("w") + le<uint32_t>(1) + le<uint64_t>(0) + std::string(64, '\0'),
      "implausible dimension 0");
}

TEST(Gguf, UnsupportedArchitectureIsNamed) {
  test::TempDir dir;
  GgufWriter w;
  w.add_string("general.architecture", "mamba");
  w.add_tensor("token_embd.weight", torch::zeros({4, 32}), GgmlType::kF32);
  w.write(dir / "m.gguf");
  try {
    load_model_config(dir / "m.gguf");
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("architecture \"mamba\" is not supported"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace r1
