// Tests of the GRPO trainer (rl/grpo.h) on the tiny test checkpoint: steps that write every metric,
// held-out pass@1 on the live weights, DAPO dynamic sampling, stored old log-probs with
// num_iterations 2, no reference model at beta 0, exact resume (metrics and weights bit for bit),
// non-finite losses, a throwing reward, a failed checkpoint write, and bad prompt rows.
// Leaves out learning progress (the tiny R1-Zero run does that) and timings.
#include <gtest/gtest.h>  // TEST, EXPECT_*

#include <nlohmann/json.hpp>  // nlohmann::json

#include <cmath>       // std::isfinite
#include <filesystem>  // std::filesystem
#include <fstream>     // std::ofstream
#include <memory>      // std::make_unique
#include <string>      // std::string
#include <vector>      // std::vector

#include "rl/checkpoint.h"          // r1::latest_checkpoint
#include "rl/grpo.h"                // r1::GrpoConfig, r1::run_grpo
#include "rl/grpo_data.h"           // r1::load_grpo_prompts
#include "rl/rewards.h"             // r1::RewardRegistry
#include "tests/test_util.h"        // r1::test::TempDir
#include "toolkit/chat_template.h"  // r1::load_chat_template
#include "toolkit/error.h"          // r1::Error
#include "toolkit/fs.h"             // r1::read_file
#include "toolkit/tokenizer.h"      // r1::Tokenizer

