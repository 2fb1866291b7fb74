#include "pipeline/pipeline.h"

#include <chrono>      // std::chrono
#include <cstdio>      // std::fprintf
#include <ctime>       // std::time_t, gmtime_r
#include <filesystem>  // std::filesystem
#include <map>         // std::map
#include <optional>    // std::optional

#include "distill/distill.h"       // r1::DistillConfig, r1::run_distill
#include "evals/backend.h"         // r1::make_native_backend
#include "evals/runner.h"          // r1::RunOptions, r1::run_eval
#include "pipeline/preflight.h"    // r1::preflight_recipe
#include "pipeline/recipe.h"       // r1::Recipe, r1::load_recipe, r1::apply_stage_config
#include "reports/gates.h"         // r1::evaluate_gates
#include "reports/record.h"        // r1::load_run_record
#include "reports/render.h"        // r1::render_markdown, r1::render_html
#include "rl/grpo.h"               // r1::GrpoConfig, r1::run_grpo
#include "rl/sft.h"                // r1::SftConfig, r1::run_sft
#include "rl/zero.h"               // r1::ZeroRunConfig, r1::run_zero
#include "toolkit/error.h"         // r1::Error, r1::check
#include "toolkit/fs.h"            // r1::write_file_atomic
#include "toolkit/hf_hub.h"        // r1::resolve_model_path
#include "toolkit/json.h"          // r1::read_json_file, r1::dump_json
#include "toolkit/model_source.h"  // r1::check_model_path, r1::check_model_tokenizer
#include "toolkit/progress.h"      // r1::seconds_since
#include "toolkit/run_dir.h"       // r1::check_run_dir

namespace r1 {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string now_iso() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The run's state and where it lives.
struct Run {
  fs::path dir;
  json state;
  void save() {
    state["updated"] = now_iso();
    write_file_atomic((dir / "pipeline.json").string(), dump_json(state, 2) + "\n");
  }
  std::string rel(const std::string& path) const {
    return fs::relative(fs::absolute(path), fs::absolute(dir)).lexically_normal().string();
  }
  std::string abs(const json& rel_path) const {
    return (fs::absolute(dir) / rel_path.get<std::string>()).lexically_normal().string();
  }
  // Writes report.md and report.html from what the run holds now (never fails the run).
  void report() {
    try {
      const json record = load_run_record(dir.string());
      write_file_atomic((dir / "report.md").string(), render_markdown(record));
      write_file_atomic((dir / "report.html").string(), render_html(record));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "r1pipeline: warning: report not written: %s\n", e.what());
    }
  }
};

// A stage's entry in pipeline.json before it runs.
json stage_entry(const std::string& name, const std::string& type, size_t index,
                 const std::string& status, const json& spec) {
  char dir[96];
  std::snprintf(dir, sizeof dir, "stages/%02zu-%s", index, name.c_str());
  return {{"name", name},
          {"type", type},
          {"index", index},
          {"status", status},
          {"dir", dir},
          {"checkpoint", nullptr},
          {"train_dir", nullptr},
          {"metrics", nullptr},
          {"eval_dir", nullptr},
          {"data", nullptr},
          {"gates", json::array()},
          {"seconds", 0},
          {"error", nullptr},
          {"spec", spec},
          {"attempt", 1}};
}

json train_identity(const json& spec) {
  return {{"type", spec.at("type")}, {"from", spec.at("from")}, {"config", spec.at("config")}};
}

// A built-in tiny R1-Zero base in `dir` (r1train zero, stopped after its base); its checkpoint.
std::string build_builtin(const ModelSpec& m, const fs::path& dir, int64_t threads) {
  ZeroRunConfig z;
  z.out = dir.string();
  z.until = "base";
  z.task.model_size = m.size;
  z.task.seed = m.seed;
  z.base_steps = m.base_steps;
  z.threads = threads;
  const ZeroRunResult r = run_zero(z);
  return (dir / r.results.at("stages").at("base").at("checkpoint").get<std::string>()).string();
}

