// Logit-level distillation (GKD, Agarwal et al. 2024, as TRL's GKDTrainer): the student is trained
// on the generalised JSD (distill/kd_loss.h) between its next-token distributions and a local
// teacher's that shares its tokenizer, over the response tokens of SFT rows ({"prompt",
// "response"}, rendered with the student's chat template) or, on a seeded share lmbda of the steps,
// over completions the student samples itself from the rows' prompts (on-policy). With top_k > 0
// the teacher's top-K log-probs of each sequence are computed once and kept in a TeacherCache
// (OUT/teacher-cache), so later epochs do not run the teacher for the dataset's rows again. AdamW
// with warmup + cosine, gradient clipping; checkpoints as Hugging Face directories with the
// trainer state, resumed bit for bit on CPU. Leaves out data parallelism, gradient accumulation
// and a vocabulary-chunked student head (the student's (B, T, V) logits exist at once).
#pragma once

#include <cstdint>  // int64_t, uint64_t
#include <string>   // std::string

#include "distill/kd_loss.h"  // r1::KdConfig

namespace r1 {

struct KdTrainConfig {
  std::string student;          // checkpoint directory trained (its tokenizer and chat template)
  std::string template_kwargs;  // JSON object of extra variables for its chat template ("" = none)
  std::string teacher;          // checkpoint directory with the same tokenizer.json
  std::string data;             // SFT JSONL ({"prompt", "response"} or {"messages"})
  std::string out;              // run directory: metrics.jsonl, checkpoints/, teacher-cache/
  KdConfig kd;
  double epochs = 2.0;
  int64_t batch_size = 8;
  double lr = 1e-5;
  int64_t warmup_steps = 0;
  double min_lr_ratio = 0.1;
  double clip = 1.0;
  uint64_t seed = 0;
  int64_t max_length = 0;           // tokens per row (0 = the student's context)
  int64_t max_new_tokens = 256;     // on-policy completions
  double sample_temperature = 0.9;  // on-policy sampling (TRL GKDConfig's default)
  int64_t save_every = 0;           // checkpoint every N steps (0 = at the end only)
  int64_t threads = 0;
  int64_t stop_after = 0;  // tests: stop after this step without a checkpoint, as if killed
};

struct KdTrainResult {
  int64_t steps = 0, total_steps = 0, resumed_from = 0;
  int64_t on_policy_steps = 0;    // in this process
  int64_t teacher_sequences = 0;  // sequences the teacher ran on in this process
  int64_t cache_hits = 0;         // sequences whose top-K came from the cache
  double loss = 0.0;              // of the last step
  std::string checkpoint;
};

// Throws r1::Error saying plainly that logit-level KD cannot apply when the teacher's and the
// student's tokenizers or vocabularies differ (checkpoint directories or GGUF files).
void check_kd_models(const std::string& teacher, const std::string& student);

// Runs (or resumes) the distillation. Throws r1::Error for bad flags, a teacher with another
// tokenizer, bad data, and naming the intact checkpoint when one cannot be written.
KdTrainResult run_kd(const KdTrainConfig& config);

}  // namespace r1
