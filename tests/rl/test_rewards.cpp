// The GRPO rewards: accuracy on MATH-500 answers (right, wrong, unparseable, truncated) and on
// code through the real sandbox (a stdin task and a HumanEval-style task, batched), format against
// gaming attempts, language on English/Chinese mixes, the length formulas, reward specs and their
// errors, and a reward that throws. Leaves out timing the sandbox.
#include <gtest/gtest.h>
#include <unistd.h>  // access

#include <cmath>      // std::isnan
#include <map>        // std::map
#include <memory>     // std::unique_ptr
#include <stdexcept>  // std::runtime_error

#include "rl/rewards.h"       // r1::RewardSet, r1::make_reward, ...
#include "tests/test_util.h"  // r1::test::TempDir, r1::test::bin
#include "toolkit/error.h"    // r1::Error

namespace {

using r1::RewardInput;

// An R1-template sample: the prompt opened <think>, the completion starts inside it.
RewardInput r1_sample(const std::string& completion, const std::string& gold = "") {
  RewardInput in;
  in.prompt = "What is 1 + 1?";
  in.completion = completion;
  in.gold = gold;
  in.completion_tokens = 100;
  return in;
}

double score(const std::string& name, const RewardInput& in) {
  return r1::make_reward(name)->compute(in);
}

// The r1::Error message of `f`, or "" when it does not throw one.
// --- accuracy (math) ---------------------------------------------------------------------------

TEST(RewardAccuracy, MathAnswersRightWrongAndUnparseable) {
  auto acc = r1::make_reward("accuracy");
  struct Case {
    std::string gold, completion;
    double want;
  };
  const std::vector<Case> cases = {
      {"\\left( 3, \\frac{\\pi}{2} \\right)", "r = 3.\n</think>\nSo \\boxed{(3, \\frac{\\pi}{2})}",
       1},
      {"\\left( 3, \\frac{\\pi}{2} \\right)", "r = 3.\n</think>\n\\boxed{(3, \\pi)}", 0},
      {"\\frac{14}{3}", "...\n</think>\nThe value is $\\boxed{\\dfrac{14}{3}}$.", 1},
      {"\\frac{14}{3}", "...\n</think>\n\\boxed{4.6667}", 0},
      {"p - q", "...\n</think>\n\\boxed{-q + p}", 1},
      {"\\text{Evelyn}", "...\n</think>\n\\boxed{\\text{Evelyn}}", 1},
      {"\\text{Evelyn}", "...\n</think>\n\\boxed{Angela}", 0},
      {"90^\\circ", "...\n</think>\n\\boxed{90}", 1},
      {"42", "...\n</think>\nThe answer is 42.", 0},    // R1 extraction: \boxed only
      {"42", "...\n</think>\n\\boxed{\\frac{(}{}", 0},  // unparseable
      {"42", "I think it is \\boxed{42}", 0},           // reasoning never closed: no answer
      {"42", "", 0},
  };
  for (const Case& c : cases)
    EXPECT_EQ(acc->compute(r1_sample(c.completion, c.gold)), c.want) << c.completion;

  // Without a forced <think>: tags in the completion, or none at all.
  RewardInput in = r1_sample("<think>\nadd\n</think>\n\\boxed{2}", "2");
  in.think_opened = false;
  EXPECT_EQ(acc->compute(in), 1);
  in.completion = "\\boxed{2}";
  EXPECT_EQ(acc->compute(in), 1);
  // Truncated at the length limit: no answer, even with a box.
  in = r1_sample("x\n</think>\n\\boxed{2}", "2");
  in.finish_reason = "length";
  EXPECT_EQ(acc->compute(in), 0);
  // Neither gold nor code: not scored.
  EXPECT_NE(
      r1::test::error_of([&] { acc->compute(r1_sample("</think>\\boxed{2}")); }).find("neither"),
      std::string::npos);
  // Batch scores equal one-by-one scores; the unscorable sample is NaN.
  std::vector<RewardInput> batch;
  batch.reserve(cases.size() + 1);
  for (const Case& c : cases) batch.push_back(r1_sample(c.completion, c.gold));
  batch.push_back(r1_sample("</think>\\boxed{2}"));
  const auto got = acc->compute_batch(batch);
  ASSERT_EQ(got.size(), batch.size());
  for (size_t i = 0; i < cases.size(); ++i) EXPECT_EQ(got[i], cases[i].want) << i;
  EXPECT_TRUE(std::isnan(got.back()));
}

TEST(RewardAccuracy, BadExtractionPresetIsAnError) {
  r1::RewardConfig c;
  c.accuracy.extract = "fuzzy";
  EXPECT_NE(r1::test::error_of([&] { r1::make_reward("accuracy", c); }).find("fuzzy"),
            std::string::npos);
}

// --- accuracy (code, through the sandbox) ------------------------------------------------------

class RewardCodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access("/usr/bin/bwrap", X_OK) != 0) GTEST_SKIP() << "bubblewrap is not installed";
  }
  static r1::RewardConfig config(const std::string& cache) {
    r1::RewardConfig c;
    c.accuracy.code.workers = 4;
    c.accuracy.code.sandbox.init = r1::test::bin("r1sandbox-init");
    c.accuracy.code.sandbox.cache_dir = cache;
    c.accuracy.code.sandbox.uid_base = 64300;  // apart from the other suites' uids
    c.accuracy.code.sandbox.slots = 8;
    return c;
  }
};

