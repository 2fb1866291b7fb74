// grade_answer over the grading corpus: every (gold, pred, expected) pair of
// tests/data/grading/gold_rewrites.jsonl (real MATH-500 / AIME golds, their equivalent rewrites and
// wrong perturbations; written by tests/reference/make_grading_rewrites.py). Bare answers only.
#include <nlohmann/json.hpp>  // nlohmann::json

#include <fstream>   // std::ifstream
#include <iostream>  // std::cout
#include <map>       // std::map
#include <sstream>   // std::ostringstream
#include <string>    // std::string
#include <utility>   // std::pair

#include "evals/math_grader.h"  // r1::grade_answer
#include "tests/test_util.h"    // gtest

namespace r1 {
namespace {

constexpr const char* kCorpus = "tests/data/grading/gold_rewrites.jsonl";

TEST(GradingCorpus, EveryPairGetsItsExpectedVerdict) {
  std::ifstream in(kCorpus);
  ASSERT_TRUE(in) << "cannot open " << kCorpus << " (tests run from the repo root)";
  std::map<std::string, std::pair<int, int>> by_kind;  // kind -> (failures, pairs)
  int pairs = 0;
  int failures = 0;
  std::string line;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    if (line.empty()) continue;
    const auto row = nlohmann::json::parse(line);
    const auto gold = row.at("gold").get<std::string>();
    const auto pred = row.at("pred").get<std::string>();
    const auto kind = row.at("kind").get<std::string>();
    const bool expected = row.at("expected").get<bool>();
    const Grade grade = grade_answer(gold, pred);
    ++pairs;
    ++by_kind[kind].second;
    EXPECT_EQ(grade.correct, expected)
        << kCorpus << ":" << line_no << " kind=" << kind << " gold=" << gold << " pred=" << pred
        << " reason=" << grade.reason;
    if (grade.correct != expected) {
      ++failures;
      ++by_kind[kind].first;
    }
  }
  ASSERT_GT(pairs, 0) << kCorpus << " has no pairs";
  std::ostringstream summary;
  summary << failures << " of " << pairs << " pairs wrong";
  for (const auto& [kind, counts] : by_kind) {
    if (counts.first > 0) summary << "\n  " << kind << ": " << counts.first << "/" << counts.second;
  }
  EXPECT_EQ(failures, 0) << summary.str();
  std::cout << "[ corpus   ] " << summary.str() << "\n";
}

}  // namespace
}  // namespace r1
