// r1report compare: paired comparisons of r1eval and pipeline runs, gates files, the Markdown and
// JUnit it writes for CI, and the command's exit status (0 held, 3 a gate failed, 1 bad input).
#include <gtest/gtest.h>

#include <filesystem>  // std::filesystem
#include <fstream>     // std::ofstream
#include <string>      // std::string

#include "evals/metrics.h"     // r1::compute_metrics, r1::metrics_to_json
#include "reports/baseline.h"  // r1::write_baseline, r1::baseline_without_training_logs
#include "reports/compare.h"
#include "tests/test_util.h"  // r1::test::TempDir, bin, run_command, error_of
#include "toolkit/fs.h"       // r1::read_file
#include "toolkit/json.h"     // r1::dump_json, r1::read_json_file

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using r1::test::TempDir;

// A results.json "benchmarks" block: problem i has correct[i] of 4 samples correct.
json bench_block(const std::string& name, const std::vector<int>& correct) {
  std::vector<r1::ProblemInfo> problems;
  std::vector<r1::SampleRecord> samples;
  for (size_t i = 0; i < correct.size(); ++i) {
    const std::string id = "p" + std::to_string(i);
    problems.push_back({id, "1", {}});
    for (int k = 0; k < 4; ++k) {
      r1::SampleRecord s;
      s.benchmark = name;
      s.problem_id = id;
      s.sample_index = k;
      s.finish_reason = "stop";
      s.correct = k < correct[i];
      s.extracted = s.correct ? "1" : "2";
      samples.push_back(s);
    }
  }
  r1::MetricsOptions mo;
  mo.bootstrap = 500;
  return r1::metrics_to_json(r1::compute_metrics(name, problems, samples, mo));
}

void write_eval_run(const std::string& dir, const std::vector<int>& correct) {
  fs::create_directories(dir);
  std::ofstream(dir + "/run.json") << json({{"protocol", {{"samples", 4}}}}).dump();
  std::ofstream(dir + "/results.json")
      << json({{"run", json::object()},
               {"benchmarks", {{"heldout", bench_block("heldout", correct)}}}})
             .dump();
}

// A pipeline run with stages input and rl (evaluated) and rs (data only).
void write_pipeline_run(const std::string& dir, const std::vector<int>& rl_correct, int kept) {
  write_eval_run(dir + "/stages/00-input/eval", std::vector<int>(rl_correct.size(), 1));
  write_eval_run(dir + "/stages/01-rl/eval", rl_correct);
  auto stage = [](const std::string& name, const std::string& type, const json& eval_dir) {
    return json({{"name", name},
                 {"type", type},
                 {"status", "passed"},
                 {"eval_dir", eval_dir},
                 {"gates", json::array()},
                 {"data", nullptr}});
  };
  json s = {{"format", "r1-pipeline-run"},
            {"version", 1},
            {"name", "t"},
            {"status", "passed"},
            {"stages", json::array()}};
  s["stages"].push_back(stage("input", "input", "stages/00-input/eval"));
  s["stages"].push_back(stage("rl", "grpo", "stages/01-rl/eval"));
  json rs = stage("rs", "rejection_sampling", nullptr);
  rs["data"] = {{"rows", 100}, {"kept", kept}, {"kept_rate", kept / 100.0}};
  s["stages"].push_back(rs);
  std::ofstream(dir + "/pipeline.json") << s.dump(2);
}

