// The tiny R1-Zero run (see zero.h): assets, base, cold-start SFT and GRPO as ordinary r1train
// runs, then the results file, its Markdown summary and the plot.
#include "rl/zero.h"

#include <algorithm>   // std::max
#include <chrono>      // std::chrono
#include <cmath>       // std::isfinite
#include <cstdio>      // std::fprintf, std::snprintf
#include <filesystem>  // std::filesystem
#include <fstream>     // std::ifstream
#include <string>      // std::string
#include <thread>      // std::thread::hardware_concurrency
#include <vector>      // std::vector

#include "rl/grpo.h"           // r1::GrpoConfig, r1::run_grpo
#include "rl/sft.h"            // r1::SftConfig, r1::run_sft
#include "rl/train_common.h"   // r1::config_flag_name
#include "rl/zero_model.h"     // r1::zero_model_config, r1::zero_init_model
#include "toolkit/error.h"     // r1::Error, r1::check
#include "toolkit/fs.h"        // r1::read_file, r1::write_file_atomic
#include "toolkit/progress.h"  // r1::seconds_since

namespace r1 {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ojson = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

const std::vector<std::string> kStages = {"assets", "base", "sft", "grpo"};

void check_run_config(const ZeroRunConfig& c) {
  check(std::find(kStages.begin(), kStages.end(), c.until) != kStages.end(),
        "zero: --until " + c.until + " is not a stage (assets, base, sft, grpo)");
  check_zero_task_config(c.task);
  for (auto [name, v] : {std::pair{"base_steps", c.base_steps},
                         {"base_batch", c.base_batch},
                         {"sft_steps", c.sft_steps},
                         {"sft_batch", c.sft_batch},
                         {"grpo_steps", c.grpo_steps},
                         {"num_generations", c.num_generations},
                         {"prompts_per_step", c.prompts_per_step},
                         {"max_new_tokens", c.max_new_tokens},
                         {"eval_every", c.eval_every},
                         {"eval_samples", c.eval_samples}})
    check(v > 0, "zero: " + config_flag_name(name) + " = " + std::to_string(v) + " (must be > 0)");
  for (auto [name, v] : {std::pair{"base_lr", c.base_lr},
                         {"sft_lr", c.sft_lr},
                         {"grpo_lr", c.grpo_lr},
                         {"temperature", c.temperature},
                         {"eval_temperature", c.eval_temperature}})
    check(v > 0 && std::isfinite(v),
          "zero: " + config_flag_name(name) + " = " + std::to_string(v) + " (must be > 0)");
}

bool runs(const ZeroRunConfig& c, const std::string& stage) {
  return stage_runs(kStages, stage, c.until);
}

// A stage's SFT run (base pretraining and the cold start differ only in data and schedule).
SftConfig sft_stage(const ZeroRunConfig& c, const std::string& model, const std::string& data,
                    const std::string& out, int64_t steps, int64_t batch, double lr) {
  SftConfig s;
  s.model = model;
  s.data = data;
  s.out = out;
  s.steps = steps;
  s.batch_size = batch;
  s.lr = lr;
  s.warmup_steps = std::max<int64_t>(1, steps / 20);
  s.min_lr_ratio = 0.1;
  s.seed = c.task.seed;
  s.keep_last = 1;
  s.threads = c.threads;
  return s;
}

// Every line of a metrics.jsonl (a line that does not parse ends the read: a run killed mid-write
// leaves at most its last line torn).
std::vector<json> read_metrics(const std::string& path) {
  std::vector<json> lines;
  std::ifstream in(path);
  std::string text;
  while (std::getline(in, text)) {
    if (text.empty()) continue;
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded()) break;
    lines.push_back(std::move(j));
  }
  return lines;
}

std::string fmt(const char* f, double v) { return format_number(f, v); }