json evaluate(const EvalSpec& e, const std::string& checkpoint, const fs::path& eval_dir,
              int64_t threads, const std::string& label) {
  RunOptions ro;
  ro.benchmarks = e.benchmarks;
  ro.dataset = e.dataset;
  ro.question_field = e.question_field;
  ro.answer_field = e.answer_field;
  ro.id_field = e.id_field;
  ro.data_dir = e.data_dir;
  ro.protocol = e.protocol;
  ro.out_dir = eval_dir.string();
  ro.limit = e.limit;
  ro.bootstrap = e.bootstrap;
  ro.command = "r1pipeline: evaluation of " + label;
  NativeOptions no;
  no.model_dir = checkpoint;
  no.threads = static_cast<int>(threads);
  no.max_batch = e.max_batch;
  no.device = e.device;
  no.dtype = e.dtype;
  const auto backend = make_native_backend(no);
  return run_eval(ro, *backend);
}

// The benchmarks block for stage `stage` of the run record of `run_dir`: a pipeline run's stage of
// that name, or an r1eval run's results; null when there is none.
json reference_results(const json& record, const std::string& run_dir, const std::string& stage,
                       std::string* label) {
  *label = run_dir;
  const auto& stages = record.at("stages");
  if (record.value("kind", "") != "pipeline") {
    return stages.empty() ? json() : stages[0].value("results", json());
  }
  for (const auto& s : stages)
    if (s.value("name", "") == stage) {
      *label = run_dir + " stage " + stage;
      return s.value("results", json());
    }
  return json();
}

void print_gates(const json& gates) {
  for (const auto& g : gates)
    std::fprintf(stderr, "  %s %s\n", g.value("status", "") == "passed" ? "pass" : "FAIL",
                 g.value("message", "").c_str());
}

// The run's state as a fresh run or a resume (--resume) of the one in `dir` begins it.
json open_state(const PipelineOptions& o, const Recipe& recipe, const fs::path& dir) {
  const fs::path state_path = dir / "pipeline.json";
  json old;
  if (fs::exists(state_path)) {
    old = read_json_file(state_path.string());
    check(old.is_object() && old.value("format", "") == "r1-pipeline-run",
          state_path.string() + ": not an r1pipeline run (format is not r1-pipeline-run)");
    check(o.resume, dir.string() + " holds a pipeline run (status " +
                        old.value("status", std::string("?")) +
                        "): add --resume to continue it, or choose another --out");
    check(old.value("name", "") == recipe.name, dir.string() + " is a run of recipe '" +
                                                    old.value("name", std::string()) + "', not '" +
                                                    recipe.name + "'");
  }
  return old;
}

json fresh_state(const PipelineOptions& o, const Recipe& recipe, const json& old) {
  return {{"format", "r1-pipeline-run"},
          {"version", 1},
          {"name", recipe.name},
          {"recipe", fs::absolute(o.recipe).lexically_normal().string()},
          {"recipe_resolved", recipe.resolved},
          {"command", o.command},
          {"status", "running"},
          {"promoted", nullptr},
          {"failed_stage", nullptr},
          {"error", nullptr},
          {"started", old.is_object() ? old.value("started", now_iso()) : now_iso()},
          {"resumed", old.is_object() ? old.value("resumed", 0) + 1 : 0},
          {"stages", json::array()}};
}

// Moves `p` aside to P.attempt-K (the recipe changed what it holds).
void keep_aside(const fs::path& p) {
  if (!fs::exists(p)) return;
  int k = 1;
  while (fs::exists(p.string() + ".attempt-" + std::to_string(k))) ++k;
  fs::rename(p, p.string() + ".attempt-" + std::to_string(k));
  std::fprintf(stderr, "r1pipeline: %s changed in the recipe; the old one is %s\n",
               p.string().c_str(), (p.string() + ".attempt-" + std::to_string(k)).c_str());
}

// One run of a recipe's stages (run_pipeline's steps, sharing the run's state).
class PipelineRunner {
 public:
  PipelineRunner(const PipelineOptions& o, Recipe recipe, Run run, const json& old)
      : o_(o), recipe_(std::move(recipe)), run_(std::move(run)) {
    if (old.is_object() && old.contains("stages") && old["stages"].is_array())
      for (const auto& s : old["stages"]) old_stages_[s.value("name", "")] = s;
    result_.run_dir = run_.dir.string();
    result_.status = "passed";
  }

  PipelineResult run() {
    run_input();
    for (size_t i = 0; i < recipe_.stages.size(); ++i)
      if (!run_stage(i)) break;
    return finish();
  }

