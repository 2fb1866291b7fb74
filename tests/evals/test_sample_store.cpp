// The sample store: append + reopen, torn last lines cut, malformed lines and duplicates refused
// with the line number, atomic rewrite; benchmark datasets and protocol seeds.
#include <gtest/gtest.h>

#include <fstream>  // std::ofstream

#include "evals/benchmarks.h"    // r1::load_dataset
#include "evals/protocol.h"      // r1::sample_seed
#include "evals/sample_store.h"  // r1::SampleStore
#include "tests/test_util.h"     // r1::test::TempDir
#include "toolkit/error.h"       // r1::Error
#include "toolkit/fs.h"          // r1::read_file

namespace {

r1::SampleRecord record(const std::string& problem, int64_t index, bool correct = false) {
  r1::SampleRecord s;
  s.benchmark = "aime2024";
  s.problem_id = problem;
  s.sample_index = index;
  s.seed = 1234 + index;
  s.prompt_hash = "abc";
  s.response = "reasoning\n</think>\n\\boxed{" + std::to_string(index) + "}";
  s.finish_reason = "stop";
  s.prompt_tokens = 10;
  s.completion_tokens = 20;
  s.latency_s = 0.5;
  s.extracted = std::to_string(index);
  s.correct = correct;
  s.reason = correct ? "equal_number" : "different";
  return s;
}

void append_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::app | std::ios::binary) << text;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const r1::Error& e) {
    return e.what();
  }
  return "";
}

TEST(SampleStore, AppendsAndReopens) {
  r1::test::TempDir dir;
  const std::string path = dir / "samples.jsonl";
  {
    r1::SampleStore store(path);
    EXPECT_EQ(store.size(), 0u);
    store.append(record("1", 0, true));
    store.append(record("1", 1));
    auto odd = record("2", 0);
    odd.extracted.reset();
    odd.reasoning = "thoughts";
    odd.response = "caf\xc3\xa9 \xff";  // invalid UTF-8 is stored replaced, not refused
    store.append(odd);
    EXPECT_TRUE(store.contains("aime2024", "1", 1));
    EXPECT_FALSE(store.contains("aime2024", "1", 2));
    EXPECT_NE(error_of([&] { store.append(record("1", 0)); }).find("already stored"),
              std::string::npos);
  }
  r1::SampleStore again(path);
  ASSERT_EQ(again.size(), 3u);
  const auto s = again.samples();
  EXPECT_EQ(s[0].problem_id, "1");
  EXPECT_TRUE(s[0].correct);
  EXPECT_EQ(s[0].seed, 1234u);
  EXPECT_EQ(s[0].response, record("1", 0).response);
  EXPECT_EQ(s[0].extracted, std::optional<std::string>("0"));
  EXPECT_FALSE(s[2].extracted.has_value());
  EXPECT_EQ(s[2].reasoning, "thoughts");
  EXPECT_EQ(s[2].response, "caf\xc3\xa9 \xef\xbf\xbd");
  EXPECT_EQ(again.torn_bytes(), 0);
}

TEST(SampleStore, CutsATornLastLineAndKeepsTheRest) {
  r1::test::TempDir dir;
  const std::string path = dir / "samples.jsonl";
  {
    r1::SampleStore store(path);
    store.append(record("1", 0));
  }
  const std::string good = r1::read_file(path);
  append_text(path, "{\"benchmark\":\"aime2024\",\"problem_id\":\"1\",\"sample_in");
  {
    r1::SampleStore store(path);
    EXPECT_EQ(store.size(), 1u);
    EXPECT_GT(store.torn_bytes(), 0);
    EXPECT_EQ(r1::read_file(path), good);  // cut on disk too
    store.append(record("1", 1));          // and appends go after the good line
  }
  r1::SampleStore store(path);
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(store.torn_bytes(), 0);
}

