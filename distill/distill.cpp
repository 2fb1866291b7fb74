// r1distill's pipeline (see distill.h).
#include "distill/distill.h"

#include <algorithm>   // std::find
#include <chrono>      // std::chrono
#include <cmath>       // std::isfinite
#include <cstdio>      // std::fprintf, std::snprintf
#include <cstdlib>     // std::getenv
#include <filesystem>  // std::filesystem
#include <map>         // std::map
#include <memory>      // std::unique_ptr
#include <optional>    // std::optional
#include <tuple>       // std::tuple

#include "distill/kd_train.h"      // r1::KdTrainConfig, r1::run_kd
#include "evals/backend.h"         // r1::make_native_backend, r1::make_http_backend
#include "evals/benchmarks.h"      // r1::load_dataset, r1::custom_benchmark
#include "evals/protocol.h"        // r1::Protocol, r1::protocol_messages
#include "evals/runner.h"          // r1::RunOptions, r1::run_eval, r1::compare_run_dirs
#include "rl/sft.h"                // r1::SftConfig, r1::run_sft
#include "rl/train_common.h"       // r1::config_flag_name
#include "toolkit/error.h"         // r1::Error, r1::check
#include "toolkit/fs.h"            // r1::read_file, r1::write_file_atomic
#include "toolkit/gguf.h"          // r1::is_gguf_file
#include "toolkit/model_source.h"  // r1::check_model_path
#include "toolkit/progress.h"      // r1::seconds_since
#include "toolkit/run_dir.h"       // r1::check_run_dir