std::string markdown(const ojson& r) {
  std::string s = "# Tiny R1-Zero\n\n";
  s += "Produced by `" + r.at("command").get<std::string>() + "` on " +
       std::to_string(r.at("machine").at("cpu_threads").get<int64_t>()) +
       " CPU threads. Model: " + r.at("model").at("size").get<std::string>() + " Qwen2, " +
       std::to_string(r.at("model").at("parameters").get<int64_t>()) + " parameters.\n\n";
  s += "| stage | steps | seconds | result |\n|---|---|---|---|\n";
  for (const auto& [name, st] : r.at("stages").items()) {
    s += "| " + name + " | " + (st.contains("steps") ? st.at("steps").dump() : "") + " | " +
         fmt("%.1f", st.at("seconds").get<double>()) + " | ";
    if (st.contains("loss")) s += "loss " + fmt("%.4f", st.at("loss").get<double>());
    if (st.contains("pass@1_end"))
      s += "held-out pass@1 " + fmt("%.3f", st.at("pass@1_start").get<double>()) + " -> " +
           fmt("%.3f", st.at("pass@1_end").get<double>());
    s += " |\n";
  }
  if (r.contains("gain_points"))
    s += "\nHeld-out pass@1 (" + r.at("eval").at("samples").dump() + " samples per problem, " +
         r.at("eval").at("problems").dump() + " problems) rose by **" +
         fmt("%.1f", r.at("gain_points").get<double>()) + " points** during GRPO.\n";
  s += "\nTotal: " + fmt("%.1f", r.at("seconds_total").get<double>()) + " s.\n";
  if (r.contains("evals")) {
    s += "\n| GRPO step | held-out pass@1 |\n|---|---|\n";
    for (const auto& e : r.at("evals"))
      s += "| " + e.at("step").dump() + " | " + fmt("%.3f", e.at("pass@1").get<double>()) + " |\n";
  }
  s += "\nPlot: plot.svg (reward and held-out pass@1 by GRPO step).\n";
  return s;
}

}  // namespace

std::string zero_plot_svg(const json& results) {
  const double W = 640, H = 360, L = 56, R = 150, T = 30, B = 44;
  const double pw = W - L - R, ph = H - T - B;
  std::vector<std::pair<double, double>> reward, accuracy, pass1;
  double max_step = 1, max_y = 1;
  for (const auto& p : results.value("by_step", json::array())) {
    const double step = p.at("step").get<double>();
    max_step = std::max(max_step, step);
    if (p.contains("reward")) {
      reward.push_back({step, p.at("reward").get<double>()});
      max_y = std::max(max_y, reward.back().second);
    }
    if (p.contains("accuracy")) accuracy.push_back({step, p.at("accuracy").get<double>()});
  }
  for (const auto& e : results.value("evals", json::array())) {
    pass1.push_back({e.at("step").get<double>(), e.at("pass@1").get<double>()});
    max_step = std::max(max_step, pass1.back().first);
  }
  max_y = std::ceil(max_y * 2) / 2;  // a round top: 1, 1.5, ...
  const auto x = [&](double step) { return L + pw * step / max_step; };
  const auto y = [&](double v) { return T + ph * (1 - v / max_y); };
  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fmt("%.0f", W) +
                  "\" height=\"" + fmt("%.0f", H) +
                  "\" font-family=\"sans-serif\" font-size=\"12\">\n"
                  "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s += "<text x=\"" + fmt("%.0f", L) + "\" y=\"18\" font-size=\"14\">Tiny R1-Zero: GRPO</text>\n";
  for (int k = 0; k <= 4; ++k) {  // horizontal grid and y labels
    const double v = max_y * k / 4;
    s += "<line x1=\"" + fmt("%.1f", L) + "\" x2=\"" + fmt("%.1f", L + pw) + "\" y1=\"" +
         fmt("%.1f", y(v)) + "\" y2=\"" + fmt("%.1f", y(v)) + "\" stroke=\"#ddd\"/>\n";
    s += "<text x=\"" + fmt("%.1f", L - 6) + "\" y=\"" + fmt("%.1f", y(v) + 4) +
         "\" text-anchor=\"end\">" + fmt("%.2f", v) + "</text>\n";
  }
  for (int k = 0; k <= 4; ++k) {  // x labels
    const double step = max_step * k / 4;
    s += "<text x=\"" + fmt("%.1f", x(step)) + "\" y=\"" + fmt("%.1f", T + ph + 16) +
         "\" text-anchor=\"middle\">" + fmt("%.0f", step) + "</text>\n";
  }
  s += "<text x=\"" + fmt("%.1f", L + pw / 2) + "\" y=\"" + fmt("%.1f", H - 8) +
       "\" text-anchor=\"middle\">GRPO step</text>\n";
  s += "<rect x=\"" + fmt("%.1f", L) + "\" y=\"" + fmt("%.1f", T) + "\" width=\"" +
       fmt("%.1f", pw) + "\" height=\"" + fmt("%.1f", ph) + "\" fill=\"none\" stroke=\"#444\"/>\n";
  const auto series = [&](const std::vector<std::pair<double, double>>& pts, const char* color,
                          const char* label, int row, bool dots) {
    if (pts.empty()) return;
    std::string d;
    for (const auto& [sx, sy] : pts)
      d += (d.empty() ? "M" : " L") + fmt("%.1f", x(sx)) + "," + fmt("%.1f", y(sy));
    s += "<path d=\"" + d + "\" fill=\"none\" stroke=\"" + color + "\" stroke-width=\"2\"/>\n";
    if (dots)
      for (const auto& [sx, sy] : pts)
        s += "<circle cx=\"" + fmt("%.1f", x(sx)) + "\" cy=\"" + fmt("%.1f", y(sy)) +
             "\" r=\"3\" fill=\"" + color + "\"/>\n";
    const double ly = T + 12 + 18 * row;
    s += "<line x1=\"" + fmt("%.1f", L + pw + 10) + "\" x2=\"" + fmt("%.1f", L + pw + 30) +
         "\" y1=\"" + fmt("%.1f", ly - 4) + "\" y2=\"" + fmt("%.1f", ly - 4) + "\" stroke=\"" +
         color + "\" stroke-width=\"2\"/>\n";
    s += "<text x=\"" + fmt("%.1f", L + pw + 34) + "\" y=\"" + fmt("%.1f", ly) + "\">" + label +
         "</text>\n";
  };
  series(reward, "#1f77b4", "reward (mean)", 0, false);
  series(accuracy, "#9ecae1", "train accuracy", 1, false);
  series(pass1, "#d62728", "held-out pass@1", 2, true);
  return s + "</svg>\n";
}

