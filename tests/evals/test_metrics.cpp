// Metrics of a run: pass@k against exact binomials, a hand-made store whose every number is worked
// out here by hand (pass@k, maj@n through grader equivalence, standard errors, rates, tokens,
// breakdowns), the bootstrap, the JSON round trip, the Markdown, and paired comparisons.
#include <gtest/gtest.h>  // TEST, EXPECT_*

#include <cmath>     // std::sqrt
#include <cstdint>   // uint64_t
#include <optional>  // std::optional
#include <string>    // std::string
#include <vector>    // std::vector

#include "evals/metrics.h"  // r1::compute_metrics, r1::compare_paired, ...
#include "evals/speed.h"    // r1::speed_json
#include "toolkit/error.h"  // r1::Error

namespace r1 {
namespace {

// C(n, k) exactly, by Pascal's triangle (n <= 60 fits in 64 bits).
uint64_t binomial(int64_t n, int64_t k) {
  if (k < 0 || k > n) return 0;
  std::vector<uint64_t> row(static_cast<size_t>(n) + 1, 0);
  row[0] = 1;
  for (int64_t i = 1; i <= n; ++i) {
    for (int64_t j = i; j >= 1; --j) row[j] += row[j - 1];
  }
  return row[static_cast<size_t>(k)];
}

SampleRecord sample(const std::string& problem, int64_t index, std::optional<std::string> answer,
                    bool correct, int64_t tokens = -1, const std::string& finish = "stop") {
  SampleRecord s;
  s.benchmark = "aime";
  s.problem_id = problem;
  s.sample_index = index;
  s.extracted = std::move(answer);
  s.correct = correct;
  s.completion_tokens = tokens;
  s.finish_reason = finish;
  return s;
}

MetricsOptions with_bootstrap(int reps = 0) {
  MetricsOptions options;
  options.bootstrap = reps;
  return options;
}

// Three problems of four samples, and a fourth without samples:
//   p1 (c = 3): "1/2", "0.5", "\frac{1}{2}" (one cluster, correct), "3"        -> maj correct
//   p2 (c = 2): "8", "7", "8", "7": a 2-2 tie, "8" came first (index 0)        -> maj wrong
//   p3 (c = 1): no answer (truncated), "4", "4", "5"                           -> maj wrong
// Tokens: p1 10, 20, 30, 40; p2 unknown; p3 100, 200, unknown, 1000.
std::vector<ProblemInfo> problems() {
  return {{"p1", "1/2", {{"level", "10"}, {"subject", "Algebra"}}},
          {"p2", "7", {{"level", "9"}, {"subject", "Algebra"}}},
          {"p3", "5", {{"level", "2"}, {"subject", "Geometry"}}},
          {"p4", "1", {{"level", "1"}, {"subject", "Algebra"}}}};
}

std::vector<SampleRecord> samples() {
  // Out of order on purpose: ties must go by sample index, not by input order.
  return {sample("p2", 3, "7", true),
          sample("p1", 0, "1/2", true, 10),
          sample("p1", 1, "0.5", true, 20),
          sample("p1", 2, "\\frac{1}{2}", true, 30),
          sample("p1", 3, "3", false, 40),
          sample("p2", 1, "7", true),
          sample("p2", 2, "8", false),
          sample("p2", 0, "8", false),
          sample("p3", 0, std::nullopt, false, 100, "length"),
          sample("p3", 1, "4", false, 200),
          sample("p3", 2, "4", false),
          sample("p3", 3, "5", true, 1000)};
}

TEST(Metrics, PassAtKMatchesExactBinomials) {
  for (int64_t n = 1; n <= 20; ++n) {
    for (int64_t c = 0; c <= n; ++c) {
      for (int64_t k = 1; k <= n; ++k) {
        const double exact =
            1.0 - static_cast<double>(binomial(n - c, k)) / static_cast<double>(binomial(n, k));
        EXPECT_NEAR(pass_at_k(n, c, k), exact, 1e-12) << "n=" << n << " c=" << c << " k=" << k;
      }
    }
  }
  EXPECT_THROW(pass_at_k(4, 2, 5), Error);
  EXPECT_THROW(pass_at_k(4, 5, 1), Error);
  EXPECT_THROW(pass_at_k(4, 2, 0), Error);
}

TEST(Metrics, HandMadeStore) {
  MetricsOptions options;
  options.bootstrap = 2000;
  options.seed = 7;
  const BenchmarkMetrics m = compute_metrics("aime", problems(), samples(), options);
  EXPECT_EQ(m.problems, 3);
  EXPECT_EQ(m.problems_missing, 1);
  EXPECT_EQ(m.samples, 12);
  EXPECT_EQ(m.n_min, 4);
  EXPECT_EQ(m.n_max, 4);
  EXPECT_DOUBLE_EQ(m.pass1, (0.75 + 0.5 + 0.25) / 3);
  ASSERT_EQ(m.pass_at_k.size(), 3u);  // k = 1, 2, 4
  EXPECT_NEAR(m.pass_at_k.at(1), 0.5, 1e-12);
  // pass@2: 1 - C(n-c,2)/C(4,2) = 1, 1 - 1/6, 1 - 3/6.
  EXPECT_NEAR(m.pass_at_k.at(2), (1.0 + 5.0 / 6 + 0.5) / 3, 1e-12);
  EXPECT_NEAR(m.pass_at_k.at(4), 1.0, 1e-12);
  EXPECT_NEAR(m.maj, 1.0 / 3, 1e-12);
  // Rates 0.75, 0.5, 0.25: sample std 0.25.
  EXPECT_NEAR(m.pass1_stderr, 0.25 / std::sqrt(3.0), 1e-12);
  // sqrt((0.1875 + 0.25 + 0.1875) / 4) / 3.
  EXPECT_NEAR(m.pass1_sampling_stderr, std::sqrt(0.625 / 4) / 3, 1e-12);
  EXPECT_NEAR(m.truncated_rate, 1.0 / 12, 1e-12);
  EXPECT_NEAR(m.no_answer_rate, 1.0 / 12, 1e-12);
  ASSERT_TRUE(m.tokens_mean && m.tokens_median);
  EXPECT_DOUBLE_EQ(*m.tokens_mean, 1400.0 / 7);  // 10 20 30 40 100 200 1000
  EXPECT_DOUBLE_EQ(*m.tokens_median, 40.0);

  ASSERT_EQ(m.per_problem.size(), 3u);
  const ProblemMetrics& p1 = m.per_problem[0];
  EXPECT_EQ(p1.id, "p1");
  EXPECT_EQ(p1.c, 3);
  EXPECT_TRUE(p1.maj_correct);
  EXPECT_EQ(p1.majority_answer, "1/2");  // "0.5" and "\frac{1}{2}" joined its cluster
  EXPECT_EQ(p1.majority_votes, 3);
  const ProblemMetrics& p2 = m.per_problem[1];
  EXPECT_EQ(p2.majority_answer, "8");  // 2-2 tie: "8" holds sample 0
  EXPECT_FALSE(p2.maj_correct);
  EXPECT_EQ(m.per_problem[2].majority_answer, "4");
  EXPECT_EQ(m.per_problem[2].majority_votes, 2);

  ASSERT_EQ(m.breakdowns.size(), 2u);
  EXPECT_EQ(m.breakdowns[0].tag, "level");
  ASSERT_EQ(m.breakdowns[0].rows.size(), 3u);  // p4 has no samples: level 1 is absent
  EXPECT_EQ(m.breakdowns[0].rows[0].value, "2");
  EXPECT_EQ(m.breakdowns[0].rows[1].value, "9");
  EXPECT_EQ(m.breakdowns[0].rows[2].value, "10");
  EXPECT_DOUBLE_EQ(m.breakdowns[0].rows[2].pass1, 0.75);
  EXPECT_EQ(m.breakdowns[1].tag, "subject");
  ASSERT_EQ(m.breakdowns[1].rows.size(), 2u);
  EXPECT_EQ(m.breakdowns[1].rows[0].value, "Algebra");
  EXPECT_EQ(m.breakdowns[1].rows[0].problems, 2);
  EXPECT_DOUBLE_EQ(m.breakdowns[1].rows[0].pass1, 0.625);
  EXPECT_DOUBLE_EQ(m.breakdowns[1].rows[1].pass1, 0.25);
}

TEST(Metrics, BootstrapIsDeterministicAndContainsPass1) {
  MetricsOptions options;
  options.bootstrap = 3000;
  options.seed = 11;
  const auto a = compute_metrics("aime", problems(), samples(), options);
  const auto b = compute_metrics("aime", problems(), samples(), options);
  ASSERT_TRUE(a.ci95 && b.ci95);
  EXPECT_EQ(*a.ci95, *b.ci95);
  EXPECT_LT(a.ci95->first, a.pass1);
  EXPECT_GT(a.ci95->second, a.pass1);
  EXPECT_GE(a.ci95->first, 0.25);  // the means of resampled rates stay within the rates
  EXPECT_LE(a.ci95->second, 0.75);
  options.bootstrap = 0;
  EXPECT_FALSE(compute_metrics("aime", problems(), samples(), options).ci95);
}

TEST(Metrics, BreakdownLevelsInNumericOrder) {
  std::vector<ProblemInfo> ps;
  std::vector<SampleRecord> ss;
  for (int level : {7, 10, 1, 3, 9, 2, 5, 8, 4, 6}) {
    const std::string id = "q" + std::to_string(level);
    ps.push_back({id, "1", {{"level", std::to_string(level)}}});
    ss.push_back(sample(id, 0, "1", level % 2 == 0));
  }
  const auto m = compute_metrics("aime", ps, ss, with_bootstrap());
  ASSERT_EQ(m.breakdowns.size(), 1u);
  ASSERT_EQ(m.breakdowns[0].rows.size(), 10u);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(m.breakdowns[0].rows[i].value, std::to_string(i + 1));
    EXPECT_EQ(m.breakdowns[0].rows[i].pass1, (i + 1) % 2 == 0 ? 1.0 : 0.0);
  }
  // pass@k for n = 1 is k = 1 only; n = 3 adds k = 2 and k = 3.
  EXPECT_EQ(m.pass_at_k.size(), 1u);
  std::vector<SampleRecord> three = {sample("q1", 0, "1", true), sample("q1", 1, "2", false),
                                     sample("q1", 2, "2", false)};
  const auto m3 = compute_metrics("aime", {ps[2]}, three, with_bootstrap());
  ASSERT_EQ(m3.pass_at_k.size(), 3u);
  EXPECT_NEAR(m3.pass_at_k.at(3), 1.0, 1e-12);
  EXPECT_NEAR(m3.pass_at_k.at(2), 1.0 - 1.0 / 3, 1e-12);
}

TEST(Metrics, ClusterCapLeavesLaterAnswersOut) {
  const std::vector<ProblemInfo> ps = {{"p", "2", {}}};
  const std::vector<SampleRecord> ss = {sample("p", 0, "1", false), sample("p", 1, "2", true),
                                        sample("p", 2, "2", true)};
  MetricsOptions options;
  options.bootstrap = 0;
  EXPECT_EQ(compute_metrics("aime", ps, ss, options).per_problem[0].majority_answer, "2");
  options.max_clusters = 1;  // "2" finds no room: "1" wins alone
  const auto m = compute_metrics("aime", ps, ss, options);
  EXPECT_EQ(m.per_problem[0].majority_answer, "1");
  EXPECT_EQ(m.maj, 0.0);
}

TEST(Metrics, BadSamplesAreNamed) {
  auto ss = samples();
  ss.push_back(sample("p99", 0, "1", true));
  try {
    compute_metrics("aime", problems(), ss);
    FAIL() << "expected r1::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'p99'"), std::string::npos) << e.what();
  }
  ss = samples();
  ss.push_back(sample("p1", 2, "1", true));
  EXPECT_THROW(compute_metrics("aime", problems(), ss), Error);  // (p1, 2) twice
  ss = samples();
  ss[0].benchmark = "math500";
  EXPECT_THROW(compute_metrics("aime", problems(), ss), Error);
}

