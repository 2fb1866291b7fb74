// Benchmark registry and datasets (see benchmarks.h).
#include "evals/benchmarks.h"

#include <cstdlib>     // std::getenv
#include <filesystem>  // std::filesystem
#include <fstream>     // std::ifstream
#include <optional>    // std::optional
#include <set>         // std::set

#include "evals/code_benchmarks.h"  // r1::load_code_dataset
#include "toolkit/error.h"          // r1::Error, r1::check
#include "toolkit/fs.h"             // r1::read_file
#include "toolkit/json.h"           // r1::parse_json

namespace r1 {

const std::vector<BenchmarkSpec>& benchmark_registry() {
  static const std::vector<BenchmarkSpec> specs = {
      {.name = "aime2024",
       .file = "aime24.jsonl",
       .sha256 = "af2b8bd2aa911b6333ad0df32f3ca05c7ae8ed10f1731f4372c8ae26990bf7ac",
       .source = "QwenLM/Qwen2.5-Math evaluation/data/aime24/test.jsonl",
       .url = "https://raw.githubusercontent.com/QwenLM/Qwen2.5-Math/"
              "a45202bd16f1ec06f433442dc1152d0074773465/evaluation/data/aime24/test.jsonl",
       .id_field = "id",
       .question_field = "problem",
       .answer_field = "answer",
       .tag_fields = {}},
      // Assembled from eth-sri/matharena's per-problem files: no single public file to fetch.
      {.name = "aime2025",
       .file = "aime25.jsonl",
       .sha256 = "c5acfb811880bdfda320a83a6477eda249e44b7e31e8cd00233d469f6241b3d0",
       .source = "AIME 2025 I and II (eth-sri/matharena data/aime), one JSON object per problem",
       .url = "",
       .id_field = "id",
       .question_field = "problem",
       .answer_field = "answer",
       .tag_fields = {}},
      // Byte-identical to openai/prm800k's, from a repo that serves it without Git LFS.
      {.name = "math500",
       .file = "math500.jsonl",
       .sha256 = "35dc41080a3680858b27fa7e0533d2d547825316fc5dafe5d316f4ccc5a06132",
       .source = "openai/prm800k math_splits/test.jsonl (MATH-500)",
       .url = "https://raw.githubusercontent.com/hkust-nlp/simpleRL-reason/"
              "cf1c7858bfc145a27aa733e75d930d34f0d318a6/examples/simplelr_math_eval/data/"
              "math500/test.jsonl",
       .id_field = "unique_id",
       .question_field = "problem",
       .answer_field = "answer",
       .tag_fields = {"subject", "level"}},
      // Code: the language of an untagged fence is Python; limits are per test (HumanEval: its
      // one check() run) unless the problem states its own (Codeforces statements do).
      {.name = "humaneval",
       .file = "humaneval.jsonl",
       .sha256 = "1d49078ba3e2b196b9344535bef34a43021f038fad9561d6ee7c53450609a6a2",
       .source = "openai/human-eval data/HumanEval.jsonl.gz (decompressed)",
       .url = "https://raw.githubusercontent.com/openai/human-eval/"
              "6d43fb980f9fee3c892a914eda09951f772ad10d/data/HumanEval.jsonl.gz",
       .id_field = "task_id",
       .question_field = "prompt",
       .answer_field = "",
       .tag_fields = {},
       .grader = "code",
       .format = "humaneval",
       .time_limit_s = 10,
       .memory_mb = 1024},
      {.name = "livecodebench",
       .file = "lcb_release_v1_public.jsonl",
       .sha256 = "9a3e22c2ccbaf7762768beacd4d201026a68b25a776f307eb85122d0bc639e4e",
       .source = "LiveCodeBench code_generation_lite release_v1, public tests, one JSON object "
                 "per line",
       .url = "https://raw.githubusercontent.com/XZC888/MavenCoder/"
              "7a10e2db4217ad3ad41c4a0831cc74df85b413a7/data/lcb.jsonl",
       .id_field = "question_id",
       .question_field = "question_content",
       .answer_field = "",
       .tag_fields = {"difficulty", "platform", "type"},
       .grader = "code",
       .format = "livecodebench",
       .time_limit_s = 6,
       .memory_mb = 1024},
      {.name = "codecontests",
       .file = "rllm_code_contests_test.json",
       .sha256 = "0e3c580698270ab930268cbc63ea6b9cf920874ac40de4a06bdbebc7c2eade71",
       .source = "agentica-project/rllm rllm/data/test/code/code_contests.json",
       .url = "https://raw.githubusercontent.com/agentica-project/rllm/"
              "874daa4acb7f451dc2a4b2b6e8ce28f5aa88d1f5/rllm/data/test/code/code_contests.json",
       .id_field = "",
       .question_field = "problem",
       .answer_field = "",
       .tag_fields = {},
       .grader = "code",
       .format = "codecontests",
       .time_limit_s = 6,
       .memory_mb = 1024},
      {.name = "codecontests-sf",
       .file = "code_contests_sample20.jsonl",
       .sha256 = "e286e28fe9d118f34580a36627ddd4f9105d651ef81c22f4cca406c96f94ac8f",
       .source = "bytedance/SandboxFusion sandbox/tests/datasets/samples/"
                 "code_eval_code_contests.jsonl",
       .url = "https://raw.githubusercontent.com/bytedance/SandboxFusion/"
              "469de0845cb7d665bc68044d541aa3aa28c5b30a/sandbox/tests/datasets/samples/"
              "code_eval_code_contests.jsonl",
       .id_field = "id",
       .question_field = "content",
       .answer_field = "",
       .tag_fields = {"difficulty", "source"},
       .grader = "code",
       .format = "codecontests",
       .time_limit_s = 6,
       .memory_mb = 1024},
      {.name = "codeforces",
       .file = "rllm_codeforces_test.json",
       .sha256 = "8e9eab7fce7e432abe4437dd997c16f1514be51d224f2d72a7bd07d58cce476a",
       .source = "agentica-project/rllm rllm/data/test/code/codeforces.json",
       .url = "https://raw.githubusercontent.com/agentica-project/rllm/"
              "874daa4acb7f451dc2a4b2b6e8ce28f5aa88d1f5/rllm/data/test/code/codeforces.json",
       .id_field = "",
       .question_field = "problem",
       .answer_field = "",
       .tag_fields = {},
       .grader = "code",
       .format = "codecontests",
       .time_limit_s = 6,
       .memory_mb = 1024},
  };
  return specs;
}

const BenchmarkSpec& find_benchmark(const std::string& name) {
  std::string known;
  for (const auto& s : benchmark_registry()) {
    if (s.name == name) return s;
    known += (known.empty() ? "" : ", ") + s.name;
  }
  throw Error("unknown benchmark '" + name + "' (known: " + known +
              "; or --dataset FILE for your own JSONL)");
}

namespace {

// The first row of a JSONL file (nullopt when the file is missing, empty or its first line is not a
// JSON object: the loader reports those with the line).
std::optional<nlohmann::json> first_row(const std::string& path) {
  // Only a regular file is read here: /dev/zero has no first line (getline read it for a minute,
  // into gigabytes), and opening a FIFO waits for a writer. require_dataset names what it is.
  if (!std::filesystem::is_regular_file(path)) return std::nullopt;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object()) return j;
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

BenchmarkSpec custom_benchmark(const std::string& path, const std::string& question_field,
                               const std::string& answer_field, const std::string& id_field) {
  BenchmarkSpec s;
  s.name = std::filesystem::path(path).stem().string();
  s.file = path;
  s.id_field = id_field;
  s.question_field = question_field;
  s.answer_field = answer_field;
  const auto row = first_row(path);
  if (row && row->contains("tests")) {  // code rows: {QUESTION, tests, language?}
    s.grader = "code";
    s.format = "codecontests";
    s.answer_field = "";
    if (!row->contains(question_field) && row->contains("prompt")) s.question_field = "prompt";
    s.time_limit_s = 6;
    s.memory_mb = 1024;
  }
  return s;
}

std::vector<std::string> dataset_dirs(const std::string& flag) {
  std::vector<std::string> dirs;
  if (!flag.empty()) dirs.push_back(flag);
  if (const char* env = std::getenv("R1_DATA"); env && *env) dirs.push_back(env);
  if (const char* home = std::getenv("HOME"); home && *home)
    dirs.push_back(std::string(home) + "/.cache/r1/datasets");
  return dirs;
}

std::optional<std::string> find_in_dirs(const std::string& file_name,
                                        const std::vector<std::string>& dirs) {
  for (const auto& d : dirs) {
    const auto p = std::filesystem::path(d) / file_name;
    if (std::filesystem::is_regular_file(p)) return p.string();
  }
  return std::nullopt;
}

std::optional<std::string> locate_dataset(const BenchmarkSpec& spec,
                                          const std::vector<std::string>& dirs) {
  if (spec.sha256.empty()) {  // a user's own file: the path as given
    if (std::filesystem::is_regular_file(spec.file)) return spec.file;
    return std::nullopt;
  }
  return find_in_dirs(spec.file, dirs);
}

std::string require_dataset(const BenchmarkSpec& spec, const std::vector<std::string>& dirs) {
  if (auto p = locate_dataset(spec, dirs)) return *p;
  if (spec.sha256.empty()) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::file_status st = fs::status(spec.file, ec);
    if (fs::is_directory(st)) throw Error(spec.file + ": is a directory, not a JSONL dataset file");
    if (fs::exists(st))
      throw Error(spec.file + ": not a regular file (a device or pipe): give a JSONL dataset file");
    throw Error(spec.file + ": dataset file not found");
  }
  std::string where;
  for (const auto& d : dirs) where += (where.empty() ? "" : ", ") + d;
  if (!spec.url.empty())
    throw Error(spec.name + ": dataset file " + spec.file + " not found in " + where +
                " (run `r1eval get " + spec.name + "` to fetch it from " + spec.source +
                ", or pass --data-dir DIR)");
  throw Error(spec.name + ": dataset file " + spec.file + " not found in " + where + " (put " +
              spec.file + " from " + spec.source + " there, or pass --data-dir DIR)");
}

std::vector<Problem> load_dataset(const std::string& path, const BenchmarkSpec& spec) {
  if (spec.format != "jsonl") return load_code_dataset(path, spec);
  std::vector<Problem> problems;
  std::set<std::string> ids;
  for_each_jsonl_object(path, [&](const nlohmann::json& row, const std::string& where) {
    // A field as text: strings as they are, numbers as written (AIME ids, MATH levels).
    auto field = [&](const std::string& key) {
      check(row.contains(key), where + ": missing field '" + key + "'");
      const auto& v = row[key];
      check(v.is_string() || v.is_number(),
            where + ": field '" + key + "' must be a string or a number");
      return v.is_string() ? v.get<std::string>() : v.dump();
    };
    Problem p;
    // Without an id field the id is the line number.
    p.id = spec.id_field.empty() ? where.substr(where.rfind(':') + 1) : field(spec.id_field);
    p.question = field(spec.question_field);
    p.answer = field(spec.answer_field);
    check(!p.question.empty(), where + ": field '" + spec.question_field + "' is empty");
    for (const auto& t : spec.tag_fields) p.tags.emplace_back(t, field(t));
    check(ids.insert(p.id).second, where + ": problem id '" + p.id + "' appears twice");
    problems.push_back(std::move(p));
  });
  check(!problems.empty(), path + ": no problems in the file");
  return problems;
}

std::string checksum_status(const BenchmarkSpec& spec, const std::string& sha256) {
  if (spec.sha256.empty()) return "custom";
  return spec.sha256 == sha256 ? "matches" : "differs";
}

}  // namespace r1
