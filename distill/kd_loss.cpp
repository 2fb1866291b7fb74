// Generalised JSD losses (see kd_loss.h). The full-logit loss is an autograd Function over chunks
// of positions: forward keeps per-position sums, backward recomputes each chunk and writes its
// analytic gradient, with s = log S, t = log P, m = log M:
//   dL/ds = -P (beta 0),  S (s - t + 1) (beta 1),  (1 - beta) S (s - m) (otherwise),
//   dL/dz = (dL/ds - S * sum_v dL/ds) / temperature   (through log_softmax(z / temperature)).
// The top-K loss gathers the student's log-softmax at K ids by a chunked Function, then follows
// TRL's sparse code on the small (n, K + 1) tensors in plain autograd.
#include "distill/kd_loss.h"

#include <torch/torch.h>  // torch ops, torch::autograd::Function

#include <algorithm>  // std::min, std::max
#include <cmath>      // std::log, std::log1p, std::isfinite
#include <limits>     // std::numeric_limits
#include <tuple>      // std::tie
#include <utility>    // std::pair
#include <vector>     // std::vector

#include "toolkit/error.h"     // r1::Error, r1::check
#include "toolkit/sampling.h"  // r1::SampleRng, r1::derive_seed

namespace r1 {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

constexpr double kInf = std::numeric_limits<double>::infinity();

// float64 stays float64; anything else is computed in float32.
torch::ScalarType compute_dtype(const torch::Tensor& t) {
  return t.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
}

// F.kl_div(input, target, log_target=True) elementwise: exp(target) * (target - input), and 0
// where the target's probability is 0 (where TRL's formula gives NaN).
torch::Tensor kl_terms(const torch::Tensor& input, const torch::Tensor& target) {
  return torch::where(target > -kInf, torch::exp(target) * (target - input),
                      torch::zeros_like(target));
}

// log M = log((1 - beta) S + beta P).
torch::Tensor mixture_log(const torch::Tensor& s, const torch::Tensor& t, double beta) {
  return torch::logaddexp(s + std::log1p(-beta), t + std::log(beta));
}

// The generalised JSD's elementwise terms from student and teacher log-probs (TRL's formula).
torch::Tensor jsd_terms(const torch::Tensor& s, const torch::Tensor& t, double beta) {
  if (beta == 0.0) return kl_terms(s, t);
  if (beta == 1.0) return kl_terms(t, s);
  auto m = mixture_log(s, t, beta);
  return beta * kl_terms(m, t) + (1.0 - beta) * kl_terms(m, s);
}

// Log-probs at `temperature` of rows `idx` of logits (N, V), in dtype.
torch::Tensor rows_log_softmax(const torch::Tensor& logits, const torch::Tensor& idx,
                               double temperature, torch::ScalarType dtype) {
  auto z = logits.index_select(0, idx).to(dtype);
  if (temperature != 1.0) z = z / temperature;
  return torch::log_softmax(z, -1);
}

// Per-position sums of jsd_terms over the vocabulary for rows `rows` of (N, V) logits.
struct JsdRows : public torch::autograd::Function<JsdRows> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& student,
                               const torch::Tensor& teacher, const torch::Tensor& rows, double beta,
                               double temperature, int64_t chunk) {
    const auto dtype = compute_dtype(student);
    const int64_t n = rows.size(0);
    auto out = torch::empty({n}, student.options().dtype(dtype));
    for (int64_t i = 0; i < n; i += chunk) {
      auto idx = rows.narrow(0, i, std::min(chunk, n - i));
      auto s = rows_log_softmax(student, idx, temperature, dtype);
      auto t = rows_log_softmax(teacher, idx, temperature, dtype);
      out.narrow(0, i, idx.size(0)).copy_(jsd_terms(s, t, beta).sum(-1));
    }
    ctx->save_for_backward({student, teacher, rows});
    ctx->saved_data["beta"] = beta;
    ctx->saved_data["temperature"] = temperature;
    ctx->saved_data["chunk"] = chunk;
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_out) {
    auto saved = ctx->get_saved_variables();
    auto student = saved[0], teacher = saved[1], rows = saved[2];
    const double beta = ctx->saved_data["beta"].toDouble();
    const double temperature = ctx->saved_data["temperature"].toDouble();
    const int64_t chunk = ctx->saved_data["chunk"].toInt();
    const auto dtype = compute_dtype(student);
    auto g = grad_out[0].to(dtype);
    auto grad = torch::zeros_like(student);  // (N, V): the one full-size tensor
    const int64_t n = rows.size(0);
    for (int64_t i = 0; i < n; i += chunk) {
      auto idx = rows.narrow(0, i, std::min(chunk, n - i));
      auto s = rows_log_softmax(student, idx, temperature, dtype);
      auto t = rows_log_softmax(teacher, idx, temperature, dtype);
      auto ps = torch::exp(s);
      auto zero = torch::zeros_like(s);
      torch::Tensor gs;  // dL/ds
      if (beta == 0.0) {
        gs = -torch::exp(t);
      } else if (beta == 1.0) {
        gs = torch::where(s > -kInf, ps * (s - t + 1.0), zero);
      } else {
        gs = (1.0 - beta) * torch::where(s > -kInf, ps * (s - mixture_log(s, t, beta)), zero);
      }
      auto gz =
          (gs - ps * gs.sum(-1, true)) * (g.narrow(0, i, idx.size(0)).unsqueeze(1) / temperature);
      grad.index_copy_(0, idx, gz.to(grad.scalar_type()));
    }
    return {grad, {}, {}, {}, {}, {}};
  }
};

