// Unit tests of distill/kd_loss: the identities of the generalised JSD (beta 0 and 1 are the two
// KLs, symmetry, bounds), non-negativity, zero at student == teacher, gradients against central
// finite differences, masks and reductions, the chunked path against plain autograd, top-K with
// K == V against the full loss, dtypes, the config check and the on-policy draw.
#include <gtest/gtest.h>  // testing
#include <torch/torch.h>  // torch::Tensor

#include <cmath>   // std::log, std::isnan, std::isfinite
#include <limits>  // std::numeric_limits
#include <string>  // std::string
#include <vector>  // std::vector

#include "distill/kd_loss.h"        // r1::generalized_jsd_loss, r1::topk_jsd_loss, r1::KdConfig
#include "distill/teacher_cache.h"  // r1::teacher_topk
#include "toolkit/error.h"          // r1::Error

namespace {

const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);

torch::Tensor randn(std::vector<int64_t> shape, uint64_t seed, double scale = 2.0) {
  auto gen = at::detail::createCPUGenerator(seed);
  return torch::randn(shape, gen, kF64) * scale;
}

// Labels for (B, T) with -100 where `masked` is set.
torch::Tensor labels_with(int64_t B, int64_t T, const std::vector<std::pair<int, int>>& masked) {
  auto l = torch::ones({B, T}, torch::kInt64);
  for (auto [b, t] : masked) l[b][t] = -100;
  return l;
}

double full(const torch::Tensor& s, const torch::Tensor& t, double beta, double temp = 1.0,
            const std::string& reduction = "sum", const torch::Tensor& labels = {}) {
  return r1::generalized_jsd_loss(s, t, labels, beta, temp, reduction).item<double>();
}

// The textbook divergences, per position summed over the vocabulary.
torch::Tensor kl(const torch::Tensor& logp, const torch::Tensor& logq) {
  return (logp.exp() * (logp - logq)).sum(-1);
}

TEST(KdLoss, BetaZeroIsForwardKlAndOneIsReverseKl) {
  auto s = randn({2, 3, 7}, 1), t = randn({2, 3, 7}, 2, 3.0);
  for (double temp : {1.0, 0.6}) {
    auto ls = torch::log_softmax(s / temp, -1), lt = torch::log_softmax(t / temp, -1);
    EXPECT_NEAR(full(s, t, 0.0, temp), kl(lt, ls).sum().item<double>(), 1e-12);  // KL(P || S)
    EXPECT_NEAR(full(s, t, 1.0, temp), kl(ls, lt).sum().item<double>(), 1e-12);  // KL(S || P)
    // Reverse KL is forward KL with the roles swapped.
    EXPECT_NEAR(full(s, t, 1.0, temp), full(t, s, 0.0, temp), 1e-12);
    // JSD(beta) with M = beta P + (1 - beta) S, by hand.
    for (double beta : {0.5, 0.2}) {
      auto lm = torch::log(beta * lt.exp() + (1 - beta) * ls.exp());
      auto want = beta * kl(lt, lm) + (1 - beta) * kl(ls, lm);
      EXPECT_NEAR(full(s, t, beta, temp), want.sum().item<double>(), 1e-12) << beta;
    }
  }
}

TEST(KdLoss, JsdSymmetriesAndBounds) {
  auto s = randn({3, 4, 9}, 3), t = randn({3, 4, 9}, 4, 4.0);
  // Swapping student and teacher maps beta to 1 - beta; JSD(0.5) is symmetric.
  for (double beta : {0.5, 0.1, 0.3, 0.9})
    EXPECT_NEAR(full(s, t, beta), full(t, s, 1.0 - beta), 1e-12) << beta;
  // JSD(0.5) per position is at most log 2 (disjoint supports); the general bound is the
  // binary entropy of beta.
  auto per = r1::generalized_jsd_loss(s, t, {}, 0.5, 1.0, "none").sum(-1);
  EXPECT_LE(per.max().item<double>(), std::log(2.0));
  auto far_s = torch::zeros({1, 1, 4}, kF64), far_t = torch::zeros({1, 1, 4}, kF64);
  far_s[0][0][0] = 200.0;
  far_t[0][0][3] = 200.0;
  EXPECT_NEAR(full(far_s, far_t, 0.5), std::log(2.0), 1e-9);
}

