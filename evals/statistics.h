// The statistics behind every interval r1 reports: means, standard errors and the percentile
// bootstrap, deterministic for a seed on any standard library. Leaves out multiple-comparison
// corrections and other bootstrap variants (BCa, studentized).
#pragma once

#include <cstdint>  // uint64_t
#include <utility>  // std::pair
#include <vector>   // std::vector

namespace r1 {

// The mean of `v` (0 when empty).
double sample_mean(const std::vector<double>& v);
// The population standard deviation (TRL's reward_std); 0 below 2 values.
double population_stddev(const std::vector<double>& v);
// The standard error of the mean: the sample standard deviation over sqrt(size); 0 below 2 values.
double standard_error(const std::vector<double>& v);

// The means of `reps` resamples (with replacement, as many as `values`) of `values`, sorted: the
// percentile bootstrap behind every interval here. Deterministic for a seed on any standard
// library.
std::vector<double> bootstrap_means(const std::vector<double>& values, int reps, uint64_t seed);
// The q-quantile of sorted values, linear between order statistics (numpy's default).
double quantile_sorted(const std::vector<double>& sorted, double q);
// The percentile 95% interval of the mean of `values` over `reps` resamples.
std::pair<double, double> bootstrap_ci95(const std::vector<double>& values, int reps,
                                         uint64_t seed);

}  // namespace r1
