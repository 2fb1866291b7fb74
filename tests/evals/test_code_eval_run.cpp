// r1eval on code benchmarks end to end (label `sandbox`): a HumanEval run on the tiny random
// checkpoint (garbage in, no code out: results.json with pass@1 0 and the verdict counts), then a
// hand-made store of canonical and broken solutions re-graded in the sandbox (pass@1 exactly 1/2),
// a sandbox error retried on resume, the LiveCodeBench date window recorded in run.json, and the
// window refused for undated benchmarks.
#include <gtest/gtest.h>
#include <unistd.h>  // access

#include <map>  // std::map

#include "evals/benchmarks.h"    // r1::find_benchmark
#include "evals/sample_store.h"  // r1::SampleStore
#include "tests/test_util.h"     // r1::test::TempDir, r1::test::bin, r1::test::run_command
#include "toolkit/fs.h"          // r1::read_file
#include "toolkit/json.h"        // r1::read_json_file, r1::for_each_jsonl_object

namespace {

using r1::test::bin;
using r1::test::run_command;

const std::string kModel = "tests/data/models/tiny-r1";
const std::string kData = r1::test::shared_data("benchmarks");

// Compiled programs are cached in the test's own directory, not the user's ~/.cache.
std::string r1eval(const std::string& out) {
  return "R1_SANDBOX_CACHE=" + out + "-cache " + bin("r1eval");
}

std::string run_cmd(const std::string& bench, const std::string& out, const std::string& extra) {
  return r1eval(out) + " run " + bench + " --model " + kModel + " --data-dir " + kData + " --out " +
         out + " --no-progress --bootstrap 200 --sandbox-workers 2 " + extra;
}

class CodeEvalRun : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access("/usr/bin/bwrap", X_OK) != 0) GTEST_SKIP() << "bubblewrap is not installed";
  }
};

TEST_F(CodeEvalRun, HumanEvalRunRegradeAndResume) {
  r1::test::TempDir dir;
  const std::string out = dir / "run";
  auto r = run_command(run_cmd("humaneval", out, "--limit 2 --samples 2 --max-new-tokens 16"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("2 problems x 2 samples; 0 stored, 4 to generate"), std::string::npos)
      << r.out;
  auto results = r1::read_json_file(out + "/results.json");
  auto m = results["benchmarks"]["humaneval"];
  EXPECT_EQ(m["problems"], 2);
  EXPECT_EQ(m["samples"], 4);
  EXPECT_EQ(m["pass@1"], 0.0);
  EXPECT_EQ(m["no_answer_rate"], 1.0);  // a random model never closes its reasoning
  EXPECT_EQ(m["verdicts"]["no_answer"], 4);
  EXPECT_EQ(m["verdicts"]["SE"], 0);
  EXPECT_EQ(results["run"]["benchmarks"]["humaneval"]["grader"], "code");
  EXPECT_EQ(results["run"]["benchmarks"]["humaneval"]["checksum"], "matches");
  {
    r1::SampleStore store(out + "/samples.jsonl");
    ASSERT_EQ(store.size(), 4u);
    for (const auto& s : store.samples()) {
      EXPECT_FALSE(s.correct);
      EXPECT_TRUE(s.reason == "truncated" || s.reason == "unclosed_think") << s.reason;
    }
  }

  // Hand-made responses: sample 0 the canonical solution, sample 1 a broken one.
  std::map<std::string, std::pair<std::string, std::string>> rows;  // id -> (prompt, solution)
  r1::for_each_jsonl_object(kData + "/humaneval.jsonl",
                            [&](const nlohmann::json& j, const std::string&) {
                              rows[j["task_id"]] = {j["prompt"], j["canonical_solution"]};
                            });
  {
    r1::SampleStore store(out + "/samples.jsonl");
    auto samples = store.samples();
    for (auto& s : samples) {
      const auto& [prompt, solution] = rows.at(s.problem_id);
      const std::string code =
          s.sample_index == 0 ? prompt + solution : prompt + "    return None\n";
      s.response = "reasoning\n</think>\n```python\n" + code + "```\n";
      s.finish_reason = "stop";
    }
    store.rewrite(samples);
  }
  r = run_command(r1eval(out) + " regrade " + out + " --no-progress --sandbox-workers 2");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("judging 4 code samples"), std::string::npos) << r.out;
  results = r1::read_json_file(out + "/results.json");
  m = results["benchmarks"]["humaneval"];
  EXPECT_EQ(m["pass@1"], 0.5);
  EXPECT_EQ(m["verdicts"]["AC"], 2);
  EXPECT_EQ(m["verdicts"]["WA"], 2);
  EXPECT_EQ(m["no_answer_rate"], 0.0);
  for (const auto& p : m["per_problem"]) EXPECT_EQ(p["c"], 1);

  // A sandbox error is not the model's: the next run of the same command judges it again.
  {
    r1::SampleStore store(out + "/samples.jsonl");
    auto samples = store.samples();
    for (auto& s : samples)
      if (s.sample_index == 0 && s.problem_id == "HumanEval/0") {
        s.correct = false;
        s.reason = "SE: simulated";
      }
    store.rewrite(samples);
  }
  r = run_command(run_cmd("humaneval", out, "--limit 2 --samples 2 --max-new-tokens 16"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("4 stored, 0 to generate"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("judging 1 code samples"), std::string::npos) << r.out;
  results = r1::read_json_file(out + "/results.json");
  EXPECT_EQ(results["benchmarks"]["humaneval"]["pass@1"], 0.5);
  EXPECT_EQ(results["benchmarks"]["humaneval"]["verdicts"]["SE"], 0);
  EXPECT_NE(r1::read_file(out + "/summary.md").find("verdicts humaneval: AC 2"), std::string::npos);
}

TEST_F(CodeEvalRun, LiveCodeBenchWindowIsRecorded) {
  r1::test::TempDir dir;
  const std::string out = dir / "lcb";
  auto r = run_command(run_cmd("livecodebench", out,
                               "--since 2023-09-01 --until 2023-12-31 --limit 2 --samples 1 "
                               "--max-new-tokens 8"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto run = r1::read_json_file(out + "/run.json");
  const auto& b = run["benchmarks"]["livecodebench"];
  EXPECT_EQ(b["window"]["since"], "2023-09-01");
  EXPECT_EQ(b["window"]["until"], "2023-12-31");
  EXPECT_EQ(b["problems"], 2);
  EXPECT_EQ(b["format"], "livecodebench");
  const auto results = r1::read_json_file(out + "/results.json");
  EXPECT_EQ(results["benchmarks"]["livecodebench"]["samples"], 2);
  // The window is kept by regrade.
  r = run_command(r1eval(out) + " regrade " + out + " --no-progress");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r1::read_json_file(out + "/run.json")["benchmarks"]["livecodebench"]["window"]["since"],
            "2023-09-01");

  // A window over benchmarks without dates, or a malformed date: one clear line, exit 1.
  r = run_command(run_cmd("humaneval", dir / "he", "--since 2024-01-01 --samples 1"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("none of the benchmarks named has dates"), std::string::npos) << r.out;
  r = run_command(run_cmd("livecodebench", dir / "bad", "--until 2024/01/01 --samples 1"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("--until: '2024/01/01' is not a date YYYY-MM-DD"), std::string::npos)
      << r.out;
}

}  // namespace