TEST(KdLoss, NonNegativeAndZeroAtTheTeacher) {
  for (uint64_t seed = 0; seed < 5; ++seed) {
    auto s = randn({2, 5, 11}, 10 + seed, 3.0), t = randn({2, 5, 11}, 20 + seed, 3.0);
    for (double beta : {0.0, 0.25, 0.5, 0.75, 1.0}) {
      auto per = r1::generalized_jsd_loss(s, t, {}, beta, 1.0, "none").sum(-1);
      EXPECT_GE(per.min().item<double>(), -1e-12) << beta;
      auto same = s.clone().requires_grad_(true);
      auto loss = r1::generalized_jsd_loss(same, s, {}, beta, 0.8, "batchmean");
      loss.backward();
      EXPECT_NEAR(loss.item<double>(), 0.0, 1e-12) << beta;
      EXPECT_LT(same.grad().abs().max().item<double>(), 1e-12) << beta;
      // Top-K: a proper divergence over K + 1 buckets (tail) or K (renormalised), 0 at the
      // teacher.
      auto topk = r1::teacher_topk(t, 4, 1.0);
      for (bool tail : {true, false}) {
        EXPECT_GE(r1::topk_jsd_loss(s, topk.ids, topk.logprobs.to(torch::kFloat64), {}, beta, 1.0,
                                    "none", tail)
                      .sum(-1)
                      .min()
                      .item<double>(),
                  -1e-12);
        auto own = r1::teacher_topk(s, 4, 1.0);
        EXPECT_NEAR(
            r1::topk_jsd_loss(s, own.ids, own.logprobs, {}, beta, 1.0, "sum", tail).item<double>(),
            0.0, 1e-5);  // own log-probs rounded to float32
      }
    }
  }
}

// d(loss)/d(student) by central differences, element by element (float64, tiny shapes).
template <typename F>
torch::Tensor finite_difference(const torch::Tensor& x, F loss_of, double h = 1e-6) {
  auto grad = torch::zeros_like(x);
  auto flat = x.flatten();
  for (int64_t i = 0; i < flat.numel(); ++i) {
    auto plus = x.clone(), minus = x.clone();
    plus.view(-1)[i] += h;
    minus.view(-1)[i] -= h;
    grad.view(-1)[i] = (loss_of(plus) - loss_of(minus)) / (2 * h);
  }
  return grad;
}

TEST(KdLoss, GradientsMatchFiniteDifferences) {
  auto s = randn({2, 3, 5}, 5), t = randn({2, 3, 5}, 6, 3.0);
  auto labels = labels_with(2, 3, {{0, 0}, {1, 2}});
  auto ids_lp = r1::teacher_topk(t, 2, 1.3);
  auto teacher_lp = ids_lp.logprobs.to(torch::kFloat64);
  for (double beta : {0.0, 1.0, 0.5, 0.2}) {
    for (double temp : {1.0, 1.3}) {
      auto full_loss = [&](const torch::Tensor& x) {
        return r1::generalized_jsd_loss(x, t, labels, beta, temp, "batchmean").item<double>();
      };
      auto x = s.clone().requires_grad_(true);
      r1::generalized_jsd_loss(x, t, labels, beta, temp, "batchmean").backward();
      EXPECT_TRUE(torch::allclose(x.grad(), finite_difference(s, full_loss), 1e-6, 1e-8))
          << "full, beta " << beta << " T " << temp;
      for (bool tail : {true, false}) {
        auto topk_loss = [&](const torch::Tensor& y) {
          return r1::topk_jsd_loss(y, ids_lp.ids, teacher_lp, labels, beta, 1.3, "sum", tail)
              .item<double>();
        };
        auto y = s.clone().requires_grad_(true);
        r1::topk_jsd_loss(y, ids_lp.ids, teacher_lp, labels, beta, 1.3, "sum", tail).backward();
        EXPECT_TRUE(torch::allclose(y.grad(), finite_difference(s, topk_loss), 1e-6, 1e-8))
            << "top-K, beta " << beta << " tail " << tail;
      }
    }
  }
}

TEST(KdLoss, ChunkedPathEqualsPlainAutograd) {
  auto s = randn({3, 5, 13}, 7), t = randn({3, 5, 13}, 8, 3.0);
  auto labels = labels_with(3, 5, {{0, 0}, {0, 1}, {2, 4}});
  for (double beta : {0.0, 1.0, 0.4}) {
    // "none" runs in plain autograd; its sum must equal the chunked "sum", gradient included.
    auto a = s.clone().requires_grad_(true);
    auto plain = r1::generalized_jsd_loss(a, t, labels, beta, 0.9, "none").sum();
    plain.backward();
    for (int64_t chunk : {1, 2, 4, 1000}) {
      auto b = s.clone().requires_grad_(true);
      auto fast = r1::generalized_jsd_loss(b, t, labels, beta, 0.9, "sum", std::nullopt, chunk);
      fast.backward();
      EXPECT_NEAR(fast.item<double>(), plain.item<double>(), 1e-12) << chunk;
      EXPECT_TRUE(torch::allclose(b.grad(), a.grad(), 1e-10, 1e-13)) << chunk;
    }
  }
}