std::string answer_with(const std::string& code) {
  return "Read two numbers and add them.\n</think>\nHere it is:\n```python\n" + code + "```\n";
}

TEST_F(RewardCodeTest, StdinAndHumanEvalTasksBatched) {
  auto sum = std::make_shared<r1::CodeTask>();  // stdin: "a b" -> a + b
  sum->kind = r1::CodeTask::Kind::Stdin;
  sum->tests = {{"1 2\n", "3\n"}, {"-5 5\n", "0\n"}, {"100 23\n", "123\n"}};
  sum->time_limit_s = 2;
  auto add = std::make_shared<r1::CodeTask>();  // HumanEval-style: check(candidate) asserts
  add->kind = r1::CodeTask::Kind::HumanEval;
  add->prompt = "def add(a: int, b: int) -> int:\n    \"\"\"Return a + b.\"\"\"\n";
  add->entry_point = "add";
  add->check_code =
      "def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(-4, 4) == 0\n";
  add->time_limit_s = 2;

  auto code = [](std::shared_ptr<r1::CodeTask> task, const std::string& completion) {
    RewardInput in = r1_sample(completion);
    in.prompt = "Write a program that adds two numbers.";
    in.code = std::move(task);
    return in;
  };
  std::vector<RewardInput> batch = {
      code(sum, answer_with("a, b = map(int, input().split())\nprint(a + b)\n")),
      code(sum, answer_with("a, b = map(int, input().split())\nprint(a - b)\n")),  // WA
      code(sum, answer_with("print(int(input().split()[0]) +\n")),                 // CE
      code(sum, "no code at all\n</think>\nI give up."),
      code(sum, answer_with("import sys\nprint(sum(map(int, sys.stdin.read().split())))\n")),
      code(add, answer_with("def add(a, b):\n    return a + b\n")),
      code(add, answer_with("def add(a, b):\n    return a * b\n")),
      r1_sample("two\n</think>\n\\boxed{2}", "2"),  // math in the same batch
  };
  {
    // The code written inside the reasoning only (never closed): no answer.
    RewardInput unclosed = code(sum, "```python\nprint(3)\n```");
    batch.push_back(unclosed);
    // Without a forced <think> (the other sandbox call of the batch).
    RewardInput tagged =
        code(add, "<think>\nsimple\n" + answer_with("def add(a, b):\n    return b + a\n"));
    tagged.think_opened = false;
    batch.push_back(tagged);
  }
  const std::vector<double> want = {1, 0, 0, 0, 1, 1, 0, 1, 0, 1};

  r1::test::TempDir cache;
  r1::RewardSet set("accuracy", config(cache.path()));
  const r1::RewardScores s = set.compute(batch);
  ASSERT_EQ(s.values.size(), 1u);
  EXPECT_EQ(s.values[0], want);
  EXPECT_EQ(s.total, want);
  EXPECT_EQ(s.errors[0], 0) << s.first_error[0];

  // One at a time (compute) agrees with the batch.
  auto acc = r1::make_reward("accuracy", config(cache.path()));
  for (size_t i = 0; i < batch.size(); ++i) EXPECT_EQ(acc->compute(batch[i]), want[i]) << i;
}

