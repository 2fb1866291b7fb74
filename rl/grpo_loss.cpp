// The GRPO loss, advantages and their helpers (see grpo_loss.h), transcribed from TRL 1.16.0's
// grpo_trainer.py line for line where the order of floating-point operations could matter; the
// goldens of tests/reference/make_grpo_goldens.py come from TRL's own code.
#include "rl/grpo_loss.h"

#include <torch/torch.h>  // torch ops

#include <algorithm>  // std::max, std::min
#include <limits>     // std::numeric_limits
#include <optional>   // std::optional, std::nullopt

#include "toolkit/error.h"  // r1::Error, r1::check

namespace r1 {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string shape_str(const torch::Tensor& t) {
  std::string s = "(";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + ")";
}

// TRL's nanstd: Bessel-corrected std ignoring NaNs; NaN where fewer than two values.
torch::Tensor nanstd(const torch::Tensor& x, std::optional<int64_t> dim) {
  const bool all = !dim.has_value();
  auto mean = all ? torch::nanmean(x) : torch::nanmean(x, *dim, /*keepdim=*/true);
  auto sq = (x - mean).pow(2);
  auto var = all ? torch::nanmean(sq) : torch::nanmean(sq, *dim, /*keepdim=*/true);
  auto count = all ? (~torch::isnan(x)).sum() : (~torch::isnan(x)).sum(*dim, /*keepdim=*/true);
  auto correction = count / (count - 1);
  correction = torch::where(count > 1, correction, torch::full_like(correction, kNaN));
  auto sd = torch::sqrt(var * correction);
  return all ? sd : sd.squeeze(*dim);
}

// TRL's nanmin / nanmax of a 1-D tensor: NaN if every value is NaN.
double nan_extreme(const torch::Tensor& x, bool max) {
  auto keep = x.masked_select(~torch::isnan(x));
  if (keep.numel() == 0) return kNaN;
  return (max ? keep.max() : keep.min()).item<double>();
}

}  // namespace

void check_grpo_loss_config(const GrpoLossConfig& cfg) {
  const auto& lt = cfg.loss_type;
  check(lt == "grpo" || lt == "bnpo" || lt == "dr_grpo" || lt == "dapo",
        "grpo loss_type: '" + lt + "' is not one of grpo, bnpo, dr_grpo, dapo");
  const auto& isl = cfg.importance_sampling_level;
  check(isl == "token" || isl == "sequence",
        "grpo importance_sampling_level: '" + isl + "' is not one of token, sequence");
  const auto& sr = cfg.scale_rewards;
  check(sr == "group" || sr == "batch" || sr == "none",
        "grpo scale_rewards: '" + sr + "' is not one of group, batch, none");
  check(cfg.epsilon >= 0.0 && cfg.epsilon < 1.0,
        "grpo epsilon: " + std::to_string(cfg.epsilon) + " is not in [0, 1)");
  if (cfg.epsilon_high)
    check(*cfg.epsilon_high >= 0.0,
          "grpo epsilon_high: " + std::to_string(*cfg.epsilon_high) + " is negative");
  if (cfg.delta)
    check(*cfg.delta > 0.0, "grpo delta: " + std::to_string(*cfg.delta) +
                                " must be positive (above 1 + epsilon_high)");
  check(cfg.beta >= 0.0, "grpo beta: " + std::to_string(cfg.beta) + " is negative");
  check(cfg.max_completion_length > 0,
        "grpo max_completion_length: " + std::to_string(cfg.max_completion_length) +
            " must be positive (dr_grpo divides by it)");
  check(cfg.gradient_accumulation_steps > 0,
        "grpo gradient_accumulation_steps: " + std::to_string(cfg.gradient_accumulation_steps) +
            " must be positive");
  check(cfg.steps_per_generation >= 0,
        "grpo steps_per_generation: " + std::to_string(cfg.steps_per_generation) +
            " is negative (0 means gradient_accumulation_steps)");
}

