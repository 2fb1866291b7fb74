// The GRPO trainer: per prompt G samples from the native engine on the live policy, rule-based
// rewards (rl/rewards.h) with DAPO's overlong penalty, group advantages, the clipped surrogate with
// a k3 KL to a frozen reference (loaded only when beta > 0) and TRL's aggregations
// (rl/grpo_loss.h), num_iterations updates per generation batch against stored old log-probs, DAPO
// dynamic sampling, truncated-completion masking, held-out pass@1 through r1eval's runner on the
// live weights, atomic checkpoints and exact resume (bit for bit on CPU), non-finite steps skipped
// and logged. Data parallel when launched like a torchrun job (rl/distributed.h): the step's
// prompts split evenly across ranks, the same updates as one process. Prompt rows are math
// (gold answer) or code (stdin tests, judged in the sandbox by the accuracy reward; grpo_data.h).
// Leaves out learned reward models.
#pragma once

#include <nlohmann/json.hpp>  // nlohmann::json

#include <cstdint>     // int64_t, uint64_t
#include <functional>  // std::function
#include <optional>    // std::optional
#include <string>      // std::string
#include <vector>      // std::vector

#include "rl/rewards.h"  // r1::RewardRegistry
#include "rl/sft.h"      // r1::FieldRole

namespace r1 {

// One GRPO run. The CLI flags, RUN/grpo_config.json and the resume check derive from
// visit_grpo_config. A step is one generation batch (prompts_per_step x num_generations
// completions) followed by num_iterations optimiser updates on it.
struct GrpoConfig {
  // Data and model.
  std::string model;    // base checkpoint directory (Hugging Face, with tokenizer.json)
  std::string prompts;  // training JSONL: {"prompt", "answer"} (grpo_data.h)
  std::string out;      // run directory: metrics.jsonl, grpo_config.json, checkpoints/, evals/
  std::string chat_template;    // template override (deepseek-r1, qwen2.5, ..., or a .jinja file)
  std::string template_kwargs;  // JSON object of extra chat-template variables ("" = none)
  std::string prompt_template = "{problem}";  // the user turn; {problem} = the row's prompt
  std::string system_prompt;                  // "" = no system turn
  // The prompt does not open a "<think>" block (R1 forces one): for chat models that answer
  // without reasoning tags; the rewards and the held-out evaluation then read the whole response.
  bool no_think = false;
  // Generation.
  int64_t num_generations = 8;   // G: completions per prompt
  int64_t prompts_per_step = 4;  // groups per generation batch
  int64_t max_new_tokens = 256;  // completion limit (also L_max of the overlong penalty)
  double temperature = 1.0;      // sampling temperature; log-probs use the same scaling (TRL)
  double top_p = 1.0;            // nucleus mass (1 = off)
  int64_t top_k = 0;             // top-k (0 = off)
  int64_t max_batch = 64;        // engine rows decoded together
  // Rewards.
  std::string rewards = "accuracy:1.0,format:0.5";  // weighted reward spec (rewards.h)
  std::string extract = "boxed";  // accuracy: answer extraction preset (evals/extract.h)
  int64_t overlong_buffer = 0;    // DAPO soft overlong penalty zone L_cache (tokens); 0 = off
  double overlong_factor = 1.0;   // weight of the overlong penalty in the reward
  // Advantages and loss.
  std::string scale_rewards = "group";  // advantage scaling: group, batch, none (Dr. GRPO)
  std::string loss_type = "dapo";       // grpo, bnpo, dr_grpo, dapo
  std::string importance_sampling_level = "token";  // token, or sequence (GSPO)
  double epsilon = 0.2;                             // lower clip: ratio >= 1 - epsilon
  double epsilon_high = 0.0;      // upper clip 1 + epsilon_high; 0 = epsilon (DAPO: 0.28)
  double delta = 0.0;             // two-sided clip cap on the ratio (INTELLECT-2); 0 = off
  double beta = 0.0;              // k3 KL coefficient; 0 loads no reference model
  int64_t num_iterations = 1;     // updates per generation batch (> 1: stored old log-probs)
  bool mask_truncated = false;    // completions cut at max_new_tokens carry no loss
  bool dynamic_sampling = false;  // DAPO: drop groups whose rewards are all equal, refill
  int64_t max_refill_rounds = 3;  // dynamic sampling: extra generation rounds per step at most
  int64_t micro_batch = 8;        // completions per forward/backward (data parallel: per
                                  //   micro-batch of the whole step, each rank forwarding its own)
  // Optimiser and schedule.
  int64_t steps = 100;        // generation steps (optimiser updates: steps * num_iterations)
  double lr = 1e-6;           // peak learning rate
  int64_t warmup_steps = 0;   // linear warmup, in optimiser updates
  double min_lr_ratio = 0.1;  // cosine floor as a fraction of lr
  double weight_decay = 0.0;  // AdamW decoupled decay (matrices only)
  double beta1 = 0.9;         // AdamW first-moment decay
  double beta2 = 0.999;       // AdamW second-moment decay
  double adam_eps = 1e-8;     // AdamW epsilon
  double clip = 1.0;          // max global gradient norm; 0 = no clipping
  uint64_t seed = 0;          // prompt order, sampling seeds, torch's generators, eval seeds
  // Held-out evaluation (r1eval's runner over the live weights) and checkpoints.
  std::string eval_prompts;         // held-out JSONL {"prompt", "answer"} ("" = no eval)
  int64_t eval_every = 0;           // eval every N steps (and at step 0 and the end); 0 = start/end
  int64_t eval_samples = 4;         // samples per held-out problem (pass@1 averaged over them)
  int64_t eval_limit = 0;           // only the first N held-out problems (0 = all)
  double eval_temperature = 0.6;    // R1's evaluation sampling
  double eval_top_p = 0.95;         // R1's evaluation sampling
  int64_t eval_max_new_tokens = 0;  // 0 = max_new_tokens
  int64_t save_every = 0;           // checkpoint every N steps (and at the end); 0 = at the end
  int64_t keep_last = 2;            // checkpoints kept; 0 = all
  std::string metrics;              // the metrics log ("" = OUT/metrics.jsonl)
  std::string dtype = "auto";       // float32, bfloat16; auto = float32 on CPU, bfloat16 on CUDA
  std::string device = "cpu";       // cpu, cuda, cuda:N
  int64_t threads = 0;              // CPU threads for LibTorch; 0 = its default
  int64_t max_bad_steps = 3;        // consecutive non-finite steps that stop the run
  // Write each step's training batch to OUT/batches/step-NNNNNN.json (one process only): every
  // kept completion's prompt and completion token ids, reward, advantage, truncation and its
  // per-token log-probs under the policy before the update, with the step's loss, KL and gradient
  // norm. For checking a step against another trainer on the same batch
  // (tests/reference/grpo_trl_parity.py).
  bool dump_batches = false;
  // Testing hooks (not part of a run's identity).
  std::vector<int64_t> nan_steps;  // steps (1-based) whose loss is replaced by NaN
  int64_t stop_after = 0;          // stop after this step without a checkpoint, as if killed
  std::function<void(const std::string&)> before_checkpoint_write;  // see CheckpointConfig
};

// Calls f(name, field, help, role) for each field of GrpoConfig (snake_case names; the CLI flag
// is the name with dashes). Required fields: model, prompts, out.
template <typename Config, typename F>
void visit_grpo_config(Config& c, F&& f) {
  using R = FieldRole;
  f("model", c.model, "base checkpoint directory (Hugging Face, with tokenizer.json)", R::kRun);
  f("prompts", c.prompts, "training JSONL: {\"prompt\", \"answer\"}", R::kRun);
  f("out", c.out, "run directory (metrics.jsonl, checkpoints/, evals/); rerun to resume", R::kFree);
  f("chat_template", c.chat_template,
    "template override: deepseek-r1, deepseek-r1-nothink, qwen2.5, llama3, llama3.1, FILE.jinja",
    R::kRun);
  f("template_kwargs", c.template_kwargs,
    "JSON object of extra chat-template variables, e.g. '{\"enable_thinking\": false}'", R::kRun);
  f("prompt_template", c.prompt_template, "user turn; {problem} is the row's prompt", R::kRun);
  f("system_prompt", c.system_prompt, "system turn (empty: none)", R::kRun);
  f("no_think", c.no_think,
    "do not open <think> in the prompt (chat models without a think block; rewards and eval read "
    "the whole response)",
    R::kRun);
  f("num_generations", c.num_generations, "G: completions per prompt", R::kRun);
  f("prompts_per_step", c.prompts_per_step, "prompts (groups) per generation batch", R::kRun);
  f("max_new_tokens", c.max_new_tokens, "completion token limit", R::kRun);
  f("temperature", c.temperature, "sampling temperature (> 0)", R::kRun);
  f("top_p", c.top_p, "nucleus sampling mass (1 = off)", R::kRun);
  f("top_k", c.top_k, "top-k sampling (0 = off)", R::kRun);
  f("max_batch", c.max_batch, "engine rows decoded together", R::kFree);
  f("rewards", c.rewards,
    "weighted rewards: accuracy, boxed, format, language, length (NAME:W,...)", R::kRun);
  f("extract", c.extract, "accuracy: answer extraction preset", R::kRun);
  f("overlong_buffer", c.overlong_buffer,
    "DAPO soft overlong penalty over the last N tokens before --max-new-tokens (0 = off)", R::kRun);
  f("overlong_factor", c.overlong_factor, "weight of the overlong penalty", R::kRun);
  f("scale_rewards", c.scale_rewards, "advantage scaling: group, batch, none", R::kRun);
  f("loss_type", c.loss_type, "loss aggregation: grpo, bnpo, dr_grpo, dapo", R::kRun);
  f("importance_sampling_level", c.importance_sampling_level, "token, or sequence (GSPO)", R::kRun);
  f("epsilon", c.epsilon, "lower clip of the importance ratio (1 - epsilon)", R::kRun);
  f("epsilon_high", c.epsilon_high, "upper clip (1 + epsilon_high); 0 = --epsilon", R::kRun);
  f("delta", c.delta, "two-sided clip: cap on the unclipped ratio (0 = off)", R::kRun);
  f("beta", c.beta, "KL coefficient (k3 to the frozen base model; 0 = no reference)", R::kRun);
  f("num_iterations", c.num_iterations, "optimiser updates per generation batch", R::kRun);
  f("mask_truncated", c.mask_truncated, "no loss on completions cut at --max-new-tokens", R::kRun);
  f("dynamic_sampling", c.dynamic_sampling,
    "DAPO: drop groups whose rewards are all equal and generate more", R::kRun);
  f("max_refill_rounds", c.max_refill_rounds, "dynamic sampling: extra rounds per step at most",
    R::kRun);
  f("micro_batch", c.micro_batch, "completions per forward/backward", R::kRun);
  f("steps", c.steps, "generation steps", R::kRun);
  f("lr", c.lr, "peak learning rate", R::kRun);
  f("warmup_steps", c.warmup_steps, "linear warmup, in optimiser updates", R::kRun);
  f("min_lr_ratio", c.min_lr_ratio, "cosine floor as a fraction of --lr", R::kRun);
  f("weight_decay", c.weight_decay, "AdamW decoupled weight decay (matrices only)", R::kRun);
  f("beta1", c.beta1, "AdamW beta1", R::kRun);
  f("beta2", c.beta2, "AdamW beta2", R::kRun);
  f("adam_eps", c.adam_eps, "AdamW epsilon", R::kRun);
  f("clip", c.clip, "max global gradient norm (0 = off)", R::kRun);
  f("seed", c.seed, "seed of the prompt order, sampling and evaluation", R::kRun);
  f("eval_prompts", c.eval_prompts, "held-out JSONL {\"prompt\", \"answer\"}: pass@1", R::kFree);
  f("eval_every", c.eval_every, "eval every N steps (0 = at the start and end only)", R::kFree);
  f("eval_samples", c.eval_samples, "samples per held-out problem", R::kFree);
  f("eval_limit", c.eval_limit, "only the first N held-out problems (0 = all)", R::kFree);
  f("eval_temperature", c.eval_temperature, "eval sampling temperature", R::kFree);
  f("eval_top_p", c.eval_top_p, "eval nucleus mass", R::kFree);
  f("eval_max_new_tokens", c.eval_max_new_tokens, "eval token limit (0 = --max-new-tokens)",
    R::kFree);
  f("save_every", c.save_every, "checkpoint every N steps (0 = at the end only)", R::kFree);
  f("keep_last", c.keep_last, "checkpoints kept (0 = all)", R::kFree);
  f("metrics", c.metrics, "metrics log (default OUT/metrics.jsonl)", R::kFree);
  f("dtype", c.dtype, "float32 or bfloat16 (auto: float32 on CPU, bfloat16 on CUDA)", R::kRun);
  f("device", c.device, "cpu, cuda, cuda:N", R::kFree);
  f("threads", c.threads, "CPU threads (0 = LibTorch's default)", R::kFree);
  f("max_bad_steps", c.max_bad_steps, "consecutive non-finite steps that stop the run", R::kFree);
  f("dump_batches", c.dump_batches,
    "write each step's batch (token ids, rewards, advantages, log-probs) to OUT/batches/",
    R::kFree);
  f("nan_steps", c.nan_steps, "testing: steps whose loss is made NaN", R::kTesting);
  f("stop_after", c.stop_after, "testing: stop after this step without a checkpoint", R::kTesting);
}

// The config as JSON (every visited field), and the first kRun field where two configs differ.
// Throws r1::Error naming the first field that is missing or out of range (what run_grpo checks
// first; r1pipeline check uses it before anything runs).
void check_grpo_config(const GrpoConfig& c);
nlohmann::json grpo_config_json(const GrpoConfig& c);
std::optional<std::string> grpo_config_difference(const nlohmann::json& saved,
                                                  const nlohmann::json& now);

// What a finished (or stopped) run reports.
struct GrpoResult {
  int64_t steps = 0;                 // generation steps done, resumed ones included
  int64_t total_steps = 0;           // steps of the whole run
  int64_t resumed_from = 0;          // step of the checkpoint resumed from (0 = fresh)
  int64_t skipped_steps = 0;         // non-finite steps skipped in this process
  double reward = 0.0;               // mean reward of the last step
  std::optional<double> eval_pass1;  // the last held-out pass@1
  std::string checkpoint;            // the newest checkpoint
};

// Runs (or resumes) GRPO. `registry` supplies the rewards named in config.rewards (null: the
// built-in ones). Throws r1::Error on bad input, a failed checkpoint (naming the intact previous
// one) and on max_bad_steps non-finite steps in a row.
GrpoResult run_grpo(const GrpoConfig& config, const RewardRegistry* registry = nullptr);

}  // namespace r1
