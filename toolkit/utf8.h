// UTF-8 as r1 reads it, one home for every layer: the strict decoder of Unicode's well-formed
// table (no overlong forms, no surrogates, nothing above U+10FFFF) that tokenizers, rewards and
// lossy decoding use, and the lenient stepper of the Jinja engine, which follows lead bytes as
// Python's str of the bytes a template gives would not need to. Leaves out normalization and
// grapheme clusters (utf8proc's).
#pragma once

#include <cstddef>      // size_t
#include <cstdint>      // int32_t, int64_t, uint32_t
#include <string>       // std::string
#include <string_view>  // std::string_view

namespace r1 {

// Length of the well-formed UTF-8 sequence at s[i], or 0 when there is none; then *maximal is
// the length of its maximal invalid subpart (at least 1), the unit U+FFFD replaces.
size_t utf8_sequence(std::string_view s, size_t i, size_t* maximal);

// Decodes the code point at s[i] into *cp, -1 for an ill-formed byte; returns the bytes read
// (1 for an ill-formed byte), so a loop over a string never stalls.
size_t utf8_decode(std::string_view s, size_t i, int32_t* cp);

bool is_valid_utf8(std::string_view s);

// Ill-formed sequences replaced by U+FFFD with the "maximal subpart" rule (as Python and Rust).
std::string utf8_lossy(std::string_view bytes);

// Code points of a string, counted by their lead bytes (every byte that is not a continuation
// byte: ill-formed bytes count one each).
int64_t count_code_points(std::string_view s);

// The lenient step of the Jinja engine: the code point of the sequence its lead byte announces at
// s[i] when its continuation bytes follow (overlong forms and surrogates decoded as written), else
// the single byte as a code point; returns the bytes read.
size_t utf8_step_lenient(std::string_view s, size_t i, uint32_t* cp);

}  // namespace r1
