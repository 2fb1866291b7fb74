#include "pipeline/pipeline.h"

#include <chrono>      // std::chrono
#include <cstdio>      // std::fprintf
#include <ctime>       // std::time_t, gmtime_r
#include <filesystem>  // std::filesystem
#include <map>         // std::map
#include <optional>    // std::optional

#include "distill/distill.h"        // r1::DistillConfig, r1::run_distill
#include "evals/backend.h"          // r1::make_native_backend
#include "evals/runner.h"           // r1::RunOptions, r1::run_eval
#include "pipeline/preflight.h"     // r1::preflight_recipe
#include "pipeline/recipe.h"        // r1::Recipe, r1::load_recipe, r1::apply_stage_config
#include "reports/gates.h"          // r1::evaluate_gates
#include "reports/record.h"         // r1::load_run_record
#include "reports/render.h"         // r1::render_markdown, r1::render_html
#include "rl/grpo.h"                // r1::GrpoConfig, r1::run_grpo
#include "rl/sft.h"                 // r1::SftConfig, r1::run_sft
#include "rl/zero.h"                // r1::ZeroRunConfig, r1::run_zero
#include "toolkit/error.h"          // r1::Error, r1::check
#include "toolkit/fs.h"             // r1::write_file_atomic
#include "toolkit/run_dir.h"        // r1::check_run_dir
#include "toolkit/json.h"           // r1::read_json_file, r1::dump_json
#include "toolkit/progress.h"       // r1::seconds_since
#include "toolkit/hf_hub.h"        // r1::resolve_model_path
#include "toolkit/model_source.h"  // r1::check_model_path, r1::check_model_tokenizer

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

}  // namespace

