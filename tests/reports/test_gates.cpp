// Gate arithmetic against hand-computed cases: parsing, absolute, guard, relative (paired,
// judged on the interval's end), missing data, and agreement with r1eval compare's interval.
#include <gtest/gtest.h>

#include <cmath>   // std::pow
#include <string>  // std::string

#include "evals/metrics.h"  // r1::compare_paired
#include "reports/gates.h"
#include "tests/test_util.h"  // r1::test::error_of
#include "toolkit/error.h"    // r1::Error

namespace {

using nlohmann::json;

// A results.json benchmark block with the fields gates read: per-problem (n, c, maj_correct) and
// the aggregates.
json block(const std::vector<std::tuple<std::string, int, int, bool>>& problems,
           double truncated = 0, double tokens = 0) {
  json b = {{"truncated_rate", truncated},
            {"no_answer_rate", 0.0},
            {"completion_tokens", {{"mean", tokens}, {"median", tokens}}},
            {"per_problem", json::array()}};
  for (const auto& [id, n, c, maj] : problems)
    b["per_problem"].push_back({{"id", id}, {"n", n}, {"c", c}, {"maj_correct", maj}});
  return b;
}

std::vector<json> eval(const std::string& expr, const json& benchmarks,
                       const json* prev = nullptr) {
  r1::GateInputs in;
  in.benchmarks = &benchmarks;
  if (prev) in.references["prev"] = {"stage before", prev, nullptr};
  return r1::evaluate_gates({r1::parse_gate(expr)}, in);
}

TEST(Gates, Parse) {
  auto g = r1::parse_gate("  math500.pass@1 >= 0.50 ");
  EXPECT_EQ(g.benchmark, "math500");
  EXPECT_EQ(g.metric, "pass@1");
  EXPECT_EQ(g.op, ">=");
  EXPECT_EQ(g.reference, "");
  EXPECT_DOUBLE_EQ(g.number, 0.5);
  g = r1::parse_gate("aime2024.pass@1>=prev-0.02");
  EXPECT_EQ(g.reference, "prev");
  EXPECT_DOUBLE_EQ(g.number, -0.02);
  g = r1::parse_gate("truncated_rate <= 5%");
  EXPECT_EQ(g.benchmark, "");
  EXPECT_DOUBLE_EQ(g.number, 0.05);
  g = r1::parse_gate("my.data.v2.maj@n > base + 1e-2");
  EXPECT_EQ(g.benchmark, "my.data.v2");
  EXPECT_EQ(g.reference, "baseline");
  EXPECT_DOUBLE_EQ(g.number, 0.01);
  g = r1::parse_gate("pass@1 >= prev");
  EXPECT_DOUBLE_EQ(g.number, 0);

  for (const char* bad :
       {"pass@1 = 0.5", "accuracy >= 0.5", "pass@1 >= prevv", "pass@0 >= 1", "math500.kept >= 10",
        ".pass@1 >= 0.1", "pass@1 >= prev - x", "pass@1 >= 0.5 >= 0.2", "pass@1 >= prev - -1"}) {
    try {
      r1::parse_gate(bad);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const r1::Error& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
  // Three megabytes of digits crashed the reader (std::regex recurses per character).
  for (const std::string rhs : {"", "prev - "}) {
    const std::string huge = "heldout.pass@1 >= " + rhs + std::string(3000000, '9');
    const std::string err = r1::test::error_of([&] { r1::parse_gate(huge); });
    EXPECT_NE(err.find("is longer than 300 characters"), std::string::npos) << err.substr(0, 200);
    EXPECT_LT(err.size(), 200u);
  }
  EXPECT_THROW(r1::parse_gate_list(json("pass@1 >= 0"), "f.yaml: gates"), r1::Error);
  try {
    r1::parse_gate_list(json::array({"pass@1 >= 0", 3}), "f.yaml: gates");
    ADD_FAILURE();
  } catch (const r1::Error& e) {
    EXPECT_NE(std::string(e.what()).find("f.yaml: gates[1]"), std::string::npos) << e.what();
  }
}

// pass@1 = (1 + 0.5 + 0) / 3 = 0.5; pass@2 = (1 + (1 - C(2,2)/C(4,2)) + 0) / 3 = 11/18;
// maj@n = 1/3.
TEST(Gates, AbsoluteByHand) {
  const json b = {{"m", block({{"p1", 4, 4, true}, {"p2", 4, 2, false}, {"p3", 4, 0, false}})}};
  auto r = eval("m.pass@1 >= 0.5", b);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]["status"], "passed");
  EXPECT_EQ(r[0]["kind"], "absolute");
  EXPECT_DOUBLE_EQ(r[0]["value"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(r[0]["slack"].get<double>(), 0.0);
  EXPECT_EQ(r[0]["judged_on"], "point");
  // The bootstrap means of 3 problems: the interval spans [0, 1] ends' neighbourhood; the
  // confidence is the share of resample means >= 0.5, P = 1 - P(mean < 0.5) over 27 equally likely
  // resamples: means < 0.5 are those with sum < 1.5 -> {0,0,0},{0,0,.5}x3,{0,0,1}x3,{0,.5,.5}x3 =
  // 10/27, so 17/27.
  EXPECT_NEAR(r[0]["confidence"].get<double>(), 17.0 / 27.0, 0.015);
  r = eval("m.pass@1 > 0.5", b);
  EXPECT_EQ(r[0]["status"], "failed");
  r = eval("m.pass@1 >= 50%", b);
  EXPECT_EQ(r[0]["status"], "passed");
  r = eval("m.pass@2 >= 0.6", b);
  EXPECT_EQ(r[0]["status"], "passed");
  EXPECT_NEAR(r[0]["value"].get<double>(), 11.0 / 18.0, 1e-12);
  EXPECT_NEAR(r[0]["slack"].get<double>(), 11.0 / 18.0 - 0.6, 1e-12);
  r = eval("m.maj@n <= 0.3", b);
  EXPECT_EQ(r[0]["status"], "failed");
  EXPECT_NEAR(r[0]["slack"].get<double>(), 0.3 - 1.0 / 3.0, 1e-12);
  EXPECT_NE(r[0]["message"].get<std::string>().find("short by 0.033"), std::string::npos)
      << r[0]["message"];
  r = eval("m.pass@8 >= 0.1", b);  // 4 samples cannot give pass@8
  EXPECT_EQ(r[0]["status"], "missing");
  EXPECT_NE(r[0]["message"].get<std::string>().find("needs 8 samples"), std::string::npos);
}

TEST(Gates, GuardAndData) {
  const json b = {{"m", block({{"p1", 4, 4, true}}, 0.1, 1200)}};
  auto r = eval("truncated_rate <= 0.05", b);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]["kind"], "guard");
  EXPECT_EQ(r[0]["status"], "failed");
  EXPECT_NEAR(r[0]["slack"].get<double>(), -0.05, 1e-12);
  EXPECT_TRUE(r[0]["confidence"].is_null());
  const json prev = {{"m", block({{"p1", 4, 4, true}}, 0.0, 1000)}};
  r = eval("m.tokens_mean <= prev + 100", b, &prev);  // 1200 - 1000 = 200 > 100
  EXPECT_EQ(r[0]["kind"], "relative");
  EXPECT_EQ(r[0]["status"], "failed");
  EXPECT_DOUBLE_EQ(r[0]["estimate"].get<double>(), 200);
  EXPECT_DOUBLE_EQ(r[0]["slack"].get<double>(), -100);

  const json data = {{"rows", 100}, {"kept", 40}, {"kept_rate", 0.4}};
  r1::GateInputs in;
  in.data = &data;
  r = r1::evaluate_gates({r1::parse_gate("kept_rate >= 0.5"), r1::parse_gate("kept >= 40")}, in);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0]["status"], "failed");
  EXPECT_NEAR(r[0]["slack"].get<double>(), -0.1, 1e-12);
  EXPECT_EQ(r[1]["status"], "passed");
  EXPECT_FALSE(r1::gates_passed(r));
}

