// The checks of a recipe before anything runs (see preflight.h).
#include "pipeline/preflight.h"

#include <algorithm>   // std::find
#include <filesystem>  // std::filesystem
#include <set>         // std::set
#include <utility>     // std::pair
#include <vector>      // std::vector

#include "distill/distill.h"       // r1::DistillConfig, r1::check_distill_config
#include "evals/benchmarks.h"      // r1::find_benchmark, r1::custom_benchmark
#include "rl/grpo.h"               // r1::GrpoConfig, r1::check_grpo_config
#include "rl/sft.h"                // r1::SftConfig, r1::check_sft_config
#include "toolkit/error.h"         // r1::Error, r1::check
#include "toolkit/hf_hub.h"        // r1::resolve_model_path
#include "toolkit/model_source.h"  // r1::check_model_path, r1::check_model_tokenizer

namespace r1 {
namespace {

namespace fs = std::filesystem;

// What the run fills in itself (the stage's start, its folder) stands in for the check.
constexpr const char* kSetByRun = "(set by the run)";

// A file the recipe names must be a file, unless the run makes it (the built-in assets).
void check_file(const std::string& path, const std::string& where, const std::string& assets) {
  if (path.empty()) return;
  if (!assets.empty() && fs::path(path).lexically_normal().string().rfind(assets, 0) == 0) return;
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) return;
  throw Error(where + ": " + path +
              (fs::exists(path, ec) ? " is not a regular file" : " does not exist"));
}

// A trainer's message names its command-line flag ("--min-lr-ratio 2: ..."); in a recipe the
// field is min_lr_ratio.
std::string as_field(std::string message) {
  if (message.rfind("--", 0) != 0) return message;
  message.erase(0, 2);
  for (char& ch : message) {
    if (ch == ' ' || ch == ':' || ch == '/') break;
    if (ch == '-') ch = '_';
  }
  return message;
}

// The trainer's own range checks, on the stage's config with the run's fields stood in.
void check_trainer(const StageSpec& s, bool has_rejection_data, const std::string& assets) {
  const std::string where = s.where + ".config";
  try {
    if (s.type == "sft") {
      SftConfig c;
      apply_stage_config(s, c);
      check(!c.data.empty() || has_rejection_data,
            where + ".data: missing, and no rejection_sampling stage comes before to provide it");
      check_file(c.data, where + ".data", assets);
      check_file(c.eval_data, where + ".eval_data", assets);
      c.model = c.out = kSetByRun;
      if (c.data.empty()) c.data = kSetByRun;
      check_sft_config(c);
    } else if (s.type == "grpo") {
      GrpoConfig c;
      apply_stage_config(s, c);
      check_file(c.prompts, where + ".prompts", assets);
      check_file(c.eval_prompts, where + ".eval_prompts", assets);
      c.model = c.out = kSetByRun;
      check_grpo_config(c);
    } else {
      DistillConfig c;
      c.teacher = kSetByRun;
      apply_stage_config(s, c);
      check_file(c.prompts, where + ".prompts", assets);
      c.out = kSetByRun;
      if (c.student.empty() || s.builtin_student || s.type == "rejection_sampling")
        c.student = kSetByRun;
      check_distill_config(c);
    }
  } catch (const Error& e) {
    const std::string what = e.what();
    // Messages that already name the recipe pass as they are; the trainer's own get the place.
    if (what.rfind(s.where, 0) == 0) throw;
    throw Error(where + ": " + as_field(what));
  }
}

// The benchmarks an evaluation runs: the named ones and its dataset (named by its file's stem).
std::vector<std::string> eval_names(const EvalSpec& e, const std::string& where,
                                    const std::string& assets) {
  std::vector<std::string> names;
  for (const auto& b : e.benchmarks) {
    try {
      names.push_back(find_benchmark(b).name);
    } catch (const Error& x) {
      throw Error(where + ".benchmarks: " + x.what());
    }
  }
  if (!e.dataset.empty()) {
    check_file(e.dataset, where + ".dataset", assets);
    names.push_back(custom_benchmark(e.dataset, e.question_field, e.answer_field, e.id_field).name);
  }
  return names;
}

// Each gate on a benchmark must be on one the stage's evaluation runs.
void check_gates(const StageSpec& s, const std::vector<std::string>& evaluated) {
  for (const auto& g : s.gates) {
    if (g.benchmark.empty()) continue;
    if (std::find(evaluated.begin(), evaluated.end(), g.benchmark) != evaluated.end()) continue;
    std::string list;
    for (const auto& n : evaluated) list += (list.empty() ? "" : ", ") + n;
    throw Error(s.where + ".gates: '" + g.expr + "' is on benchmark " + g.benchmark +
                ", which the stage's evaluation does not run (" +
                (list.empty() ? std::string("it evaluates nothing") : "it runs " + list) + ")");
  }
}

}  // namespace

void preflight_recipe(const Recipe& r, const std::string& run_dir) {
  const std::string file = fs::path(r.path).filename().string();
  std::string assets;
  if (!r.model.builtin.empty()) {
    assets = fs::path(builtin_assets_dir(run_dir)).lexically_normal().string();
  } else {
    check_model_path(resolve_model_path(r.model.dir),
                     file + ": model:");  // a hub id is fetched here
  }
  eval_names(r.eval, file + ".eval", assets);
  bool has_rejection_data = false;
  for (const auto& s : r.stages) {
    check_trainer(s, has_rejection_data, assets);
    has_rejection_data = has_rejection_data || s.type == "rejection_sampling";
    // A rejection_sampling stage changes no weights, so nothing of it is evaluated.
    const std::vector<std::string> evaluated = s.type == "rejection_sampling"
                                                   ? std::vector<std::string>{}
                                                   : eval_names(s.eval, s.where + ".eval", assets);
    check_gates(s, evaluated);
  }
}

}  // namespace r1
