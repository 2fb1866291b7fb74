// The rollout phase of a GRPO step (see grpo_rollout.h).
#include "rl/grpo_rollout.h"

#include <algorithm>  // std::find
#include <chrono>     // std::chrono::steady_clock
#include <cstdio>     // std::fprintf
#include <string>     // std::string
#include <tuple>      // std::tie

#include "rl/distributed.h"     // r1::Dist
#include "rl/grpo.h"            // r1::GrpoConfig
#include "rl/grpo_data.h"       // r1::GrpoPrompt
#include "rl/grpo_loss.h"       // r1::overlong_penalty
#include "rl/sft_data.h"        // r1::SftSampler
#include "toolkit/engine.h"     // r1::Engine
#include "toolkit/progress.h"   // r1::seconds_since
#include "toolkit/sampling.h"   // r1::derive_seed
#include "toolkit/tokenizer.h"  // r1::Tokenizer

namespace r1 {
namespace {

using Clock = std::chrono::steady_clock;

// One generation round: the prompts drawn, this rank's share [lo, hi) of them, and its samples.
struct Round {
  std::vector<int64_t> rows;
  int64_t lo = 0, hi = 0;
  std::vector<std::vector<GeneratedSample>> samples;  // per prompt of the share, G each
  int64_t n() const { return static_cast<int64_t>(rows.size()); }
};

// Every completion of one generation round as one process sees it, in its order (prompt by prompt,
// G each). This rank generated [offset, offset + mine.total.size()) of the n; each rank fills in
// its own and the ranks sum. first_error stays this rank's.
struct RoundFacts {
  RewardScores scores;
  std::vector<double> penalty;  // overlong penalty per completion (0 when off)
  std::vector<int64_t> length;  // generated tokens per completion
  std::vector<bool> truncated;  // cut at max_new_tokens
};

RoundFacts gather_round(const Dist& dist, const RewardScores& mine,
                        const std::deque<Rollout>& local, size_t first_local,
                        const std::vector<double>& my_penalty, int64_t offset, int64_t n) {
  const size_t R = mine.names.size();
  const size_t F = 4 + R;  // total, penalty, length, truncated, values per reward
  std::vector<double> packed(static_cast<size_t>(n) * F + R, 0.0);
  for (size_t k = 0; k < mine.total.size(); ++k) {
    double* row = &packed[(static_cast<size_t>(offset) + k) * F];
    const Rollout& r = local[first_local + k];
    row[0] = mine.total[k];
    row[1] = my_penalty.empty() ? 0.0 : my_penalty[k];
    row[2] = static_cast<double>(r.ids.size());
    row[3] = r.truncated ? 1.0 : 0.0;
    for (size_t q = 0; q < R; ++q) row[4 + q] = mine.values[q][k];
  }
  for (size_t q = 0; q < R; ++q)
    packed[static_cast<size_t>(n) * F + q] = static_cast<double>(mine.errors[q]);
  dist.sum(packed);
  RoundFacts f;
  f.scores.names = mine.names;
  f.scores.weights = mine.weights;
  f.scores.first_error = mine.first_error;
  f.scores.values.assign(R, std::vector<double>(static_cast<size_t>(n)));
  for (size_t c = 0; c < static_cast<size_t>(n); ++c) {
    const double* row = &packed[c * F];
    f.scores.total.push_back(row[0]);
    f.penalty.push_back(row[1]);
    f.length.push_back(static_cast<int64_t>(row[2]));
    f.truncated.push_back(row[3] != 0.0);
    for (size_t q = 0; q < R; ++q) f.scores.values[q][c] = row[4 + q];
  }
  for (size_t q = 0; q < R; ++q)
    f.scores.errors.push_back(static_cast<int64_t>(packed[static_cast<size_t>(n) * F + q]));
  return f;
}

// Reward scores of several generation rounds as one batch, for logging.
void append_scores(RewardScores& all, const RewardScores& more) {
  if (all.names.empty()) {
    all = more;
    return;
  }
  all.total.insert(all.total.end(), more.total.begin(), more.total.end());
  for (size_t r = 0; r < all.names.size(); ++r) {
    all.values[r].insert(all.values[r].end(), more.values[r].begin(), more.values[r].end());
    all.errors[r] += more.errors[r];
    if (all.first_error[r].empty()) all.first_error[r] = more.first_error[r];
  }
}

// Draws `need` prompts and generates G samples for each of this rank's share.
Round generate_round(const RolloutSource& src, SftSampler& sampler, int64_t& drawn, int64_t need) {
  const GrpoConfig& cfg = *src.config;
  Round round;
  round.rows = sampler.next(need);
  std::tie(round.lo, round.hi) = src.dist->shard(round.n());
  std::vector<GenerationRequest> requests;
  for (int64_t i = round.lo; i < round.hi; ++i) {
    GenerationRequest r;
    r.prompt = (*src.prompts)[round.rows[i]].ids;
    r.n = cfg.num_generations;
    r.sampling = SamplingParams{cfg.temperature, cfg.top_p, cfg.top_k};
    r.max_new_tokens = cfg.max_new_tokens;
    r.stop_ids = src.stop_ids;
    for (int64_t j = 0; j < cfg.num_generations; ++j)
      r.sample_seeds.push_back(derive_seed(
          cfg.seed,
          {kGrpoStreamSample, static_cast<uint64_t>(drawn + i), static_cast<uint64_t>(j)}));
    requests.push_back(std::move(r));
  }
  drawn += round.n();
  if (!requests.empty()) round.samples = src.engine->generate(requests);
  return round;
}

// What the rewards read of one sample: its text without the stop token.
RewardInput reward_input(const RolloutSource& src, const GrpoPrompt& p, const GeneratedSample& s,
                         bool truncated) {
  std::vector<int64_t> text_ids = s.ids;
  if (!truncated && !text_ids.empty() &&
      std::find(src.stop_ids.begin(), src.stop_ids.end(), text_ids.back()) != src.stop_ids.end())
    text_ids.pop_back();
  RewardInput in;
  in.prompt = p.problem;
  in.completion = src.tokenizer->decode(text_ids, /*skip_special_tokens=*/true);
  in.think_opened = !src.config->no_think;
  in.gold = p.answer;
  in.code = p.code;
  in.finish_reason = s.finish_reason;
  in.completion_tokens = static_cast<int64_t>(s.ids.size());
  return in;
}

// Scores this rank's samples of the round (appended to out.local) and gathers every rank's.
RoundFacts score_round(const RolloutSource& src, const Round& round, size_t first_local,
                       StepRollouts& out) {
  const GrpoConfig& cfg = *src.config;
  std::vector<RewardInput> inputs;
  for (size_t i = 0; i < round.samples.size(); ++i) {
    const GrpoPrompt& p = (*src.prompts)[round.rows[round.lo + static_cast<int64_t>(i)]];
    for (const auto& s : round.samples[i]) {
      Rollout r;
      r.prompt = &p;
      r.ids = s.ids;
      r.truncated = s.finish_reason == "length";
      inputs.push_back(reward_input(src, p, s, r.truncated));
      out.local.push_back(std::move(r));
    }
  }
  const RewardScores sc = src.rewards->compute(inputs);
  append_scores(out.local_scores, sc);
  std::vector<double> my_penalty;
  if (cfg.overlong_buffer > 0)
    for (size_t k = first_local; k < out.local.size(); ++k)
      my_penalty.push_back(cfg.overlong_factor *
                           overlong_penalty(static_cast<int64_t>(out.local[k].ids.size()),
                                            cfg.max_new_tokens, cfg.overlong_buffer));
  const int64_t G = cfg.num_generations;
  return gather_round(*src.dist, sc, out.local, first_local, my_penalty, round.lo * G,
                      round.n() * G);
}

// Adds the round's rewards and facts to `out` and keeps its groups (all of them, or with dynamic
// sampling those whose rewards differ).
void keep_round(const GrpoConfig& cfg, const Round& round, const RoundFacts& f, size_t first_local,
                StepRollouts& out) {
  const int64_t G = cfg.num_generations;
  std::vector<double> rewards(f.scores.total.size());
  for (size_t k = 0; k < rewards.size(); ++k) {
    rewards[k] = f.scores.total[k];
    if (cfg.overlong_buffer > 0) {
      rewards[k] += f.penalty[k];
      out.overlong.push_back(f.penalty[k]);
    }
    out.lengths.push_back(static_cast<double>(f.length[k]));
    out.truncated += f.truncated[k] ? 1 : 0;
  }
  for (size_t k = first_local; k < out.local.size(); ++k)
    out.local[k].reward = rewards[static_cast<size_t>(round.lo * G) + k - first_local];
  append_scores(out.scores, f.scores);
  for (int64_t g = 0; g < round.n(); ++g) {
    ++out.groups_generated;
    bool all_equal = true;
    for (int64_t j = 1; j < G; ++j) all_equal = all_equal && rewards[g * G + j] == rewards[g * G];
    if (cfg.dynamic_sampling && all_equal) {
      ++out.groups_dropped;
      continue;
    }
    for (int64_t j = 0; j < G; ++j) {
      const size_t c = static_cast<size_t>(g * G + j);
      KeptCompletion k;
      if (g >= round.lo && g < round.hi)
        k.local = &out.local[first_local + static_cast<size_t>((g - round.lo) * G + j)];
      k.reward = rewards[c];
      k.tokens = cfg.mask_truncated && f.truncated[c] ? 0.0 : static_cast<double>(f.length[c]);
      out.kept.push_back(k);
    }
  }
}

}  // namespace

void collect_rollouts(const RolloutSource& src, SftSampler& sampler, int64_t& drawn,
                      StepRollouts& out) {
  const GrpoConfig& cfg = *src.config;
  for (int64_t need = cfg.prompts_per_step; need > 0;) {
    const auto t0 = Clock::now();
    const Round round = generate_round(src, sampler, drawn, need);
    out.seconds_generate += seconds_since(t0);
    const auto t1 = Clock::now();
    const size_t first_local = out.local.size();
    const RoundFacts facts = score_round(src, round, first_local, out);
    keep_round(cfg, round, facts, first_local, out);
    out.seconds_reward += seconds_since(t1);
    if (!cfg.dynamic_sampling || out.rounds == cfg.max_refill_rounds) break;
    need = cfg.prompts_per_step - static_cast<int64_t>(out.kept.size()) / cfg.num_generations;
    if (need > 0) ++out.rounds;
  }
}

void report_reward_errors(const StepRollouts& s, const Dist& dist, int64_t step) {
  const RewardScores& mine = s.local_scores;
  for (size_t r = 0; r < mine.names.size(); ++r)
    if (mine.errors[r] > 0)
      std::fprintf(stderr,
                   "grpo: %sstep %lld: reward %s could not score %lld samples (scored 0): %s\n",
                   dist.active() ? ("rank " + std::to_string(dist.rank()) + ": ").c_str() : "",
                   static_cast<long long>(step), mine.names[r].c_str(),
                   static_cast<long long>(mine.errors[r]), mine.first_error[r].c_str());
}

}  // namespace r1
