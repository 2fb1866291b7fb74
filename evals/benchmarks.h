// The benchmark registry and dataset loading: each benchmark names its public file, the fields
// that hold the id, the question and the answer (math) or its code format (code_benchmarks.h), the
// fields to break results down by, its grader, and the sha256 of the public version (a local file
// is reported as "matches" or "differs"), and the pinned URL `r1eval get` fetches it from
// (dataset_download.h). Files are looked up in --data-dir, $R1_DATA, then ~/.cache/r1/datasets.
// A user's own JSONL is a math or code benchmark too (custom_benchmark).
#pragma once

#include <nlohmann/json.hpp>  // nlohmann::json

#include <cstdint>     // int64_t
#include <functional>  // std::function
#include <memory>      // std::shared_ptr
#include <optional>    // std::optional
#include <string>      // std::string
#include <utility>     // std::pair
#include <vector>      // std::vector

namespace r1 {

struct BenchmarkSpec {
  std::string name;    // "aime2024"
  std::string file;    // "aime24.jsonl"
  std::string sha256;  // of the public file; empty for a user's own dataset
  std::string source;  // where the public file comes from (for the missing-file message)
  // The public file at a pinned commit, which `r1eval get` checks against sha256 (a ".gz" URL is
  // decompressed first); empty when there is none (a file assembled from several sources).
  std::string url;
  std::string id_field;                 // empty: the 1-based line number is the id
  std::string question_field;           // "problem"
  std::string answer_field;             // "answer"
  std::vector<std::string> tag_fields;  // breakdowns, e.g. {"subject", "level"}
  std::string grader = "math";          // "math" or "code" (code_grader.h)
  // The loader: "jsonl" (one object per line, the fields above), or a code format read by
  // load_code_dataset: "humaneval", "livecodebench", "codecontests".
  std::string format = "jsonl";
  // Code benchmarks only:
  std::string language = "python";  // the language of an untagged code fence
  double time_limit_s = 0;          // CPU seconds per test when the problem states none
  int64_t memory_mb = 0;            // memory per test (MB) when the problem states none
};

struct CodeTask;  // code_benchmarks.h

struct Problem {
  std::string id, question, answer;  // code problems: answer is empty (the tests are the gold)
  std::vector<std::pair<std::string, std::string>> tags;  // (field, value) per tag field
  std::shared_ptr<const CodeTask> code = nullptr;         // set for code benchmarks only
};

const std::vector<BenchmarkSpec>& benchmark_registry();
// The registered benchmark `name`; throws r1::Error listing the known names otherwise.
const BenchmarkSpec& find_benchmark(const std::string& name);
// A user's own JSONL file as a benchmark named after the file (fields as given). Rows with a
// "tests" field make a code benchmark: {QUESTION (question_field, else "prompt"), tests ([{input,
// output}] or {inputs, outputs}: stdin -> expected stdout), language ("python" or "cpp", optional:
// the language asked for and that of an untagged fence)}, judged in the sandbox (6 s, 1024 MB per
// test unless the problem states its limits).
BenchmarkSpec custom_benchmark(const std::string& path, const std::string& question_field,
                               const std::string& answer_field, const std::string& id_field);

// Directories searched for dataset files, in order: `flag` (if set), $R1_DATA,
// ~/.cache/r1/datasets.
std::vector<std::string> dataset_dirs(const std::string& flag);
// The first of dirs/`file_name` that exists, or nullopt.
std::optional<std::string> find_in_dirs(const std::string& file_name,
                                        const std::vector<std::string>& dirs);
// The first existing `spec.file` in `dirs` (a user's own file: the path as given), or nullopt.
std::optional<std::string> locate_dataset(const BenchmarkSpec& spec,
                                          const std::vector<std::string>& dirs);
// locate_dataset or an r1::Error naming the file, the directories searched and where to get it.
std::string require_dataset(const BenchmarkSpec& spec, const std::vector<std::string>& dirs);

// Reads the problems of `path` (code formats: load_code_dataset); a malformed row throws
// r1::Error "PATH:LINE: ..." naming the field; duplicate ids and an empty file are errors too.
std::vector<Problem> load_dataset(const std::string& path, const BenchmarkSpec& spec);

// "matches", "differs" (with the public sha256 known), or "custom".
std::string checksum_status(const BenchmarkSpec& spec, const std::string& sha256);

}  // namespace r1
