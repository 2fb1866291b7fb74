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

#include "distill/kd_train.h"  // r1::KdTrainConfig, r1::run_kd
#include "evals/backend.h"     // r1::make_native_backend, r1::make_http_backend
#include "evals/benchmarks.h"  // r1::load_dataset, r1::custom_benchmark
#include "evals/protocol.h"    // r1::Protocol, r1::protocol_messages
#include "evals/runner.h"      // r1::RunOptions, r1::run_eval, r1::compare_run_dirs
#include "rl/checkpoint.h"     // r1::checkpoint_dir
#include "rl/sft.h"            // r1::SftConfig, r1::run_sft
#include "rl/train_common.h"   // r1::config_flag_name
#include "rl/zero.h"           // r1::ZeroRunConfig, r1::run_zero
#include "toolkit/error.h"     // r1::Error, r1::check
#include "toolkit/fs.h"        // r1::read_file, r1::write_file_atomic
#include "toolkit/progress.h"  // r1::seconds_since
#include "toolkit/run_dir.h"   // r1::check_run_dir
#include "toolkit/model_source.h"  // r1::check_model_path
#include "toolkit/gguf.h"  // r1::is_gguf_file

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
                         {"eval_max_new_tokens", c.eval_max_new_tokens}})
    check_non_negative(name, static_cast<double>(v));
  check(c.epochs > 0 && std::isfinite(c.epochs), "--epochs must be > 0");
  check(c.lr > 0 && std::isfinite(c.lr), "--lr must be > 0");
  check(c.temperature >= 0 && std::isfinite(c.temperature), "--temperature must be >= 0");
  check(c.top_p > 0 && c.top_p <= 1, "--top-p must be in (0, 1]");
  check_rejection_config(c.rejection);
  check(c.train == "sft" || c.train == "kd", "--train " + c.train + " is not sft or kd");
  if (c.train == "kd") check_kd_config(c.kd);
  check(c.train != "kd" || c.device == "cpu",
        "--train kd runs on the CPU only (its trainer has no device option yet); use --train sft "
        "on " +
            c.device);
}

