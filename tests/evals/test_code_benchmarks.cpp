// Code benchmark loaders on the real shared files (counts, test splits, stated limits, the
// LiveCodeBench date window), malformed rows named by FILE:LINE and field, the prompts (the
// benchmark's own format, no \boxed{} instruction), and the shape of the judged programs.
#include <gtest/gtest.h>

#include <fstream>  // std::ofstream

#include "evals/benchmarks.h"       // r1::find_benchmark, r1::load_dataset
#include "evals/code_benchmarks.h"  // r1::CodeTask, r1::filter_by_date, r1::build_code_program
#include "evals/protocol.h"         // r1::protocol_messages
#include "tests/test_util.h"        // r1::test::TempDir
#include "toolkit/error.h"          // r1::Error

namespace {

using r1::CodeTask;
using r1::Problem;

const std::string kData = "../shared/data/benchmarks/";

std::vector<Problem> load(const std::string& name) {
  const auto& spec = r1::find_benchmark(name);
  return r1::load_dataset(kData + spec.file, spec);
}

size_t count_kind(const std::vector<Problem>& ps, CodeTask::Kind k) {
  size_t n = 0;
  for (const auto& p : ps) n += p.code->kind == k;
  return n;
}

size_t count_tests(const std::vector<Problem>& ps) {
  size_t n = 0;
  for (const auto& p : ps) n += p.code->tests.size();
  return n;
}

TEST(CodeBenchmarks, HumanEval) {
  const auto ps = load("humaneval");
  ASSERT_EQ(ps.size(), 164u);
  EXPECT_EQ(ps[0].id, "HumanEval/0");
  EXPECT_EQ(ps[0].code->entry_point, "has_close_elements");
  EXPECT_EQ(count_kind(ps, CodeTask::Kind::HumanEval), 164u);
  for (const auto& p : ps) {
    EXPECT_NE(p.code->check_code.find("def check("), std::string::npos) << p.id;
    EXPECT_EQ(p.question, p.code->prompt);
    EXPECT_EQ(p.code->time_limit_s, 10);
  }
}

TEST(CodeBenchmarks, LiveCodeBench) {
  const auto ps = load("livecodebench");
  ASSERT_EQ(ps.size(), 400u);
  EXPECT_EQ(count_kind(ps, CodeTask::Kind::Stdin), 219u);
  EXPECT_EQ(count_kind(ps, CodeTask::Kind::Functional), 181u);
  const Problem& first = ps[0];
  EXPECT_EQ(first.id, "1873_A");
  EXPECT_EQ(first.code->date, "2023-08-21");
  EXPECT_EQ(first.code->kind, CodeTask::Kind::Stdin);
  const std::vector<std::pair<std::string, std::string>> tags = {
      {"difficulty", "easy"}, {"platform", "codeforces"}, {"type", "stdin"}};
  EXPECT_EQ(first.tags, tags);
  for (const auto& p : ps) {
    if (p.code->kind != CodeTask::Kind::Functional) continue;
    EXPECT_FALSE(p.code->func_name.empty()) << p.id;
    EXPECT_NE(p.code->starter_code.find("class Solution"), std::string::npos) << p.id;
  }
}

TEST(CodeBenchmarks, DateWindow) {
  const auto ps = load("livecodebench");
  EXPECT_EQ(r1::filter_by_date(ps, "2023-09-01", "", "livecodebench").size(), 238u);
  EXPECT_EQ(r1::filter_by_date(ps, "", "2023-06-30", "livecodebench").size(), 73u);
  const auto window = r1::filter_by_date(ps, "2023-09-01", "2023-12-31", "livecodebench");
  EXPECT_EQ(window.size(), 163u);
  for (const auto& p : window) {
    EXPECT_GE(p.code->date, "2023-09-01");
    EXPECT_LE(p.code->date, "2023-12-31");
  }
  EXPECT_EQ(count_kind(window, CodeTask::Kind::Functional), 71u);
  // Inclusive bounds: the first and last contest days.
  EXPECT_EQ(r1::filter_by_date(ps, "2023-05-07", "2023-05-07", "livecodebench").size(),
            r1::filter_by_date(ps, "", "2023-05-07", "livecodebench").size());
  try {
    r1::filter_by_date(ps, "2025-01-01", "", "livecodebench");
    FAIL();
  } catch (const r1::Error& e) {
    EXPECT_NE(std::string(e.what()).find("2023-05-07 to 2024-03-02"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(r1::filter_by_date(ps, "2023-9-1", "", "livecodebench"), r1::Error);
  EXPECT_THROW(r1::filter_by_date(load("humaneval"), "2023-09-01", "", "humaneval"), r1::Error);
}

TEST(CodeBenchmarks, CodeContestsFormats) {
  const auto rllm = load("codecontests");
  ASSERT_EQ(rllm.size(), 165u);
  EXPECT_EQ(count_tests(rllm), 1837u);
  EXPECT_EQ(rllm[0].id, "1");
  // "Time Limit: {'seconds': 2, 'nanos': 0}", "Memory Limit: 512000000 Bytes".
  EXPECT_EQ(rllm[0].code->time_limit_s, 2);
  EXPECT_EQ(rllm[0].code->memory_mb, 488);

  const auto cf = load("codeforces");
  ASSERT_EQ(cf.size(), 408u);
  EXPECT_EQ(count_tests(cf), 468u);
  // "Time Limit: 1000 ms", "Memory Limit: 256 MB".
  EXPECT_EQ(cf[0].code->time_limit_s, 1);
  EXPECT_EQ(cf[0].code->memory_mb, 256);
  EXPECT_EQ(cf[0].code->tests[0].output.substr(0, 8), "1 9\n4 8\n");

  const auto sf = load("codecontests-sf");
  ASSERT_EQ(sf.size(), 20u);
  EXPECT_EQ(sf[0].id, "0");
  EXPECT_EQ(sf[0].code->tests.size(), 101u);
  EXPECT_EQ(sf[0].code->tests[0].output, "0\n1\n2\n");
  EXPECT_EQ(sf[0].code->time_limit_s, 6);  // none stated: the benchmark's
  const std::vector<std::pair<std::string, std::string>> tags = {{"difficulty", "MEDIUM"},
                                                                 {"source", "CODECHEF"}};
  EXPECT_EQ(sf[0].tags, tags);
  for (const auto* ps : {&rllm, &cf, &sf})
    for (const auto& p : *ps) EXPECT_EQ(p.code->kind, CodeTask::Kind::Stdin);
}

// The error of loading `text` as benchmark `name`'s format.
std::string load_error(const std::string& name, const std::string& text) {
  r1::test::TempDir dir;
  const std::string path = dir / "data.jsonl";
  std::ofstream(path) << text;
  try {
    r1::load_dataset(path, r1::find_benchmark(name));
  } catch (const r1::Error& e) {
    return e.what();
  }
  return "";
}

TEST(CodeBenchmarks, MalformedRowsNameFileLineAndField) {
  const std::string he =
      R"({"task_id": "a", "prompt": "def f():\n", "entry_point": "f", "test": "def check(c): pass"})";
  EXPECT_EQ(load_error("humaneval", he + "\n"), "");
  std::string e = load_error("humaneval", he + "\n{\"task_id\": \"b\", \"prompt\": \"p\"}\n");
  EXPECT_NE(e.find("data.jsonl:2: missing field 'entry_point'"), std::string::npos) << e;
  e = load_error("humaneval", he + "\n" + he + "\n");
  EXPECT_NE(e.find("problem id 'a' appears twice"), std::string::npos) << e;
  e = load_error("humaneval",
                 R"({"task_id": "a", "prompt": "p", "entry_point": "f", "test": "assert 1"})");
  EXPECT_NE(e.find("data.jsonl:1: field 'test' defines no check(candidate)"), std::string::npos)
      << e;
  e = load_error("humaneval", "\n\nnot json\n");
  EXPECT_NE(e.find("data.jsonl:3"), std::string::npos) << e;

  const std::string lcb_ok =
      R"({"question_id": "q", "question_content": "c", "contest_date": "2024-01-02T00:00:00", )"
      R"("starter_code": "", "difficulty": "easy", "platform": "atcoder", "metadata": "{}", )"
      R"("public_test_cases": "[{\"input\": \"1\", \"output\": \"1\", \"testtype\": \"stdin\"}]"})";
  EXPECT_EQ(load_error("livecodebench", lcb_ok), "");
  auto lcb = [&](const std::string& from, const std::string& to) {
    std::string row = lcb_ok;
    const size_t at = row.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return load_error("livecodebench", "\n" + row.replace(at, from.size(), to));
  };
  e = lcb(R"("public_test_cases": "[{)", R"("public_test_cases": "[{{)");
  EXPECT_NE(e.find("data.jsonl:2: field 'public_test_cases' is not valid JSON text"),
            std::string::npos)
      << e;
  e = lcb(R"(\"testtype\": \"stdin\")", R"(\"testtype\": \"functional\")");
  EXPECT_NE(e.find("data.jsonl:2: field 'metadata' needs a func_name"), std::string::npos) << e;
  e = lcb(R"(\"testtype\": \"stdin\")", R"(\"testtype\": \"interactive\")");
  EXPECT_NE(e.find("data.jsonl:2: field 'public_test_cases' must hold tests of one testtype"),
            std::string::npos)
      << e;
  e = lcb("2024-01-02T00:00:00", "Jan 2");
  EXPECT_NE(e.find("data.jsonl:2: field 'contest_date'"), std::string::npos) << e;
  e = lcb(R"("platform": "atcoder", )", "");
  EXPECT_NE(e.find("data.jsonl:2: missing field 'platform'"), std::string::npos) << e;

  e = load_error("codecontests",
                 R"([{"problem": "p", "tests": {"inputs": ["1"], "outputs": []}}])");
  EXPECT_NE(e.find("data.jsonl: [0]: field 'tests' must hold lists 'inputs' and 'outputs' of one "
                   "length"),
            std::string::npos)
      << e;
  e = load_error("codeforces", R"([{"problem": "p", "tests": []}, {"problem": "q"}])");
  EXPECT_NE(e.find("data.jsonl: [0]: field 'tests' holds no test"), std::string::npos) << e;
  e = load_error("codecontests-sf",
                 R"({"id": 1, "content": "c", "test": "[{\"input\": {\"stdin\": \"1\"}}]"})");
  EXPECT_NE(e.find("data.jsonl:1: test[0]: missing field 'output'"), std::string::npos) << e;
}

TEST(CodeBenchmarks, PromptsAreTheBenchmarksOwn) {
  const r1::Protocol p = r1::protocol_preset("r1");
  const auto lcb = load("livecodebench");
  for (const auto& pr : lcb) {
    const std::string user = r1::protocol_messages(p, pr).back().content;
    EXPECT_EQ(user.find("\\boxed"), std::string::npos);
    EXPECT_NE(user.find("### Question:\n" + pr.question), std::string::npos);
    if (pr.code->kind == CodeTask::Kind::Functional) {
      EXPECT_NE(user.find("You will use the following starter code"), std::string::npos);
      EXPECT_NE(user.find("```python\n" + pr.code->starter_code + "\n```"), std::string::npos);
    } else {
      EXPECT_NE(user.find("Read the inputs from stdin"), std::string::npos);
    }
  }
  const auto he = load("humaneval");
  const std::string user = r1::protocol_messages(p, he[0]).back().content;
  EXPECT_NE(user.find("```python\n" + he[0].code->prompt + "```"), std::string::npos);
  EXPECT_EQ(user.find("\\boxed"), std::string::npos);
  // A math problem keeps the R1 instruction.
  Problem math;
  math.question = "1+1?";
  EXPECT_NE(r1::protocol_messages(p, math).back().content.find("\\boxed{}"), std::string::npos);
}

TEST(CodeBenchmarks, ProgramsToJudge) {
  const auto lcb = load("livecodebench");
  const Problem* fn = nullptr;
  for (const auto& p : lcb)
    if (p.code->kind == CodeTask::Kind::Functional && !fn) fn = &p;
  ASSERT_NE(fn, nullptr);
  // Functional problems run in Python only: C++ is the model's mistake, said so.
  try {
    r1::build_code_program(*fn->code, "int main() {}", r1::sandbox::Lang::Cpp);
    FAIL();
  } catch (const r1::Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("wrong_language: cpp", 0), 0u) << e.what();
  }
  const auto prog = r1::build_code_program(
      *fn->code, "from __future__ import annotations\nclass Solution: pass\n",
      r1::sandbox::Lang::Python);
  EXPECT_EQ(prog.source.rfind("from __future__ import annotations\n", 0), 0u);
  EXPECT_EQ(prog.tests.size(), fn->code->tests.size());
  EXPECT_EQ(prog.tests[0].output, r1::kHarnessPass);
  // Stdin problems: the code as written (LiveCodeBench's imports first for Python).
  const auto cpp = r1::build_code_program(*lcb[0].code, "int main() {}", r1::sandbox::Lang::Cpp);
  EXPECT_EQ(cpp.source, "int main() {}");
  EXPECT_EQ(cpp.tests.size(), lcb[0].code->tests.size());
  const auto py = r1::build_code_program(*lcb[0].code, "print(1)", r1::sandbox::Lang::Python);
  EXPECT_EQ(py.source.rfind("from string import *\n", 0), 0u);
}

}  // namespace
