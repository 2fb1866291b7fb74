// r1eval: the evaluation harness's command line.
//   r1eval run BENCH... (--model DIR | --endpoint URL...) [--preset r1|r1-64|greedy] [--out DIR]
//              [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--time-limit S] [--memory-limit MB]
//              [--sandbox-workers N]     (code benchmarks: livecodebench, humaneval, ...)
//   r1eval list | get BENCH... [--data-dir DIR] [--url URL] | regrade RUN | compare RUN_A RUN_B
//   r1eval grade [--preset boxed|boxed-or-phrase|lenient|anywhere] [--gold-preset NAME]
//                [--float-places N] [--threads N] < lines.jsonl
// grade: each input line is {"gold": ..., "pred": ...} (a bare answer) or {"gold": ...,
// "response": ...} (a full model response, extraction applied; optional "finish_reason");
// optional per line: "float_places". Each output line is {"correct": bool, "extracted":
// string|null, "reason": string}, in input order. Bad lines give an error naming the line;
// nothing is written for them or after them.
#include <CLI/CLI.hpp>        // CLI::App
#include <nlohmann/json.hpp>  // nlohmann::json

#include <algorithm>   // std::min
#include <atomic>      // std::atomic
#include <filesystem>  // std::filesystem
#include <iostream>    // std::cin
#include <thread>      // std::thread
#include <vector>      // std::vector

#include "evals/benchmarks.h"        // r1::benchmark_registry
#include "evals/dataset_download.h"  // r1::download_dataset
#include "evals/math_grader.h"       // r1::grade_answer
#include "evals/runner.h"            // r1::run_eval
#include "toolkit/cli_flags.h"       // r1::parse_flags
#include "toolkit/cli_main.h"        // r1::guarded_main
#include "toolkit/error.h"           // r1::Error
#include "toolkit/fs.h"              // r1::read_file
#include "toolkit/hf_hub.h"          // r1::resolve_model_path
#include "toolkit/http.h"            // r1::parse_url
#include "toolkit/json.h"            // r1::parse_json, r1::dump_json
#include "toolkit/sha256.h"          // r1::sha256_file

