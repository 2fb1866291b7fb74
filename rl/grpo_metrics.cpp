// The metrics of a GRPO step (see grpo_metrics.h).
#include "rl/grpo_metrics.h"

#include <algorithm>   // std::max_element, std::min_element
#include <cmath>       // std::isfinite, std::sqrt
#include <cstdio>      // std::snprintf
#include <filesystem>  // std::filesystem

#include "evals/statistics.h"  // r1::sample_mean, r1::population_stddev
#include "rl/grpo.h"           // r1::GrpoConfig
#include "rl/grpo_data.h"      // r1::GrpoPrompt
#include "toolkit/fs.h"        // r1::write_file_atomic

namespace r1 {
namespace {

using json = nlohmann::json;

// reward, reward_std, reward/NAME[/std], reward/overlong, accuracy: over every generated
// completion, the overlong penalty included in the totals.
void reward_fields(const StepRollouts& s, json& line) {
  const RewardScores& scores = s.scores;
  line.update(scores.log_fields());
  std::vector<double> totals;
  for (size_t k = 0; k < scores.total.size(); ++k)
    totals.push_back(scores.total[k] + (s.overlong.empty() ? 0.0 : s.overlong[k]));
  line["reward"] = sample_mean(totals);
  line["reward_std"] = population_stddev(totals);
  for (size_t r = 0; r < scores.names.size(); ++r)
    line["reward/" + scores.names[r] + "/std"] = population_stddev(scores.values[r]);
  if (!s.overlong.empty()) line["reward/overlong"] = sample_mean(s.overlong);
  for (size_t r = 0; r < scores.names.size(); ++r)
    if (scores.names[r] == "accuracy") line["accuracy"] = sample_mean(scores.values[r]);
}

void completion_fields(const StepRollouts& s, int64_t G, json& line) {
  const auto& lengths = s.lengths;
  const auto n = static_cast<int64_t>(lengths.size());
  line["completions/mean_length"] = sample_mean(lengths);
  line["completions/max_length"] =
      lengths.empty() ? 0.0 : *std::max_element(lengths.begin(), lengths.end());
  line["completions/min_length"] =
      lengths.empty() ? 0.0 : *std::min_element(lengths.begin(), lengths.end());
  line["completions/truncated_rate"] =
      n ? static_cast<double>(s.truncated) / static_cast<double>(n) : 0.0;
  line["groups/generated"] = s.groups_generated;
  line["groups/dropped"] = s.groups_dropped;
  line["groups/kept"] = static_cast<int64_t>(s.kept.size()) / G;
  line["refill_rounds"] = s.rounds;
}

void loss_fields(const GrpoConfig& cfg, const StepUpdate& u, json& line) {
  const LossStats& st = u.stats;
  line["loss"] = u.loss_mean;
  line["grad_norm"] = u.grad_norm_last;
  if (cfg.beta != 0.0) line["kl"] = st.mean(st.kl);
  line["entropy"] = st.entropy_mean();
  line["clip_ratio/low_mean"] = st.mean(st.clip_low);
  line["clip_ratio/high_mean"] = st.mean(st.clip_high);
  line["clip_ratio/region_mean"] = st.mean(st.clip_region);
  line["clip_ratio/low_min"] = std::isfinite(st.clip_low_min) ? st.clip_low_min : 0.0;
  line["clip_ratio/high_max"] = std::isfinite(st.clip_high_max) ? st.clip_high_max : 0.0;
  line["iterations"] = u.iterations;
}

}  // namespace

json step_metrics(const GrpoConfig& cfg, int64_t step, const StepRollouts& rollouts,
                  const StepUpdate& update, double lr, int64_t epoch) {
  json line = {{"step", step}};
  reward_fields(rollouts, line);
  completion_fields(rollouts, cfg.num_generations, line);
  line["tokens"] = update.tokens;
  line["lr"] = lr;
  if (rollouts.kept.empty())
    line["skipped"] = "no group to train on (every group's rewards were equal)";
  else
    loss_fields(cfg, update, line);
  line["epoch"] = epoch;
  line["time/generate"] = rollouts.seconds_generate;
  line["time/reward"] = rollouts.seconds_reward;
  line["time/logprobs"] = update.seconds_logprobs;
  line["time/update"] = update.seconds_update;
  return line;
}

void dump_batch(const std::string& out, int64_t step, const StepRollouts& rollouts,
                const StepUpdate& update, const json& line) {
  const auto& kept = rollouts.kept;
  json rows = json::array();
  for (size_t k = 0; k < kept.size(); ++k)
    rows.push_back(
        {{"prompt_ids", kept[k].local->prompt->ids},
         {"completion_ids", kept[k].local->ids},
         {"reward", kept[k].reward},
         {"advantage", update.advantages[k]},
         {"truncated", kept[k].local->truncated},
         {"logps", k < update.dumped_logps.size() ? json(update.dumped_logps[k]) : json::array()}});
  json j = {{"format", "r1-grpo-batch"}, {"version", 1}, {"step", step}, {"completions", rows}};
  for (const char* key : {"loss", "kl", "grad_norm", "lr", "reward", "tokens", "iterations"})
    if (line.contains(key)) j[key] = line.at(key);
  char name[32];
  std::snprintf(name, sizeof(name), "step-%06lld.json", static_cast<long long>(step));
  const std::string dir = out + "/batches";
  std::filesystem::create_directories(dir);
  write_file_atomic(dir + "/" + name, j.dump() + "\n");
}

}  // namespace r1
