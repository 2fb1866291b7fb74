// Answer extraction: the region after </think>, truncated and unclosed reasoning, the last
// \boxed{} with nested braces, presets and their fallbacks, and pathological inputs.
#include <gtest/gtest.h>

#include "evals/extract.h"
#include "toolkit/error.h"

namespace r1 {
namespace {

TEST(Extract, RegionAfterThink) {
  EXPECT_EQ(answer_region("<think>a \\boxed{1}</think> so \\boxed{2}", false), " so \\boxed{2}");
  EXPECT_EQ(answer_region("<think>\\boxed{1}", false), std::nullopt);  // never closed
  EXPECT_EQ(answer_region("plain \\boxed{3}", false), "plain \\boxed{3}");
  EXPECT_EQ(answer_region("plain \\boxed{3}", true), std::nullopt);
  // Only the text after the LAST </think> counts.
  EXPECT_EQ(answer_region("</think>x</think>y", false), "y");
}

TEST(Extract, LastBoxedWithNestedBraces) {
  EXPECT_EQ(last_boxed("\\boxed{1} was a mistake. Trying again gives \\boxed{\\frac{1}{2}}"),
            "\\frac{1}{2}");
  // Boxes close together (or joined by "and", "or", ",") are one answer; repeats count once.
  EXPECT_EQ(last_boxed("\\fbox{a} \\boxed{b} \\fbox{ {c} }"), "a, b, {c}");
  EXPECT_EQ(last_boxed("\\boxed{1} papers and \\boxed{2} bins"), "1, 2");
  EXPECT_EQ(last_boxed("\\boxed{1} no no no no no \\boxed{2}"), "2");
  EXPECT_EQ(last_boxed("\\boxed{6}. Hence \\boxed{6}"), "6");
  EXPECT_EQ(last_boxed("$\\boxed 5$"), "5");
  EXPECT_EQ(last_boxed("\\boxed{\\{1,2\\}}"), "\\{1,2\\}");  // escaped braces do not count
  EXPECT_EQ(last_boxed("\\boxed{7} and an unbalanced \\boxed{8"), "7");
  EXPECT_EQ(last_boxed("no box"), std::nullopt);
  EXPECT_EQ(last_boxed("\\boxed{x^{2}+\\sqrt{y_{1}}}"), "x^{2}+\\sqrt{y_{1}}");
}

TEST(Extract, TruncationAndUnclosedThinkHaveNoAnswer) {
  const auto c = extract_preset("boxed");
  EXPECT_EQ(extract_answer("<think>...</think>\\boxed{4}", c, "length").status,
            ExtractStatus::kTruncated);
  EXPECT_EQ(extract_answer("<think>... \\boxed{4}", c).status, ExtractStatus::kUnclosedThink);
  auto ok = extract_answer("<think>hmm \\boxed{3}</think>The answer is $\\boxed{4}$.", c);
  EXPECT_EQ(ok.status, ExtractStatus::kOk);
  EXPECT_EQ(ok.answer, "4");
  EXPECT_EQ(ok.filter, "boxed");
  EXPECT_EQ(extract_answer("</think>The answer is 4.", c).status, ExtractStatus::kNoAnswer);
}

TEST(Extract, PresetsDecideTheFallbacks) {
  const std::string r = "</think>After all that, the final answer is $\\frac{3}{4}$.\nThanks";
  EXPECT_EQ(extract_answer(r, extract_preset("boxed")).status, ExtractStatus::kNoAnswer);
  auto p = extract_answer(r, extract_preset("boxed-or-phrase"));
  EXPECT_EQ(p.answer, "\\frac{3}{4}");
  EXPECT_EQ(p.filter, "final_answer");
  EXPECT_EQ(extract_answer("</think>Answer: 12", extract_preset("boxed-or-phrase")).answer, "12");
  // The last number only when a preset asks for it.
  EXPECT_EQ(
      extract_answer("</think>so we get 1,234 apples", extract_preset("boxed-or-phrase")).status,
      ExtractStatus::kNoAnswer);
  EXPECT_EQ(extract_answer("</think>so we get 1,234 apples", extract_preset("lenient")).answer,
            "1,234");
  EXPECT_THROW(extract_preset("magic"), Error);
  EXPECT_THROW(answer_filter_by_name("magic"), Error);
}

TEST(Extract, PathologicalInputsStayLinear) {
  std::string nested = "\\boxed{";
  for (int i = 0; i < 10000; ++i) nested += "{";
  for (int i = 0; i < 10000; ++i) nested += "}";
  nested += "}";
  EXPECT_EQ(last_boxed(nested)->size(), 20000u);
  std::string big = "</think>\\boxed{" + std::string(1 << 20, '9') + "}";
  EXPECT_EQ(extract_answer(big, extract_preset("boxed")).answer->size(), size_t{1} << 20);
  std::string many;
  for (int i = 0; i < 20000; ++i) many += "\\boxed{";  // none closes
  EXPECT_EQ(last_boxed(many), std::nullopt);
}

// Issue 17, D6: a repetition loop writes the same box again and again. 100k of them took 15.5 s
// when each step back searched the text again; 500k would take minutes (past this test's ctest
// TIMEOUT), linear extraction takes milliseconds. No time is asserted here.
TEST(Extract, RepeatedIdenticalBoxesStayLinear) {
  std::string loop;
  for (int i = 0; i < 500000; ++i) loop += "\\boxed{7} ";
  EXPECT_EQ(last_boxed(loop), "7");
  std::string mixed;  // \fbox and \boxed alternating: both lists walked back together
  for (int i = 0; i < 200000; ++i) mixed += i % 2 ? "\\fbox{7}" : "\\boxed{7}";
  EXPECT_EQ(extract_answer("</think>" + mixed, extract_preset("boxed")).answer, "7");
  // The walk still joins distinct nearby answers of both commands, and skips one without content.
  EXPECT_EQ(last_boxed("\\boxed{1}, \\fbox{2} and \\boxed{3}"), "1, 2, 3");
  EXPECT_EQ(last_boxed("\\boxed{4} \\fbox"), "4");
}

}  // namespace
}  // namespace r1