// Two problems with differences {0, -0.2}: resample means are 0, -0.1, -0.2 with probabilities
// 1/4, 1/2, 1/4, so the 95% interval is [-0.2, 0] and P(mean >= -0.1) = 3/4.
TEST(Gates, RelativeJudgedOnTheIntervalByHand) {
  const json cur = {{"m", block({{"a", 10, 10, true}, {"b", 10, 5, true}})}};
  const json prev = {{"m", block({{"a", 10, 10, true}, {"b", 10, 7, true}})}};
  auto r = eval("m.pass@1 >= prev - 0.1", cur, &prev);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]["kind"], "relative");
  EXPECT_EQ(r[0]["judged_on"], "ci95_lo");
  EXPECT_NEAR(r[0]["estimate"].get<double>(), -0.1, 1e-12);  // the mean alone would pass
  EXPECT_NEAR(r[0]["ci95"][0].get<double>(), -0.2, 1e-12);
  EXPECT_NEAR(r[0]["ci95"][1].get<double>(), 0.0, 1e-12);
  EXPECT_EQ(r[0]["status"], "failed");
  EXPECT_NEAR(r[0]["slack"].get<double>(), -0.1, 1e-12);
  EXPECT_NEAR(r[0]["confidence"].get<double>(), 0.75, 0.015);
  EXPECT_NEAR(r[0]["margin"].get<double>(), 0.1, 1e-12);
  EXPECT_EQ(r[0]["reference_label"], "stage before");
  EXPECT_EQ(r[0]["problems_common"], 2);
  EXPECT_NE(r[0]["message"].get<std::string>().find("lower end -0.200 is not >= -0.100"),
            std::string::npos)
      << r[0]["message"];
  r = eval("m.pass@1 >= prev - 0.2", cur, &prev);
  EXPECT_EQ(r[0]["status"], "passed");
  r = eval("m.pass@1 <= prev + 0.0", cur, &prev);  // upper end 0 <= 0
  EXPECT_EQ(r[0]["judged_on"], "ci95_hi");
  EXPECT_EQ(r[0]["status"], "passed");
  r = eval("m.pass@1 < prev", cur, &prev);
  EXPECT_EQ(r[0]["status"], "failed");
}

