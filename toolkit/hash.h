// The small fixed hashes r1's seeds, orders and splits derive from: splitmix64 (Steele, Lea and
// Flood 2014; its finaliser is Stafford's Mix13) and 64-bit FNV-1a. Their values are part of
// results (sampling seeds, epoch orders, train/held-out splits), so they never change.
// Leaves out hashes for tables (std::hash) and content digests (toolkit/sha256.h).
#pragma once

#include <cstdint>      // uint64_t
#include <string_view>  // std::string_view

namespace r1 {

inline constexpr uint64_t kSplitMix64Gamma = 0x9e3779b97f4a7c15ull;

// splitmix64's finaliser: a bijection of 64 bits that mixes every input bit into every output bit.
constexpr uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// splitmix64 of `x`: the finaliser of x + gamma (a pure function, for counter-based streams).
constexpr uint64_t splitmix64(uint64_t x) { return mix64(x + kSplitMix64Gamma); }

// The next value of the splitmix64 stream whose state is `state`, which it advances.
inline uint64_t splitmix64_next(uint64_t& state) {
  state += kSplitMix64Gamma;
  return mix64(state);
}

// 64-bit FNV-1a of `s` from the offset basis `basis` (FNV's own by default).
inline constexpr uint64_t kFnv1aBasis = 0xcbf29ce484222325ull;
constexpr uint64_t fnv1a64(std::string_view s, uint64_t basis = kFnv1aBasis) {
  uint64_t h = basis;
  for (const char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  return h;
}

}  // namespace r1
