// Answer extraction: the region of a response to grade (after </think>; none when the reasoning
// was never closed or the response was cut at the length limit) and a named chain of filters that
// pull an answer string out of it (last \boxed{}/\fbox{} with nested braces, "final answer is ...",
// "answer: ...", and, only when a preset asks for it, the last number). Leaves out grading.
#pragma once

#include <optional>  // std::optional
#include <string>    // std::string
#include <vector>    // std::vector

namespace r1 {

// Why an answer is missing, or "ok".
enum class ExtractStatus { kOk, kTruncated, kUnclosedThink, kNoAnswer };
const char* extract_status_name(ExtractStatus s);

struct Extraction {
  ExtractStatus status = ExtractStatus::kNoAnswer;
  std::optional<std::string> answer;  // set when status == kOk
  std::string filter;                 // the filter that matched
};

// The filters, applied in order to the answer region; the first that finds something wins.
enum class AnswerFilter { kBoxed, kFinalAnswerPhrase, kAnswerColon, kLastNumber };
AnswerFilter answer_filter_by_name(const std::string& name);  // "boxed", "final_answer", ...
const char* answer_filter_name(AnswerFilter f);

struct ExtractConfig {
  std::vector<AnswerFilter> filters = {AnswerFilter::kBoxed};  // tried in order
  bool require_think = false;  // a response without "</think>" has no answer region
};

// Named presets: "boxed" (R1: \boxed only), "boxed-or-phrase" (then "final answer is", "answer:"),
// "lenient" (all of those, then the last number in the text).
ExtractConfig extract_preset(const std::string& name);

// The region of `response` to grade: the text after the last "</think>"; nullopt when a "<think>"
// is never closed. A response without any think tags is graded whole unless require_think.
std::optional<std::string> answer_region(const std::string& response, bool require_think);

// The content of the last \boxed{...} or \fbox{...} (nested braces balanced; also "\boxed 5"),
// or nullopt.
std::optional<std::string> last_boxed(const std::string& text);

// Extracts the answer of a full response. finish_reason "length" means truncated: no answer.
Extraction extract_answer(const std::string& response, const ExtractConfig& config,
                          const std::string& finish_reason = "stop");

}  // namespace r1
