// Tests of the tiny R1-Zero run (rl/zero.h) at toy size: every stage runs and hands its checkpoint
// to the next, results.json agrees with the GRPO run's metrics.jsonl, the Markdown and the SVG plot
// are written, a rerun resumes without training again, `--until` stops early, and bad flags give a
// one-line error. The full-size run (learning, timing) is `r1train zero`'s (docs/results/zero/),
// not a test's.
#include <gtest/gtest.h>  // TEST, EXPECT_*

#include <filesystem>  // std::filesystem
#include <sstream>     // std::istringstream
#include <string>      // std::string
#include <vector>      // std::vector

#include <nlohmann/json.hpp>  // nlohmann::json

#include "rl/zero.h"          // r1::run_zero, r1::zero_plot_svg
#include "tests/test_util.h"  // r1::test::TempDir, r1::test::run_command, r1::test::bin
#include "toolkit/error.h"    // r1::Error
#include "toolkit/fs.h"       // r1::read_file

namespace r1 {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

ZeroRunConfig toy(const std::string& out) {
  ZeroRunConfig c;
  c.out = out;
  c.task.base_docs = 200;
  c.task.sft_rows = 20;
  c.task.grpo_prompts = 40;
  c.task.heldout_problems = 6;
  c.base_steps = 6;
  c.base_batch = 8;
  c.sft_steps = 2;
  c.sft_batch = 4;
  c.grpo_steps = 3;
  c.num_generations = 4;
  c.prompts_per_step = 2;
  c.max_new_tokens = 24;
  c.eval_every = 2;
  c.eval_samples = 2;
  c.threads = 1;
  return c;
}

TEST(ZeroRun, StagesResultsPlotAndResume) {
  test::TempDir dir;
  const ZeroRunConfig c = toy(dir / "run");
  const ZeroRunResult r = run_zero(c);
  const json& res = r.results;
  EXPECT_EQ(res.at("format"), "r1-zero-results");
  for (const char* stage : {"assets", "base", "sft", "grpo"})
    EXPECT_TRUE(res.at("stages").contains(stage)) << stage;
  EXPECT_EQ(res.at("stages").at("base").at("steps"), 6);
  EXPECT_EQ(res.at("stages").at("sft").at("steps"), 2);
  EXPECT_EQ(res.at("stages").at("grpo").at("steps"), 3);
  // Each stage starts from the previous stage's checkpoint.
  const json sft_cfg = json::parse(read_file(dir / "run/sft/sft_config.json"));
  EXPECT_EQ(fs::path(sft_cfg.at("model").get<std::string>()).lexically_normal(),
            fs::path(dir / "run/base/checkpoints/step-000006").lexically_normal());
  const json grpo_cfg = json::parse(read_file(dir / "run/grpo/grpo_config.json"));
  EXPECT_EQ(fs::path(grpo_cfg.at("model").get<std::string>()).lexically_normal(),
            fs::path(dir / "run/sft/checkpoints/step-000002").lexically_normal());
  EXPECT_EQ(grpo_cfg.at("eval_samples"), 2);

  // The evals and per-step points are the GRPO metrics' own numbers.
  std::vector<json> evals, steps;
  for (const json& line : test::read_jsonl(dir / "run/grpo/metrics.jsonl")) {
    if (line.contains("eval/pass@1")) evals.push_back(line);
    if (line.contains("reward")) steps.push_back(line);
  }
  ASSERT_EQ(evals.size(), 3u);  // steps 0, 2 and 3 (the end)
  ASSERT_EQ(res.at("evals").size(), 3u);
  for (size_t i = 0; i < evals.size(); ++i) {
    EXPECT_EQ(res.at("evals")[i].at("step"), evals[i].at("step"));
    EXPECT_EQ(res.at("evals")[i].at("pass@1"), evals[i].at("eval/pass@1"));
  }
  ASSERT_EQ(res.at("by_step").size(), 3u);
  EXPECT_EQ(res.at("by_step")[2].at("reward"), steps[2].at("reward"));
  const double start = evals.front().at("eval/pass@1"), end = evals.back().at("eval/pass@1");
  EXPECT_EQ(res.at("pass@1_before_grpo"), start);
  EXPECT_EQ(res.at("pass@1_after_grpo"), end);
  EXPECT_DOUBLE_EQ(res.at("gain_points").get<double>(), 100 * (end - start));
  EXPECT_EQ(json::parse(read_file(r.results_path)), res);
  EXPECT_EQ(res.at("config").at("base_steps"), 6);
  EXPECT_EQ(res.at("config").at("model_size"), "micro");
  EXPECT_FALSE(res.at("config").contains("out"));  // where it ran is not part of the run

  const std::string md = read_file(r.markdown_path);
  EXPECT_NE(md.find("| grpo | 3 |"), std::string::npos) << md;
  EXPECT_NE(md.find("points** during GRPO"), std::string::npos) << md;
  const std::string svg = read_file(r.plot_path);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("held-out pass@1"), std::string::npos);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);

  // A rerun resumes every stage from its checkpoint: nothing trains again, same numbers.
  const ZeroRunResult again = run_zero(c);
  EXPECT_EQ(again.results.at("evals"), res.at("evals"));
  EXPECT_EQ(again.results.at("by_step"), res.at("by_step"));
  EXPECT_EQ(again.results.at("stages"), res.at("stages"));  // the training run's steps and seconds
  EXPECT_EQ(test::read_jsonl(dir / "run/grpo/metrics.jsonl").size(), 4u);  // step-0 eval, steps 1-3
}

