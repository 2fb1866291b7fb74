// Answer extraction (see extract.h). Braces are matched for the whole text in one stack pass that
// skips escaped braces (\{ \}), so 10,000 nested braces, a 1 MB answer or thousands of unclosed
// \boxed{ all cost linear time.
#include "evals/extract.h"

#include <algorithm>  // std::find, std::upper_bound
#include <cctype>     // std::isdigit
#include <utility>    // std::pair
#include <vector>     // std::vector

#include "toolkit/error.h"  // r1::Error

namespace r1 {
namespace {

// Trims ASCII whitespace (and, for prose answers, a trailing full stop).
std::string trim_answer(std::string s, bool full_stop = false) {
  auto sp = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && (sp(s.back()) || (full_stop && s.back() == '.'))) s.pop_back();
  size_t b = 0;
  while (b < s.size() && sp(s[b])) ++b;
  return s.substr(b);
}

// For every '{' in t, one past its matching '}' (npos when unbalanced), in one pass; escaped
// braces (\{ \}) are skipped.
std::vector<size_t> match_braces(const std::string& t) {
  std::vector<size_t> close(t.size(), std::string::npos), open;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '\\' && i + 1 < t.size() && (t[i + 1] == '{' || t[i + 1] == '}')) {
      ++i;
    } else if (t[i] == '{') {
      open.push_back(i);
    } else if (t[i] == '}' && !open.empty()) {
      close[open.back()] = i + 1;
      open.pop_back();
    }
  }
  return close;
}

bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }
bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }

// A plain number (or simple fraction a/b) starting at i: sign, digits with thousands groups,
// decimals, percent; returns its end, or npos.
size_t number_end(const std::string& t, size_t i) {
  size_t j = i;
  if (j < t.size() && t[j] == '-') ++j;
  const size_t d0 = j;
  while (j < t.size() && is_digit(t[j])) ++j;
  if (j == d0) {
    if (j + 1 < t.size() && t[j] == '.' && is_digit(t[j + 1])) {
      ++j;
      while (j < t.size() && is_digit(t[j])) ++j;
      return j;
    }
    return std::string::npos;
  }
  // Thousands groups: ",ddd" or " ddd" (exactly three digits, not followed by a digit).
  while (j + 3 < t.size() + 0 && (t[j] == ',' || t[j] == ' ') && is_digit(t[j + 1]) &&
         is_digit(t[j + 2]) && is_digit(t[j + 3]) && !(j + 4 < t.size() && is_digit(t[j + 4])))
    j += 4;
  if (j + 1 < t.size() && (t[j] == '.' || t[j] == ',') && is_digit(t[j + 1])) {
    j += 1;
    while (j < t.size() && is_digit(t[j])) ++j;
  }
  size_t k = j;
  while (k < t.size() && t[k] == ' ') ++k;
  if (k + 1 < t.size() && t[k] == '/') {
    size_t m = k + 1;
    while (m < t.size() && t[m] == ' ') ++m;
    const size_t m0 = m;
    while (m < t.size() && is_digit(t[m])) ++m;
    if (m > m0) j = m;
  }
  if (j < t.size() && t[j] == '%') ++j;
  return j;
}

// A number may start here: not glued to a word on its left ("AZYUK2A" has none).
bool number_start_ok(const std::string& t, size_t i) {
  if (i == 0) return true;
  const char c = t[i - 1];
  return !(is_alpha(c) || is_digit(c) || c == '.' || c == '_' || c == '^' || c == '{' || c == '\\');
}

std::optional<std::string> last_number(const std::string& t, size_t* pos = nullptr) {
  // Candidates from the right: the last digit run, walked back to its start.
  size_t end = t.size();
  while (end > 0) {
    size_t i = end;
    while (i > 0 && !is_digit(t[i - 1])) --i;
    if (i == 0) return std::nullopt;
    size_t b = i - 1;  // a digit
    while (b > 0 && (is_digit(t[b - 1]) ||
                     ((t[b - 1] == ',' || t[b - 1] == '.' || t[b - 1] == ' ' || t[b - 1] == '/') &&
                      b >= 2 && is_digit(t[b - 2]))))
      --b;
    if (b > 0 && t[b - 1] == '.') --b;
    if (b > 0 && t[b - 1] == '-' && number_start_ok(t, b - 1)) --b;
    for (size_t s = b; s < i; ++s) {
      if (!(is_digit(t[s]) || t[s] == '-' || t[s] == '.') || !number_start_ok(t, s)) continue;
      const size_t e = number_end(t, s);
      if (e != std::string::npos && e >= i) {
        if (pos) *pos = e;
        return t.substr(s, e - s);
      }
    }
    end = b;
  }
  return std::nullopt;
}

