// r1pipeline: the R1 recipe as gated stages (pipeline/pipeline.h).
//   r1pipeline run RECIPE [--out DIR] [--resume] [--until STAGE] [--baseline RUN] [--threads N]
//   r1pipeline check RECIPE     parse and check a recipe, print it resolved (runs nothing)
// Exit status: 0 every gate held, 3 a gate failed (the run stops; the last promoted checkpoint
// stays), 1 an error (bad recipe, a stage that could not run), 2 bad flags.
#include <CLI/CLI.hpp>  // CLI::App

#include <cstdio>  // std::printf
#include <string>  // std::string

#include "pipeline/pipeline.h"   // r1::run_pipeline, r1::kExitGateFailed
#include "pipeline/preflight.h"  // r1::preflight_recipe
#include "pipeline/recipe.h"     // r1::load_recipe
#include "toolkit/cli_flags.h"   // r1::parse_flags
#include "toolkit/cli_main.h"    // r1::guarded_main
#include "toolkit/json.h"        // r1::dump_json

namespace {

int run(int argc, char** argv) {
  CLI::App app{"r1pipeline: every stage of the R1 recipe gated on benchmark results"};
  app.require_subcommand(1);
  r1::PipelineOptions o;
  auto* run_cmd = app.add_subcommand("run", "run (or --resume) a recipe");
  run_cmd->add_option("recipe", o.recipe, "the recipe (YAML)")->required();
  run_cmd->add_option("--out", o.out, "the run folder (default runs/RECIPE_NAME)");
  run_cmd->add_flag("--resume", o.resume,
                    "continue the run in --out at its failed or interrupted stage");
  run_cmd->add_option("--until", o.until, "stop after this stage");
  run_cmd->add_option("--baseline", o.baseline,
                      "a baseline run (pipeline or r1eval) for 'baseline' in gates");
  run_cmd->add_option("--threads", o.threads, "CPU threads for LibTorch (default: the recipe's)");
  std::string check_path;
  auto* check_cmd = app.add_subcommand("check", "check a recipe and print it resolved");
  check_cmd->add_option("recipe", check_path, "the recipe (YAML)")->required();
  if (const auto code = r1::parse_flags(app, argc, argv)) return *code;
  if (check_cmd->parsed()) {
    const r1::Recipe r = r1::load_recipe(check_path, "RUN");
    r1::preflight_recipe(r, "RUN");
    std::printf("%s\n", r1::dump_json(r.resolved, 2).c_str());
    return 0;
  }
  o.command = "r1pipeline";
  for (int i = 1; i < argc; ++i) o.command += std::string(" ") + argv[i];
  const r1::PipelineResult r = r1::run_pipeline(o);
  if (r.status == "failed") {
    std::printf("r1pipeline: stage %s failed its gates; promoted checkpoint: %s (report: %s)\n",
                r.failed_stage.c_str(), r.promoted.c_str(), (r.run_dir + "/report.md").c_str());
    return r1::kExitGateFailed;
  }
  std::printf("r1pipeline: %s; promoted checkpoint: %s (report: %s)\n",
              r.status == "passed" ? "every gate held" : "stopped (--until)", r.promoted.c_str(),
              (r.run_dir + "/report.md").c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return r1::guarded_main("r1pipeline", [&] { return run(argc, argv); });
}
