// The update phase of a GRPO step (see grpo_update.h). Log-probs are computed by one function (a
// forward over prompt + completion, then the chunked token_logprobs kernel) for the old, reference
// and current policy, so the first iteration's importance ratio is exactly 1.
#include "rl/grpo_update.h"

#include <torch/torch.h>  // torch ops, torch::NoGradGuard

#include <algorithm>  // std::find, std::max, std::min
#include <chrono>     // std::chrono::steady_clock
#include <cmath>      // std::isfinite

#include "kernels/token_logprobs.h"  // r1::token_logprobs
#include "rl/distributed.h"          // r1::Dist
#include "rl/grpo.h"                 // r1::GrpoConfig
#include "rl/grpo_data.h"            // r1::GrpoPrompt
#include "rl/optim.h"                // r1::AdamW, r1::LrSchedule
#include "rl/sft.h"                  // r1::zero_padding_embedding_grad
#include "rl/trainer_run.h"          // r1::update_unless_bad
#include "toolkit/progress.h"        // r1::seconds_since
#include "toolkit/transformer.h"     // r1::Transformer

namespace r1 {
namespace {

using Clock = std::chrono::steady_clock;

// Token rows per chunk when computing entropies from hidden states (their logits exist at once).
constexpr int64_t kEntropyRows = 256;

// A right-padded micro-batch of prompt + completion sequences and where its completion tokens sit.
// Shapes: b rows, T the longest prompt + completion, Tc the longest completion, N completion
// tokens.
struct MicroBatch {
  torch::Tensor ids, positions, valid;  // (b, T) int64, int64, bool
  torch::Tensor predict;                // (N) int64: flat b*T index of the hidden state that
                                        //   predicts each completion token
  torch::Tensor targets;                // (N) int64: the completion tokens
  torch::Tensor place;                  // (N) int64: flat b*Tc index of each completion token
  torch::Tensor mask;                   // (b, Tc) float32: 1 where a completion token carries loss
  torch::Tensor advantages;             // (b) float32
  int64_t b = 0, Tc = 0;
  double tokens = 0;  // mask sum
};

MicroBatch make_micro_batch(const std::vector<const Rollout*>& rows,
                            const std::vector<float>& advantages, bool mask_truncated,
                            int64_t pad_id, torch::Device device) {
  MicroBatch mb;
  mb.b = static_cast<int64_t>(rows.size());
  int64_t T = 1, Tc = 1;
  for (const auto* r : rows) {
    T = std::max<int64_t>(T, static_cast<int64_t>(r->prompt->ids.size() + r->ids.size()));
    Tc = std::max<int64_t>(Tc, static_cast<int64_t>(r->ids.size()));
  }
  mb.Tc = Tc;
  std::vector<int64_t> ids(mb.b * T, pad_id), positions(mb.b * T, 0), predict, targets, place;
  std::vector<uint8_t> valid(mb.b * T, 0);
  std::vector<float> mask(mb.b * Tc, 0.0f);
  for (int64_t i = 0; i < mb.b; ++i) {
    const auto& p = rows[i]->prompt->ids;
    const auto& c = rows[i]->ids;
    const auto P = static_cast<int64_t>(p.size()), C = static_cast<int64_t>(c.size());
    for (int64_t t = 0; t < P + C; ++t) {
      ids[i * T + t] = t < P ? p[t] : c[t - P];
      positions[i * T + t] = t;
      valid[i * T + t] = 1;
    }
    const bool carries = !(mask_truncated && rows[i]->truncated);
    for (int64_t k = 0; k < C; ++k) {
      predict.push_back(i * T + P + k - 1);
      targets.push_back(c[k]);
      place.push_back(i * Tc + k);
      if (carries) mask[i * Tc + k] = 1.0f;
    }
    if (carries) mb.tokens += static_cast<double>(C);
  }
  auto i64 = torch::TensorOptions().dtype(torch::kLong);
  mb.ids = torch::tensor(ids, i64).view({mb.b, T}).to(device);
  mb.positions = torch::tensor(positions, i64).view({mb.b, T}).to(device);
  mb.valid = torch::tensor(std::vector<int64_t>(valid.begin(), valid.end()), i64)
                 .view({mb.b, T})
                 .to(torch::kBool)
                 .to(device);
  mb.predict = torch::tensor(predict, i64).to(device);
  mb.targets = torch::tensor(targets, i64).to(device);
  mb.place = torch::tensor(place, i64).to(device);
  mb.mask = torch::tensor(mask).view({mb.b, Tc}).to(device);
  mb.advantages = torch::tensor(advantages).to(device);
  return mb;
}

// Per-token log-probs (b, Tc) float32 of the completion tokens under `model` with logits / T,
// 0 at padding; differentiable unless grad mode is off. With `entropies`, also the per-token
// entropy (b, Tc) of the same distribution (no gradient).
torch::Tensor completion_logps(Transformer& model, const MicroBatch& mb, double temperature,
                               torch::Tensor* entropies = nullptr) {
  auto hidden = model.forward(mb.ids, mb.positions, mb.valid);                   // (b, T, C)
  auto h = hidden.reshape({-1, hidden.size(-1)}).index_select(0, mb.predict);    // (N, C)
  auto lp = token_logprobs(h, model.lm_head_weight(), mb.targets, temperature);  // (N)
  auto out = torch::zeros({mb.b * mb.Tc}, lp.options()).index_copy(0, mb.place, lp);
  if (entropies != nullptr) {
    torch::NoGradGuard no_grad;
    auto hd = h.detach();
    auto ent = torch::empty({hd.size(0)}, lp.options());  // (N)
    for (int64_t s = 0; s < hd.size(0); s += kEntropyRows) {
      const int64_t n = std::min(kEntropyRows, hd.size(0) - s);
      ent.narrow(0, s, n).copy_(token_entropy(model.logits(hd.narrow(0, s, n)) / temperature));
    }
    *entropies =
        torch::zeros({mb.b * mb.Tc}, lp.options()).index_copy(0, mb.place, ent).view({mb.b, mb.Tc});
  }
  return out.view({mb.b, mb.Tc});
}

// Appends each row's completion log-probs (its C completion tokens' entries) of a micro-batch's
// (b, Tc) log-probs.
void append_rows(std::vector<std::vector<double>>& out, const torch::Tensor& logps,
                 const MicroBatch& mb) {
  const auto lp = logps.detach().to(torch::kCPU, torch::kDouble).contiguous();
  const auto lengths = torch::zeros({mb.b * mb.Tc}, torch::kLong)
                           .index_fill_(0, mb.place.to(torch::kCPU), 1)
                           .view({mb.b, mb.Tc})
                           .sum(1);
  for (int64_t i = 0; i < mb.b; ++i) {
    const double* row = lp.data_ptr<double>() + i * mb.Tc;
    out.emplace_back(row, row + lengths[i].item<int64_t>());
  }
}

// This rank's pieces of the step's micro-batches, each with its old and reference log-probs.
struct Pieces {
  std::vector<MicroBatch> micro;  // this rank's pieces
  std::vector<double> scale;      // per piece
  std::vector<torch::Tensor> old_logps, ref_logps;
  int64_t n_micro = 0;  // micro-batches of the step (all ranks)
};

// Micro-batches of micro_batch completions in group order, as one process cuts them. This rank
// computes the loss of its own completions in each (a piece), scaled so that the pieces of a
// micro-batch add up to its one-process loss: grpo and dr_grpo average over the micro-batch's
// sequences (b_piece / b), bnpo over its tokens (tokens_piece / tokens), dapo divides by the
// step's tokens already.
Pieces cut_pieces(const PolicyUpdater& u, const std::vector<KeptCompletion>& kept,
                  const std::vector<float>& advs, double& batch_tokens) {
  const GrpoConfig& cfg = *u.config;
  const auto n_kept = static_cast<int64_t>(kept.size());
  Pieces p;
  p.n_micro = (n_kept + cfg.micro_batch - 1) / cfg.micro_batch;
  for (int64_t m = 0; m < p.n_micro; ++m) {
    const int64_t s = m * cfg.micro_batch, e = std::min(n_kept, s + cfg.micro_batch);
    double micro_tokens = 0, piece_tokens = 0;
    std::vector<const Rollout*> part;
    std::vector<float> part_advs;
    for (int64_t c = s; c < e; ++c) {
      micro_tokens += kept[c].tokens;
      if (kept[c].local == nullptr) continue;
      part.push_back(kept[c].local);
      part_advs.push_back(advs[c]);
      piece_tokens += kept[c].tokens;
    }
    batch_tokens += micro_tokens;
    if (part.empty()) continue;
    p.micro.push_back(make_micro_batch(part, part_advs, cfg.mask_truncated, u.pad_id, u.device));
    double scale = 1.0;
    if (cfg.loss_type == "grpo" || cfg.loss_type == "dr_grpo")
      scale = static_cast<double>(part.size()) / static_cast<double>(e - s);
    else if (cfg.loss_type == "bnpo")
      scale = std::max(piece_tokens, 1.0) / std::max(micro_tokens, 1.0);
    p.scale.push_back(scale);
  }
  return p;
}

// Old log-probs (num_iterations > 1) and reference log-probs (beta > 0), without gradient.
void frozen_logps(const PolicyUpdater& u, Pieces& p) {
  torch::NoGradGuard no_grad;
  p.old_logps.resize(p.micro.size());
  p.ref_logps.resize(p.micro.size());
  for (size_t m = 0; m < p.micro.size(); ++m) {
    if (u.config->num_iterations > 1)
      p.old_logps[m] = completion_logps(*u.policy, p.micro[m], u.config->temperature);
    if (u.reference)
      p.ref_logps[m] = completion_logps(*u.reference, p.micro[m], u.config->temperature);
  }
}

// One optimiser update (iteration `it` of the step) over every piece.
void iterate(const PolicyUpdater& u, const Pieces& p, const GrpoLossConfig& lc, int64_t it,
             int64_t update, bool inject_nan, StepUpdate& out) {
  const GrpoConfig& cfg = *u.config;
  const double lr = u.schedule->at(update);
  double loss = 0, log_ratio_max = 0;
  LossStats it_stats;
  for (size_t m = 0; m < p.micro.size(); ++m) {
    torch::Tensor entropies;
    auto logps =
        completion_logps(*u.policy, p.micro[m], cfg.temperature, it == 0 ? &entropies : nullptr);
    if (cfg.dump_batches && it == 0) append_rows(out.dumped_logps, logps, p.micro[m]);
    GrpoLossBatch lb;
    lb.num_items_in_batch = out.tokens;
    lb.entropies = entropies;
    const GrpoLossOut o = grpo_loss(logps, p.old_logps[m], p.ref_logps[m], p.micro[m].advantages,
                                    p.micro[m].mask, lc, lb);
    auto l = o.loss;
    if (p.scale[m] != 1.0) l = l * p.scale[m];
    if (inject_nan) l = l * std::numeric_limits<float>::quiet_NaN();
    l.backward();
    loss += l.item<double>();
    it_stats.add(o, p.micro[m].tokens);
    out.stats.add(o, p.micro[m].tokens);
    if (p.old_logps[m].defined() && p.micro[m].tokens > 0) {
      torch::NoGradGuard no_grad;
      log_ratio_max = std::max(
          log_ratio_max,
          ((logps.detach() - p.old_logps[m]).abs() * p.micro[m].mask).max().item<double>());
    }
  }
  zero_padding_embedding_grad(*u.policy);  // as transformers' Embedding(padding_idx) (sft.h)
  if (u.dist->active()) {
    loss = u.dist->sum(loss);
    std::vector<double> highest = {log_ratio_max};
    u.dist->max(highest);
    log_ratio_max = highest[0];
    it_stats.reduce(*u.dist);
  }
  nlohmann::json line = {{"lr", lr}, {"loss", loss}};
  if (cfg.num_iterations > 1) line["log_ratio_max"] = log_ratio_max;
  line["clip_ratio/region_mean"] = it_stats.mean(it_stats.clip_region);
  double grad_norm = 0;
  const std::string bad = update_unless_bad(*u.optimizer, *u.dist, loss, lr, cfg.clip, &grad_norm);
  if (bad.empty()) {
    line["grad_norm"] = grad_norm;
    out.grad_norm_last = grad_norm;
  } else {
    line["skipped"] = bad;
    if (out.bad.empty()) out.bad = bad;
  }
  out.loss_mean += loss / static_cast<double>(cfg.num_iterations);
  out.iterations.push_back(line);
}

}  // namespace

void LossStats::add(const GrpoLossOut& o, double tokens) {
  if (tokens <= 0) return;
  weight += tokens;
  kl += std::isfinite(o.kl_mean) ? o.kl_mean * tokens : 0.0;
  if (std::isfinite(o.entropy_mean)) {
    entropy_weight += tokens;
    entropy += o.entropy_mean * tokens;
  }
  clip_low += o.clip_low_mean * tokens;
  clip_high += o.clip_high_mean * tokens;
  clip_region += o.clip_region_mean * tokens;
  if (std::isfinite(o.clip_low_min))
    clip_low_min =
        std::isfinite(clip_low_min) ? std::min(clip_low_min, o.clip_low_min) : o.clip_low_min;
  if (std::isfinite(o.clip_high_max))
    clip_high_max =
        std::isfinite(clip_high_max) ? std::max(clip_high_max, o.clip_high_max) : o.clip_high_max;
}

void LossStats::reduce(const Dist& dist) {
  if (!dist.active()) return;
  std::vector<double> sums = {weight,         kl,     clip_low, clip_high, clip_region,
                              entropy_weight, entropy};
  dist.sum(sums);
  weight = sums[0], kl = sums[1], clip_low = sums[2], clip_high = sums[3];
  clip_region = sums[4], entropy_weight = sums[5], entropy = sums[6];
  constexpr double kInf = std::numeric_limits<double>::infinity();
  std::vector<double> highs = {std::isfinite(clip_low_min) ? -clip_low_min : -kInf,
                               std::isfinite(clip_high_max) ? clip_high_max : -kInf};
  dist.max(highs);
  clip_low_min = std::isfinite(highs[0]) ? -highs[0] : kNaN;
  clip_high_max = std::isfinite(highs[1]) ? highs[1] : kNaN;
}

StepUpdate update_policy(const PolicyUpdater& u, const std::vector<KeptCompletion>& kept,
                         int64_t step) {
  const GrpoConfig& cfg = *u.config;
  StepUpdate out;
  Pieces pieces;
  if (!kept.empty()) {
    std::vector<float> rewards;
    for (const auto& k : kept) rewards.push_back(static_cast<float>(k.reward));
    auto adv = group_advantages(torch::tensor(rewards), cfg.num_generations, cfg.scale_rewards);
    out.advantages.assign(adv.data_ptr<float>(), adv.data_ptr<float>() + adv.numel());
    pieces = cut_pieces(u, kept, out.advantages, out.tokens);
  }
  GrpoLossConfig lc = u.loss;
  lc.gradient_accumulation_steps = std::max<int64_t>(1, pieces.n_micro);
  lc.steps_per_generation = lc.gradient_accumulation_steps;

  const auto t0 = Clock::now();
  frozen_logps(u, pieces);
  out.seconds_logprobs = seconds_since(t0);

  const auto t1 = Clock::now();
  const bool inject_nan =
      std::find(cfg.nan_steps.begin(), cfg.nan_steps.end(), step) != cfg.nan_steps.end();
  for (int64_t it = 0; it < cfg.num_iterations && !kept.empty(); ++it)
    iterate(u, pieces, lc, it, (step - 1) * cfg.num_iterations + it, inject_nan, out);
  out.stats.reduce(*u.dist);
  out.seconds_update = seconds_since(t1);
  return out;
}

}  // namespace r1
