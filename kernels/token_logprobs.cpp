// Chunked per-token log-probs (see token_logprobs.h). Gradient of log p(t) w.r.t. the logits is
// onehot(t) - softmax; per chunk that is g * (onehot_c - exp(logits_c - lse)) / temperature.
#include "kernels/token_logprobs.h"

#include <torch/torch.h>  // torch ops, torch::autograd::Function

namespace r1 {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct TokenLogprobs : public torch::autograd::Function<TokenLogprobs> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& hidden,
                               const torch::Tensor& weight, const torch::Tensor& targets,
                               double temperature, int64_t chunk) {
    const int64_t N = hidden.size(0), V = weight.size(0);
    auto h = hidden.to(torch::kFloat);
    auto lse = torch::full({N}, -std::numeric_limits<float>::infinity(), h.options());
    auto target_logit = torch::zeros({N}, h.options());
    for (int64_t s = 0; s < V; s += chunk) {
      const int64_t n = std::min(chunk, V - s);
      auto logits = torch::mm(h, weight.narrow(0, s, n).to(torch::kFloat).t()) / temperature;
      lse = torch::logaddexp(lse, torch::logsumexp(logits, 1));
      auto in = (targets >= s).logical_and(targets < s + n);
      auto local = (targets - s).clamp(0, n - 1).unsqueeze(1);
      target_logit = torch::where(in, logits.gather(1, local).squeeze(1), target_logit);
    }
    ctx->save_for_backward({hidden, weight, targets, lse});
    ctx->saved_data["temperature"] = temperature;
    ctx->saved_data["chunk"] = chunk;
    return target_logit - lse;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_out) {
    auto saved = ctx->get_saved_variables();
    auto hidden = saved[0], weight = saved[1], targets = saved[2], lse = saved[3];
    const double temperature = ctx->saved_data["temperature"].toDouble();
    const int64_t chunk = ctx->saved_data["chunk"].toInt();
    const int64_t V = weight.size(0);
    auto h = hidden.to(torch::kFloat);
    auto g = grad_out[0].to(torch::kFloat).unsqueeze(1);  // (N, 1)
    auto grad_h = torch::zeros_like(h);
    auto grad_w = torch::zeros(weight.sizes(), h.options());
    for (int64_t s = 0; s < V; s += chunk) {
      const int64_t n = std::min(chunk, V - s);
      auto w = weight.narrow(0, s, n).to(torch::kFloat);
      auto logits = torch::mm(h, w.t()) / temperature;
      auto gl = -torch::exp(logits - lse.unsqueeze(1));
      auto in = (targets >= s).logical_and(targets < s + n);
      auto local = (targets - s).clamp(0, n - 1).unsqueeze(1);
      gl.scatter_add_(1, local, in.to(torch::kFloat).unsqueeze(1));
      gl = gl * g / temperature;  // (N, n)
      grad_h += torch::mm(gl, w);
      grad_w.narrow(0, s, n).copy_(torch::mm(gl.t(), h));
    }
    return {grad_h.to(hidden.scalar_type()), grad_w.to(weight.scalar_type()), {}, {}, {}};
  }
};

}  // namespace

torch::Tensor token_logprobs(const torch::Tensor& hidden, const torch::Tensor& weight,
                             const torch::Tensor& targets, double temperature, int64_t chunk) {
  TORCH_CHECK(hidden.dim() == 2 && weight.dim() == 2 && hidden.size(1) == weight.size(1),
              "token_logprobs: hidden must be (N, C) and weight (V, C)");
  TORCH_CHECK(targets.dim() == 1 && targets.size(0) == hidden.size(0) &&
                  targets.scalar_type() == torch::kLong,
              "token_logprobs: targets must be (N) int64");
  TORCH_CHECK(temperature > 0 && chunk > 0, "token_logprobs: temperature and chunk must be > 0");
  return TokenLogprobs::apply(hidden, weight, targets, temperature, chunk);
}

}  // namespace r1
