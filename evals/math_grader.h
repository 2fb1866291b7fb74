// The math grader's first version: an answer (or a full response, extraction applied) against a
// gold answer. Numbers compare as exact rationals ("025" == 25, 0.5 == \frac12), expressions
// symbolically (latex_expr.h), the rest as normalised text. Leaves out (for now) sets, intervals,
// tuples, matrices, equations and units, and the per-comparison work budget.
#pragma once

#include <optional>  // std::optional
#include <string>    // std::string

#include "evals/extract.h"  // r1::ExtractConfig

namespace r1 {

struct Grade {
  bool correct = false;
  std::string reason;                    // equal_number | equal_expr | equal_text | different |
                                         // unparsed | no_answer | truncated | unclosed_think
  std::optional<std::string> extracted;  // the answer graded (responses only)
};

// A bare predicted answer against the gold answer.
Grade grade_answer(const std::string& gold, const std::string& pred);
// A full model response: extraction (config), then grade_answer.
Grade grade_response(const std::string& gold, const std::string& response,
                     const ExtractConfig& config, const std::string& finish_reason = "stop");

}  // namespace r1
