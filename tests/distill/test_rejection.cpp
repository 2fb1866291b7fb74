// Rejection sampling on hand-made traces: every drop reason and their order, the R1 layout of SFT
// responses (inline and API-style separate reasoning), dedup across whitespace, the per-prompt cap,
// determinism under input order, the card's counts, the written files (sft.jsonl loads with the
// SFT loader), malformed store rows and bad configs. Leaves out real teacher output.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>  // nlohmann::json

#include <algorithm>  // std::reverse, std::count
#include <map>        // std::map
#include <string>     // std::string
#include <vector>     // std::vector

#include "distill/rejection.h"  // r1::reject_traces, ...
#include "rl/rewards.h"         // r1::language_share
#include "rl/sft_data.h"        // r1::load_sft_file, r1::SftEncoder
#include "tests/test_util.h"    // r1::test::TempDir, r1::test::read_jsonl
#include "toolkit/error.h"      // r1::Error
#include "toolkit/fs.h"         // r1::write_file_atomic, r1::read_file
#include "toolkit/json.h"       // r1::read_json_file

namespace r1 {
namespace {

const std::string kPrompt =
    "Let $f(x) = x^2 - 5x + 6$. Find the sum of the roots of $f$ and check it with a short "
    "program.";

// A readable English chain of thought with LaTeX, inline math and a fenced code block: it must
// pass every filter.
const std::string kGoodReasoning = R"(Okay, so I need the sum of the roots of $f(x) = x^2 - 5x + 6$.

By Vieta's formulas, for $ax^2 + bx + c$ the sum of the roots is $-\frac{b}{a}$. Here $a = 1$,
$b = -5$, so the sum is $\frac{5}{1} = 5$.

Let me double-check by factoring: $x^2 - 5x + 6 = (x - 2)(x - 3)$, so the roots are $x = 2$ and
$x = 3$, and indeed $2 + 3 = 5$. In display form:
\[
  \sum_{i=1}^{2} r_i = r_1 + r_2 = \frac{-b}{a} = 5, \qquad \text{where } \Delta = b^2 - 4ac = 1.
\]

A quick program confirms it:

```python
import numpy as np
roots = np.roots([1, -5, 6])
print(sum(roots))  # 5.0
```

The discriminant is $\Delta = 25 - 24 = 1 > 0$, so both roots are real and distinct. Everything is
consistent.)";

const std::string kGoodAnswer = "The sum of the roots is $\\boxed{5}$.";
const std::string kGood = kGoodReasoning + "\n</think>\n\n" + kGoodAnswer;

// A graded, correct trace with the R1 template (the response starts inside <think>).
SampleRecord trace(const std::string& problem, int64_t index, const std::string& response,
                   int64_t tokens = 300) {
  SampleRecord s;
  s.benchmark = "math500";
  s.problem_id = problem;
  s.sample_index = index;
  s.seed = 1000 + static_cast<uint64_t>(index);
  s.prompt_hash = "abc";
  s.response = response;
  s.finish_reason = "stop";
  s.prompt_tokens = 40;
  s.completion_tokens = tokens;
  s.extracted = "5";
  s.correct = true;
  s.reason = "equal_number";
  return s;
}

// A distinct good trace: the same reasoning with a marker sentence.
std::string good_variant(int k) {
  return "Variant " + std::to_string(k) + " of the work. " + kGood;
}

std::map<std::string, std::string> prompts() { return {{"p1", kPrompt}, {"p2", kPrompt}}; }

// The reason of the only trace.
std::string reason_of(const SampleRecord& s, const RejectionConfig& c = {}) {
  const auto r = reject_traces({s}, prompts(), c);
  EXPECT_EQ(r.verdicts.size(), 1u);
  return r.verdicts.at(0).reason;
}

// Repeats `unit` n times, space-separated.
std::string repeat(const std::string& unit, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += (i ? " " : "") + unit;
  return out;
}

// --- A trace that passes, and the SFT layout ---------------------------------------------------

TEST(Rejection, GoodTracePassesEveryFilter) {
  const auto r = reject_traces({trace("p1", 0, kGood)}, prompts());
  ASSERT_EQ(r.kept.size(), 1u);
  EXPECT_EQ(r.verdicts[0].reason, "");
  EXPECT_EQ(r.kept[0].prompt, kPrompt);
  EXPECT_EQ(r.kept[0].response, kGood);  // as stored: the text after the prompt's "<think>\n"
  EXPECT_EQ(r.kept[0].tokens, 300);
  EXPECT_EQ(find_repetition(kGood, {}), "");
  EXPECT_GE(language_share(kGoodReasoning, "latin"), 0.95);
}

TEST(Rejection, ModelWrittenThinkIsNotRepeated) {
  const auto r = reject_traces({trace("p1", 0, "  <think>\n" + kGood)}, prompts());
  ASSERT_EQ(r.kept.size(), 1u);
  EXPECT_EQ(r.kept[0].response, kGood);
}

TEST(Rejection, SeparateReasoningIsComposedInTheR1Layout) {
  SampleRecord s = trace("p1", 0, "\n\n" + kGoodAnswer + "\n");
  s.reasoning = "\n" + kGoodReasoning + "\n\n";
  EXPECT_EQ(sft_response(s), kGoodReasoning + "\n</think>\n\n" + kGoodAnswer);
  const auto r = reject_traces({s}, prompts());
  ASSERT_EQ(r.kept.size(), 1u) << r.verdicts[0].reason << ": " << r.verdicts[0].detail;
  EXPECT_EQ(r.kept[0].response, kGood);
  // A blank reasoning field counts as none: the response must close the reasoning itself.
  SampleRecord blank = trace("p1", 0, kGoodAnswer);
  blank.reasoning = " \n";
  EXPECT_EQ(reason_of(blank), "no_think_close");
}

// --no-think: plain chat replies (no think block) pass the think rules, keep their text as stored
// (a reasoning returned apart is not added), and become SFT rows without "<think>\n".
TEST(Rejection, NoThinkKeepsPlainRepliesAsWritten) {
  RejectionConfig c;
  c.no_think = true;
  const std::string plain = "Adding 2 and 3 gives 5, so the sum is " + kGoodAnswer;
  EXPECT_EQ(reason_of(trace("p1", 0, plain)), "no_think_close");  // the default: R1's format
  SampleRecord apart = trace("p2", 0, "\n" + plain);
  apart.reasoning = kGoodReasoning;
  const auto r = reject_traces({trace("p1", 0, plain), apart}, prompts(), c);
  ASSERT_EQ(r.kept.size(), 2u) << r.verdicts[0].reason << ": " << r.verdicts[0].detail;
  EXPECT_EQ(r.kept[0].response, plain);
  EXPECT_EQ(r.kept[1].response, "\n" + plain);
  EXPECT_EQ(r.card["config"]["no_think"], true);
  // The other rules still hold: a wrong answer and a loop are dropped.
  SampleRecord wrong = trace("p1", 0, plain);
  wrong.correct = false;
  EXPECT_EQ(reason_of(wrong, c), "incorrect");
  EXPECT_EQ(reason_of(trace("p1", 0, repeat("so the sum is five", 40)), c), "repetition");
  test::TempDir dir;
  write_rejection(r, dir / "out");
  const auto rows = test::read_jsonl(dir / "out/sft.jsonl");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["response"], plain);
}