namespace {

// The inputs' shapes: logps (B, T) float; completion_mask, old_logps, ref_logps (beta != 0) and
// entropies (B, T); advantages (B) or (B, T).
void check_loss_inputs(const torch::Tensor& logps, const torch::Tensor& old_logps,
                       const torch::Tensor& ref_logps, const torch::Tensor& advantages,
                       const torch::Tensor& completion_mask, const GrpoLossConfig& cfg,
                       const GrpoLossBatch& batch) {
  check(logps.defined() && logps.dim() == 2 && logps.is_floating_point(),
        "grpo_loss logps: expected a (B, T) float tensor, got " +
            (logps.defined() ? shape_str(logps) : std::string("none")));
  const auto bt = logps.sizes();
  auto same_bt = [&](const torch::Tensor& t, const char* name) {
    check(t.sizes() == bt, std::string("grpo_loss ") + name + ": shape " + shape_str(t) +
                               " is not logps' " + shape_str(logps));
  };
  same_bt(completion_mask, "completion_mask");
  if (old_logps.defined()) same_bt(old_logps, "old_logps");
  if (cfg.beta != 0.0) {
    check(ref_logps.defined(),
          "grpo_loss ref_logps: required when beta (" + std::to_string(cfg.beta) + ") is not 0");
    same_bt(ref_logps, "ref_logps");
  }
  check(advantages.defined() &&
            ((advantages.dim() == 1 && advantages.size(0) == bt[0]) || advantages.sizes() == bt),
        "grpo_loss advantages: expected (B) or (B, T) with B, T = " + shape_str(logps) + ", got " +
            (advantages.defined() ? shape_str(advantages) : std::string("none")));
  if (batch.entropies.defined()) same_bt(batch.entropies, "entropies");
  check(batch.num_processes > 0,
        "grpo_loss num_processes: " + std::to_string(batch.num_processes) + " must be positive");
}

// The per-token losses aggregated as TRL's loss_type does (it scales for gradient accumulation
// only in training mode).
torch::Tensor aggregate_loss(const torch::Tensor& per_token_loss, const torch::Tensor& mask,
                             const GrpoLossConfig& cfg, const GrpoLossBatch& batch) {
  const double ga = batch.training ? static_cast<double>(cfg.gradient_accumulation_steps) : 1.0;
  const auto& lt = cfg.loss_type;
  if (lt == "grpo")
    return ((per_token_loss * mask).sum(-1) / mask.sum(-1).clamp_min(1.0)).mean() / ga;
  if (lt == "bnpo") return (per_token_loss * mask).sum() / mask.sum().clamp_min(1.0) / ga;
  if (lt == "dr_grpo") {
    const double denom = static_cast<double>(per_token_loss.size(0) * cfg.max_completion_length);
    return (per_token_loss * mask).sum() / denom / ga;
  }
  double items = batch.num_items_in_batch;  // dapo
  if (items < 0) items = mask.sum().item<double>();
  double normalizer = std::max(items, 1.0) / static_cast<double>(batch.num_processes);
  if (batch.training) {
    const int64_t spg =
        cfg.steps_per_generation > 0 ? cfg.steps_per_generation : cfg.gradient_accumulation_steps;
    normalizer = normalizer * static_cast<double>(cfg.gradient_accumulation_steps) /
                 static_cast<double>(spg);
  }
  return (per_token_loss * mask).sum() / normalizer;
}

// The metrics, as TRL logs them: a (B, 1) tensor (sequence-level ratios) counts sequences, a (B, T)
// one counts masked tokens. TRL takes the clip fractions in float32 (`.float()`), so do we.
void loss_metrics(const torch::Tensor& coef_1, const torch::Tensor& adv,
                  const torch::Tensor& per_token_kl, const torch::Tensor& mask,
                  const torch::Tensor& completion_mask, double eps_low, double eps_high,
                  const GrpoLossConfig& cfg, const GrpoLossBatch& batch, GrpoLossOut& out) {
  torch::NoGradGuard no_grad;
  auto global_masked_mean = [](const torch::Tensor& x, const torch::Tensor& m) {
    if (x.size(1) == 1) return (x.sum() / static_cast<double>(x.size(0))).item<double>();
    return ((x * m).sum() / m.sum().clamp_min(1.0)).item<double>();
  };
  auto masked_seq_mean = [](const torch::Tensor& x, const torch::Tensor& m) {
    if (x.size(1) == 1) return x.squeeze(1);
    return (x * m).sum(-1) / m.sum(-1);  // NaN for a sequence with no tokens
  };
  out.kl_mean = cfg.beta != 0.0 ? global_masked_mean(per_token_kl.detach(), mask) : kNaN;
  out.entropy_mean = batch.entropies.defined()
                         ? global_masked_mean(batch.entropies.to(mask.scalar_type()), mask)
                         : kNaN;
  auto c1 = coef_1.detach();
  auto low = (c1 < 1 - eps_low) & (adv < 0);    // (B, T) or (B, 1)
  auto high = (c1 > 1 + eps_high) & (adv > 0);  // (B, T) or (B, 1)
  auto mask_f = completion_mask.to(torch::kFloat);
  out.clip_low_mean = global_masked_mean(low.to(torch::kFloat), mask_f);
  out.clip_high_mean = global_masked_mean(high.to(torch::kFloat), mask_f);
  out.clip_region_mean = global_masked_mean((low | high).to(torch::kFloat), mask_f);
  out.clip_low_min = nan_extreme(masked_seq_mean(low.to(torch::kFloat), mask_f), /*max=*/false);
  out.clip_high_max = nan_extreme(masked_seq_mean(high.to(torch::kFloat), mask_f), /*max=*/true);
}

}  // namespace

