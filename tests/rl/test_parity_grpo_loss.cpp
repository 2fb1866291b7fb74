// Parity of rl/grpo_loss with TRL 1.16.0 on the goldens of tests/reference/make_grpo_goldens.py:
// loss, d(loss)/d(logps) (autograd through our loss) and logged metrics for every loss_type x
// clip x beta x old-log-probs case, plus advantages, overlong punishment and entropy. Float64.
#include <gtest/gtest.h>  // testing
#include <torch/torch.h>  // torch::Tensor

#include <algorithm>  // std::max
#include <cmath>      // std::abs, std::isnan
#include <cstdio>     // std::printf
#include <limits>     // std::numeric_limits
#include <string>     // std::string
#include <vector>     // std::vector

#include "rl/grpo_loss.h"  // r1::grpo_loss, r1::group_advantages, ...
#include "toolkit/json.h"  // r1::read_json_file

namespace {

using nlohmann::json;

constexpr double kRelTol = 1e-10;  // float64 end to end; observed: bit-identical
constexpr double kAbsTol = 1e-13;  // for values near zero

const json& goldens() {
  static const json g = r1::read_json_file("tests/data/goldens/grpo_loss.json");
  return g;
}

double num(const json& v) {
  return v.is_null() ? std::numeric_limits<double>::quiet_NaN() : v.get<double>();
}

torch::Tensor tensor(const json& values, std::vector<int64_t> shape,
                     torch::ScalarType dtype = torch::kFloat64) {
  std::vector<double> v;
  for (const auto& x : values) v.push_back(num(x));
  return torch::tensor(v, torch::kFloat64).view(shape).to(dtype);
}

// Worst errors over a test, printed at its end.
struct Worst {
  double abs = 0, rel = 0;
  void add(double got, double want) {
    const double a = std::abs(got - want);
    abs = std::max(abs, a);
    if (want != 0) rel = std::max(rel, a / std::abs(want));
  }
  void print(const char* what) const {
    std::printf("[ %s ] max abs err %.3g, max rel err %.3g\n", what, abs, rel);
  }
};

void expect_close(double got, double want, const std::string& what, Worst& worst) {
  if (std::isnan(want)) {
    EXPECT_TRUE(std::isnan(got)) << what << ": got " << got << ", want NaN";
    return;
  }
  worst.add(got, want);
  EXPECT_NEAR(got, want, kAbsTol + kRelTol * std::abs(want)) << what;
}

TEST(GrpoLossParity, LossGradientAndMetricsMatchTrl) {
  const auto& g = goldens();
  ASSERT_EQ(g["trl"].get<std::string>(), "1.16.0") << "goldens from another TRL: regenerate";
  Worst loss_err, grad_err, metric_err;
  int n = 0;
  for (const auto& c : g["loss_cases"]) {
    const auto& in = g["inputs"][c["input"].get<int>()];
    const int64_t B = in["B"], T = in["T"];
    r1::GrpoLossConfig cfg;
    cfg.loss_type = c["loss_type"];
    cfg.epsilon = c["epsilon"];
    cfg.epsilon_high = c["epsilon_high"].get<double>();
    if (!c["delta"].is_null()) cfg.delta = c["delta"].get<double>();
    cfg.beta = c["beta"];
    cfg.importance_sampling_level = c["importance_sampling_level"];
    cfg.use_bias_correction_kl = c["use_bias_correction_kl"];
    cfg.max_completion_length = c["max_completion_length"];
    cfg.gradient_accumulation_steps = c["gradient_accumulation_steps"];
    cfg.steps_per_generation = c["steps_per_generation"];
    r1::GrpoLossBatch batch;
    batch.num_items_in_batch = c["num_items_in_batch"];
    batch.training = c["training"];
    batch.entropies = tensor(in["entropies"], {B, T});

    auto logps = tensor(in["logps"], {B, T}).requires_grad_(true);
    auto old = c["old"].get<bool>() ? tensor(in["old_logps"], {B, T}) : torch::Tensor();
    auto ref = cfg.beta != 0.0 ? tensor(in["ref_logps"], {B, T}) : torch::Tensor();
    auto mask = tensor(in["mask"], {B, T}, torch::kInt64);
    auto adv = tensor(in["advantages"], {B});
    const std::string name = "case " + std::to_string(n) + " (" +
                             c["loss_type"].get<std::string>() + ", eps_high " +
                             std::to_string(*cfg.epsilon_high) + ", beta " +
                             std::to_string(cfg.beta) + (old.defined() ? ", old" : "") + ")";

    auto out = r1::grpo_loss(logps, old, ref, adv, mask, cfg, batch);
    out.loss.backward();
    expect_close(out.loss.item<double>(), c["loss"], name + " loss", loss_err);
    auto grad = logps.grad().flatten();
    const auto& want_grad = c["grad"];
    ASSERT_EQ(grad.numel(), static_cast<int64_t>(want_grad.size())) << name;
    for (int64_t i = 0; i < grad.numel(); ++i)
      expect_close(grad[i].item<double>(), want_grad[i], name + " grad[" + std::to_string(i) + "]",
                   grad_err);

    const auto& m = c["metrics"];
    expect_close(out.entropy_mean, num(m["entropy"]), name + " entropy", metric_err);
    if (cfg.beta != 0.0)
      expect_close(out.kl_mean, num(m["kl"]), name + " kl", metric_err);
    else
      EXPECT_FALSE(m.contains("kl")) << name;
    expect_close(out.clip_low_mean, num(m["clip_ratio/low_mean"]), name + " low_mean", metric_err);
    expect_close(out.clip_high_mean, num(m["clip_ratio/high_mean"]), name + " high_mean",
                 metric_err);
    expect_close(out.clip_region_mean, num(m["clip_ratio/region_mean"]), name + " region_mean",
                 metric_err);
    expect_close(out.clip_low_min, num(m["clip_ratio/low_min"]), name + " low_min", metric_err);
    expect_close(out.clip_high_max, num(m["clip_ratio/high_max"]), name + " high_max", metric_err);
    ++n;
  }
  EXPECT_GE(n, 32);  // the full grid at least
  std::printf("[ %d loss cases ]\n", n);
  loss_err.print("loss");
  grad_err.print("grad");
  metric_err.print("metrics");
}

TEST(GrpoLossParity, AdvantagesMatchTrl) {
  Worst err;
  int n = 0;
  for (const auto& c : goldens()["advantage_cases"]) {
    const int64_t N = static_cast<int64_t>(c["rewards"].size());
    auto adv = r1::group_advantages(tensor(c["rewards"], {N}), c["group_size"].get<int64_t>(),
                                    c["scale_rewards"].get<std::string>());
    const std::string name = "G " + std::to_string(c["group_size"].get<int>()) + " scale " +
                             c["scale_rewards"].get<std::string>();
    for (int64_t i = 0; i < N; ++i)
      expect_close(adv[i].item<double>(), c["advantages"][i], name + " [" + std::to_string(i) + "]",
                   err);
    ++n;
  }
  EXPECT_EQ(n, 12);
  err.print("advantages");
}

TEST(GrpoLossParity, OverlongPunishmentMatchesTrl) {
  for (const auto& c : goldens()["overlong_cases"]) {
    const int64_t max_len = c["max_completion_length"], buffer = c["overlong_buffer_len"];
    for (size_t i = 0; i < c["lengths"].size(); ++i) {
      const int64_t len = c["lengths"][i];
      EXPECT_NEAR(r1::overlong_penalty(len, max_len, buffer), c["penalties"][i].get<double>(),
                  1e-15)
          << "length " << len << " max " << max_len << " buffer " << buffer;
    }
  }
}

TEST(GrpoLossParity, TokenEntropyMatchesTrl) {
  Worst err;
  for (const auto& c : goldens()["entropy_cases"]) {
    auto shape = c["shape"].get<std::vector<int64_t>>();
    auto logits = tensor(c["logits"], shape);
    for (int64_t chunk : {1, 2, 128}) {
      auto h = r1::token_entropy(logits, chunk).flatten();
      for (int64_t i = 0; i < h.numel(); ++i)
        expect_close(h[i].item<double>(), c["entropy"][i], "entropy[" + std::to_string(i) + "]",
                     err);
    }
  }
  err.print("entropy");
}

}  // namespace