namespace r1 {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const char* kModel = "tests/data/models/tiny-r1";

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

// A reward that varies with the completion's text (a random model never answers right).
class HashReward : public Reward {
 public:
  std::string name() const override { return "hash"; }
  double compute(const RewardInput& in) override {
    return static_cast<double>(fnv1a(in.completion) % 1000) / 1000.0;
  }
};
// The same value for every sample: every group is all-equal.
class ConstantReward : public Reward {
 public:
  std::string name() const override { return "constant"; }
  double compute(const RewardInput&) override { return 1.0; }
};
// Constant on prompts that say "same", the hash elsewhere: some groups are all-equal.
class MixedReward : public Reward {
 public:
  std::string name() const override { return "mixed"; }
  double compute(const RewardInput& in) override {
    if (in.prompt.find("same") != std::string::npos) return 0.5;
    return static_cast<double>(fnv1a(in.completion) % 1000) / 1000.0;
  }
};
// Throws on about half the samples.
class FlakyReward : public Reward {
 public:
  std::string name() const override { return "flaky"; }
  double compute(const RewardInput& in) override {
    if (fnv1a(in.completion) % 2 == 0) throw Error("flaky: cannot score this one");
    return 1.0;
  }
};

// 1 for a code row that reached the reward with its two tests and no gold answer, else 0.
class CodeProbeReward : public Reward {
 public:
  std::string name() const override { return "code_probe"; }
  double compute(const RewardInput& in) override {
    return in.code && in.code->tests.size() == 2 && in.code->tests[1].output == "4\n" &&
                   in.gold.empty()
               ? 1.0
               : 0.0;
  }
};

// 1 when the rewards were told the prompt opened the reasoning, else 0.
class ThinkProbeReward : public Reward {
 public:
  std::string name() const override { return "think_probe"; }
  double compute(const RewardInput& in) override { return in.think_opened ? 1.0 : 0.0; }
};

const RewardRegistry& test_rewards() {
  static const RewardRegistry reg = [] {
    RewardRegistry r;
    register_builtin_rewards(r);
    r.add("hash", [](const RewardConfig&) { return std::make_unique<HashReward>(); });
    r.add("constant", [](const RewardConfig&) { return std::make_unique<ConstantReward>(); });
    r.add("mixed", [](const RewardConfig&) { return std::make_unique<MixedReward>(); });
    r.add("flaky", [](const RewardConfig&) { return std::make_unique<FlakyReward>(); });
    r.add("code_probe", [](const RewardConfig&) { return std::make_unique<CodeProbeReward>(); });
    r.add("think_probe", [](const RewardConfig&) { return std::make_unique<ThinkProbeReward>(); });
    return r;
  }();
  return reg;
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// Eight arithmetic prompts; every other one says "same" (MixedReward is constant on those).
std::string write_prompts(const test::TempDir& dir) {
  std::string text;
  for (int i = 0; i < 8; ++i) {
    const std::string q = "What is " + std::to_string(i) + "+" + std::to_string(2 * i) + "?" +
                          (i % 2 ? " (same)" : "");
    text += json{{"prompt", q}, {"answer", std::to_string(3 * i)}}.dump() + "\n";
  }
  const std::string path = dir / "prompts.jsonl";
  write_text(path, text);
  return path;
}

GrpoConfig small_config(const test::TempDir& dir, const std::string& out) {
  GrpoConfig c;
  c.model = kModel;
  c.prompts = write_prompts(dir);
  c.out = dir / out;
  c.num_generations = 4;
  c.prompts_per_step = 2;
  c.max_new_tokens = 10;
  c.micro_batch = 4;
  c.steps = 2;
  c.lr = 1e-3;
  c.seed = 7;
  c.rewards = "hash";
  return c;
}

// The lines without wall-clock fields ("time/...").
std::vector<json> without_times(std::vector<json> lines) {
  for (auto& l : lines) {
    std::vector<std::string> drop;
    for (const auto& [k, v] : l.items())
      if (k.rfind("time/", 0) == 0) drop.push_back(k);
    for (const auto& k : drop) l.erase(k);
  }
  return lines;
}

TEST(Grpo, StepsWriteEveryMetricAndEvaluateTheLiveWeights) {
  test::TempDir dir;
  GrpoConfig c = small_config(dir, "run");
  c.rewards = "hash:1.0,accuracy:1.0,format:0.5";
  c.beta = 0.04;
  c.overlong_buffer = 4;
  c.eval_prompts = c.prompts;
  c.eval_every = 1;
  c.eval_samples = 2;
  c.eval_limit = 3;
  const GrpoResult r = run_grpo(c, &test_rewards());
  EXPECT_EQ(r.steps, 2);
  ASSERT_TRUE(r.eval_pass1.has_value());
  const auto lines = test::read_jsonl(c.out + "/metrics.jsonl");
  ASSERT_EQ(lines.size(), 3u);  // the step-0 evaluation, then two steps
  EXPECT_EQ(lines[0]["step"], 0);
  EXPECT_TRUE(lines[0].contains("eval/pass@1"));
  for (int s = 1; s <= 2; ++s) {
    const json& l = lines[s];
    EXPECT_EQ(l["step"], s);
    for (const char* key : {"reward",
                            "reward_std",
                            "reward/hash",
                            "reward/hash/std",
                            "reward/hash/errors",
                            "reward/accuracy",
                            "reward/format",
                            "reward/overlong",
                            "accuracy",
                            "kl",
                            "entropy",
                            "loss",
                            "grad_norm",
                            "lr",
                            "clip_ratio/low_mean",
                            "clip_ratio/high_mean",
                            "clip_ratio/region_mean",
                            "clip_ratio/low_min",
                            "clip_ratio/high_max",
                            "completions/mean_length",
                            "completions/max_length",
                            "completions/min_length",
                            "completions/truncated_rate",
                            "groups/generated",
                            "groups/dropped",
                            "groups/kept",
                            "tokens",
                            "time/generate",
                            "time/reward",
                            "time/logprobs",
                            "time/update",
                            "time/step",
                            "eval/pass@1",
                            "eval/problems",
                            "eval/samples",
                            "time/eval"})
      EXPECT_TRUE(l.contains(key)) << "step " << s << " has no " << key << ": " << l.dump();
    EXPECT_FALSE(l.contains("skipped")) << l.dump();
    EXPECT_EQ(l["groups/generated"], 2);
    EXPECT_EQ(l["groups/dropped"], 0);
    EXPECT_EQ(l["eval/problems"], 3);
    EXPECT_TRUE(std::isfinite(l["kl"].get<double>()));
    EXPECT_GT(l["entropy"].get<double>(), 0.0);
    EXPECT_LE(l["completions/max_length"].get<double>(), 10.0);
  }
  // The first step starts at the reference: its KL is 0 (to rounding); the second has moved away.
  EXPECT_NEAR(lines[1]["kl"].get<double>(), 0.0, 1e-6);
  EXPECT_GT(lines[2]["kl"].get<double>(), 0.0);
  EXPECT_TRUE(fs::exists(c.out + "/grpo_config.json"));
  EXPECT_TRUE(fs::exists(c.out + "/evals/step-000002/results.json"));
  const auto last = latest_checkpoint(c.out + "/checkpoints");
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->first, 2);
  EXPECT_TRUE(fs::exists(last->second + "/config.json"));
  EXPECT_TRUE(fs::exists(last->second + "/tokenizer.json"));
  EXPECT_NE(read_file(last->second + "/model.safetensors"),
            read_file(std::string(kModel) + "/model.safetensors"));
}

TEST(Grpo, DynamicSamplingDropsAllEqualGroupsAndRefills) {
  test::TempDir dir;
  {
    GrpoConfig c = small_config(dir, "constant");
    c.rewards = "constant";
    c.dynamic_sampling = true;
    c.max_refill_rounds = 2;
    c.steps = 1;
    run_grpo(c, &test_rewards());
    const auto l = test::read_jsonl(c.out + "/metrics.jsonl").at(0);
    EXPECT_EQ(l["groups/generated"], 6) << l.dump();  // 2, then 2 more in each of 2 rounds
    EXPECT_EQ(l["groups/dropped"], 6);
    EXPECT_EQ(l["groups/kept"], 0);
    EXPECT_EQ(l["refill_rounds"], 2);
    EXPECT_TRUE(l.contains("skipped"));
    EXPECT_FALSE(l.contains("loss"));
  }
  {
    GrpoConfig c = small_config(dir, "mixed");
    c.rewards = "mixed";
    c.dynamic_sampling = true;
    c.steps = 3;
    run_grpo(c, &test_rewards());
    int64_t dropped = 0;
    for (const auto& l : test::read_jsonl(c.out + "/metrics.jsonl")) {
      EXPECT_EQ(l["groups/kept"], 2) << l.dump();
      EXPECT_EQ(l["groups/generated"].get<int64_t>(), 2 + l["groups/dropped"].get<int64_t>());
      dropped += l["groups/dropped"].get<int64_t>();
      EXPECT_TRUE(l.contains("loss"));
    }
    EXPECT_GT(dropped, 0);
  }
}

TEST(Grpo, SecondIterationUsesStoredOldLogprobs) {
  test::TempDir dir;
  GrpoConfig c = small_config(dir, "run");
  c.num_iterations = 2;
  c.epsilon = 0.0001;  // so the second update's ratios leave the clip range
  run_grpo(c, &test_rewards());
  for (const auto& l : test::read_jsonl(c.out + "/metrics.jsonl")) {
    ASSERT_EQ(l["iterations"].size(), 2u) << l.dump();
    // The first update runs on the weights that produced the old log-probs: ratio exactly 1.
    EXPECT_EQ(l["iterations"][0]["log_ratio_max"].get<double>(), 0.0);
    EXPECT_EQ(l["iterations"][0]["clip_ratio/region_mean"].get<double>(), 0.0);
    EXPECT_GT(l["iterations"][1]["log_ratio_max"].get<double>(), 0.0);
    EXPECT_GT(l["iterations"][1]["clip_ratio/region_mean"].get<double>(), 0.0);
  }
  EXPECT_EQ(test::read_jsonl(c.out + "/metrics.jsonl").size(), 2u);
}

// --dump-batches: each step's batch as grpo_trl_parity.py reads it, agreeing with the step's line.
TEST(Grpo, DumpBatchesWritesEachStepsBatch) {
  test::TempDir dir;
  GrpoConfig c = small_config(dir, "run");
  c.dump_batches = true;
  run_grpo(c, &test_rewards());
  const auto lines = test::read_jsonl(c.out + "/metrics.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  for (const auto& line : lines) {
    char name[32];
    std::snprintf(name, sizeof(name), "/batches/step-%06lld.json",
                  static_cast<long long>(line["step"].get<int64_t>()));
    const json b = json::parse(read_file(c.out + name));
    EXPECT_EQ(b["loss"], line["loss"]);
    EXPECT_EQ(b["grad_norm"], line["grad_norm"]);
    const auto& rows = b["completions"];
    ASSERT_EQ(rows.size(), static_cast<size_t>(c.num_generations * c.prompts_per_step));
    double tokens = 0, advantage_sum = 0;
    for (const auto& r : rows) {
      EXPECT_EQ(r["logps"].size(), r["completion_ids"].size());
      EXPECT_FALSE(r["prompt_ids"].empty());
      for (const auto& lp : r["logps"]) EXPECT_LE(lp.get<double>(), 0.0);
      tokens += static_cast<double>(r["completion_ids"].size());
      advantage_sum += r["advantage"].get<double>();
    }
    EXPECT_EQ(tokens, line["tokens"].get<double>());
    EXPECT_NEAR(advantage_sum, 0.0, 1e-4);  // group-normalised
  }
}

// --no-think: prompts do not open <think>, the rewards read the whole response and the held-out
// evaluation does not force the think either (a chat model without reasoning tags).
TEST(Grpo, NoThinkReachesThePromptsTheRewardsAndTheEvaluation) {
  test::TempDir dir;
  const std::string jinja = dir / "plain.jinja";
  write_text(jinja,
             "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{% endfor %}"
             "{% if add_generation_prompt %}<|assistant|>{% endif %}");
  for (const bool no_think : {false, true}) {
    GrpoConfig c = small_config(dir, no_think ? "plain" : "forced");
    c.chat_template = jinja;
    c.no_think = no_think;
    c.steps = 1;
    c.rewards = "hash:1.0,think_probe:0.0";
    c.dump_batches = true;
    c.eval_prompts = c.prompts;
    c.eval_samples = 1;
    c.eval_limit = 1;
    run_grpo(c, &test_rewards());
    const auto lines = test::read_jsonl(c.out + "/metrics.jsonl");
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[1]["reward/think_probe"].get<double>(), no_think ? 0.0 : 1.0);
    const json b = json::parse(read_file(c.out + "/batches/step-000001.json"));
    const Tokenizer tok = Tokenizer::load(kModel);
    const std::string prompt =
        tok.decode(b["completions"][0]["prompt_ids"].get<std::vector<int64_t>>());
    EXPECT_EQ(prompt.ends_with("<think>\n"), !no_think) << prompt;
    EXPECT_TRUE(prompt.ends_with(no_think ? "<|assistant|>" : "<|assistant|><think>\n")) << prompt;
    const json run = json::parse(read_file(c.out + "/evals/step-000000/run.json"));
    EXPECT_EQ(run["protocol"]["force_think"], !no_think) << run.dump();
  }
}