 private:
  size_t n() const { return recipe_.stages.size(); }

  json eval_if_needed(json& st, const EvalSpec& e, const std::string& label) {
    if (e.empty()) return json();
    const fs::path eval_dir = run_.dir / st.at("dir").get<std::string>() / "eval";
    st["eval_dir"] = run_.rel(eval_dir.string());
    run_.save();
    std::fprintf(stderr, "r1pipeline: evaluating %s (%s)\n", label.c_str(),
                 st["eval_dir"].get<std::string>().c_str());
    return evaluate(e, run_.abs(st.at("checkpoint")), eval_dir, recipe_.threads, label);
  }

  // Stage 0: the input model, built or checked, evaluated as the first "prev".
  void run_input() {
    const auto t_input = Clock::now();
    json input = stage_entry(
        "input", "input", 0, "running",
        {{"model", recipe_.resolved.at("model")}, {"eval", recipe_.resolved.at("eval")}});
    if (old_stages_.count("input") && old_stages_["input"].value("status", "") == "passed") {
      check(old_stages_["input"].at("spec") == input.at("spec"),
            run_.dir.string() +
                ": the recipe's model or default eval changed since this run "
                "started; start a new run (another --out)");
      input = old_stages_["input"];
    }
    run_.state["stages"].push_back(input);
    json& in = run_.state["stages"][0];
    json input_results;
    if (in.at("status") != "passed") {
      run_.save();
      in["checkpoint"] = run_.rel(input_checkpoint());
      input_results = eval_if_needed(in, recipe_.eval, "the input model");
      in["status"] = "passed";
      in["seconds"] = seconds_since(t_input);
      run_.save();
    } else if (!in.at("eval_dir").is_null()) {
      input_results = read_json_file(run_.abs(in.at("eval_dir")) + "/results.json");
    }
    results_of_ = {{0, input_results}};
    run_.state["promoted"] = {{"stage", "input"}, {"checkpoint", in.at("checkpoint")}};
  }

  std::string input_checkpoint() {
    if (!recipe_.model.builtin.empty()) {
      std::fprintf(stderr,
                   "r1pipeline: building the built-in model (tiny R1-Zero base, %s) in %s\n",
                   recipe_.model.size.c_str(), (run_.dir / "input").string().c_str());
      return build_builtin(recipe_.model, run_.dir / "input", recipe_.threads);
    }
    // A hub id (ORG/NAME[@REV]): its snapshot in the hub cache, fetched at preflight.
    const std::string ckpt =
        fs::absolute(resolve_model_path(recipe_.model.dir)).lexically_normal().string();
    check_model_path(ckpt, recipe_.path + ": model:");
    return ckpt;
  }

  // What --resume does with stage i's earlier attempt. Returns true when it passed with the same
  // config and gates (kept as it is); sets *judge_only when only its gates changed; moves aside
  // what the recipe changed of a stage that did not pass.
  bool resume_stage(size_t i, json& st, bool* judge_only) {
    const StageSpec& spec = recipe_.stages[i];
    const json& prev_st = old_stages_[spec.name];
    const json& prev_spec = prev_st.at("spec");
    const bool train_same = train_identity(prev_spec) == train_identity(spec.resolved);
    const bool eval_same = prev_spec.at("eval") == spec.resolved.at("eval");
    if (prev_st.value("status", "") != "passed") {
      st["attempt"] = prev_st.value("attempt", 1);
      // The recipe changed what this stage trains or how it is evaluated: keep the old attempt's
      // folder, start the changed part fresh.
      const fs::path sdir = run_.dir / st.at("dir").get<std::string>();
      if (!train_same) {
        keep_aside(sdir);
        st["attempt"] = st["attempt"].get<int64_t>() + 1;
      } else if (!eval_same) {
        keep_aside(sdir / "eval");
      }
      return false;
    }
    check(train_same && eval_same,
          "stage " + spec.name + " passed in " + run_.dir.string() + " with another " +
              (train_same ? "eval" : "config") +
              " than the recipe's now; start a new run (another --out) to change it");
    st = prev_st;
    st["spec"] = spec.resolved;
    *judge_only = prev_spec.at("gates") != spec.resolved.at("gates");
    return !*judge_only;
  }

