// Math grading (see math_grader.h).
#include "evals/math_grader.h"

namespace r1 {

Grade grade_answer(const std::string& gold, const std::string& pred,
                   const CompareOptions& options) {
  const Verdict v = compare_answers(gold, pred, options);
  Grade g;
  g.correct = v.equal;
  g.reason = v.reason;
  return g;
}

Grade grade_response(const std::string& gold, const std::string& response,
                     const ExtractConfig& config, const std::string& finish_reason,
                     const CompareOptions& options) {
  const Extraction e = extract_answer(response, config, finish_reason);
  if (e.status != ExtractStatus::kOk) {
    Grade g;
    g.reason = extract_status_name(e.status);
    return g;
  }
  Grade g = grade_answer(gold, *e.answer, options);
  g.extracted = e.answer;
  return g;
}

}  // namespace r1
