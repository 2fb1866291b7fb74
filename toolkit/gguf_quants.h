// The ggml tensor types r1 reads from GGUF files and their dequantization to float32, bit for bit
// as the reference (gguf-py's gguf.quants.dequantize, i.e. llama.cpp's ggml-quants.c): F32, F16,
// BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and the K-quants Q2_K..Q6_K; plus quantization to Q8_0 (as
// gguf-py's quantize) and float32 -> F16/BF16 for writing GGUF. Leaves out the IQ*, TQ*, Q8_1 and
// Q8_K types (refused by name).
#pragma once

#include <cstdint>   // int64_t, uint8_t, uint32_t
#include <optional>  // std::optional
#include <string>    // std::string

namespace r1 {

// ggml_type values, as stored in a GGUF tensor info.
enum class GgmlType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kBF16 = 30,
};

// A type's block: `elements` values stored in `bytes` bytes (1 and 4 for F32).
struct GgmlBlock {
  int64_t elements = 1;
  int64_t bytes = 4;
};

// The block of a type r1 dequantizes; nullopt for any other ggml type value.
std::optional<GgmlBlock> ggml_block(uint32_t type);
// "Q4_K", "F16"...; for values r1 does not dequantize, ggml's name when known ("IQ2_XS", "Q8_K",
// "TQ1_0"...) else "type N", so errors can name it.
std::string ggml_type_name(uint32_t type);

// Dequantizes n values (a multiple of the type's block elements) from `data` into `out`.
void dequantize(GgmlType type, const uint8_t* data, int64_t n, float* out);

// Quantizes n values (a multiple of 32) to Q8_0 blocks (n / 32 * 34 bytes), as gguf-py's
// gguf.quants.quantize(x, Q8_0).
void quantize_q8_0(const float* x, int64_t n, uint8_t* out);
// float32 -> IEEE half (round to nearest even, as numpy's astype(float16)) and -> bfloat16 (as
// gguf-py: round to nearest even, NaN kept quiet).
void float_to_f16(const float* x, int64_t n, uint16_t* out);
void float_to_bf16(const float* x, int64_t n, uint16_t* out);

}  // namespace r1
