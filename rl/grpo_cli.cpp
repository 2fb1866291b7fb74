// `r1train grpo` (see grpo_cli.h).
#include "rl/grpo_cli.h"

#include <CLI/CLI.hpp>  // CLI::App

#include <cstdio>  // std::printf
#include <memory>  // std::make_shared
#include <string>  // std::string

#include "rl/config_flags.h"  // r1::add_config_flags
#include "rl/distributed.h"   // r1::read_dist_env
#include "rl/grpo.h"          // r1::GrpoConfig, r1::run_grpo, r1::visit_grpo_config
#include "toolkit/hf_hub.h"   // r1::resolve_model_path

namespace r1 {

std::function<int()> add_grpo_command(CLI::App& parent) {
  auto* app = parent.add_subcommand(
      "grpo",
      "GRPO on prompts with gold answers: G samples per prompt from the live policy, rule-based "
      "rewards, clipped surrogate (+ KL with --beta); resumes from OUT's newest checkpoint when "
      "rerun with the same flags");
  auto config = std::make_shared<GrpoConfig>();
  add_config_flags(*app, *config, [](auto& c, auto&& f) { visit_grpo_config(c, f); },
                   {"model", "prompts", "out"});
  return [app, config]() -> int {
    if (!app->parsed()) return -1;
    config->model = resolve_model_path(config->model);  // a hub id: its cached snapshot
    const GrpoResult r = run_grpo(*config);
    std::string line =
        "r1train grpo: " + std::to_string(r.steps) + "/" + std::to_string(r.total_steps) + " steps";
    if (r.resumed_from > 0) line += " (resumed from step " + std::to_string(r.resumed_from) + ")";
    line += ", reward " + std::to_string(r.reward);
    if (r.eval_pass1) line += ", held-out pass@1 " + std::to_string(*r.eval_pass1);
    if (r.skipped_steps > 0) line += ", " + std::to_string(r.skipped_steps) + " skipped";
    line += r.checkpoint.empty() ? ", no checkpoint" : ", checkpoint " + r.checkpoint;
    if (read_dist_env().rank == 0) std::printf("%s\n", line.c_str());  // once per job
    return 0;
  };
}

}  // namespace r1