TEST(Grpo, MaskTruncatedLeavesCutCompletionsOutOfTheLoss) {
  // The same seed draws the same first batch; masking drops exactly the truncated completions'
  // tokens (each max_new_tokens long) from the loss's token count.
  test::TempDir dir;
  std::vector<json> first;
  for (bool mask : {false, true}) {
    GrpoConfig c = small_config(dir, mask ? "masked" : "full");
    c.steps = 1;
    c.mask_truncated = mask;
    run_grpo(c, &test_rewards());
    first.push_back(test::read_jsonl(c.out + "/metrics.jsonl").at(0));
  }
  const double n = 8, truncated = first[0]["completions/truncated_rate"].get<double>() * n;
  EXPECT_GT(truncated, 0);
  EXPECT_EQ(first[0]["tokens"].get<double>(),
            first[0]["completions/mean_length"].get<double>() * n);
  EXPECT_EQ(first[1]["tokens"].get<double>(), first[0]["tokens"].get<double>() - truncated * 10);
}

TEST(Grpo, BetaZeroLoadsNoReferenceModel) {
  // A base directory whose weights disappear after the first checkpoint: a resume at beta 0
  // needs only the checkpoint; with beta > 0 the reference (the base weights) must load.
  test::TempDir dir;
  const std::string base = dir / "base";
  fs::copy(kModel, base);
  for (double beta : {0.0, 0.1}) {
    GrpoConfig c = small_config(dir, "beta" + std::to_string(beta));
    c.model = base;
    c.beta = beta;
    c.steps = 2;
    c.save_every = 1;
    c.stop_after = 1;
    if (!fs::exists(base + "/model.safetensors"))
      fs::copy(std::string(kModel) + "/model.safetensors", base);
    run_grpo(c, &test_rewards());
    fs::remove(base + "/model.safetensors");
    c.stop_after = 0;
    if (beta == 0.0) {
      EXPECT_EQ(run_grpo(c, &test_rewards()).steps, 2);
      EXPECT_FALSE(test::read_jsonl(c.out + "/metrics.jsonl").back().contains("kl"));
    } else {
      EXPECT_NE(test::error_of([&] { run_grpo(c, &test_rewards()); }), "");
    }
  }
}