namespace {

struct Job {
  std::string gold, answer;  // answer: the pred, or the response
  bool is_response = false;
  std::string finish = "stop";
  r1::CompareOptions options;
  r1::Grade grade;
};

Job read_job(const std::string& line, const std::string& where, int float_places) {
  const nlohmann::json j = r1::parse_json(line, where);
  r1::check(j.is_object() && j.contains("gold"), where + ": needs a field gold");
  auto text = [&](const char* key) {
    const auto& v = j[key];
    r1::check(v.is_string() || v.is_number(),
              where + ": field " + key + " must be a string or a number");
    return v.is_string() ? v.get<std::string>() : v.dump();
  };
  Job job;
  job.gold = text("gold");
  job.options.float_places = float_places;
  if (j.contains("float_places")) {
    r1::check(j["float_places"].is_number_integer() && j["float_places"].get<int>() >= 0 &&
                  j["float_places"].get<int>() <= 15,
              where + ": field float_places must be an integer in [0, 15]");
    job.options.float_places = j["float_places"].get<int>();
  }
  if (j.contains("pred")) {
    job.answer = text("pred");
  } else {
    r1::check(j.contains("response"), where + ": needs a field pred or response");
    job.answer = text("response");
    job.is_response = true;
    if (j.contains("finish_reason")) {
      r1::check(j["finish_reason"].is_string(), where + ": field finish_reason must be a string");
      job.finish = j["finish_reason"].get<std::string>();
    }
  }
  return job;
}

void grade_job(Job& job, const r1::ExtractConfig& config, const r1::ExtractConfig* gold_config) {
  std::string gold = job.gold;
  if (gold_config) {
    const r1::Extraction e = r1::extract_answer(gold, *gold_config);
    if (e.answer) gold = *e.answer;
  }
  if (job.is_response) {
    job.grade = r1::grade_response(gold, job.answer, config, job.finish, job.options);
  } else {
    job.grade = r1::grade_answer(gold, job.answer, job.options);
    job.grade.extracted = job.answer;
  }
}

struct GradeArgs {
  std::string preset = "boxed", gold_preset;
  int threads = 1, float_places = 6;
};

int run_grade(const GradeArgs& a) {
  const r1::ExtractConfig config = r1::extract_preset(a.preset);
  std::optional<r1::ExtractConfig> gold_config;
  if (!a.gold_preset.empty()) gold_config = r1::extract_preset(a.gold_preset);
  // Lines are read and checked a block at a time, graded in parallel, written in order.
  constexpr size_t kBlock = 4096;
  std::string line;
  size_t n = 0;
  bool more = true;
  while (more) {
    std::vector<Job> jobs;
    while (jobs.size() < kBlock && (more = static_cast<bool>(std::getline(std::cin, line)))) {
      ++n;
      // A skipped line would shift every later answer onto the wrong input line: refused.
      r1::check(line.find_first_not_of(" \t\r") != std::string::npos,
                "stdin line " + std::to_string(n) +
                    ": blank (each line is one JSON object {gold, pred|response}, and output "
                    "line N answers input line N)");
      jobs.push_back(read_job(line, "stdin line " + std::to_string(n), a.float_places));
    }
    std::atomic<size_t> next{0};
    auto worker = [&] {
      for (size_t k; (k = next++) < jobs.size();)
        grade_job(jobs[k], config, gold_config ? &*gold_config : nullptr);
    };
    std::vector<std::thread> pool;
    const size_t t = std::min<size_t>(static_cast<size_t>(a.threads), jobs.size());
    for (size_t k = 1; k < t; ++k) pool.emplace_back(worker);
    worker();
    for (auto& th : pool) th.join();
    for (const Job& job : jobs) {
      nlohmann::json out = {{"correct", job.grade.correct}, {"reason", job.grade.reason}};
      out["extracted"] =
          job.grade.extracted ? nlohmann::json(*job.grade.extracted) : nlohmann::json(nullptr);
      std::cout << r1::dump_json(out) << "\n";
    }
  }
  return 0;
}

int run_list(const std::string& data_dir) {
  const auto dirs = r1::dataset_dirs(data_dir);
  std::printf("%-16s %-6s %-30s %-8s %s\n", "benchmark", "grader", "file", "data", "where");
  for (const auto& spec : r1::benchmark_registry()) {
    const auto path = r1::locate_dataset(spec, dirs);
    const std::string status =
        path ? r1::checksum_status(spec, r1::sha256_file(*path)) : std::string("missing");
    std::printf("%-16s %-6s %-30s %-8s %s\n", spec.name.c_str(), spec.grader.c_str(),
                spec.file.c_str(), status.c_str(),
                path               ? path->c_str()
                : spec.url.empty() ? ("put it in " + dirs.front()).c_str()
                                   : ("r1eval get " + spec.name).c_str());
  }
  std::string where;
  for (const auto& d : dirs) where += (where.empty() ? "" : ", ") + d;
  std::printf("searched: %s\n", where.c_str());
  return 0;
}

// `r1eval get NAME... | all`: each file from its pinned source into the first data directory.
int run_get(std::vector<std::string> names, const std::string& data_dir, const std::string& url) {
  r1::check(url.empty() || names.size() == 1, "--url is one file's mirror: give one benchmark");
  const auto dirs = r1::dataset_dirs(data_dir);
  r1::check(!dirs.empty(), "no data directory: pass --data-dir DIR or set R1_DATA");
  if (names == std::vector<std::string>{"all"}) {
    names.clear();
    for (const auto& spec : r1::benchmark_registry()) {
      if (!spec.url.empty()) names.push_back(spec.name);
    }
  }
  for (const auto& name : names) {
    const std::string path = r1::download_dataset(r1::find_benchmark(name), dirs.front(), url);
    std::printf("%s: %s (sha256 matches the registry)\n", name.c_str(), path.c_str());
  }
  return 0;
}

// Everything `r1eval run` takes.
struct RunArgs {
  r1::RunOptions run;
  std::string preset = "r1";
  std::optional<int64_t> samples, max_new_tokens, top_k;
  std::optional<double> temperature, top_p;
  std::optional<uint64_t> seed;
  std::optional<std::string> system_prompt, prompt_template, code_prompt_template, extract;
  std::optional<int> float_places;
  std::optional<bool> force_think;
  r1::NativeOptions native;
  r1::HttpOptions http;
  bool no_progress = false, resume = false, print_prompts = false;
};

// A short name for the model, for the default run directory.
std::string model_tag(const RunArgs& a) {
  if (!a.native.model_dir.empty())
    return std::filesystem::path(a.native.model_dir).lexically_normal().filename().string();
  if (!a.http.served_model.empty()) return a.http.served_model;
  return r1::parse_url(a.http.endpoints.front()).host;
}

// The native engine (--model) or the HTTP client (--endpoint), model ids resolved.
std::unique_ptr<r1::Backend> make_backend(RunArgs& a) {
  if (!a.native.model_dir.empty()) {
    a.native.model_dir = r1::resolve_model_path(a.native.model_dir);  // a hub id
    return r1::make_native_backend(a.native);
  }
  if (!a.http.tokenizer_dir.empty())
    a.http.tokenizer_dir = r1::resolve_tokenizer_path(a.http.tokenizer_dir);
  return r1::make_http_backend(a.http);
}

int run_run(RunArgs& a, const std::string& command) {
  r1::Protocol p = r1::protocol_preset(a.preset);
  if (a.samples) p.samples = *a.samples;
  if (a.max_new_tokens) p.max_new_tokens = *a.max_new_tokens;
  if (a.top_k) p.top_k = *a.top_k;
  if (a.temperature) p.temperature = *a.temperature;
  if (a.top_p) p.top_p = *a.top_p;
  if (a.seed) p.seed = *a.seed;
  if (a.system_prompt) p.system_prompt = *a.system_prompt;
  if (a.prompt_template) p.prompt_template = *a.prompt_template;
  if (a.code_prompt_template) p.code_prompt_template = *a.code_prompt_template;
  if (a.extract) p.extract = *a.extract;
  if (a.float_places) p.float_places = *a.float_places;
  if (a.force_think) p.force_think = *a.force_think;
  r1::extract_preset(p.extract);  // an unknown preset fails here, before any work
  r1::check(p.temperature >= 0, "--temperature must be >= 0");
  r1::check(p.top_p > 0 && p.top_p <= 1, "--top-p must be in (0, 1]");
  r1::check(p.prompt_template.find("{problem}") != std::string::npos,
            "--prompt-template must contain {problem}");
  r1::check(p.code_prompt_template.find("{problem}") != std::string::npos,
            "--code-prompt-template must contain {problem}");
  const bool native = !a.native.model_dir.empty();
  r1::check(native != !a.http.endpoints.empty(),
            "give exactly one of --model DIR (native engine) or --endpoint URL (HTTP server)");
  if (!a.http.endpoints.empty()) r1::parse_url(a.http.endpoints.front());
  a.run.protocol = p;
  a.run.progress = !a.no_progress;
  a.run.command = command;
  if (a.print_prompts) {  // what the run would send, and nothing run
    r1::print_prompts(a.run, *make_backend(a), std::cout);
    return 0;
  }
  if (a.run.out_dir.empty()) a.run.out_dir = "runs/" + model_tag(a) + "-" + p.preset;
  r1::check(!a.resume || std::filesystem::exists(a.run.out_dir + "/run.json"),
            "--resume: " + a.run.out_dir + " holds no run to resume (no run.json)");
  std::fprintf(stderr, "r1eval: run %s, protocol %s\n", a.run.out_dir.c_str(),
               r1::protocol_to_json(p).dump().c_str());
  const nlohmann::json results = r1::run_eval(a.run, *make_backend(a));
  std::cout << r1::read_file(a.run.out_dir + "/summary.md");
  return 0;
}

int run(int argc, char** argv) {
  CLI::App app{"r1eval: evaluate reasoning models the way the R1 paper does"};
  app.require_subcommand(1);

  auto* grade = app.add_subcommand("grade", "grade JSONL lines {gold, pred|response} from stdin");
  GradeArgs ga;
  grade->add_option("--preset", ga.preset,
                    "extraction preset for responses: boxed, boxed-or-phrase, lenient, anywhere");
  grade->add_option("--gold-preset", ga.gold_preset,
                    "also extract the gold answer from its text with this preset");
  grade
      ->add_option("--float-places", ga.float_places,
                   "decimals a written decimal must match an exact gold to")
      ->check(CLI::Range(0, 15));
  grade->add_option("--threads", ga.threads, "grading threads")->check(CLI::Range(1, 256));

  auto* list = app.add_subcommand("list", "the benchmarks and whether their data is here");
  std::string data_dir;
  list->add_option("--data-dir", data_dir, "directory with the dataset files");

  auto* get = app.add_subcommand("get", "download benchmark files from their pinned sources");
  std::vector<std::string> get_names;
  std::string get_dir, get_url;
  get->add_option("benchmarks", get_names, "benchmark names (r1eval list), or all")->required();
  get->add_option("--data-dir", get_dir, "where to put them (default: $R1_DATA, else ~/.cache)");
  get->add_option("--url", get_url, "a mirror of the one file (same sha256 check)");

  auto* runc = app.add_subcommand("run", "generate, grade and score benchmarks (resumable)");
  RunArgs ra;
  runc->add_option("benchmarks", ra.run.benchmarks,
                   "aime2024, aime2025, math500, livecodebench, humaneval, codecontests, "
                   "codecontests-sf, codeforces (r1eval list)");
  runc->add_option("--dataset", ra.run.dataset, "your own JSONL file of problems");
  runc->add_option("--question-field", ra.run.question_field, "its question field (problem)");
  runc->add_option("--answer-field", ra.run.answer_field, "its answer field (answer)");
  runc->add_option("--id-field", ra.run.id_field, "its id field (default: the line number)");
  runc->add_option("--data-dir", ra.run.data_dir, "directory with the dataset files");
  runc->add_option("--out", ra.run.out_dir,
                   "run directory (default runs/MODEL-PRESET); an existing run is resumed");
  runc->add_option("--limit", ra.run.limit, "only the first N problems of each benchmark")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  runc->add_option("--bootstrap", ra.run.bootstrap, "bootstrap replicates for the 95% intervals")
      ->check(CLI::Range(1, 1000000));
  runc->add_option("--preset", ra.preset, "protocol: r1 (R1 paper), r1-64, greedy");
  // Counts are bounded far above any real protocol (R1 uses 64 samples, 32k tokens), so a typo
  // is refused with the range instead of allocating without end (issue 17, D5/D12).
  runc->add_option("--samples", ra.samples, "samples per problem")
      ->check(CLI::Range(int64_t{1}, int64_t{65536}));
  runc->add_option("--temperature", ra.temperature, "sampling temperature (0 = greedy)");
  runc->add_option("--top-p", ra.top_p, "nucleus mass");
  runc->add_option("--top-k", ra.top_k, "top-k (0 = off)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 24));
  runc->add_option("--max-new-tokens", ra.max_new_tokens, "generation limit per sample")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  runc->add_option("--seed", ra.seed, "run seed (sample seeds derive from it)");
  runc->add_option("--system-prompt", ra.system_prompt, "system turn (R1: none)");
  runc->add_option("--prompt-template", ra.prompt_template, "user turn with {problem}");
  runc->add_option("--code-prompt-template", ra.code_prompt_template,
                   "user turn of code problems, {problem} = the benchmark's prompt");
  runc->add_option("--since", ra.run.since,
                   "livecodebench: only problems with contest date >= YYYY-MM-DD");
  runc->add_option("--until", ra.run.until,
                   "livecodebench: only problems with contest date <= YYYY-MM-DD");
  runc->add_option("--time-limit", ra.run.code.time_limit_s,
                   "code: CPU seconds per test (default: the problem's, else the benchmark's)")
      ->check(CLI::NonNegativeNumber);
  runc->add_option("--memory-limit", ra.run.code.memory_mb,
                   "code: memory per test in MB (default: the problem's, else the benchmark's)")
      ->check(CLI::NonNegativeNumber);
  runc->add_option("--sandbox-workers", ra.run.code.workers,
                   "code: programs judged at once (default: CPU cores)")
      ->check(CLI::NonNegativeNumber);
  runc->add_option("--force-think", ra.force_think,
                   "start the response with <think>\\n (true/false; r1 presets: true)");
  runc->add_option("--extract", ra.extract,
                   "answer extraction: boxed, boxed-or-phrase, lenient, anywhere");
  runc->add_option("--float-places", ra.float_places, "grader decimals")->check(CLI::Range(0, 15));
  runc->add_flag("--no-progress", ra.no_progress, "no progress line");
  runc->add_flag(
      "--print-prompts", ra.print_prompts,
      "print what would be sent for each problem (JSON lines: messages and the rendered prompt), "
      "then exit without generating");
  runc->add_flag("--resume", ra.resume,
                 "require an existing run in --out (an existing run is always resumed)");
  runc->add_option("--model", ra.native.model_dir,
                   "native engine: checkpoint dir, GGUF file or hub id ORG/NAME[@REV][:FILE]");
  runc->add_option("--dtype", ra.native.dtype, "auto, float32, bfloat16");
  runc->add_option("--device", ra.native.device, "cpu, cuda, cuda:1");
  runc->add_option("--max-batch", ra.native.max_batch, "sequences decoded together")
      ->check(CLI::Range(int64_t{1}, int64_t{65536}));
  runc->add_option("--max-context", ra.native.max_context, "context limit (0 = the model's)");
  runc->add_option("--threads", ra.native.threads, "CPU threads for the model (0 = default)");
  runc->add_option("--endpoint", ra.http.endpoints,
                   "OpenAI-compatible base URL, e.g. http://host:8000/v1 (repeat for several)");
  runc->add_option("--served-model", ra.http.served_model, "model name (default: GET /models)");
  runc->add_option("--api", ra.http.api, "chat or completions");
  runc->add_option("--tokenizer", ra.http.tokenizer_dir,
                   "completions API: checkpoint or tokenizer dir whose chat template to render");
  runc->add_option("--concurrency", ra.http.concurrency, "requests in flight")
      ->check(CLI::Range(1, 4096));
  runc->add_option("--timeout", ra.http.timeout_s, "seconds per request");
  runc->add_option("--retries", ra.http.max_retries, "retries per sample")
      ->check(CLI::Range(0, 100));
  runc->add_option("--retry-base", ra.http.retry_base_s, "first backoff in seconds (doubles)");
  runc->add_option("--ca-file", ra.http.ca_file, "PEM CA bundle for https endpoints");
  bool no_stream = false;
  runc->add_flag("--no-stream", no_stream,
                 "endpoints: plain replies instead of \"stream\": true (no time to first token)");
  std::string chat_template, template_kwargs;
  runc->add_option("--chat-template", chat_template,
                   "deepseek-r1, deepseek-r1-nothink, qwen2.5, llama3, llama3.1, a .jinja file, or "
                   "the name of one "
                   "of the model's templates (default: the model's own)");
  runc->add_option("--template-kwargs", template_kwargs,
                   "JSON object of extra chat-template variables, e.g. '{\"enable_thinking\": "
                   "false}' (chat API: "
                   "sent as chat_template_kwargs)");

  auto* regrade = app.add_subcommand("regrade", "re-grade a run's samples (no generation)");
  std::string regrade_dir;
  r1::RegradeOptions rg;
  regrade->add_option("run", regrade_dir, "run directory")->required();
  regrade->add_option("--extract", rg.extract, "extraction preset (default: the run's)");
  regrade->add_option("--float-places", rg.float_places, "grader decimals (default: the run's)")
      ->check(CLI::Range(0, 15));
  regrade->add_option("--data-dir", rg.data_dir, "where the datasets are now");
  regrade
      ->add_option("--time-limit", rg.code.time_limit_s,
                   "code: CPU seconds per test (default: the run's)")
      ->check(CLI::NonNegativeNumber);
  regrade
      ->add_option("--memory-limit", rg.code.memory_mb,
                   "code: memory per test in MB (default: the run's)")
      ->check(CLI::NonNegativeNumber);
  regrade
      ->add_option("--sandbox-workers", rg.code.workers,
                   "code: programs judged at once (default: CPU cores)")
      ->check(CLI::NonNegativeNumber);
  bool regrade_no_progress = false;
  regrade->add_flag("--no-progress", regrade_no_progress, "no progress line");

  auto* compare = app.add_subcommand("compare", "paired per-problem difference of two runs");
  std::string run_a, run_b;
  bool compare_json = false;
  compare->add_option("run_a", run_a, "baseline run directory")->required();
  compare->add_option("run_b", run_b, "new run directory")->required();
  compare->add_flag("--json", compare_json, "JSON instead of Markdown");

  if (const auto code = r1::parse_flags(app, argc, argv)) return *code;
  if (grade->parsed()) return run_grade(ga);
  if (list->parsed()) return run_list(data_dir);
  if (get->parsed()) return run_get(get_names, get_dir, get_url);
  if (runc->parsed()) {
    ra.native.chat_template = chat_template;
    ra.http.chat_template = chat_template;
    ra.native.template_kwargs = template_kwargs;
    ra.http.template_kwargs = template_kwargs;
    ra.http.stream = !no_stream;
    std::string command = "r1eval";
    for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
    return run_run(ra, command);
  }
  if (regrade->parsed()) {
    rg.progress = !regrade_no_progress;
    r1::regrade_run(regrade_dir, rg);
    std::cout << r1::read_file(regrade_dir + "/summary.md");
    return 0;
  }
  std::string md;
  const auto cmp = r1::compare_run_dirs(run_a, run_b, &md);
  std::cout << (compare_json ? cmp.dump(2) + "\n" : md);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return r1::guarded_main("r1eval", [&] { return run(argc, argv); });
}
