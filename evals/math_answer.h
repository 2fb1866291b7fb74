// Answers as structures, and their comparison: the grader's core (math_grader.h wraps it).
//
// An answer string is normalised (math delimiters, spacing commands, \left/\right, \dfrac, {,}
// thousands groups, "and"/"or" between answers, degree signs, doubled backslashes) and read into a
// tree: lists ("1, 2" and "1; 2"), sets (\{...\}, and a \pm answer as the set of both signs),
// tuples, intervals (openness kept; "(a, b)" may be either a tuple or an open interval), unions
// (\cup), relations (=, <, \le, >, \ge, \ne, \in, \approx; chains), text (\text{...}), choice
// letters ("(C)"), and scalars: numbers (exact, GMP, no lock) and expressions (GiNaC, under
// ginac_mutex()). Units and percent marks after a number are looked through.
//
// Comparison rules: sets and lists unordered; tuples and intervals ordered, with endpoints'
// openness; a list against a tuple ordered; "x = 5" against 5 when the left side is a label (a
// variable, f(x), |AB|, A:B, a tuple of variables); a predicted "... = v" against v; equations
// equal when one is a nonzero multiple of the other; inequalities when the same after moving
// everything to one side (positive multiples), or as the same interval ("-2 \le x \le 7" and
// "x \in [-2, 7]"); a decimal answer against an exact gold when both round to the same
// `float_places` decimals (as math-verify); a percent answer against p or p/100.
//
// Every comparison has a work budget (kMaxSteps leaf comparisons; numbers GiNaC may build are
// bounded, see latex_expr.h): past it the verdict is "not equal" with reason "budget". No
// signals, no globals but the GiNaC lock: safe in any thread, deterministic.
#pragma once

#include <string>  // std::string

namespace r1 {

struct CompareOptions {
  int float_places = 6;  // decimals a written decimal must match an exact value to
};

struct Verdict {
  bool equal = false;
  std::string reason;  // equal_number, equal_expr, equal_text, equal_set, equal_tuple,
                       // equal_interval, equal_relation, equal_list, different, unparsed, budget
};

Verdict compare_answers(const std::string& gold, const std::string& pred,
                        const CompareOptions& options = {});

// The normalised form of an answer string (exposed for tests and the extraction layer).
std::string normalize_answer(const std::string& text);

}  // namespace r1