TEST(KdLoss, MasksAndReductions) {
  auto s = randn({2, 4, 6}, 9), t = randn({2, 4, 6}, 10, 3.0);
  auto labels = labels_with(2, 4, {{0, 0}, {0, 1}, {1, 3}});  // 5 positions kept
  const double sum = full(s, t, 0.5, 1.0, "sum", labels);
  EXPECT_NEAR(full(s, t, 0.5, 1.0, "batchmean", labels), sum / 5, 1e-12);
  EXPECT_NEAR(full(s, t, 0.5, 1.0, "mean", labels), sum / (5 * 6), 1e-12);
  EXPECT_NEAR(r1::generalized_jsd_loss(s, t, labels, 0.5, 1.0, "batchmean", 20.0).item<double>(),
              sum / 20, 1e-12);
  auto none = r1::generalized_jsd_loss(s, t, labels, 0.5, 1.0, "none");
  EXPECT_EQ(none.sizes(), (std::vector<int64_t>{5, 6}));
  // Without labels: batchmean divides by B (TRL's jsd.size(0)), "none" keeps the shape.
  EXPECT_NEAR(full(s, t, 0.5, 1.0, "batchmean"), full(s, t, 0.5, 1.0, "sum") / 2, 1e-12);
  EXPECT_EQ(r1::generalized_jsd_loss(s, t, {}, 0.5, 1.0, "none").sizes(), s.sizes());

  // Masked positions neither count nor receive gradient, whatever their logits.
  auto s2 = s.clone();
  s2[0][0] += 100.0;
  s2[1][3] = randn({6}, 11, 9.0);
  EXPECT_NEAR(full(s2, t, 0.5, 1.0, "sum", labels), sum, 1e-12);
  auto x = s.clone().requires_grad_(true);
  r1::generalized_jsd_loss(x, t, labels, 0.0, 1.0, "batchmean").backward();
  EXPECT_EQ(x.grad()[0][0].abs().sum().item<double>(), 0.0);
  EXPECT_EQ(x.grad()[1][3].abs().sum().item<double>(), 0.0);
  EXPECT_GT(x.grad()[0][2].abs().sum().item<double>(), 0.0);

  // Everything masked: batchmean and sum are 0 with a zero gradient, "mean" NaN (as TRL).
  auto all = torch::full({2, 4}, -100, torch::kInt64);
  auto y = s.clone().requires_grad_(true);
  auto zero = r1::generalized_jsd_loss(y, t, all, 0.5, 1.0, "batchmean");
  zero.backward();
  EXPECT_EQ(zero.item<double>(), 0.0);
  EXPECT_EQ(y.grad().abs().sum().item<double>(), 0.0);
  EXPECT_TRUE(std::isnan(full(s, t, 0.5, 1.0, "mean", all)));

  // The top-K loss masks and reduces the same way, over K + 1 (tail) or K columns.
  auto topk = r1::teacher_topk(t, 3, 1.0);
  auto lp = topk.logprobs.to(torch::kFloat64);
  const double tsum = r1::topk_jsd_loss(s, topk.ids, lp, labels, 0.5, 1.0, "sum").item<double>();
  EXPECT_NEAR(r1::topk_jsd_loss(s, topk.ids, lp, labels, 0.5, 1.0, "batchmean").item<double>(),
              tsum / 5, 1e-12);
  EXPECT_NEAR(r1::topk_jsd_loss(s, topk.ids, lp, labels, 0.5, 1.0, "mean").item<double>(),
              tsum / (5 * 4), 1e-12);
  EXPECT_EQ(r1::topk_jsd_loss(s, topk.ids, lp, labels, 0.5, 1.0, "none").sizes(),
            (std::vector<int64_t>{5, 4}));
  EXPECT_EQ(r1::topk_jsd_loss(s, topk.ids, lp, {}, 0.5, 1.0, "none", false).sizes(),
            (std::vector<int64_t>{2, 4, 3}));
  EXPECT_NEAR(r1::topk_jsd_loss(s2, topk.ids, lp, labels, 0.5, 1.0, "sum").item<double>(), tsum,
              1e-12);
}

