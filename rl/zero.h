// The tiny R1-Zero, r1's built-in default job: one call writes the synthetic arithmetic task and a
// random-init tiny Qwen2 (rl/zero_task.h), pretrains it on the base documents, gives it a small
// cold-start SFT, then runs GRPO on the task's prompts with held-out pass@1 (16 samples per
// problem) measured through r1eval's runner on the live weights, and writes OUT/results.json,
// OUT/results.md and OUT/plot.svg (reward and held-out pass@1 by GRPO step). Each stage is an
// ordinary r1train run in its own folder (OUT/base, OUT/sft, OUT/grpo), so rerunning resumes.
// Leaves out the R1 paper's rejection-sampling SFT round and the final all-scenario RL stage.
#pragma once

#include <nlohmann/json.hpp>  // nlohmann::json

#include <cstdint>  // int64_t
#include <string>   // std::string

#include "rl/sft.h"        // r1::FieldRole
#include "rl/zero_task.h"  // r1::ZeroTaskConfig, r1::visit_zero_task_config

namespace r1 {

struct ZeroRunConfig {
  std::string out = "runs/zero";  // run folder: assets/, base/, sft/, grpo/, results.*, plot.svg
  std::string until = "grpo";     // last stage to run: assets, base, sft, grpo
  ZeroTaskConfig task = default_task();
  // Base pretraining (an SFT run over base.jsonl).
  int64_t base_steps = 3000;
  int64_t base_batch = 32;
  double base_lr = 5e-3;
  // Cold-start SFT over sft.jsonl.
  int64_t sft_steps = 3;
  int64_t sft_batch = 16;
  double sft_lr = 5e-4;
  // GRPO.
  int64_t grpo_steps = 200;
  int64_t num_generations = 8;
  int64_t prompts_per_step = 16;
  int64_t max_new_tokens = 48;
  double temperature = 1.0;
  double grpo_lr = 1e-3;
  std::string rewards = "accuracy:1.0,format:0.5";
  // Held-out evaluation during GRPO (pass@1 over eval_samples samples of every held-out problem).
  int64_t eval_every = 10;
  int64_t eval_samples = 16;
  double eval_temperature = 1.0;
  int64_t threads = 0;  // CPU threads for LibTorch (0 = its default)

  static ZeroTaskConfig default_task() {
    ZeroTaskConfig t;
    t.max_operand = 9;
    t.max_value = 9;
    t.model_size = "micro";
    // A base with bad habits for GRPO to unlearn: 40% of its documents answer without working,
    // 30% work with one slip. Reasoning correctly is what the reward pays for.
    t.base_direct_fraction = 0.4;
    t.base_error_fraction = 0.3;
    return t;
  }
};

// Calls f(name, field, help, role) for each field (the task's fields under their own names).
template <typename Config, typename F>
void visit_zero_run_config(Config& c, F&& f) {
  using R = FieldRole;
  f("out", c.out, "run folder (rerun to resume)", R::kFree);
  f("until", c.until, "last stage to run: assets, base, sft, grpo", R::kFree);
  visit_zero_task_config(c.task, f);
  f("base_steps", c.base_steps, "base pretraining steps", R::kRun);
  f("base_batch", c.base_batch, "base pretraining batch (sequences)", R::kRun);
  f("base_lr", c.base_lr, "base pretraining peak learning rate", R::kRun);
  f("sft_steps", c.sft_steps, "cold-start SFT steps", R::kRun);
  f("sft_batch", c.sft_batch, "cold-start SFT batch (sequences)", R::kRun);
  f("sft_lr", c.sft_lr, "cold-start SFT peak learning rate", R::kRun);
  f("grpo_steps", c.grpo_steps, "GRPO generation steps", R::kRun);
  f("num_generations", c.num_generations, "GRPO: completions per prompt (G)", R::kRun);
  f("prompts_per_step", c.prompts_per_step, "GRPO: prompts per step", R::kRun);
  f("max_new_tokens", c.max_new_tokens, "GRPO and eval completion limit", R::kRun);
  f("temperature", c.temperature, "GRPO sampling temperature", R::kRun);
  f("grpo_lr", c.grpo_lr, "GRPO peak learning rate", R::kRun);
  f("rewards", c.rewards, "GRPO rewards (NAME:W,...)", R::kRun);
  f("eval_every", c.eval_every, "held-out eval every N GRPO steps", R::kRun);
  f("eval_samples", c.eval_samples, "samples per held-out problem", R::kRun);
  f("eval_temperature", c.eval_temperature, "held-out sampling temperature", R::kRun);
  f("threads", c.threads, "CPU threads (0 = LibTorch's default)", R::kFree);
}

struct ZeroRunResult {
  nlohmann::json results;  // what OUT/results.json holds
  std::string results_path, markdown_path, plot_path;
};

// Runs (or resumes) every stage up to config.until; throws r1::Error on bad config or a failed
// stage (naming it).
ZeroRunResult run_zero(const ZeroRunConfig& config);

// An SVG line chart of GRPO's metrics.jsonl: mean reward and accuracy per step, and held-out
// pass@1 at each eval (x = step, y = 0..max).
std::string zero_plot_svg(const nlohmann::json& results);

}  // namespace r1