TEST(Grpo, ResumeIsExactBitForBit) {
  test::TempDir dir;
  GrpoConfig c = small_config(dir, "straight");
  c.rewards = "mixed,flaky:0.5";
  c.dynamic_sampling = true;
  c.num_iterations = 2;
  c.beta = 0.04;
  c.steps = 4;
  c.save_every = 2;
  c.eval_prompts = c.prompts;
  c.eval_every = 2;
  c.eval_samples = 2;
  c.eval_limit = 2;
  run_grpo(c, &test_rewards());

  GrpoConfig k = c;
  k.out = dir / "killed";
  k.stop_after = 3;  // killed after step 3: checkpoint 2 on disk, step 3's line written
  run_grpo(k, &test_rewards());
  ASSERT_EQ(test::read_jsonl(k.out + "/metrics.jsonl").size(), 4u);
  k.stop_after = 0;
  const GrpoResult r = run_grpo(k, &test_rewards());
  EXPECT_EQ(r.resumed_from, 2);
  EXPECT_EQ(r.steps, 4);

  const auto a = without_times(test::read_jsonl(c.out + "/metrics.jsonl")),
             b = without_times(test::read_jsonl(k.out + "/metrics.jsonl"));
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], b[i]) << "line " << i;
  for (const char* file : {"model.safetensors", "r1_tensors.safetensors"})
    EXPECT_TRUE(read_file(c.out + "/checkpoints/step-000004/" + file) ==
                read_file(k.out + "/checkpoints/step-000004/" + file))
        << file;
}

