// Math grading (see math_grader.h): number, then expression, then text comparison.
#include "evals/math_grader.h"

#include <cctype>  // std::tolower, std::isalpha

#include "evals/latex_expr.h"   // r1::parse_latex_expr
#include "evals/math_number.h"  // r1::numbers_equal
#include "evals/text.h"         // r1::trim_space

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

// The answer without decorations a grader must look through: a leading "x =" (one variable), a
// degree sign, and a trailing \text{...} unit after a number ("5\text{ cm}").
std::string strip_decorations(std::string s) {
  s = trim_space(s);
  const size_t eq = s.find('=');
  if (eq != std::string::npos && s.find('=', eq + 1) == std::string::npos) {
    const std::string lhs = trim_space(s.substr(0, eq));
    if (lhs.size() == 1 && std::isalpha(static_cast<unsigned char>(lhs[0])))
      s = trim_space(s.substr(eq + 1));
  }
  for (const char* deg : {"^{\\circ}", "^\\circ", "\\circ", "°"})
    for (size_t p; (p = s.find(deg)) != std::string::npos;)
      s.erase(p, std::char_traits<char>::length(deg));
  const size_t text = s.rfind("\\text{");
  if (text != std::string::npos && text > 0 && s.back() == '}' &&
      s.find('}', text) == s.size() - 1 && parse_number(s.substr(0, text)))
    s = trim_space(s.substr(0, text));
  return s;
}

}  // namespace

Grade grade_answer(const std::string& gold_in, const std::string& pred_in) {
  const std::string gold = strip_decorations(gold_in), pred = strip_decorations(pred_in);
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
