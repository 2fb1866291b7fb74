// The SFT trainer: next-token loss on response tokens only (summed per token, divided by the
// response tokens of the whole optimiser step, as transformers' Trainer does with accumulation),
// AdamW with warmup + cosine, clipping and accumulation, periodic held-out eval, atomic Hugging
// Face checkpoints with the trainer state, and exact resume from the newest one (bit for bit on
// CPU). Non-finite steps are skipped and logged; the run stops after max_bad_steps in a row. Data
// parallel when launched like a torchrun job (rl/distributed.h): --batch-size rows per micro-batch
// over all ranks, split evenly, the same steps as one process. Leaves out packing and LoRA.
#pragma once

#include <torch/types.h>  // torch::Tensor

#include <nlohmann/json.hpp>  // nlohmann::json

#include <cstdint>     // int64_t, uint64_t
#include <functional>  // std::function
#include <optional>    // std::optional
#include <span>        // std::span
#include <string>      // std::string
#include <utility>     // std::pair
#include <vector>      // std::vector

#include "rl/sft_data.h"          // r1::SftBatch, r1::SftExample
#include "toolkit/transformer.h"  // r1::Transformer

namespace r1 {

// One SFT run. The CLI flags (--batch-size ...), RUN/sft_config.json and the resume check all
// derive from visit_sft_config below.
struct SftConfig {
  std::string model;            // base checkpoint directory (Hugging Face, with tokenizer.json)
  std::string data;             // training JSONL: {"messages": [...]} or {"prompt", "response"}
  std::string out;              // run directory: metrics.jsonl, sft_config.json, checkpoints/
  std::string eval_data;        // held-out JSONL for the eval loss ("" = no eval)
  std::string chat_template;    // template override (deepseek-r1, qwen2.5, ..., or a .jinja file)
  std::string template_kwargs;  // JSON object of extra chat-template variables ("" = none)
  int64_t max_length = 0;       // tokens per sequence; 0 = the model's max_position_embeddings
  bool truncate = false;        // cut too-long responses instead of refusing the row
  int64_t batch_size = 4;       // sequences per forward/backward (micro-batch)
  int64_t grad_accum = 1;       // micro-batches per optimiser step
  int64_t steps = 0;            // optimiser steps; 0 = as many as `epochs` takes
  double epochs = 1.0;          // passes over the data when steps is 0
  double lr = 1e-5;             // peak learning rate
  int64_t warmup_steps = 0;     // linear warmup steps
  double min_lr_ratio = 0.1;    // cosine floor as a fraction of lr
  double weight_decay = 0.0;    // AdamW decoupled decay (matrices only)
  double beta1 = 0.9;           // AdamW first-moment decay
  double beta2 = 0.999;         // AdamW second-moment decay
  double adam_eps = 1e-8;       // AdamW epsilon
  double clip = 1.0;            // max global gradient norm; 0 = no clipping
  uint64_t seed = 0;            // data order (and torch's generators)
  int64_t eval_every = 0;      // eval every N steps (and at step 0 and the end); 0 = start/end only
  int64_t save_every = 0;      // checkpoint every N steps (and at the end); 0 = at the end only
  int64_t keep_last = 2;       // checkpoints kept; 0 = all
  std::string dtype = "auto";  // float32, bfloat16; auto = float32 on CPU, bfloat16 on CUDA
  std::string device = "cpu";  // cpu, cuda, cuda:N
  int64_t threads = 0;         // CPU threads for LibTorch; 0 = its default
  int64_t max_bad_steps = 3;   // consecutive non-finite steps that stop the run
  // Testing hooks (not part of a run's identity).
  std::vector<int64_t> nan_steps;  // steps (1-based) whose loss is replaced by NaN
  int64_t stop_after = 0;          // stop after this step without a checkpoint, as if killed
  std::function<void(const std::string&)> before_checkpoint_write;  // see CheckpointConfig
};

// How a field takes part in a run: kRun fields define it (a resume must use the same values),
// kFree fields may change between a run and its resume, kTesting are test hooks.
enum class FieldRole { kRun, kFree, kTesting };

// Calls f(name, field, help, role) for each field of SftConfig (snake_case names; the CLI flag is
// the name with dashes). Required fields: model, data, out.
template <typename Config, typename F>
void visit_sft_config(Config& c, F&& f) {
  using R = FieldRole;
  f("model", c.model, "base checkpoint directory (Hugging Face, with tokenizer.json)", R::kRun);
  f("data", c.data, "training JSONL: {\"messages\": [...]} or {\"prompt\", \"response\"}", R::kRun);
  f("out", c.out, "run directory (metrics.jsonl, checkpoints/); rerun to resume", R::kFree);
  f("eval_data", c.eval_data, "held-out JSONL: mean response loss at each eval", R::kFree);
  f("chat_template", c.chat_template,
    "template override: deepseek-r1, deepseek-r1-nothink, qwen2.5, llama3, llama3.1, FILE.jinja",
    R::kRun);
  f("template_kwargs", c.template_kwargs,
    "JSON object of extra chat-template variables, e.g. '{\"enable_thinking\": false}'", R::kRun);
  f("max_length", c.max_length, "tokens per sequence (0 = the model's context)", R::kRun);
  f("truncate", c.truncate, "cut too-long responses instead of refusing the row", R::kRun);
  f("batch_size", c.batch_size, "sequences per forward/backward", R::kRun);
  f("grad_accum", c.grad_accum, "micro-batches per optimiser step", R::kRun);
  f("steps", c.steps, "optimiser steps (0 = from --epochs)", R::kRun);
  f("epochs", c.epochs, "passes over the data when --steps is 0", R::kRun);
  f("lr", c.lr, "peak learning rate", R::kRun);
  f("warmup_steps", c.warmup_steps, "linear warmup steps", R::kRun);
  f("min_lr_ratio", c.min_lr_ratio, "cosine floor as a fraction of --lr", R::kRun);
  f("weight_decay", c.weight_decay, "AdamW decoupled weight decay (matrices only)", R::kRun);
  f("beta1", c.beta1, "AdamW beta1", R::kRun);
  f("beta2", c.beta2, "AdamW beta2", R::kRun);
  f("adam_eps", c.adam_eps, "AdamW epsilon", R::kRun);
  f("clip", c.clip, "max global gradient norm (0 = off)", R::kRun);
  f("seed", c.seed, "seed of the data order and torch's generators", R::kRun);
  f("eval_every", c.eval_every, "eval every N steps (0 = at the start and end only)", R::kFree);
  f("save_every", c.save_every, "checkpoint every N steps (0 = at the end only)", R::kFree);
  f("keep_last", c.keep_last, "checkpoints kept (0 = all)", R::kFree);
  f("dtype", c.dtype, "float32 or bfloat16 (auto: float32 on CPU, bfloat16 on CUDA)", R::kRun);
  f("device", c.device, "cpu, cuda, cuda:N", R::kFree);
  f("threads", c.threads, "CPU threads (0 = LibTorch's default)", R::kFree);
  f("max_bad_steps", c.max_bad_steps, "consecutive non-finite steps that stop the run", R::kFree);
  f("nan_steps", c.nan_steps, "testing: steps whose loss is made NaN", R::kTesting);
  f("stop_after", c.stop_after, "testing: stop after this step without a checkpoint", R::kTesting);
}

// The config as JSON (every visited field), and the first kRun field where two configs differ.
// Throws r1::Error naming the first field that is missing or out of range (what run_sft checks
// first; r1pipeline check uses it before anything runs).
void check_sft_config(const SftConfig& c);
nlohmann::json sft_config_json(const SftConfig& c);
std::optional<std::string> sft_config_difference(const nlohmann::json& saved,
                                                 const nlohmann::json& now);

// What a finished (or stopped) run reports.
struct SftResult {
  int64_t steps = 0;                // optimiser steps done, resumed ones included
  int64_t total_steps = 0;          // steps of the whole run
  int64_t resumed_from = 0;         // step of the checkpoint resumed from (0 = fresh)
  int64_t skipped_steps = 0;        // non-finite steps skipped in this process
  double loss = 0.0;                // loss of the last step that was taken
  std::optional<double> eval_loss;  // the last eval loss
  std::string checkpoint;           // the newest checkpoint
};

// Runs (or resumes) SFT. Throws r1::Error on bad input, a failed checkpoint (naming the intact
// previous one) and on max_bad_steps non-finite steps in a row.
SftResult run_sft(const SftConfig& config);

// The summed negative log-likelihood of the batch's response tokens (float32 scalar,
// differentiable), through the chunked token_logprobs kernel (no (N, V) logits).
torch::Tensor sft_loss_sum(Transformer& model, const SftBatch& batch);
// Zeroes the gradient of the embedding row of config.pad_token_id, as transformers'
// nn.Embedding(padding_idx=pad_token_id) does, so training matches it where pad is also a real
// token (tiny-r1: pad = EOS). Untied models only: a tied matrix's LM-head gradient on that row
// cannot be told apart after backward, and is left as it is.
void zero_padding_embedding_grad(Transformer& model);
// The summed response-token NLL of `rows` and their response tokens (no gradient), in batches of
// batch_size; ranks add theirs up for the held-out loss.
std::pair<double, int64_t> sft_loss_totals(Transformer& model, std::span<const SftExample> rows,
                                           int64_t batch_size, int64_t pad_id);
// The token-weighted mean loss of `rows` (no gradient), in batches of batch_size.
double sft_mean_loss(Transformer& model, const std::vector<SftExample>& rows, int64_t batch_size,
                     int64_t pad_id);

}  // namespace r1
