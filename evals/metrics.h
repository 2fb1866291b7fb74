// The metrics of one evaluation run, as the DeepSeek-R1 paper reports them: pass@1 as the mean over
// problems of each problem's fraction of correct samples, unbiased pass@k, maj@n by clustering the
// extracted answers through grader equivalence, two standard errors and a bootstrap interval,
// truncation / no-answer rates, token counts and breakdowns by problem tag; their JSON block in
// results.json (round trip), a Markdown summary, and a paired comparison of two runs.
// Leaves out grading (samples come graded), reading stores, and multiple-comparison corrections.
#pragma once

#include <nlohmann/json.hpp>  // nlohmann::json

#include <cstdint>   // int64_t, uint64_t
#include <map>       // std::map
#include <optional>  // std::optional
#include <string>    // std::string
#include <utility>   // std::pair
#include <vector>    // std::vector

#include "evals/math_answer.h"   // r1::CompareOptions
#include "evals/sample_store.h"  // r1::SampleRecord
#include "evals/statistics.h"    // r1::bootstrap_means, r1::quantile_sorted

namespace r1 {

// One problem of a benchmark, as the metrics see it.
struct ProblemInfo {
  std::string id;
  std::string gold;
  // Breakdown fields, e.g. {"subject", "Algebra"}, {"level", "3"}; a name may repeat (the problem
  // then counts under each value).
  std::vector<std::pair<std::string, std::string>> tags;
};

struct MetricsOptions {
  int bootstrap = 10000;   // bootstrap replicates for the 95% interval of pass@1; 0 leaves it out
  uint64_t seed = 0;       // seed of the bootstrap's std::mt19937_64
  CompareOptions compare;  // grader options for clustering answers (maj@n)
  int max_clusters = 64;   // per problem, for maj@n: an answer equal to none of this many clusters
                           // is left out of the vote (bounds grader calls to answers x clusters)
};

// One problem's row (reports, paired comparisons).
struct ProblemMetrics {
  std::string id;
  std::string gold;
  int64_t n = 0;             // samples
  int64_t c = 0;             // correct samples
  double pass_rate = 0;      // c / n
  bool maj_correct = false;  // the majority cluster's representative was graded correct
  std::optional<std::string> majority_answer;  // its representative; nullopt when no answers
  int64_t majority_votes = 0;                  // samples in the majority cluster
};

struct BreakdownRow {
  std::string value;
  int64_t problems = 0;  // problems with samples carrying this value
  double pass1 = 0;      // mean of their pass rates
};

struct Breakdown {
  std::string tag;                 // tag name, e.g. "level"
  std::vector<BreakdownRow> rows;  // by value, numeric-aware ("9" before "10")
};

// When `problems` is 0 (no sample at all) every rate below is 0 and means nothing.
struct BenchmarkMetrics {
  std::string benchmark;
  int64_t problems = 0;          // problems with at least one sample (the others are excluded)
  int64_t problems_missing = 0;  // problems without samples
  int64_t samples = 0;
  int64_t n_min = 0;  // fewest samples of a problem
  int64_t n_max = 0;  // most samples of a problem

  double pass1 = 0;                     // mean over problems of c_i / n_i (the R1 paper's pass@1)
  std::map<int64_t, double> pass_at_k;  // k = 1, 2, 4, ... <= n_min, and n_min itself
  double maj = 0;                       // maj@n: fraction of problems whose majority is correct

  double pass1_stderr = 0;           // sample std of per-problem rates / sqrt(problems); 0 below 2
  double pass1_sampling_stderr = 0;  // sqrt(sum p_i (1 - p_i) / n_i) / problems: finite samples
  std::optional<std::pair<double, double>> ci95;  // percentile bootstrap over problems
  int bootstrap = 0;                              // replicates behind ci95
  uint64_t seed = 0;                              // their seed

  double truncated_rate = 0;  // fraction of samples with finish_reason "length"
  double no_answer_rate = 0;  // fraction of samples without an extracted (non-empty) answer
  // Completion tokens over the samples that report them; nullopt when none do.
  std::optional<double> tokens_mean;
  std::optional<double> tokens_median;