TEST(Metrics, EmptyRunIsAllMissing) {
  const auto m = compute_metrics("aime", problems(), {});
  EXPECT_EQ(m.problems, 0);
  EXPECT_EQ(m.problems_missing, 4);
  EXPECT_FALSE(m.ci95);
  EXPECT_FALSE(m.tokens_mean);
  EXPECT_NE(render_summary_md("t", {m}, "").find("| aime | 0 (4 missing) |"), std::string::npos);
}

TEST(Metrics, JsonRoundTrip) {
  BenchmarkMetrics m = compute_metrics("aime", problems(), samples(), with_bootstrap(500));
  m.per_problem[2].majority_answer = std::nullopt;  // the null case too
  const nlohmann::json j = metrics_to_json(m);
  EXPECT_DOUBLE_EQ(j["pass@1"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j["pass@k"]["2"].get<double>(), m.pass_at_k.at(2));
  EXPECT_EQ(j["breakdown"]["subject"]["Algebra"]["problems"], 2);
  EXPECT_TRUE(j["per_problem"][2]["majority_answer"].is_null());
  const BenchmarkMetrics back = metrics_from_json(j, "results.json");
  EXPECT_EQ(metrics_to_json(back), j);
  EXPECT_EQ(back.pass_at_k, m.pass_at_k);
  EXPECT_EQ(back.ci95, m.ci95);
  EXPECT_EQ(back.tokens_median, m.tokens_median);
  ASSERT_EQ(back.breakdowns.size(), 2u);
  EXPECT_EQ(back.breakdowns[0].rows.back().value, "10");  // numeric order restored
  EXPECT_FALSE(back.per_problem[2].majority_answer);

  nlohmann::json broken = j;
  broken.erase("maj@n");
  try {
    metrics_from_json(broken, "run/results.json");
    FAIL() << "expected r1::Error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "run/results.json: field 'maj@n' is missing");
  }
  broken = j;
  broken["per_problem"][1]["n"] = "four";
  EXPECT_THROW(metrics_from_json(broken, "x"), Error);
}

TEST(Metrics, SummaryMarkdown) {
  const auto m = compute_metrics("aime", problems(), samples());
  const std::string md = render_summary_md("R1 eval", {m}, "temperature: 0.6\ntop_p: 0.95");
  EXPECT_EQ(md.rfind("# R1 eval\n", 0), 0u) << md;
  EXPECT_NE(md.find("temperature: 0.6\ntop_p: 0.95\n```"), std::string::npos) << md;
  EXPECT_NE(md.find("| pass@2 | pass@4 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| aime | 3 (1 missing) | 4 | 50.0% ± 14.4% | ["), std::string::npos) << md;
  EXPECT_NE(md.find("| 33.3% | 77.8% | 100.0% | 8.3% | 8.3% | 200 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| level | problems | pass@1 |"), std::string::npos) << md;
  EXPECT_LT(md.find("| 9 | 1 | 50.0% |"), md.find("| 10 | 1 | 75.0% |")) << md;
}

TEST(PairedComparison, BetterEverywhereExcludesZero) {
  const ProblemCounts a = {{"p1", {4, 1}}, {"p2", {4, 0}}, {"p3", {4, 2}}, {"p8", {4, 0}}};
  const ProblemCounts b = {{"p1", {4, 3}}, {"p2", {4, 1}}, {"p3", {4, 4}}, {"p9", {4, 4}}};
  const PairedComparison p = compare_paired("aime", a, b, 3, 2000);
  EXPECT_EQ(p.problems_common, 3);
  EXPECT_EQ(p.only_a, 1);
  EXPECT_EQ(p.only_b, 1);
  EXPECT_EQ(p.better, 3);
  EXPECT_EQ(p.worse, 0);
  EXPECT_DOUBLE_EQ(p.pass1_a, 0.25);
  EXPECT_NEAR(p.diff, (0.5 + 0.25 + 0.5) / 3, 1e-12);
  EXPECT_NEAR(p.stderr_diff, 1.0 / 12, 1e-12);  // differences 6/12, 3/12, 6/12: sd sqrt(3)/12
  EXPECT_GE(p.ci95_lo, 0.25);
  EXPECT_LE(p.ci95_hi, 0.5);
  EXPECT_EQ(p.p_value_method, "exact");
  EXPECT_DOUBLE_EQ(p.p_value, 0.25);  // all + or all -: 2 of 8 sign patterns
  const PairedComparison again = compare_paired("aime", a, b, 3, 2000);
  EXPECT_EQ(again.ci95_lo, p.ci95_lo);
  EXPECT_EQ(again.ci95_hi, p.ci95_hi);
  const std::string md = render_comparison_md(p);
  EXPECT_NE(md.find("which excludes 0: B is better than A"), std::string::npos) << md;
  EXPECT_NE(md.find("+41.7 points"), std::string::npos) << md;
  const nlohmann::json j = comparison_to_json(p);
  EXPECT_EQ(j["better"], 3);
  EXPECT_DOUBLE_EQ(j["ci95"][0].get<double>(), p.ci95_lo);
}

TEST(PairedComparison, IdenticalRunsContainZero) {
  const ProblemCounts a = {{"p1", {4, 1}}, {"p2", {8, 5}}, {"p3", {4, 4}}};
  const PairedComparison p = compare_paired("aime", a, a);
  EXPECT_EQ(p.diff, 0.0);
  EXPECT_EQ(p.same, 3);
  EXPECT_LE(p.ci95_lo, 0.0);
  EXPECT_GE(p.ci95_hi, 0.0);
  EXPECT_EQ(p.p_value, 1.0);
  EXPECT_NE(render_comparison_md(p).find("which contains 0"), std::string::npos);
}

TEST(PairedComparison, MonteCarloPastTwentyDifferences) {
  ProblemCounts a, b;
  for (int i = 0; i < 30; ++i) {
    const std::string id = "p" + std::to_string(i);
    a[id] = {2, 0};
    b[id] = {2, 1};
  }
  const PairedComparison p = compare_paired("aime", a, b, 0, 999);
  EXPECT_EQ(p.p_value_method, "monte_carlo");
  EXPECT_DOUBLE_EQ(p.p_value, 1.0 / 1000);  // no random pattern is as extreme as all-plus
  ProblemCounts mixed = a;
  mixed["p0"] = {2, 2};  // one nonzero difference: both its sign patterns are as extreme
  const PairedComparison one = compare_paired("aime", a, mixed);
  EXPECT_EQ(one.p_value_method, "exact");
  EXPECT_EQ(one.p_value, 1.0);
  EXPECT_EQ(one.better, 1);
  EXPECT_EQ(one.same, 29);
  EXPECT_THROW(compare_paired("aime", a, {{"zz", {2, 1}}}), Error);  // nothing in common
  EXPECT_THROW(compare_paired("aime", a, {{"p0", {2, 3}}}), Error);  // c > n
}

// Issue 20, point 3: throughput over every generation pass, latency percentiles over the samples
// that were timed (numpy's linear interpolation), batch fill weighted by each pass's wall time.
TEST(Speed, ThroughputPercentilesAndFill) {
  nlohmann::json run = {{"generations",
                         {generation_record(10, 4, 400, 100, {{"batch_fill", 1.0}}),
                          generation_record(30, 4, 400, 300, {{"batch_fill", 0.5}})}}};
  std::vector<SampleRecord> samples(5);
  const double ttft[5] = {0.4, 0.1, 0.2, 0.3, -1};  // the last one was not timed
  for (int i = 0; i < 5; ++i) samples[i].ttft_s = ttft[i];
  const auto speed = speed_json(run, samples);
  EXPECT_DOUBLE_EQ(speed["wall_s"].get<double>(), 40);
  EXPECT_DOUBLE_EQ(speed["generated_tok_s"].get<double>(), 10);
  EXPECT_DOUBLE_EQ(speed["prompt_tok_s"].get<double>(), 20);
  EXPECT_DOUBLE_EQ(speed["batch_fill"].get<double>(), (10 * 1.0 + 30 * 0.5) / 40);
  EXPECT_EQ(speed["ttft_s"]["samples"], 4);
  EXPECT_DOUBLE_EQ(speed["ttft_s"]["mean"].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(speed["ttft_s"]["p50"].get<double>(), 0.25);
  EXPECT_NEAR(speed["ttft_s"]["p90"].get<double>(), 0.37, 1e-12);  // 0.3 + 0.7 * (0.4 - 0.3)
  EXPECT_TRUE(speed["tpot_s"].is_null());
  const std::string line = speed_line(speed);
  EXPECT_NE(line.find("20.0 prompt tok/s, 10.0 generated tok/s over 40 s"), std::string::npos)
      << line;
  EXPECT_NE(line.find("batch fill 62%"), std::string::npos) << line;
  EXPECT_EQ(speed_line(speed_json(nlohmann::json::object(), {})), "");
}

}  // namespace
}  // namespace r1
