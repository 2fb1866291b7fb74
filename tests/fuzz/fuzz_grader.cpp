// libFuzzer target over the math grader: the input is "gold\npred" (split at the first '\n' or 0
// byte; without a separator gold = pred = the whole input). Grades it as a bare answer and as a
// full response (the "lenient" extraction preset), and checks the invariants that must hold for
// any input: no exception escapes (none is caught here, so one crashes the run), grading a string
// against itself completes, and grading is deterministic. Built and run by run_fuzz.sh.
#include <cstddef>  // std::size_t
#include <cstdint>  // std::uint8_t
#include <cstdio>   // std::fprintf
#include <cstdlib>  // std::abort
#include <string>   // std::string

#include "evals/extract.h"      // r1::extract_preset
#include "evals/math_grader.h"  // r1::grade_answer, r1::grade_response

namespace {

void check_same(const r1::Grade& a, const r1::Grade& b, const char* what) {
  if (a.correct != b.correct || a.reason != b.reason || a.extracted != b.extracted) {
    std::fprintf(stderr, "fuzz_grader: %s is not deterministic: (%d, %s) then (%d, %s)\n", what,
                 int(a.correct), a.reason.c_str(), int(b.correct), b.reason.c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::string gold = input, pred = input;
  const std::size_t sep = input.find_first_of(std::string("\n\0", 2));
  if (sep != std::string::npos) {
    gold = input.substr(0, sep);
    pred = input.substr(sep + 1);
  }

  const r1::Grade first = r1::grade_answer(gold, pred);
  check_same(first, r1::grade_answer(gold, pred), "grade_answer(gold, pred)");

  static const r1::ExtractConfig lenient = r1::extract_preset("lenient");
  const r1::Grade response = r1::grade_response(gold, pred, lenient);
  check_same(response, r1::grade_response(gold, pred, lenient), "grade_response(gold, pred)");

  // A string against itself must complete (its result is not checked: an unparsed string
  // may legitimately grade as incorrect).
  (void)r1::grade_answer(pred, pred);
  return 0;
}