// --- Each reason ---------------------------------------------------------------------------------

TEST(Rejection, Ungraded) {
  SampleRecord pending = trace("p1", 0, kGood);
  pending.correct = false;
  pending.reason = "pending";
  EXPECT_EQ(reason_of(pending), "ungraded");
  SampleRecord se = pending;
  se.reason = "SE: sandbox setup failed";
  EXPECT_EQ(reason_of(se), "ungraded");
  RejectionConfig any;
  any.require_correct = false;
  EXPECT_EQ(reason_of(pending, any), "");
}

TEST(Rejection, Incorrect) {
  SampleRecord s = trace("p1", 0, kGood);
  s.correct = false;
  s.reason = "different";
  const auto r = reject_traces({s}, prompts());
  EXPECT_EQ(r.verdicts[0].reason, "incorrect");
  EXPECT_NE(r.verdicts[0].detail.find("different"), std::string::npos);
  EXPECT_EQ(r.card["incorrect_by"]["different"], 1);
  RejectionConfig any;
  any.require_correct = false;
  EXPECT_EQ(reason_of(s, any), "");
}

TEST(Rejection, NoThinkClose) {
  EXPECT_EQ(reason_of(trace("p1", 0, kGoodReasoning + "\n\n" + kGoodAnswer)), "no_think_close");
}

