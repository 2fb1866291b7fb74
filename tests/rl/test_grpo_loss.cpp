// Hand-checkable cases of rl/grpo_loss: zero advantages, the clip boundaries, the aggregations'
// normalisers, masking, the KL term, advantages of tied groups, overlong punishment, entropy and
// config errors. Parity with TRL itself is test_parity_grpo_loss.cpp.
#include <gtest/gtest.h>  // testing
#include <torch/torch.h>  // torch::Tensor

#include <cmath>   // std::exp, std::log, std::isnan
#include <limits>  // std::numeric_limits
#include <string>  // std::string
#include <vector>  // std::vector

#include "rl/grpo_loss.h"   // r1::grpo_loss, r1::group_advantages, ...
#include "toolkit/error.h"  // r1::Error

namespace {

const auto kF64 = torch::kFloat64;

// A (B, T) = (2, 4) batch: row 0 has 4 tokens, row 1 has 2.
struct Batch {
  torch::Tensor logps = torch::tensor({{-1.0, -0.5, -2.0, -0.1}, {-0.3, -1.5, -9.0, -9.0}}, kF64)
                            .requires_grad_(true);
  torch::Tensor old = torch::tensor({{-1.1, -0.6, -1.5, -0.1}, {-0.2, -1.5, -1.0, -1.0}}, kF64);
  torch::Tensor ref = torch::tensor({{-0.9, -0.7, -2.0, -0.3}, {-0.3, -1.0, -1.0, -1.0}}, kF64);
  torch::Tensor mask = torch::tensor({{1, 1, 1, 1}, {1, 1, 0, 0}}, torch::kInt64);
  torch::Tensor adv = torch::tensor({0.7, -1.2}, kF64);
};

r1::GrpoLossConfig config(const std::string& loss_type, double beta = 0.0) {
  r1::GrpoLossConfig cfg;
  cfg.loss_type = loss_type;
  cfg.beta = beta;
  return cfg;
}

// Loss and d(loss)/d(logp) of a single token with ratio r = exp(logp - old) and advantage a.
std::pair<double, double> one_token(double r, double a, const r1::GrpoLossConfig& cfg,
                                    r1::GrpoLossOut* out = nullptr) {
  auto logp = torch::tensor({{std::log(r)}}, kF64).requires_grad_(true);
  auto old = torch::zeros({1, 1}, kF64);
  auto o = r1::grpo_loss(logp, old, {}, torch::tensor({a}, kF64), torch::ones({1, 1}), cfg);
  o.loss.backward();
  if (out) *out = o;
  return {o.loss.item<double>(), logp.grad().item<double>()};
}

TEST(GrpoLoss, ZeroAdvantagesAndNoKlGiveZeroLossAndGradient) {
  for (const char* lt : {"grpo", "bnpo", "dr_grpo", "dapo"}) {
    Batch b;
    auto out = r1::grpo_loss(b.logps, b.old, {}, torch::zeros({2}, kF64), b.mask, config(lt));
    out.loss.backward();
    EXPECT_EQ(out.loss.item<double>(), 0.0) << lt;
    EXPECT_EQ(b.logps.grad().abs().max().item<double>(), 0.0) << lt;
    EXPECT_TRUE(std::isnan(out.kl_mean)) << lt;  // beta 0: no KL computed
  }
}

TEST(GrpoLoss, ClipEngagesExactlyBeyondTheBounds) {
  auto cfg = config("grpo");
  cfg.epsilon = 0.2;
  cfg.epsilon_high = 0.28;
  const double a = 1.5;
  // Positive advantage: unclipped up to 1 + epsilon_high (gradient r * a), flat beyond.
  auto [l1, g1] = one_token(1.27, a, cfg);
  EXPECT_NEAR(l1, -1.27 * a, 1e-12);
  EXPECT_NEAR(g1, -1.27 * a, 1e-12);
  r1::GrpoLossOut out;
  auto [l2, g2] = one_token(1.29, a, cfg, &out);
  EXPECT_NEAR(l2, -1.28 * a, 1e-12);
  EXPECT_EQ(g2, 0.0);
  EXPECT_EQ(out.clip_high_mean, 1.0);
  EXPECT_EQ(out.clip_low_mean, 0.0);
  // A small ratio with a positive advantage is never clipped (the min keeps r * a).
  auto [l3, g3] = one_token(0.5, a, cfg);
  EXPECT_NEAR(l3, -0.5 * a, 1e-12);
  EXPECT_NEAR(g3, -0.5 * a, 1e-12);
  // Negative advantage: clipped below 1 - epsilon, never above.
  auto [l4, g4] = one_token(0.79, -a, cfg, &out);
  EXPECT_NEAR(l4, 0.8 * a, 1e-12);
  EXPECT_EQ(g4, 0.0);
  EXPECT_EQ(out.clip_low_mean, 1.0);
  EXPECT_EQ(out.clip_region_mean, 1.0);
  auto [l5, g5] = one_token(0.81, -a, cfg);
  EXPECT_NEAR(l5, 0.81 * a, 1e-12);
  EXPECT_NEAR(g5, 0.81 * a, 1e-12);
  auto [l6, g6] = one_token(2.0, -a, cfg);
  EXPECT_NEAR(l6, 2.0 * a, 1e-12);
  EXPECT_NEAR(g6, 2.0 * a, 1e-12);
  // Two-sided clipping caps the unclipped ratio at delta for negative advantages.
  cfg.delta = 1.5;
  auto [l7, g7] = one_token(2.0, -a, cfg);
  EXPECT_NEAR(l7, 1.5 * a, 1e-12);
  EXPECT_EQ(g7, 0.0);
}

TEST(GrpoLoss, OnPolicyRatioIsOneAndGradientIsThePolicyGradient) {
  Batch b;
  auto out = r1::grpo_loss(b.logps, {}, {}, b.adv, b.mask, config("grpo"));
  out.loss.backward();
  // Per-sequence means of -A, then their mean.
  EXPECT_NEAR(out.loss.item<double>(), -(0.7 - 1.2) / 2, 1e-12);
  // d/dlogp_t = -A_b / (2 * len_b) on unmasked tokens, 0 on masked ones.
  auto want =
      torch::tensor({{-0.7 / 8, -0.7 / 8, -0.7 / 8, -0.7 / 8}, {1.2 / 4, 1.2 / 4, 0., 0.}}, kF64);
  EXPECT_TRUE(torch::allclose(b.logps.grad(), want, 0, 1e-12)) << b.logps.grad();
  EXPECT_EQ(out.clip_region_mean, 0.0);
}

TEST(GrpoLoss, AggregationNormalisers) {
  // With old undefined every token's loss is -A_b: the normalisers are visible directly.
  const double s = 4 * -0.7 + 2 * 1.2;  // masked sum of per-token losses
  auto loss = [](const r1::GrpoLossConfig& cfg, const r1::GrpoLossBatch& batch = {}) {
    Batch b;
    return r1::grpo_loss(b.logps, {}, {}, b.adv, b.mask, cfg, batch).loss.item<double>();
  };
  EXPECT_NEAR(loss(config("bnpo")), s / 6, 1e-12);
  EXPECT_NEAR(loss(config("dapo")), s / 6, 1e-12);  // one micro-batch: dapo == bnpo
  auto dr = config("dr_grpo");
  dr.max_completion_length = 10;
  EXPECT_NEAR(loss(dr), s / (2 * 10), 1e-12);  // constant, whatever the lengths
  r1::GrpoLossBatch global;
  global.num_items_in_batch = 30;  // the generation batch's tokens
  EXPECT_NEAR(loss(config("dapo"), global), s / 30, 1e-12);
  global.num_processes = 2;
  EXPECT_NEAR(loss(config("dapo"), global), s / 15, 1e-12);
  // Gradient accumulation: grpo/bnpo/dr_grpo divide by the steps; dapo by steps / generation steps.
  auto ga = config("bnpo");
  ga.gradient_accumulation_steps = 4;
  EXPECT_NEAR(loss(ga), s / 6 / 4, 1e-12);
  r1::GrpoLossBatch eval;
  eval.training = false;
  EXPECT_NEAR(loss(ga, eval), s / 6, 1e-12);
  ga.loss_type = "dapo";
  ga.steps_per_generation = 2;
  global.num_processes = 1;
  EXPECT_NEAR(loss(ga, global), s / (30.0 * 4 / 2), 1e-12);
  ga.steps_per_generation = 0;  // = gradient_accumulation_steps
  EXPECT_NEAR(loss(ga, global), s / 30, 1e-12);
}

TEST(GrpoLoss, MaskedTokensContributeNothing) {
  for (const char* lt : {"grpo", "bnpo", "dr_grpo", "dapo"}) {
    Batch a, b;
    // Change everything under the mask's zeros in b.
    auto hole = b.mask == 0;
    auto logps_b =
        torch::where(hole, torch::full_like(b.logps, -0.01), b.logps.detach()).requires_grad_(true);
    auto old_b = torch::where(hole, torch::full_like(b.old, -5.0), b.old);
    auto ref_b = torch::where(hole, torch::full_like(b.ref, -7.0), b.ref);
    auto oa = r1::grpo_loss(a.logps, a.old, a.ref, a.adv, a.mask, config(lt, 0.04));
    auto ob = r1::grpo_loss(logps_b, old_b, ref_b, b.adv, b.mask, config(lt, 0.04));
    oa.loss.backward();
    ob.loss.backward();
    EXPECT_NEAR(oa.loss.item<double>(), ob.loss.item<double>(), 1e-14) << lt;
    EXPECT_NEAR(oa.kl_mean, ob.kl_mean, 1e-14) << lt;
    EXPECT_EQ(logps_b.grad().masked_select(hole).abs().max().item<double>(), 0.0) << lt;
    EXPECT_TRUE(torch::allclose(a.logps.grad(), logps_b.grad(), 0, 1e-14)) << lt;
  }
  // A fully masked row (a truncated completion) leaves no NaN in the loss.
  Batch b;
  auto mask = r1::mask_truncated(b.mask, torch::tensor({false, true}));
  EXPECT_EQ(mask.sum().item<int64_t>(), 4);
  EXPECT_EQ(mask.dtype(), torch::kInt64);
  auto out = r1::grpo_loss(b.logps, b.old, {}, b.adv, mask, config("grpo"));
  EXPECT_TRUE(std::isfinite(out.loss.item<double>()));
}

TEST(GrpoLoss, KlIsK3AndBiasCorrectionOnlyChangesTheGradient) {
  // One token, A = 0: the loss is beta * k3; with d = ref - logp, k3 = e^d - d - 1.
  const double logp = -1.0, ref = -0.4, beta = 0.04, d = ref - logp;
  const double k3 = std::exp(d) - d - 1;
  for (bool corrected : {false, true}) {
    auto cfg = config("grpo", beta);
    cfg.use_bias_correction_kl = corrected;
    auto lp = torch::tensor({{logp}}, kF64).requires_grad_(true);
    auto out = r1::grpo_loss(lp, {}, torch::tensor({{ref}}, kF64), torch::zeros({1}, kF64),
                             torch::ones({1, 1}), cfg);
    out.loss.backward();
    EXPECT_NEAR(out.loss.item<double>(), beta * k3, 1e-15);
    EXPECT_NEAR(out.kl_mean, k3, 1e-15);
    // d k3 / d logp = 1 - e^d; the correction (ratio 1 with gradient 1) adds k3.
    const double want = beta * ((1 - std::exp(d)) + (corrected ? k3 : 0.0));
    EXPECT_NEAR(lp.grad().item<double>(), want, 1e-15) << corrected;
  }
}

TEST(GrpoAdvantages, TiedGroupsGetZeroAndStdIsBesselCorrected) {
  auto r = torch::tensor({1.0, 0.0, 0.0, 0.0, 0.5, 0.5, 0.5, 0.5}, kF64);
  for (const char* scale : {"group", "batch", "none"}) {
    auto adv = r1::group_advantages(r, 4, scale);
    EXPECT_TRUE(torch::equal(adv.slice(0, 4), torch::zeros({4}, kF64))) << scale;
  }
  // Group [1, 0, 0, 0]: mean 0.25, Bessel std sqrt(0.75 / 3) = 0.5. TRL's nanstd takes the
  // Bessel factor n / (n - 1) in float32 (torch's default dtype), as group_advantages does:
  // ~1e-8 relative off an exact float64 std.
  auto g = r1::group_advantages(r, 4, "group");
  EXPECT_NEAR(g[0].item<double>(), 0.75 / (0.5 + 1e-4), 1e-7);
  EXPECT_NEAR(g[1].item<double>(), -0.25 / (0.5 + 1e-4), 1e-7);
  auto n = r1::group_advantages(r, 4, "none");
  EXPECT_NEAR(n[0].item<double>(), 0.75, 1e-15);
  // Batch: each group's own mean, the batch's std (torch .std(): unbiased).
  auto b = r1::group_advantages(r, 4, "batch");
  EXPECT_NEAR(b[0].item<double>(), 0.75 / (r.std().item<double>() + 1e-4), 1e-7);
  // An unscorable (NaN) reward: left out of the mean, its own advantage 0.
  auto nan = std::numeric_limits<double>::quiet_NaN();
  auto u = r1::group_advantages(torch::tensor({1.0, nan, 0.0}, kF64), 3, "none");
  EXPECT_NEAR(u[0].item<double>(), 0.5, 1e-15);
  EXPECT_EQ(u[1].item<double>(), 0.0);
  EXPECT_THROW(r1::group_advantages(r, 3, "group"), r1::Error);
  EXPECT_THROW(r1::group_advantages(r, 4, "std"), r1::Error);
}

TEST(GrpoLoss, OverlongPenaltyAndEntropy) {
  EXPECT_EQ(r1::overlong_penalty(15, 20, 5), 0.0);
  EXPECT_DOUBLE_EQ(r1::overlong_penalty(16, 20, 5), -0.2);
  EXPECT_DOUBLE_EQ(r1::overlong_penalty(20, 20, 5), -1.0);
  EXPECT_EQ(r1::overlong_penalty(21, 20, 5), -1.0);
  EXPECT_EQ(r1::overlong_penalty(20, 20, 0), 0.0);
  EXPECT_THROW(r1::overlong_penalty(1, 20, 21), r1::Error);
  auto h = r1::token_entropy(torch::zeros({2, 3, 10}), 4);
  EXPECT_EQ(h.sizes(), (std::vector<int64_t>{2, 3}));
  EXPECT_TRUE(torch::allclose(h, torch::full({2, 3}, std::log(10.0)), 0, 1e-6));
}

TEST(GrpoLoss, BadConfigAndShapesNameTheField) {
  Batch b;
  auto expect_error = [&](const r1::GrpoLossConfig& cfg, const std::string& needle,
                          torch::Tensor ref = {}, torch::Tensor mask = {}) {
    try {
      r1::grpo_loss(b.logps, b.old, ref, b.adv, mask.defined() ? mask : b.mask, cfg);
      ADD_FAILURE() << "no error for " << needle;
    } catch (const r1::Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error(config("ppo"), "loss_type: 'ppo'");
  expect_error(config("grpo", 0.04), "ref_logps");
  expect_error(config("grpo"), "completion_mask", {}, torch::ones({2, 3}));
  auto cfg = config("grpo");
  cfg.importance_sampling_level = "group";
  expect_error(cfg, "importance_sampling_level: 'group'");
  cfg = config("dr_grpo");
  cfg.max_completion_length = 0;
  expect_error(cfg, "max_completion_length: 0");
}

}  // namespace
