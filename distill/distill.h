// r1distill's pipeline: teacher traces through r1eval's runner and sample store (stage 1),
// rejection sampling (stage 2, distill/rejection.h), the student's SFT on the kept traces with the
// engine's SFT trainer (stage 3), and held-out evaluations of teacher, student before and student
// after, side by side in OUT/report.json and OUT/report.md. Each stage lives in its own folder of
// OUT and resumes when rerun: the runner generates only samples not yet stored, SFT continues from
// its newest checkpoint, finished evaluations are read back. Models are named by preset (a models
// file the user edits), local checkpoint directory or endpoint URL. Stage 3 trains by SFT on the
// kept traces (--train sft) or by logit-level KD on them
// (--train kd: distill/kd_train.h; a local teacher sharing the student's tokenizer). Prompt rows
// are math ({problem, answer}) or code ({prompt, tests, language}: traces judged in the sandbox),
// as r1eval reads a user's JSONL (custom_benchmark). The held-out report covers --eval-data and
// registry benchmarks by name (--eval-benchmarks), each with the paired per-problem difference of
// the student after against before.
#pragma once

#include <nlohmann/json.hpp>  // nlohmann::json

#include <cstdint>  // int64_t
#include <string>   // std::string
#include <vector>   // std::vector

#include "distill/kd_loss.h"    // r1::KdConfig
#include "distill/rejection.h"  // r1::RejectionConfig
#include "rl/sft.h"             // r1::FieldRole