  // A passed stage kept by --resume: it promotes (or provides SFT rows) as when it ran.
  void keep_passed(size_t i, const json& st) {
    const StageSpec& spec = recipe_.stages[i];
    run_.state["stages"].push_back(st);
    if (st.at("type") != "rejection_sampling") {
      promoted_ = i + 1;
      run_.state["promoted"] = {{"stage", spec.name}, {"checkpoint", st.at("checkpoint")}};
      results_of_[i + 1] = st.at("eval_dir").is_null()
                               ? json()
                               : read_json_file(run_.abs(st.at("eval_dir")) + "/results.json");
    } else {
      last_sft_data_ = run_.abs(st.at("data").at("sft_data"));
    }
    std::fprintf(stderr, "r1pipeline: [%zu/%zu] %s (%s): passed before, kept\n", i + 1, n(),
                 spec.name.c_str(), spec.type.c_str());
  }

  // Runs stage i (or keeps / re-judges it on --resume). Returns false when the run stops here.
  bool run_stage(size_t i) {
    const StageSpec& spec = recipe_.stages[i];
    json st = stage_entry(spec.name, spec.type, i + 1, "running", spec.resolved);
    bool judge_only = false;  // a passed stage whose gates changed: judge them again
    if (old_stages_.count(spec.name) && resume_stage(i, st, &judge_only)) {
      keep_passed(i, st);
      return stop_here(spec);
    }
    run_.state["stages"].push_back(st);
    json& cur = run_.state["stages"].back();
    const auto t0 = Clock::now();
    const double seconds_before = judge_only ? cur.value("seconds", 0.0) : 0.0;
    try {
      if (!judge_only) {
        train_and_evaluate(i, cur);
      } else if (!cur.at("eval_dir").is_null()) {
        results_of_[i + 1] = read_json_file(run_.abs(cur.at("eval_dir")) + "/results.json");
      }
      if (!judge(i, cur, seconds_before + seconds_since(t0))) return false;
    } catch (const std::exception& e) {
      cur["status"] = "error";
      cur["error"] = e.what();
      cur["seconds"] = seconds_before + seconds_since(t0);
      run_.state["status"] = "error";
      run_.state["failed_stage"] = spec.name;
      run_.state["error"] = e.what();
      run_.save();
      run_.report();
      throw Error("stage " + spec.name + " (" + spec.type + "): " + e.what() +
                  " [rerun with --resume to continue]");
    }
    return stop_here(spec);
  }

  // --until: false (and status "stopped") after the stage it names.
  bool stop_here(const StageSpec& spec) {
    if (o_.until != spec.name) return true;
    result_.status = "stopped";
    return false;
  }

  // The model stage `spec` starts from: the promoted checkpoint, or the stage its `from` names.
  std::string start_of(const StageSpec& spec) {
    if (spec.from == "promoted") return run_.abs(run_.state["promoted"]["checkpoint"]);
    std::string start;
    for (const auto& s : run_.state["stages"])
      if (s.value("name", "") == spec.from) start = run_.abs(s.at("checkpoint"));
    return start;
  }

  void train_and_evaluate(size_t i, json& cur) {
    const StageSpec& spec = recipe_.stages[i];
    cur["status"] = "running";
    run_.save();
    const std::string start = start_of(spec);
    std::fprintf(stderr, "r1pipeline: [%zu/%zu] %s (%s) from %s\n", i + 1, n(), spec.name.c_str(),
                 spec.type.c_str(), run_.rel(start).c_str());
    const fs::path train_dir = run_.dir / cur.at("dir").get<std::string>() / "train";
    cur["train_dir"] = run_.rel(train_dir.string());
    const std::string ckpt = spec.type == "sft"    ? train_sft(spec, start, train_dir, cur)
                             : spec.type == "grpo" ? train_grpo(spec, start, train_dir, cur)
                                                   : train_distill(spec, start, train_dir, cur);
    cur["checkpoint"] = run_.rel(ckpt);
    cur["status"] = "trained";
    run_.save();
    // The checkpoint's evaluation (rejection sampling changes no weights: none).
    if (spec.type != "rejection_sampling") {
      results_of_[i + 1] = eval_if_needed(cur, spec.eval, "stage " + spec.name);
      cur["status"] = "evaluated";
      run_.save();
    }
  }