TEST_F(RewardCodeTest, SandboxErrorsAreCountedNotScored) {
  auto sum = std::make_shared<r1::CodeTask>();
  sum->tests = {{"1 2\n", "3\n"}};
  r1::test::TempDir cache;
  r1::RewardConfig c = config(cache.path());
  c.accuracy.code.sandbox.init = "/nonexistent/r1sandbox-init";  // every run is SE
  RewardInput in = r1_sample(answer_with("print(3)\n"));
  in.code = sum;
  r1::RewardSet set("accuracy:1,format:0.5", c);
  const r1::RewardScores s = set.compute({in, in});
  EXPECT_EQ(s.values[0], (std::vector<double>{0, 0}));
  EXPECT_EQ(s.errors[0], 2);
  EXPECT_NE(s.first_error[0].find("sandbox error"), std::string::npos) << s.first_error[0];
  EXPECT_EQ(s.values[1], (std::vector<double>{1, 1}));  // the other rewards still count
  EXPECT_EQ(s.total, (std::vector<double>{0.5, 0.5}));
}

// --- format ------------------------------------------------------------------------------------

TEST(RewardFormat, WellFormedCompletions) {
  EXPECT_EQ(score("format", r1_sample("Let me add.\n</think>\n\\boxed{2}")), 1);
  RewardInput in = r1_sample("<think>\nLet me add.\n</think>\nThe answer is 2.");
  in.think_opened = false;
  EXPECT_EQ(score("format", in), 1);
  in.completion = "\n  <think>x</think>2";  // whitespace before the block is allowed
  EXPECT_EQ(score("format", in), 1);
}

TEST(RewardFormat, GamingAttemptsScoreZero) {
  const std::vector<std::string> forced = {
      "</think>\n\\boxed{2}",                        // empty think
      " \n\t</think>\n\\boxed{2}",                   // whitespace think
      "\u200b\u3000\u00a0\u3164</think>\\boxed{2}",  // invisible characters only
      "Let me add.\n</think>\n",                     // no answer after the think
      "Let me add.\n</think>\n \u200b \n",           // blank answer
      "The answer is \\boxed{2}",                    // answer inside think only (unclosed)
      "<think>\nLet me add.\n</think>\n\\boxed{2}",  // a second <think> (prompt opened one)
      "a\n</think>\nb\n<think>\nc\n</think>\nd",     // two think blocks
      "a\n</think>\nb\n</think>\nc",                 // two closes
      "a <think> b </think> c </think> d",           // nested tags
      "a\n</think>\nb\n<think>\nc",                  // a block opened after the answer
  };
  for (const auto& c : forced) EXPECT_EQ(score("format", r1_sample(c)), 0) << c;

  const std::vector<std::string> open = {
      "No tags at all, \\boxed{2}",
      "Sure! <think>reason</think>\\boxed{2}",  // text before the block
      "<think></think>\\boxed{2}",              // empty think
      "<think>  </think>\\boxed{2}",            // whitespace think
      "<think>\\boxed{2}</think>",              // answer inside the think only
      "<think>a<think>b</think>c</think>d",     // nested
      "<think>a</think>b<think>c</think>d",     // two blocks
      "</think>a<think>b",                      // close before open
      "<think>reasoning never closed",
  };
  for (const auto& c : open) {
    RewardInput in = r1_sample(c);
    in.think_opened = false;
    EXPECT_EQ(score("format", in), 0) << c;
  }

  RewardInput cut = r1_sample("Let me add.\n</think>\n\\boxed{2}");
  cut.finish_reason = "length";
  EXPECT_EQ(score("format", cut), 0);
}

// --- boxed -------------------------------------------------------------------------------------

TEST(RewardBoxed, PaysForANonBlankBoxInTheAnswer) {
  RewardInput plain = r1_sample("Tom has 12 + 7 = 19 apples. \\boxed{19}");
  plain.think_opened = false;  // a chat model without a think block: all of it is the answer
  EXPECT_EQ(score("boxed", plain), 1);
  plain.completion = "\\boxed{1} then \\boxed{ 2 }";
  EXPECT_EQ(score("boxed", plain), 1);
  EXPECT_EQ(score("boxed", r1_sample("12 + 7 = 19\n</think>\nSo \\boxed{19}.")), 1);
  // The box need not hold the right answer: accuracy judges that.
  EXPECT_EQ(score("boxed", r1_sample("wrong\n</think>\n\\boxed{20}")), 1);
}

