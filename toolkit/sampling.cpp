// Sampling (see sampling.h). A kept set is always a prefix of the row in selection order
// (probability descending, lower id first among equals), so it is described by a threshold: every
// token above `tau`, plus the first `ties` tokens (by id) equal to it. Thresholds come from a
// 3-way quickselect over the probabilities, weighted by mass for top-p: O(V) per row, no sort,
// and tokens that provably fall outside the nucleus are filtered out before selecting. The draw
// walks the kept tokens in id order, so the kept set never needs ordering.
#include "toolkit/sampling.h"

#include <ATen/Parallel.h>  // at::parallel_for
#include <torch/torch.h>    // torch ops

#include <algorithm>  // std::nth_element, std::partition
#include <cmath>      // std::exp

#include "toolkit/error.h"  // r1::check
#include "toolkit/hash.h"   // r1::splitmix64

namespace r1 {
namespace {

// A prefix of a row in selection order: every p > tau, and `ties` of the tokens with p == tau --
// the highest ids among them, as transformers' stable ascending sort removes lower ids first.
struct Prefix {
  float tau = 0;
  int64_t ties = 0;
  bool all = true;   // the whole row (tau/ties unused)
  int64_t skip = 0;  // tied tokens (in id order) before the kept ones; set by resolve_ties
};
constexpr int64_t kAllTies = INT64_MAX;

bool shorter(const Prefix& a, const Prefix& b) {
  if (a.all || b.all) return !a.all;
  return a.tau > b.tau || (a.tau == b.tau && a.ties < b.ties);
}

// The shortest prefix of the values in v (order: descending) whose count reaches `target` (by
// count) or whose mass reaches `target` (by mass). Histogram refinement: bucket the candidates
// linearly between their min and max, find the bucket where the running total from the top
// crosses the target, and repeat inside that bucket until few values are left to sort. Every
// pass is branch-light and linear; each level strictly narrows the candidates. Consumes v.
Prefix select_prefix(std::vector<float>& v, bool by_mass, double target) {
  constexpr int kBuckets = 2048;
  constexpr size_t kSortBelow = 64;
  std::vector<float> next;
  std::vector<double> weight(kBuckets);
  double acc = 0;  // count or mass of everything above the candidates
  auto unit = [&](float x) { return by_mass ? static_cast<double>(x) : 1.0; };
  while (!v.empty()) {
    const auto [mn_it, mx_it] = std::minmax_element(v.begin(), v.end());
    const float mn = *mn_it, mx = *mx_it;
    if (v.size() <= kSortBelow || mn == mx) {
      std::sort(v.begin(), v.end(), std::greater<float>());
      for (size_t i = 0; i < v.size();) {
        size_t j = i;
        while (j < v.size() && v[j] == v[i]) ++j;
        const int64_t equal = static_cast<int64_t>(j - i);
        if (acc + unit(v[i]) * equal >= target) {
          const double u1 = unit(v[i]);
          const int64_t ties =
              u1 > 0 ? static_cast<int64_t>(std::ceil((target - acc) / u1)) : equal;
          return {v[i], std::clamp<int64_t>(ties, 1, equal), false};
        }
        acc += unit(v[i]) * equal;
        i = j;
      }
      return {};
    }
    const double scale = (kBuckets - 1e-3) / (static_cast<double>(mx) - mn);
    auto bucket = [&](float x) {
      return std::min(kBuckets - 1, static_cast<int>((static_cast<double>(x) - mn) * scale));
    };
    std::fill(weight.begin(), weight.end(), 0.0);
    for (float x : v) weight[bucket(x)] += unit(x);
    int b = kBuckets - 1;
    for (; b >= 0; --b) {
      if (acc + weight[b] >= target) break;
      acc += weight[b];
    }
    if (b < 0) return {};  // rounding left the target unreached: keep everything
    next.clear();
    for (float x : v)
      if (bucket(x) == b) next.push_back(x);
    v.swap(next);
  }
  return {};
}

// Calls f(i) for every token of the row in `keep`, in id order.
template <typename F>
void for_each_kept(const float* probs, int64_t V, const Prefix& keep, F&& f) {
  if (keep.all) {
    for (int64_t i = 0; i < V; ++i) f(i);
    return;
  }
  int64_t seen = 0;
  for (int64_t i = 0; i < V; ++i)
    if (probs[i] > keep.tau || (probs[i] == keep.tau && seen++ >= keep.skip)) f(i);
}

// Counts the tokens tied at keep.tau once, so every walk over the kept set knows how many of them
// to pass over.
void resolve_ties(const float* probs, int64_t V, Prefix& keep) {
  keep.skip = 0;
  if (keep.all || keep.ties == kAllTies) return;
  int64_t equal = 0;
  for (int64_t i = 0; i < V; ++i) equal += probs[i] == keep.tau;
  keep.skip = std::max<int64_t>(0, equal - keep.ties);
}

// The kept prefix of one row of probabilities (size V) under top-k then top-p (over the
// renormalised top-k mass, as transformers' warpers do). `total` is the row's mass; `work` is
// scratch.
Prefix kept_prefix(const float* probs, int64_t V, double total, const SamplingParams& p,
                   std::vector<float>& work) {
  Prefix keep;
  double kept_mass = total;
  if (p.top_k > 0 && p.top_k < V) {
    work.assign(probs, probs + V);
    keep = select_prefix(work, /*by_mass=*/false, static_cast<double>(p.top_k));
    // transformers removes only scores below the k-th: every token tied with it stays.
    if (!keep.all) keep.ties = kAllTies;
    resolve_ties(probs, V, keep);
    kept_mass = 0;
    for_each_kept(probs, V, keep, [&](int64_t i) { kept_mass += probs[i]; });
  }
  if (p.top_p < 1.0) {
    const double target = p.top_p * kept_mass;
    // Tokens below eps hold less than total - target together, so the prefix of the others
    // already reaches the target: they can never be kept.
    const double eps = (total - target) / static_cast<double>(V);
    work.clear();
    for (int64_t i = 0; i < V; ++i)
      if (probs[i] >= eps) work.push_back(probs[i]);
    Prefix nucleus = select_prefix(work, /*by_mass=*/true, target);
    if (shorter(nucleus, keep)) keep = nucleus;
  }
  resolve_ties(probs, V, keep);
  return keep;
}

// log-softmax of one entry, for the rare token whose float probability underflowed to zero.
float exact_logprob(const torch::Tensor& row, int64_t id) {
  return (row[id] - torch::logsumexp(row, 0)).item<float>();
}

}  // namespace

double SampleRng::next_uniform() {
  const uint64_t r = splitmix64(seed ^ splitmix64(counter++));
  return static_cast<double>(r >> 11) * (1.0 / 9007199254740992.0);  // 53 bits
}

uint64_t derive_seed(uint64_t seed, std::initializer_list<uint64_t> parts) {
  uint64_t h = splitmix64(seed);
  for (uint64_t p : parts) h = splitmix64(h ^ p);
  return h;
}

SampledTokens sample_tokens(const torch::Tensor& logits, const std::vector<SamplingParams>& params,
                            std::vector<SampleRng*>& rngs) {
  TORCH_CHECK(logits.dim() == 2 && logits.scalar_type() == torch::kFloat,
              "sample_tokens: logits must be (B, V) float32");
  const int64_t B = logits.size(0), V = logits.size(1);
  TORCH_CHECK(static_cast<int64_t>(params.size()) == B && static_cast<int64_t>(rngs.size()) == B,
              "sample_tokens: one SamplingParams and one rng per row");
  TORCH_CHECK(V < (int64_t{1} << 31), "sample_tokens: vocabulary too large");
  std::vector<double> inv_temp(B);
  for (int64_t b = 0; b < B; ++b)
    inv_temp[b] = params[b].temperature > 0 ? 1.0 / params[b].temperature : 1.0;
  auto scale = torch::tensor(inv_temp, torch::kDouble).to(torch::kFloat).unsqueeze(1);
  auto scaled = logits.cpu() * scale;
  auto probs = torch::softmax(scaled, -1).contiguous();  // (B, V)
  bool any_greedy = false;
  for (const auto& p : params) any_greedy = any_greedy || p.temperature <= 0;
  torch::Tensor greedy =
      any_greedy ? scaled.argmax(-1).contiguous() : torch::zeros({B}, torch::kLong);
  SampledTokens out;
  out.ids.resize(B);
  out.logprobs.resize(B);
  // Uniforms drawn up front, in row order, so the streams advance the same way whatever the
  // threading below.
  std::vector<double> u(B, 0.0);
  for (int64_t b = 0; b < B; ++b)
    if (params[b].temperature > 0) u[b] = rngs[b]->next_uniform();
  const float* pr_all = probs.data_ptr<float>();
  const int64_t* greedy_ids = greedy.data_ptr<int64_t>();
  at::parallel_for(0, B, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> work;
    for (int64_t b = begin; b < end; ++b) {
      const float* pr = pr_all + b * V;
      int64_t id = greedy_ids[b];  // greedy: the first maximum
      if (params[b].temperature > 0) {
        double mass = 0;
        for (int64_t i = 0; i < V; ++i) mass += pr[i];
        if (!std::isfinite(mass) || mass <= 0)
          throw Error("sampling: the logits of row " + std::to_string(b) +
                      " are not finite after temperature scaling (temperature too small, or the "
                      "model produced NaN/inf)");
        const Prefix keep = kept_prefix(pr, V, mass, params[b], work);
        mass = 0;
        for_each_kept(pr, V, keep, [&](int64_t i) { mass += pr[i]; });
        const double target = u[b] * mass;
        double acc = 0;
        id = -1;
        bool done = false;
        for_each_kept(pr, V, keep, [&](int64_t i) {
          if (done) return;
          acc += pr[i];
          id = i;
          done = acc > target;
        });
      }
      out.ids[b] = id;
      // log of the float probability: within 1e-7 of log-softmax wherever it is not zero.
      out.logprobs[b] = pr[id] > 0 ? std::log(pr[id]) : exact_logprob(scaled[b], id);
    }
  });
  return out;
}

}  // namespace r1