TEST(Rejection, BadFormat) {
  EXPECT_EQ(reason_of(trace("p1", 0, kGoodReasoning + "\n</think>\n\n")),
            "bad_format");  // no answer
  EXPECT_EQ(reason_of(trace("p1", 0, "\n</think>\n\n" + kGoodAnswer)),
            "bad_format");                                                           // no reasoning
  EXPECT_EQ(reason_of(trace("p1", 0, kGood + "\n</think>\nagain")), "bad_format");   // closed twice
  EXPECT_EQ(reason_of(trace("p1", 0, "<think>\n<think>\n" + kGood)), "bad_format");  // reopened
}

TEST(Rejection, Truncated) {
  SampleRecord s = trace("p1", 0, kGood);
  s.finish_reason = "length";
  EXPECT_EQ(reason_of(s), "truncated");
}

TEST(Rejection, TooLongInTokensOrCharacters) {
  EXPECT_EQ(reason_of(trace("p1", 0, kGood, 16385)), "too_long");
  EXPECT_EQ(reason_of(trace("p1", 0, kGood, 16384)), "");
  RejectionConfig c;
  c.max_chars = 100;
  const auto r = reject_traces({trace("p1", 0, kGood, -1)}, prompts(), c);
  EXPECT_EQ(r.verdicts[0].reason, "too_long");
  EXPECT_NE(r.verdicts[0].detail.find("characters"), std::string::npos);
  c.max_chars = 0;  // off
  c.max_tokens = 0;
  EXPECT_EQ(reason_of(trace("p1", 0, kGood, 1 << 30), c), "");
}

TEST(Rejection, RepetitionLoopAtTheEnd) {
  const std::string loop = kGoodReasoning + "\n" + repeat("Wait, let me recompute the sum.", 12) +
                           "\n</think>\n\n" + kGoodAnswer;
  const auto r = reject_traces({trace("p1", 0, loop)}, prompts());
  EXPECT_EQ(r.verdicts[0].reason, "repetition");
  EXPECT_NE(r.verdicts[0].detail.find("6-word unit repeated 12 times"), std::string::npos)
      << r.verdicts[0].detail;
  // One word over and over, and the same line many times.
  EXPECT_NE(find_repetition(repeat("the", 40), {}), "");
  EXPECT_NE(find_repetition(repeat("x = 5\n", 12), {}), "");
  // Seven repeats is below min_repeats; a short run of one word is below min_words.
  EXPECT_EQ(find_repetition(kGoodReasoning + repeat("Wait, let me recompute the sum.", 7), {}), "");
  EXPECT_EQ(find_repetition("so so so so so so so so so so the answer", {}), "");
}

TEST(Rejection, RepetitionLowDiversity) {
  // A 90-word paragraph (longer than max_period) said five times: the loop rule cannot see it,
  // the diversity rule does.
  std::string paragraph;
  for (int i = 0; i < 90; ++i) paragraph += "w" + std::to_string(i) + " ";
  const std::string text = repeat(paragraph, 5);
  const std::string why = find_repetition(text, {});
  EXPECT_NE(why.find("10-word n-grams are distinct"), std::string::npos) << why;
  RejectionConfig off;
  off.repetition_ngram = 0;
  EXPECT_EQ(find_repetition(text, off), "");
  // Distinct words throughout: no repetition, even far over min_ngrams.
  EXPECT_EQ(find_repetition(paragraph + kGoodReasoning, {}), "");
}

