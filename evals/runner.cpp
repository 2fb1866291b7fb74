// Evaluation runs (see runner.h).
#include "evals/runner.h"

#include <algorithm>   // std::any_of
#include <chrono>      // std::chrono
#include <cstdio>      // std::fprintf
#include <filesystem>  // std::filesystem
#include <functional>  // std::function
#include <map>         // std::map
#include <mutex>       // std::mutex
#include <set>         // std::set
#include <tuple>       // std::tuple

#include "evals/benchmarks.h"       // r1::load_dataset
#include "evals/code_benchmarks.h"  // r1::filter_by_date, r1::CodeTask
#include "evals/code_grader.h"      // r1::grade_code_samples
#include "evals/extract.h"          // r1::extract_preset
#include "evals/math_grader.h"      // r1::grade_response
#include "evals/metrics.h"          // r1::compute_metrics
#include "evals/sample_store.h"     // r1::SampleStore
#include "evals/speed.h"            // r1::speed_json, r1::generation_record
#include "sandbox/sandbox.h"        // r1::sandbox::Sandbox
#include "toolkit/error.h"          // r1::Error, r1::check
#include "toolkit/fs.h"             // r1::write_file_atomic
#include "toolkit/host_memory.h"    // r1::available_memory_bytes
#include "toolkit/json.h"           // r1::read_json_file, r1::dump_json
#include "toolkit/progress.h"       // r1::Progress
#include "toolkit/run_dir.h"        // r1::check_run_dir
#include "toolkit/sha256.h"         // r1::sha256_file, r1::sha256_hex

