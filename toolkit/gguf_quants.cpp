// Dequantization of the ggml block types r1 reads, one small function per block type, each a
// transcription of gguf-py's numpy code (gguf/quants.py) with its float32 operations in the same
// order, so the results match it bit for bit; plus Q8_0/F16/BF16 encoding. Leaves out threading
// (callers split rows) and the IQ*/TQ*/Q8_1/Q8_K types.
//
// Exactness: every product and sum below is one IEEE float32 operation in numpy's order
// ((d * scale) * q - dmin * min, ...). Contraction into fused multiply-adds is turned off for this
// file: with -march=native it changed NaN payloads (the values agree only because these products
// happen to be exact).
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include "toolkit/gguf_quants.h"

#include <array>    // std::array
#include <bit>      // std::bit_cast, std::endian
#include <cmath>    // std::fabs, std::isnan, std::round
#include <cstring>  // std::memcpy
#include <limits>   // std::numeric_limits
#include <string>   // std::to_string

#include "toolkit/error.h"  // r1::Error, r1::check

namespace r1 {

static_assert(std::endian::native == std::endian::little, "GGUF blocks are read as little-endian");

namespace {

constexpr int kQK = 32;    // elements of a Q4_0..Q8_0 block
constexpr int kQKK = 256;  // elements of a K-quant super-block

uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// IEEE half bits -> float32, as numpy's npy_halfbits_to_floatbits: exact; NaN payloads are shifted
// over unchanged (a signalling NaN stays signalling). Masks, not branches, so that loops vectorize.
float f16_to_f32(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t em = h & 0x7fffu;  // exponent and mantissa
  // Normal: shift and rebias 15 -> 127; inf/NaN: the same plus 128 - 16 to reach exponent 255.
  const uint32_t shifted = (em << 13) + (112u << 23) + (em >= 0x7c00u ? 112u << 23 : 0u);
  // Zero and subnormals: em * 2^-24, exact (and a normal float32).
  const uint32_t subnormal = std::bit_cast<uint32_t>(float(int32_t(em)) * 0x1p-24f);
  const uint32_t is_sub = 0u - uint32_t(em < 0x0400u);  // all ones or zero
  return std::bit_cast<float>(sign | (subnormal & is_sub) | (shifted & ~is_sub));
}

float f16_at(const uint8_t* p) { return f16_to_f32(load_u16(p)); }

// float32 bits -> IEEE half bits, round to nearest even, as numpy's npy_floatbits_to_halfbits
// (overflow to inf; a NaN keeps its sign and top payload bits, and stays a NaN).
uint16_t f32_bits_to_f16(uint32_t f) {
  const auto sign = uint16_t((f >> 16) & 0x8000u);
  const uint32_t x = f & 0x7fffffffu;
  if (x > 0x7f800000u) {  // NaN
    const auto h = uint16_t(0x7c00u | (x & 0x7fffffu) >> 13);
    return sign | (h == 0x7c00u ? uint16_t(0x7c01u) : h);
  }
  if (x >= 0x47800000u) return sign | 0x7c00u;  // >= 65536 (and inf): inf
  const uint32_t e = x >> 23;
  if (e >= 113) {  // normal half range, or rounds up into inf
    const uint32_t r = x - (112u << 23) + 0xfffu + ((x >> 13) & 1u);
    return sign | uint16_t(r >> 13);
  }
  if (e < 102) return sign;  // below 2^-25: rounds to zero
  // Half subnormal (unit 2^-24): value = m * 2^(e-150), so m >> (126 - e) with rounding.
  const uint32_t m = (x & 0x7fffffu) | 0x800000u;
  const uint32_t shift = 126 - e;  // 14..24
  uint32_t h = m >> shift;
  const uint32_t rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
  if (rem > half || (rem == half && (h & 1u))) ++h;
  return sign | uint16_t(h);
}

// --- one function per block type: `b` is one block, `y` receives its elements -------------------

void dequant_q4_0(const uint8_t* b, float* y) {  // d | 16 bytes of nibbles
  const float d = f16_at(b);
  const uint8_t* qs = b + 2;
  for (int l = 0; l < kQK / 2; ++l) {
    y[l] = d * float((qs[l] & 0x0f) - 8);
    y[l + kQK / 2] = d * float((qs[l] >> 4) - 8);
  }
}

void dequant_q4_1(const uint8_t* b, float* y) {  // d | m | 16 bytes of nibbles
  const float d = f16_at(b), m = f16_at(b + 2);
  const uint8_t* qs = b + 4;
  for (int l = 0; l < kQK / 2; ++l) {
    y[l] = d * float(qs[l] & 0x0f) + m;
    y[l + kQK / 2] = d * float(qs[l] >> 4) + m;
  }
}

void dequant_q5_0(const uint8_t* b, float* y) {  // d | 32 high bits | 16 bytes of nibbles
  const float d = f16_at(b);
  const uint32_t qh = load_u32(b + 2);
  const uint8_t* qs = b + 6;
  for (int l = 0; l < kQK / 2; ++l) {
    const int lo = (qs[l] & 0x0f) | int((qh >> l) & 1u) << 4;
    const int hi = (qs[l] >> 4) | int((qh >> (l + 16)) & 1u) << 4;
    y[l] = d * float(lo - 16);
    y[l + kQK / 2] = d * float(hi - 16);
  }
}

void dequant_q5_1(const uint8_t* b, float* y) {  // d | m | 32 high bits | 16 bytes of nibbles
  const float d = f16_at(b), m = f16_at(b + 2);
  const uint32_t qh = load_u32(b + 4);
  const uint8_t* qs = b + 8;
  for (int l = 0; l < kQK / 2; ++l) {
    const int lo = (qs[l] & 0x0f) | int((qh >> l) & 1u) << 4;
    const int hi = (qs[l] >> 4) | int((qh >> (l + 16)) & 1u) << 4;
    y[l] = d * float(lo) + m;
    y[l + kQK / 2] = d * float(hi) + m;
  }
}

void dequant_q8_0(const uint8_t* b, float* y) {  // d | 32 int8
  const float d = f16_at(b);
  for (int l = 0; l < kQK; ++l) y[l] = float(int8_t(b[2 + l])) * d;
}

// Q2_K: 16 scale bytes (low nibble scale, high nibble min) | 64 bytes of 2-bit q | d | dmin.
// Element e: q = (qs[32*(e/128) + e%32] >> 2*((e%128)/32)) & 3, y = (d*sc)*q - dmin*mn.
void dequant_q2_k(const uint8_t* b, float* y) {
  const uint8_t* scales = b;
  const uint8_t* qs = b + 16;
  const float d = f16_at(b + 80), dmin = f16_at(b + 82);
  for (int e0 = 0; e0 < kQKK; e0 += 16) {
    const float dl = d * float(scales[e0 / 16] & 0x0f);
    const float ml = dmin * float(scales[e0 / 16] >> 4);
    const uint8_t* q = qs + 32 * (e0 / 128) + e0 % 32;
    const int shift = 2 * ((e0 % 128) / 32);
    for (int l = 0; l < 16; ++l) y[e0 + l] = dl * float((q[l] >> shift) & 3) - ml;
  }
}

// Q3_K: 32 bytes hmask | 64 bytes of 2-bit q | 12 bytes of 6-bit scales | d.
// Element e: low 2 bits as Q2_K, minus 4 when bit e/32 of hmask[e%32] is clear.
void dequant_q3_k(const uint8_t* b, float* y) {
  const uint8_t* hmask = b;
  const uint8_t* qs = b + 32;
  const uint8_t* sc = b + 96;
  const float d = f16_at(b + 108);
  for (int e0 = 0; e0 < kQKK; e0 += 16) {
    const int j = e0 / 16;
    const int low = (j < 8 ? sc[j] : sc[j - 8] >> 4) & 0x0f;
    const int high = (sc[8 + j % 4] >> (2 * (j / 4))) & 3;
    const float dl = d * float((low | high << 4) - 32);
    const uint8_t* q = qs + 32 * (e0 / 128) + e0 % 32;
    const uint8_t* hm = hmask + e0 % 32;
    const int shift = 2 * ((e0 % 128) / 32), bit = e0 / 32;
    for (int l = 0; l < 16; ++l) {
      const int v = ((q[l] >> shift) & 3) - (((hm[l] >> bit) & 1) ^ 1) * 4;
      y[e0 + l] = dl * float(v);
    }
  }
}

// The 8 6-bit scales and mins of Q4_K/Q5_K, packed in 12 bytes (ggml's get_scale_min_k4).
void k4_scale_min(const uint8_t* s, std::array<uint8_t, 8>& sc, std::array<uint8_t, 8>& mn) {
  for (int j = 0; j < 4; ++j) {
    sc[j] = s[j] & 0x3f;
    mn[j] = s[4 + j] & 0x3f;
    sc[4 + j] = (s[8 + j] & 0x0f) | ((s[j] >> 2) & 0x30);
    mn[4 + j] = (s[8 + j] >> 4) | ((s[4 + j] >> 2) & 0x30);
  }
}

// Q4_K: d | dmin | 12 scale bytes | 128 bytes of nibbles. Sub-block 2c (2c+1) is the low (high)
// nibbles of bytes 32c..32c+31; y = (d*sc)*q - (dmin*mn).
void dequant_q4_k(const uint8_t* b, float* y) {
  const float d = f16_at(b), dmin = f16_at(b + 2);
  std::array<uint8_t, 8> sc{}, mn{};
  k4_scale_min(b + 4, sc, mn);
  const uint8_t* qs = b + 16;
  for (int j = 0; j < 8; ++j) {
    const float dl = d * float(sc[j]), ml = dmin * float(mn[j]);
    const uint8_t* q = qs + 32 * (j / 2);
    const int shift = 4 * (j % 2);
    for (int l = 0; l < 32; ++l) y[32 * j + l] = dl * float((q[l] >> shift) & 0x0f) - ml;
  }
}

// Q5_K: Q4_K's layout with 32 bytes of high bits before the nibbles: bit j of qh[l] tops
// element 32j + l.
void dequant_q5_k(const uint8_t* b, float* y) {
  const float d = f16_at(b), dmin = f16_at(b + 2);
  std::array<uint8_t, 8> sc{}, mn{};
  k4_scale_min(b + 4, sc, mn);
  const uint8_t* qh = b + 16;
  const uint8_t* qs = b + 48;
  for (int j = 0; j < 8; ++j) {
    const float dl = d * float(sc[j]), ml = dmin * float(mn[j]);
    const uint8_t* q = qs + 32 * (j / 2);
    const int shift = 4 * (j % 2);
    for (int l = 0; l < 32; ++l) {
      const int v = ((q[l] >> shift) & 0x0f) | ((qh[l] >> j) & 1) << 4;
      y[32 * j + l] = dl * float(v) - ml;
    }
  }
}

// Q6_K: 128 bytes low nibbles | 64 bytes of 2-bit highs | 16 int8 scales | d. Element
// e = 128h + 32k + l (k < 4, l < 32): low = nibble k/2 of ql[64h + 32*(k%2) + l], high = bits 2k
// of qh[32h + l]; y = (d*scale[e/16]) * (q - 32).
void dequant_q6_k(const uint8_t* b, float* y) {
  const uint8_t* ql = b;
  const uint8_t* qh = b + 128;
  const uint8_t* scales = b + 192;
  const float d = f16_at(b + 208);
  for (int e0 = 0; e0 < kQKK; e0 += 16) {
    const float dl = d * float(int8_t(scales[e0 / 16]));
    const int h = e0 / 128, k = (e0 % 128) / 32, l0 = e0 % 32;
    const uint8_t* lo = ql + 64 * h + 32 * (k % 2) + l0;
    const uint8_t* hi = qh + 32 * h + l0;
    for (int l = 0; l < 16; ++l) {
      const int v = ((lo[l] >> (4 * (k / 2))) & 0x0f) | ((hi[l] >> (2 * k)) & 3) << 4;
      y[e0 + l] = dl * float(v - 32);
    }
  }
}

// --- element types (no blocks) ------------------------------------------------------------------

void dequant_f32(const uint8_t* data, int64_t n, float* out) {
  std::memcpy(out, data, size_t(n) * 4);
}

void dequant_f16(const uint8_t* data, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = f16_at(data + 2 * i);
}

void dequant_bf16(const uint8_t* data, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = std::bit_cast<float>(uint32_t(load_u16(data + 2 * i)) << 16);
}

// --- the table ----------------------------------------------------------------------------------

using BlockFn = void (*)(const uint8_t* block, float* y);
using ElementFn = void (*)(const uint8_t* data, int64_t n, float* out);

struct TypeInfo {
  uint32_t type;
  const char* name;
  GgmlBlock block;
  BlockFn block_fn;      // block types
  ElementFn element_fn;  // F32, F16, BF16
};

constexpr std::array<TypeInfo, 13> kTypes{{
    {0, "F32", {1, 4}, nullptr, dequant_f32},
    {1, "F16", {1, 2}, nullptr, dequant_f16},
    {2, "Q4_0", {kQK, 18}, dequant_q4_0, nullptr},
    {3, "Q4_1", {kQK, 20}, dequant_q4_1, nullptr},
    {6, "Q5_0", {kQK, 22}, dequant_q5_0, nullptr},
    {7, "Q5_1", {kQK, 24}, dequant_q5_1, nullptr},
    {8, "Q8_0", {kQK, 34}, dequant_q8_0, nullptr},
    {10, "Q2_K", {kQKK, 84}, dequant_q2_k, nullptr},
    {11, "Q3_K", {kQKK, 110}, dequant_q3_k, nullptr},
    {12, "Q4_K", {kQKK, 144}, dequant_q4_k, nullptr},
    {13, "Q5_K", {kQKK, 176}, dequant_q5_k, nullptr},
    {14, "Q6_K", {kQKK, 210}, dequant_q6_k, nullptr},
    {30, "BF16", {1, 2}, nullptr, dequant_bf16},
}};

const TypeInfo* find_type(uint32_t type) {
  for (const TypeInfo& t : kTypes) {
    if (t.type == type) return &t;
  }
  return nullptr;
}

// Names of the ggml types r1 does not dequantize (gguf-py's GGMLQuantizationType).
struct OtherType {
  uint32_t type;
  const char* name;
};
constexpr OtherType kOtherTypes[] = {
    {9, "Q8_1"},    {15, "Q8_K"},  {16, "IQ2_XXS"}, {17, "IQ2_XS"}, {18, "IQ3_XXS"}, {19, "IQ1_S"},
    {20, "IQ4_NL"}, {21, "IQ3_S"}, {22, "IQ2_S"},   {23, "IQ4_XS"}, {24, "I8"},      {25, "I16"},
    {26, "I32"},    {27, "I64"},   {28, "F64"},     {29, "IQ1_M"},  {34, "TQ1_0"},   {35, "TQ2_0"},
    {39, "MXFP4"},  {40, "NVFP4"}, {41, "Q1_0"},
};

// Q8_0's quantized value: numpy's float32 -> int8 cast of round-half-away-from-zero(v). |v| <= 127
// for finite input; a NaN or infinity (from NaN/inf input) casts to 0 there, as x86 does.
int8_t q8_round(float v) {
  const float r = std::round(v);
  return std::fabs(r) <= 127.0f ? int8_t(r) : int8_t(0);
}

// max |x| over a block, NaN if any element is NaN (as numpy's max).
float block_absmax(const float* x) {
  float amax = 0.0f;
  bool nan = false;
  for (int l = 0; l < kQK; ++l) {
    const float a = std::fabs(x[l]);
    nan |= std::isnan(a);
    amax = a > amax ? a : amax;
  }
  return nan ? std::numeric_limits<float>::quiet_NaN() : amax;
}

// One Q8_0 block, as gguf-py's Q8_0.quantize_blocks: d = amax / 127, q = roundf(x * (1 / d)).
void quantize_q8_0_block(const float* x, uint8_t* out) {
  const float d = block_absmax(x) / 127.0f;
  const float id = d == 0.0f ? 0.0f : 1.0f / d;
  const uint16_t dh = f32_bits_to_f16(std::bit_cast<uint32_t>(d));
  std::memcpy(out, &dh, 2);
  for (int l = 0; l < kQK; ++l) out[2 + l] = uint8_t(q8_round(x[l] * id));
}

}  // namespace

std::optional<GgmlBlock> ggml_block(uint32_t type) {
  const TypeInfo* t = find_type(type);
  if (!t) return std::nullopt;
  return t->block;
}

std::string ggml_type_name(uint32_t type) {
  if (const TypeInfo* t = find_type(type)) return t->name;
  for (const OtherType& t : kOtherTypes) {
    if (t.type == type) return t.name;
  }
  return "type " + std::to_string(type);
}

void dequantize(GgmlType type, const uint8_t* data, int64_t n, float* out) {
  const auto value = uint32_t(type);
  const TypeInfo* t = find_type(value);
  check(t != nullptr, "gguf: cannot dequantize ggml type " + ggml_type_name(value) +
                          "; r1 reads F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and Q2_K..Q6_K");
  check(n >= 0 && n % t->block.elements == 0,
        "gguf: " + std::to_string(n) + " values of type " + t->name + " are not whole blocks of " +
            std::to_string(t->block.elements) + "; the tensor's row size must be a multiple of it");
  if (t->element_fn) return t->element_fn(data, n, out);
  const int64_t blocks = n / t->block.elements;
  for (int64_t i = 0; i < blocks; ++i) {
    t->block_fn(data + i * t->block.bytes, out + i * t->block.elements);
  }
}

void quantize_q8_0(const float* x, int64_t n, uint8_t* out) {
  check(n >= 0 && n % kQK == 0,
        "gguf: Q8_0 quantizes whole blocks of 32 values, got " + std::to_string(n));
  for (int64_t i = 0; i < n / kQK; ++i) quantize_q8_0_block(x + i * kQK, out + i * 34);
}

void float_to_f16(const float* x, int64_t n, uint16_t* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = f32_bits_to_f16(std::bit_cast<uint32_t>(x[i]));
}

// As gguf-py's BF16.quantize_blocks (ggml_compute_fp32_to_bf16): a NaN gets its quiet bit set and
// its low half dropped; others round to nearest even (overflow rounds to inf).
void float_to_bf16(const float* x, int64_t n, uint16_t* out) {
  for (int64_t i = 0; i < n; ++i) {
    uint32_t u = std::bit_cast<uint32_t>(x[i]);
    if ((u & 0x7fffffffu) > 0x7f800000u) u = (u & 0xffff0000u) | 0x00400000u;
    out[i] = uint16_t((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
  }
}

}  // namespace r1