// Math environments: $$..$$, \[..\], $..$ and \(..\) (inline ones within one line). Returns
// (start, end, content start, content end) of each, in order.
struct Env {
  size_t begin, end, cbegin, cend;
};
std::vector<Env> math_envs(const std::string& t) {
  std::vector<Env> out;
  for (size_t i = 0; i < t.size();) {
    auto esc = [&](size_t k) { return k > 0 && t[k - 1] == '\\'; };
    if (t.compare(i, 2, "$$") == 0 && !esc(i)) {
      const size_t e = t.find("$$", i + 2);
      if (e == std::string::npos) break;
      out.push_back({i, e + 2, i + 2, e});
      i = e + 2;
    } else if (t.compare(i, 2, "\\[") == 0 && !esc(i)) {
      const size_t e = t.find("\\]", i + 2);
      if (e == std::string::npos) break;
      out.push_back({i, e + 2, i + 2, e});
      i = e + 2;
    } else if (t[i] == '$' && !esc(i)) {
      size_t e = i + 1;
      while (e < t.size() && t[e] != '\n' && !(t[e] == '$' && t[e - 1] != '\\')) ++e;
      if (e >= t.size() || t[e] != '$') {
        ++i;
        continue;
      }
      if (e > i + 1) out.push_back({i, e + 1, i + 1, e});
      i = e + 1;
    } else if (t.compare(i, 2, "\\(") == 0 && !esc(i)) {
      const size_t nl = t.find('\n', i);
      const size_t e = t.find("\\)", i + 2);
      if (e == std::string::npos || (nl != std::string::npos && nl < e)) {
        i += 2;
        continue;
      }
      out.push_back({i, e + 2, i + 2, e});
      i = e + 2;
    } else {
      ++i;
    }
  }
  return out;
}

// The content of an environment with a percent mark right after it kept ("$28$ %").
std::string env_content(const std::string& t, const Env& e) {
  std::string c = trim_answer(t.substr(e.cbegin, e.cend - e.cbegin));
  size_t k = e.end;
  while (k < t.size() && t[k] == ' ') ++k;
  for (const char* pc : {"\\%", "%", "percent", "pct"})
    if (t.compare(k, std::char_traits<char>::length(pc), pc) == 0) return c + "\\%";
  return c;
}