TEST(Rejection, NaturalLongReasoningIsNotRepetition) {
  // Four different paragraphs that reuse phrases ("Let me check", equations restated): a normal
  // long chain of thought, over min_ngrams, passes both rules.
  std::string text;
  for (int k = 1; k <= 6; ++k) {
    const std::string n = std::to_string(k);
    text += "Let me check the case n = " + n + ". Then f(" + n + ") = " + n + "^2 - 5*" + n +
            " + 6, which I compute step by step. Let me check this again carefully: the square "
            "is " +
            std::to_string(k * k) + ", five times n is " + std::to_string(5 * k) +
            ", so the value is " + std::to_string(k * k - 5 * k + 6) +
            ". Wait, is that consistent with the factorisation (n - 2)(n - 3)? For n = " + n +
            " that gives " + std::to_string((k - 2) * (k - 3)) + ", yes it is.\n\n";
  }
  text += kGood;
  EXPECT_EQ(find_repetition(text, {}), "");
  EXPECT_EQ(reason_of(trace("p1", 0, text)), "");
}

TEST(Rejection, MixedLanguage) {
  // English with LaTeX and code is English.
  EXPECT_EQ(reason_of(trace("p1", 0, kGood)), "");
  // A chain of thought that drifts into Chinese halfway.
  const std::string mixed =
      kGoodReasoning +
      "\n所以我们需要再检查一下这个结果是否正确，根与系数的关系给出两根之和为五。\n"
      "</think>\n\n" +
      kGoodAnswer;
  const auto r = reject_traces({trace("p1", 0, mixed)}, prompts());
  EXPECT_EQ(r.verdicts[0].reason, "mixed_language");
  EXPECT_NE(r.verdicts[0].detail.find("in latin"), std::string::npos) << r.verdicts[0].detail;
  // The measure is on the reasoning only: Chinese after </think> is not counted.
  EXPECT_EQ(reason_of(trace("p1", 0, kGood + " 答案是五。")), "");
  // A Chinese prompt wants a Chinese chain of thought.
  const std::map<std::string, std::string> zh = {{"z", "求方程 $x^2 - 5x + 6 = 0$ 的两根之和。"}};
  const std::string zh_cot =
      "根据韦达定理，两根之和为 $-\\frac{b}{a} = 5$。验证：$(x-2)(x-3)$，根为 2 和 "
      "3，和为 5。\n</think>\n\n答案是 $\\boxed{5}$。";
  EXPECT_EQ(reject_traces({trace("z", 0, zh_cot)}, zh).verdicts[0].reason, "");
  EXPECT_EQ(reject_traces({trace("z", 0, kGood)}, zh).verdicts[0].reason, "mixed_language");
  // An explicit target overrides the prompt's; 0 turns the rule off.
  RejectionConfig c;
  c.language = "zh";
  EXPECT_EQ(reason_of(trace("p1", 0, kGood), c), "mixed_language");
  c.language_min_share = 0;
  EXPECT_EQ(reason_of(trace("p1", 0, mixed), c), "");
  // A reasoning without words (only math) has nothing to mix.
  EXPECT_EQ(reason_of(trace("p1", 0, "$2 + 3 = 5$\n</think>\n\n$\\boxed{5}$")), "");
}