TEST(Grpo, NonFiniteLossIsSkippedAndRepeatedOnesStopTheRun) {
  test::TempDir dir;
  {
    GrpoConfig c = small_config(dir, "once");
    c.steps = 3;
    c.nan_steps = {2};
    const GrpoResult r = run_grpo(c, &test_rewards());
    EXPECT_EQ(r.steps, 3);
    EXPECT_EQ(r.skipped_steps, 1);
    const auto lines = test::read_jsonl(c.out + "/metrics.jsonl");
    EXPECT_EQ(lines[1]["skipped"], "non-finite loss");
    EXPECT_FALSE(lines[0].contains("skipped"));
    EXPECT_FALSE(lines[2].contains("skipped"));
  }
  {
    GrpoConfig c = small_config(dir, "repeated");
    c.steps = 5;
    c.save_every = 1;
    c.nan_steps = {2, 3};
    c.max_bad_steps = 2;
    const std::string e = test::error_of([&] { run_grpo(c, &test_rewards()); });
    EXPECT_NE(e.find("2 steps in a row"), std::string::npos) << e;
    EXPECT_NE(e.find("last good checkpoint"), std::string::npos) << e;
    EXPECT_EQ(test::read_jsonl(c.out + "/metrics.jsonl").size(), 3u);
  }
}

TEST(Grpo, ThrowingRewardIsCountedAndTrainingGoesOn) {
  test::TempDir dir;
  GrpoConfig c = small_config(dir, "run");
  c.rewards = "flaky,hash";
  c.steps = 2;
  EXPECT_EQ(run_grpo(c, &test_rewards()).steps, 2);
  int64_t errors = 0;
  for (const auto& l : test::read_jsonl(c.out + "/metrics.jsonl")) {
    errors += l["reward/flaky/errors"].get<int64_t>();
    EXPECT_TRUE(l.contains("loss"));
  }
  EXPECT_GT(errors, 0);
}

TEST(Grpo, FailedCheckpointWriteKeepsThePreviousOne) {
  test::TempDir dir;
  GrpoConfig c = small_config(dir, "run");
  c.steps = 3;
  c.save_every = 1;
  c.before_checkpoint_write = [](const std::string& file) {
    if (file.find("step-000002") != std::string::npos) throw Error("No space left on device");
  };
  const std::string e = test::error_of([&] { run_grpo(c, &test_rewards()); });
  EXPECT_NE(e.find("step-000001"), std::string::npos) << e;
  const auto last = latest_checkpoint(c.out + "/checkpoints");
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->first, 1);
}