namespace r1 {
namespace fs = std::filesystem;
namespace {

// The reason of a code sample stored before it is judged.
constexpr const char* kPending = "pending";

struct BenchData {
  BenchmarkSpec spec;
  std::string path, sha256;
  std::vector<Problem> problems;
  std::string since, until;  // the contest-date window applied ("" = open; both "": none)
  int64_t samples = 0;       // samples per problem its results count (each benchmark its own)
};

bool is_code(const BenchData& b) { return b.spec.grader == "code"; }
bool has_window(const BenchData& b) { return !b.since.empty() || !b.until.empty(); }

nlohmann::json spec_to_json(const BenchData& b) {
  nlohmann::json j = {{"name", b.spec.name},
                      {"file", b.spec.file},
                      {"path", fs::absolute(b.path).lexically_normal().string()},
                      {"sha256", b.sha256},
                      {"checksum", checksum_status(b.spec, b.sha256)},
                      {"id_field", b.spec.id_field},
                      {"question_field", b.spec.question_field},
                      {"answer_field", b.spec.answer_field},
                      {"tag_fields", b.spec.tag_fields},
                      {"grader", b.spec.grader},
                      {"format", b.spec.format},
                      {"problems", b.problems.size()},
                      {"samples", b.samples}};
  if (is_code(b)) {
    j["language"] = b.spec.language;
    j["time_limit_s"] = b.spec.time_limit_s;
    j["memory_mb"] = b.spec.memory_mb;
  }
  if (has_window(b)) j["window"] = {{"since", b.since}, {"until", b.until}};
  return j;
}

// Loads a benchmark's problems; the date window applies when its problems carry dates
// (livecodebench), then the limit.
BenchData load_bench(const BenchmarkSpec& spec, const std::string& path, int64_t limit,
                     const std::string& since = "", const std::string& until = "") {
  BenchData b{spec, path, sha256_file(path), load_dataset(path, spec), "", ""};
  const bool dated = b.problems.front().code && !b.problems.front().code->date.empty();
  if (dated && (!since.empty() || !until.empty())) {
    b.problems = filter_by_date(std::move(b.problems), since, until, spec.name);
    b.since = since;
    b.until = until;
  }
  if (limit > 0 && static_cast<int64_t>(b.problems.size()) > limit) b.problems.resize(limit);
  return b;
}

std::vector<BenchData> load_benchmarks(const RunOptions& o) {
  std::vector<BenchData> out;
  const auto dirs = dataset_dirs(o.data_dir);
  for (const auto& name : o.benchmarks) {
    const BenchmarkSpec& spec = find_benchmark(name);
    out.push_back(load_bench(spec, require_dataset(spec, dirs), o.limit, o.since, o.until));
  }
  if (!o.since.empty()) check_date(o.since, "--since");
  if (!o.until.empty()) check_date(o.until, "--until");
  if (!o.since.empty() || !o.until.empty())
    check(std::any_of(out.begin(), out.end(), has_window),
          "--since/--until select problems by contest date, and none of the benchmarks named has "
          "dates (livecodebench has)");
  if (!o.dataset.empty()) {
    const auto spec = custom_benchmark(o.dataset, o.question_field, o.answer_field, o.id_field);
    out.push_back(load_bench(spec, require_dataset(spec, dirs), o.limit));
  }
  check(!out.empty(), "name a benchmark (r1eval list shows them) or give --dataset FILE");
  std::set<std::string> names;
  for (const auto& b : out)
    check(names.insert(b.spec.name).second, "benchmark " + b.spec.name + " named twice");
  return out;
}

ExtractConfig extract_config(const Protocol& p) {
  ExtractConfig c = extract_preset(p.extract);
  // With the reasoning forced open, a response that never closes it has no answer.
  c.require_think = p.force_think;
  return c;
}

// Grades a record in place from its response (and reasoning).
void grade_record(SampleRecord& s, const std::string& gold, const Protocol& p,
                  const ExtractConfig& config) {
  CompareOptions opts;
  opts.float_places = p.float_places;
  const Grade g =
      grade_response(gold, grading_text(s.response, s.reasoning), config, s.finish_reason, opts);
  s.extracted = g.extracted;
  s.correct = g.correct;
  s.reason = g.reason;
}

// The store's key of a sample: (benchmark, problem id, index).
using SampleKey = std::tuple<std::string, std::string, int64_t>;
SampleKey key_of(const SampleRecord& s) { return {s.benchmark, s.problem_id, s.sample_index}; }

// Judges, in parallel on one sandbox, the stored code samples of `benches` that `pick` selects,
// kChunk at a time (only those samples' text in memory), and writes the verdicts into the store.
// Returns how many were judged; adds to *changed those whose verdict changed. The sandbox is made
// only when there is work.
int64_t judge_stored_code(SampleStore& store, const std::vector<BenchData>& benches,
                          const Protocol& p, CodeGradeOptions options, bool progress,
                          const std::function<bool(const SampleRecord&)>& pick,
                          int64_t* changed = nullptr) {
  constexpr size_t kChunk = 1024;
  std::map<std::pair<std::string, std::string>, const CodeTask*> tasks;
  for (const auto& b : benches)
    if (is_code(b))
      for (const auto& pr : b.problems) tasks[{b.spec.name, pr.id}] = pr.code.get();
  auto task_of = [&](const SampleRecord& s) -> const CodeTask* {
    const auto it = tasks.find({s.benchmark, s.problem_id});
    return it == tasks.end() || !pick(s) ? nullptr : it->second;
  };
  int64_t total = 0;
  store.for_each([&](SampleRecord&& s) { total += task_of(s) != nullptr; });
  if (total == 0) return 0;
  std::fprintf(stderr, "r1eval: judging %lld code samples in the sandbox\n",
               static_cast<long long>(total));
  options.require_think = p.force_think;
  sandbox::Sandbox sandbox(options.sandbox);
  Progress bar("r1eval: judging", total, progress && Progress::stderr_is_terminal());
  std::map<SampleKey, CodeGrade> verdicts;
  std::vector<SampleKey> keys;
  std::vector<CodeSample> chunk;
  int64_t finished = 0;  // samples of earlier chunks
  auto judge_chunk = [&] {
    const auto grades = grade_code_samples(sandbox, chunk, options, [&](size_t done, size_t sent) {
      bar.update(finished + static_cast<int64_t>(chunk.size() - sent + done));
    });
    for (size_t k = 0; k < grades.size(); ++k) verdicts[keys[k]] = grades[k];
    finished += static_cast<int64_t>(chunk.size());
    chunk.clear();
    keys.clear();
  };
  store.for_each([&](SampleRecord&& s) {
    const CodeTask* task = task_of(s);
    if (task == nullptr) return;
    keys.push_back(key_of(s));
    chunk.push_back({task, grading_text(s.response, s.reasoning), s.finish_reason});
    if (chunk.size() == kChunk) judge_chunk();
  });
  if (!chunk.empty()) judge_chunk();
  store.update([&](SampleRecord& s) {
    const auto it = verdicts.find(key_of(s));
    if (it == verdicts.end()) return;
    if (changed) *changed += s.correct != it->second.correct;
    s.extracted = it->second.extracted;
    s.correct = it->second.correct;
    s.reason = it->second.reason;
  });
  return total;
}

// The grading settings of code benchmarks, as stored in run.json.
nlohmann::json code_grading_json(const CodeGradeOptions& o) {
  return {{"time_limit_s", o.time_limit_s}, {"memory_mb", o.memory_mb}};
}

std::vector<ProblemInfo> problem_infos(const BenchData& b) {
  std::vector<ProblemInfo> out;
  for (const auto& p : b.problems) out.push_back({p.id, p.answer, p.tags});
  return out;
}

// Samples whose prompt did not fit the model's context (counted as not passed), with a warning
// naming their problems.
int64_t count_prompt_too_long(const BenchData& b, const std::vector<SampleRecord>& mine) {
  std::set<std::string> ids;
  int64_t n = 0;
  for (const auto& s : mine)
    if (s.finish_reason == kPromptTooLong) {
      ++n;
      ids.insert(s.problem_id);
    }
  if (n == 0) return 0;
  std::string list;
  for (const auto& id : ids) {
    if (list.size() > 200) {
      list += ", ...";
      break;
    }
    list += (list.empty() ? "" : ", ") + id;
  }
  std::fprintf(stderr,
               "r1eval: %s: the prompt of %zu problem(s) is longer than the model's context (%s); "
               "their %lld samples count as not passed (use a model with a longer context, or "
               "--max-context where the model allows it, with another --out)\n",
               b.spec.name.c_str(), ids.size(), list.c_str(), static_cast<long long>(n));
  return n;
}

// results.json and summary.md from the store's samples of the run's problems, indices below each
// benchmark's own sample count.
nlohmann::json write_results(const std::string& dir, const nlohmann::json& run,
                             const std::vector<BenchData>& benches,
                             const std::vector<SampleRecord>& all, const Protocol& p,
                             int bootstrap) {
  nlohmann::json results = {
      {"run", run}, {"benchmarks", nlohmann::json::object()}, {"speed", speed_json(run, all)}};
  std::vector<BenchmarkMetrics> ms;
  for (const auto& b : benches) {
    std::set<std::string> ids;
    for (const auto& pr : b.problems) ids.insert(pr.id);
    std::vector<SampleRecord> mine;
    for (const auto& s : all)
      if (s.benchmark == b.spec.name && ids.count(s.problem_id) && s.sample_index < b.samples)
        mine.push_back(s);
    std::map<std::string, int64_t> outcomes;
    if (is_code(b)) {
      // maj@n over programs: the same code is the same answer. The code is replaced by a short
      // fingerprint that the math comparison can only match exactly.
      std::vector<std::string> reasons;
      for (auto& s : mine) {
        reasons.push_back(s.reason);
        if (s.extracted && !s.extracted->empty())
          s.extracted = "\\text{program " + sha256_hex(*s.extracted).substr(0, 16) + "}";
      }
      outcomes = count_code_outcomes(reasons);
      if (outcomes["SE"] > 0)
        std::fprintf(stderr,
                     "r1eval: %s: %lld samples met a sandbox error (SE), counted as not passed; "
                     "run again (or r1eval regrade) to retry them\n",
                     b.spec.name.c_str(), static_cast<long long>(outcomes["SE"]));
    }
    const int64_t too_long = count_prompt_too_long(b, mine);
    MetricsOptions mo;
    mo.bootstrap = bootstrap;
    mo.seed = p.seed;
    mo.compare.float_places = p.float_places;
    ms.push_back(compute_metrics(b.spec.name, problem_infos(b), mine, mo));
    results["benchmarks"][b.spec.name] = metrics_to_json(ms.back());
    // Code: samples per sandbox verdict (SE apart: the sandbox's failures, not the model's).
    if (is_code(b)) results["benchmarks"][b.spec.name]["verdicts"] = outcomes;
    if (too_long > 0) results["benchmarks"][b.spec.name][kPromptTooLong] = too_long;
  }
  write_file_atomic(dir + "/results.json", dump_json(results, 2) + "\n");
  std::string config =
      "backend: " + run["backend"].dump() + "\nprotocol: " + run["protocol"].dump() + "\n";
  if (const std::string line = speed_line(results["speed"]); !line.empty()) config += line + "\n";
  for (const auto& b : benches) {
    config += "dataset " + b.spec.name + ": " + b.path + " (sha256 " + b.sha256.substr(0, 12) +
              "..., " + checksum_status(b.spec, b.sha256) + ")";
    if (has_window(b))
      config += ", contest dates " + (b.since.empty() ? "..." : b.since) + " to " +
                (b.until.empty() ? "..." : b.until);
    config += "\n";
    if (const auto& m = results["benchmarks"][b.spec.name]; m.contains(kPromptTooLong))
      config += "prompt too long " + b.spec.name + ": " + m[kPromptTooLong].dump() +
                " samples, counted as not passed\n";
    if (is_code(b)) {
      config += "verdicts " + b.spec.name + ":";
      for (const auto& [v, n] : results["benchmarks"][b.spec.name]["verdicts"].items())
        config += " " + v + " " + n.dump();
      config += "\n";
    }
  }
  write_file_atomic(dir + "/summary.md", render_summary_md("r1eval: " + dir, ms, config));
  return results;
}

// A benchmark as run.json records it, its dataset loaded again (found by file name under
// data_dir when it moved); `samples` when the entry does not say its own (runs made before).
BenchData bench_from_run(const std::string& name, const nlohmann::json& b,
                         const std::string& run_path, const std::string& data_dir,
                         int64_t samples) {
  const std::string where = run_path + ": benchmarks." + name;
  BenchmarkSpec spec;
  std::string since, until;
  try {
    spec.name = name;
    spec.file = b.at("file").get<std::string>();
    spec.id_field = b.at("id_field").get<std::string>();
    spec.question_field = b.at("question_field").get<std::string>();
    spec.answer_field = b.at("answer_field").get<std::string>();
    spec.tag_fields = b.at("tag_fields").get<std::vector<std::string>>();
    // Fields of code benchmarks; absent in runs made before them (math, one JSON per line).
    spec.grader = b.value("grader", "math");
    spec.format = b.value("format", "jsonl");
    spec.language = b.value("language", "python");
    spec.time_limit_s = b.value("time_limit_s", 0.0);
    spec.memory_mb = b.value("memory_mb", int64_t{0});
    if (b.contains("window")) {
      since = b.at("window").at("since").get<std::string>();
      until = b.at("window").at("until").get<std::string>();
    }
    samples = b.value("samples", samples);
  } catch (const nlohmann::json::exception&) {
    throw Error(where + ": missing or malformed dataset fields");
  }
  check(samples >= 1, where + ": samples must be at least 1");
  std::string path = b.value("path", "");
  if (!data_dir.empty() || !fs::exists(path)) {  // moved: look for its file name
    const auto found =
        find_in_dirs(fs::path(spec.file).filename().string(), dataset_dirs(data_dir));
    check(found.has_value(), where + ": dataset " + path + " is gone; pass --data-dir DIR");
    path = *found;
  }
  BenchData d = load_bench(spec, path, b.value("problems", 0), since, until);
  if (d.sha256 != b.value("sha256", ""))
    std::fprintf(stderr, "r1eval: %s: %s differs from the file the run used (sha256)\n",
                 name.c_str(), path.c_str());
  d.samples = samples;
  return d;
}

// The benchmarks of the run's earlier invocations that this one does not name: their results
// stay in results.json, each with its own sample count (issue 17, D9).
std::vector<BenchData> earlier_benchmarks(const nlohmann::json& run,
                                          const std::vector<BenchData>& named,
                                          const std::string& run_path,
                                          const std::string& data_dir) {
  std::vector<BenchData> out;
  if (!run.contains("benchmarks") || !run["benchmarks"].is_object()) return out;
  const int64_t samples = run["protocol"].value("samples", int64_t{1});
  for (const auto& [name, b] : run["benchmarks"].items()) {
    const bool is_named = std::any_of(named.begin(), named.end(),
                                      [&](const BenchData& d) { return d.spec.name == name; });
    if (is_named) continue;
    // Its recorded file first; --data-dir only when that file moved.
    const bool moved = !fs::exists(b.value("path", ""));
    out.push_back(bench_from_run(name, b, run_path, moved ? data_dir : "", samples));
  }
  return out;
}

// Refuses, before anything is allocated, more samples than one run holds (D5), or than this
// process's memory holds: each sample keeps a few hundred bytes (its key, its pending job, its
// summary for the metrics) for the whole run; the text itself stays on disk.
void check_sample_count(const std::vector<BenchData>& benches, int64_t samples) {
  constexpr int64_t kMaxSamples = int64_t{1} << 24;
  constexpr int64_t kBytesPerSample = 512;
  int64_t problems = 0;
  for (const auto& b : benches) problems += static_cast<int64_t>(b.problems.size());
  const std::string what =
      std::to_string(problems) + " problems x " + std::to_string(samples) + " samples";
  check(problems <= kMaxSamples / samples, what + " is more than one run holds (" +
                                               std::to_string(kMaxSamples) +
                                               " samples); lower --samples or --limit");
  const int64_t need = problems * samples * kBytesPerSample, have = available_memory_bytes();
  check(need <= have, what + " need about " + format_bytes(need) + " of memory and " +
                          format_bytes(have) + " is available; lower --samples or --limit");
}

// Checks that a resumed run is the same run: same backend identity, same generation settings.
void check_same_run(const nlohmann::json& stored, const nlohmann::json& backend, const Protocol& p,
                    const std::string& where) {
  check(stored.contains("backend") && stored.contains("protocol"),
        where + ": not an r1eval run (no backend or protocol)");
  for (const char* key : {"kind", "model", "served_model", "api"}) {
    const auto a = stored["backend"].value(key, nlohmann::json());
    const auto b = backend.value(key, nlohmann::json());
    check(a == b, where + ": this run was made with " + key + " " + a.dump() + ", not " + b.dump() +
                      " (use another --out for a new run)");
  }
  const Protocol old = protocol_from_json(stored["protocol"], where);
  const std::string diff = generation_difference(old, p);
  check(diff.empty(), where + ": this run was made with another " + diff + " (" +
                          protocol_to_json(old)[diff].dump() + ", now " +
                          protocol_to_json(p)[diff].dump() + "); use another --out for a new run");
}

}  // namespace

std::string grading_text(const std::string& response, const std::string& reasoning) {
  if (reasoning.empty()) return response;
  return reasoning + "\n</think>\n" + response;
}

nlohmann::json run_eval(const RunOptions& o, Backend& backend) {
  check(!o.out_dir.empty(), "give the run directory with --out DIR");
  check(o.protocol.samples >= 1, "--samples must be at least 1");
  check(o.protocol.max_new_tokens >= 1, "--max-new-tokens must be at least 1");
  const ExtractConfig xc = extract_config(o.protocol);
  auto benches = load_benchmarks(o);
  check_sample_count(benches, o.protocol.samples);
  for (auto& b : benches) b.samples = o.protocol.samples;
  check_run_dir(o.out_dir, "run.json", "r1eval");
  fs::create_directories(o.out_dir);
  const std::string run_path = o.out_dir + "/run.json";
  nlohmann::json run;
  const nlohmann::json backend_desc = backend.describe();
  if (fs::exists(run_path)) {
    run = read_json_file(run_path);
    check_same_run(run, backend_desc, o.protocol, run_path);
  }
  const std::vector<BenchData> earlier = earlier_benchmarks(run, benches, run_path, o.data_dir);
  const bool any_code = std::any_of(benches.begin(), benches.end(), is_code);
  if (any_code && run.contains("code_grading") && run["code_grading"] != code_grading_json(o.code))
    std::fprintf(stderr,
                 "r1eval: %s: judged before with %s, now %s; samples judged already keep their "
                 "verdicts (r1eval regrade judges them all again)\n",
                 run_path.c_str(), run["code_grading"].dump().c_str(),
                 code_grading_json(o.code).dump().c_str());
  // What this invocation resolved (the stored generation settings are equal, checked above).
  run["backend"] = backend_desc;
  if (any_code) run["code_grading"] = code_grading_json(o.code);
  run["protocol"] = protocol_to_json(o.protocol);
  if (!o.command.empty()) run["command"] = o.command;
  if (!run.contains("benchmarks")) run["benchmarks"] = nlohmann::json::object();
  for (const auto& b : benches) run["benchmarks"][b.spec.name] = spec_to_json(b);
  for (const auto& b : earlier) run["benchmarks"][b.spec.name]["samples"] = b.samples;
  write_file_atomic(run_path, dump_json(run, 2) + "\n");

  SampleStore store(o.out_dir + "/samples.jsonl");
  if (store.torn_bytes() > 0)
    std::fprintf(stderr, "r1eval: %s: cut %lld bytes of a sample torn by an interrupted run\n",
                 store.path().c_str(), static_cast<long long>(store.torn_bytes()));

  // What is stored per problem: prompt hashes must match what would be sent now; per-problem
  // (samples, correct) for the progress line's running pass@1.
  std::map<std::pair<std::string, std::string>, std::string> stored_hash;
  std::map<std::pair<std::string, std::string>, std::pair<int64_t, int64_t>> counts;
  store.for_each([&](SampleRecord&& s) {
    stored_hash[{s.benchmark, s.problem_id}] = s.prompt_hash;
    auto& c = counts[{s.benchmark, s.problem_id}];
    c.first += 1;
    c.second += s.correct;
  });

  GenParams gp;
  gp.temperature = o.protocol.temperature;
  gp.top_p = o.protocol.top_p;
  gp.top_k = o.protocol.top_k;
  gp.max_new_tokens = o.protocol.max_new_tokens;
  gp.force_think = o.protocol.force_think;

  std::vector<PromptJob> jobs;
  std::vector<const Problem*> job_problem;
  std::vector<std::string> job_hash;
  int64_t missing = 0;
  for (const auto& b : benches) {
    int64_t bench_missing = 0;
    for (const auto& pr : b.problems) {
      PromptJob job{b.spec.name, pr.id, protocol_messages(o.protocol, pr), {}};
      const std::string hash = backend.prompt_hash(job, gp);
      auto it = stored_hash.find({b.spec.name, pr.id});
      check(it == stored_hash.end() || it->second == hash,
            store.path() + ": problem " + pr.id + " of " + b.spec.name +
                " was generated from another prompt (the dataset or the template changed); use "
                "another --out for a new run");
      for (int64_t i = 0; i < o.protocol.samples; ++i)
        if (!store.contains(b.spec.name, pr.id, i))
          job.samples.push_back({i, sample_seed(o.protocol.seed, b.spec.name, pr.id, i)});
      bench_missing += static_cast<int64_t>(job.samples.size());
      if (job.samples.empty()) continue;
      jobs.push_back(std::move(job));
      job_problem.push_back(&pr);
      job_hash.push_back(hash);
    }
    const int64_t want = static_cast<int64_t>(b.problems.size()) * o.protocol.samples;
    if (!o.quiet)
      std::fprintf(
          stderr, "r1eval: %s: %zu problems x %lld samples; %lld stored, %lld to generate\n",
          b.spec.name.c_str(), b.problems.size(), static_cast<long long>(o.protocol.samples),
          static_cast<long long>(want - bench_missing), static_cast<long long>(bench_missing));
    missing += bench_missing;
  }

  if (missing > 0) {
    double rate_sum = 0;  // sum over problems of correct / samples, kept as samples arrive
    for (const auto& [key, c] : counts) rate_sum += double(c.second) / c.first;
    std::mutex mu;
    Progress progress("r1eval: samples", missing, o.progress && Progress::stderr_is_terminal());
    int64_t done = 0, tokens = 0, prompt_tokens = 0;
    const auto start = std::chrono::steady_clock::now();
    backend.generate(jobs, gp, [&](size_t j, int64_t index, uint64_t seed, const Completion& c) {
      SampleRecord s;
      s.benchmark = jobs[j].benchmark;
      s.problem_id = jobs[j].problem_id;
      s.sample_index = index;
      s.seed = seed;
      s.prompt_hash = job_hash[j];
      s.response = c.text;
      s.reasoning = c.reasoning;
      s.finish_reason = c.finish_reason;
      s.prompt_tokens = c.prompt_tokens;
      s.completion_tokens = c.completion_tokens;
      s.latency_s = c.latency_s;
      s.ttft_s = c.ttft_s;
      s.tpot_s = c.tpot_s;
      if (job_problem[j]->code)
        s.reason = kPending;  // judged after generation, in parallel
      else
        grade_record(s, job_problem[j]->answer, o.protocol, xc);
      store.append(s);
      std::lock_guard<std::mutex> lock(mu);
      auto& cnt = counts[{s.benchmark, s.problem_id}];
      if (cnt.first > 0) rate_sum -= double(cnt.second) / cnt.first;
      cnt.first += 1;
      cnt.second += s.correct;
      rate_sum += double(cnt.second) / cnt.first;
      tokens += std::max<int64_t>(c.completion_tokens, 0);
      prompt_tokens += std::max<int64_t>(c.prompt_tokens, 0);
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      progress.update(++done,
                      std::to_string(counts.size()) + " problems, " +
                          std::to_string(static_cast<int64_t>(tokens / std::max(secs, 1e-9))) +
                          " tok/s, pass@1 " + format_percent(rate_sum / counts.size()));
    });
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!run.contains("generations")) run["generations"] = nlohmann::json::array();
    run["generations"].push_back(
        generation_record(wall, done, prompt_tokens, tokens, backend.stats()));
    write_file_atomic(run_path, dump_json(run, 2) + "\n");
  }
  // Code samples not judged yet (this run's, or an interrupted run's) and sandbox errors.
  benches.insert(benches.end(), earlier.begin(), earlier.end());
  judge_stored_code(store, benches, o.protocol, o.code, o.progress, [](const SampleRecord& s) {
    return s.reason == kPending || code_outcome(s.reason) == "SE";
  });
  return write_results(o.out_dir, run, benches, store.summaries(), o.protocol, o.bootstrap);
}