TEST(RewardBoxed, NoBoxABlankBoxACutResponseOrABoxOnlyInTheReasoningScoreZero) {
  RewardInput in = r1_sample("The answer is 19.");
  in.think_opened = false;
  EXPECT_EQ(score("boxed", in), 0);
  in.completion = "\\boxed{} and \\boxed{ \u200b }";  // blank
  EXPECT_EQ(score("boxed", in), 0);
  in.completion = "\\boxed{19";  // unbalanced
  EXPECT_EQ(score("boxed", in), 0);
  in.completion = "\\boxed{19} and more";
  in.finish_reason = "length";  // cut at the limit
  EXPECT_EQ(score("boxed", in), 0);
  EXPECT_EQ(score("boxed", r1_sample("\\boxed{19} still thinking")), 0);  // unclosed think
  EXPECT_EQ(score("boxed", r1_sample("\\boxed{19}\n</think>\nThe answer is 19.")), 0);
  RewardInput opened_here = r1_sample("<think>\\boxed{19} still thinking");
  opened_here.think_opened = false;  // a think the response opened and never closed
  EXPECT_EQ(score("boxed", opened_here), 0);
}

// --- language ----------------------------------------------------------------------------------

TEST(RewardLanguage, WordsPerScript) {
  // Han characters are one word each; one-letter Latin words and LaTeX commands are skipped.
  EXPECT_EQ(r1::count_words("求函数 f(x)=x^2 的最小值"),
            (std::map<std::string, int64_t>{{"han", 7}}));
  EXPECT_EQ(r1::count_words("Let me compute 这个 value"),
            (std::map<std::string, int64_t>{{"han", 2}, {"latin", 4}}));
  EXPECT_EQ(r1::count_words("$\\frac{a}{b} + \\sqrt{x}$ \\begin{align} y \\end{align} is"),
            (std::map<std::string, int64_t>{{"latin", 1}}));
  EXPECT_EQ(r1::count_words("用Python写"),
            (std::map<std::string, int64_t>{{"han", 2}, {"latin", 1}}));
  EXPECT_EQ(r1::count_words("code:\n```python\nprint('hello world')\n```\nok"),
            (std::map<std::string, int64_t>{{"latin", 2}}));
  EXPECT_EQ(r1::count_words("Привет мир, café naïve"),
            (std::map<std::string, int64_t>{{"cyrillic", 2}, {"latin", 2}}));
  EXPECT_EQ(r1::count_words("नमस्ते"), (std::map<std::string, int64_t>{{"devanagari", 1}}));  // marks
  EXPECT_TRUE(r1::count_words("1 + 2 = 3, x = y").empty());
}

TEST(RewardLanguage, Detection) {
  EXPECT_EQ(r1::detect_language("What is the smallest positive integer n?"), "latin");
  EXPECT_EQ(r1::detect_language("求最小的正整数 n。"), "zh");
  EXPECT_EQ(r1::detect_language("最小の正の整数を求めよ。"), "ja");
  EXPECT_EQ(r1::detect_language("가장 작은 양의 정수를 구하시오."), "ko");
  EXPECT_EQ(r1::detect_language("Найдите наименьшее число."), "cyrillic");
  EXPECT_EQ(r1::detect_language("1 + 1 = ?"), "");
  EXPECT_NE(r1::test::error_of([] { r1::language_share("hello", "klingon"); }).find("klingon"),
            std::string::npos);
}