PipelineResult run_pipeline(const PipelineOptions& o) {
  check(!o.recipe.empty(), "r1pipeline: name a recipe (e.g. pipeline/recipes/tiny-r1.yaml)");
  check(fs::is_regular_file(o.recipe), o.recipe + ": no such recipe file");
  Run run;
  {
    const std::string out = o.out.empty() ? "runs/" + fs::path(o.recipe).stem().string() : o.out;
    run.dir = fs::absolute(out).lexically_normal();
  }
  Recipe recipe = load_recipe(o.recipe, run.dir.string());
  if (!o.baseline.empty()) recipe.baseline = o.baseline;
  if (o.threads >= 0) recipe.threads = o.threads;
  preflight_recipe(recipe, run.dir.string());
  const fs::path state_path = run.dir / "pipeline.json";
  json old;
  if (fs::exists(state_path)) {
    old = read_json_file(state_path.string());
    check(old.is_object() && old.value("format", "") == "r1-pipeline-run",
          state_path.string() + ": not an r1pipeline run (format is not r1-pipeline-run)");
    check(o.resume, run.dir.string() + " holds a pipeline run (status " +
                        old.value("status", std::string("?")) +
                        "): add --resume to continue it, or choose another --out");
    check(old.value("name", "") == recipe.name, run.dir.string() + " is a run of recipe '" +
                                                    old.value("name", std::string()) + "', not '" +
                                                    recipe.name + "'");
  }
  check_run_dir(run.dir.string(), "pipeline.json", "r1pipeline");
  fs::create_directories(run.dir);
  run.state = {{"format", "r1-pipeline-run"},
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
  fs::copy_file(o.recipe, run.dir / "recipe.yaml", fs::copy_options::overwrite_existing);
  std::map<std::string, json> old_stages;
  if (old.is_object() && old.contains("stages") && old["stages"].is_array())
    for (const auto& s : old["stages"]) old_stages[s.value("name", "")] = s;

  // Stage 0: the input model, evaluated as the first "prev".
  const auto t_input = Clock::now();
  json input =
      stage_entry("input", "input", 0, "running",
                  {{"model", recipe.resolved.at("model")}, {"eval", recipe.resolved.at("eval")}});
  if (old_stages.count("input") && old_stages["input"].value("status", "") == "passed") {
    check(old_stages["input"].at("spec") == input.at("spec"),
          run.dir.string() +
              ": the recipe's model or default eval changed since this run "
              "started; start a new run (another --out)");
    input = old_stages["input"];
  }
  run.state["stages"].push_back(input);
  json& in = run.state["stages"][0];
  const auto eval_if_needed = [&](json& st, const EvalSpec& e, const std::string& label) -> json {
    if (e.empty()) return json();
    const fs::path eval_dir = run.dir / st.at("dir").get<std::string>() / "eval";
    st["eval_dir"] = run.rel(eval_dir.string());
    run.save();
    std::fprintf(stderr, "r1pipeline: evaluating %s (%s)\n", label.c_str(),
                 st["eval_dir"].get<std::string>().c_str());
    return evaluate(e, run.abs(st.at("checkpoint")), eval_dir, recipe.threads, label);
  };
  json input_results;
  if (in.at("status") != "passed") {
    run.save();
    std::string ckpt;
    if (!recipe.model.builtin.empty()) {
      std::fprintf(stderr,
                   "r1pipeline: building the built-in model (tiny R1-Zero base, %s) in %s\n",
                   recipe.model.size.c_str(), (run.dir / "input").string().c_str());
      ckpt = build_builtin(recipe.model, run.dir / "input", recipe.threads);
    } else {
      // A hub id (ORG/NAME[@REV]): its snapshot in the hub cache, fetched at preflight.
      ckpt = fs::absolute(resolve_model_path(recipe.model.dir)).lexically_normal().string();
      check_model_path(ckpt, recipe.path + ": model:");
    }
    in["checkpoint"] = run.rel(ckpt);
    input_results = eval_if_needed(in, recipe.eval, "the input model");
    in["status"] = "passed";
    in["seconds"] = seconds_since(t_input);
    run.save();
  } else if (!in.at("eval_dir").is_null()) {
    input_results = read_json_file(run.abs(in.at("eval_dir")) + "/results.json");
  }
  // The promoted stage: its index, and its evaluation (the "prev" of the next stage's gates).
  size_t promoted = 0;
  std::map<size_t, json> results_of = {{0, input_results}};
  run.state["promoted"] = {{"stage", "input"}, {"checkpoint", in.at("checkpoint")}};
  std::string last_sft_data;  // the newest rejection_sampling stage's SFT rows
  std::optional<json> baseline_record;  // the baseline run, read at its first use

  PipelineResult result;
  result.run_dir = run.dir.string();
  result.status = "passed";
  const size_t n = recipe.stages.size();
  for (size_t i = 0; i < n; ++i) {
    const StageSpec& spec = recipe.stages[i];
    json st = stage_entry(spec.name, spec.type, i + 1, "running", spec.resolved);
    const fs::path sdir = run.dir / st.at("dir").get<std::string>();
    bool judge_only = false;  // a passed stage whose gates changed: judge them again
    if (old_stages.count(spec.name)) {
      const json& prev_st = old_stages[spec.name];
      const json& prev_spec = prev_st.at("spec");
      const bool train_same = train_identity(prev_spec) == train_identity(spec.resolved);
      const bool eval_same = prev_spec.at("eval") == spec.resolved.at("eval");
      if (prev_st.value("status", "") == "passed") {
        check(train_same && eval_same,
              "stage " + spec.name + " passed in " + run.dir.string() + " with another " +
                  (train_same ? "eval" : "config") +
                  " than the recipe's now; start a new run (another --out) to change it");
        st = prev_st;
        st["spec"] = spec.resolved;
        judge_only = prev_spec.at("gates") != spec.resolved.at("gates");
        if (!judge_only) {
          run.state["stages"].push_back(st);
          if (st.at("type") != "rejection_sampling") {
            promoted = i + 1;
            run.state["promoted"] = {{"stage", spec.name}, {"checkpoint", st.at("checkpoint")}};
            results_of[i + 1] = st.at("eval_dir").is_null()
                                    ? json()
                                    : read_json_file(run.abs(st.at("eval_dir")) + "/results.json");
          } else {
            last_sft_data = run.abs(st.at("data").at("sft_data"));
          }
          std::fprintf(stderr, "r1pipeline: [%zu/%zu] %s (%s): passed before, kept\n", i + 1, n,
                       spec.name.c_str(), spec.type.c_str());
          if (o.until == spec.name) {
            result.status = "stopped";
            break;
          }
          continue;
        }
      } else {
        st["attempt"] = prev_st.value("attempt", 1);
        // The recipe changed what this stage trains or how it is evaluated: keep the old attempt's
        // folder, start the changed part fresh.
        const auto keep_aside = [&](const fs::path& p) {
          if (!fs::exists(p)) return;
          int k = 1;
          while (fs::exists(p.string() + ".attempt-" + std::to_string(k))) ++k;
          fs::rename(p, p.string() + ".attempt-" + std::to_string(k));
          std::fprintf(stderr, "r1pipeline: %s changed in the recipe; the old one is %s\n",
                       p.string().c_str(), (p.string() + ".attempt-" + std::to_string(k)).c_str());
        };
        if (!train_same) {
          keep_aside(sdir);
          st["attempt"] = st["attempt"].get<int64_t>() + 1;
        } else if (!eval_same) {
          keep_aside(sdir / "eval");
        }
      }
    }
    run.state["stages"].push_back(st);
    json& cur = run.state["stages"].back();
    const auto t0 = Clock::now();
    const double seconds_before = judge_only ? cur.value("seconds", 0.0) : 0.0;
    try {
      if (!judge_only) {
        cur["status"] = "running";
        run.save();
        // The model it starts from.
        std::string start;
        if (spec.from == "promoted") {
          start = run.abs(run.state["promoted"]["checkpoint"]);
        } else {
          for (const auto& s : run.state["stages"])
            if (s.value("name", "") == spec.from) start = run.abs(s.at("checkpoint"));
        }
        std::fprintf(stderr, "r1pipeline: [%zu/%zu] %s (%s) from %s\n", i + 1, n, spec.name.c_str(),
                     spec.type.c_str(), run.rel(start).c_str());
        const fs::path train_dir = sdir / "train";
        cur["train_dir"] = run.rel(train_dir.string());
        std::string ckpt;
        if (spec.type == "sft") {
          SftConfig c;
          c.threads = recipe.threads;
          apply_stage_config(spec, c);
          c.model = start;
          c.out = train_dir.string();
          if (c.data.empty()) {
            check(!last_sft_data.empty(),
                  spec.where +
                      ".config.data: missing, and no rejection_sampling stage came before to "
                      "provide it");
            c.data = last_sft_data;
          }
          ckpt = run_sft(c).checkpoint;
          cur["metrics"] = run.rel((train_dir / "metrics.jsonl").string());
        } else if (spec.type == "grpo") {
          GrpoConfig c;
          c.threads = recipe.threads;
          apply_stage_config(spec, c);
          c.model = start;
          c.out = train_dir.string();
          ckpt = run_grpo(c).checkpoint;
          cur["metrics"] = run.rel((train_dir / "metrics.jsonl").string());
        } else {
          DistillConfig c;
          c.threads = recipe.threads;
          c.teacher = start;  // unless a distill stage's config names one
          apply_stage_config(spec, c);
          if (spec.builtin_student) {
            const ModelSpec& m = *spec.builtin_student;
            const fs::path mdir = run.dir / "models" /
                                  ("zero-" + m.size + "-" + std::to_string(m.base_steps) + "-seed" +
                                   std::to_string(m.seed));
            std::fprintf(stderr, "r1pipeline: building the student (tiny R1-Zero base, %s)\n",
                         m.size.c_str());
            c.student = build_builtin(m, mdir, recipe.threads);
          }
          c.out = train_dir.string();
          c.command = "r1pipeline stage " + spec.name;
          if (spec.type == "rejection_sampling") {
            c.student = start;  // unused before stage 3
            c.until = "filter";
            run_distill(c);
            const json card = read_json_file((train_dir / "filter" / "card.json").string());
            const int64_t traces = card.value("traces", int64_t{0});
            const int64_t kept = card.value("kept", int64_t{0});
            last_sft_data = (train_dir / "filter" / "sft.jsonl").string();
            cur["data"] = {{"rows", traces},
                           {"kept", kept},
                           {"kept_rate", traces > 0 ? static_cast<double>(kept) / traces : 0.0},
                           {"sft_data", run.rel(last_sft_data)},
                           {"card", run.rel((train_dir / "filter" / "card.md").string())}};
            ckpt = start;
          } else {
            c.until = "sft";
            ckpt = run_distill(c).student;
            cur["metrics"] = run.rel((train_dir / "student" / "metrics.jsonl").string());
          }
        }
        cur["checkpoint"] = run.rel(ckpt);
        cur["status"] = "trained";
        run.save();
        // The checkpoint's evaluation (rejection sampling changes no weights: none).
        if (spec.type != "rejection_sampling") {
          results_of[i + 1] = eval_if_needed(cur, spec.eval, "stage " + spec.name);
          cur["status"] = "evaluated";
          run.save();
        }
      } else if (!cur.at("eval_dir").is_null()) {
        results_of[i + 1] = read_json_file(run.abs(cur.at("eval_dir")) + "/results.json");
      }
      // Gates.
      GateInputs gi;
      const json benches = results_of.count(i + 1) && results_of[i + 1].is_object()
                               ? results_of[i + 1].value("benchmarks", json())
                               : json();
      gi.benchmarks = benches.is_null() ? nullptr : &benches;
      gi.data = cur.at("data").is_null() ? nullptr : &cur.at("data");
      gi.bootstrap = spec.eval.bootstrap;
      gi.seed = spec.eval.protocol.seed;
      const json prev_benches = results_of[promoted].is_object()
                                    ? results_of[promoted].value("benchmarks", json())
                                    : json();
      gi.references["prev"] = {"stage " + run.state["promoted"]["stage"].get<std::string>(),
                               prev_benches.is_null() ? nullptr : &prev_benches, nullptr};
      json base_benches;
      if (!recipe.baseline.empty()) {
        if (!baseline_record) baseline_record = load_run_record(recipe.baseline);  // read once
        std::string label;
        base_benches = reference_results(*baseline_record, recipe.baseline, spec.name, &label);
        base_benches = base_benches.is_object() ? base_benches : json();
        gi.references["baseline"] = {label, base_benches.is_null() ? nullptr : &base_benches,
                                     nullptr};
      }
      const auto gates = evaluate_gates(spec.gates, gi);
      cur["gates"] = gates;
      const bool ok = gates_passed(gates);
      cur["status"] = ok ? "passed" : "failed";
      cur["seconds"] = seconds_before + seconds_since(t0);
      std::fprintf(stderr, "r1pipeline: [%zu/%zu] %s: %zu gate%s, %s\n", i + 1, n,
                   spec.name.c_str(), gates.size(), gates.size() == 1 ? "" : "s",
                   !ok                                 ? "FAILED: not promoted"
                   : spec.type == "rejection_sampling" ? "all hold"
                                                       : "all hold: promoted");
      print_gates(cur["gates"]);
      if (!ok) {
        run.state["status"] = "failed";
        run.state["failed_stage"] = spec.name;
        run.save();
        run.report();
        result.status = "failed";
        result.failed_stage = spec.name;
        break;
      }
      if (spec.type != "rejection_sampling") {
        promoted = i + 1;
        run.state["promoted"] = {{"stage", spec.name}, {"checkpoint", cur.at("checkpoint")}};
      } else {
        last_sft_data = run.abs(cur.at("data").at("sft_data"));  // also when only re-judged
      }
      run.save();
      run.report();
    } catch (const std::exception& e) {
      cur["status"] = "error";
      cur["error"] = e.what();
      cur["seconds"] = seconds_before + seconds_since(t0);
      run.state["status"] = "error";
      run.state["failed_stage"] = spec.name;
      run.state["error"] = e.what();
      run.save();
      run.report();
      throw Error("stage " + spec.name + " (" + spec.type + "): " + e.what() +
                  " [rerun with --resume to continue]");
    }
    if (o.until == spec.name) {
      result.status = "stopped";
      break;
    }
  }
  // Stages not reached stay listed as pending.
  for (size_t i = run.state["stages"].size() - 1; i < n; ++i) {
    const StageSpec& spec = recipe.stages[i];
    run.state["stages"].push_back(
        stage_entry(spec.name, spec.type, i + 1, "pending", spec.resolved));
  }
  if (result.status != "failed") run.state["status"] = result.status;
  run.save();
  run.report();
  result.promoted = run.abs(run.state["promoted"]["checkpoint"]);
  result.state = run.state;
  return result;
}

}  // namespace r1
