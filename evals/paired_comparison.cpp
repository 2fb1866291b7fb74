// Paired per-problem comparison of two runs (see metrics.h).
#include <algorithm>  // std::sort
#include <cmath>      // std::sqrt, std::fabs
#include <random>     // std::mt19937_64

#include "evals/metrics.h"
#include "evals/statistics.h"  // r1::sample_mean, r1::standard_error, r1::bootstrap_ci95
#include "toolkit/error.h"     // r1::check

namespace r1 {
namespace {

void check_counts(const std::string& what, const std::string& id, int64_t n, int64_t c) {
  check(n >= 1 && c >= 0 && c <= n, what + ": problem '" + id + "' has n = " + std::to_string(n) +
                                        ", c = " + std::to_string(c) +
                                        " (need n >= 1 and 0 <= c <= n)");
}

}  // namespace

ProblemCounts problem_counts(const BenchmarkMetrics& m) {
  ProblemCounts counts;
  for (const ProblemMetrics& p : m.per_problem) counts[p.id] = {p.n, p.c};
  return counts;
}

PairedComparison compare_paired(const std::string& benchmark, const ProblemCounts& a,
                                const ProblemCounts& b, uint64_t seed, int bootstrap) {
  const std::string what = "paired comparison of " + benchmark;
  check(bootstrap >= 1, what + ": bootstrap must be >= 1, got " + std::to_string(bootstrap));
  for (const auto& [id, nc] : a) check_counts(what + ", run A", id, nc.first, nc.second);
  for (const auto& [id, nc] : b) check_counts(what + ", run B", id, nc.first, nc.second);
  PairedComparison p;
  p.benchmark = benchmark;
  p.bootstrap = bootstrap;
  p.seed = seed;
  std::vector<double> ra, rb, d;
  for (const auto& [id, nca] : a) {
    auto it = b.find(id);
    if (it == b.end()) {
      ++p.only_a;
      continue;
    }
    const auto [na, ca] = nca;
    const auto [nb, cb] = it->second;
    ra.push_back(static_cast<double>(ca) / static_cast<double>(na));
    rb.push_back(static_cast<double>(cb) / static_cast<double>(nb));
    d.push_back(rb.back() - ra.back());
    const int64_t lhs = cb * na, rhs = ca * nb;  // rates compared exactly
    if (lhs > rhs) {
      ++p.better;
    } else if (lhs < rhs) {
      ++p.worse;
    } else {
      ++p.same;
    }
  }
  p.problems_common = static_cast<int64_t>(d.size());
  p.only_b = static_cast<int64_t>(b.size()) - p.problems_common;
  check(p.problems_common > 0, what + ": the two runs share no problem id (different datasets?)");
  p.pass1_a = sample_mean(ra);
  p.pass1_b = sample_mean(rb);
  p.diff = p.pass1_b - p.pass1_a;
  p.stderr_diff = standard_error(d);
  std::tie(p.ci95_lo, p.ci95_hi) = bootstrap_ci95(d, bootstrap, seed);

  // Sign-flip test on the sum of the nonzero differences (zeros do not move it).
  std::vector<double> z;
  double observed = 0, scale = 0;
  for (double x : d) {
    if (x == 0) continue;
    z.push_back(x);
    observed += x;
    scale += std::fabs(x);
  }
  observed = std::fabs(observed);
  const double tol = 1e-9 * scale;  // sums equal up to rounding count as "as extreme"
  if (z.size() <= 20) {
    p.p_value_method = "exact";
    const uint64_t patterns = uint64_t{1} << z.size();
    uint64_t hits = 0;
    for (uint64_t mask = 0; mask < patterns; ++mask) {
      double s = 0;
      for (size_t i = 0; i < z.size(); ++i) s += ((mask >> i) & 1) ? -z[i] : z[i];
      if (std::fabs(s) >= observed - tol) ++hits;
    }
    p.p_value = static_cast<double>(hits) / static_cast<double>(patterns);
  } else {
    p.p_value_method = "monte_carlo";
    std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ULL);  // apart from the bootstrap's stream
    int64_t hits = 0;
    for (int r = 0; r < bootstrap; ++r) {
      double s = 0;
      uint64_t bits = 0;
      for (size_t i = 0; i < z.size(); ++i) {
        if (i % 64 == 0) bits = rng();
        s += ((bits >> (i % 64)) & 1) ? -z[i] : z[i];
      }
      if (std::fabs(s) >= observed - tol) ++hits;
    }
    p.p_value = static_cast<double>(1 + hits) / static_cast<double>(1 + bootstrap);
  }
  return p;
}

nlohmann::json comparison_to_json(const PairedComparison& p) {
  return {{"benchmark", p.benchmark},
          {"problems_common", p.problems_common},
          {"only_a", p.only_a},
          {"only_b", p.only_b},
          {"pass@1_a", p.pass1_a},
          {"pass@1_b", p.pass1_b},
          {"diff", p.diff},
          {"stderr_diff", p.stderr_diff},
          {"ci95", {p.ci95_lo, p.ci95_hi}},
          {"better", p.better},
          {"worse", p.worse},
          {"same", p.same},
          {"p_value", p.p_value},
          {"p_value_method", p.p_value_method},
          {"bootstrap", {{"reps", p.bootstrap}, {"seed", p.seed}}}};
}

}  // namespace r1
