// Run records and their renderings: synthetic pipeline and r1eval run directories (results.json
// from the real metrics code), whole and damaged (torn training logs, missing evals and files, no
// stages, garbage pipeline.json), rendered as Markdown, HTML, JUnit and JSON; the SVG charts on
// empty and non-finite data. R1_RENDER_SAMPLE_HTML=PATH writes the full sample's HTML there (for
// tests/reports/check_html_chromium.sh), its Markdown and JUnit beside it (.md, .xml).
#include <gtest/gtest.h>  // TEST, EXPECT_*

#include <unistd.h>  // getpid

#include <cmath>       // NAN, INFINITY
#include <cstdlib>     // std::getenv
#include <filesystem>  // std::filesystem
#include <fstream>     // std::ofstream
#include <regex>       // std::regex, std::smatch
#include <string>      // std::string
#include <vector>      // std::vector

#include "evals/metrics.h"    // r1::compute_metrics, r1::metrics_to_json
#include "reports/record.h"   // r1::load_run_record
#include "reports/render.h"   // r1::render_*, r1::junit_xml, r1::html_escape
#include "reports/svg.h"      // r1::line_chart, r1::bar_chart
#include "tests/test_util.h"  // r1::test::error_of

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const std::vector<std::string> kFormats = {"md", "html", "junit", "json"};

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The value of attribute `name` on the first `element` tag of a JUnit document.
int attribute(const std::string& xml, const std::string& element, const std::string& name) {
  std::smatch m;
  const std::regex re("<" + element + "[^>]*\\s" + name + "=\"([0-9]+)\"");
  return std::regex_search(xml, m, re) ? std::stoi(m[1]) : -1;
}

// One benchmark's results.json block from `problems` problems x 8 samples; problem i gets
// (i * skill) % 9 correct samples (capped at 8), so a higher skill scores higher. math500
// problems carry subject and level tags.
json benchmark_block(const std::string& benchmark, int problems, int skill) {
  const std::vector<std::string> subjects = {"Algebra",       "Counting & Probability",
                                             "Geometry",      "Intermediate Algebra",
                                             "Number Theory", "Prealgebra",
                                             "Precalculus"};
  std::vector<r1::ProblemInfo> infos;
  std::vector<r1::SampleRecord> samples;
  for (int i = 0; i < problems; ++i) {
    r1::ProblemInfo p{"p" + std::to_string(i), "42", {}};
    if (benchmark == "math500")
      p.tags = {{"subject", subjects[i % subjects.size()]}, {"level", std::to_string(1 + i % 5)}};
    infos.push_back(p);
    const int correct = std::min(8, (i * skill) % 9 + skill / 3);
    for (int j = 0; j < 8; ++j) {
      r1::SampleRecord s;
      s.benchmark = benchmark;
      s.problem_id = p.id;
      s.sample_index = j;
      s.correct = j < correct;
      s.extracted = s.correct ? "42" : std::to_string(j);
      s.finish_reason = (i + j) % 11 == 0 ? "length" : "stop";
      s.completion_tokens = 100 + 10 * j;
      samples.push_back(s);
    }
  }
  r1::MetricsOptions o;
  o.bootstrap = 200;
  return r1::metrics_to_json(r1::compute_metrics(benchmark, infos, samples, o));
}

// An r1eval run directory: run.json and (unless `results` is false) results.json.
void write_eval_dir(const fs::path& dir, int skill, bool results = true) {
  const json run = {{"protocol", {{"preset", "r1"}, {"samples", 8}, {"temperature", 0.6}}},
                    {"benchmarks", json::object()},
                    {"command", "r1eval run math500 aime2024 --samples 8"}};
  write(dir / "run.json", run.dump(2));
  if (!results) return;
  const json r = {{"run", run},
                  {"benchmarks",
                   {{"math500", benchmark_block("math500", 30, skill)},
                    {"aime2024", benchmark_block("aime2024", 15, skill)}}}};
  write(dir / "results.json", r.dump(2));
}