TEST(SampleStore, RefusesMalformedLinesAndDuplicatesNamingTheLine) {
  r1::test::TempDir dir;
  const std::string path = dir / "samples.jsonl";
  {
    r1::SampleStore store(path);
    store.append(record("1", 0));
  }
  const std::string before = r1::read_file(path);
  append_text(path, "{not json}\n");
  std::string e = error_of([&] { r1::SampleStore s(path); });
  EXPECT_NE(e.find("samples.jsonl:2"), std::string::npos) << e;
  std::ofstream(path, std::ios::binary) << before << before;
  e = error_of([&] { r1::SampleStore s(path); });
  EXPECT_NE(e.find("samples.jsonl:2"), std::string::npos) << e;
  EXPECT_NE(e.find("twice"), std::string::npos) << e;
  EXPECT_EQ(r1::read_file(path), before + before);  // nothing changed by a refused open
  std::ofstream(path, std::ios::binary) << "{\"benchmark\":\"x\"}\n";
  e = error_of([&] { r1::SampleStore s(path); });
  EXPECT_NE(e.find("missing field problem_id"), std::string::npos) << e;
}

TEST(SampleStore, RewriteReplacesAtomically) {
  r1::test::TempDir dir;
  const std::string path = dir / "samples.jsonl";
  {
    r1::SampleStore store(path);
    store.append(record("1", 0));
    store.append(record("1", 1));
    auto all = store.samples();
    all[1].correct = true;
    store.rewrite(all);
    store.append(record("1", 2));
    // Still the only writer after the rewrite replaced the file.
    EXPECT_NE(error_of([&] { r1::SampleStore second(path); }).find("in use"), std::string::npos);
    all.push_back(all[0]);
    EXPECT_NE(error_of([&] { store.rewrite(all); }).find("twice"), std::string::npos);
  }
  r1::SampleStore again(path);
  ASSERT_EQ(again.size(), 3u);
  EXPECT_TRUE(again.samples()[1].correct);
}

// update() rewrites the file one sample at a time: edits land in file order, the store keeps
// taking appends, a key cannot change, and a failed update leaves the file as it was.
TEST(SampleStore, UpdateEditsOneSampleAtATime) {
  r1::test::TempDir dir;
  const std::string path = dir / "samples.jsonl";
  r1::SampleStore store(path);
  for (int64_t i = 0; i < 4; ++i) store.append(record("7", i));
  store.update([](r1::SampleRecord& s) { s.correct = s.sample_index % 2 == 1; });
  store.append(record("7", 4));
  std::vector<bool> correct;
  store.for_each([&](r1::SampleRecord&& s) { correct.push_back(s.correct); });
  EXPECT_EQ(correct, (std::vector<bool>{false, true, false, true, false}));
  const std::string before = r1::read_file(path);
  EXPECT_NE(error_of([&] {
              store.update([](r1::SampleRecord& s) { s.sample_index += 10; });
            }).find("changed the sample's key"),
            std::string::npos);
  EXPECT_EQ(r1::read_file(path), before);
  EXPECT_TRUE(store.contains("aime2024", "7", 4));
  const auto light = store.summaries();
  ASSERT_EQ(light.size(), 5u);
  EXPECT_TRUE(light[0].response.empty() && light[0].prompt_hash.empty());
  EXPECT_EQ(light[0].extracted, "0");
}

TEST(SampleStore, OneWriterAtATime) {
  r1::test::TempDir dir;
  const std::string path = dir / "samples.jsonl";
  r1::SampleStore store(path);
  const std::string e = error_of([&] { r1::SampleStore second(path); });
  EXPECT_NE(e.find("in use by another process"), std::string::npos) << e;
}

TEST(Benchmarks, LoadsThePublicFilesAndChecksThem) {
  const auto& aime = r1::find_benchmark("aime2024");
  const auto dirs = std::vector<std::string>{r1::test::shared_data("benchmarks")};
  const std::string path = r1::require_dataset(aime, dirs);
  const auto problems = r1::load_dataset(path, aime);
  ASSERT_EQ(problems.size(), 30u);
  EXPECT_EQ(problems[0].id, "60");  // a number in the file, an id here
  EXPECT_FALSE(problems[0].answer.empty());
  const auto& math = r1::find_benchmark("math500");
  const auto m = r1::load_dataset(r1::require_dataset(math, dirs), math);
  ASSERT_EQ(m.size(), 500u);
  ASSERT_EQ(m[0].tags.size(), 2u);
  EXPECT_EQ(m[0].tags[0].first, "subject");
  EXPECT_EQ(m[0].tags[1].first, "level");
  EXPECT_EQ(r1::checksum_status(aime, aime.sha256), "matches");
  EXPECT_EQ(r1::checksum_status(aime, std::string(64, '0')), "differs");
}