// Student log-softmax(logits / temperature) at ids (n, K) of rows `rows` of (N, V) logits.
struct GatherLogSoftmax : public torch::autograd::Function<GatherLogSoftmax> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& student,
                               const torch::Tensor& rows, const torch::Tensor& ids,
                               double temperature, int64_t chunk) {
    const auto dtype = compute_dtype(student);
    const int64_t n = rows.size(0);
    auto out = torch::empty({n, ids.size(1)}, student.options().dtype(dtype));
    auto lse = torch::empty({n}, student.options().dtype(dtype));
    for (int64_t i = 0; i < n; i += chunk) {
      const int64_t c = std::min(chunk, n - i);
      auto z = student.index_select(0, rows.narrow(0, i, c)).to(dtype);
      if (temperature != 1.0) z = z / temperature;
      auto l = torch::logsumexp(z, -1, true);
      out.narrow(0, i, c).copy_(z.gather(1, ids.narrow(0, i, c)) - l);
      lse.narrow(0, i, c).copy_(l.squeeze(1));
    }
    ctx->save_for_backward({student, rows, ids, lse});
    ctx->saved_data["temperature"] = temperature;
    ctx->saved_data["chunk"] = chunk;
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_out) {
    auto saved = ctx->get_saved_variables();
    auto student = saved[0], rows = saved[1], ids = saved[2], lse = saved[3];
    const double temperature = ctx->saved_data["temperature"].toDouble();
    const int64_t chunk = ctx->saved_data["chunk"].toInt();
    const auto dtype = compute_dtype(student);
    auto g = grad_out[0].to(dtype);  // (n, K)
    auto grad = torch::zeros_like(student);
    const int64_t n = rows.size(0);
    for (int64_t i = 0; i < n; i += chunk) {
      const int64_t c = std::min(chunk, n - i);
      auto idx = rows.narrow(0, i, c);
      auto z = student.index_select(0, idx).to(dtype);
      if (temperature != 1.0) z = z / temperature;
      auto gc = g.narrow(0, i, c);
      auto gz = -torch::exp(z - lse.narrow(0, i, c).unsqueeze(1)) * gc.sum(-1, true);
      gz.scatter_add_(1, ids.narrow(0, i, c), gc);
      if (temperature != 1.0) gz = gz / temperature;
      grad.index_copy_(0, idx, gz.to(grad.scalar_type()));
    }
    return {grad, {}, {}, {}, {}};
  }
};

// TRL's _add_tail_bucket: appends log(1 - sum exp(log_probs)), the sum's log clamped to -1e-7.
std::pair<torch::Tensor, torch::Tensor> add_tail_bucket(const torch::Tensor& log_probs,
                                                        const torch::Tensor& valid) {
  auto log_sum = torch::logsumexp(log_probs, -1, true).clamp_max(-1e-7);
  auto tail = torch::log(-torch::expm1(log_sum));
  return {torch::cat({log_probs, tail}, -1),
          torch::cat({valid, torch::ones_like(valid.narrow(-1, 0, 1))}, -1)};
}