TEST(KdLoss, TopKWithKEqualToVIsTheFullLoss) {
  auto s = randn({2, 3, 8}, 12), t = randn({2, 3, 8}, 13, 3.0);
  auto labels = labels_with(2, 3, {{1, 0}});
  for (double beta : {0.0, 1.0, 0.5, 0.3}) {
    for (double temp : {1.0, 0.7}) {
      auto a = s.clone().requires_grad_(true);
      auto want = r1::generalized_jsd_loss(a, t, labels, beta, temp, "batchmean");
      want.backward();
      auto topk = r1::teacher_topk(t, 8, temp);
      for (bool tail : {true, false}) {
        // float64 teacher log-probs, as the float64 loss sees them (teacher_topk returns float32).
        auto lt = torch::log_softmax(t / temp, -1).gather(-1, topk.ids.to(torch::kLong));
        auto b = s.clone().requires_grad_(true);
        auto got = r1::topk_jsd_loss(b, topk.ids, lt, labels, beta, temp, "batchmean", tail);
        got.backward();
        EXPECT_NEAR(got.item<double>(), want.item<double>(), 1e-9) << beta << " " << tail;
        EXPECT_TRUE(torch::allclose(b.grad(), a.grad(), 1e-7, 1e-9)) << beta << " " << tail;
      }
    }
  }
  // K == 1 renormalised is always 0 (why the tail is the default); with the tail it is not.
  auto top1 = r1::teacher_topk(t, 1, 1.0);
  EXPECT_EQ(
      r1::topk_jsd_loss(s, top1.ids, top1.logprobs, {}, 0.0, 1.0, "sum", false).item<double>(),
      0.0);
  EXPECT_GT(r1::topk_jsd_loss(s, top1.ids, top1.logprobs, {}, 0.0, 1.0, "sum", true).item<double>(),
            0.01);
}

TEST(KdLoss, Float32AndBfloat16Inputs) {
  auto s64 = randn({2, 3, 50}, 14), t64 = randn({2, 3, 50}, 15, 3.0);
  auto labels = labels_with(2, 3, {{0, 0}});
  for (double beta : {0.0, 0.5, 1.0}) {
    auto want = r1::generalized_jsd_loss(s64, t64, labels, beta, 1.0).item<double>();
    for (auto dtype : {torch::kFloat32, torch::kBFloat16}) {
      // bfloat16 logits are rounded before the loss: compare with the float64 loss of the same
      // rounded logits.
      auto s = s64.to(dtype).requires_grad_(true), t = t64.to(dtype);
      auto loss = r1::generalized_jsd_loss(s, t, labels, beta, 1.0);
      loss.backward();
      EXPECT_EQ(loss.scalar_type(), torch::kFloat32);
      EXPECT_EQ(s.grad().scalar_type(), dtype);
      const double ref =
          dtype == torch::kFloat32
              ? want
              : r1::generalized_jsd_loss(s64.to(dtype).to(torch::kFloat64),
                                         t64.to(dtype).to(torch::kFloat64), labels, beta, 1.0)
                    .item<double>();
      EXPECT_NEAR(loss.item<double>(), ref, 1e-5 * std::abs(ref) + 1e-6) << beta;
      auto topk = r1::teacher_topk(t, 5, 1.0);
      auto tl = r1::topk_jsd_loss(s, topk.ids, topk.logprobs, labels, beta, 1.0);
      EXPECT_EQ(tl.scalar_type(), torch::kFloat32);
      EXPECT_TRUE(std::isfinite(tl.item<double>()));
    }
  }
}

TEST(KdLoss, PaddedTopKEntriesAreIgnored) {
  // A teacher that knows fewer than K entries at a position pads them with log-prob -inf: the
  // loss equals the one over the known entries only.
  auto s = randn({1, 2, 6}, 16), t = randn({1, 2, 6}, 17, 3.0);
  auto top2 = r1::teacher_topk(t, 2, 1.0), top4 = r1::teacher_topk(t, 4, 1.0);
  auto ids = top4.ids.clone(), lp = top4.logprobs.clone();
  ids.narrow(-1, 2, 2).fill_(0);
  lp.narrow(-1, 2, 2).fill_(-std::numeric_limits<float>::infinity());
  for (bool tail : {true, false})
    for (double beta : {0.0, 0.5, 1.0})
      EXPECT_NEAR(
          r1::topk_jsd_loss(s, ids, lp, {}, beta, 1.0, "sum", tail).item<double>(),
          r1::topk_jsd_loss(s, top2.ids, top2.logprobs, {}, beta, 1.0, "sum", tail).item<double>(),
          1e-12)
          << tail << " " << beta;
}