TEST(RewardLanguage, ShareOfTheReasoningInThePromptsLanguage) {
  auto lang = r1::make_reward("language");
  RewardInput in = r1_sample("Let me compute this value carefully.\n</think>\n\\boxed{2}");
  in.prompt = "What is the value of x?";
  EXPECT_DOUBLE_EQ(lang->compute(in), 1.0);
  in.completion = "Let me compute 这个 value\n</think>\n答案是 \\boxed{2}";  // 4 Latin, 2 Han
  EXPECT_DOUBLE_EQ(lang->compute(in), 4.0 / 6.0);
  in.prompt = "求 x 的值。";  // a Chinese prompt: the Han share
  EXPECT_DOUBLE_EQ(lang->compute(in), 2.0 / 6.0);
  in.completion = "我们先计算 $x^2$。\n</think>\nThe answer is \\boxed{2}";  // answer not counted
  EXPECT_DOUBLE_EQ(lang->compute(in), 1.0);
  in.language = "latin";  // an explicit target beats the prompt's
  EXPECT_DOUBLE_EQ(lang->compute(in), 0.0);
  in.language.clear();
  // No words in the reasoning: 0. No words in the prompt: the reasoning's own consistency.
  in.completion = "1 + 1 = 2\n</think>\n\\boxed{2}";
  EXPECT_DOUBLE_EQ(lang->compute(in), 0.0);
  in.prompt = "$1 + 1 = ?$";
  in.completion = "one plus one is two, 所以\n</think>\n\\boxed{2}";  // 5 Latin, 2 Han
  EXPECT_DOUBLE_EQ(lang->compute(in), 5.0 / 7.0);
  // Without a forced <think>.
  in.think_opened = false;
  in.prompt = "Compute one plus one.";
  in.completion = "<think>一加一</think>one plus one is two";
  EXPECT_DOUBLE_EQ(lang->compute(in), 0.0);
  in.completion = "no tags: this counts whole";
  EXPECT_DOUBLE_EQ(lang->compute(in), 1.0);
}

TEST(RewardLanguage, ReasoningText) {
  RewardInput in = r1_sample("abc</think>def");
  EXPECT_EQ(r1::reasoning_text(in), "abc");
  in.completion = "cut off";
  EXPECT_EQ(r1::reasoning_text(in), "cut off");
  in.think_opened = false;
  in.completion = "x<think>abc</think>def";
  EXPECT_EQ(r1::reasoning_text(in), "abc");
  in.completion = "plain";
  EXPECT_EQ(r1::reasoning_text(in), "plain");
}

// --- length ------------------------------------------------------------------------------------

TEST(RewardLength, OverlongFormula) {
  r1::LengthOptions o;  // overlong: L_max 4096, L_cache 512 -> free up to 3584
  auto length = r1::make_reward_length(o);
  auto at = [&](int64_t tokens, const std::string& finish = "stop") {
    RewardInput in = r1_sample("x</think>y");
    in.completion_tokens = tokens;
    in.finish_reason = finish;
    return length->compute(in);
  };
  EXPECT_DOUBLE_EQ(at(0), 0);
  EXPECT_DOUBLE_EQ(at(3584), 0);
  EXPECT_DOUBLE_EQ(at(3585), -1.0 / 512);
  EXPECT_DOUBLE_EQ(at(3840), -0.5);
  EXPECT_DOUBLE_EQ(at(4096), -1);
  EXPECT_DOUBLE_EQ(at(5000), -1);
  EXPECT_DOUBLE_EQ(at(100, "length"), -1);  // cut at the limit: the full penalty
  EXPECT_NE(r1::test::error_of([&] { at(-1); }).find("completion_tokens"), std::string::npos);
}

TEST(RewardLength, TargetFormula) {
  r1::RewardConfig c;
  c.length.mode = "target";
  c.length.target_tokens = 1000;
  auto length = r1::make_reward("length", c);
  auto at = [&](int64_t tokens) {
    RewardInput in = r1_sample("x</think>y");
    in.completion_tokens = tokens;
    return length->compute(in);
  };
  EXPECT_DOUBLE_EQ(at(1000), 0);
  EXPECT_DOUBLE_EQ(at(750), -0.25);
  EXPECT_DOUBLE_EQ(at(1500), -0.5);
  EXPECT_DOUBLE_EQ(at(0), -1);
  EXPECT_DOUBLE_EQ(at(5000), -1);
}

TEST(RewardLength, BadOptionsNameTheField) {
  r1::LengthOptions o;
  o.mode = "kimi";
  EXPECT_NE(r1::test::error_of([&] { r1::make_reward_length(o); }).find("length.mode 'kimi'"),
            std::string::npos);
  o = {};
  o.buffer_tokens = 5000;
  EXPECT_NE(r1::test::error_of([&] { r1::make_reward_length(o); }).find("length.buffer_tokens"),
            std::string::npos);
  o = {};
  o.mode = "target";
  o.target_tokens = 0;
  EXPECT_NE(r1::test::error_of([&] { r1::make_reward_length(o); }).find("length.target_tokens"),
            std::string::npos);
}

