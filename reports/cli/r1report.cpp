// r1report: reports of pipeline and r1eval runs (reports/render.h) and CI comparisons
// (reports/compare.h).
//   r1report render RUN [--format md|html|junit|json] [--out FILE]
//   r1report compare BASE NEW [--gate FILE] [--junit FILE] [--json FILE] [--out FILE]
//   r1report baseline RUN --out DIR     (a slim copy of RUN for later compares: reports/baseline.h)
// Exit status: 0 (compare: every gate held), 3 a gate failed, 1 an error, 2 bad flags.
#include <CLI/CLI.hpp>  // CLI::App

#include <cstdio>  // std::fputs, std::fprintf
#include <string>  // std::string

#include "reports/baseline.h"   // r1::write_baseline
#include "reports/compare.h"    // r1::compare_runs, r1::render_compare_markdown
#include "reports/record.h"     // r1::load_run_record
#include "reports/render.h"     // r1::render_run
#include "toolkit/cli_flags.h"  // r1::parse_flags
#include "toolkit/cli_main.h"   // r1::guarded_main
#include "toolkit/fs.h"         // r1::write_file_atomic
#include "toolkit/json.h"       // r1::dump_json

namespace {

constexpr int kExitGateFailed = 3;  // as r1pipeline's

// Writes `text` to `path`, or to stdout when path is "" or "-".
void emit(const std::string& path, const std::string& text) {
  if (path.empty() || path == "-") {
    std::fputs(text.c_str(), stdout);
  } else {
    r1::write_file_atomic(path, text);
  }
}

int run(int argc, char** argv) {
  CLI::App app{
      "r1report: render a pipeline or r1eval run; compare two runs with gates (CI); write a "
      "baseline"};
  app.require_subcommand(1);
  std::string run_dir, format = "md", out;
  auto* render = app.add_subcommand("render", "a run's report");
  render->add_option("run", run_dir, "a pipeline or r1eval run folder")->required();
  render->add_option("--format", format, "md, html, junit or json")->capture_default_str();
  render->add_option("--out", out, "write here instead of stdout");
  r1::RunCompareOptions c;
  std::string junit, json_out, md_out;
  auto* compare = app.add_subcommand("compare", "NEW against BASE, paired per problem; gates");
  compare->add_option("base", c.base, "the base run folder")->required();
  compare->add_option("new", c.next, "the new run folder")->required();
  compare->add_option("--gate", c.gates_file,
                      "gates (YAML: gates: [...], stages: {NAME: [...]}); exit 3 if one fails");
  compare->add_option("--junit", junit, "also write JUnit XML here");
  compare->add_option("--json", json_out, "also write the comparison as JSON here");
  compare->add_option("--out", md_out, "write the Markdown here instead of stdout");
  compare->add_option("--bootstrap", c.bootstrap, "bootstrap resamples")->capture_default_str();
  std::string baseline_run, baseline_out;
  auto* baseline = app.add_subcommand(
      "baseline", "a slim copy of a run to compare against (no checkpoints, samples or logs)");
  baseline->add_option("run", baseline_run, "a pipeline or r1eval run folder")->required();
  baseline->add_option("--out", baseline_out, "the baseline folder (new, empty or a baseline)")
      ->required();
  if (const auto code = r1::parse_flags(app, argc, argv)) return *code;
  if (render->parsed()) {
    emit(out, r1::render_run(r1::load_run_record(run_dir), format));
    return 0;
  }
  if (baseline->parsed()) {
    const int n = r1::write_baseline(baseline_run, baseline_out);
    std::fprintf(stderr, "r1report: baseline %s written from %s (%d files)\n", baseline_out.c_str(),
                 baseline_run.c_str(), n);
    return 0;
  }
  const nlohmann::json cmp = r1::compare_runs(c);
  emit(md_out, r1::render_compare_markdown(cmp));
  if (!junit.empty()) r1::write_file_atomic(junit, r1::render_compare_junit(cmp));
  if (!json_out.empty()) r1::write_file_atomic(json_out, r1::dump_json(cmp, 2) + "\n");
  if (!cmp.value("passed", true)) {
    std::fprintf(stderr, "r1report: %lld of %lld gates failed\n",
                 static_cast<long long>(cmp.value("failed", int64_t{0})),
                 static_cast<long long>(cmp.value("gates", int64_t{0})));
    return kExitGateFailed;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return r1::guarded_main("r1report", [&] { return run(argc, argv); });
}
