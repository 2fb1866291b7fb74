// Statistics behind every interval r1 reports (see statistics.h).
#include "evals/statistics.h"

#include <algorithm>  // std::sort
#include <cmath>      // std::sqrt, std::floor
#include <limits>     // std::numeric_limits
#include <random>     // std::mt19937_64

namespace r1 {
namespace {

// A uniform draw in [0, n) by rejection, so the sequence for a seed is the same under any standard
// library (std::uniform_int_distribution's is unspecified).
uint64_t draw_below(std::mt19937_64& rng, uint64_t n) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  const uint64_t limit = kMax - kMax % n;  // a multiple of n
  for (;;) {
    const uint64_t x = rng();
    if (x < limit) return x % n;
  }
}

}  // namespace

double sample_mean(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return v.empty() ? 0 : sum / static_cast<double>(v.size());
}

double population_stddev(const std::vector<double>& v) {
  if (v.size() < 2) return 0.0;
  const double m = sample_mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size()));
}

double standard_error(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double m = sample_mean(v);
  double ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  const double n = static_cast<double>(v.size());
  return std::sqrt(ss / (n - 1)) / std::sqrt(n);
}

double quantile_sorted(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  if (lo + 1 >= sorted.size()) return sorted.back();
  return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[lo + 1] - sorted[lo]);
}

std::vector<double> bootstrap_means(const std::vector<double>& values, int reps, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const uint64_t n = values.size();
  std::vector<double> means(static_cast<size_t>(reps));
  for (double& m : means) {
    double sum = 0;
    for (uint64_t i = 0; i < n; ++i) sum += values[draw_below(rng, n)];
    m = sum / static_cast<double>(n);
  }
  std::sort(means.begin(), means.end());
  return means;
}

std::pair<double, double> bootstrap_ci95(const std::vector<double>& values, int reps,
                                         uint64_t seed) {
  const std::vector<double> means = bootstrap_means(values, reps, seed);
  return {quantile_sorted(means, 0.025), quantile_sorted(means, 0.975)};
}

}  // namespace r1