// --- specs, registry, sets ---------------------------------------------------------------------

TEST(RewardSpec, Parsing) {
  const auto w = r1::parse_reward_spec(" accuracy:1.0, format : 0.5 ,language,length:-0.25");
  ASSERT_EQ(w.size(), 4u);
  EXPECT_EQ(w[0].name, "accuracy");
  EXPECT_EQ(w[0].weight, 1.0);
  EXPECT_EQ(w[1].name, "format");
  EXPECT_EQ(w[1].weight, 0.5);
  EXPECT_EQ(w[2].name, "language");
  EXPECT_EQ(w[2].weight, 1.0);
  EXPECT_EQ(w[3].weight, -0.25);
  EXPECT_EQ(r1::parse_reward_spec("format:0")[0].weight, 0);

  auto err = [](const std::string& spec) {
    return r1::test::error_of([&] { r1::parse_reward_spec(spec); });
  };
  EXPECT_NE(err("accuracy:abc").find("the weight of 'accuracy' ('abc')"), std::string::npos);
  EXPECT_NE(err("accuracy:1.0x").find("'1.0x'"), std::string::npos);
  EXPECT_NE(err("accuracy:").find("the weight of 'accuracy'"), std::string::npos);
  EXPECT_NE(err("accuracy:nan").find("'nan'"), std::string::npos);
  EXPECT_NE(err("accuracy:inf").find("'inf'"), std::string::npos);
  EXPECT_NE(err("accuracy:1e999").find("'1e999'"), std::string::npos);
  EXPECT_NE(err("accuracy:1:2").find("'1:2'"), std::string::npos);
  EXPECT_NE(err("accuracy,,format").find("empty item"), std::string::npos);
  EXPECT_NE(err("accuracy,").find("empty item"), std::string::npos);
  EXPECT_NE(err(":1").find("no reward name"), std::string::npos);
  EXPECT_NE(err("").find("empty"), std::string::npos);
  EXPECT_NE(err("format,format:2").find("'format' is given twice"), std::string::npos);
}

TEST(RewardSpec, UnknownRewardNamesItAndTheKnownOnes) {
  const std::string e = r1::test::error_of([] { r1::RewardSet("accuracy:1,acuracy:2", {}); });
  EXPECT_NE(e.find("unknown reward 'acuracy'"), std::string::npos) << e;
  EXPECT_NE(e.find("accuracy, boxed, format, language, length"), std::string::npos) << e;
  EXPECT_NE(r1::test::error_of([] { r1::make_reward("nope"); }).find("'nope'"), std::string::npos);
}

TEST(RewardSet, WeightedTotalAndPerRewardMeans) {
  r1::RewardSet set("accuracy:1.0,format:0.5,language:0.1", {});
  EXPECT_EQ(set.names(), (std::vector<std::string>{"accuracy", "format", "language"}));
  std::vector<RewardInput> batch = {
      r1_sample("one plus one is two\n</think>\n\\boxed{2}", "2"),    // 1, 1, 1
      r1_sample("one plus one is three\n</think>\n\\boxed{3}", "2"),  // 0, 1, 1
      r1_sample("</think>\n\\boxed{2}", "2"),                         // 1, 0, 0
      r1_sample("一加一等于二 two\n</think>\n\\boxed{2}", "2"),       // 1, 1, 1/7
  };
  const r1::RewardScores s = set.compute(batch);
  EXPECT_EQ(s.values[0], (std::vector<double>{1, 0, 1, 1}));
  EXPECT_EQ(s.values[1], (std::vector<double>{1, 1, 0, 1}));
  EXPECT_DOUBLE_EQ(s.values[2][3], 1.0 / 7.0);
  EXPECT_DOUBLE_EQ(s.total[0], 1.6);
  EXPECT_DOUBLE_EQ(s.total[1], 0.6);
  EXPECT_DOUBLE_EQ(s.total[2], 1.0);
  EXPECT_DOUBLE_EQ(s.total[3], 1.5 + 0.1 / 7.0);
  EXPECT_DOUBLE_EQ(s.mean(0), 0.75);
  EXPECT_DOUBLE_EQ(s.mean(1), 0.75);
  EXPECT_DOUBLE_EQ(s.mean_total(), (1.6 + 0.6 + 1.0 + 1.5 + 0.1 / 7.0) / 4);
  EXPECT_EQ(s.errors, (std::vector<int64_t>{0, 0, 0}));
  const nlohmann::json log = s.log_fields();
  EXPECT_DOUBLE_EQ(log.at("reward/accuracy").get<double>(), 0.75);
  EXPECT_EQ(log.at("reward/format/errors").get<int64_t>(), 0);
  EXPECT_DOUBLE_EQ(log.at("reward").get<double>(), s.mean_total());

  const r1::RewardScores none = set.compute({});
  EXPECT_TRUE(none.total.empty());
  EXPECT_EQ(none.mean(0), 0);
}