TEST(Rejection, DuplicatesUpToWhitespace) {
  std::string spaced = kGood;
  for (size_t p = spaced.find(' '); p != std::string::npos; p = spaced.find(' ', p + 3))
    spaced.replace(p, 1, "  \n");
  const auto r = reject_traces({trace("p1", 0, kGood), trace("p1", 1, "\n" + spaced + "  \t"),
                                trace("p2", 0, kGood)},  // another prompt: not a duplicate
                               prompts());
  ASSERT_EQ(r.verdicts.size(), 3u);
  EXPECT_EQ(r.verdicts[0].reason, "");
  EXPECT_EQ(r.verdicts[1].reason, "duplicate");
  EXPECT_EQ(r.verdicts[2].reason, "");
  EXPECT_EQ(normalize_trace(" a \n\t b  c\n"), "a b c");
  // Only kept traces count: a copy of a dropped trace is kept.
  SampleRecord cut = trace("p1", 0, kGood);
  cut.finish_reason = "length";
  const auto r2 = reject_traces({cut, trace("p1", 1, kGood)}, prompts());
  EXPECT_EQ(r2.verdicts[0].reason, "truncated");
  EXPECT_EQ(r2.verdicts[1].reason, "");
}

TEST(Rejection, CapKeepsTheLowestSampleIndices) {
  std::vector<SampleRecord> traces;
  for (int k = 5; k >= 0; --k) traces.push_back(trace("p1", k, good_variant(k)));
  SampleRecord wrong = trace("p1", 6, good_variant(6));
  wrong.correct = false;
  traces.push_back(wrong);
  const auto r = reject_traces(traces, prompts());
  ASSERT_EQ(r.kept.size(), 4u);
  for (int k = 0; k < 4; ++k) EXPECT_EQ(r.kept[k].sample_index, k);
  EXPECT_EQ(r.verdicts[4].reason, "over_cap");
  EXPECT_EQ(r.verdicts[5].reason, "over_cap");
  EXPECT_EQ(r.verdicts[6].reason, "incorrect");  // earlier reasons win over the cap
  RejectionConfig c;
  c.max_per_prompt = 0;
  EXPECT_EQ(reject_traces(traces, prompts(), c).kept.size(), 6u);
  c.max_per_prompt = 1;
  EXPECT_EQ(reject_traces(traces, prompts(), c).kept.size(), 1u);
}

// --- Order --------------------------------------------------------------------------------------

TEST(Rejection, FirstFailingReasonWinsInOrder) {
  // A trace failing everything; each step repairs the reason just reported and the next one shows.
  const std::string chinese = "让我们再想一想这个问题，然后重新计算两根之和。";
  SampleRecord s = trace("p1", 3, kGoodReasoning + "\n" + chinese + "\n" + repeat("x = 5.", 40));
  s.correct = false;
  s.reason = "pending";
  s.finish_reason = "length";
  s.completion_tokens = 20000;
  RejectionConfig c;
  c.max_per_prompt = 1;
  const std::vector<SampleRecord> kept_before = {trace("p1", 0, kGood)};
  auto next = [&] {
    std::vector<SampleRecord> all = kept_before;
    all.push_back(s);
    const auto r = reject_traces(all, prompts(), c);
    EXPECT_EQ(r.verdicts[0].reason, "");
    return r.verdicts[1].reason;
  };
  EXPECT_EQ(next(), "ungraded");
  s.reason = "different";
  EXPECT_EQ(next(), "incorrect");
  s.correct = true;
  EXPECT_EQ(next(), "no_think_close");
  s.response += "\n</think>\n\n";
  EXPECT_EQ(next(), "bad_format");
  s.response += kGoodAnswer;
  EXPECT_EQ(next(), "truncated");
  s.finish_reason = "stop";
  EXPECT_EQ(next(), "too_long");
  s.completion_tokens = 500;
  EXPECT_EQ(next(), "repetition");
  s.response = kGoodReasoning + "\n" + chinese + "\n</think>\n\n" + kGoodAnswer;
  EXPECT_EQ(next(), "mixed_language");
  s.response = " " + kGood;
  EXPECT_EQ(next(), "duplicate");
  s.response = good_variant(1);
  EXPECT_EQ(next(), "over_cap");
  c.max_per_prompt = 2;
  EXPECT_EQ(next(), "");
  EXPECT_EQ(rejection_reasons(),
            (std::vector<std::string>{"ungraded", "incorrect", "no_think_close", "bad_format",
                                      "truncated", "too_long", "repetition", "mixed_language",
                                      "duplicate", "over_cap"}));
}