namespace {

// The stages' entries of results.json. A rerun resumes each stage from its checkpoint; a stage that
// was already complete keeps the entry (its seconds) of the run that trained it.
class StageRecords {
 public:
  explicit StageRecords(const fs::path& out) {
    if (fs::exists(out / "results.json")) {
      previous_ = ojson::parse(read_file((out / "results.json").string()), nullptr, false);
      if (previous_.is_discarded() || !previous_.is_object()) previous_ = ojson::object();
    }
  }
  bool fresh_run() const { return previous_.empty(); }
  void record(const std::string& stage, int64_t resumed_from, int64_t total, ojson fresh) {
    const ojson& old = previous_.value("stages", ojson::object());
    stages_[stage] = resumed_from > 0 && resumed_from == total && old.contains(stage)
                         ? old.at(stage)
                         : std::move(fresh);
  }
  const ojson& stages() const { return stages_; }

 private:
  ojson previous_ = ojson::object();
  ojson stages_ = ojson::object();
};

// One SFT stage (the base's pretraining, or the cold start) from `model`; its checkpoint.
std::string zero_sft_stage(const ZeroRunConfig& c, const std::string& name, const char* what,
                           const std::string& model, const std::string& data, int64_t steps,
                           int64_t batch, double lr, StageRecords& records) {
  const fs::path out(c.out);
  const auto t0 = Clock::now();
  const SftResult r = run_sft(sft_stage(c, model, data, (out / name).string(), steps, batch, lr));
  records.record(name, r.resumed_from, r.total_steps,
                 {{"steps", r.total_steps},
                  {"loss", r.loss},
                  {"seconds", seconds_since(t0)},
                  {"checkpoint", fs::relative(r.checkpoint, out).string()}});
  std::fprintf(stderr, "zero: %s %lld steps, loss %.4f\n", what,
               static_cast<long long>(r.total_steps), r.loss);
  return r.checkpoint;
}

GrpoConfig zero_grpo_config(const ZeroRunConfig& c, const std::string& model, const ZeroAssets& a) {
  GrpoConfig g;
  g.model = model;
  g.prompts = a.grpo;
  g.out = (fs::path(c.out) / "grpo").string();
  g.num_generations = c.num_generations;
  g.prompts_per_step = c.prompts_per_step;
  g.max_new_tokens = c.max_new_tokens;
  g.temperature = c.temperature;
  g.rewards = c.rewards;
  g.steps = c.grpo_steps;
  g.lr = c.grpo_lr;
  g.min_lr_ratio = 1.0;  // constant after warmup
  g.micro_batch = c.num_generations * c.prompts_per_step;
  g.max_batch = c.num_generations * c.prompts_per_step;
  g.seed = c.task.seed;
  g.eval_prompts = a.heldout;
  g.eval_every = c.eval_every;
  g.eval_samples = c.eval_samples;
  g.eval_temperature = c.eval_temperature;
  g.eval_top_p = 1.0;
  g.keep_last = 1;
  g.threads = c.threads;
  return g;
}

// results.json's head: the command, the run config, the machine and the model.
ojson zero_results_head(const ZeroRunConfig& c) {
  ojson results = {
      {"format", "r1-zero-results"},
      {"version", 1},
      {"command", "r1train zero --out " + c.out},
      {"config", ojson::object()},
      {"machine",
       {{"cpu_threads",
         c.threads > 0 ? c.threads : static_cast<int64_t>(std::thread::hardware_concurrency())}}}};
  const ModelConfig mc = zero_model_config(c.task.model_size);
  results["model"] = {{"size", c.task.model_size},
                      {"parameters", zero_parameter_count(*zero_init_model(mc, c.task.seed))},
                      {"hidden_size", mc.hidden_size},
                      {"layers", mc.num_hidden_layers},
                      {"vocab_size", mc.vocab_size}};
  visit_zero_run_config(c, [&](const char* name, const auto& v, const char*, FieldRole role) {
    if (role == FieldRole::kRun) results["config"][name] = v;
  });
  return results;
}

// The GRPO stage, and what its metrics say in results.json: the held-out pass@1 before and after,
// every evaluation and the training curve.
void zero_grpo_stage(const ZeroRunConfig& c, const std::string& model, const ZeroAssets& a,
                     StageRecords& records, ojson& results) {
  const fs::path out(c.out);
  const auto t0 = Clock::now();
  const GrpoResult r = run_grpo(zero_grpo_config(c, model, a));
  ojson by_step = ojson::array(), evals = ojson::array();
  for (const json& line : read_metrics((out / "grpo" / "metrics.jsonl").string())) {
    const int64_t step = line.at("step").get<int64_t>();
    if (line.contains("eval/pass@1"))
      evals.push_back({{"step", step}, {"pass@1", line.at("eval/pass@1")}});
    if (!line.contains("reward")) continue;
    ojson p = {{"step", step}, {"reward", line.at("reward")}};
    for (const char* k : {"accuracy", "completions/mean_length", "entropy", "time/step"})
      if (line.contains(k)) p[k] = line.at(k);
    by_step.push_back(std::move(p));
  }
  check(evals.size() >= 2, "zero: " + (out / "grpo" / "metrics.jsonl").string() +
                               " holds fewer than two held-out evaluations");
  const double start = evals.front().at("pass@1").get<double>();
  const double end = evals.back().at("pass@1").get<double>();
  records.record("grpo", r.resumed_from, r.total_steps,
                 {{"steps", r.total_steps},
                  {"seconds", seconds_since(t0)},
                  {"pass@1_start", start},
                  {"pass@1_end", end},
                  {"checkpoint", fs::relative(r.checkpoint, out).string()}});
  results["eval"] = {{"problems", c.task.heldout_problems},
                     {"samples", c.eval_samples},
                     {"temperature", c.eval_temperature},
                     {"max_new_tokens", c.max_new_tokens}};
  results["pass@1_before_grpo"] = start;
  results["pass@1_after_grpo"] = end;
  results["gain_points"] = 100.0 * (end - start);
  results["evals"] = evals;
  results["by_step"] = by_step;
}

}  // namespace

