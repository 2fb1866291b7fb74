// Math grading (see math_grader.h): number, then expression, then text comparison.
#include "evals/math_grader.h"

#include <cctype>  // std::tolower

#include "evals/latex_expr.h"   // r1::parse_latex_expr
#include "evals/math_number.h"  // r1::numbers_equal

namespace r1 {
namespace {

// Text form for the last-resort comparison: \text{...} unwrapped, math delimiters, spaces and
// braces dropped, lower case.
std::string normal_text(std::string s) {
  for (const char* cmd : {"\\text", "\\textbf", "\\mathrm", "\\mbox"}) {
    const std::string c(cmd);
    for (size_t p; (p = s.find(c + "{")) != std::string::npos;) s.erase(p, c.size());
  }
  std::string out;
  for (char ch : s) {
    if (ch == ' ' || ch == '$' || ch == '{' || ch == '}' || ch == '\t' || ch == '\n') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  }
  while (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

}  // namespace

Grade grade_answer(const std::string& gold, const std::string& pred) {
  Grade g;
  if (auto eq = numbers_equal(gold, pred)) {
    g.correct = *eq;
    g.reason = *eq ? "equal_number" : "different";
    return g;
  }
  auto a = parse_latex_expr(gold), b = parse_latex_expr(pred);
  if (a && b) {
    g.correct = expr_equivalent(*a, *b);
    g.reason = g.correct ? "equal_expr" : "different";
    return g;
  }
  const std::string x = normal_text(gold), y = normal_text(pred);
  g.correct = !x.empty() && x == y;
  g.reason = g.correct ? "equal_text" : (a || b) ? "different" : "unparsed";
  return g;
}

Grade grade_response(const std::string& gold, const std::string& response,
                     const ExtractConfig& config, const std::string& finish_reason) {
  const Extraction e = extract_answer(response, config, finish_reason);
  if (e.status != ExtractStatus::kOk) {
    Grade g;
    g.reason = extract_status_name(e.status);
    return g;
  }
  Grade g = grade_answer(gold, *e.answer);
  g.extracted = e.answer;
  return g;
}

}  // namespace r1