// --- The whole run: determinism, the card, the files ---------------------------------------------

std::vector<SampleRecord> mixed_batch() {
  std::vector<SampleRecord> t;
  for (int k = 0; k < 6; ++k) t.push_back(trace("p1", k, good_variant(k), 256 * (k + 1)));
  t.push_back(trace("p1", 6, good_variant(0)));  // duplicate of 0
  SampleRecord wrong = trace("p2", 0, kGood);
  wrong.correct = false;
  wrong.reason = "WA: test 3/12: token 1";
  t.push_back(wrong);
  t.push_back(trace("p2", 1, kGoodReasoning));  // never closed
  t.push_back(trace("p2", 2, good_variant(9), 40000));
  t.push_back(trace("p2", 3, good_variant(10), 100));
  return t;
}

TEST(Rejection, CardCountsAddUp) {
  std::map<std::string, std::string> ps = prompts();
  ps["p3"] = "An unsampled problem.";
  const auto r = reject_traces(mixed_batch(), ps);
  const auto& card = r.card;
  EXPECT_EQ(card["traces"], 11);
  EXPECT_EQ(card["kept"], 5);
  int64_t sum = card["kept"].get<int64_t>();
  for (const auto& reason : rejection_reasons()) sum += card["dropped"][reason].get<int64_t>();
  EXPECT_EQ(sum, 11);
  EXPECT_EQ(card["dropped"]["over_cap"], 2);
  EXPECT_EQ(card["dropped"]["duplicate"], 1);
  EXPECT_EQ(card["dropped"]["incorrect"], 1);
  EXPECT_EQ(card["dropped"]["no_think_close"], 1);
  EXPECT_EQ(card["dropped"]["too_long"], 1);
  EXPECT_EQ(card["incorrect_by"]["WA"], 1);
  EXPECT_EQ(card["prompts"]["given"], 3);
  EXPECT_EQ(card["prompts"]["with_traces"], 2);
  EXPECT_EQ(card["prompts"]["with_kept"], 2);
  EXPECT_EQ(card["prompts"]["kept_per_prompt"], nlohmann::json({0, 1, 0, 0, 1}));
  // Lengths in tokens: 256, 512, 768, 1024 (p1) and 100 (p2).
  const auto& len = card["length"];
  EXPECT_EQ(len["unit"], "tokens");
  EXPECT_EQ(len["min"], 100);
  EXPECT_EQ(len["max"], 1024);
  EXPECT_EQ(len["median"], 512);
  int64_t in_buckets = 0;
  for (const auto& b : len["buckets"]) in_buckets += b["count"].get<int64_t>();
  EXPECT_EQ(in_buckets, 5);
  EXPECT_EQ(len["buckets"][0], nlohmann::json({{"from", 0}, {"to", 256}, {"count", 1}}));
  EXPECT_EQ(len["buckets"][1]["count"], 1);  // 256
  EXPECT_EQ(len["buckets"][2]["count"], 2);  // 512, 768
  EXPECT_EQ(len["buckets"][3]["count"], 1);  // 1024
  EXPECT_TRUE(len["buckets"].back()["to"].is_null());
  EXPECT_EQ(card["config"], rejection_config_json({}));
  EXPECT_EQ(card["benchmarks"], nlohmann::json({"math500"}));
}

TEST(Rejection, CharacterHistogramWithoutTokenCounts) {
  const auto r = reject_traces({trace("p1", 0, kGood, -1)}, prompts());
  EXPECT_EQ(r.card["length"]["unit"], "chars");
  EXPECT_EQ(r.card["length"]["max"], r.kept[0].chars);
  EXPECT_EQ(r.card["length"]["buckets"][1]["from"], 1024);  // token edges x 4
  const auto none = reject_traces({}, prompts());
  EXPECT_EQ(none.card["traces"], 0);
  EXPECT_TRUE(none.card["length"]["max"].is_null());
  EXPECT_FALSE(rejection_card_markdown(none.card).empty());
}

