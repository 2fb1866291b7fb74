// The distillation toy proof (see distill.h, run_distill_toy): the tiny R1-Zero teacher into a
// smaller student, beside the student trained without the teacher's traces.
#include <algorithm>   // std::max
#include <chrono>      // std::chrono
#include <cstdio>      // std::fprintf
#include <filesystem>  // std::filesystem
#include <optional>    // std::optional

#include "distill/distill.h"
#include "evals/runner.h"      // r1::compare_run_dirs
#include "rl/checkpoint.h"     // r1::checkpoint_dir
#include "rl/train_common.h"   // r1::format_number
#include "rl/zero.h"           // r1::ZeroRunConfig, r1::run_zero
#include "toolkit/fs.h"        // r1::read_file, r1::write_file_atomic
#include "toolkit/progress.h"  // r1::seconds_since

namespace r1 {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ojson = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

std::string fmt(const char* f, double v) { return format_number(f, v); }

// Checkpoint `stage` of an r1train zero run.
std::string zero_checkpoint(const ZeroRunResult& r, const char* stage) {
  return (fs::path(r.results_path).parent_path() /
          r.results.at("stages").at(stage).at("checkpoint").get<std::string>())
      .string();
}

// r1distill from the teacher's GRPO checkpoint into the student's base, on the student-zero run's
// prompts and held-out problems, sampled as the R1-Zero run samples.
DistillConfig toy_distill_config(const DistillToyConfig& c, const ZeroRunConfig& tz,
                                 const ZeroRunConfig& sz, const ZeroRunResult& teacher,
                                 const ZeroRunResult& student) {
  DistillConfig d;
  d.teacher = zero_checkpoint(teacher, "grpo");
  d.student = zero_checkpoint(student, "base");
  d.prompts = (fs::path(sz.out) / "assets" / "grpo.jsonl").string();
  d.out = (fs::path(c.out) / "distill").string();
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
  return d;
}

// The same distillation by logit-level KD (GKD: JSD beta 0.5, lmbda 0.5, teacher top-16).
DistillResult run_toy_kd(const DistillConfig& d, const fs::path& out) {
  DistillConfig k = d;
  k.out = (out / "distill-kd").string();
  k.train = "kd";
  k.kd.beta = 0.5;
  k.kd.lmbda = 0.5;
  k.kd.top_k = 16;
  k.eval_teacher = false;
  k.command = d.command;
  std::fprintf(stderr, "distill toy: logit-level KD into the student base in %s\n", k.out.c_str());
  return run_distill(k);
}

// The held-out evaluations of the student-zero run (its cold-start SFT, its last GRPO step).
struct ZeroEvals {
  fs::path root;  // STUDENT_ZERO/grpo/evals
  json evals;     // the run's "evals" list
  fs::path results(size_t k) const {
    return root / fs::path(checkpoint_dir("", evals.at(k).at("step").get<int64_t>())).filename() /
           "results.json";
  }
  fs::path first() const { return results(0); }
  fs::path last() const { return results(evals.size() - 1); }
};

// 95% bootstrap interval (over problems) of a held-out evaluation, from its results.json.
json interval_of(const fs::path& results) {
  const json r = json::parse(read_file(results.string()));
  return r.at("benchmarks").begin().value().at("ci95");
}

ojson toy_results(const DistillToyConfig& c, const std::string& command,
                  const ZeroRunResult& teacher, const ZeroRunResult& student,
                  const DistillResult& dr, const ZeroEvals& zevals) {
  const json& e = dr.report.at("eval");
  const json& eb = e.at("benchmarks").begin().value();
  const double t = eb.at("teacher").at("pass@1").get<double>();
  const double after = eb.at("student_after").at("pass@1").get<double>();
  const json ci = {{"teacher", eb.at("teacher").at("ci95")},
                   {"student_base", eb.at("student_before").at("ci95")},
                   {"student_cold_start_sft", interval_of(zevals.first())},
                   {"student_zero_rl", interval_of(zevals.last())},
                   {"student_distilled", eb.at("student_after").at("ci95")}};
  return {
      {"format", "r1-distill-toy"},
      {"version", 1},
      {"command", command},
      {"teacher",
       {{"size", teacher.results.at("model").at("size")},
        {"parameters", teacher.results.at("model").at("parameters")}}},
      {"student",
       {{"size", c.student_size}, {"parameters", student.results.at("model").at("parameters")}}},
      {"heldout",
       {{"problems", eb.at("problems")},
        {"samples", e.at("samples")},
        {"temperature", e.at("temperature")}}},
      {"pass@1",
       {{"teacher", t},
        {"student_base", eb.at("student_before").at("pass@1").get<double>()},
        {"student_cold_start_sft", student.results.at("pass@1_before_grpo").get<double>()},
        {"student_zero_rl", student.results.at("pass@1_after_grpo").get<double>()},
        {"student_distilled", after}}},
      {"ci95", ci},
      {"distilled_over_teacher", after / t},
      {"traces", dr.report.at("traces")},
      {"kept", dr.report.at("filter").at("kept")},
      {"sft", dr.report.at("sft")}};
}

// Paired per-problem comparisons (r1eval compare) of the distilled student with the student
// trained without traces (the distilled run is B, the baseline A), and the claims they support.
void add_paired(ojson& r, const std::string& distill_out, const ZeroEvals& zevals) {
  const std::string after_dir = (fs::path(distill_out) / "evals" / "student-after").string();
  const auto paired = [&](const fs::path& baseline) {
    return compare_run_dirs(baseline.string(), after_dir, nullptr).at("benchmarks").begin().value();
  };
  const json vs_cold = paired(zevals.first().parent_path());
  const json vs_rl = paired(zevals.last().parent_path());
  const auto& p = r.at("pass@1");
  const double t = p.at("teacher"), after = p.at("student_distilled");
  const double cold = p.at("student_cold_start_sft"), rl = p.at("student_zero_rl");
  r["paired"] = {{"distilled_minus_cold_start_sft", vs_cold}, {"distilled_minus_zero_rl", vs_rl}};
  r["claims"] = {{"at_least_90pct_of_teacher", after >= 0.9 * t},
                 {"beats_student_without_traces", after > std::max(cold, rl)},
                 {"beats_cold_start_sft_at_95pct", vs_cold.at("ci95").at(0).get<double>() > 0},
                 {"beats_zero_rl_at_95pct", vs_rl.at("ci95").at(0).get<double>() > 0}};
}

// results.md: the table of pass@1 with intervals, the paired differences and the verdict.
std::string toy_markdown(const ojson& r, double seconds) {
  const auto& p = r.at("pass@1");
  const double t = p.at("teacher"), after = p.at("student_distilled");
  const double cold = p.at("student_cold_start_sft"), rl = p.at("student_zero_rl");
  const auto& h = r.at("heldout");
  std::string md = "# Distillation toy: tiny R1-Zero teacher into a smaller student\n\n";
  md += "Produced by `" + r.at("command").get<std::string>() +
        "`. Teacher: " + r.at("teacher").at("size").get<std::string>() + " (" +
        r.at("teacher").at("parameters").dump() +
        " parameters, R1-Zero recipe). Student: " + r.at("student").at("size").get<std::string>() +
        " (" + r.at("student").at("parameters").dump() + " parameters).\n\n";
  md += "Held-out pass@1 (" + h.at("problems").dump() + " problems x " + h.at("samples").dump() +
        " samples, temperature " + fmt("%.1f", h.at("temperature").get<double>()) + "):\n\n";
  md += "| model | pass@1 | 95% interval |\n|---|---|---|\n";
  const auto row = [&](const std::string& label, const char* key) {
    const auto& iv = r.at("ci95").at(key);
    md += "| " + label + " | " + fmt("%.3f", p.at(key).get<double>()) + " | " +
          fmt("%.3f", iv.at(0).get<double>()) + " - " + fmt("%.3f", iv.at(1).get<double>()) +
          " |\n";
  };
  row("teacher (R1-Zero)", "teacher");
  row("student base", "student_base");
  row("student, cold-start SFT (no teacher traces)", "student_cold_start_sft");
  row("student, cold-start SFT + GRPO (R1-Zero recipe, no teacher traces)", "student_zero_rl");
  row("student distilled (SFT on the teacher's kept traces)", "student_distilled");
  if (p.contains("student_kd"))
    row("student distilled by logit-level KD (GKD: JSD beta 0.5, lmbda 0.5, teacher top-16)",
        "student_kd");
  md += "\nIntervals: bootstrap over problems (r1eval's ci95).\n\n";
  const auto diff_line = [&](const char* what, const ojson& d) {
    md += std::string("- distilled - ") + what + ": " +
          fmt("%+.1f", 100 * d.at("diff").get<double>()) + " points, 95% paired interval [" +
          fmt("%+.1f", 100 * d.at("ci95").at(0).get<double>()) + ", " +
          fmt("%+.1f", 100 * d.at("ci95").at(1).get<double>()) +
          "], p = " + fmt("%.3g", d.at("p_value").get<double>()) + " (better on " +
          d.at("better").dump() + " problems, worse on " + d.at("worse").dump() + ")\n";
  };
  const auto& vs_cold = r.at("paired").at("distilled_minus_cold_start_sft");
  const auto& vs_rl = r.at("paired").at("distilled_minus_zero_rl");
  md += "Paired per-problem differences (r1eval compare):\n\n";
  diff_line("student after cold-start SFT", vs_cold);
  diff_line("student after its own R1-Zero GRPO", vs_rl);
  md += "\n";
  md += "Distilled student / teacher: " + fmt("%.1f%%", 100 * after / t) +
        " (target >= 90%); beats the student without traces (both baselines, point estimates): " +
        std::string(after > std::max(cold, rl) ? "yes" : "no") + "; shown at the 95% level: " +
        (vs_cold.at("ci95").at(0).get<double>() > 0 ? "over cold-start SFT yes"
                                                    : "over cold-start SFT no") +
        (vs_rl.at("ci95").at(0).get<double>() > 0 ? ", over the student's own GRPO yes"
                                                  : ", over the student's own GRPO no") +
        ".\n\nTraces: " + r.at("traces").at("samples").dump() + ", kept " + r.at("kept").dump() +
        " (distill/filter/card.md). Wall time of this invocation: " + fmt("%.0f", seconds) +
        " s (a rerun resumes the stages already done).\n";
  return md;
}

}  // namespace

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

  const DistillConfig d = toy_distill_config(c, tz, sz, teacher, student);
  std::fprintf(stderr, "distill toy: distilling into the student base in %s\n", d.out.c_str());
  const DistillResult dr = run_distill(d);
  std::optional<DistillResult> kd;
  if (c.kd) kd = run_toy_kd(d, out);

  const ZeroEvals zevals{fs::path(sz.out) / "grpo" / "evals", student.results.at("evals")};
  ojson r = toy_results(c, d.command, teacher, student, dr, zevals);
  r["seconds_this_invocation"] = seconds_since(t0);
  if (kd) {
    const json& ke = kd->report.at("eval").at("benchmarks").begin().value().at("student_after");
    r["pass@1"]["student_kd"] = ke.at("pass@1");
    r["ci95"]["student_kd"] = ke.at("ci95");
    r["kd"] = {{"beta", 0.5}, {"lmbda", 0.5}, {"top_k", 16}, {"sft", kd->report.at("sft")}};
  }
  add_paired(r, d.out, zevals);
  const std::string md = toy_markdown(r, seconds_since(t0));
  write_file_atomic((out / "results.json").string(), r.dump(2) + "\n");
  write_file_atomic((out / "results.md").string(), md);
  return json::parse(r.dump());
}

}  // namespace r1
