// Answer extraction (see extract.h). Braces are matched for the whole text in one stack pass that
// skips escaped braces (\{ \}), so 10,000 nested braces, a 1 MB answer or thousands of unclosed
// \boxed{ all cost linear time.
#include "evals/extract.h"

#include <cctype>  // std::isdigit
#include <vector>  // std::vector

#include "toolkit/error.h"  // r1::Error

namespace r1 {
namespace {

// Trims ASCII whitespace (and, for prose answers, a trailing full stop).
std::string trim(std::string s, bool full_stop = false) {
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

// The text after the last occurrence of any phrase (case-insensitive, ASCII), up to the end of
// its line, or nullopt.
std::optional<std::string> after_last_phrase(const std::string& text,
                                             const std::vector<std::string>& phrases) {
  std::string lower = text;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t best = std::string::npos, len = 0;
  for (const auto& p : phrases) {
    const size_t at = lower.rfind(p);
    if (at != std::string::npos && (best == std::string::npos || at > best)) {
      best = at;
      len = p.size();
    }
  }
  if (best == std::string::npos) return std::nullopt;
  std::string rest = text.substr(best + len);
  const size_t nl = rest.find('\n');
  if (nl != std::string::npos) rest = rest.substr(0, nl);
  // "The final answer is $\boxed{5}$" is handled by the boxed filter; strip math delimiters here.
  rest = trim(rest, true);
  for (const char* d : {"$", "\\(", "\\)", "\\[", "\\]", "**"}) {
    size_t p;
    while ((p = rest.find(d)) != std::string::npos)
      rest.erase(p, std::char_traits<char>::length(d));
  }
  rest = trim(rest, true);
  if (rest.empty()) return std::nullopt;
  return rest;
}

std::optional<std::string> last_number(const std::string& t) {
  // The last run of digits, with an optional sign, decimal point and thousands separators.
  size_t end = std::string::npos;
  for (size_t i = t.size(); i-- > 0;)
    if (std::isdigit(static_cast<unsigned char>(t[i]))) {
      end = i + 1;
      break;
    }
  if (end == std::string::npos) return std::nullopt;
  size_t b = end;
  while (b > 0 && (std::isdigit(static_cast<unsigned char>(t[b - 1])) ||
                   ((t[b - 1] == '.' || t[b - 1] == ',') && b >= 2 &&
                    std::isdigit(static_cast<unsigned char>(t[b - 2])))))
    --b;
  if (b > 0 && t[b - 1] == '-') --b;
  return t.substr(b, end - b);
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
  }
  return "?";
}

AnswerFilter answer_filter_by_name(const std::string& n) {
  if (n == "boxed") return AnswerFilter::kBoxed;
  if (n == "final_answer") return AnswerFilter::kFinalAnswerPhrase;
  if (n == "answer_colon") return AnswerFilter::kAnswerColon;
  if (n == "last_number") return AnswerFilter::kLastNumber;
  throw Error("answer filter \"" + n +
              "\" is unknown (boxed, final_answer, answer_colon, last_number)");
}

const char* answer_filter_name(AnswerFilter f) {
  switch (f) {
    case AnswerFilter::kBoxed:
      return "boxed";
    case AnswerFilter::kFinalAnswerPhrase:
      return "final_answer";
    case AnswerFilter::kAnswerColon:
      return "answer_colon";
    case AnswerFilter::kLastNumber:
      return "last_number";
  }
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
  throw Error("extraction preset \"" + name + "\" is unknown (boxed, boxed-or-phrase, lenient)");
}

std::optional<std::string> answer_region(const std::string& response, bool require_think) {
  const size_t close = response.rfind("</think>");
  if (close != std::string::npos) return response.substr(close + 8);
  if (response.find("<think>") != std::string::npos || require_think) return std::nullopt;
  return response;
}

std::optional<std::string> last_boxed(const std::string& t) {
  std::vector<size_t> close;  // computed on first need
  // Walk the \boxed / \fbox commands from the last one back; the first that has content wins.
  // Each search resumes below its own previous hit, so the walk is linear.
  auto before = [&](const char* cmd, size_t pos) {
    return pos == 0 || pos == std::string::npos ? std::string::npos : t.rfind(cmd, pos - 1);
  };
  size_t a = t.rfind("\\boxed"), b = t.rfind("\\fbox");
  while (a != std::string::npos || b != std::string::npos) {
    const bool boxed = b == std::string::npos || (a != std::string::npos && a > b);
    const size_t at = boxed ? a : b;
    if (boxed)
      a = before("\\boxed", a);
    else
      b = before("\\fbox", b);
    size_t i = at + (boxed ? 6 : 5);
    const size_t name_end = i;
    while (i < t.size() && t[i] == ' ') ++i;
    if (i < t.size() && t[i] == '{') {
      if (close.empty()) close = match_braces(t);
      if (close[i] != std::string::npos) return trim(t.substr(i + 1, close[i] - i - 2));
    } else if (i > name_end && i < t.size()) {
      // "\boxed 5": up to the next space or math delimiter.
      size_t e = i;
      while (e < t.size() && t[e] != ' ' && t[e] != '$' && t[e] != '\n') ++e;
      if (e > i) return trim(t.substr(i, e - i));
    }
  }
  return std::nullopt;
}

Extraction extract_answer(const std::string& response, const ExtractConfig& config,
                          const std::string& finish_reason) {
  Extraction e;
  if (finish_reason == "length") {
    e.status = ExtractStatus::kTruncated;
    return e;
  }
  const auto region = answer_region(response, config.require_think);
  if (!region) {
    e.status = ExtractStatus::kUnclosedThink;
    return e;
  }
  for (AnswerFilter f : config.filters) {
    std::optional<std::string> a;
    switch (f) {
      case AnswerFilter::kBoxed:
        a = last_boxed(*region);
        break;
      case AnswerFilter::kFinalAnswerPhrase:
        a = after_last_phrase(*region, {"final answer is", "final answer:"});
        break;
      case AnswerFilter::kAnswerColon:
        a = after_last_phrase(*region, {"answer:", "answer is"});
        break;
      case AnswerFilter::kLastNumber:
        a = last_number(*region);
        break;
    }
    if (a && !a->empty()) {
      e.status = ExtractStatus::kOk;
      e.answer = std::move(a);
      e.filter = answer_filter_name(f);
      return e;
    }
  }
  e.status = ExtractStatus::kNoAnswer;
  return e;
}

}  // namespace r1
