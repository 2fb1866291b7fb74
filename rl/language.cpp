// Language detection (see language.h).
#include "rl/language.h"

#include <utf8proc.h>  // utf8proc_category

#include <array>        // std::array
#include <string_view>  // std::string_view

#include "toolkit/error.h"  // r1::Error, r1::check
#include "toolkit/utf8.h"   // r1::utf8_decode

namespace r1 {
namespace {

constexpr std::string_view kOpen = "<think>";
constexpr std::string_view kClose = "</think>";

// Scripts in count_words' order (ties in detect_language go to the earlier one).
enum Script {
  kLatin,
  kGreek,
  kCyrillic,
  kHebrew,
  kArabic,
  kDevanagari,
  kThai,
  kHangul,
  kHan,
  kHiragana,
  kKatakana,
  kOther,
  kScriptCount
};
constexpr std::array<const char*, kScriptCount> kScriptNames = {
    "latin", "greek",  "cyrillic", "hebrew",   "arabic",   "devanagari",
    "thai",  "hangul", "han",      "hiragana", "katakana", "other"};
using ScriptCounts = std::array<int64_t, kScriptCount>;

struct Range {
  int32_t first, last;
  Script script;
};
// The blocks of the scripts named above (letters outside them are kOther).
constexpr Range kRanges[] = {
    {0x0041, 0x024F, kLatin},      {0x0250, 0x02AF, kLatin},      {0x0370, 0x03FF, kGreek},
    {0x0400, 0x052F, kCyrillic},   {0x0590, 0x05FF, kHebrew},     {0x0600, 0x06FF, kArabic},
    {0x0750, 0x077F, kArabic},     {0x08A0, 0x08FF, kArabic},     {0x0900, 0x097F, kDevanagari},
    {0x0E00, 0x0E7F, kThai},       {0x1100, 0x11FF, kHangul},     {0x1C80, 0x1C8F, kCyrillic},
    {0x1E00, 0x1EFF, kLatin},      {0x1F00, 0x1FFF, kGreek},      {0x2C60, 0x2C7F, kLatin},
    {0x2DE0, 0x2DFF, kCyrillic},   {0x2E80, 0x2FDF, kHan},        {0x3005, 0x3007, kHan},
    {0x3021, 0x3029, kHan},        {0x3038, 0x303B, kHan},        {0x3040, 0x309F, kHiragana},
    {0x30A0, 0x30FF, kKatakana},   {0x3130, 0x318F, kHangul},     {0x31F0, 0x31FF, kKatakana},
    {0x3400, 0x4DBF, kHan},        {0x4E00, 0x9FFF, kHan},        {0xA640, 0xA69F, kCyrillic},
    {0xA720, 0xA7FF, kLatin},      {0xA8E0, 0xA8FF, kDevanagari}, {0xA960, 0xA97F, kHangul},
    {0xAB30, 0xAB6F, kLatin},      {0xAC00, 0xD7FF, kHangul},     {0xF900, 0xFAFF, kHan},
    {0xFB1D, 0xFB4F, kHebrew},     {0xFB50, 0xFDFF, kArabic},     {0xFE70, 0xFEFF, kArabic},
    {0xFF21, 0xFF5A, kLatin},      {0xFF66, 0xFF9F, kKatakana},   {0xFFA0, 0xFFDC, kHangul},
    {0x1B000, 0x1B16F, kHiragana}, {0x20000, 0x323AF, kHan},
};

Script script_of(int32_t cp) {
  for (const Range& r : kRanges)
    if (cp >= r.first && cp <= r.last) return r.script;
  return kOther;
}

bool is_letter(utf8proc_category_t c) {
  return c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LL || c == UTF8PROC_CATEGORY_LT ||
         c == UTF8PROC_CATEGORY_LM || c == UTF8PROC_CATEGORY_LO;
}
bool is_mark(utf8proc_category_t c) {
  return c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_MC || c == UTF8PROC_CATEGORY_ME;
}
// Scripts written without spaces between words: every letter is a word.
bool per_character(Script s) { return s == kHan || s == kHiragana || s == kKatakana; }

bool is_ascii_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// The words of `text` per script (see count_words in the header).
ScriptCounts script_counts(std::string_view text) {
  ScriptCounts n{};
  Script run = kOther;
  int64_t run_letters = 0;  // letters of the current run (of a spaced script); 0: none open
  auto close_run = [&] {
    if (run_letters >= 2) ++n[run];
    run_letters = 0;
  };
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '`' && text.compare(i, 3, "```") == 0) {  // a fenced block: skip to its end
      close_run();
      const size_t end = text.find("```", i + 3);
      i = end == std::string_view::npos ? text.size() : end + 3;
      continue;
    }
    if (c == '\\' && i + 1 < text.size() && is_ascii_letter(text[i + 1])) {  // a LaTeX command
      close_run();
      size_t j = i + 1;
      while (j < text.size() && is_ascii_letter(text[j])) ++j;
      const std::string_view cmd = text.substr(i + 1, j - i - 1);
      if ((cmd == "begin" || cmd == "end") && j < text.size() && text[j] == '{') {
        const size_t close = text.find('}', j);
        j = close == std::string_view::npos ? text.size() : close + 1;
      }
      i = j;
      continue;
    }
    if (c == '<' && (text.compare(i, kOpen.size(), kOpen) == 0 ||
                     text.compare(i, kClose.size(), kClose) == 0)) {  // the think tags
      close_run();
      i += text[i + 1] == '/' ? kClose.size() : kOpen.size();
      continue;
    }
    int32_t cp;
    const size_t len = utf8_decode(text, i, &cp);
    i += len;
    const utf8proc_category_t cat = cp < 0 ? UTF8PROC_CATEGORY_CN : utf8proc_category(cp);
    if (is_letter(cat)) {
      const Script s = script_of(cp);
      if (per_character(s)) {
        close_run();
        ++n[s];
      } else if (run_letters > 0 && s == run) {
        ++run_letters;
      } else {
        close_run();
        run = s;
        run_letters = 1;
      }
    } else if (!is_mark(cat)) {  // marks stay in their word
      close_run();
    }
  }
  close_run();
  return n;
}