  // A trainer's config for stage `spec`: the recipe's threads, the stage's config, then the model
  // it starts from and its train folder.
  template <typename Config>
  Config trainer_config(const StageSpec& spec, const std::string& start,
                        const fs::path& train_dir) const {
    Config c;
    c.threads = recipe_.threads;
    apply_stage_config(spec, c);
    c.model = start;
    c.out = train_dir.string();
    return c;
  }

  std::string train_sft(const StageSpec& spec, const std::string& start, const fs::path& train_dir,
                        json& cur) {
    SftConfig c = trainer_config<SftConfig>(spec, start, train_dir);
    if (c.data.empty()) {
      check(!last_sft_data_.empty(),
            spec.where +
                ".config.data: missing, and no rejection_sampling stage came before to provide it");
      c.data = last_sft_data_;
    }
    const std::string ckpt = run_sft(c).checkpoint;
    cur["metrics"] = run_.rel((train_dir / "metrics.jsonl").string());
    return ckpt;
  }

  std::string train_grpo(const StageSpec& spec, const std::string& start, const fs::path& train_dir,
                         json& cur) {
    const std::string ckpt =
        run_grpo(trainer_config<GrpoConfig>(spec, start, train_dir)).checkpoint;
    cur["metrics"] = run_.rel((train_dir / "metrics.jsonl").string());
    return ckpt;
  }

  // A distill or rejection_sampling stage (r1distill until "sft" or "filter").
  std::string train_distill(const StageSpec& spec, const std::string& start,
                            const fs::path& train_dir, json& cur) {
    DistillConfig c;
    c.threads = recipe_.threads;
    c.teacher = start;  // unless a distill stage's config names one
    apply_stage_config(spec, c);
    if (spec.builtin_student) {
      const ModelSpec& m = *spec.builtin_student;
      const fs::path mdir = run_.dir / "models" /
                            ("zero-" + m.size + "-" + std::to_string(m.base_steps) + "-seed" +
                             std::to_string(m.seed));
      std::fprintf(stderr, "r1pipeline: building the student (tiny R1-Zero base, %s)\n",
                   m.size.c_str());
      c.student = build_builtin(m, mdir, recipe_.threads);
    }
    c.out = train_dir.string();
    c.command = "r1pipeline stage " + spec.name;
    if (spec.type != "rejection_sampling") {
      c.until = "sft";
      const std::string ckpt = run_distill(c).student;
      cur["metrics"] = run_.rel((train_dir / "student" / "metrics.jsonl").string());
      return ckpt;
    }
    c.student = start;  // unused before stage 3
    c.until = "filter";
    run_distill(c);
    const json card = read_json_file((train_dir / "filter" / "card.json").string());
    const int64_t traces = card.value("traces", int64_t{0});
    const int64_t kept = card.value("kept", int64_t{0});
    last_sft_data_ = (train_dir / "filter" / "sft.jsonl").string();
    cur["data"] = {{"rows", traces},
                   {"kept", kept},
                   {"kept_rate", traces > 0 ? static_cast<double>(kept) / traces : 0.0},
                   {"sft_data", run_.rel(last_sft_data_)},
                   {"card", run_.rel((train_dir / "filter" / "card.md").string())}};
    return start;
  }

  // The gates' inputs for stage i: its evaluation, its data, the promoted stage's evaluation
  // ("prev") and the baseline's stage of the same name. The blocks live in `held`.
  GateInputs gate_inputs(size_t i, const json& cur, std::vector<json>& held) {
    const StageSpec& spec = recipe_.stages[i];
    const auto block = [&](const json& results) -> const json* {
      held.push_back(results.is_object() ? results.value("benchmarks", json()) : json());
      return held.back().is_null() ? nullptr : &held.back();
    };
    held.reserve(3);
    GateInputs gi;
    gi.benchmarks = block(results_of_.count(i + 1) ? results_of_[i + 1] : json());
    gi.data = cur.at("data").is_null() ? nullptr : &cur.at("data");
    gi.bootstrap = spec.eval.bootstrap;
    gi.seed = spec.eval.protocol.seed;
    gi.references["prev"] = {"stage " + run_.state["promoted"]["stage"].get<std::string>(),
                             block(results_of_[promoted_]), nullptr};
    if (!recipe_.baseline.empty()) {
      if (!baseline_record_) baseline_record_ = load_run_record(recipe_.baseline);  // read once
      std::string label;
      const json base = reference_results(*baseline_record_, recipe_.baseline, spec.name, &label);
      held.push_back(base.is_object() ? base : json());
      gi.references["baseline"] = {label, held.back().is_null() ? nullptr : &held.back(), nullptr};
    }
    return gi;
  }