  std::vector<Breakdown> breakdowns;        // by tag name
  std::vector<ProblemMetrics> per_problem;  // in the order of `problems` given
};

// Unbiased pass@k estimator for c correct out of n samples: 1 - C(n-c, k) / C(n, k), computed as
// 1 - prod_{i=n-c+1}^{n} (1 - k/i) (Chen et al. 2021). Throws r1::Error unless 0 <= c <= n and
// 1 <= k <= n.
double pass_at_k(int64_t n, int64_t c, int64_t k);

// Metrics of one benchmark's samples. Samples are grouped by problem_id and ordered by
// sample_index. Throws r1::Error naming the sample for a problem id not in `problems`, a sample of
// another benchmark, or a (problem, index) met twice. Answers are clustered greedily in sample
// order (each joins the first cluster whose representative it equals, by string or by
// compare_answers(representative, answer)); the largest cluster wins, ties to the earliest.
BenchmarkMetrics compute_metrics(const std::string& benchmark,
                                 const std::vector<ProblemInfo>& problems,
                                 const std::vector<SampleRecord>& samples,
                                 const MetricsOptions& options = {});

// The block stored in results.json: "benchmark", "problems", "problems_missing", "samples",
// "n": {"min", "max"}, "pass@1", "pass@k": {"1": .., "2": ..}, "maj@n", "stderr",
// "sampling_stderr", "ci95": [lo, hi] (absent without bootstrap), "bootstrap": {"reps", "seed"},
// "truncated_rate", "no_answer_rate", "completion_tokens": {"mean", "median"} (absent when no
// sample reports them), "breakdown": {tag: {value: {"problems", "pass@1"}}}, "per_problem": [{"id",
// "gold", "n", "c", "pass_rate", "maj_correct", "majority_answer" (null when none),
// "majority_votes"}].
nlohmann::json metrics_to_json(const BenchmarkMetrics& m);
// Throws r1::Error naming `where` and the field when one is missing or of the wrong type.
BenchmarkMetrics metrics_from_json(const nlohmann::json& j, const std::string& where);

// A Markdown summary: `title`, `config_lines` verbatim in a fenced block (left out when empty), one
// table row per benchmark (problems, n, pass@1 ± stderr, 95% CI, maj@n, pass@k, truncated, no
// answer, mean tokens), then a table per benchmark and tag. Percentages with one decimal ("28.3%").
std::string render_summary_md(const std::string& title, const std::vector<BenchmarkMetrics>& runs,
                              const std::string& config_lines);

// A rate as a percentage with one decimal: 0.283 -> "28.3%" (summaries, progress lines).
std::string format_percent(double rate);

// Per-problem (n, c) of a run, the input of compare_paired.
using ProblemCounts = std::map<std::string, std::pair<int64_t, int64_t>>;  // id -> (n, c)
ProblemCounts problem_counts(const BenchmarkMetrics& m);

// Run B against run A on the problems both hold (each problem weighs the same).
struct PairedComparison {
  std::string benchmark;
  int64_t problems_common = 0;
  int64_t only_a = 0;  // problems only A holds (left out)
  int64_t only_b = 0;
  double pass1_a = 0;  // over the common problems
  double pass1_b = 0;
  double diff = 0;         // pass1_b - pass1_a
  double stderr_diff = 0;  // sample std of per-problem differences / sqrt(common); 0 below 2
  double ci95_lo = 0;      // percentile bootstrap over common problems, resampled as pairs
  double ci95_hi = 0;
  int64_t better = 0;  // problems where B's rate is higher
  int64_t worse = 0;   // lower
  int64_t same = 0;    // equal
  // Two-sided paired sign-flip permutation test of the mean difference: under the null each
  // problem's difference is as likely negated. Exact over all 2^m sign patterns when m, the number
  // of nonzero differences, is at most 20 (p = share of patterns with |sum| >= observed); else
  // `bootstrap` random patterns from the same seed, p = (1 + hits) / (1 + draws).
  double p_value = 1;
  std::string p_value_method;  // "exact" | "monte_carlo"
  int bootstrap = 0;           // replicates behind the interval (and the Monte Carlo test)
  uint64_t seed = 0;
};

// Throws r1::Error when the runs share no problem, a count is invalid (n < 1, c outside [0, n]), or
// bootstrap < 1. Deterministic for a seed.
PairedComparison compare_paired(const std::string& benchmark, const ProblemCounts& a,
                                const ProblemCounts& b, uint64_t seed = 0, int bootstrap = 10000);
nlohmann::json comparison_to_json(const PairedComparison& p);
// One Markdown paragraph; says plainly whether the 95% interval excludes 0.
std::string render_comparison_md(const PairedComparison& p);

}  // namespace r1
