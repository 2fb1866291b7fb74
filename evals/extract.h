// Answer extraction: the region of a response to grade (after </think>; none when the reasoning
// was never closed or the response was cut at the length limit) and a named chain of filters that
// pull an answer string out of it (last \boxed{}/\fbox{} with nested braces, "final answer is ...",
// "answer: ...", and, only when a preset asks for it, the last number). Leaves out grading.
#pragma once

#include <optional>  // std::optional
#include <string>    // std::string
#include <vector>    // std::vector

namespace r1 {

// The finish_reason of a sample whose prompt did not fit the model's context: nothing was
// generated, and it is counted apart (issue 17, D11).
inline constexpr const char* kPromptTooLong = "prompt_too_long";

// Why an answer is missing, or "ok"; kPromptTooLong: finish_reason kPromptTooLong.
enum class ExtractStatus { kOk, kTruncated, kUnclosedThink, kNoAnswer, kPromptTooLong };
const char* extract_status_name(ExtractStatus s);

struct Extraction {
  ExtractStatus status = ExtractStatus::kNoAnswer;
  std::optional<std::string> answer;  // set when status == kOk
  std::string filter;                 // the filter that matched
};

// The filters, applied in order to the answer region; the first that finds something wins.
enum class AnswerFilter {
  kBoxed,
  kFinalAnswerPhrase,
  kAnswerColon,
  kLatexEnv,
  kLastNumber,
  kWhole
};
AnswerFilter answer_filter_by_name(const std::string& name);  // "boxed", "final_answer", ...
const char* answer_filter_name(AnswerFilter f);

struct ExtractConfig {
  std::vector<AnswerFilter> filters = {AnswerFilter::kBoxed};  // tried in order
  // Optional group of each filter: filters of one group are tried together and the match that
  // ends last in the text wins (math-verify's priorities); empty: each filter its own group.
  std::vector<int> groups;
  // (config.groups must be empty or as long as filters.)
  bool require_think = false;  // a response without "</think>" has no answer region
};

// Named presets: "boxed" (R1: \boxed only), "boxed-or-phrase" (then "final answer is", "answer:"),
// "lenient" (all of those, then the last number in the text), "anywhere" (for answers inside
// prose, as math-verify finds them: boxed, phrases, the last math environment, the last number).
ExtractConfig extract_preset(const std::string& name);

// The region of `response` to grade: the text after the last "</think>"; nullopt when a "<think>"
// is never closed. A response without any think tags is graded whole unless require_think.
std::optional<std::string> answer_region(const std::string& response, bool require_think);

// The content of the last \boxed{...} or \fbox{...} (nested braces balanced; also "\boxed 5"),
// with boxes just before it joined by ", " ("\boxed{1} and \boxed{2}" -> "1, 2"), or nullopt.
std::optional<std::string> last_boxed(const std::string& text);
// The same, with where the last box ends.
std::optional<std::string> last_boxed_at(const std::string& text, size_t* pos);

// Extracts the answer of a full response. finish_reason "length" means truncated: no answer.
Extraction extract_answer(const std::string& response, const ExtractConfig& config,
                          const std::string& finish_reason = "stop");

}  // namespace r1