TEST(Rejection, DeterministicWhateverTheInputOrder) {
  auto batch = mixed_batch();
  const auto a = reject_traces(batch, prompts());
  std::reverse(batch.begin(), batch.end());
  const auto b = reject_traces(batch, prompts());
  ASSERT_EQ(a.verdicts.size(), b.verdicts.size());
  for (size_t k = 0; k < a.verdicts.size(); ++k) {
    EXPECT_EQ(a.verdicts[k].problem_id, b.verdicts[k].problem_id);
    EXPECT_EQ(a.verdicts[k].sample_index, b.verdicts[k].sample_index);
    EXPECT_EQ(a.verdicts[k].reason, b.verdicts[k].reason);
    EXPECT_EQ(a.verdicts[k].detail, b.verdicts[k].detail);
  }
  EXPECT_EQ(a.card, b.card);
  test::TempDir d1, d2;
  write_rejection(a, d1.path());
  write_rejection(b, d2.path());
  for (const char* f : {"sft.jsonl", "dropped.jsonl", "card.json", "card.md"})
    EXPECT_EQ(read_file(d1 / f), read_file(d2 / f)) << f;
}

TEST(Rejection, WritesSftRowsTheLoaderReads) {
  const auto r = reject_traces(mixed_batch(), prompts());
  test::TempDir dir;
  write_rejection(r, dir / "out");
  const auto rows = test::read_jsonl(dir / "out/sft.jsonl");
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0]["prompt"], kPrompt);
  // Opened with "<think>\n" as the teacher wrote it: a template that forces it drops it again.
  EXPECT_EQ(rows[0]["response"], "<think>\n" + good_variant(0));
  EXPECT_EQ(rows[0]["problem_id"], "p1");
  EXPECT_EQ(rows[0]["sample_index"], 0);
  EXPECT_EQ(rows[4]["sample_index"], 3);
  const auto dropped = test::read_jsonl(dir / "out/dropped.jsonl");
  ASSERT_EQ(dropped.size(), 6u);
  EXPECT_EQ(dropped[0]["reason"], "over_cap");
  EXPECT_EQ(dropped[0]["sample_index"], 4);
  const auto card = read_json_file(dir / "out/card.json");
  EXPECT_EQ(card["kept"], 5);
  EXPECT_EQ(card["files"]["sft"], "sft.jsonl");
  const std::string md = read_file(dir / "out/card.md");
  for (const char* s :
       {"Kept **5** of 11", "| over_cap | 2 (18%) |", "## Config", "| 0 - 255 | 1 |"})
    EXPECT_NE(md.find(s), std::string::npos) << s << "\n" << md;

  // The SFT loader reads it with the R1 template: the prompt ends in the forced "<think>\n" and
  // the response does not open it again.
  const std::string model = "tests/data/models/tiny-r1";
  Tokenizer tok = Tokenizer::load(model);
  SftEncoder enc{&tok, load_chat_template(model), {}};
  enc.config.max_length = 100000;
  const auto examples = load_sft_file(dir / "out/sft.jsonl", enc);
  ASSERT_EQ(examples.size(), 5u);
  const std::string prompt_text = tok.decode(std::vector<int64_t>(
      examples[0].ids.begin(), examples[0].ids.begin() + examples[0].prompt_tokens));
  EXPECT_EQ(prompt_text.substr(prompt_text.size() - 8), "<think>\n");
  const std::string reply = tok.decode(std::vector<int64_t>(
      examples[0].ids.begin() + examples[0].prompt_tokens, examples[0].ids.end()));
  EXPECT_EQ(reply.find("<think>"), std::string::npos);
  EXPECT_NE(reply.find("</think>"), std::string::npos);
}

// --- Errors -------------------------------------------------------------------------------------