json gate(const std::string& expr, const std::string& status, double judged, double bound,
          const std::string& message) {
  return {{"expr", expr},
          {"kind", "relative"},
          {"benchmark", "aime2024"},
          {"metric", "pass@1"},
          {"op", ">="},
          {"value", nullptr},
          {"reference", "prev"},
          {"reference_label", "stage sft"},
          {"reference_value", bound + 0.02},
          {"margin", 0.02},
          {"threshold", nullptr},
          {"estimate", judged + 0.03},
          {"ci95", {judged, judged + 0.06}},
          {"judged_on", "ci95_lo"},
          {"judged", judged},
          {"bound", bound},
          {"slack", judged - bound},
          {"confidence", 0.97},
          {"status", status},
          {"message", message}};
}

json stage(const std::string& name, const std::string& type, int index, const std::string& status) {
  return {{"name", name},
          {"type", type},
          {"index", index},
          {"status", status},
          {"dir", "stages/0" + std::to_string(index) + "-" + name},
          {"checkpoint", nullptr},
          {"train_dir", nullptr},
          {"metrics", nullptr},
          {"eval_dir", nullptr},
          {"data", nullptr},
          {"gates", json::array()},
          {"seconds", 12.5 * (index + 1)},
          {"error", nullptr}};
}

json pipeline(const std::string& name, const std::string& status, json stages) {
  return {{"format", "r1-pipeline-run"},
          {"version", 1},
          {"name", name},
          {"recipe", "pipeline/recipes/tiny-r1.yaml"},
          {"recipe_sha256", "ab12"},
          {"command", "r1pipeline run pipeline/recipes/tiny-r1.yaml"},
          {"status", status},
          {"promoted", nullptr},
          {"failed_stage", nullptr},
          {"error", nullptr},
          {"started", "2025-01-01T10:00:00Z"},
          {"updated", "2025-01-01T11:00:00Z"},
          {"stages", std::move(stages)}};
}

class RenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("r1-test-render-" + std::to_string(getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  // A finished pipeline with 4 stages: input and sft pass, rejection sampling keeps data, grpo
  // fails one gate and misses another; the SFT log ends in a torn line. User strings carry
  // markup.
  fs::path full_run() {
    const fs::path dir = root_ / "tiny-r1";
    write_eval_dir(dir / "stages/00-input/eval", 2);
    write_eval_dir(dir / "stages/01-sft/eval", 4);
    write_eval_dir(dir / "stages/03-grpo/eval", 5);
    std::string sft_log, grpo_log;
    for (int step = 1; step <= 60; ++step) {
      json row = {{"step", step}, {"loss", 3.0 / step}, {"lr", 1e-4}, {"note", "text"}};
      if (step % 20 == 0) row["eval_loss"] = 3.5 / step;
      sft_log += row.dump() + "\n";
      grpo_log += json({{"step", step},
                        {"loss", 0.01},
                        {"reward", 0.5 + step / 120.0},
                        {"accuracy", 0.4 + step / 200.0},
                        {"completions/mean_length", 100 + step},
                        {"iterations", json::array({{{"loss", 0.01}}})}})
                      .dump() +
                  "\n";
      if (step % 20 == 0)
        grpo_log += json({{"step", step}, {"eval/pass@1", 0.5 + step / 300.0}}).dump() + "\n";
    }
    write(dir / "stages/01-sft/train/metrics.jsonl", sft_log + "{\"step\": 61, \"lo");
    write(dir / "stages/03-grpo/train/metrics.jsonl", grpo_log);

    json input = stage("input", "input", 0, "passed");
    input["eval_dir"] = "stages/00-input/eval";
    json sft = stage("sft", "sft", 1, "passed");
    sft["eval_dir"] = "stages/01-sft/eval";
    sft["metrics"] = "stages/01-sft/train/metrics.jsonl";
    sft["checkpoint"] = "stages/01-sft/train/checkpoints/step-60";
    sft["gates"] = {gate("math500.pass@1 >= 0.2", "passed", 0.31, 0.2, "31.0% >= 20.0%")};
    json rs = stage("rs", "rejection_sampling", 2, "passed");
    rs["data"] = {
        {"rows", 1000}, {"kept", 640}, {"kept_rate", 0.64}, {"sft_data", "stages/02-rs/sft.jsonl"}};
    json grpo = stage("grpo", "grpo", 3, "failed");
    grpo["eval_dir"] = "stages/03-grpo/eval";
    grpo["metrics"] = "stages/03-grpo/train/metrics.jsonl";
    grpo["gates"] = {gate("math500.pass@1 >= prev - 0.02", "passed", 0.4, 0.33, "ok"),
                     gate("aime2024.pass@1 >= prev - 0.02", "failed", 0.509, 0.53,
                          "aime2024 <script>alert(1)</script> fell below stage sft"),
                     gate("gpqa.pass@1 >= 0.3", "missing", 0, 0, "gpqa was not evaluated")};
    grpo["gates"][2]["judged"] = nullptr;
    grpo["gates"][2]["slack"] = nullptr;
    json p = pipeline("tiny-r1 & <b>friends</b>", "failed", {input, sft, rs, grpo});
    p["promoted"] = {{"stage", "sft"}, {"checkpoint", "stages/01-sft/train/checkpoints/step-60"}};
    p["failed_stage"] = "grpo";
    write(dir / "pipeline.json", p.dump(2));
    return dir;
  }

  fs::path root_;
};

// Every format renders `record` without throwing; the JSON rendering parses back to the record.
void expect_renders(const json& record) {
  for (const auto& format : kFormats) {
    std::string out;
    EXPECT_NO_THROW(out = r1::render_run(record, format)) << format;
    EXPECT_FALSE(out.empty()) << format;
  }
  EXPECT_EQ(json::parse(r1::render_json(record)), record);
}

TEST_F(RenderTest, FullPipelineInEveryFormat) {
  const json record = r1::load_run_record(full_run().string());
  expect_renders(record);
  EXPECT_EQ(record["kind"], "pipeline");
  ASSERT_EQ(record["stages"].size(), 4u);
  EXPECT_EQ(record["stages"][1]["training"].size(), 60u);  // the torn 61st line is left out
  EXPECT_FALSE(record["stages"][1]["training"][0].contains("note"));  // numeric fields only
  EXPECT_EQ(record["stages"][3]["training"].size(), 63u);
  EXPECT_TRUE(record["stages"][0]["results"].contains("math500"));
  EXPECT_EQ(record["stages"][0]["protocol"]["preset"], "r1");
  EXPECT_TRUE(record["stages"][2]["results"].is_null());
  ASSERT_EQ(record["warnings"].size(), 1u) << record["warnings"].dump();
  EXPECT_NE(record["warnings"][0].get<std::string>().find("torn last line"), std::string::npos);

  const std::string md = r1::render_markdown(record);
  EXPECT_NE(md.find("**failed stage**: grpo"), std::string::npos) << md;
  EXPECT_NE(md.find("`aime2024.pass@1 >= prev - 0.02`: judged 50.9% (ci95_lo of estimate 53.9%) "
                    "vs bound 53.0%, slack -2.1 pp, confidence 0.97"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("`stages/01-sft/train/checkpoints/step-60` (stage sft)"), std::string::npos);
  EXPECT_NE(md.find("| rs | 1000 | 640 | 64.0% |"), std::string::npos) << md;
  EXPECT_EQ(md.find("| grpo | not evaluated"), std::string::npos);
  EXPECT_NE(md.find("| rs | not evaluated |"), std::string::npos) << md;
  EXPECT_EQ(md.find("<script>"), std::string::npos);
  EXPECT_EQ(md.find("<b>"), std::string::npos);

  const std::string junit = r1::render_junit(record);
  EXPECT_EQ(attribute(junit, "testsuites", "tests"), 4);     // 1 sft gate + 3 grpo gates
  EXPECT_EQ(attribute(junit, "testsuites", "failures"), 2);  // failed + missing
  EXPECT_EQ(attribute(junit, "testsuites", "errors"), 0);
  EXPECT_EQ(count(junit, "<testsuite "), 4u);
  EXPECT_EQ(count(junit, "<failure "), 2u);
  EXPECT_NE(junit.find("<failure message=\"failed: judged 50.9% (ci95_lo of estimate 53.9%) vs "
                       "bound 53.0%, slack -2.1 pp, confidence 0.97. aime2024 &lt;script&gt;"),
            std::string::npos)
      << junit;
  EXPECT_NE(junit.find("classname=\"grpo\""), std::string::npos);
  EXPECT_EQ(junit.find("<script>"), std::string::npos);

  const std::string html = r1::render_html(record);
  // pass@1 by stage, pass@k for 2 benchmarks, math500 by subject and by level, sft loss, grpo
  // loss / reward / accuracy.
  EXPECT_EQ(count(html, "<svg"), 9u);
  EXPECT_EQ(count(html, "http"), count(html, "xmlns=\"http://www.w3.org/2000/svg\""));
  for (const char* ref : {"src=", "href=", "url(", "@import", "<script", "<link"})
    EXPECT_EQ(html.find(ref), std::string::npos) << ref;
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("tiny-r1 &amp; &lt;b&gt;friends&lt;/b&gt;"), std::string::npos);
  EXPECT_EQ(html.find("nan"), std::string::npos);

  if (const char* path = std::getenv("R1_RENDER_SAMPLE_HTML")) {  // and .md, .xml beside it
    write(path, html);
    write(fs::path(path).replace_extension(".md"), md);
    write(fs::path(path).replace_extension(".xml"), junit);
  }
}

TEST_F(RenderTest, RunningPipelineWithMissingPieces) {
  const fs::path dir = root_ / "running";
  write_eval_dir(dir / "stages/00-input/eval", 3);
  write_eval_dir(dir / "stages/02-grpo/eval", 3, /*results=*/false);
  json input = stage("input", "input", 0, "evaluated");
  input["eval_dir"] = "stages/00-input/eval";
  json sft = stage("sft", "sft", 1, "running");
  sft["metrics"] = "stages/01-sft/train/metrics.jsonl";  // not written yet
  json grpo = stage("grpo", "grpo", 2, "pending");
  grpo["eval_dir"] = "stages/02-grpo/eval";  // run.json without results.json
  json bad = stage("bad", "sft", 3, "pending");
  bad["gates"] = {42, {{"expr", 7}, {"status", "passed"}}};  // odd gates do not crash anything
  bad["seconds"] = "soon";
  write(dir / "pipeline.json", pipeline("running", "running", {input, sft, grpo, bad, 17}).dump());

  const json record = r1::load_run_record(dir.string());
  expect_renders(record);
  EXPECT_EQ(record["stages"].size(), 4u);  // 17 is left out, with a warning
  const std::string warnings = record["warnings"].dump();
  EXPECT_NE(warnings.find("stages[4] is not an object"), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("stage sft: training log"), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("has no results.json (not evaluated)"), std::string::npos) << warnings;
  EXPECT_TRUE(record["stages"][2]["results"].is_null());
  EXPECT_EQ(record["stages"][2]["protocol"]["preset"], "r1");  // from run.json all the same

  const std::string md = r1::render_markdown(record);
  EXPECT_NE(md.find("| grpo | not evaluated |"), std::string::npos) << md;
  EXPECT_NE(md.find("## Warnings"), std::string::npos);
  EXPECT_EQ(attribute(r1::render_junit(record), "testsuites", "tests"), 1);
  // pass@1 by stage, pass@k for 2 benchmarks, math500 by subject and level; no training yet.
  EXPECT_EQ(count(r1::render_html(record), "<svg"), 5u);
}

TEST_F(RenderTest, EmptyAndErrorPipelines) {
  const fs::path empty = root_ / "empty";
  write(empty / "pipeline.json", pipeline("empty", "running", json::array()).dump());
  const json e = r1::load_run_record(empty.string());
  expect_renders(e);
  EXPECT_EQ(e["stages"].size(), 0u);
  EXPECT_EQ(count(r1::render_html(e), "<svg"), 0u);
  EXPECT_EQ(attribute(r1::render_junit(e), "testsuites", "tests"), 0);

  const fs::path err = root_ / "err";
  json crashed = stage("sft", "sft", 0, "error");
  crashed["error"] = "out of memory <script>x</script>";
  json failed = stage("rs", "rejection_sampling", 1, "failed");  // failed without a gate
  json p = pipeline("err", "error", {crashed, failed});
  p["error"] = "stage sft: out of memory";
  p["failed_stage"] = "sft";
  write(err / "pipeline.json", p.dump());
  const json r = r1::load_run_record(err.string());
  expect_renders(r);
  const std::string junit = r1::render_junit(r);
  EXPECT_EQ(attribute(junit, "testsuites", "tests"), 2);
  EXPECT_EQ(attribute(junit, "testsuites", "errors"), 1);
  EXPECT_EQ(attribute(junit, "testsuites", "failures"), 1);
  EXPECT_NE(junit.find("<error message=\"out of memory &lt;script&gt;"), std::string::npos)
      << junit;
  EXPECT_NE(r1::render_markdown(r).find("**failed stage**: sft"), std::string::npos);
}

TEST_F(RenderTest, GarbageDirectoriesThrowNamingTheFile) {
  const fs::path garbage = root_ / "garbage";
  write(garbage / "pipeline.json", "{not json");
  std::string message = r1::test::error_of([&] { r1::load_run_record(garbage.string()); });
  EXPECT_NE(message.find((garbage / "pipeline.json").string()), std::string::npos) << message;

  const fs::path other = root_ / "other";
  write(other / "pipeline.json", "{\"format\": \"something-else\"}");
  message = r1::test::error_of([&] { r1::load_run_record(other.string()); });
  EXPECT_NE(message.find("pipeline.json: not an r1 pipeline run"), std::string::npos) << message;

  fs::create_directories(root_ / "nothing");
  message = r1::test::error_of([&] { r1::load_run_record((root_ / "nothing").string()); });
  EXPECT_NE(message.find("not a run directory"), std::string::npos) << message;
}

TEST_F(RenderTest, EvalOnlyDirectory) {
  const fs::path dir = root_ / "base-eval";
  write_eval_dir(dir, 3);
  const json record = r1::load_run_record(dir.string() + "/");
  expect_renders(record);
  EXPECT_EQ(record["kind"], "eval");
  EXPECT_EQ(record["name"], "base-eval");
  ASSERT_EQ(record["stages"].size(), 1u);
  EXPECT_EQ(record["stages"][0]["type"], "eval");
  EXPECT_EQ(record["stages"][0]["status"], "evaluated");
  EXPECT_EQ(record["command"], "r1eval run math500 aime2024 --samples 8");
  EXPECT_TRUE(record["warnings"].empty()) << record["warnings"].dump();
  EXPECT_EQ(count(r1::render_html(record), "<svg"), 5u);
  EXPECT_NE(r1::render_markdown(record).find("| base-eval | aime2024 | 15 | 8 |"),
            std::string::npos)
      << r1::render_markdown(record);

  write(dir / "results.json", "[1, 2");  // a torn results.json: a warning, not an error
  const json torn = r1::load_run_record(dir.string());
  expect_renders(torn);
  EXPECT_EQ(torn["stages"][0]["status"], "running");
  EXPECT_NE(torn["warnings"].dump().find("not valid JSON"), std::string::npos);
}

TEST(Render, AnyJsonRendersAndUnknownFormatsThrow) {
  for (const json& j : {json(), json(42), json::array(), json::object(),
                        json{{"stages", {{{"results", {{"x", 1}}}, {"gates", "no"}}}}}}) {
    for (const auto& format : kFormats) EXPECT_NO_THROW(r1::render_run(j, format)) << j.dump();
  }
  const std::string message = r1::test::error_of([] { r1::render_run(json::object(), "pdf"); });
  EXPECT_NE(message.find("'pdf'"), std::string::npos);
  EXPECT_NE(message.find("md, html, junit or json"), std::string::npos);
}

TEST(Render, JunitCountsAndEscaping) {
  const json suites = {
      {{"name", "a&b"},
       {"time", 1.5},
       {"cases",
        {{{"name", "x < 1"}, {"classname", "a"}, {"failure", "bad \"quote\""}, {"error", nullptr}},
         {{"name", "ok"},
          {"classname", "a"},
          {"failure", nullptr},
          {"error", nullptr},
          {"output", "fine"}}}}},
      {{"name", "b"},
       {"cases", {{{"name", "boom"}, {"classname", "b"}, {"failure", nullptr}, {"error", "e"}}}}}};
  const std::string xml = r1::junit_xml(suites);
  EXPECT_EQ(attribute(xml, "testsuites", "tests"), 3);
  EXPECT_EQ(attribute(xml, "testsuites", "failures"), 1);
  EXPECT_EQ(attribute(xml, "testsuites", "errors"), 1);
  EXPECT_NE(xml.find("<testsuite name=\"a&amp;b\" tests=\"2\" failures=\"1\" errors=\"0\""),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("name=\"x &lt; 1\""), std::string::npos);
  EXPECT_NE(xml.find("message=\"bad &quot;quote&quot;\""), std::string::npos);
  EXPECT_NE(xml.find("<system-out>fine</system-out>"), std::string::npos);
}

TEST(Render, EscapingDropsInvalidXml) {
  EXPECT_EQ(r1::xml_escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
  EXPECT_EQ(r1::html_escape("x\x01y\tz"), "xy\tz");
  EXPECT_EQ(r1::xml_escape("\xff!"), "\xEF\xBF\xBD!");  // invalid UTF-8 -> U+FFFD
  EXPECT_EQ(r1::xml_escape("π ≥ 3"), "π ≥ 3");
}

TEST(Svg, EmptyAndNonFiniteDataShowNoData) {
  r1::ChartOptions o;
  o.title = "<b>&title";
  for (const std::string& svg :
       {r1::line_chart({}, o), r1::line_chart({{"s", {{NAN, 1}, {1, INFINITY}}}}, o),
        r1::bar_chart({}, {}, o), r1::bar_chart({"g"}, {{"s", {r1::Bar{}}}}, o)}) {
    EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
    EXPECT_NE(svg.find("no data"), std::string::npos) << svg;
    EXPECT_NE(svg.find("&lt;b&gt;&amp;title"), std::string::npos);
    EXPECT_EQ(svg.find("<b>"), std::string::npos);
  }
  o.x_log2 = true;
  EXPECT_NE(r1::line_chart({{"s", {{0, 0.5}, {-2, 0.5}}}}, o).find("no data"), std::string::npos);
}

TEST(Svg, ChartsSkipNonFinitePointsAndHandleOnePoint) {
  r1::ChartOptions o;
  o.y_percent = true;
  const std::string one = r1::line_chart({{"only <one>", {{3, 0.5}}}}, o);
  EXPECT_EQ(count(one, "<circle"), 2u);  // the point and the legend's marker
  EXPECT_NE(one.find("only &lt;one&gt;"), std::string::npos);
  const std::string mixed =
      r1::line_chart({{"a", {{1, 0.1}, {2, NAN}, {3, 0.3}, {INFINITY, 0.2}}}, {"b", {}}}, o);
  EXPECT_EQ(count(mixed, "<circle"), 4u);  // 2 points + 2 legend markers
  for (const char* bad : {"nan", "inf", "NaN"}) EXPECT_EQ(mixed.find(bad), std::string::npos);
  const std::string bars = r1::bar_chart(
      {"Algebra", "Geometry"},
      {{"sft", {{0.5, std::pair{0.4, 0.6}}, {NAN, std::nullopt}}}, {"grpo", {{0.7, std::nullopt}}}},
      o);
  EXPECT_EQ(count(bars, "<rect"), 5u);  // background, 2 bars (none for NaN), 2 legend swatches
  EXPECT_NE(bars.find("sft · Algebra: 50.0% [40.0%, 60.0%]"), std::string::npos) << bars;
  std::vector<r1::LineSeries> crowd;  // more legend entries than rows: the rest are counted
  for (int i = 0; i < 20; ++i) crowd.push_back({"stage " + std::to_string(i), {{1, i}, {2, i}}});
  EXPECT_NE(r1::line_chart(crowd, {}).find(" more</text>"), std::string::npos);
  std::vector<std::pair<double, double>> many;
  for (int i = 0; i < 5000; ++i) many.push_back({i, std::sin(i / 100.0)});
  const std::string big = r1::line_chart({{"loss", many}}, {});
  EXPECT_LT(big.size(), 20000u);         // thinned to about 400 points
  EXPECT_EQ(count(big, "<circle"), 1u);  // no markers on long series: the legend's only
}

}  // namespace
