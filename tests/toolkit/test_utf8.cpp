// Tests of toolkit/utf8.h. The strict decoder against utf8proc's (the reference rl/rewards.cpp used
// before): every 1-, 2- and 3-byte string, and 4-byte strings over the bytes where the table's
// edges lie; lossy decoding against Python's bytes.decode("utf-8", "replace") on hand cases (its
// maximal-subpart rule); the lenient Jinja stepper and the code point count on hand cases.
#include <gtest/gtest.h>  // TEST, EXPECT_*
#include <utf8proc.h>     // utf8proc_iterate

#include <string>  // std::string

#include "toolkit/utf8.h"

namespace {

// utf8proc's reading of the sequence at the start of `s`: its code point and length, or (-1, 1).
std::pair<int32_t, size_t> reference(const std::string& s) {
  utf8proc_int32_t c = -1;
  const auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                                  static_cast<utf8proc_ssize_t>(s.size()), &c);
  if (n <= 0) return {-1, 1};
  return {c, static_cast<size_t>(n)};
}

void expect_as_utf8proc(const std::string& s, int64_t* checked) {
  int32_t cp = 0;
  const size_t n = r1::utf8_decode(s, 0, &cp);
  const auto [want_cp, want_n] = reference(s);
  ASSERT_EQ(cp, want_cp) << "bytes of length " << s.size() << ", first " << int(uint8_t(s[0]));
  ASSERT_EQ(n, want_n);
  ++*checked;
}

TEST(Utf8, DecodeAgreesWithUtf8procOnEveryShortString) {
  int64_t checked = 0;
  for (int a = 0; a < 256; ++a) {
    expect_as_utf8proc(std::string(1, char(a)), &checked);
    for (int b = 0; b < 256; ++b) {
      expect_as_utf8proc({char(a), char(b)}, &checked);
      if (a < 0xC0) continue;  // a continuation or ASCII lead: the third byte changes nothing
      for (int c = 0; c < 256; ++c) expect_as_utf8proc({char(a), char(b), char(c)}, &checked);
    }
  }
  EXPECT_GT(checked, 4'000'000);
}

TEST(Utf8, DecodeAgreesWithUtf8procOnFourByteEdges) {
  const int edges[] = {0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF};
  int64_t checked = 0;
  for (int a = 0xF0; a < 0x100; ++a)
    for (int b = 0x80; b < 0xC0; ++b)
      for (int c : edges)
        for (int d : edges) expect_as_utf8proc({char(a), char(b), char(c), char(d)}, &checked);
  EXPECT_EQ(checked, 16 * 64 * 10 * 10);
}

TEST(Utf8, LossyReplacesMaximalSubparts) {
  // Python: b"...".decode("utf-8", "replace").
  EXPECT_EQ(r1::utf8_lossy("a\xC3\xA9z"), "a\xC3\xA9z");
  EXPECT_EQ(r1::utf8_lossy("\xE2\x82"), "\xEF\xBF\xBD");  // one truncated sequence
  EXPECT_EQ(r1::utf8_lossy("\xF0\x80\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong
  EXPECT_EQ(r1::utf8_lossy("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(r1::utf8_lossy("\xFFx"), "\xEF\xBF\xBDx");
  EXPECT_TRUE(r1::is_valid_utf8("\xF0\x9F\x98\x80"));
  EXPECT_FALSE(r1::is_valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
}

TEST(Utf8, LenientStepAndCount) {
  uint32_t cp = 0;
  EXPECT_EQ(r1::utf8_step_lenient("\xC3\xA9", 0, &cp), 2u);
  EXPECT_EQ(cp, 0xE9u);
  EXPECT_EQ(r1::utf8_step_lenient("\xED\xA0\x80", 0, &cp), 3u);  // a surrogate, as written
  EXPECT_EQ(cp, 0xD800u);
  EXPECT_EQ(r1::utf8_step_lenient("\xC3x", 0, &cp), 1u);  // no continuation: the byte itself
  EXPECT_EQ(cp, 0xC3u);
  EXPECT_EQ(r1::count_code_points("a\xC3\xA9\xF0\x9F\x98\x80"), 3);
  EXPECT_EQ(r1::count_code_points("\xFF\xFE"), 2);
}

}  // namespace