TEST(Grpo, ConfigErrorsNameTheFlag) {
  test::TempDir dir;
  GrpoConfig c = small_config(dir, "run");
  c.num_generations = 0;
  EXPECT_NE(test::error_of([&] { run_grpo(c); }).find("--num-generations"), std::string::npos);
  c = small_config(dir, "run");
  c.loss_type = "ppo";
  EXPECT_NE(test::error_of([&] { run_grpo(c); }).find("ppo"), std::string::npos);
  c = small_config(dir, "run");
  c.rewards = "nonsense";
  EXPECT_NE(test::error_of([&] { run_grpo(c); }).find("nonsense"), std::string::npos);
  // A resume with another run-defining flag is refused.
  c = small_config(dir, "run");
  c.steps = 1;
  run_grpo(c, &test_rewards());
  c.lr = 2e-3;
  EXPECT_NE(test::error_of([&] { run_grpo(c, &test_rewards()); }).find("--lr"), std::string::npos);
}

// Code rows: stdin tests for the sandbox. The probe sees each row's task; the real accuracy
// reward judges the (untrained, code-less) completions as wrong without an error.
TEST(Grpo, CodeRowsReachTheRewardsWithTheirTests) {
  test::TempDir dir;
  GrpoConfig c = small_config(dir, "run");
  std::string text;
  for (int i = 0; i < 4; ++i)
    text += json{{"prompt", "Read n and print 2n. (" + std::to_string(i) + ")"},
                 {"tests",
                  {{{"input", "1\n"}, {"output", "2\n"}}, {{"input", "2\n"}, {"output", "4\n"}}}},
                 {"language", "python"},
                 {"time_limit_s", 2}}
                .dump() +
            "\n";
  c.prompts = dir / "code.jsonl";
  write_text(c.prompts, text);
  c.rewards = "code_probe:1.0,accuracy:1.0";
  c.steps = 1;
  run_grpo(c, &test_rewards());
  const auto lines = test::read_jsonl(c.out + "/metrics.jsonl");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["reward/code_probe"], 1.0) << lines[0];
  EXPECT_EQ(lines[0]["reward/accuracy"], 0.0) << lines[0];
  EXPECT_EQ(lines[0]["reward/accuracy/errors"], 0) << lines[0];
}

// r1train grpo from the command line. Issue 19: --template-kwargs reaches the template the prompts
// are rendered with (this one raises unless `flag` is set). Issue 17, D8: a folder of the user's
// own files is refused, its files untouched.
TEST(R1train, GrpoTemplateKwargsAndAForeignFolder) {
  test::TempDir dir;
  const std::string tpl = dir / "strict.jinja";
  write_text(tpl,
             "{% if not flag %}{{ raise_exception('flag missing') }}{% endif %}"
             "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}"
             "{% if add_generation_prompt %}<|assistant|><think>\n{% endif %}");
  const std::string base = test::bin("r1train") + " grpo --model " + kModel + " --prompts " +
                           write_prompts(dir) +
                           " --steps 1 --num-generations 2 --prompts-per-step 1 --micro-batch 2"
                           " --max-new-tokens 4 --rewards accuracy:1.0 --chat-template " +
                           tpl;
  auto r = test::run_command(base + " --out " + dir / "bare");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("flag missing"), std::string::npos) << r.out;
  r = test::run_command(base + " --out " + dir / "run --template-kwargs '{\"flag\": true}'");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(test::read_jsonl(dir / "run/metrics.jsonl").size(), 1u);
  fs::create_directories(dir / "mine");
  write_text(dir / "mine/metrics.jsonl", "my numbers\n");
  r = test::run_command(base + " --out " + dir / "mine --template-kwargs '{\"flag\": true}'");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("mine: not empty and not a run of r1train grpo"), std::string::npos)
      << r.out;
  EXPECT_EQ(read_file(dir / "mine/metrics.jsonl"), "my numbers\n");
}

