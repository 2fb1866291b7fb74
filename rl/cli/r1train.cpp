// r1train: r1's trainers behind one command, one subcommand each (`r1train sft ...`, `r1train grpo
// ...`, `r1train zero`). A subcommand is an entry in kCommands: it adds its flags (derived from its
// config's visit function) to a CLI11 sub-app and returns the action to run. Leaves out launching
// ranks: torchrun (or RANK / WORLD_SIZE / MASTER_ADDR / MASTER_PORT) starts one r1train per rank.
#include <CLI/CLI.hpp>  // CLI::App

#include <cstdio>      // std::printf
#include <functional>  // std::function
#include <memory>      // std::make_shared
#include <string>      // std::string
#include <vector>      // std::vector

#include "rl/config_flags.h"    // r1::add_config_flags
#include "rl/distributed.h"     // r1::read_dist_env
#include "rl/grpo_cli.h"        // r1::add_grpo_command
#include "rl/sft.h"             // r1::SftConfig, r1::run_sft, r1::visit_sft_config
#include "rl/zero.h"            // r1::ZeroRunConfig, r1::run_zero, r1::visit_zero_run_config
#include "toolkit/cli_flags.h"  // r1::parse_flags
#include "toolkit/cli_main.h"   // r1::guarded_main
#include "toolkit/error.h"      // r1::check
#include "toolkit/hf_hub.h"     // r1::resolve_model_path

namespace {

using Action = std::function<int()>;

Action add_sft(CLI::App& parent) {
  auto* app = parent.add_subcommand(
      "sft",
      "supervised fine-tuning on chat JSONL; loss on response tokens; resumes from OUT's newest "
      "checkpoint when rerun with the same flags");
  auto config = std::make_shared<r1::SftConfig>();
  r1::add_config_flags(*app, *config, [](auto& c, auto&& f) { r1::visit_sft_config(c, f); },
                       {"model", "data", "out"});
  return [app, config]() -> int {
    if (!app->parsed()) return -1;
    config->model = r1::resolve_model_path(config->model);  // a hub id: its cached snapshot
    const auto r = r1::run_sft(*config);
    std::string line =
        "r1train sft: " + std::to_string(r.steps) + "/" + std::to_string(r.total_steps) + " steps";
    if (r.resumed_from > 0) line += " (resumed from step " + std::to_string(r.resumed_from) + ")";
    line += ", loss " + std::to_string(r.loss);
    if (r.eval_loss) line += ", eval loss " + std::to_string(*r.eval_loss);
    if (r.skipped_steps > 0) line += ", " + std::to_string(r.skipped_steps) + " skipped";
    line += r.checkpoint.empty() ? ", no checkpoint" : ", checkpoint " + r.checkpoint;
    if (r1::read_dist_env().rank == 0) std::printf("%s\n", line.c_str());  // once per job
    return 0;
  };
}

Action add_zero(CLI::App& parent) {
  auto* app = parent.add_subcommand(
      "zero",
      "the tiny R1-Zero (built-in default): synthetic arithmetic task and tiny Qwen2, base "
      "pretraining, cold-start SFT, then GRPO with held-out pass@1; writes OUT/results.json, "
      "results.md and plot.svg; rerun to resume");
  auto config = std::make_shared<r1::ZeroRunConfig>();
  r1::add_config_flags(*app, *config, [](auto& c, auto&& f) { r1::visit_zero_run_config(c, f); },
                       {});
  return [app, config]() -> int {
    if (!app->parsed()) return -1;
    r1::check(r1::read_dist_env().world_size == 1,
              "r1train zero runs in one process (WORLD_SIZE is set above 1); launch r1train sft / "
              "grpo under torchrun instead");
    const auto r = r1::run_zero(*config);
    std::string line = "r1train zero: " + r.results_path;
    if (r.results.contains("gain_points"))
      line += ": held-out pass@1 " +
              std::to_string(r.results.at("pass@1_before_grpo").get<double>()) + " -> " +
              std::to_string(r.results.at("pass@1_after_grpo").get<double>()) + " during GRPO";
    line += ", " +
            std::to_string(static_cast<int64_t>(r.results.at("seconds_total").get<double>())) +
            " s";
    std::printf("%s\n", line.c_str());
    return 0;
  };
}

// The subcommands, in help order. A new trainer adds one line here.
const std::vector<Action (*)(CLI::App&)> kCommands = {add_sft, r1::add_grpo_command, add_zero};

int run(int argc, char** argv) {
  CLI::App app{"r1train: train reasoning models (SFT, GRPO) from Hugging Face checkpoints"};
  app.require_subcommand(1);
  std::vector<Action> actions;
  for (auto add : kCommands) actions.push_back(add(app));
  if (const auto code = r1::parse_flags(app, argc, argv)) return *code;
  for (auto& action : actions) {
    const int rc = action();
    if (rc >= 0) return rc;
  }
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  return r1::guarded_main("r1train", [&] { return run(argc, argv); });
}