void print_prompts(const RunOptions& o, Backend& backend, std::ostream& out) {
  GenParams gp;
  gp.force_think = o.protocol.force_think;
  for (const auto& b : load_benchmarks(o))
    for (const auto& pr : b.problems) {
      const PromptJob job{b.spec.name, pr.id, protocol_messages(o.protocol, pr), {}};
      out << dump_json({{"benchmark", b.spec.name},
                        {"problem_id", pr.id},
                        {"messages", messages_json(job.messages)},
                        {"prompt", backend.prompt_payload(job, gp)}})
          << "\n";
    }
}

nlohmann::json regrade_run(const std::string& dir, const RegradeOptions& o) {
  const std::string run_path = dir + "/run.json";
  check(fs::exists(run_path), dir + ": not an r1eval run directory (no run.json)");
  nlohmann::json run = read_json_file(run_path);
  check(run.contains("protocol") && run.contains("benchmarks") && run["benchmarks"].is_object(),
        run_path + ": no protocol or benchmarks");
  Protocol p = protocol_from_json(run["protocol"], run_path);
  if (!o.extract.empty()) p.extract = o.extract;
  if (o.float_places >= 0) p.float_places = o.float_places;
  const ExtractConfig xc = extract_config(p);

  std::vector<BenchData> benches;
  for (const auto& [name, b] : run["benchmarks"].items())
    benches.push_back(bench_from_run(name, b, run_path, o.data_dir, p.samples));

  SampleStore store(dir + "/samples.jsonl");
  std::map<std::pair<std::string, std::string>, const std::string*> gold;  // math problems
  for (const auto& b : benches)
    if (!is_code(b))
      for (const auto& pr : b.problems) gold[{b.spec.name, pr.id}] = &pr.answer;
  int64_t regraded = 0, changed = 0;
  store.update([&](SampleRecord& s) {
    ++regraded;
    auto it = gold.find({s.benchmark, s.problem_id});
    if (it == gold.end()) return;  // code, or a problem outside the run's current set: later
    const bool before = s.correct;
    grade_record(s, *it->second, p, xc);
    changed += before != s.correct;
  });
  // Code limits: the flags', else the run's.
  CodeGradeOptions co = o.code;
  if (run.contains("code_grading") && run["code_grading"].is_object()) {
    if (co.time_limit_s <= 0) co.time_limit_s = run["code_grading"].value("time_limit_s", 0.0);
    if (co.memory_mb <= 0) co.memory_mb = run["code_grading"].value("memory_mb", int64_t{0});
  }
  judge_stored_code(
      store, benches, p, co, o.progress, [](const SampleRecord&) { return true; }, &changed);
  if (std::any_of(benches.begin(), benches.end(), is_code))
    run["code_grading"] = code_grading_json(co);
  std::fprintf(stderr, "r1eval: regraded %lld samples, %lld verdicts changed\n",
               static_cast<long long>(regraded), static_cast<long long>(changed));
  run["protocol"] = protocol_to_json(p);
  write_file_atomic(run_path, dump_json(run, 2) + "\n");
  return write_results(dir, run, benches, store.summaries(), p, o.bootstrap);
}