TEST(ZeroRun, UntilStopsEarly) {
  test::TempDir dir;
  ZeroRunConfig c = toy(dir / "run");
  c.until = "base";
  const ZeroRunResult r = run_zero(c);
  EXPECT_TRUE(r.results.at("stages").contains("base"));
  EXPECT_FALSE(r.results.at("stages").contains("sft"));
  EXPECT_FALSE(r.results.contains("gain_points"));
  EXPECT_FALSE(fs::exists(dir / "run/sft"));
  EXPECT_TRUE(fs::exists(dir / "run/assets/model/model.safetensors"));
}

TEST(ZeroRun, PlotPlacesPointsOnTheAxes) {
  const json res = {{"by_step", {{{"step", 1}, {"reward", 0.5}}, {{"step", 4}, {"reward", 1.0}}}},
                    {"evals", {{{"step", 0}, {"pass@1", 0.25}}, {{"step", 4}, {"pass@1", 1.0}}}}};
  const std::string svg = zero_plot_svg(res);
  // Plot area x 56..490 for steps 0..4, y 30..316 for 0..1: pass@1 1.0 at step 4 is (490, 30).
  EXPECT_NE(svg.find("M56.0,244.5 L490.0,30.0"), std::string::npos) << svg;
  EXPECT_NE(svg.find("M164.5,173.0 L490.0,30.0"), std::string::npos) << svg;
}

TEST(ZeroRun, BadFlagsGiveOneLineErrors) {
  test::TempDir dir;
  const std::string r1train = test::bin("r1train");
  auto run = [&](const std::string& flags) {
    return test::run_command(r1train + " zero --out " + dir.path() + "/run " + flags);
  };
  struct Case {
    std::string flags, message;
  };
  for (const Case& k :
       std::vector<Case>{{"--until everything", "--until everything is not a stage"},
                         {"--base-steps 0", "--base-steps = 0"},
                         {"--grpo-lr -1", "--grpo-lr = -1"},
                         {"--max-value 5", "max_value = 5"},
                         {"--model-size huge", "micro, tiny, small"},
                         {"--level-weights 0,0", "level_weights"}}) {
    const auto r = run(k.flags);
    EXPECT_NE(r.exit_code, 0) << k.flags;
    EXPECT_NE(r.out.find(k.message), std::string::npos) << k.flags << ": " << r.out;
  }
  EXPECT_FALSE(fs::exists(dir / "run/base"));
}

}  // namespace
}  // namespace r1
