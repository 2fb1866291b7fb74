// Recipes: a YAML file listing the stages of the R1 recipe (cold-start sft, grpo,
// rejection_sampling, sft, grpo, distill), each with its trainer config, its evaluation and its
// gates. Stage configs are the trainers' own fields (r1train sft/grpo flags without dashes,
// r1distill's for distill and rejection_sampling), so a recipe says nothing a command line could
// not. Strings may use ${recipe_dir}, ${run} (the run folder), ${assets} (the built-in task's
// files when the model is `builtin: zero`) and environment variables (${R1_MODELS_DIR}). A distill
// stage's teacher is the promoted model unless its config names one (preset, directory or URL).
// Example: pipeline/recipes/tiny-r1.yaml.
//
//     name: NAME
//     model: DIR | {builtin: zero, size: micro, base_steps: 3000, seed: 0}
//     baseline: RUN_DIR            # optional: a run that `baseline` in gates refers to
//     threads: 0                   # CPU threads for every stage (0 = LibTorch's default)
//     eval: {...}                  # the default evaluation of every stage (and of the input model)
//     stages:
//       - name: cold_start         # unique, [A-Za-z0-9_-]
//         type: sft                # sft | grpo | rejection_sampling | distill
//         from: promoted           # the model it starts from: promoted (default), input, STAGE
//         config: {...}            # the trainer's fields (model and out are the pipeline's)
//         eval: {...}              # overrides keys of the default eval
//         gates: ["heldout.pass@1 >= prev - 0.02", "truncated_rate <= 0.05"]
//
// eval: benchmarks [names], dataset (JSONL path), question_field, answer_field, id_field, data_dir,
// limit, bootstrap, max_batch, device, dtype, preset (r1, r1-64, greedy), and any protocol field
// (samples, temperature, top_p, top_k, max_new_tokens, seed, prompt_template, system_prompt,
// force_think, extract, float_places). Leaves out code benchmarks' sandbox settings (their defaults
// apply).
#pragma once

#include <nlohmann/json.hpp>  // nlohmann::json

#include <cstdint>   // int64_t
#include <optional>  // std::optional
#include <string>    // std::string
#include <vector>    // std::vector

#include "distill/distill.h"  // r1::DistillConfig
#include "evals/protocol.h"   // r1::Protocol
#include "reports/gates.h"    // r1::GateSpec
#include "rl/grpo.h"          // r1::GrpoConfig
#include "rl/sft.h"           // r1::SftConfig

namespace r1 {

// A model a recipe names: a checkpoint directory, or the built-in tiny R1-Zero base (its task
// files and a base pretrained on them: r1train zero --until base).
struct ModelSpec {
  std::string dir;      // checkpoint directory ("" for builtin)
  std::string builtin;  // "" or "zero"
  std::string size = "micro";
  int64_t base_steps = 3000;
  uint64_t seed = 0;
};

struct EvalSpec {
  std::vector<std::string> benchmarks;
  std::string dataset, question_field = "problem", answer_field = "answer", id_field;
  std::string data_dir;
  int64_t limit = 0;
  int bootstrap = 10000;
  int64_t max_batch = 64;
  std::string device = "cpu", dtype = "auto";  // where the checkpoint is evaluated
  Protocol protocol;
  bool empty() const { return benchmarks.empty() && dataset.empty(); }
};

struct StageSpec {
  std::string name, type;
  std::string from = "promoted";  // promoted, input, or an earlier stage's name
  nlohmann::json config;          // trainer fields, variables substituted
  EvalSpec eval;
  std::vector<GateSpec> gates;
  nlohmann::json resolved;  // {"type", "from", "config", "eval", "gates"} as the run stores it
  std::string where;        // "FILE: stages[I]", for errors
  std::optional<ModelSpec> builtin_student;  // distill: a built-in student ({builtin: zero, ...})
};

struct Recipe {
  std::string path, dir;  // the file and its folder
  std::string name;
  ModelSpec model;
  std::string baseline;  // a run folder ("" = none)
  int64_t threads = 0;
  EvalSpec eval;  // the default; also the input model's
  std::vector<StageSpec> stages;
  nlohmann::json resolved;  // the whole recipe as the run stores it
};

// Sets the trainer config's fields from the stage's recipe config (the caller sets the rest first:
// threads, and a distill stage's teacher, which its config may override; then model and out).
// The pipeline's fields (model, out; until; a rejection stage's teacher and student) are refused.
// A distill stage's student is set when the recipe names it by string (builtin_student otherwise).
// Throws r1::Error "FILE: stages[I].config.FIELD: ..." for an unknown field or a wrong type.
void apply_stage_config(const StageSpec& s, SftConfig& c);
void apply_stage_config(const StageSpec& s, GrpoConfig& c);
void apply_stage_config(const StageSpec& s, DistillConfig& c);

// Reads and checks a recipe; `run_dir` fills ${run}, and ${assets} is builtin_assets_dir(run_dir)
// for a built-in model. Throws r1::Error
// naming the file and the field ("tiny-r1.yaml: stages[2].config.lr: ...") for a malformed
// recipe, an unknown stage type, key or trainer field, a duplicate name or a bad gate.
Recipe load_recipe(const std::string& path, const std::string& run_dir);

// Where a run keeps the built-in model's task files: RUN/input/assets (the built-in model is a
// r1train zero run in RUN/input, stopped after its base).
std::string builtin_assets_dir(const std::string& run_dir);

// The stage types, in the R1 recipe's order.
const std::vector<std::string>& stage_types();

}  // namespace r1