// Every problem 0.25 better: the interval is [0.25, 0.25]; "> prev" (a shown improvement) holds
// in every resample. Problems only one side holds are left out.
TEST(Gates, RelativeImprovementAndCommonProblems) {
  std::vector<std::tuple<std::string, int, int, bool>> a, b;
  for (int i = 0; i < 20; ++i) {
    a.emplace_back("p" + std::to_string(i), 4, 1, false);
    b.emplace_back("p" + std::to_string(i), 4, 2, false);
  }
  b.emplace_back("extra", 4, 0, false);
  const json cur = {{"m", block(b)}}, prev = {{"m", block(a)}};
  auto r = eval("pass@1 > prev", cur, &prev);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]["status"], "passed");
  EXPECT_EQ(r[0]["problems_common"], 20);
  EXPECT_NEAR(r[0]["ci95"][0].get<double>(), 0.25, 1e-12);
  EXPECT_NEAR(r[0]["slack"].get<double>(), 0.25, 1e-12);
  EXPECT_DOUBLE_EQ(r[0]["confidence"].get<double>(), 1.0);
}

// The gate's interval is r1eval compare's: same paired resampling, same seed.
TEST(Gates, IntervalEqualsCompare) {
  r1::ProblemCounts pa, pb;
  std::vector<std::tuple<std::string, int, int, bool>> a, b;
  for (int i = 0; i < 30; ++i) {
    const std::string id = "q" + std::to_string(i);
    const int ca = (i * 7) % 17, cb = (i * 5 + 3) % 17;
    pa[id] = {16, ca};
    pb[id] = {16, cb};
    a.emplace_back(id, 16, ca, false);
    b.emplace_back(id, 16, cb, false);
  }
  const auto cmp = r1::compare_paired("m", pa, pb, 7, 2000);
  const json cur = {{"m", block(b)}}, prev = {{"m", block(a)}};
  r1::GateInputs in;
  in.benchmarks = &cur;
  in.references["baseline"] = {"base", &prev, nullptr};
  in.bootstrap = 2000;
  in.seed = 7;
  const auto r = r1::evaluate_gates({r1::parse_gate("m.pass@1 >= baseline - 0.05")}, in);
  EXPECT_NEAR(r[0]["estimate"].get<double>(), cmp.diff, 1e-12);
  EXPECT_DOUBLE_EQ(r[0]["ci95"][0].get<double>(), cmp.ci95_lo);
  EXPECT_DOUBLE_EQ(r[0]["ci95"][1].get<double>(), cmp.ci95_hi);
}

TEST(Gates, MissingNeverPasses) {
  const json b = {{"m", block({{"p1", 4, 4, true}})}, {"n", block({{"p1", 4, 0, false}})}};
  auto r = eval("pass@1 >= prev - 0.02", b);  // no prev given
  ASSERT_EQ(r.size(), 2u);                    // one per benchmark
  EXPECT_EQ(r[0]["benchmark"], "m");
  EXPECT_EQ(r[1]["benchmark"], "n");
  EXPECT_EQ(r[0]["status"], "missing");
  EXPECT_FALSE(r1::gates_passed(r));
  r = eval("other.pass@1 >= 0", b);
  EXPECT_EQ(r[0]["status"], "missing");
  EXPECT_NE(r[0]["message"].get<std::string>().find("no benchmark 'other'"), std::string::npos);
  r1::GateInputs none;  // not evaluated at all
  r = r1::evaluate_gates({r1::parse_gate("pass@1 >= 0")}, none);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]["status"], "missing");
  const json empty_prev = json::object();
  r = eval("m.pass@1 >= prev", b, &empty_prev);
  EXPECT_EQ(r[0]["status"], "missing");
  EXPECT_TRUE(r1::gates_passed({}));
}

}  // namespace