TEST(GrpoData, BadRowsNameTheirLine) {
  test::TempDir dir;
  const Tokenizer tok = Tokenizer::load(kModel);
  GrpoPromptEncoder enc{&tok, load_chat_template(kModel), {}};
  auto error_for = [&](const std::string& text) {
    const std::string path = dir / "p.jsonl";
    write_text(path, text);
    return test::error_of([&] { load_grpo_prompts(path, enc); });
  };
  const std::string good = "{\"prompt\": \"What is 1+1?\", \"answer\": \"2\"}\n";
  EXPECT_NE(error_for(good + "\n{\"prompt\": oops}\n").find("p.jsonl:3"), std::string::npos);
  EXPECT_NE(error_for(good + "{\"prompt\": \"x\"}\n").find("p.jsonl:2: no \"answer\""),
            std::string::npos);
  EXPECT_NE(error_for("{\"prompt\": 3, \"answer\": \"2\"}\n").find("p.jsonl:1: \"prompt\" is"),
            std::string::npos);
  EXPECT_NE(error_for("[1, 2]\n").find("p.jsonl:1"), std::string::npos);
  EXPECT_NE(error_for("\n\n").find("no rows"), std::string::npos);
  // A prompt that leaves no room to generate.
  enc.config.max_context = 16;
  const std::string e =
      error_for(good + "{\"prompt\": \"" + std::string(200, 'a') + "\", \"answer\": \"1\"}\n");
  EXPECT_NE(e.find("p.jsonl:2"), std::string::npos) << e;
  EXPECT_NE(e.find("context of 16"), std::string::npos) << e;
  // Code rows: tests instead of an answer, each field checked.
  const std::string tests = "\"tests\": [{\"input\": \"1\", \"output\": \"2\"}]";
  for (const auto& [row, message] : std::vector<std::pair<std::string, std::string>>{
           {"{\"prompt\": \"p\", \"answer\": \"2\", " + tests + "}",
            "both \"answer\" and \"tests\""},
           {"{\"prompt\": \"p\", \"tests\": []}", "\"tests\" is empty"},
           {"{\"prompt\": \"p\", \"tests\": {}}", "\"tests\" is object"},
           {"{\"prompt\": \"p\", \"tests\": [{\"input\": \"1\"}]}",
            "\"tests\"[0].output is missing"},
           {"{\"prompt\": \"p\", \"tests\": [{\"input\": 1, \"output\": \"2\"}]}",
            "\"tests\"[0].input is number"},
           {"{\"prompt\": \"p\", " + tests + ", \"language\": \"rust\"}", "\"language\": "},
           {"{\"prompt\": \"p\", " + tests + ", \"time_limit_s\": -1}",
            "\"time_limit_s\" is -1"}}) {
    const std::string e = error_for(good + row + "\n");
    EXPECT_NE(e.find("p.jsonl:2: " + message), std::string::npos) << row << " -> " << e;
  }
  write_text(dir / "c.jsonl",
             "{\"prompt\": \"p\", " + tests +
                 ", \"language\": \"cpp\", \"time_limit_s\": 3, \"memory_mb\": 128}\n");
  const auto code = load_grpo_prompts(dir / "c.jsonl", enc);
  ASSERT_EQ(code.size(), 1u);
  ASSERT_TRUE(code[0].code);
  EXPECT_EQ(code[0].code->tests.size(), 1u);
  EXPECT_EQ(code[0].code->default_lang, sandbox::Lang::Cpp);
  EXPECT_EQ(code[0].code->time_limit_s, 3.0);
  EXPECT_EQ(code[0].code->memory_mb, 128);
  EXPECT_TRUE(code[0].answer.empty());
  // Numbers as answers and ids are kept as their JSON text; the prompt ends inside <think>.
  enc.config.max_context = 4096;
  write_text(dir / "q.jsonl", "{\"prompt\": \"What is 1+1?\", \"answer\": 2, \"id\": 17}\n");
  const auto rows = load_grpo_prompts(dir / "q.jsonl", enc);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].answer, "2");
  EXPECT_EQ(rows[0].id, "17");
  const std::string text = tok.decode(rows[0].ids);
  EXPECT_EQ(text.substr(text.size() - 8), "<think>\n") << text;
}

}  // namespace
}  // namespace r1