TEST(Benchmarks, ClearErrors) {
  EXPECT_NE(error_of([] { r1::find_benchmark("aime2023"); }).find("known: aime2024"),
            std::string::npos);
  const auto& aime = r1::find_benchmark("aime2024");
  const std::string e = error_of([&] { r1::require_dataset(aime, {"/nonexistent/dir"}); });
  EXPECT_NE(e.find("aime24.jsonl not found in /nonexistent/dir"), std::string::npos) << e;
  EXPECT_NE(e.find("--data-dir"), std::string::npos) << e;

  r1::test::TempDir dir;
  const std::string path = dir / "mine.jsonl";
  std::ofstream(path) << "{\"problem\": \"1+1?\", \"answer\": \"2\"}\n\n"
                      << "{\"problem\": \"2+2?\"}\n";
  const auto spec = r1::custom_benchmark(path, "problem", "answer", "");
  std::string err = error_of([&] { r1::load_dataset(path, spec); });
  EXPECT_NE(err.find("mine.jsonl:3: missing field 'answer'"), std::string::npos) << err;
  std::ofstream(path) << "{\"problem\": \"1+1?\", \"answer\": 2}\n[1]\n";
  err = error_of([&] { r1::load_dataset(path, spec); });
  EXPECT_NE(err.find("mine.jsonl:2: a row must be a JSON object"), std::string::npos) << err;
  std::ofstream(path) << "{\"problem\": \"1+1?\", \"answer\": 2}\n";
  const auto ok = r1::load_dataset(path, spec);
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0].id, "1");
  EXPECT_EQ(ok[0].answer, "2");
}

TEST(Protocol, PresetsAndSeeds) {
  const auto r1p = r1::protocol_preset("r1");
  EXPECT_EQ(r1p.temperature, 0.6);
  EXPECT_EQ(r1p.top_p, 0.95);
  EXPECT_EQ(r1p.max_new_tokens, 32768);
  EXPECT_EQ(r1p.samples, 16);
  EXPECT_TRUE(r1p.force_think);
  EXPECT_TRUE(r1p.system_prompt.empty());
  EXPECT_EQ(r1::protocol_preset("r1-64").samples, 64);
  EXPECT_EQ(r1::protocol_preset("greedy").temperature, 0);
  auto grpo = r1::protocol_preset("grpo");  // R1's, the row's text as the user turn
  EXPECT_EQ(r1::protocol_messages(grpo, {"7", "What is 1+1?", "2", {}})[0].content, "What is 1+1?");
  grpo.prompt_template = r1p.prompt_template;
  grpo.preset = "r1";
  EXPECT_EQ(grpo, r1p);
  EXPECT_NE(error_of([] { r1::protocol_preset("r2"); }).find("known: r1, r1-64, greedy, grpo"),
            std::string::npos);
  const auto m = r1::protocol_messages(r1p, {"7", "What is 1+1?", "2", {}});
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].role, "user");
  EXPECT_EQ(m[0].content,
            "What is 1+1?\nPlease reason step by step, and put your final answer within "
            "\\boxed{}.");
  EXPECT_EQ(r1::protocol_from_json(r1::protocol_to_json(r1p), "x"), r1p);
  auto other = r1p;
  other.samples = 64;  // more samples extend a run ...
  EXPECT_EQ(r1::generation_difference(r1p, other), "");
  other.temperature = 0.7;  // ... another temperature is another run
  EXPECT_EQ(r1::generation_difference(r1p, other), "temperature");
  // Seeds: a function of (run seed, benchmark, problem, index) only; distinct; below 2^31.
  const uint64_t s = r1::sample_seed(0, "aime2024", "60", 3);
  EXPECT_EQ(s, r1::sample_seed(0, "aime2024", "60", 3));
  EXPECT_NE(s, r1::sample_seed(0, "aime2024", "60", 4));
  EXPECT_NE(s, r1::sample_seed(0, "aime2025", "60", 3));
  EXPECT_NE(s, r1::sample_seed(1, "aime2024", "60", 3));
  EXPECT_LT(s, 1ull << 31);
}

}  // namespace
