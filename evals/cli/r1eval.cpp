// r1eval: the evaluation harness's command line. This version has `grade`:
//   r1eval grade [--preset boxed|boxed-or-phrase|lenient|anywhere] [--gold-preset NAME]
//                [--float-places N] [--threads N] < lines.jsonl
// Each input line is {"gold": ..., "pred": ...} (a bare answer) or {"gold": ..., "response": ...}
// (a full model response, extraction applied; optional "finish_reason"); optional per line:
// "float_places". Each output line is {"correct": bool, "extracted": string|null, "reason":
// string}, in input order. Bad lines give an error naming the line; nothing is written for them
// or after them.
#include <CLI/CLI.hpp>        // CLI::App
#include <nlohmann/json.hpp>  // nlohmann::json

#include <algorithm>  // std::min
#include <atomic>     // std::atomic
#include <iostream>   // std::cin
#include <thread>     // std::thread
#include <vector>     // std::vector

#include "evals/math_grader.h"  // r1::grade_answer
#include "toolkit/cli_main.h"   // r1::guarded_main
#include "toolkit/error.h"      // r1::Error
#include "toolkit/json.h"       // r1::parse_json

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

int run(int argc, char** argv) {
  CLI::App app{"r1eval: evaluate reasoning models the way the R1 paper does"};
  app.require_subcommand(1);
  auto* grade = app.add_subcommand("grade", "grade JSONL lines {gold, pred|response} from stdin");
  std::string preset = "boxed", gold_preset;
  int threads = 1, float_places = 6;
  grade->add_option("--preset", preset,
                    "extraction preset for responses: boxed, boxed-or-phrase, lenient, anywhere");
  grade->add_option("--gold-preset", gold_preset,
                    "also extract the gold answer from its text with this preset");
  grade->add_option("--float-places", float_places,
                    "decimals a written decimal must match an exact gold to")
      ->check(CLI::Range(0, 15));
  grade->add_option("--threads", threads, "grading threads")->check(CLI::Range(1, 256));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  const r1::ExtractConfig config = r1::extract_preset(preset);
  std::optional<r1::ExtractConfig> gold_config;
  if (!gold_preset.empty()) gold_config = r1::extract_preset(gold_preset);
  // Lines are read and checked a block at a time, graded in parallel, written in order.
  constexpr size_t kBlock = 4096;
  std::string line;
  size_t n = 0;
  bool more = true;
  while (more) {
    std::vector<Job> jobs;
    while (jobs.size() < kBlock && (more = static_cast<bool>(std::getline(std::cin, line)))) {
      ++n;
      if (line.empty()) continue;
      jobs.push_back(read_job(line, "stdin line " + std::to_string(n), float_places));
    }
    std::atomic<size_t> next{0};
    auto worker = [&] {
      for (size_t k; (k = next++) < jobs.size();)
        grade_job(jobs[k], config, gold_config ? &*gold_config : nullptr);
    };
    std::vector<std::thread> pool;
    const size_t t = std::min<size_t>(static_cast<size_t>(threads), jobs.size());
    for (size_t k = 1; k < t; ++k) pool.emplace_back(worker);
    worker();
    for (auto& th : pool) th.join();
    for (const Job& job : jobs) {
      nlohmann::json out = {{"correct", job.grade.correct}, {"reason", job.grade.reason}};
      out["extracted"] =
          job.grade.extracted ? nlohmann::json(*job.grade.extracted) : nlohmann::json(nullptr);
      std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return r1::guarded_main("r1eval", [&] { return run(argc, argv); });
}
