// AdamW, the schedule and clipping (see optim.h). The AdamW update repeats torch's C++
// torch::optim::AdamW step op for op (decay, moments, bias corrections, addcdiv), so tests can
// compare the two for bit equality in float32.
#include "rl/optim.h"

#include <torch/torch.h>  // torch ops, torch::NoGradGuard

#include <cmath>  // std::cos, std::pow, std::sqrt

#include "toolkit/error.h"  // r1::Error, r1::check

namespace r1 {

AdamW::AdamW(std::vector<std::pair<std::string, torch::Tensor>> params, AdamWConfig config)
    : params_(std::move(params)), config_(config) {
  torch::NoGradGuard no_grad;
  for (const auto& [name, p] : params_) {
    const bool master = p.scalar_type() != torch::kFloat;
    master_.push_back(master ? p.detach().to(torch::kFloat).clone() : torch::Tensor());
    exp_avg_.push_back(torch::zeros(p.sizes(), p.options().dtype(torch::kFloat)));
    exp_avg_sq_.push_back(torch::zeros_like(exp_avg_.back()));
  }
}

void AdamW::step(double lr, double grad_scale) {
  torch::NoGradGuard no_grad;
  ++steps_;
  const double b1 = config_.beta1, b2 = config_.beta2;
  const double bias_correction1 = 1 - std::pow(b1, static_cast<double>(steps_));
  const double bias_correction2 = 1 - std::pow(b2, static_cast<double>(steps_));
  const double step_size = lr / bias_correction1;
  for (size_t i = 0; i < params_.size(); ++i) {
    auto& p = params_[i].second;
    if (!p.grad().defined()) continue;
    auto grad = p.grad().to(torch::kFloat);
    if (grad_scale != 1.0) grad = grad * grad_scale;
    torch::Tensor w = master_[i].defined() ? master_[i] : p;  // float32, updated in place
    if (config_.weight_decay != 0 && p.dim() >= 2) w.mul_(1 - lr * config_.weight_decay);
    exp_avg_[i].mul_(b1).add_(grad, 1 - b1);
    exp_avg_sq_[i].mul_(b2).addcmul_(grad, grad, 1 - b2);
    auto denom = (exp_avg_sq_[i].sqrt() / std::sqrt(bias_correction2)).add_(config_.eps);
    w.addcdiv_(exp_avg_[i], denom, -step_size);
    if (master_[i].defined()) p.copy_(w);  // rounds to the parameter's dtype
  }
}

void AdamW::zero_grad() {
  for (auto& [name, p] : params_) p.mutable_grad().reset();
}

std::vector<std::pair<std::string, torch::Tensor>> AdamW::state() const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  out.emplace_back("adamw.steps", torch::tensor(steps_, torch::kLong));
  for (size_t i = 0; i < params_.size(); ++i) {
    const auto& name = params_[i].first;
    out.emplace_back("exp_avg/" + name, exp_avg_[i].cpu());
    out.emplace_back("exp_avg_sq/" + name, exp_avg_sq_[i].cpu());
    if (master_[i].defined()) out.emplace_back("master/" + name, master_[i].cpu());
  }
  return out;
}

void AdamW::load_state_tensors(const std::vector<std::pair<std::string, torch::Tensor>>& found,
                               const std::string& origin) {
  const auto expected = state();
  for (size_t i = 0; i < expected.size(); ++i) {
    const auto& [name, want] = expected[i];
    const auto& got = found[i].second;
    check(got.defined(),
          origin + ": no tensor \"" + name + "\" (the optimiser state does not match this model)");
    check(got.sizes() == want.sizes() && got.scalar_type() == want.scalar_type(),
          origin + ": tensor \"" + name + "\" is " + c10::str(got.scalar_type(), got.sizes()) +
              ", expected " + c10::str(want.scalar_type(), want.sizes()));
  }
  torch::NoGradGuard no_grad;
  steps_ = found[0].second.item<int64_t>();
  size_t k = 1;
  for (size_t i = 0; i < params_.size(); ++i) {
    exp_avg_[i].copy_(found[k++].second);
    exp_avg_sq_[i].copy_(found[k++].second);
    if (master_[i].defined()) {
      master_[i].copy_(found[k++].second);
      params_[i].second.copy_(master_[i]);
    }
  }
}

double LrSchedule::at(int64_t step) const {
  if (step < warmup_steps)
    return lr * static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, warmup_steps));
  const double progress = static_cast<double>(step - warmup_steps) /
                          static_cast<double>(std::max<int64_t>(1, total_steps - warmup_steps));
  const double cosine = 0.5 * (1.0 + std::cos(M_PI * progress));
  return lr * (cosine * (1.0 - min_lr_ratio) + min_lr_ratio);
}

double global_grad_norm(const std::vector<std::pair<std::string, torch::Tensor>>& params) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> norms;
  for (const auto& [name, p] : params)
    if (p.grad().defined()) norms.push_back(p.grad().to(torch::kFloat).norm().cpu());
  if (norms.empty()) return 0.0;
  return torch::stack(norms).norm().item<double>();
}

double clip_coefficient(double norm, double max_norm) {
  if (max_norm <= 0) return 1.0;
  return std::min(1.0, max_norm / (norm + 1e-6));
}

}  // namespace r1