// The last environment and the ones before it joined to it by ",", "and" or "or" (at most 5).
std::optional<std::string> last_env(const std::string& t, size_t* pos = nullptr) {
  const auto envs = math_envs(t);
  if (envs.empty()) return std::nullopt;
  size_t first = envs.size() - 1;
  while (first > 0 && envs.size() - first < 5) {
    std::string between =
        trim_answer(t.substr(envs[first - 1].end, envs[first].begin - envs[first - 1].end));
    if (between.size() >= 1 && between[0] == ',') between = trim_answer(between.substr(1));
    if (!(between.empty() || between == "and" || between == "or")) break;
    --first;
  }
  if (pos) *pos = envs.back().end;
  std::string out;
  for (size_t k = first; k < envs.size(); ++k) {
    const std::string c = env_content(t, envs[k]);
    if (c.empty()) continue;
    if (!out.empty()) out += ", ";
    out += c;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

// After a phrase: a math environment or number right after "is"/":", else the first one on the
// line, else (allow_prose) the rest of the line.
std::optional<std::string> after_phrase_value(const std::string& text, size_t from,
                                              bool allow_prose) {
  const size_t nl = text.find('\n', from);
  const std::string line =
      text.substr(from, nl == std::string::npos ? std::string::npos : nl - from);
  const std::string rest = text.substr(from, std::min<size_t>(text.size() - from, 4000));
  const auto envs = math_envs(rest);
  // The environment at index k and those after it joined by ",", "and", "or".
  auto joined = [&](size_t k) {
    std::string out = env_content(rest, envs[k]);
    for (size_t n = k + 1; n < envs.size() && n < k + 5; ++n) {
      std::string between =
          trim_answer(rest.substr(envs[n - 1].end, envs[n].begin - envs[n - 1].end));
      if (!between.empty() && between[0] == ',') between = trim_answer(between.substr(1));
      if (!(between.empty() || between == "and" || between == "or")) break;
      out += ", " + env_content(rest, envs[n]);
    }
    return out;
  };
  auto value_at = [&](size_t i) -> std::optional<std::string> {
    while (i < line.size() &&
           (line[i] == ' ' || line[i] == ':' || line[i] == '*' || line[i] == '"'))
      ++i;
    for (size_t k = 0; k < envs.size(); ++k)
      if (envs[k].begin == i) return joined(k);
    if (i < line.size() && (is_digit(line[i]) || line[i] == '-' || line[i] == '.')) {
      const size_t e = number_end(line, i);
      if (e != std::string::npos && e > i) return line.substr(i, e - i);
    }
    return std::nullopt;
  };
  for (size_t p = 0; (p = line.find(" is", p)) != std::string::npos && p < 120; p += 3)
    if (auto v = value_at(p + 3)) return v;
  if (auto v = value_at(0)) return v;
  if (!envs.empty() && envs.front().begin < line.size()) return joined(0);
  for (size_t i = 0; i < line.size(); ++i)
    if ((is_digit(line[i]) || line[i] == '-') && number_start_ok(line, i)) {
      const size_t e = number_end(line, i);
      if (e != std::string::npos && e > i) return line.substr(i, e - i);
    }
  if (!allow_prose) return std::nullopt;
  std::string out = line;
  const size_t hope = out.find("I hope");
  if (hope != std::string::npos) out = out.substr(0, hope);
  out = trim_answer(out, true);
  while (!out.empty() && (out[0] == ':' || out[0] == ' ')) out.erase(0, 1);
  if (out.empty()) return std::nullopt;
  return out;
}

// The value after the last occurrence of any phrase (case-insensitive, ASCII) that has one, or
// nullopt. A phrase ending in ':' or " is" may be followed by words ("answer: yes"); a bare one
// ("answer") only by a math environment or a number, so "this is the answer to the question" is no
// answer, and an earlier occurrence is tried instead.
std::optional<std::string> after_last_phrase(const std::string& text,
                                             const std::vector<std::string>& phrases,
                                             size_t* pos = nullptr) {
  std::string lower = text;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::vector<std::pair<size_t, const std::string*>> found;  // (where, phrase), every occurrence
  for (const auto& p : phrases)
    for (size_t at = lower.find(p); at != std::string::npos; at = lower.find(p, at + 1))
      found.emplace_back(at, &p);
  // Latest first; at one place the longest phrase ("answer is" before "answer").
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second->size() > b.second->size();
  });
  for (const auto& [at, p] : found) {
    const bool worded = p->back() == ':' || p->ends_with(" is");
    if (auto v = after_phrase_value(text, at + p->size(), worded)) {
      if (pos) *pos = at;
      return v;
    }
  }
  return std::nullopt;
}

}  // namespace

const char* extract_status_name(ExtractStatus s) {
  switch (s) {
    case ExtractStatus::kOk:
      return "ok";
    case ExtractStatus::kTruncated:
      return "truncated";
    case ExtractStatus::kUnclosedThink:
      return "unclosed_think";
    case ExtractStatus::kNoAnswer:
      return "no_answer";
    case ExtractStatus::kPromptTooLong:
      return "prompt_too_long";
  }
  return "?";
}

namespace {

// Every filter and its name, in the order the error message lists them.
constexpr std::pair<AnswerFilter, const char*> kFilterNames[] = {
    {AnswerFilter::kBoxed, "boxed"},
    {AnswerFilter::kFinalAnswerPhrase, "final_answer"},
    {AnswerFilter::kAnswerColon, "answer_colon"},
    {AnswerFilter::kLatexEnv, "latex_env"},
    {AnswerFilter::kLastNumber, "last_number"},
    {AnswerFilter::kWhole, "whole"}};

}  // namespace

