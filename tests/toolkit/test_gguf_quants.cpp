// toolkit/gguf_quants against gguf-py: dequantization of every type r1 reads, Q8_0 quantization
// and F16/BF16 encoding, bit for bit, on the goldens of tests/reference/make_gguf_quant_goldens.py
// (tests/data/gguf_quants/). Also the refusals and type names.
#include <gtest/gtest.h>

#include <bit>       // std::bit_cast
#include <cmath>     // std::isnan
#include <cstdint>   // uint8_t, uint16_t, uint32_t
#include <cstring>   // std::memcpy
#include <fstream>   // std::ifstream
#include <iterator>  // std::istreambuf_iterator
#include <set>       // std::set
#include <string>    // std::string
#include <vector>    // std::vector

#include <nlohmann/json.hpp>  // nlohmann::json

#include "toolkit/error.h"        // r1::Error
#include "toolkit/gguf_quants.h"  // r1::dequantize...

namespace {

const std::string kDir = "tests/data/gguf_quants/";

std::vector<uint8_t> read_bytes(const std::string& name) {
  std::ifstream in(kDir + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing golden " << kDir + name
                         << "; run tests/reference/make_gguf_quant_goldens.py";
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A golden file as an array of T (little-endian, as written by numpy's tofile).
template <typename T>
std::vector<T> read_array(const std::string& name, int64_t n) {
  const std::vector<uint8_t> bytes = read_bytes(name);
  EXPECT_EQ(bytes.size(), size_t(n) * sizeof(T)) << name;
  std::vector<T> out(bytes.size() / sizeof(T));
  std::memcpy(out.data(), bytes.data(), out.size() * sizeof(T));
  return out;
}

nlohmann::json manifest() {
  const std::vector<uint8_t> bytes = read_bytes("manifest.json");
  return nlohmann::json::parse(bytes.begin(), bytes.end());
}

// Same bits, or both NaN (a NaN's payload is not part of the contract).
bool same_float(float a, float b) {
  return std::bit_cast<uint32_t>(a) == std::bit_cast<uint32_t>(b) ||
         (std::isnan(a) && std::isnan(b));
}

TEST(GgufQuants, DequantizeMatchesGgufPy) {
  std::set<std::string> seen;
  const nlohmann::json m = manifest();  // kept alive: a temporary in the for-range would dangle
  for (const nlohmann::json& c : m["dequantize"]) {
    const auto name = c["type"].get<std::string>();
    const auto value = c["value"].get<uint32_t>();
    const auto n = c["n"].get<int64_t>();
    SCOPED_TRACE(name);
    seen.insert(name);
    EXPECT_EQ(r1::ggml_type_name(value), name);
    const std::optional<r1::GgmlBlock> block = r1::ggml_block(value);
    ASSERT_TRUE(block.has_value());
    const std::vector<uint8_t> raw = read_bytes(c["raw"].get<std::string>());
    ASSERT_EQ(int64_t(raw.size()), n / block->elements * block->bytes);
    const std::vector<float> expected = read_array<float>(c["expected"].get<std::string>(), n);

    std::vector<float> got(size_t(n), -1.0f);
    r1::dequantize(r1::GgmlType(value), raw.data(), n, got.data());
    int mismatches = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (!same_float(got[i], expected[i]) && ++mismatches <= 5) {
        ADD_FAILURE() << "element " << i << " (block " << i / block->elements << "): got " << got[i]
                      << " (0x" << std::hex << std::bit_cast<uint32_t>(got[i]) << "), expected "
                      << expected[i] << " (0x" << std::bit_cast<uint32_t>(expected[i]) << ")"
                      << std::dec;
      }
    }
    EXPECT_EQ(mismatches, 0);
  }
  EXPECT_EQ(seen, (std::set<std::string>{"F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1",
                                         "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"}));
}

TEST(GgufQuants, QuantizeQ8_0MatchesGgufPy) {
  const nlohmann::json c = manifest()["quantize_q8_0"];
  const auto n = c["n"].get<int64_t>();
  const std::vector<float> x = read_array<float>(c["input"].get<std::string>(), n);
  const std::vector<uint8_t> expected = read_bytes(c["expected"].get<std::string>());
  ASSERT_EQ(int64_t(expected.size()), n / 32 * 34);
  std::vector<uint8_t> got(expected.size());
  r1::quantize_q8_0(x.data(), n, got.data());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(int(got[i]), int(expected[i])) << "block " << i / 34 << " byte " << i % 34;
  }
  // Round trip: what r1 writes, r1 reads back as gguf-py would (golden Q8_0 dequantization
  // covers the reading side).
  std::vector<float> back(static_cast<size_t>(n));
  r1::dequantize(r1::GgmlType::kQ8_0, got.data(), n, back.data());
  EXPECT_NEAR(back[0], x[0], std::abs(x[0]) * 0.02f + 1e-6f);
}

// F16 and BF16 encoders: exact bits, NaN payloads included (both follow fixed integer rules).
void expect_encoder(const char* key, void (*encode)(const float*, int64_t, uint16_t*)) {
  SCOPED_TRACE(key);
  const nlohmann::json c = manifest()[key];
  const auto n = c["n"].get<int64_t>();
  const std::vector<float> x = read_array<float>(c["input"].get<std::string>(), n);
  const std::vector<uint16_t> expected = read_array<uint16_t>(c["expected"].get<std::string>(), n);
  std::vector<uint16_t> got(static_cast<size_t>(n));
  encode(x.data(), n, got.data());
  int mismatches = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (got[i] != expected[i] && ++mismatches <= 5) {
      ADD_FAILURE() << "input " << i << " 0x" << std::hex << std::bit_cast<uint32_t>(x[i])
                    << ": got 0x" << got[i] << ", expected 0x" << expected[i] << std::dec;
    }
  }
  EXPECT_EQ(mismatches, 0);
}

TEST(GgufQuants, FloatToF16MatchesNumpy) { expect_encoder("float_to_f16", r1::float_to_f16); }

TEST(GgufQuants, FloatToBf16MatchesGgufPy) { expect_encoder("float_to_bf16", r1::float_to_bf16); }

TEST(GgufQuants, RefusesPartialBlocksAndUnknownTypes) {
  std::vector<uint8_t> data(1024);
  std::vector<float> out(1024);
  EXPECT_THROW(r1::dequantize(r1::GgmlType::kQ4_K, data.data(), 100, out.data()), r1::Error);
  EXPECT_THROW(r1::dequantize(r1::GgmlType::kQ8_0, data.data(), 33, out.data()), r1::Error);
  EXPECT_NO_THROW(r1::dequantize(r1::GgmlType::kQ8_0, data.data(), 0, out.data()));
  EXPECT_THROW(r1::dequantize(r1::GgmlType(16), data.data(), 256, out.data()), r1::Error);
  EXPECT_THROW(r1::quantize_q8_0(out.data(), 48, data.data()), r1::Error);
  try {
    r1::dequantize(r1::GgmlType(16), data.data(), 256, out.data());
  } catch (const r1::Error& e) {
    EXPECT_NE(std::string(e.what()).find("IQ2_XXS"), std::string::npos) << e.what();
  }
}

TEST(GgufQuants, TypeNamesMatchGgufPy) {
  const nlohmann::json names = manifest()["type_names"];
  ASSERT_GE(names.size(), 30u);
  for (uint32_t value = 0; value < 64; ++value) {
    const std::string key = std::to_string(value);
    const std::string expected =
        names.contains(key) ? names[key].get<std::string>() : "type " + key;
    EXPECT_EQ(r1::ggml_type_name(value), expected);
  }
}

TEST(GgufQuants, TypeNamesAndBlocks) {
  EXPECT_EQ(r1::ggml_type_name(12), "Q4_K");
  EXPECT_EQ(r1::ggml_type_name(9), "Q8_1");
  EXPECT_EQ(r1::ggml_type_name(15), "Q8_K");
  EXPECT_EQ(r1::ggml_type_name(16), "IQ2_XXS");
  EXPECT_EQ(r1::ggml_type_name(24), "I8");
  EXPECT_EQ(r1::ggml_type_name(29), "IQ1_M");
  EXPECT_EQ(r1::ggml_type_name(34), "TQ1_0");
  EXPECT_EQ(r1::ggml_type_name(35), "TQ2_0");
  EXPECT_EQ(r1::ggml_type_name(39), "MXFP4");
  EXPECT_EQ(r1::ggml_type_name(4), "type 4");
  EXPECT_EQ(r1::ggml_type_name(31), "type 31");
  EXPECT_EQ(r1::ggml_type_name(1000), "type 1000");
  EXPECT_FALSE(r1::ggml_block(15).has_value());
  const std::optional<r1::GgmlBlock> q6 = r1::ggml_block(14);
  ASSERT_TRUE(q6.has_value());
  EXPECT_EQ(q6->elements, 256);
  EXPECT_EQ(q6->bytes, 210);
  EXPECT_EQ(r1::ggml_block(0)->bytes, 4);
}

}  // namespace