namespace r1 {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ojson = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

const std::vector<std::string> kStages = {"traces", "filter", "sft", "report"};

std::string home_path(const char* rest) {
  const char* home = std::getenv("HOME");
  return (fs::path(home != nullptr && *home != '\0' ? home : ".") / rest).string();
}

std::string fmt(const char* f, double v) { return format_number(f, v); }

bool runs(const DistillConfig& c, const std::string& stage) {
  return stage_runs(kStages, stage, c.until);
}

// The registry benchmarks of --eval-benchmarks ("humaneval,math500"), in order.
std::vector<std::string> eval_benchmark_names(const DistillConfig& c) {
  std::vector<std::string> names;
  size_t start = 0;
  while (start <= c.eval_benchmarks.size() && !c.eval_benchmarks.empty()) {
    size_t end = c.eval_benchmarks.find(',', start);
    if (end == std::string::npos) end = c.eval_benchmarks.size();
    std::string name = c.eval_benchmarks.substr(start, end - start);
    name.erase(0, name.find_first_not_of(' '));
    name.erase(name.find_last_not_of(' ') + 1);
    check(!name.empty(), "--eval-benchmarks " + c.eval_benchmarks + " has an empty name");
    names.push_back(name);
    start = end + 1;
  }
  return names;
}

void check_config(const DistillConfig& c) {
  check(!c.teacher.empty(), "--teacher is required");
  check(!c.student.empty(), "--student is required");
  check(!c.prompts.empty(), "--prompts is required");
  check(!c.out.empty(), "--out is required");
  check(std::find(kStages.begin(), kStages.end(), c.until) != kStages.end(),
        "--until " + c.until + " is not a stage (traces, filter, sft, report)");
  check(c.protocol == "r1" || c.protocol == "grpo",
        "--protocol " + c.protocol + " is not r1 or grpo");
  for (auto [name, v] : {std::pair{"samples", c.samples},
                         {"batch_size", c.batch_size},
                         {"grad_accum", c.grad_accum},
                         {"max_new_tokens", c.max_new_tokens},
                         {"eval_samples", c.eval_samples},
                         {"concurrency", c.concurrency}})
    check_positive(name, static_cast<double>(v));
  for (auto [name, v] : {std::pair{"limit", c.limit},
                         {"warmup_steps", c.warmup_steps},
                         {"max_length", c.max_length},
                         {"save_every", c.save_every},
                         {"eval_max_new_tokens", c.eval_max_new_tokens},
                         {"eval_limit", c.eval_limit}})
    check_non_negative(name, static_cast<double>(v));
  check(c.epochs > 0 && std::isfinite(c.epochs), "--epochs must be > 0");
  check(c.lr > 0 && std::isfinite(c.lr), "--lr must be > 0");
  check(c.temperature >= 0 && std::isfinite(c.temperature), "--temperature must be >= 0");
  check(c.top_p > 0 && c.top_p <= 1, "--top-p must be in (0, 1]");
  check_rejection_config(c.rejection);
  for (const auto& name : eval_benchmark_names(c)) find_benchmark(name);
  check(c.train == "sft" || c.train == "kd", "--train " + c.train + " is not sft or kd");
  if (c.train == "kd") check_kd_config(c.kd);
  check(c.train != "kd" || c.device == "cpu",
        "--train kd runs on the CPU only (its trainer has no device option yet); use --train sft "
        "on " +
            c.device);
}

// The protocol of traces (and, with the eval overrides, of evaluations).
Protocol make_protocol(const DistillConfig& c) {
  Protocol p = protocol_preset(c.protocol);
  p.force_think = !c.rejection.no_think;
  p.temperature = c.temperature;
  p.top_p = c.top_p;
  p.top_k = 0;
  p.max_new_tokens = c.max_new_tokens;
  p.samples = c.samples;
  p.seed = c.seed;
  return p;
}

Protocol eval_protocol(const DistillConfig& c) {
  Protocol p = make_protocol(c);
  if (c.eval_temperature >= 0) p.temperature = c.eval_temperature;
  if (c.eval_top_p > 0) p.top_p = c.eval_top_p;
  if (c.eval_max_new_tokens > 0) p.max_new_tokens = c.eval_max_new_tokens;
  p.samples = c.eval_samples;
  return p;
}

std::unique_ptr<Backend> make_backend(const ModelRef& m, const DistillConfig& c,
                                      const std::string& kwargs) {
  if (m.local()) {
    NativeOptions o;
    o.model_dir = m.dir;
    o.template_kwargs = kwargs;
    o.threads = static_cast<int>(c.threads);
    o.device = c.device;
    return make_native_backend(o);
  }
  HttpOptions o;
  o.template_kwargs = kwargs;
  o.endpoints = {m.endpoint};
  o.served_model = m.served_model;
  o.api = m.api;
  if (!m.api_key_env.empty()) {
    const char* key = std::getenv(m.api_key_env.c_str());
    o.api_key = key != nullptr ? key : "";
  }
  o.concurrency = static_cast<int>(c.concurrency);
  return make_http_backend(o);
}

// r1eval's run of `data` (the prompts' fields) under protocol `p` into `dir`.
RunOptions run_options(const DistillConfig& c, const std::string& data, const Protocol& p,
                       const std::string& dir) {
  RunOptions ro;
  ro.dataset = data;
  ro.question_field = c.question_field;
  ro.answer_field = c.answer_field;
  ro.id_field = c.id_field;
  ro.protocol = p;
  ro.out_dir = dir;
  ro.command = c.command;
  ro.bootstrap = 1000;
  return ro;
}

bool evaluates(const DistillConfig& c) {
  return !c.eval_data.empty() || !c.eval_benchmarks.empty();
}

// Evaluates `backend` on the held-out set and the named benchmarks into `dir`; returns
// results.json's "benchmarks" object.
json evaluate(const DistillConfig& c, Backend& backend, const std::string& dir,
              const std::string& what) {
  RunOptions ro = run_options(c, c.eval_data, eval_protocol(c), dir);
  ro.benchmarks = eval_benchmark_names(c);
  ro.data_dir = c.data_dir;
  ro.limit = c.eval_limit;
  std::fprintf(stderr, "r1distill: evaluating the %s\n", what.c_str());
  return run_eval(ro, backend).at("benchmarks");
}

std::string pct(const json& j, const char* key) {
  return j.contains(key) ? fmt("%.1f%%", 100 * j.at(key).get<double>()) : "-";
}

std::string signed_points(const json& v) { return fmt("%+.1f", 100 * v.get<double>()); }

// One benchmark's table: teacher, student before and after, and the paired difference.
std::string eval_markdown(const std::string& name, const ojson& b, int64_t samples) {
  std::string s = "**" + name + "**: " + b.at("problems").dump() + " problems x " +
                  std::to_string(samples) + " samples.\n\n";
  s += "| model | pass@1 | 95% interval | truncated |\n|---|---|---|---|\n";
  for (const char* who : {"teacher", "student_before", "student_after"}) {
    if (!b.contains(who)) continue;
    const auto& m = b.at(who);
    std::string ci = "-";
    if (m.contains("ci95"))
      ci = fmt("%.1f", 100 * m.at("ci95").at(0).get<double>()) + " - " +
           fmt("%.1f", 100 * m.at("ci95").at(1).get<double>());
    s += std::string("| ") + who + " | " + pct(m, "pass@1") + " | " + ci + " | " +
         pct(m, "truncated_rate") + " |\n";
  }
  if (b.contains("after_minus_before")) {
    const auto& p = b.at("after_minus_before");
    s += "\nStudent after - before: " + signed_points(p.at("diff")) +
         " points, 95% paired interval [" + signed_points(p.at("ci95").at(0)) + ", " +
         signed_points(p.at("ci95").at(1)) +
         "], p = " + fmt("%.3g", p.at("p_value").get<double>()) + " (better on " +
         p.at("better").dump() + " problems, worse on " + p.at("worse").dump() + ").\n";
  }
  return s + "\n";
}

std::string report_markdown(const ojson& r) {
  std::string s = "# r1distill report\n\n";
  s += "Teacher `" + r.at("teacher").at("spec").get<std::string>() + "`, student `" +
       r.at("student").at("spec").get<std::string>() + "`.\n\n";
  const auto& t = r.at("traces");
  s += "Traces: " + t.at("samples").dump() + " from " + t.at("prompts").dump() +
       " prompts (teacher pass@1 on them " + pct(t, "pass@1") + "); kept " +
       r.at("filter").at("kept").dump() + " after rejection sampling (filter/card.md).\n\n";
  if (r.contains("sft"))
    s += "Student " + r.at("sft").at("train").get<std::string>() + ": " +
         r.at("sft").at("steps").dump() + " steps, final loss " +
         fmt("%.4f", r.at("sft").at("loss").get<double>()) + " (checkpoint " +
         r.at("sft").at("checkpoint").get<std::string>() + ").\n\n";
  if (r.contains("eval")) {
    const auto& e = r.at("eval");
    s += "## Held-out evaluations\n\n";
    for (const auto& [name, b] : e.at("benchmarks").items())
      s += eval_markdown(name, b, e.at("samples").get<int64_t>());
  }
  return s;
}

// The entry of a benchmark's results kept in the report.
ojson eval_entry(const json& b) {
  ojson e = ojson::object();
  for (const char* k : {"pass@1", "ci95", "problems", "samples", "truncated_rate"})
    if (b.contains(k)) e[k] = b.at(k);
  return e;
}

}  // namespace

