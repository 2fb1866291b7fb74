// The tiny R1-Zero's task: integer arithmetic chains ("What is 13+18-7?") generated from a seed,
// with worked reasoning ("13+18=31\n31-7=24\n</think>\n\boxed{24}"), a held-out split fixed by a
// hash of the expression (disjoint from training for every seed), and the files a base / SFT / GRPO
// run and r1eval read, plus the random-init model (zero_model.h). Leaves out training itself and
// any other operator than + and -: intermediate values never go below zero.
#pragma once

#include <nlohmann/json.hpp>  // nlohmann::json

#include <cstdint>  // int64_t, uint64_t
#include <string>   // std::string
#include <vector>   // std::vector

#include "rl/sft.h"            // r1::FieldRole
#include "toolkit/sampling.h"  // r1::SampleRng

namespace r1 {

struct ZeroTaskConfig {
  uint64_t seed = 0;  // the one seed: each file draws from its own stream derived from it; the
                      // model's init generator uses it as is
  // Weight of each level (index 0 = level 1); level L has L + 1 operands.
  std::vector<double> level_weights = {0.4, 0.4, 0.2};
  // Operands are drawn from [1, max_operand]. 20 keeps each step's arithmetic table small, which a
  // 1M model picks up faster than 99's (all 1-2 digit numbers, a harder task).
  int64_t max_operand = 20;
  // Every running value stays in [0, max_value] (0 = no upper bound). 9 makes each worked step a
  // one-digit fact ("7+2=9"), while a direct answer to a longer chain has to compose them.
  int64_t max_value = 0;
  int64_t heldout_percent = 10;  // percent of all expressions (by hash) reserved for evaluation
  // The user turn; "{problem}" is replaced by the question. The JSONL "prompt" fields hold it
  // rendered, so r1eval reads them with --prompt-template "{problem}".
  std::string prompt_template = "{problem}";
  int64_t base_docs = 20000;          // base-pretraining documents (base.jsonl)
  double base_direct_fraction = 0.3;  // share of base documents that answer without reasoning
  double base_error_fraction = 0.2;  // share whose reasoning has one wrong step (answer follows it)
  int64_t sft_rows = 400;            // cold-start SFT rows, all correct (sft.jsonl)
  int64_t grpo_prompts = 4000;       // GRPO prompts, gold answers (grpo.jsonl; repeats allowed)
  int64_t heldout_problems = 128;    // held-out evaluation problems, distinct (heldout.jsonl)
  std::string model_size = "tiny";   // zero_model.h: nano, micro, tiny, small
};

// Calls f(name, field, help, role) for each field of ZeroTaskConfig (snake_case names, as
// visit_sft_config: CLI flags, JSON and the manifest derive from it). Every field is kRun.
template <typename Config, typename F>
void visit_zero_task_config(Config& c, F&& f) {
  using R = FieldRole;
  f("seed", c.seed, "seed of the problems, the documents' kinds and the model's init", R::kRun);
  f("level_weights", c.level_weights,
    "weight of each level (first = level 1; level L has L+1 operands)", R::kRun);
  f("max_operand", c.max_operand, "operands are drawn from [1, max_operand]", R::kRun);
  f("max_value", c.max_value, "every running value stays in [0, max_value] (0 = unbounded)",
    R::kRun);
  f("heldout_percent", c.heldout_percent, "percent of expressions held out (by hash)", R::kRun);
  f("prompt_template", c.prompt_template, "user turn; {problem} = the question", R::kRun);
  f("base_docs", c.base_docs, "base-pretraining documents", R::kRun);
  f("base_direct_fraction", c.base_direct_fraction,
    "share of base documents answering without reasoning", R::kRun);
  f("base_error_fraction", c.base_error_fraction,
    "share of base documents with one wrong reasoning step", R::kRun);
  f("sft_rows", c.sft_rows, "cold-start SFT rows (correct reasoning)", R::kRun);
  f("grpo_prompts", c.grpo_prompts, "GRPO prompts with gold answers", R::kRun);
  f("heldout_problems", c.heldout_problems, "distinct held-out evaluation problems", R::kRun);
  f("model_size", c.model_size, "random-init model: nano, micro, tiny, small", R::kRun);
}

// Throws r1::Error naming the field and value when a field is out of range.
void check_zero_task_config(const ZeroTaskConfig& c);
nlohmann::json zero_task_config_to_json(const ZeroTaskConfig& c);
// Fields absent from `j` keep their defaults; unknown fields and wrong types throw r1::Error
// naming `where` and the field.
ZeroTaskConfig zero_task_config_from_json(const nlohmann::json& j, const std::string& where);

struct ZeroProblem {
  std::vector<int64_t> operands;  // left to right, each in [1, max_operand]
  std::string ops;                // ops[i] ('+' or '-') joins the running value and operands[i+1]
  int64_t answer = 0;             // evaluated left to right; every running value is >= 0
  int level() const { return static_cast<int>(ops.size()); }
  std::string expression() const;  // "23+58-17"
  std::string question() const;    // "What is 23+58-17?"
};

enum class ZeroSplit { kTrain, kHeldout };
// The split an expression belongs to: a fixed hash (FNV-1a, then splitmix64) of its text, so the
// split never depends on the seed, the counts or the platform.
ZeroSplit zero_split(const std::string& expression, int64_t heldout_percent);

// One problem of `split`, drawn from `rng` (problems of the other split are drawn and skipped).
ZeroProblem zero_sample_problem(const ZeroTaskConfig& c, ZeroSplit split, SampleRng& rng);
// `n` problems of `split` from the stream `stream` of c.seed; with `distinct`, no expression twice
// (throws r1::Error when the space is too small). The first k of n are the same for every n >= k.
std::vector<ZeroProblem> zero_problems(const ZeroTaskConfig& c, ZeroSplit split, int64_t n,
                                       uint64_t stream, bool distinct);

enum class ZeroResponse {
  kReasoned,  // every step, all correct
  kDirect,    // "</think>" straight away, then the answer
  kOneError,  // one step's result off by 1 or 10 (by 1 when max_value < 10), the later steps and
              // the answer follow from it
};
// The assistant's text after the forced "<think>\n": steps ("23+58=81\n"), "</think>\n\boxed{N}".
// kOneError draws the wrong step and its offset from `rng` (other kinds do not draw).
// max_value (the task's) keeps a wrong chain inside [0, max_value] where a flip of the offset can.
std::string zero_response(const ZeroProblem& p, ZeroResponse kind, SampleRng* rng = nullptr,
                          int64_t max_value = 0);
// The user turn of a problem (config.prompt_template).
std::string zero_prompt(const ZeroTaskConfig& c, const ZeroProblem& p);

// Where write_zero_assets put things.
struct ZeroAssets {
  std::string base;      // base.jsonl: {"prompt", "response", "text", "kind"}: an SFT row (the
                         //   SFT trainer reads it as is) and the same document chat-rendered
                         //   (BOS, user turn, "<｜Assistant｜><think>\n", response, EOS; encode
                         //   without add_special_tokens); kind: reasoned, direct, one_error
  std::string sft;       // sft.jsonl: {"prompt", "response"}: user turn and the text after
                         //   "<think>\n" (EOS not included)
  std::string grpo;      // grpo.jsonl: {"prompt", "answer"}
  std::string heldout;   // heldout.jsonl: {"id", "problem", "prompt", "answer", "level"}
  std::string model;     // model/: random-init checkpoint with the zero tokenizer
  std::string manifest;  // zero_assets.json: resolved config, row counts, sha256 of each file
};

// Writes every asset under `out_dir` (created). Same config -> byte-identical data files.
ZeroAssets write_zero_assets(const std::string& out_dir, const ZeroTaskConfig& c);

}  // namespace r1