TEST(KdLoss, BadInputsAreRejected) {
  auto s = randn({1, 2, 4}, 18), t = randn({1, 2, 4}, 19);
  EXPECT_THROW(r1::generalized_jsd_loss(s, t, {}, 0.5, 1.0, "avg"), c10::Error);
  EXPECT_THROW(r1::generalized_jsd_loss(s, t, {}, 1.5, 1.0), c10::Error);
  EXPECT_THROW(r1::generalized_jsd_loss(s, t, {}, 0.5, 0.0), c10::Error);
  EXPECT_THROW(r1::generalized_jsd_loss(s, randn({1, 2, 5}, 1), {}, 0.5), c10::Error);
  EXPECT_THROW(r1::generalized_jsd_loss(s, t, torch::ones({2, 1}, torch::kInt64)), c10::Error);
  auto ids = torch::full({1, 2, 2}, 4, torch::kInt32);  // == V: out of the vocabulary
  EXPECT_THROW(r1::topk_jsd_loss(s, ids, torch::zeros({1, 2, 2}), {}), c10::Error);
  EXPECT_THROW(r1::topk_jsd_loss(s, ids.narrow(-1, 0, 1), torch::zeros({1, 2, 2}), {}), c10::Error);
  EXPECT_THROW(r1::teacher_topk(t, 5), c10::Error);
  EXPECT_THROW(r1::check_kd_reduction("avg"), r1::Error);
}

TEST(KdConfig, CheckNamesTheField) {
  r1::check_kd_config(r1::KdConfig{});
  auto message = [](r1::KdConfig cfg) {
    try {
      r1::check_kd_config(cfg);
    } catch (const r1::Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  r1::KdConfig c;
  c.beta = 1.5;
  EXPECT_NE(message(c).find("beta"), std::string::npos);
  c = {};
  c.lmbda = -0.1;
  EXPECT_NE(message(c).find("lmbda"), std::string::npos);
  c = {};
  c.temperature = 0;
  EXPECT_NE(message(c).find("temperature"), std::string::npos);
  c = {};
  c.top_k = -1;
  EXPECT_NE(message(c).find("top_k"), std::string::npos);
  c = {};
  c.reduction = "avg";
  EXPECT_NE(message(c).find("avg"), std::string::npos);
}

TEST(KdConfig, OnPolicyDrawIsSeededAndHasRateLmbda) {
  for (double lmbda : {0.0, 0.3, 0.5, 1.0}) {
    int on = 0;
    const int n = 20000;
    for (int step = 0; step < n; ++step) {
      const bool a = r1::kd_step_on_policy(lmbda, 42, step);
      EXPECT_EQ(a, r1::kd_step_on_policy(lmbda, 42, step));  // a pure function of (seed, step)
      on += a ? 1 : 0;
    }
    EXPECT_NEAR(static_cast<double>(on) / n, lmbda, 0.015) << lmbda;
    if (lmbda == 0.0) {
      EXPECT_EQ(on, 0);
    }
    if (lmbda == 1.0) {
      EXPECT_EQ(on, n);
    }
  }
  int differ = 0;
  for (int step = 0; step < 200; ++step)
    differ += r1::kd_step_on_policy(0.5, 1, step) != r1::kd_step_on_policy(0.5, 2, step);
  EXPECT_GT(differ, 50);  // another seed, another sequence
}

TEST(TeacherTopK, MatchesSortedLogSoftmax) {
  auto logits = randn({2, 3, 20}, 20, 3.0).to(torch::kFloat32);
  for (double temp : {1.0, 0.6}) {
    for (int64_t chunk : {1, 4, 64}) {
      auto topk = r1::teacher_topk(logits, 5, temp, chunk);
      ASSERT_EQ(topk.ids.sizes(), (std::vector<int64_t>{2, 3, 5}));
      auto lp = torch::log_softmax(logits / temp, -1);
      auto sorted = std::get<0>(lp.sort(-1, /*descending=*/true)).narrow(-1, 0, 5);
      EXPECT_TRUE(torch::allclose(topk.logprobs, sorted, 1e-6, 1e-6));
      EXPECT_TRUE(
          torch::allclose(lp.gather(-1, topk.ids.to(torch::kLong)), topk.logprobs, 1e-6, 1e-6));
    }
  }
}

}  // namespace