json builtin_model_presets() {
  return {{"models",
           {{"r1",
             {{"endpoint", "https://api.deepseek.com/v1"},
              {"served_model", "deepseek-reasoner"},
              {"api", "chat"},
              {"api_key_env", "DEEPSEEK_API_KEY"}}},
            {"r1-vllm",
             {{"endpoint", "http://localhost:8000/v1"},
              {"served_model", "deepseek-ai/DeepSeek-R1"},
              {"api", "chat"}}},
            {"qwen-1.5b", {{"dir", "Qwen2.5-Math-1.5B"}}},
            {"qwen-7b", {{"dir", "Qwen2.5-Math-7B"}}},
            {"qwen-14b", {{"dir", "Qwen2.5-14B"}}},
            {"qwen-32b", {{"dir", "Qwen2.5-32B"}}},
            {"llama-8b", {{"dir", "Llama-3.1-8B"}}},
            {"llama-70b", {{"dir", "Llama-3.3-70B-Instruct"}}}}}};
}

std::string default_models_file() {
  const char* f = std::getenv("R1_MODELS_FILE");
  return f != nullptr && *f != '\0' ? f : home_path(".config/r1/models.json");
}

std::string default_models_dir() {
  const char* d = std::getenv("R1_MODELS_DIR");
  return d != nullptr && *d != '\0' ? d : home_path(".cache/r1/models");
}