TEST(Compare, EvalRunsPairedAndGated) {
  TempDir dir;
  const std::vector<int> base = {4, 4, 3, 2, 4, 1, 0, 4, 4, 3};
  std::vector<int> same = base, worse = base;
  for (int& c : worse) c = std::max(0, c - 2);  // every problem 2 of 4 samples worse
  write_eval_run(dir / "base", base);
  write_eval_run(dir / "same", same);
  write_eval_run(dir / "worse", worse);
  std::ofstream(dir / "gates.yaml") << "gates:\n  - heldout.pass@1 >= base - 0.05\n"
                                       "  - truncated_rate <= 0.05\n";
  r1::RunCompareOptions o;
  o.base = dir / "base";
  o.next = dir / "same";
  o.gates_file = dir / "gates.yaml";
  o.bootstrap = 500;
  json c = r1::compare_runs(o);
  EXPECT_TRUE(c["passed"].get<bool>());
  EXPECT_EQ(c["gates"], 2);
  ASSERT_EQ(c["stages"].size(), 1u);
  EXPECT_DOUBLE_EQ(c["stages"][0]["benchmarks"]["heldout"]["diff"].get<double>(), 0.0);
  o.next = dir / "worse";
  c = r1::compare_runs(o);
  EXPECT_FALSE(c["passed"].get<bool>());
  EXPECT_EQ(c["failed"], 1);
  const json g = c["stages"][0]["gates"][0];
  EXPECT_EQ(g["status"], "failed");
  EXPECT_EQ(g["reference"], "baseline");
  const double d = c["stages"][0]["benchmarks"]["heldout"]["diff"].get<double>();
  EXPECT_NEAR(g["estimate"].get<double>(), d, 1e-12);
  EXPECT_LT(d, -0.3);
  const std::string md = r1::render_compare_markdown(c);
  EXPECT_NE(md.find("❌ 1 of 2 gates failed"), std::string::npos) << md;
  EXPECT_NE(md.find("| heldout | 10 |"), std::string::npos) << md;
  const std::string xml = r1::render_compare_junit(c);
  EXPECT_NE(xml.find("tests=\"2\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("failures=\"1\""), std::string::npos) << xml;

  // The command: exit 0 when the gates hold, 3 when one fails, 1 for a bad gates file or run.
  const std::string cmd = r1::test::bin("r1report") + " compare " + (dir / "base") + " ";
  auto r = r1::test::run_command(cmd + (dir / "same") + " --gate " + (dir / "gates.yaml") +
                                 " --junit " + (dir / "j.xml") + " --json " + (dir / "c.json"));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("✅ no regression (2 gates hold)"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(dir / "j.xml"));
  r = r1::test::run_command(cmd + (dir / "worse") + " --gate " + (dir / "gates.yaml"));
  EXPECT_EQ(r.exit_code, 3) << r.out;
  EXPECT_NE(r.out.find("1 of 2 gates failed"), std::string::npos) << r.out;
  r = r1::test::run_command(cmd + (dir / "worse"));  // no gates: a report, exit 0
  EXPECT_EQ(r.exit_code, 0) << r.out;
  std::ofstream(dir / "bad.yaml") << "gates: [\"heldout.pass@1 >= bas - 0.05\"]\n";
  r = r1::test::run_command(cmd + (dir / "same") + " --gate " + (dir / "bad.yaml"));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("bad.yaml: gates[0]"), std::string::npos) << r.out;
  r = r1::test::run_command(cmd + (dir / "nope"));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find(dir / "nope"), std::string::npos) << r.out;
}

TEST(Compare, PipelineRunsByStage) {
  TempDir dir;
  write_pipeline_run(dir / "base", {4, 4, 4, 4, 4, 4, 4, 4}, 60);
  write_pipeline_run(dir / "new", {4, 4, 4, 4, 4, 4, 4, 3}, 40);
  std::ofstream(dir / "gates.yaml") << "gates: [\"pass@1 >= baseline - 0.1\"]\n"
                                       "stages:\n  rs: [\"kept >= baseline - 10\"]\n"
                                       "  gone: [\"pass@1 >= 0\"]\n";
  r1::RunCompareOptions o;
  o.base = dir / "base";
  o.next = dir / "new";
  o.gates_file = dir / "gates.yaml";
  o.bootstrap = 500;
  const json c = r1::compare_runs(o);
  ASSERT_EQ(c["stages"].size(), 3u);
  EXPECT_EQ(c["stages"][0]["stage"], "input");
  EXPECT_EQ(c["stages"][1]["stage"], "rl");
  // rl: 8 problems, one 1/4 lower: the mean difference -1/32, its interval [-0.09375, 0] or so.
  EXPECT_NEAR(c["stages"][1]["benchmarks"]["heldout"]["diff"].get<double>(), -1.0 / 32, 1e-12);
  EXPECT_EQ(c["stages"][1]["gates"][0]["status"], "passed");
  // rs: kept 40 vs 60: the data gate fails by 10; benchmark gates do not apply (no evaluation).
  ASSERT_EQ(c["stages"][2]["gates"].size(), 1u);
  EXPECT_EQ(c["stages"][2]["gates"][0]["status"], "failed");
  EXPECT_DOUBLE_EQ(c["stages"][2]["gates"][0]["slack"].get<double>(), -10);
  EXPECT_FALSE(c["passed"].get<bool>());
  bool warned = false;
  for (const auto& w : c["warnings"])
    warned |= w.get<std::string>().find("stages.gone") != std::string::npos;
  EXPECT_TRUE(warned) << c["warnings"].dump();
  // A pipeline run against an r1eval run is refused.
  write_eval_run(dir / "eval", {4});
  o.next = dir / "eval";
  EXPECT_NE(r1::test::error_of([&] { r1::compare_runs(o); }).find("compare runs of one kind"),
            std::string::npos);
}