ZeroRunResult run_zero(const ZeroRunConfig& c) {
  check_run_config(c);
  const fs::path out(c.out);
  fs::create_directories(out);
  StageRecords records(out);
  const auto t0 = Clock::now();
  const ZeroAssets a = write_zero_assets((out / "assets").string(), c.task);
  records.record("assets", records.fresh_run() ? 0 : 1, 1,
                 {{"seconds", seconds_since(t0)}});  // same bytes
  std::fprintf(stderr, "zero: assets in %s\n", (out / "assets").string().c_str());

  std::string model = a.model;
  if (runs(c, "base"))
    model = zero_sft_stage(c, "base", "base", model, a.base, c.base_steps, c.base_batch, c.base_lr,
                           records);
  if (runs(c, "sft"))
    model = zero_sft_stage(c, "sft", "cold-start SFT", model, a.sft, c.sft_steps, c.sft_batch,
                           c.sft_lr, records);
  ojson results = zero_results_head(c);
  if (runs(c, "grpo")) zero_grpo_stage(c, model, a, records, results);
  results["stages"] = records.stages();
  double total = 0;
  for (const auto& [name, st] : records.stages().items()) total += st.at("seconds").get<double>();
  results["seconds_total"] = total;  // the stages' own, across reruns

  ZeroRunResult rr;
  rr.results = json::parse(results.dump());
  rr.results_path = (out / "results.json").string();
  rr.markdown_path = (out / "results.md").string();
  rr.plot_path = (out / "plot.svg").string();
  write_file_atomic(rr.results_path, results.dump(2) + "\n");
  write_file_atomic(rr.markdown_path, markdown(results));
  write_file_atomic(rr.plot_path, zero_plot_svg(rr.results));
  return rr;
}

}  // namespace r1