// TRL's _jsd_divergence with a support mask: terms outside the support are 0.
torch::Tensor sparse_jsd_terms(const torch::Tensor& s, const torch::Tensor& t, double beta,
                               const torch::Tensor& support) {
  auto zero = torch::zeros_like(s);
  auto safe_s = torch::where(support, s, zero);
  auto safe_t = torch::where(support, t, zero);
  auto ps = torch::where(support, s.exp(), zero);
  auto pt = torch::where(support, t.exp(), zero);
  if (beta == 0.0) return torch::nan_to_num(pt * (safe_t - safe_s), 0.0);
  if (beta == 1.0) return torch::nan_to_num(ps * (safe_s - safe_t), 0.0);
  const double tiny = s.scalar_type() == torch::kDouble ? std::numeric_limits<double>::min()
                                                        : std::numeric_limits<float>::min();
  auto pm = (1.0 - beta) * ps + beta * pt;
  auto safe_m = torch::where(support, torch::log(pm.clamp_min(tiny)), zero);
  auto kl_t = torch::nan_to_num(pt * (safe_t - safe_m), 0.0);
  auto kl_s = torch::nan_to_num(ps * (safe_s - safe_m), 0.0);
  return beta * kl_t + (1.0 - beta) * kl_s;
}

// The positions a loss covers: those whose label is not -100, or all N.
torch::Tensor kept_rows(const torch::Tensor& labels, int64_t N, const torch::Device& device) {
  if (!labels.defined())
    return torch::arange(N, torch::TensorOptions().dtype(torch::kLong).device(device));
  return torch::nonzero(labels.reshape({-1}).to(device) != -100).squeeze(1);
}

// TRL's reduction of the kept terms, given as per-position sums `rows` (n) over `width` elements
// each. lead0: size(0) of the logits, batchmean's divisor without labels.
torch::Tensor reduce_rows(const torch::Tensor& rows, int64_t width, bool has_labels, int64_t lead0,
                          const std::string& reduction, std::optional<double> num_items) {
  auto sum = rows.sum();
  if (num_items) return sum / *num_items;
  if (reduction == "batchmean")
    return sum / static_cast<double>(std::max<int64_t>(has_labels ? rows.size(0) : lead0, 1));
  if (reduction == "sum") return sum;
  return sum / static_cast<double>(rows.size(0) * width);  // "mean"
}

void check_loss_inputs(const char* fn, const torch::Tensor& student, const torch::Tensor& labels,
                       double beta, double temperature, const std::string& reduction,
                       int64_t chunk) {
  TORCH_CHECK(student.dim() >= 2, fn, ": student_logits must be (..., V) with a leading dim");
  TORCH_CHECK(student.is_floating_point(), fn, ": student_logits must be floating point");
  TORCH_CHECK(beta >= 0.0 && beta <= 1.0, fn, ": beta must be in [0, 1], got ", beta);
  TORCH_CHECK(temperature > 0.0 && std::isfinite(temperature), fn,
              ": temperature must be > 0, got ", temperature);
  TORCH_CHECK(chunk > 0, fn, ": chunk must be > 0");
  TORCH_CHECK(
      reduction == "batchmean" || reduction == "sum" || reduction == "mean" || reduction == "none",
      fn, ": unknown reduction \"", reduction, "\"");
  if (labels.defined())
    TORCH_CHECK(labels.sizes() == student.sizes().slice(0, student.dim() - 1), fn,
                ": labels must have the logits' leading shape");
}

}  // namespace

void check_kd_reduction(const std::string& reduction) {
  check(
      reduction == "batchmean" || reduction == "sum" || reduction == "mean" || reduction == "none",
      "kd: reduction \"" + reduction + "\" is not one of batchmean, sum, mean, none");
}

torch::Tensor generalized_jsd_loss(const torch::Tensor& student_logits,
                                   const torch::Tensor& teacher_logits, const torch::Tensor& labels,
                                   double beta, double temperature, const std::string& reduction,
                                   std::optional<double> num_items_in_batch, int64_t chunk) {
  check_loss_inputs("generalized_jsd_loss", student_logits, labels, beta, temperature, reduction,
                    chunk);
  TORCH_CHECK(teacher_logits.sizes() == student_logits.sizes(),
              "generalized_jsd_loss: teacher_logits must have the student's shape");
  const int64_t V = student_logits.size(-1);
  auto student = student_logits.reshape({-1, V});
  auto teacher = teacher_logits.detach().reshape({-1, V});
  auto rows = kept_rows(labels, student.size(0), student.device());

  if (reduction == "none" && !num_items_in_batch) {
    const auto dtype = compute_dtype(student);
    auto s = torch::log_softmax(student.index_select(0, rows).to(dtype) / temperature, -1);
    auto t = torch::log_softmax(teacher.index_select(0, rows).to(dtype) / temperature, -1);
    auto terms = jsd_terms(s, t, beta);  // (n, V)
    return labels.defined() ? terms : terms.view(student_logits.sizes());
  }
  auto per_row = JsdRows::apply(student, teacher, rows, beta, temperature, chunk);
  return reduce_rows(per_row, V, labels.defined(), student_logits.size(0), reduction,
                     num_items_in_batch);
}

