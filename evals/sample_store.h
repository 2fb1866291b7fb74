// The sample store: one run directory's samples.jsonl, append-only, one JSON object per completed
// sample, written with a single write() and fsync'd before the next, so a run killed at any moment
// loses at most the samples in flight and never holds one twice. On open, a torn last line (a kill
// mid-write) is cut off and every earlier line is checked; a sample key met twice is an error.
// One process holds a store at a time (an exclusive flock; a second open fails with an error).
// Only the keys stay in memory: the samples are read from the file, one line at a time, when asked
// for (a MATH-500 run of 64 samples of 32k tokens is gigabytes of text), and rewritten the same
// way. Leaves out compaction.
#pragma once

#include <nlohmann/json.hpp>  // nlohmann::json

#include <cstdint>     // int64_t, uint64_t
#include <cstdio>      // std::FILE
#include <functional>  // std::function
#include <mutex>       // std::mutex
#include <optional>    // std::optional
#include <set>         // std::set
#include <string>      // std::string
#include <utility>     // std::pair
#include <vector>      // std::vector

namespace r1 {

// One completed sample, as stored (field names are the JSON keys).
struct SampleRecord {
  std::string benchmark;
  std::string problem_id;
  int64_t sample_index = 0;
  uint64_t seed = 0;               // derive_seed(run seed, benchmark, problem id, sample index)
  std::string prompt_hash;         // sha256 (hex) of the prompt text or token ids sent
  std::string response;            // the generated text (after the forced "<think>\n", if any)
  std::string reasoning;           // reasoning_content, when the server returns it separately
  std::string finish_reason;       // "stop" | "length" | what the server said
  int64_t prompt_tokens = -1;      // -1 when unknown
  int64_t completion_tokens = -1;  // -1 when unknown
  double latency_s = 0;
  double ttft_s = -1,
         tpot_s = -1;  // time to first token, per output token after it (-1: not measured)
  std::optional<std::string> extracted;  // the answer graded; nullopt when none
  bool correct = false;
  std::string reason;  // the grader's reason (equal_number, different, truncated, ...)
};

nlohmann::json sample_to_json(const SampleRecord& s);
// Throws r1::Error naming `where` and the field when a field is missing or of the wrong type.
SampleRecord sample_from_json(const nlohmann::json& j, const std::string& where);

class SampleStore {
 public:
  // Opens (creating) `path`. Existing lines are read; a last line without its newline is cut off
  // (reported in torn_bytes()); a malformed earlier line or a duplicate key throws r1::Error with
  // the file and line number, and nothing is changed.
  explicit SampleStore(const std::string& path);
  ~SampleStore();
  SampleStore(const SampleStore&) = delete;
  SampleStore& operator=(const SampleStore&) = delete;

  // Appends one sample (thread-safe) and fsyncs; throws r1::Error if the key is present already
  // or the write fails (the file is left as it was before the call).
  void append(const SampleRecord& s);
  // Replaces the whole file atomically with `samples` (regrade); the store then holds them.
  void rewrite(const std::vector<SampleRecord>& samples);
  // Rewrites the file atomically, one sample at a time: `edit` may change any field but the key.
  void update(const std::function<void(SampleRecord&)>& edit);

  bool contains(const std::string& benchmark, const std::string& problem_id, int64_t index) const;
  // Calls `visit` on every sample in file order, read one line at a time.
  void for_each(const std::function<void(SampleRecord&&)>& visit) const;
  std::vector<SampleRecord> samples() const;  // in file order, all of it in memory
  // The same without the text (response, reasoning, prompt hash): what metrics read.
  std::vector<SampleRecord> summaries() const;
  size_t size() const;
  int64_t torn_bytes() const { return torn_bytes_; }
  const std::string& path() const { return path_; }

 private:
  using Key = std::pair<std::string, int64_t>;  // (benchmark + '\n' + problem id, index)
  void replace_file(const std::function<bool(std::FILE*)>& write, std::set<Key> keys);
  std::string path_;
  int fd_ = -1;
  int64_t torn_bytes_ = 0;
  mutable std::mutex mu_;
  std::set<Key> keys_;
};

}  // namespace r1