AnswerFilter answer_filter_by_name(const std::string& n) {
  std::string known;
  for (const auto& [f, name] : kFilterNames) {
    if (n == name) return f;
    known += (known.empty() ? "" : ", ") + std::string(name);
  }
  throw Error("answer filter \"" + n + "\" is unknown (" + known + ")");
}

const char* answer_filter_name(AnswerFilter f) {
  for (const auto& [g, name] : kFilterNames)
    if (g == f) return name;
  return "?";
}

ExtractConfig extract_preset(const std::string& name) {
  ExtractConfig c;
  if (name == "boxed") return c;
  if (name == "boxed-or-phrase") {
    c.filters = {AnswerFilter::kBoxed, AnswerFilter::kFinalAnswerPhrase,
                 AnswerFilter::kAnswerColon};
    return c;
  }
  if (name == "lenient") {
    c.filters = {AnswerFilter::kBoxed, AnswerFilter::kFinalAnswerPhrase, AnswerFilter::kAnswerColon,
                 AnswerFilter::kLastNumber};
    return c;
  }
  if (name == "anywhere") {
    c.filters = {AnswerFilter::kBoxed,       AnswerFilter::kFinalAnswerPhrase,
                 AnswerFilter::kAnswerColon, AnswerFilter::kLatexEnv,
                 AnswerFilter::kLastNumber,  AnswerFilter::kWhole};
    c.groups = {0, 0, 1, 2, 2, 3};
    return c;
  }
  throw Error("extraction preset \"" + name +
              "\" is unknown (boxed, boxed-or-phrase, lenient, anywhere)");
}

std::optional<std::string> answer_region(const std::string& response, bool require_think) {
  const size_t close = response.rfind("</think>");
  if (close != std::string::npos) return response.substr(close + 8);
  if (response.find("<think>") != std::string::npos || require_think) return std::nullopt;
  return response;
}