nlohmann::json compare_run_dirs(const std::string& a, const std::string& b, std::string* markdown,
                                int bootstrap) {
  const auto ra = read_json_file(a + "/results.json");
  const auto rb = read_json_file(b + "/results.json");
  check(ra.contains("benchmarks") && ra["benchmarks"].is_object(),
        a + "/results.json: no benchmarks");
  check(rb.contains("benchmarks") && rb["benchmarks"].is_object(),
        b + "/results.json: no benchmarks");
  nlohmann::json out = {{"a", a}, {"b", b}, {"benchmarks", nlohmann::json::object()}};
  std::string md = "# r1eval compare\n\nA = `" + a + "`, B = `" + b + "`\n\n";
  for (const auto& [name, ma] : ra["benchmarks"].items()) {
    if (!rb["benchmarks"].contains(name)) continue;
    const auto A = metrics_from_json(ma, a + "/results.json: benchmarks." + name);
    const auto B =
        metrics_from_json(rb["benchmarks"][name], b + "/results.json: benchmarks." + name);
    const auto cmp = compare_paired(name, problem_counts(A), problem_counts(B), 0, bootstrap);
    out["benchmarks"][name] = comparison_to_json(cmp);
    md += render_comparison_md(cmp) + "\n\n";
  }
  check(!out["benchmarks"].empty(), a + " and " + b + " share no benchmark");
  if (markdown) *markdown = md;
  return out;
}

}  // namespace r1