namespace r1 {

// A model as r1distill uses it: a local checkpoint directory, or an OpenAI-compatible endpoint.
struct ModelRef {
  std::string spec;          // as the user named it
  std::string preset;        // the preset it came from ("" when named by path or URL)
  std::string dir;           // local checkpoint (config.json + safetensors + tokenizer.json)
  std::string endpoint;      // base URL, e.g. https://api.deepseek.com/v1
  std::string served_model;  // the API's "model" ("" = the server's first)
  std::string api = "chat";  // chat or completions
  std::string api_key_env;   // environment variable holding the API key ("" = none needed)
  bool local() const { return !dir.empty(); }
};

// The presets r1 knows without a models file: r1 (DeepSeek's API, deepseek-reasoner, key from
// DEEPSEEK_API_KEY), r1-vllm (a local vLLM server of DeepSeek-R1), and local checkpoints qwen-7b,
// qwen-1.5b, qwen-32b, llama-8b, llama-70b (the R1 paper's student bases) under the models dir.
// {"models": {NAME: {"dir": ...} | {"endpoint", "served_model", "api", "api_key_env"}}}.
nlohmann::json builtin_model_presets();
// $R1_MODELS_FILE, else ~/.config/r1/models.json.
std::string default_models_file();
// $R1_MODELS_DIR, else ~/.cache/r1/models.
std::string default_models_dir();

// Resolves `spec` for `role` ("teacher", "student"): a URL (http:// or https://) is an endpoint, an
// existing directory a checkpoint, anything else a preset of the built-ins overlaid by
// `models_file` (when it exists). A preset's relative "dir" is under `models_dir`. Throws r1::Error
// saying what to put where for an unknown name, a missing directory, a malformed models file or a
// missing API key.
ModelRef resolve_model(const std::string& spec, const std::string& role,
                       const std::string& models_file, const std::string& models_dir);

struct DistillConfig {
  std::string teacher, student;  // preset, checkpoint directory or endpoint URL
  std::string prompts;           // JSONL of problems with reference answers
  std::string out;               // run folder: traces/, filter/, student/, evals/, report.*
  std::string models_file;       // "" = default_models_file()
  std::string models_dir;        // "" = default_models_dir()
  std::string until = "report";  // last stage: traces, filter, sft, report
  // Prompt rows and format. protocol: r1eval's preset for traces and evaluations ("r1": the R1
  // paper's instruction and forced <think>; "grpo": the row's text as the user turn). With
  // rejection.no_think (--no-think) no prompt opens "<think>": traces, the student's SFT rows and
  // the evaluations are plain chat replies.
  std::string question_field = "problem", answer_field = "answer", id_field;
  std::string protocol = "r1";
  // Extra chat-template variables (JSON objects, "" = none), e.g. '{"enable_thinking": true}'.
  std::string teacher_template_kwargs, student_template_kwargs;
  int64_t limit = 0;  // only the first N prompts (0 = all)
  // Stage 1: traces.
  int64_t samples = 4;  // traces per prompt
  double temperature = 0.6, top_p = 0.95;
  int64_t max_new_tokens = 32768;
  uint64_t seed = 0;
  int64_t concurrency = 16;  // endpoint teacher: requests in flight
  // Stage 2: rejection sampling.
  RejectionConfig rejection;
  // Stage 3: the student's SFT (R1's recipe: 2 epochs over the kept traces), or logit-level KD.
  std::string train = "sft";      // sft or kd
  KdConfig kd;                    // --train kd: beta, temperature, lmbda, top-K of the teacher
  int64_t kd_max_new_tokens = 0;  // --train kd: on-policy completion length (0 = max_new_tokens)
  double epochs = 2.0;
  int64_t batch_size = 8;
  int64_t grad_accum = 1;
  double lr = 1e-5;
  int64_t warmup_steps = 0;
  int64_t max_length = 0;  // tokens per SFT row (0 = the student's context)
  int64_t save_every = 0;  // SFT checkpoint every N steps (0 = at the end only)
  // Held-out evaluation of teacher, student before and student after (a JSONL with the same
  // fields as the prompts; "" = no evaluation). Sampling as the protocol's unless set here.
  std::string eval_data;
  // Registry benchmarks evaluated as well (comma-separated r1eval names: "humaneval,math500"),
  // their files found under data_dir, $R1_DATA, ~/.cache/r1/datasets.
  std::string eval_benchmarks;
  std::string data_dir;
  int64_t eval_limit = 0;  // only the first N problems of each held-out set (0 = all)
  int64_t eval_samples = 16;
  double eval_temperature = -1, eval_top_p = -1;  // -1 = the traces' values
  int64_t eval_max_new_tokens = 0;                // 0 = max_new_tokens
  bool eval_teacher = true;                       // also evaluate the teacher (costs its tokens)
  int64_t threads = 0;                            // CPU threads for LibTorch (0 = its default)
  std::string device = "cpu";                     // stage 3 SFT and local evaluations: cpu, cuda
  std::string dtype = "auto";                     // stage 3 SFT: float32, bfloat16, auto
  std::string command;                            // stored in report.json
};

// Calls f(name, field, help, role) for each field (flags add dashes; rejection fields are the
// filters' own names).
template <typename Config, typename F>
void visit_distill_config(Config& c, F&& f) {
  using R = FieldRole;
  f("teacher", c.teacher, "teacher: preset (r1, ...), checkpoint directory or endpoint URL",
    R::kRun);
  f("student", c.student, "student: preset (qwen-7b, ...) or checkpoint directory", R::kRun);
  f("prompts", c.prompts, "JSONL of problems with reference answers", R::kRun);
  f("out", c.out, "run folder (rerun to resume)", R::kFree);
  f("models_file", c.models_file,
    "presets file (default $R1_MODELS_FILE, ~/.config/r1/models.json)", R::kFree);
  f("models_dir", c.models_dir,
    "where preset checkpoints live (default $R1_MODELS_DIR, "
    "~/.cache/r1/models)",
    R::kFree);
  f("until", c.until, "last stage to run: traces, filter, sft, report", R::kFree);
  f("question_field", c.question_field, "prompt rows: the problem's field", R::kRun);
  f("answer_field", c.answer_field, "prompt rows: the reference answer's field", R::kRun);
  f("id_field", c.id_field, "prompt rows: the id field (\"\" = line number)", R::kRun);
  f("protocol", c.protocol, "prompt format for traces and evals: r1 or grpo", R::kRun);
  f("teacher_template_kwargs", c.teacher_template_kwargs,
    "JSON object of extra variables for the teacher's chat template", R::kRun);
  f("student_template_kwargs", c.student_template_kwargs,
    "JSON object of extra variables for the student's chat template (SFT, KD and evals)", R::kRun);
  f("limit", c.limit, "only the first N prompts (0 = all)", R::kRun);
  f("samples", c.samples, "teacher traces per prompt", R::kRun);
  f("temperature", c.temperature, "teacher sampling temperature", R::kRun);
  f("top_p", c.top_p, "teacher nucleus mass", R::kRun);
  f("max_new_tokens", c.max_new_tokens, "teacher tokens per trace", R::kRun);
  f("seed", c.seed, "sampling seeds and the SFT data order", R::kRun);
  f("concurrency", c.concurrency, "endpoint teacher: requests in flight", R::kFree);
  visit_rejection_config(c.rejection, f);
  f("train", c.train, "stage 3: sft (on the kept traces) or kd (logit-level, local teacher)",
    R::kRun);
  f("kd_beta", c.kd.beta, "kd: 0 forward KL, 1 reverse KL, between: generalised JSD", R::kRun);
  f("kd_temperature", c.kd.temperature, "kd: softmax temperature of both distributions", R::kRun);
  f("lmbda", c.kd.lmbda, "kd: share of steps on the student's own samples (GKD)", R::kRun);
  f("kd_top_k", c.kd.top_k, "kd: teacher top-K log-probs, cached (0 = full logits each step)",
    R::kRun);
  f("kd_max_new_tokens", c.kd_max_new_tokens,
    "kd: on-policy completion tokens (0 = --max-new-tokens)", R::kRun);
  f("epochs", c.epochs, "student SFT passes over the kept traces", R::kRun);
  f("batch_size", c.batch_size, "student SFT sequences per micro-batch", R::kRun);
  f("grad_accum", c.grad_accum, "student SFT micro-batches per step", R::kRun);
  f("lr", c.lr, "student SFT peak learning rate", R::kRun);
  f("warmup_steps", c.warmup_steps, "student SFT warmup steps", R::kRun);
  f("max_length", c.max_length, "student SFT tokens per row (0 = the model's context)", R::kRun);
  f("save_every", c.save_every, "student SFT checkpoint every N steps (0 = at the end)", R::kFree);
  f("eval_data", c.eval_data, "held-out JSONL for the before/after report (\"\" = none)", R::kRun);
  f("eval_benchmarks", c.eval_benchmarks,
    "registry benchmarks for the before/after report too (comma-separated: humaneval,math500)",
    R::kRun);
  f("data_dir", c.data_dir,
    "where --eval-benchmarks' files are (then $R1_DATA, ~/.cache/r1/datasets)", R::kFree);
  f("eval_limit", c.eval_limit, "only the first N problems of each held-out set (0 = all)",
    R::kRun);
  f("eval_samples", c.eval_samples, "held-out samples per problem (pass@1 over them)", R::kRun);
  f("eval_temperature", c.eval_temperature, "held-out temperature (-1 = --temperature)", R::kRun);
  f("eval_top_p", c.eval_top_p, "held-out nucleus mass (-1 = --top-p)", R::kRun);
  f("eval_max_new_tokens", c.eval_max_new_tokens, "held-out tokens (0 = --max-new-tokens)",
    R::kRun);
  f("eval_teacher", c.eval_teacher, "evaluate the teacher too", R::kRun);
  f("threads", c.threads, "CPU threads for LibTorch (0 = its default)", R::kFree);
  f("device", c.device, "student SFT and local models' evaluations: cpu, cuda, cuda:N", R::kFree);
  f("dtype", c.dtype, "student SFT: float32, bfloat16 (auto: bfloat16 on CUDA)", R::kRun);
}

struct DistillResult {
  // report.json: "teacher", "student", "traces", "filter", "sft", and "eval" {"benchmarks": {NAME:
  // {"problems", "teacher", "student_before", "student_after", "after_minus_before" (r1eval
  // compare's paired comparison)}}, ...}.
  nlohmann::json report;
  std::string report_path;  // OUT/report.json ("" when stopped before the report)
  std::string student;      // the trained student's checkpoint ("" before stage 3)
};

// Runs (or resumes) the stages up to config.until. Throws r1::Error for bad flags, models or data.
// Throws r1::Error naming the first field that is missing or out of range (what run_distill
// checks first; r1pipeline check uses it before anything runs).
void check_distill_config(const DistillConfig& c);
DistillResult run_distill(const DistillConfig& config);

// The toy proof on a CPU: trains the tiny R1-Zero teacher (r1train zero, into OUT/teacher), a
// smaller student base on the same base documents (OUT/student-base), the student without the
// teacher's traces (its cold-start SFT, as the teacher had before GRPO: OUT/baseline), then
// run_distill from teacher to student base over the task's GRPO prompts with held-out pass@1 (16
// samples) for all three (OUT/distill), the same with logit-level KD as stage 3 (OUT/distill-kd,
// reported beside it), and writes OUT/results.json, OUT/results.md.
struct DistillToyConfig {
  std::string out = "runs/distill-toy";
  std::string student_size = "nano";  // a zero model size smaller than the teacher's
  int64_t student_base_steps = 3000;
  int64_t prompts = 1024;    // GRPO prompts the teacher writes traces for
  int64_t samples = 4;       // traces per prompt
  double temperature = 0.6;  // teacher sampling for traces
  double epochs = 2.0;
  double lr = 2e-3;
  int64_t batch_size = 32;
  bool kd = true;  // also distil by logit-level KD (GKD: beta 0.5, lmbda 0.5, top-16 cache)
  int64_t threads = 0;
};
template <typename Config, typename F>
void visit_distill_toy_config(Config& c, F&& f) {
  using R = FieldRole;
  f("out", c.out, "run folder (rerun to resume)", R::kFree);
  f("student_size", c.student_size, "student model size (nano, micro, ...)", R::kRun);
  f("student_base_steps", c.student_base_steps, "student base pretraining steps", R::kRun);
  f("prompts", c.prompts, "task prompts the teacher writes traces for", R::kRun);
  f("samples", c.samples, "teacher traces per prompt", R::kRun);
  f("temperature", c.temperature, "teacher sampling temperature for traces", R::kRun);
  f("epochs", c.epochs, "student SFT epochs over the kept traces", R::kRun);
  f("lr", c.lr, "student SFT peak learning rate", R::kRun);
  f("batch_size", c.batch_size, "student SFT batch", R::kRun);
  f("kd", c.kd, "also distil by logit-level KD and report it beside SFT", R::kRun);
  f("threads", c.threads, "CPU threads for LibTorch (0 = its default)", R::kFree);
}
nlohmann::json run_distill_toy(const DistillToyConfig& config);

}  // namespace r1