namespace {

struct Box {
  size_t begin, end;  // the command .. one past its closing brace
  std::string content;
};

// Where each box command starts, in order (one linear scan of the text), and the matching
// braces (computed on first need), so walking the boxes back from the end costs linear time
// however many there are: a repetition loop writes 100k identical \boxed{} in one response.
struct BoxIndex {
  std::vector<size_t> boxed, fbox, close;
  explicit BoxIndex(const std::string& t) {
    for (size_t p = t.find("\\boxed"); p != std::string::npos; p = t.find("\\boxed", p + 6))
      boxed.push_back(p);
    for (size_t p = t.find("\\fbox"); p != std::string::npos; p = t.find("\\fbox", p + 5))
      fbox.push_back(p);
  }
};

// The last \boxed{...} / \fbox{...} with content starting at or before `limit`.
std::optional<Box> box_before(const std::string& t, size_t limit, BoxIndex& idx) {
  // Walk the commands from the last one back; the first that has content wins.
  size_t a = std::upper_bound(idx.boxed.begin(), idx.boxed.end(), limit) - idx.boxed.begin();
  size_t b = std::upper_bound(idx.fbox.begin(), idx.fbox.end(), limit) - idx.fbox.begin();
  while (a > 0 || b > 0) {
    const bool boxed = b == 0 || (a > 0 && idx.boxed[a - 1] > idx.fbox[b - 1]);
    const size_t at = boxed ? idx.boxed[--a] : idx.fbox[--b];
    size_t i = at + (boxed ? 6 : 5);
    const size_t name_end = i;
    while (i < t.size() && t[i] == ' ') ++i;
    if (i < t.size() && t[i] == '{') {
      if (idx.close.empty()) idx.close = match_braces(t);
      if (idx.close[i] != std::string::npos)
        return Box{at, idx.close[i], trim_answer(t.substr(i + 1, idx.close[i] - i - 2))};
    } else if (i > name_end && i < t.size()) {
      // "\boxed 5": up to the next space or math delimiter.
      size_t e = i;
      while (e < t.size() && t[e] != ' ' && t[e] != '$' && t[e] != '\n') ++e;
      if (e > i) return Box{at, e, trim_answer(t.substr(i, e - i))};
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> last_boxed(const std::string& t) { return last_boxed_at(t, nullptr); }

std::optional<std::string> last_boxed_at(const std::string& t, size_t* pos) {
  BoxIndex idx(t);
  auto last = box_before(t, t.size(), idx);
  if (!last) return std::nullopt;
  // Boxes before it join the answer when close by ("\boxed{1}, \boxed{2}"): under 10 characters
  // apart, or under 70 with "and", "or", "," or ";" between and a different content.
  std::vector<std::string> parts{last->content};
  for (Box cur = *last; parts.size() < 16 && cur.begin > 0;) {
    auto prev = box_before(t, cur.begin - 1, idx);
    if (!prev || prev->end > cur.begin) break;
    const std::string between = t.substr(prev->end, cur.begin - prev->end);
    bool sep = between.find(',') != std::string::npos || between.find(';') != std::string::npos;
    for (const char* w : {"and", "or"}) {
      for (size_t p = 0; (p = between.find(w, p)) != std::string::npos; ++p) {
        const size_t e = p + std::char_traits<char>::length(w);
        if ((p == 0 || !std::isalpha(static_cast<unsigned char>(between[p - 1]))) &&
            (e >= between.size() || !std::isalpha(static_cast<unsigned char>(between[e]))))
          sep = true;
      }
    }
    const std::string gap = trim_answer(between);
    if (!(gap.size() < 10 || (between.size() < 70 && sep && prev->content != cur.content))) break;
    // The same answer boxed twice counts once.
    if (std::find(parts.begin(), parts.end(), prev->content) == parts.end())
      parts.insert(parts.begin(), prev->content);
    cur = *prev;
  }
  if (pos) *pos = last->end;
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

Extraction extract_answer(const std::string& response, const ExtractConfig& config,
                          const std::string& finish_reason) {
  Extraction e;
  if (finish_reason == "length") {
    e.status = ExtractStatus::kTruncated;
    return e;
  }
  if (finish_reason == kPromptTooLong) {
    e.status = ExtractStatus::kPromptTooLong;
    return e;
  }
  const auto region = answer_region(response, config.require_think);
  if (!region) {
    e.status = ExtractStatus::kUnclosedThink;
    return e;
  }
  auto run = [&](AnswerFilter f, size_t* pos) -> std::optional<std::string> {
    switch (f) {
      case AnswerFilter::kBoxed:
        return last_boxed_at(*region, pos);
      case AnswerFilter::kFinalAnswerPhrase:
        return after_last_phrase(*region, {"final answer is", "final answer:", "final answer"},
                                 pos);
      case AnswerFilter::kAnswerColon:
        return after_last_phrase(*region, {"answer:", "answer is", "answer"}, pos);
      case AnswerFilter::kLastNumber:
        return last_number(*region, pos);
      case AnswerFilter::kLatexEnv:
        return last_env(*region, pos);
      case AnswerFilter::kWhole: {
        *pos = 0;
        std::string w = trim_answer(*region, true);
        if (w.empty()) return std::nullopt;
        return w;
      }
    }
    return std::nullopt;
  };
  for (size_t k = 0; k < config.filters.size();) {
    // The filters of one group; the match ending last wins (a phrase counts from where it
    // starts; a number inside a math environment ends before the environment does).
    size_t end = k + 1;
    if (!config.groups.empty())
      while (end < config.filters.size() && config.groups[end] == config.groups[k]) ++end;
    std::optional<std::string> best;
    size_t best_pos = 0;
    AnswerFilter best_f = config.filters[k];
    for (size_t m = k; m < end; ++m) {
      size_t pos = 0;
      auto a = run(config.filters[m], &pos);
      if (a && !a->empty() && (!best || pos > best_pos)) {
        best = std::move(a);
        best_pos = pos;
        best_f = config.filters[m];
      }
    }
    if (best) {
      e.status = ExtractStatus::kOk;
      e.answer = std::move(best);
      e.filter = answer_filter_name(best_f);
      return e;
    }
    k = end;
  }
  e.status = ExtractStatus::kNoAnswer;
  return e;
}

}  // namespace r1