GrpoLossOut grpo_loss(const torch::Tensor& logps, const torch::Tensor& old_logps,
                      const torch::Tensor& ref_logps, const torch::Tensor& advantages,
                      const torch::Tensor& completion_mask, const GrpoLossConfig& cfg,
                      const GrpoLossBatch& batch) {
  check_grpo_loss_config(cfg);
  check_loss_inputs(logps, old_logps, ref_logps, advantages, completion_mask, cfg, batch);
  const double eps_low = cfg.epsilon;
  const double eps_high = cfg.epsilon_high.value_or(cfg.epsilon);
  const auto dtype = logps.scalar_type();
  auto mask = completion_mask.to(dtype);  // (B, T)
  auto adv = advantages.to(dtype);
  if (adv.dim() == 1) adv = adv.unsqueeze(1);                             // (B, 1) or (B, T)
  auto old = old_logps.defined() ? old_logps.to(dtype) : logps.detach();  // (B, T)

  auto log_ratio = logps - old;  // (B, T)
  torch::Tensor log_w;           // (B, T) token level, (B, 1) sequence level
  if (cfg.importance_sampling_level == "token") {
    log_w = log_ratio;
  } else {
    log_w = ((log_ratio * mask).sum(-1) / mask.sum(-1).clamp_min(1.0)).unsqueeze(-1);
  }
  auto coef_1 = torch::exp(log_w);

  torch::Tensor per_token_kl;  // (B, T)
  if (cfg.beta != 0.0) {
    auto ref = ref_logps.to(dtype);
    per_token_kl = torch::exp(ref - logps) - (ref - logps) - 1;
    if (cfg.use_bias_correction_kl) per_token_kl = per_token_kl * coef_1;
  }

  auto coef_2 = torch::clamp(coef_1, 1 - eps_low, 1 + eps_high);
  if (cfg.delta) coef_1 = torch::clamp(coef_1, std::nullopt, *cfg.delta);
  auto per_token_loss = -torch::min(coef_1 * adv, coef_2 * adv);
  if (cfg.beta != 0.0) per_token_loss = per_token_loss + cfg.beta * per_token_kl;

  GrpoLossOut out;
  out.loss = aggregate_loss(per_token_loss, mask, cfg, batch);
  loss_metrics(coef_1, adv, per_token_kl, mask, completion_mask, eps_low, eps_high, cfg, batch,
               out);
  return out;
}