  // Judges stage i's gates; promotes its checkpoint when they hold. False: a gate failed.
  bool judge(size_t i, json& cur, double seconds) {
    const StageSpec& spec = recipe_.stages[i];
    std::vector<json> held;
    const auto gates = evaluate_gates(spec.gates, gate_inputs(i, cur, held));
    cur["gates"] = gates;
    const bool ok = gates_passed(gates);
    cur["status"] = ok ? "passed" : "failed";
    cur["seconds"] = seconds;
    std::fprintf(stderr, "r1pipeline: [%zu/%zu] %s: %zu gate%s, %s\n", i + 1, n(),
                 spec.name.c_str(), gates.size(), gates.size() == 1 ? "" : "s",
                 !ok                                 ? "FAILED: not promoted"
                 : spec.type == "rejection_sampling" ? "all hold"
                                                     : "all hold: promoted");
    print_gates(cur["gates"]);
    if (!ok) {
      run_.state["status"] = "failed";
      run_.state["failed_stage"] = spec.name;
      run_.save();
      run_.report();
      result_.status = "failed";
      result_.failed_stage = spec.name;
      return false;
    }
    if (spec.type != "rejection_sampling") {
      promoted_ = i + 1;
      run_.state["promoted"] = {{"stage", spec.name}, {"checkpoint", cur.at("checkpoint")}};
    } else {
      last_sft_data_ = run_.abs(cur.at("data").at("sft_data"));  // also when only re-judged
    }
    run_.save();
    run_.report();
    return true;
  }

  PipelineResult finish() {
    // Stages not reached stay listed as pending.
    for (size_t i = run_.state["stages"].size() - 1; i < n(); ++i) {
      const StageSpec& spec = recipe_.stages[i];
      run_.state["stages"].push_back(
          stage_entry(spec.name, spec.type, i + 1, "pending", spec.resolved));
    }
    if (result_.status != "failed") run_.state["status"] = result_.status;
    run_.save();
    run_.report();
    result_.promoted = run_.abs(run_.state["promoted"]["checkpoint"]);
    result_.state = run_.state;
    return result_;
  }

  const PipelineOptions& o_;
  Recipe recipe_;
  Run run_;
  std::map<std::string, json> old_stages_;
  size_t promoted_ = 0;                  // the promoted stage (0: the input)
  std::map<size_t, json> results_of_;    // each stage's evaluation (the "prev" of later gates)
  std::string last_sft_data_;            // the newest rejection_sampling stage's SFT rows
  std::optional<json> baseline_record_;  // the baseline run, read at its first use
  PipelineResult result_;
};

}  // namespace

PipelineResult run_pipeline(const PipelineOptions& o) {
  check(!o.recipe.empty(), "r1pipeline: name a recipe (e.g. pipeline/recipes/tiny-r1.yaml)");
  check(fs::is_regular_file(o.recipe), o.recipe + ": no such recipe file");
  Run run;
  run.dir = fs::absolute(o.out.empty() ? "runs/" + fs::path(o.recipe).stem().string() : o.out)
                .lexically_normal();
  Recipe recipe = load_recipe(o.recipe, run.dir.string());
  if (!o.baseline.empty()) recipe.baseline = o.baseline;
  if (o.threads >= 0) recipe.threads = o.threads;
  preflight_recipe(recipe, run.dir.string());
  const json old = open_state(o, recipe, run.dir);
  check_run_dir(run.dir.string(), "pipeline.json", "r1pipeline");
  fs::create_directories(run.dir);
  run.state = fresh_state(o, recipe, old);
  fs::copy_file(o.recipe, run.dir / "recipe.yaml", fs::copy_options::overwrite_existing);
  return PipelineRunner(o, std::move(recipe), std::move(run), old).run();
}

}  // namespace r1
