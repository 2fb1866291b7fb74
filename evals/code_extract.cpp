// Code extraction (see code_extract.h). One pass over the lines; CommonMark's fence rules, less
// tildes and blocks inside list items or quotes.
#include "evals/code_extract.h"

#include <algorithm>  // std::transform
#include <cctype>     // std::tolower, std::isspace

#include "evals/extract.h"  // r1::answer_region

namespace r1 {
namespace {

// A fence line: up to three spaces, then `ticks` >= 3 backticks; `info` gets the rest.
bool fence_line(const std::string& line, size_t* ticks, std::string* info) {
  size_t i = 0;
  while (i < line.size() && i < 3 && line[i] == ' ') ++i;
  size_t n = 0;
  while (i + n < line.size() && line[i + n] == '`') ++n;
  if (n < 3) return false;
  *ticks = n;
  *info = line.substr(i + n);
  return true;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool blank(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c) != 0; });
}

}  // namespace

std::vector<FencedBlock> fenced_blocks(const std::string& text) {
  std::vector<FencedBlock> blocks;
  bool open = false;
  size_t open_ticks = 0;
  FencedBlock cur;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t ticks = 0;
    std::string info;
    const bool fence = fence_line(line, &ticks, &info);
    if (!open) {
      // An opening fence's info string may not hold a backtick (CommonMark).
      if (fence && info.find('`') == std::string::npos) {
        open = true;
        open_ticks = ticks;
        cur = FencedBlock{};
        size_t b = 0;
        while (b < info.size() && std::isspace(static_cast<unsigned char>(info[b]))) ++b;
        size_t e = b;
        while (e < info.size() && !std::isspace(static_cast<unsigned char>(info[e])) &&
               info[e] != '{')
          ++e;
        cur.tag = lower(info.substr(b, e - b));
      }
    } else if (fence && ticks >= open_ticks && blank(info)) {
      blocks.push_back(std::move(cur));
      open = false;
    } else {
      cur.code += line + "\n";
    }
  }
  return blocks;
}

std::optional<sandbox::Lang> lang_from_tag(const std::string& tag, sandbox::Lang default_lang) {
  const std::string t = lower(tag);
  if (t.empty()) return default_lang;
  if (t == "python" || t == "py" || t == "python3") return sandbox::Lang::Python;
  if (t == "cpp" || t == "c++" || t == "cc" || t == "cxx") return sandbox::Lang::Cpp;
  return std::nullopt;
}

CodeExtraction extract_code(const std::string& response, sandbox::Lang default_lang,
                            bool require_think, const std::string& finish_reason) {
  CodeExtraction x;
  if (finish_reason == "length" || finish_reason == kPromptTooLong) {
    x.status = finish_reason == "length" ? "truncated" : kPromptTooLong;
    return x;
  }
  const auto region = answer_region(response, require_think);
  if (!region) {
    x.status = "unclosed_think";
    return x;
  }
  const auto blocks = fenced_blocks(*region);
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) {
    if (const auto lang = lang_from_tag(it->tag, default_lang)) {
      x.code = it->code;
      x.lang = *lang;
      x.tag = it->tag;
      x.status = "ok";
      return x;
    }
    if (x.tag.empty()) x.tag = it->tag;
  }
  x.status = blocks.empty() ? "no_code_block" : "unsupported_language";
  return x;
}

}  // namespace r1