// A baseline (r1report baseline) keeps pipeline.json and the evaluations, records that it keeps
// no training logs, and so a comparison against it warns of nothing; a plain copy of pipeline.json
// (what CI kept before) warns that each training log cannot be opened.
TEST(Compare, BaselineKeepsNoTrainingLogsAndWarnsOfNone) {
  TempDir dir;
  write_pipeline_run(dir / "run", {4, 4, 3, 4}, 60);
  json p = r1::read_json_file(dir / "run/pipeline.json");
  p["stages"][1]["metrics"] = "stages/01-rl/train/metrics.jsonl";
  std::ofstream(dir / "run/pipeline.json") << p.dump(2);
  fs::create_directories(dir / "run/stages/01-rl/train");
  std::ofstream(dir / "run/stages/01-rl/train/metrics.jsonl") << "{\"step\": 1, \"loss\": 0.5}\n";
  std::ofstream(dir / "run/stages/01-rl/eval/samples.jsonl") << "{}\n";

  EXPECT_EQ(r1::write_baseline(dir / "run", dir / "base"), 5);  // 2 x (run, results) + pipeline
  EXPECT_TRUE(fs::exists(dir / "base/stages/01-rl/eval/results.json"));
  EXPECT_FALSE(fs::exists(dir / "base/stages/01-rl/eval/samples.jsonl"));
  EXPECT_FALSE(fs::exists(dir / "base/stages/01-rl/train"));
  const json b = r1::read_json_file(dir / "base/pipeline.json");
  EXPECT_EQ(b["baseline"]["training_logs"], false);
  EXPECT_TRUE(r1::baseline_without_training_logs(b));
  EXPECT_FALSE(r1::baseline_without_training_logs(p));

  r1::RunCompareOptions o;
  o.base = dir / "base";
  o.next = dir / "run";
  o.bootstrap = 200;
  json c = r1::compare_runs(o);
  EXPECT_TRUE(c["warnings"].empty()) << c["warnings"].dump();
  EXPECT_DOUBLE_EQ(c["stages"][1]["benchmarks"]["heldout"]["diff"].get<double>(), 0.0);

  // The old way: pipeline.json copied as it is, so the loader looks for the logs and warns.
  fs::create_directories(dir / "copy");
  fs::copy(dir / "run/stages", dir / "copy/stages", fs::copy_options::recursive);
  fs::remove_all(dir / "copy/stages/01-rl/train");
  fs::copy_file(dir / "run/pipeline.json", dir / "copy/pipeline.json");
  o.base = dir / "copy";
  c = r1::compare_runs(o);
  ASSERT_EQ(c["warnings"].size(), 1u) << c["warnings"].dump();
  EXPECT_NE(c["warnings"][0].get<std::string>().find("training log"), std::string::npos);

  // Rewriting a baseline replaces it; any other non-empty folder is refused, naming it.
  EXPECT_EQ(r1::write_baseline(dir / "run", dir / "base"), 5);
  EXPECT_NE(r1::test::error_of([&] {
              r1::write_baseline(dir / "run", dir / "copy");
            }).find("copy: not empty and not an r1 baseline"),
            std::string::npos);
  EXPECT_TRUE(fs::exists(dir / "copy/pipeline.json"));  // left as it was
  EXPECT_NE(r1::test::error_of([&] {
              r1::write_baseline(dir / "nope", dir / "b2");
            }).find("nope: not a run directory"),
            std::string::npos);
  const auto r = r1::test::run_command(r1::test::bin("r1report") + " baseline " + (dir / "run") +
                                       " --out " + (dir / "b3"));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(fs::exists(dir / "b3/stages/00-input/eval/run.json"));
}

}  // namespace
