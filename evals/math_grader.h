// The math grader: an answer (or a full response, extraction applied) against a gold answer.
// Structure and comparison rules are math_answer.h's; extraction is extract.h's. Deterministic,
// thread-safe, and bounded in work per pair (reason "budget" past the bound).
#pragma once

#include <optional>  // std::optional
#include <string>    // std::string

#include "evals/extract.h"      // r1::ExtractConfig
#include "evals/math_answer.h"  // r1::CompareOptions

namespace r1 {

struct Grade {
  bool correct = false;
  std::string reason;  // equal_number | equal_expr | equal_text | equal_set | equal_tuple |
                       // equal_interval | equal_relation | equal_list | different | unparsed |
                       // budget | no_answer | truncated | unclosed_think
  std::optional<std::string> extracted;  // the answer graded (responses only)
};

// A bare predicted answer against the gold answer.
Grade grade_answer(const std::string& gold, const std::string& pred,
                   const CompareOptions& options = {});
// A full model response: extraction (config), then grade_answer.
Grade grade_response(const std::string& gold, const std::string& response,
                     const ExtractConfig& config, const std::string& finish_reason = "stop",
                     const CompareOptions& options = {});

}  // namespace r1
