// Sampling (see sampling.h). The nucleus is found on a top-K0 candidate list when that list
// provably contains it (its mass reaches top_p, or top_k <= K0); otherwise on a full sort of the
// row. Both give the same kept set and the same draw, so the fast path changes no result.
#include "toolkit/sampling.h"

#include <torch/torch.h>  // torch ops

#include <algorithm>  // std::min
#include <cmath>      // std::exp

#include "toolkit/error.h"  // r1::check

namespace r1 {
namespace {

constexpr int64_t kCandidates = 256;  // K0: size of the fast-path candidate list

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Draws from the first n entries of a row's log-probs sorted in descending order (`complete` when
// they are the whole vocabulary), truncated by top_k and top_p. Returns the position of the drawn
// token in the sorted list, or -1 when these n entries may not hold the whole kept set.
int64_t draw_sorted(const float* lp, int64_t n, bool complete, const SamplingParams& p, double u) {
  auto prob = [&](int64_t i) { return std::exp(static_cast<double>(lp[i])); };
  int64_t k;       // the top-k cut (n when off and complete; past the list when off and not)
  double total;    // mass of the top-k set, to renormalise as transformers does before top-p
  if (p.top_k > 0 && p.top_k <= n) {
    k = p.top_k;
    total = 0;
    for (int64_t i = 0; i < k; ++i) total += prob(i);
  } else if (complete) {
    k = n;
    total = 0;
    for (int64_t i = 0; i < k; ++i) total += prob(i);
  } else if (p.top_k > 0) {
    return -1;  // top_k reaches past the candidates
  } else {
    k = n + 1;    // no top-k: the set runs past the list,
    total = 1.0;  // and a log-softmax row sums to one
  }
  int64_t keep = k;
  if (p.top_p < 1.0) {
    // Keep the smallest prefix whose mass reaches top_p: transformers removes the tokens whose
    // ascending cumulative mass is <= 1 - top_p.
    double before = 0;
    keep = 0;
    while (keep < k && before < p.top_p * total) {
      if (keep == n) return -1;  // the nucleus runs past the candidates
      before += prob(keep);
      ++keep;
    }
  }
  if (keep > n) return -1;
  double mass = 0;
  for (int64_t i = 0; i < keep; ++i) mass += prob(i);
  const double target = u * mass;
  double acc = 0;
  for (int64_t i = 0; i < keep; ++i) {
    acc += prob(i);
    if (acc > target) return i;
  }
  return keep - 1;
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
  std::vector<double> inv_temp(B);
  for (int64_t b = 0; b < B; ++b)
    inv_temp[b] = params[b].temperature > 0 ? 1.0 / params[b].temperature : 1.0;
  auto scale = torch::tensor(inv_temp, torch::kDouble).to(torch::kFloat).unsqueeze(1);
  auto logp = torch::log_softmax(logits.cpu() * scale, -1).contiguous();  // (B, V)
  const int64_t k0 = std::min(kCandidates, V);
  auto [top_lp, top_id] = logp.topk(k0, -1, /*largest=*/true, /*sorted=*/true);
  top_lp = top_lp.contiguous();
  top_id = top_id.contiguous();
  SampledTokens out;
  out.ids.resize(B);
  out.logprobs.resize(B);
  const float* lp_all = logp.data_ptr<float>();
  for (int64_t b = 0; b < B; ++b) {
    const float* lp_row = lp_all + b * V;
    int64_t id;
    if (params[b].temperature <= 0) {
      id = logp[b].argmax().item<int64_t>();  // greedy: the first maximum
    } else {
      const double u = rngs[b]->next_uniform();
      if (params[b].top_k <= 0 && params[b].top_p >= 1.0) {
        // No truncation: draw over the vocabulary in id order, no sort needed.
        double target = u, acc = 0;
        id = V - 1;
        for (int64_t i = 0; i < V; ++i) {
          acc += std::exp(static_cast<double>(lp_row[i]));
          if (acc > target) {
            id = i;
            break;
          }
        }
        out.ids[b] = id;
        out.logprobs[b] = lp_row[id];
        continue;
      }
      int64_t pos = draw_sorted(top_lp.data_ptr<float>() + b * k0, k0, k0 == V, params[b], u);
      if (pos >= 0) {
        id = top_id.data_ptr<int64_t>()[b * k0 + pos];
      } else {
        auto [s_lp, s_id] = logp[b].sort(/*stable=*/true, -1, /*descending=*/true);
        s_lp = s_lp.contiguous();
        pos = draw_sorted(s_lp.data_ptr<float>(), V, true, params[b], u);
        id = s_id[pos].item<int64_t>();
      }
    }
    out.ids[b] = id;
    out.logprobs[b] = lp_row[id];
  }
  return out;
}

}  // namespace r1
