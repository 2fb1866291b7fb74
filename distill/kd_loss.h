// Logit-level distillation losses as GKD (Agarwal et al. 2024) and TRL 1.16.0 compute them: the
// generalised Jensen-Shannon divergence between student and teacher next-token distributions
// (forward KL, reverse KL and JSD(beta) in between), against the teacher's full logits or its
// cached top-K log-probs, and the seeded on-policy draw (lmbda). Leaves out generation, the
// teacher forward pass and the training loop (the r1distill command wires them).
#pragma once

#include <torch/types.h>  // torch::Tensor

#include <cstdint>   // int64_t, uint64_t
#include <optional>  // std::optional
#include <string>    // std::string

namespace r1 {

// B batch, T positions, V vocabulary, K teacher top-K; "..." is any leading shape (usually B, T),
// N its number of positions, n the positions whose label is not -100.
//
// TRL's convention for beta (GKDTrainer.generalized_jsd_loss, trl 1.16.0), with S and P the
// student's and teacher's softmax(logits / temperature) at one position:
//   beta == 0:     KL(P || S) = sum_v P (log P - log S)   forward KL (mean-seeking, SFT-like);
//   beta == 1:     KL(S || P) = sum_v S (log S - log P)   reverse KL (mode-seeking);
//   0 < beta < 1:  beta KL(P || M) + (1 - beta) KL(S || M),  M = beta P + (1 - beta) S.
// The middle case tends to 0 (not to the KLs) as beta tends to 0 or 1: 0 and 1 are special cases,
// as in TRL. Positions whose label is -100 are left out. Reductions, as TRL's:
//   "batchmean": sum / n (at least 1); without labels, sum / size(0) of the logits (B);
//   "sum":       sum over positions and vocabulary;
//   "mean":      sum / (n * V) (TRL's jsd.mean() over kept elements; NaN when n == 0);
//   "none":      the (n, V) elementwise terms; without labels (..., V).
// num_items_in_batch, when given, overrides the reduction with sum / num_items_in_batch (the
// token count of the whole accumulated batch, for gradient-accumulation-correct losses).

// Throws r1::Error unless `reduction` is one of the four above.
void check_kd_reduction(const std::string& reduction);

// The generalised JSD between the student and a teacher given by its full logits. Differentiable
// with respect to student_logits only (the teacher is a constant). Computed in float64 for
// float64 logits, else float32, `chunk` positions at a time: apart from the (N, V) gradient,
// memory is a few (chunk, V) tensors (except "none", which returns (n, V) and runs in plain
// autograd). Where the target probability is exactly 0 an element is 0 (TRL gives NaN).
torch::Tensor generalized_jsd_loss(const torch::Tensor& student_logits,  // (..., V)
                                   const torch::Tensor& teacher_logits,  // (..., V)
                                   const torch::Tensor& labels,          // (...) or undefined
                                   double beta = 0.5, double temperature = 1.0,
                                   const std::string& reduction = "batchmean",
                                   std::optional<double> num_items_in_batch = std::nullopt,
                                   int64_t chunk = 32);

// The same divergence against a teacher known only by its top-K log-probs at each position
// (teacher_topk() at the same temperature, typically from the TeacherCache), as TRL's teacher-
// server distillation computes it (ServerDistillationTrainer._compute_server_forward_kl_loss,
// generalised to any beta and reduction). The student's full log-softmax(logits / temperature)
// is gathered at the teacher's K ids; then both sides become distributions over K + 1 outcomes:
//   tail == true (TRL's default): the K entries plus a "tail" bucket log(1 - sum exp(entries))
//     holding the mass outside the teacher's top-K (log of the sum clamped to <= -1e-7, so the
//     tail keeps at least ~1e-7 and its gradient stops when the K entries hold everything);
//   tail == false: the K entries renormalised among themselves (K outcomes).
// The tail keeps the loss informative when K is small (with K == 1 renormalising gives 0) and
// pushes the student's mass off tokens the teacher does not rank; with K == V both variants equal
// generalized_jsd_loss (the tail to ~1e-7). Entries with log-prob -inf are padding (fewer than
// K known) and ignored. Reductions as above with K + 1 (or K) in place of V; "none" returns
// (n, K + 1) or (n, K). Differentiable with respect to student_logits only; never holds more
// than one (N, V) tensor (the gradient) and a few (chunk, V) ones.
torch::Tensor topk_jsd_loss(const torch::Tensor& student_logits,    // (..., V)
                            const torch::Tensor& teacher_ids,       // (..., K) integer
                            const torch::Tensor& teacher_logprobs,  // (..., K) float
                            const torch::Tensor& labels,            // (...) or undefined
                            double beta = 0.5, double temperature = 1.0,
                            const std::string& reduction = "batchmean", bool tail = true,
                            std::optional<double> num_items_in_batch = std::nullopt,
                            int64_t chunk = 32);

// What a logit-level KD run trains on (TRL's GKDConfig, and the top-K teacher).
struct KdConfig {
  // Interpolation of the generalised JSD in [0, 1]: 0 forward KL(teacher || student), 1 reverse
  // KL(student || teacher), in between JSD(beta). TRL's GKD default.
  double beta = 0.5;
  // Softmax temperature of both distributions in the loss. TRL's GKD leaves the loss at 1 and
  // uses its `temperature` for sampling only; the top-K cache must be built at this value.
  double temperature = 1.0;
  // Probability in [0, 1] that a step trains on completions the student samples itself (on-
  // policy, GKD's lmbda) instead of the dataset's; drawn per step by kd_step_on_policy().
  double lmbda = 0.5;
  // "batchmean", "sum", "mean" or "none" (see above); training uses "batchmean".
  std::string reduction = "batchmean";
  // 0: the teacher's full logits (a local teacher run beside the student); > 0: its top-K
  // log-probs from the TeacherCache (the teacher runs once).
  int64_t top_k = 0;
  // Top-K: the teacher's leftover mass as a (K + 1)-th bucket (true) or renormalise over K.
  bool top_k_tail = true;
};

// Throws r1::Error naming the field and value when a KdConfig is invalid.
void check_kd_config(const KdConfig& cfg);

// Whether optimiser step `step` trains on-policy: a uniform draw from (seed, step) below lmbda
// (TRL draws Python's random.random() <= lmbda). The same on every rank and on resume; lmbda 0
// never, 1 always.
bool kd_step_on_policy(double lmbda, uint64_t seed, int64_t step);

}  // namespace r1