ModelRef resolve_model(const std::string& spec, const std::string& role,
                       const std::string& models_file, const std::string& models_dir) {
  ModelRef m;
  m.spec = spec;
  check(!spec.empty(), "--" + role + " is empty");
  if (spec.rfind("http://", 0) == 0 || spec.rfind("https://", 0) == 0) {
    m.endpoint = spec;
    return m;
  }
  if (fs::is_directory(spec) || is_gguf_file(spec)) {
    check_model_path(spec, "--" + role);
    m.dir = spec;
    return m;
  }
  json presets = builtin_model_presets().at("models");
  const std::string file = models_file.empty() ? default_models_file() : models_file;
  if (fs::exists(file)) {
    const json user = json::parse(read_file(file), nullptr, false);
    check(!user.is_discarded() && user.is_object() && user.contains("models") &&
              user.at("models").is_object(),
          file +
              ": not a models file ({\"models\": {NAME: {\"dir\": ...} or {\"endpoint\": "
              "...}}})");
    for (const auto& [name, entry] : user.at("models").items()) {
      check(entry.is_object() && (entry.contains("dir") || entry.contains("endpoint")),
            file + ": model \"" + name + "\" needs \"dir\" or \"endpoint\"");
      presets[name] = entry;
    }
  } else {
    check(models_file.empty(), "models file " + models_file + " does not exist");
  }
  if (!presets.contains(spec)) {
    std::string names;
    for (const auto& [name, entry] : presets.items()) names += (names.empty() ? "" : ", ") + name;
    throw Error("--" + role + " " + spec +
                " is not a directory, a URL or a preset (presets: " + names +
                "); add {\"models\": "
                "{\"" +
                spec + "\": {\"dir\": \"PATH\"}}} to " + file);
  }
  const json& e = presets.at(spec);
  m.preset = spec;
  const auto str = [&](const char* k) {
    check(!e.contains(k) || e.at(k).is_string(),
          file + ": model \"" + spec + "\": field " + k + " must be a string");
    return e.value(k, std::string());
  };
  if (e.contains("dir")) {
    fs::path dir = str("dir");
    const std::string root = models_dir.empty() ? default_models_dir() : models_dir;
    if (dir.is_relative()) dir = fs::path(root) / dir;
    check(fs::is_directory(dir) && fs::exists(dir / "config.json"),
          "preset " + spec + " is the checkpoint directory " + dir.string() +
              ", which does not exist (or has no config.json): put the Hugging Face checkpoint "
              "there, or point the preset's \"dir\" elsewhere in " +
              file + " (or --models-dir / $R1_MODELS_DIR)");
    m.dir = dir.string();
    return m;
  }
  m.endpoint = str("endpoint");
  m.served_model = str("served_model");
  m.api = e.contains("api") ? str("api") : "chat";
  m.api_key_env = str("api_key_env");
  if (!m.api_key_env.empty()) {
    const char* key = std::getenv(m.api_key_env.c_str());
    check(key != nullptr && *key != '\0',
          "preset " + spec + " (" + m.endpoint + ") needs its API key in $" + m.api_key_env);
  }
  return m;
}

void check_distill_config(const DistillConfig& c) { check_config(c); }