TEST(Rejection, MalformedStoreRowsNameFileLineAndField) {
  test::TempDir dir;
  const std::string path = dir / "samples.jsonl";
  nlohmann::json good = sample_to_json(trace("p1", 0, kGood));
  nlohmann::json missing = good;
  missing.erase("correct");
  nlohmann::json typed = good;
  typed["sample_index"] = "one";
  write_file_atomic(path, good.dump() + "\n\n" + missing.dump() + "\n");
  EXPECT_NE(test::error_of([&] { read_traces(path); }).find(path + ":3: missing field correct"),
            std::string::npos)
      << test::error_of([&] { read_traces(path); });
  write_file_atomic(path, typed.dump() + "\n");
  EXPECT_NE(test::error_of([&] { read_traces(path); }).find(path + ":1: field sample_index"),
            std::string::npos);
  write_file_atomic(path, good.dump() + "\n{\"benchmark\": \n");
  EXPECT_NE(test::error_of([&] { read_traces(path); }).find(path + ":2: not valid JSON"),
            std::string::npos)
      << test::error_of([&] { read_traces(path); });
  write_file_atomic(path, good.dump() + "\n");
  const auto traces = read_traces(path);
  ASSERT_EQ(traces.size(), 1u);
  EXPECT_EQ(traces[0].response, kGood);
  EXPECT_NE(test::error_of([&] { read_traces(dir / "absent.jsonl"); }), "");
}

TEST(Rejection, InconsistentInputsAreErrors) {
  EXPECT_NE(test::error_of([&] {
              reject_traces({trace("p9", 0, kGood)}, prompts());
            }).find("no prompt for problem p9"),
            std::string::npos);
  SampleRecord other = trace("p1", 1, kGood);
  other.benchmark = "aime2024";
  EXPECT_NE(test::error_of([&] {
              reject_traces({trace("p1", 0, kGood), other}, prompts());
            }).find("appears under benchmarks"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] {
              reject_traces({trace("p1", 0, kGood), trace("p1", 0, kGood)}, prompts());
            }).find("sample 0 of problem p1 (math500) is given twice"),
            std::string::npos);
}

TEST(Rejection, ConfigChecksAndJson) {
  RejectionConfig c;
  c.language = "klingon";
  EXPECT_NE(test::error_of([&] { check_rejection_config(c); }).find("--language klingon"),
            std::string::npos);
  c = {};
  c.language_min_share = 1.5;
  EXPECT_NE(test::error_of([&] { reject_traces({}, prompts(), c); }).find("--language-min-share"),
            std::string::npos);
  c = {};
  c.repetition_min_repeats = 1;
  EXPECT_NE(test::error_of([&] { check_rejection_config(c); }).find("--repetition-min-repeats"),
            std::string::npos);
  c = {};
  c.max_per_prompt = -1;
  EXPECT_NE(test::error_of([&] { check_rejection_config(c); }).find("--max-per-prompt"),
            std::string::npos);

  c = {};
  c.max_per_prompt = 2;
  c.language = "zh";
  c.repetition_min_distinct = 0.25;
  c.require_correct = false;
  const RejectionConfig back = rejection_config_from_json(rejection_config_json(c), "cfg");
  EXPECT_EQ(rejection_config_json(back), rejection_config_json(c));
  EXPECT_EQ(rejection_config_json(rejection_config_from_json(nlohmann::json::object(), "cfg")),
            rejection_config_json({}));
  EXPECT_NE(test::error_of([] {
              rejection_config_from_json({{"max_tokns", 5}}, "cfg");
            }).find("cfg: field max_tokns is unknown"),
            std::string::npos);
  EXPECT_NE(test::error_of([] {
              rejection_config_from_json({{"max_tokens", "5"}}, "cfg");
            }).find("cfg: field max_tokens must be an integer"),
            std::string::npos);
  EXPECT_NE(test::error_of([] {
              rejection_config_from_json({{"language_min_share", 2}}, "cfg");
            }).find("--language-min-share"),
            std::string::npos);
}

}  // namespace
}  // namespace r1