// A test-only reward: throws for completions containing "boom", else 1. `batch_throws` makes its
// batch call fail as a whole; `non_std` throws something that is not a std::exception.
class ThrowingReward : public r1::Reward {
 public:
  explicit ThrowingReward(bool batch_throws = false, bool non_std = false)
      : batch_throws_(batch_throws), non_std_(non_std) {}
  std::string name() const override { return "throwing"; }
  double compute(const RewardInput& in) override {
    ++calls;
    if (in.completion.find("boom") != std::string::npos) {
      if (non_std_) throw 42;
      throw std::runtime_error("boom in sample '" + in.completion + "'");
    }
    if (in.completion.find("nan") != std::string::npos) return std::nan("");
    return 1;
  }
  std::vector<double> compute_batch(const std::vector<RewardInput>& batch) override {
    if (batch_throws_) throw r1::Error("the whole batch failed");
    return Reward::compute_batch(batch);
  }
  int calls = 0;

 private:
  bool batch_throws_, non_std_;
};

TEST(RewardSet, AThrowingRewardScoresZeroAndCountsErrors) {
  for (const bool batch_throws : {false, true}) {
    for (const bool non_std : {false, true}) {
      r1::RewardRegistry registry;
      r1::register_builtin_rewards(registry);
      registry.add("throwing", [&](const r1::RewardConfig&) {
        return std::make_unique<ThrowingReward>(batch_throws, non_std);
      });
      r1::RewardSet set("format:1,throwing:2", {}, registry);
      const std::vector<RewardInput> batch = {
          r1_sample("fine\n</think>\nok"), r1_sample("boom\n</think>\nok"),
          r1_sample("nan\n</think>\nok"), r1_sample("fine again\n</think>\nok")};
      const r1::RewardScores s = set.compute(batch);
      EXPECT_EQ(s.names, (std::vector<std::string>{"format", "throwing"}));
      EXPECT_EQ(s.values[1], (std::vector<double>{1, 0, 0, 1}));
      EXPECT_EQ(s.total, (std::vector<double>{3, 1, 1, 3}));
      EXPECT_EQ(s.errors, (std::vector<int64_t>{0, 2}));
      EXPECT_EQ(s.first_error[0], "");
      const std::string want = non_std ? "sample 1: an exception that is not a std::exception"
                                       : "sample 1: boom in sample 'boom\n</think>\nok'";
      EXPECT_EQ(s.first_error[1], want);
      EXPECT_EQ(s.log_fields().at("reward/throwing/errors").get<int64_t>(), 2);
    }
  }
}

TEST(RewardSet, AddChecksWeightsAndDuplicates) {
  r1::RewardSet set;
  set.add(r1::make_reward_format(), 1);
  EXPECT_NE(r1::test::error_of([&] { set.add(r1::make_reward_format(), 1); }).find("twice"),
            std::string::npos);
  EXPECT_NE(r1::test::error_of([&] {
              set.add(r1::make_reward_language(), std::nan(""));
            }).find("language"),
            std::string::npos);
  r1::RewardRegistry registry;
  r1::register_builtin_rewards(registry);
  EXPECT_NE(r1::test::error_of([&] { r1::register_builtin_rewards(registry); }).find("twice"),
            std::string::npos);
  EXPECT_EQ(registry.names(),
            (std::vector<std::string>{"accuracy", "boxed", "format", "language", "length"}));
}

}  // namespace