torch::Tensor group_advantages(const torch::Tensor& rewards, int64_t group_size,
                               const std::string& scale_rewards) {
  check(scale_rewards == "group" || scale_rewards == "batch" || scale_rewards == "none",
        "group_advantages scale_rewards: '" + scale_rewards + "' is not one of group, batch, none");
  check(group_size > 0,
        "group_advantages group_size: " + std::to_string(group_size) + " must be positive");
  check(rewards.defined() && rewards.dim() == 1 && rewards.is_floating_point(),
        "group_advantages rewards: expected a 1-D float tensor, got " +
            (rewards.defined() ? shape_str(rewards) : std::string("none")));
  const int64_t n = rewards.size(0);
  check(n % group_size == 0, "group_advantages rewards: " + std::to_string(n) +
                                 " rewards are not whole groups of " + std::to_string(group_size));
  auto grouped = rewards.view({-1, group_size});                            // (B, G)
  auto mean = torch::nanmean(grouped, 1).repeat_interleave(group_size, 0);  // (B * G)
  torch::Tensor sd;                                                         // (B * G)
  if (scale_rewards == "group") {
    sd = group_size > 1 ? nanstd(grouped, 1).repeat_interleave(group_size, 0)
                        : torch::zeros_like(rewards);
  } else if (scale_rewards == "batch") {
    sd = n > 1 ? nanstd(rewards, std::nullopt).expand_as(rewards) : torch::zeros_like(rewards);
  }
  auto adv = rewards - mean;
  if (scale_rewards != "none") adv = adv / (sd + 1e-4);
  return torch::nan_to_num(adv, 0.0);
}

torch::Tensor mask_truncated(const torch::Tensor& completion_mask, const torch::Tensor& truncated) {
  check(completion_mask.dim() == 2 && truncated.dim() == 1 &&
            truncated.size(0) == completion_mask.size(0),
        "mask_truncated: truncated " + shape_str(truncated) + " does not match completion_mask " +
            shape_str(completion_mask) + " (expected (B) and (B, T))");
  return completion_mask * (~truncated.to(torch::kBool)).unsqueeze(1).to(completion_mask.dtype());
}

double overlong_penalty(int64_t length, int64_t max_length, int64_t buffer_len) {
  check(buffer_len >= 0 && buffer_len <= max_length,
        "overlong_penalty buffer_len: " + std::to_string(buffer_len) + " is not in [0, " +
            std::to_string(max_length) + "] (max_length)");
  const int64_t start = max_length - buffer_len;
  if (length <= start) return 0.0;
  if (length <= max_length)
    return static_cast<double>(start - length) / static_cast<double>(buffer_len);
  return -1.0;
}

torch::Tensor token_entropy(const torch::Tensor& logits, int64_t chunk) {
  check(logits.defined() && logits.dim() >= 1 && logits.is_floating_point(),
        "token_entropy logits: expected a (..., V) float tensor");
  check(chunk > 0, "token_entropy chunk: " + std::to_string(chunk) + " must be positive");
  torch::NoGradGuard no_grad;
  auto lead = logits.sizes().vec();
  const int64_t vocab = lead.back();
  lead.pop_back();
  auto flat = logits.reshape({-1, vocab});  // (N, V)
  auto out = torch::empty({flat.size(0)}, logits.options());
  for (int64_t s = 0; s < flat.size(0); s += chunk) {
    const int64_t n = std::min(chunk, flat.size(0) - s);
    auto lp = torch::log_softmax(flat.narrow(0, s, n), -1);
    out.narrow(0, s, n).copy_(-(torch::exp(lp) * lp).sum(-1));
  }
  return out.view(lead);
}

}  // namespace r1