namespace {

// One r1distill run as its stages share it: the config, the models, the run folder, the report.
struct DistillRun {
  DistillConfig c;
  ModelRef teacher, student;
  fs::path out;
  ojson report;
};

ojson model_json(const ModelRef& m) {
  ojson j = {{"spec", m.spec}};
  if (!m.preset.empty()) j["preset"] = m.preset;
  if (m.local())
    j["dir"] = m.dir;
  else
    j["endpoint"] = m.endpoint, j["served_model"] = m.served_model;
  return j;
}

// Resolves the models and checks what would fail late (KD across tokenizers, a missing dataset)
// before any trace is generated.
DistillRun open_run(const DistillConfig& config) {
  DistillRun run{config, {}, {}, fs::path(config.out), {}};
  DistillConfig& c = run.c;
  check_config(c);
  if (c.command.empty())
    c.command = "r1distill --teacher " + c.teacher + " --student " + c.student + " --prompts " +
                c.prompts + " --out " + c.out;
  run.teacher = resolve_model(c.teacher, "teacher", c.models_file, c.models_dir);
  run.student = resolve_model(c.student, "student", c.models_file, c.models_dir);
  check(run.student.local(), "--student " + c.student +
                                 " is an endpoint; the student is trained here, so it must be a "
                                 "local checkpoint directory or a preset with \"dir\"");
  check(c.train != "kd" || run.teacher.local(),
        "--train kd needs a local teacher (its logits); --teacher " + c.teacher +
            " is an endpoint: use --train sft");
  if (c.train == "kd") check_kd_models(run.teacher.dir, run.student.dir);
  check(fs::exists(c.prompts), "--prompts " + c.prompts + " does not exist");
  check(c.eval_data.empty() || fs::exists(c.eval_data),
        "--eval-data " + c.eval_data + " does not exist");
  for (const auto& name : eval_benchmark_names(c))
    require_dataset(find_benchmark(name), dataset_dirs(c.data_dir));
  // A run's first folder is traces/ (the teacher's r1eval run): any other non-empty folder is
  // someone else's, and report.md, report.json there would be replaced (D8).
  check_run_dir(c.out, "traces", "r1distill");
  fs::create_directories(run.out);
  run.report = {{"format", "r1-distill-report"}, {"version", 1}, {"command", c.command}};
  run.report["teacher"] = model_json(run.teacher);
  run.report["student"] = model_json(run.student);
  run.report["protocol"] = protocol_to_json(make_protocol(c));  // of the traces
  return run;
}

// Stage 1: traces, through r1eval's runner and sample store (resumes what is stored; code prompts
// are judged in the sandbox there).
void trace_stage(DistillRun& run) {
  const DistillConfig& c = run.c;
  const auto t0 = Clock::now();
  std::unique_ptr<Backend> backend = make_backend(run.teacher, c, c.teacher_template_kwargs);
  RunOptions ro = run_options(c, c.prompts, make_protocol(c), (run.out / "traces").string());
  ro.limit = c.limit;
  std::fprintf(stderr, "r1distill: stage 1, traces: %lld per prompt from %s\n",
               static_cast<long long>(c.samples), c.teacher.c_str());
  const json traced = run_eval(ro, *backend).at("benchmarks").begin().value();
  run.report["traces"] = {{"dir", "traces"},
                          {"prompts", traced.at("problems")},
                          {"samples", traced.at("problems").get<int64_t>() * c.samples},
                          {"pass@1", traced.at("pass@1")},
                          {"seconds", seconds_since(t0)}};
}

// problem id -> the user turn as the teacher saw it.
std::map<std::string, std::string> teacher_prompts(const DistillConfig& c) {
  const BenchmarkSpec spec =
      custom_benchmark(c.prompts, c.question_field, c.answer_field, c.id_field);
  auto problems = load_dataset(c.prompts, spec);
  if (c.limit > 0 && static_cast<int64_t>(problems.size()) > c.limit) problems.resize(c.limit);
  const Protocol protocol = make_protocol(c);
  std::map<std::string, std::string> prompts;
  for (const auto& p : problems) prompts[p.id] = protocol_messages(protocol, p).back().content;
  return prompts;
}

// Stage 2: rejection sampling (deterministic; rerunning rewrites the same files). Returns the
// number of kept traces; throws when none survived.
size_t filter_stage(DistillRun& run) {
  const auto t0 = Clock::now();
  const fs::path dir = run.out / "filter";
  const RejectionResult kept =
      reject_traces(read_traces((run.out / "traces" / "samples.jsonl").string()),
                    teacher_prompts(run.c), run.c.rejection);
  write_rejection(kept, dir.string());
  run.report["filter"] = {{"dir", "filter"},
                          {"kept", kept.card.at("kept")},
                          {"dropped", kept.card.at("dropped")},
                          {"seconds", seconds_since(t0)}};
  std::fprintf(stderr, "r1distill: stage 2, rejection sampling: kept %lld of %lld traces (%s)\n",
               static_cast<long long>(kept.kept.size()),
               static_cast<long long>(kept.verdicts.size()), (dir / "card.md").string().c_str());
  if (kept.kept.empty()) {
    std::string why;
    for (const auto& [reason, n] : kept.card.at("dropped").items())
      if (n.get<int64_t>() > 0) why += (why.empty() ? "" : ", ") + n.dump() + " " + reason;
    throw Error("no trace survived rejection sampling (" + (why.empty() ? "no traces" : why) +
                "); see " + (dir / "card.md").string());
  }
  return kept.kept.size();
}

SftConfig student_sft_config(const DistillRun& run) {
  const DistillConfig& c = run.c;
  SftConfig s;
  s.model = run.student.dir;
  s.data = (run.out / "filter" / "sft.jsonl").string();
  s.out = (run.out / "student").string();
  s.epochs = c.epochs;
  s.batch_size = c.batch_size;
  s.grad_accum = c.grad_accum;
  s.lr = c.lr;
  s.warmup_steps = c.warmup_steps;
  s.max_length = c.max_length;
  s.save_every = c.save_every;
  s.seed = c.seed;
  s.keep_last = 1;
  s.threads = c.threads;
  s.device = c.device;
  s.dtype = c.dtype;
  s.template_kwargs = c.student_template_kwargs;
  return s;
}

KdTrainConfig student_kd_config(const DistillRun& run, const SftConfig& s) {
  const DistillConfig& c = run.c;
  KdTrainConfig k;
  k.student = s.model;
  k.template_kwargs = s.template_kwargs;
  k.teacher = run.teacher.dir;
  k.data = s.data;
  k.out = s.out;
  k.kd = c.kd;
  k.epochs = c.epochs;
  k.batch_size = c.batch_size;
  k.lr = c.lr;
  k.warmup_steps = c.warmup_steps;
  k.seed = c.seed;
  k.max_length = c.max_length;
  k.max_new_tokens = c.kd_max_new_tokens > 0 ? c.kd_max_new_tokens : c.max_new_tokens;
  k.save_every = c.save_every;
  k.threads = c.threads;
  return k;
}

// Stage 3: the student's SFT (or KD) on the kept traces (resumes from its newest checkpoint).
// Returns the trained checkpoint.
std::string train_stage(DistillRun& run, size_t kept) {
  const auto t0 = Clock::now();
  const SftConfig s = student_sft_config(run);
  std::fprintf(stderr, "r1distill: stage 3, student %s: %.3g epochs over %zu traces\n",
               run.c.train == "sft" ? "SFT" : "logit-level KD", run.c.epochs, kept);
  std::string checkpoint;
  int64_t steps = 0;
  double loss = 0;
  if (run.c.train == "sft") {
    const SftResult sft = run_sft(s);
    checkpoint = sft.checkpoint, steps = sft.total_steps, loss = sft.loss;
  } else {
    const KdTrainResult kd = run_kd(student_kd_config(run, s));
    checkpoint = kd.checkpoint, steps = kd.total_steps, loss = kd.loss;
  }
  run.report["sft"] = {{"dir", "student"},
                       {"train", run.c.train},
                       {"steps", steps},
                       {"loss", loss},
                       {"checkpoint", fs::relative(checkpoint, run.out).string()},
                       {"seconds", seconds_since(t0)}};
  return checkpoint;
}

// Held-out evaluations of teacher, student before and student after, per benchmark, with the
// paired per-problem difference of the student after against before.
void eval_stage(DistillRun& run, const std::string& checkpoint) {
  const DistillConfig& c = run.c;
  const auto t0 = Clock::now();
  const fs::path dir = run.out / "evals";
  ojson e = {{"data", c.eval_data},
             {"benchmarks_named", eval_benchmark_names(c)},
             {"samples", c.eval_samples},
             {"limit", c.eval_limit}};
  const Protocol ep = eval_protocol(c);
  e["temperature"] = ep.temperature;
  e["max_new_tokens"] = ep.max_new_tokens;
  ojson benches = ojson::object();
  const auto record = [&](const json& results, const char* who) {
    for (const auto& [name, b] : results.items()) {
      benches[name]["problems"] = b.at("problems");
      benches[name][who] = eval_entry(b);
    }
  };
  if (c.eval_teacher) {
    auto backend = make_backend(run.teacher, c, c.teacher_template_kwargs);
    record(evaluate(c, *backend, (dir / "teacher").string(), "teacher"), "teacher");
  }
  ModelRef after = run.student;
  after.dir = checkpoint;
  for (const auto& [model, who, sub] : {std::tuple{run.student, "student_before", "student-before"},
                                        std::tuple{after, "student_after", "student-after"}}) {
    auto backend = make_backend(model, c, c.student_template_kwargs);
    record(evaluate(c, *backend, (dir / sub).string(), sub), who);
  }
  const json paired = compare_run_dirs((dir / "student-before").string(),
                                       (dir / "student-after").string(), nullptr, 10000);
  for (const auto& [name, p] : paired.at("benchmarks").items())
    benches[name]["after_minus_before"] = p;
  e["benchmarks"] = benches;
  e["seconds"] = seconds_since(t0);
  run.report["eval"] = e;
}

}  // namespace

DistillResult run_distill(const DistillConfig& config) {
  DistillRun run = open_run(config);
  DistillResult result;
  trace_stage(run);
  if (!runs(run.c, "filter")) return result;
  const size_t kept = filter_stage(run);
  if (!runs(run.c, "sft")) return result;
  result.student = train_stage(run, kept);
  if (!runs(run.c, "report")) return result;
  if (evaluates(run.c)) eval_stage(run, result.student);
  result.report = json::parse(run.report.dump());
  result.report_path = (run.out / "report.json").string();
  write_file_atomic(result.report_path, run.report.dump(2) + "\n");
  write_file_atomic((run.out / "report.md").string(), report_markdown(run.report));
  return result;
}

}  // namespace r1