// The protocol of traces (and, with the eval overrides, of evaluations).
Protocol make_protocol(const DistillConfig& c) {
  Protocol p = protocol_preset("r1");
  if (c.protocol == "grpo") {
    p.preset = "grpo";
    p.prompt_template = "{problem}";
  }
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

std::unique_ptr<Backend> make_backend(const ModelRef& m, const DistillConfig& c, const std::string& kwargs) {
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

// Evaluates `backend` on the held-out set into `dir`; returns the benchmark's results entry.
json evaluate(const DistillConfig& c, Backend& backend, const std::string& dir,
              const std::string& what) {
  const RunOptions ro = run_options(c, c.eval_data, eval_protocol(c), dir);
  std::fprintf(stderr, "r1distill: evaluating the %s on %s\n", what.c_str(), c.eval_data.c_str());
  const json results = run_eval(ro, backend);
  return results.at("benchmarks").begin().value();
}

std::string pct(const json& j, const char* key) {
  return j.contains(key) ? fmt("%.1f%%", 100 * j.at(key).get<double>()) : "-";
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
    s += "Student SFT: " + r.at("sft").at("steps").dump() + " steps, final loss " +
         fmt("%.4f", r.at("sft").at("loss").get<double>()) + " (checkpoint " +
         r.at("sft").at("checkpoint").get<std::string>() + ").\n\n";
  if (r.contains("eval")) {
    const auto& e = r.at("eval");
    s += "Held-out: " + e.at("data").get<std::string>() + ", " + e.at("problems").dump() +
         " problems x " + e.at("samples").dump() + " samples.\n\n";
    s += "| model | pass@1 | 95% interval | truncated |\n|---|---|---|---|\n";
    for (const char* who : {"teacher", "student_before", "student_after"}) {
      if (!e.contains(who)) continue;
      const auto& b = e.at(who);
      std::string ci = "-";
      if (b.contains("ci95"))
        ci = fmt("%.1f", 100 * b.at("ci95").at(0).get<double>()) + " - " +
             fmt("%.1f", 100 * b.at("ci95").at(1).get<double>());
      s += std::string("| ") + who + " | " + pct(b, "pass@1") + " | " + ci + " | " +
           pct(b, "truncated_rate") + " |\n";
    }
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

DistillResult run_distill(const DistillConfig& config) {
  DistillConfig c = config;
  check_config(c);
  if (c.command.empty())
    c.command = "r1distill --teacher " + c.teacher + " --student " + c.student + " --prompts " +
                c.prompts + " --out " + c.out;
  const ModelRef teacher = resolve_model(c.teacher, "teacher", c.models_file, c.models_dir);
  const ModelRef student = resolve_model(c.student, "student", c.models_file, c.models_dir);
  check(student.local(), "--student " + c.student +
                             " is an endpoint; the student is trained here, so it must be a local "
                             "checkpoint directory or a preset with \"dir\"");
  check(c.train != "kd" || teacher.local(),
        "--train kd needs a local teacher (its logits); --teacher " + c.teacher +
            " is an endpoint: use --train sft");
  check(fs::exists(c.prompts), "--prompts " + c.prompts + " does not exist");
  check(c.eval_data.empty() || fs::exists(c.eval_data),
        "--eval-data " + c.eval_data + " does not exist");
  const fs::path out(c.out);
  // A run's first folder is traces/ (the teacher's r1eval run): any other non-empty folder is
  // someone else's, and report.md, report.json there would be replaced (D8).
  check_run_dir(c.out, "traces", "r1distill");
  fs::create_directories(out);
  DistillResult result;
  ojson report = {{"format", "r1-distill-report"}, {"version", 1}, {"command", c.command}};
  const auto model_json = [](const ModelRef& m) {
    ojson j = {{"spec", m.spec}};
    if (!m.preset.empty()) j["preset"] = m.preset;
    if (m.local())
      j["dir"] = m.dir;
    else
      j["endpoint"] = m.endpoint, j["served_model"] = m.served_model;
    return j;
  };
  report["teacher"] = model_json(teacher);
  report["student"] = model_json(student);

  // Stage 1: traces, through r1eval's runner and sample store (resumes what is stored).
  auto t0 = Clock::now();
  std::unique_ptr<Backend> teacher_backend = make_backend(teacher, c, c.teacher_template_kwargs);
  RunOptions ro = run_options(c, c.prompts, make_protocol(c), (out / "traces").string());
  ro.limit = c.limit;
  std::fprintf(stderr, "r1distill: stage 1, traces: %lld per prompt from %s\n",
               static_cast<long long>(c.samples), c.teacher.c_str());
  const json traced = run_eval(ro, *teacher_backend).at("benchmarks").begin().value();
  teacher_backend.reset();  // a local teacher's weights are not held while the student trains
  report["traces"] = {{"dir", "traces"},
                      {"prompts", traced.at("problems")},
                      {"samples", traced.at("problems").get<int64_t>() * c.samples},
                      {"pass@1", traced.at("pass@1")},
                      {"seconds", seconds_since(t0)}};
  if (!runs(c, "filter")) return result;

  // Stage 2: rejection sampling (deterministic; rerunning rewrites the same files).
  t0 = Clock::now();
  std::map<std::string, std::string> prompts;
  {
    const BenchmarkSpec spec =
        custom_benchmark(c.prompts, c.question_field, c.answer_field, c.id_field);
    auto problems = load_dataset(c.prompts, spec);
    if (c.limit > 0 && static_cast<int64_t>(problems.size()) > c.limit) problems.resize(c.limit);
    for (const auto& p : problems) {
      const auto messages = protocol_messages(ro.protocol, p);
      prompts[p.id] = messages.back().content;  // the user turn as the teacher saw it
    }
  }
  const RejectionResult kept =
      reject_traces(read_traces((out / "traces" / "samples.jsonl").string()), prompts, c.rejection);
  write_rejection(kept, (out / "filter").string());
  report["filter"] = {{"dir", "filter"},
                      {"kept", kept.card.at("kept")},
                      {"dropped", kept.card.at("dropped")},
                      {"seconds", seconds_since(t0)}};
  std::fprintf(stderr, "r1distill: stage 2, rejection sampling: kept %lld of %lld traces (%s)\n",
               static_cast<long long>(kept.kept.size()),
               static_cast<long long>(kept.verdicts.size()),
               (out / "filter" / "card.md").string().c_str());
  if (kept.kept.empty()) {
    std::string why;
    for (const auto& [reason, n] : kept.card.at("dropped").items())
      if (n.get<int64_t>() > 0) why += (why.empty() ? "" : ", ") + n.dump() + " " + reason;
    throw Error("no trace survived rejection sampling (" + (why.empty() ? "no traces" : why) +
                "); see " + (out / "filter" / "card.md").string());
  }
  if (!runs(c, "sft")) return result;

  // Stage 3: the student's SFT on the kept traces (resumes from its newest checkpoint).
  t0 = Clock::now();
  SftConfig s;
  s.model = student.dir;
  s.data = (out / "filter" / "sft.jsonl").string();
  s.out = (out / "student").string();
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
  std::fprintf(stderr, "r1distill: stage 3, student %s: %.3g epochs over %zu traces\n",
               c.train == "sft" ? "SFT" : "logit-level KD", c.epochs, kept.kept.size());
  std::string checkpoint;
  int64_t steps = 0;
  double loss = 0;
  if (c.train == "sft") {
    const SftResult sft = run_sft(s);
    checkpoint = sft.checkpoint, steps = sft.total_steps, loss = sft.loss;
  } else {
    KdTrainConfig k;
    k.student = s.model;
    k.template_kwargs = s.template_kwargs;
    k.teacher = teacher.dir;
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
    const KdTrainResult kd = run_kd(k);
    checkpoint = kd.checkpoint, steps = kd.total_steps, loss = kd.loss;
  }
  result.student = checkpoint;
  report["sft"] = {{"dir", "student"},
                   {"train", c.train},
                   {"steps", steps},
                   {"loss", loss},
                   {"checkpoint", fs::relative(checkpoint, out).string()},
                   {"seconds", seconds_since(t0)}};
  if (!runs(c, "report")) return result;

  // Held-out evaluations, side by side.
  if (!c.eval_data.empty()) {
    t0 = Clock::now();
    ojson e = {{"data", c.eval_data}, {"samples", c.eval_samples}};
    const Protocol ep = eval_protocol(c);
    e["temperature"] = ep.temperature;
    e["max_new_tokens"] = ep.max_new_tokens;
    if (c.eval_teacher) {
      teacher_backend = make_backend(teacher, c, c.teacher_template_kwargs);
      const json b = evaluate(c, *teacher_backend, (out / "evals" / "teacher").string(), "teacher");
      e["problems"] = b.at("problems");
      e["teacher"] = eval_entry(b);
    }
    teacher_backend.reset();
    {
      ModelRef before = student;
      auto backend = make_backend(before, c, c.student_template_kwargs);
      const json b =
          evaluate(c, *backend, (out / "evals" / "student-before").string(), "student before SFT");
      e["problems"] = b.at("problems");
      e["student_before"] = eval_entry(b);
    }
    {
      ModelRef after = student;
      after.dir = checkpoint;
      auto backend = make_backend(after, c, c.student_template_kwargs);
      const json b =
          evaluate(c, *backend, (out / "evals" / "student-after").string(), "student after SFT");
      e["student_after"] = eval_entry(b);
    }
    e["seconds"] = seconds_since(t0);
    report["eval"] = e;
  }
  result.report = json::parse(report.dump());
  result.report_path = (out / "report.json").string();
  write_file_atomic(result.report_path, report.dump(2) + "\n");
  write_file_atomic((out / "report.md").string(), report_markdown(report));
  return result;
}

json run_distill_toy(const DistillToyConfig& c) {
  const fs::path out(c.out);
  fs::create_directories(out);
  const auto t0 = Clock::now();
  // The teacher: the tiny R1-Zero, whole.
  ZeroRunConfig tz;
  tz.out = (out / "teacher").string();
  tz.threads = c.threads;
  std::fprintf(stderr, "distill toy: teacher (r1train zero) in %s\n", tz.out.c_str());
  const ZeroRunResult teacher = run_zero(tz);
  // The student without the teacher's traces: the same R1-Zero recipe (base, cold-start SFT,
  // GRPO) on the smaller model. Its base is also where distillation starts.
  ZeroRunConfig sz;
  sz.out = (out / "student-zero").string();
  sz.task.model_size = c.student_size;
  sz.base_steps = c.student_base_steps;
  sz.threads = c.threads;
  std::fprintf(stderr, "distill toy: student without traces (r1train zero, %s) in %s\n",
               c.student_size.c_str(), sz.out.c_str());
  const ZeroRunResult student = run_zero(sz);
  const auto ckpt = [](const ZeroRunResult& r, const char* stage) {
    return (fs::path(r.results_path).parent_path() /
            r.results.at("stages").at(stage).at("checkpoint").get<std::string>())
        .string();
  };

  DistillConfig d;
  d.teacher = ckpt(teacher, "grpo");
  d.student = ckpt(student, "base");
  d.prompts = (fs::path(sz.out) / "assets" / "grpo.jsonl").string();
  d.out = (out / "distill").string();
  d.question_field = "prompt";
  d.answer_field = "answer";
  d.protocol = "grpo";
  d.limit = c.prompts;
  d.samples = c.samples;
  d.temperature = c.temperature;
  d.top_p = 1.0;
  d.max_new_tokens = tz.max_new_tokens;
  d.seed = tz.task.seed;
  d.epochs = c.epochs;
  d.lr = c.lr;
  d.batch_size = c.batch_size;
  d.warmup_steps = 5;
  d.eval_data = (fs::path(sz.out) / "assets" / "heldout.jsonl").string();
  d.eval_samples = tz.eval_samples;
  d.eval_temperature = tz.eval_temperature;
  d.eval_top_p = 1.0;
  d.threads = c.threads;
  d.command = "r1distill toy --out " + c.out;
  std::fprintf(stderr, "distill toy: distilling into the student base in %s\n", d.out.c_str());
  const DistillResult dr = run_distill(d);
  std::optional<DistillResult> kd;
  if (c.kd) {
    DistillConfig k = d;
    k.out = (out / "distill-kd").string();
    k.train = "kd";
    k.kd.beta = 0.5;
    k.kd.lmbda = 0.5;
    k.kd.top_k = 16;
    k.eval_teacher = false;
    k.command = d.command;
    std::fprintf(stderr, "distill toy: logit-level KD into the student base in %s\n",
                 k.out.c_str());
    kd = run_distill(k);
  }

  const json& e = dr.report.at("eval");
  const double t = e.at("teacher").at("pass@1").get<double>();
  const double before = e.at("student_before").at("pass@1").get<double>();
  const double after = e.at("student_after").at("pass@1").get<double>();
  const double cold = student.results.at("pass@1_before_grpo").get<double>();
  const double rl = student.results.at("pass@1_after_grpo").get<double>();
  // 95% bootstrap intervals (over problems) of the held-out evaluations, from their results.json.
  const auto interval = [](const fs::path& results) {
    const json r = json::parse(read_file(results.string()));
    return r.at("benchmarks").begin().value().at("ci95");
  };
  const fs::path zero_evals = fs::path(sz.out) / "grpo" / "evals";
  const auto eval_dir = [&](const json& evals, size_t k) {
    return zero_evals /
           fs::path(checkpoint_dir("", evals.at(k).at("step").get<int64_t>())).filename() /
           "results.json";
  };
  const json& zevals = student.results.at("evals");
  const json ci = {{"teacher", e.at("teacher").at("ci95")},
                   {"student_base", e.at("student_before").at("ci95")},
                   {"student_cold_start_sft", interval(eval_dir(zevals, 0))},
                   {"student_zero_rl", interval(eval_dir(zevals, zevals.size() - 1))},
                   {"student_distilled", e.at("student_after").at("ci95")}};
  ojson r = {
      {"format", "r1-distill-toy"},
      {"version", 1},
      {"command", d.command},
      {"teacher",
       {{"size", teacher.results.at("model").at("size")},
        {"parameters", teacher.results.at("model").at("parameters")}}},
      {"student",
       {{"size", c.student_size}, {"parameters", student.results.at("model").at("parameters")}}},
      {"heldout",
       {{"problems", e.at("problems")},
        {"samples", e.at("samples")},
        {"temperature", e.at("temperature")}}},
      {"pass@1",
       {{"teacher", t},
        {"student_base", before},
        {"student_cold_start_sft", cold},
        {"student_zero_rl", rl},
        {"student_distilled", after}}},
      {"ci95", ci},
      {"distilled_over_teacher", after / t},
      {"traces", dr.report.at("traces")},
      {"kept", dr.report.at("filter").at("kept")},
      {"sft", dr.report.at("sft")},
      {"seconds_this_invocation", seconds_since(t0)}};
  if (kd) {
    const json& ke = kd->report.at("eval").at("student_after");
    r["pass@1"]["student_kd"] = ke.at("pass@1");
    r["ci95"]["student_kd"] = ke.at("ci95");
    r["kd"] = {{"beta", 0.5}, {"lmbda", 0.5}, {"top_k", 16}, {"sft", kd->report.at("sft")}};
  }
  // Paired per-problem comparisons (r1eval compare) of the distilled student with the student
  // trained without traces: the distilled run is B, the baseline A.
  const std::string after_dir = (fs::path(d.out) / "evals" / "student-after").string();
  const auto paired = [&](const fs::path& baseline) {
    return compare_run_dirs(baseline.string(), after_dir, nullptr).at("benchmarks").begin().value();
  };
  const json vs_cold = paired(eval_dir(zevals, 0).parent_path());
  const json vs_rl = paired(eval_dir(zevals, zevals.size() - 1).parent_path());
  r["paired"] = {{"distilled_minus_cold_start_sft", vs_cold}, {"distilled_minus_zero_rl", vs_rl}};
  r["claims"] = {{"at_least_90pct_of_teacher", after >= 0.9 * t},
                 {"beats_student_without_traces", after > std::max(cold, rl)},
                 {"beats_cold_start_sft_at_95pct", vs_cold.at("ci95").at(0).get<double>() > 0},
                 {"beats_zero_rl_at_95pct", vs_rl.at("ci95").at(0).get<double>() > 0}};
  std::string md = "# Distillation toy: tiny R1-Zero teacher into a smaller student\n\n";
  md += "Produced by `" + d.command +
        "`. Teacher: " + teacher.results.at("model").at("size").get<std::string>() + " (" +
        teacher.results.at("model").at("parameters").dump() +
        " parameters, R1-Zero recipe). "
        "Student: " +
        c.student_size + " (" + student.results.at("model").at("parameters").dump() +
        " parameters).\n\n";
  md += "Held-out pass@1 (" + e.at("problems").dump() + " problems x " + e.at("samples").dump() +
        " samples, temperature " + fmt("%.1f", e.at("temperature").get<double>()) + "):\n\n";
  md += "| model | pass@1 | 95% interval |\n|---|---|---|\n";
  const auto row = [&](const std::string& label, const char* key, double v) {
    const auto& iv = r.at("ci95").at(key);
    md += "| " + label + " | " + fmt("%.3f", v) + " | " + fmt("%.3f", iv.at(0).get<double>()) +
          " - " + fmt("%.3f", iv.at(1).get<double>()) + " |\n";
  };
  row("teacher (R1-Zero)", "teacher", t);
  row("student base", "student_base", before);
  row("student, cold-start SFT (no teacher traces)", "student_cold_start_sft", cold);
  row("student, cold-start SFT + GRPO (R1-Zero recipe, no teacher traces)", "student_zero_rl", rl);
  row("student distilled (SFT on the teacher's kept traces)", "student_distilled", after);
  if (kd)
    row("student distilled by logit-level KD (GKD: JSD beta 0.5, lmbda 0.5, teacher top-16)",
        "student_kd", r.at("pass@1").at("student_kd").get<double>());
  md += "\nIntervals: bootstrap over problems (r1eval's ci95).\n\n";
  const auto diff_line = [&](const char* what, const json& p) {
    md += std::string("- distilled - ") + what + ": " +
          fmt("%+.1f", 100 * p.at("diff").get<double>()) + " points, 95% paired interval [" +
          fmt("%+.1f", 100 * p.at("ci95").at(0).get<double>()) + ", " +
          fmt("%+.1f", 100 * p.at("ci95").at(1).get<double>()) +
          "], p = " + fmt("%.3g", p.at("p_value").get<double>()) + " (better on " +
          p.at("better").dump() + " problems, worse on " + p.at("worse").dump() + ")\n";
  };
  md += "Paired per-problem differences (r1eval compare):\n\n";
  diff_line("student after cold-start SFT", vs_cold);
  diff_line("student after its own R1-Zero GRPO", vs_rl);
  md += "\n";
  md +=
      "Distilled student / teacher: " + fmt("%.1f%%", 100 * after / t) +
      " (target >= 90%); "
      "beats the student without traces (both baselines, point estimates): " +
      std::string(after > std::max(cold, rl) ? "yes" : "no") + "; shown at the 95% level: " +
      (vs_cold.at("ci95").at(0).get<double>() > 0 ? "over cold-start SFT yes"
                                                  : "over cold-start SFT no") +
      (vs_rl.at("ci95").at(0).get<double>() > 0 ? ", over the student's own GRPO yes"
                                                : ", over the student's own GRPO no") +
      ".\n\nTraces: " + dr.report.at("traces").at("samples").dump() + ", kept " +
      dr.report.at("filter").at("kept").dump() +
      " (distill/filter/card.md). Wall time of this invocation: " + fmt("%.0f", seconds_since(t0)) +
      " s (a rerun resumes the stages already done).\n";
  write_file_atomic((out / "results.json").string(), r.dump(2) + "\n");
  write_file_atomic((out / "results.md").string(), md);
  return json::parse(r.dump());
}

}  // namespace r1