struct Language {
  const char* name;
  std::vector<Script> scripts;
};
const std::vector<Language>& languages() {
  static const std::vector<Language> all = {
      {"latin", {kLatin}},
      {"greek", {kGreek}},
      {"cyrillic", {kCyrillic}},
      {"hebrew", {kHebrew}},
      {"arabic", {kArabic}},
      {"devanagari", {kDevanagari}},
      {"thai", {kThai}},
      {"other", {kOther}},
      {"zh", {kHan}},
      {"ja", {kHan, kHiragana, kKatakana}},
      {"ko", {kHangul, kHan}},
  };
  return all;
}

std::string detect_from_counts(const ScriptCounts& n) {
  int best = -1;
  for (int s = 0; s < kScriptCount; ++s)
    if (n[s] > 0 && (best < 0 || n[s] > n[best])) best = s;
  if (best < 0) return "";
  switch (best) {
    case kHan:
      return n[kHiragana] + n[kKatakana] > 0 ? "ja" : "zh";
    case kHiragana:
    case kKatakana:
      return "ja";
    case kHangul:
      return "ko";
    default:
      return kScriptNames[best];
  }
}

double share_of(const ScriptCounts& n, const std::string& language) {
  const std::string target = language.empty() ? detect_from_counts(n) : language;
  int64_t total = 0;
  for (int64_t k : n) total += k;
  if (total == 0) return 0;
  for (const Language& l : languages()) {
    if (target != l.name) continue;
    int64_t in = 0;
    for (Script s : l.scripts) in += n[s];
    return static_cast<double>(in) / static_cast<double>(total);
  }
  std::string known;
  for (const Language& l : languages()) known += (known.empty() ? "" : ", ") + std::string(l.name);
  throw Error("language '" + target + "' is unknown (known: " + known + ")");
}

// True when `s` shows nothing: separators, controls, format characters, the blank fillers.

}  // namespace

std::map<std::string, int64_t> count_words(const std::string& text) {
  const ScriptCounts n = script_counts(text);
  std::map<std::string, int64_t> out;
  for (int s = 0; s < kScriptCount; ++s)
    if (n[s] > 0) out[kScriptNames[s]] = n[s];
  return out;
}

const std::vector<std::string>& language_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const Language& l : languages()) v.push_back(l.name);
    return v;
  }();
  return names;
}

std::string detect_language(const std::string& text) {
  return detect_from_counts(script_counts(text));
}

double language_share(const std::string& text, const std::string& language) {
  return share_of(script_counts(text), language);
}

}  // namespace r1