torch::Tensor topk_jsd_loss(const torch::Tensor& student_logits, const torch::Tensor& teacher_ids,
                            const torch::Tensor& teacher_logprobs, const torch::Tensor& labels,
                            double beta, double temperature, const std::string& reduction,
                            bool tail, std::optional<double> num_items_in_batch, int64_t chunk) {
  check_loss_inputs("topk_jsd_loss", student_logits, labels, beta, temperature, reduction, chunk);
  const auto lead = student_logits.sizes().slice(0, student_logits.dim() - 1);
  TORCH_CHECK(teacher_ids.dim() == student_logits.dim() &&
                  teacher_ids.sizes().slice(0, teacher_ids.dim() - 1) == lead &&
                  teacher_logprobs.sizes() == teacher_ids.sizes(),
              "topk_jsd_loss: teacher_ids and teacher_logprobs must be (..., K) with the "
              "logits' leading shape");
  TORCH_CHECK(!teacher_ids.is_floating_point() && teacher_logprobs.is_floating_point(),
              "topk_jsd_loss: teacher_ids must be integer and teacher_logprobs floating point");
  const int64_t V = student_logits.size(-1), K = teacher_ids.size(-1);
  TORCH_CHECK(K >= 1 && K <= V, "topk_jsd_loss: K must be in [1, V], got ", K);
  const auto dtype = compute_dtype(student_logits);
  const auto device = student_logits.device();
  auto student = student_logits.reshape({-1, V});
  auto rows = kept_rows(labels, student.size(0), device);
  auto ids = teacher_ids.reshape({-1, K}).to(device, torch::kLong).index_select(0, rows);
  TORCH_CHECK(ids.numel() == 0 || (ids.min().item<int64_t>() >= 0 && ids.max().item<int64_t>() < V),
              "topk_jsd_loss: teacher_ids out of the vocabulary [0, ", V, ")");
  auto t = teacher_logprobs.detach().reshape({-1, K}).to(device, dtype).index_select(0, rows);
  auto s = GatherLogSoftmax::apply(student, rows, ids, temperature, chunk);  // (n, K)

  // TRL's _compute_server_forward_kl_loss from here on.
  auto valid = t > -kInf;
  auto neg_inf = torch::full({}, -kInf, s.options());
  s = torch::where(valid, s, neg_inf);
  t = torch::where(valid, t, neg_inf);
  torch::Tensor support;
  if (tail) {
    std::tie(s, support) = add_tail_bucket(s, valid);
    t = add_tail_bucket(t, valid).first;
  } else {
    support = valid;
    s = s - torch::logsumexp(s, -1, true);
    t = t - torch::logsumexp(t, -1, true);
  }
  auto terms = sparse_jsd_terms(s, t, beta, support);  // (n, K') with K' = K (+ 1)
  if (reduction == "none" && !num_items_in_batch) {
    if (labels.defined()) return terms;
    std::vector<int64_t> shape(lead.begin(), lead.end());
    shape.push_back(terms.size(1));
    return terms.view(shape);
  }
  return reduce_rows(terms.sum(-1), terms.size(1), labels.defined(), student_logits.size(0),
                     reduction, num_items_in_batch);
}

void check_kd_config(const KdConfig& cfg) {
  auto bad = [](const std::string& field, double value, const std::string& want) {
    return "kd config: " + field + " = " + std::to_string(value) + " is invalid; " + want;
  };
  check(cfg.beta >= 0.0 && cfg.beta <= 1.0, bad("beta", cfg.beta, "use a value in [0, 1]"));
  check(cfg.temperature > 0.0 && std::isfinite(cfg.temperature),
        bad("temperature", cfg.temperature, "use a value > 0"));
  check(cfg.lmbda >= 0.0 && cfg.lmbda <= 1.0, bad("lmbda", cfg.lmbda, "use a value in [0, 1]"));
  check(cfg.top_k >= 0,
        bad("top_k", static_cast<double>(cfg.top_k), "use 0 (full logits) or a positive K"));
  check_kd_reduction(cfg.reduction);
}

bool kd_step_on_policy(double lmbda, uint64_t seed, int64_t step) {
  SampleRng rng{derive_seed(seed, {0x6b64u /* "kd" */, static_cast<uint64_t>(step)}), 0};
  return rng.next_uniform() < lmbda;
}

}  // namespace r1
