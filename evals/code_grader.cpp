// Code grading (see code_grader.h).
#include "evals/code_grader.h"

#include <thread>  // std::thread::hardware_concurrency
#include <vector>  // std::vector

#include "evals/code_extract.h"  // r1::extract_code
#include "toolkit/error.h"       // r1::Error

namespace r1 {
namespace {

std::string clip(const std::string& s, size_t n) {
  return s.size() <= n ? s : s.substr(0, n) + "...";
}

// The compiler line that says why: C++ the first "error" line, Python the last line (the
// exception after its traceback).
std::string compile_error_line(const std::string& output) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < output.size()) {
    size_t end = output.find('\n', start);
    if (end == std::string::npos) end = output.size();
    if (output.find_first_not_of(" \t\r", start) < end)
      lines.push_back(output.substr(start, end - start));
    start = end + 1;
  }
  if (lines.empty()) return "no detail";
  for (const auto& l : lines)
    if (l.find("error") != std::string::npos) return l;
  return lines.back();
}

// The reason of a judged sample (see code_grader.h). Harnessed programs print a marker when
// they pass: a different first token is a failed check, no output an exit before the checks.
std::string judge_reason(const sandbox::JudgeResult& r, size_t tests, bool harnessed) {
  const std::string v = sandbox::verdict_name(r.verdict);
  if (r.verdict == sandbox::Verdict::AC) return v;
  if (r.verdict == sandbox::Verdict::CE || r.tests.empty())
    return v + ": " + clip(compile_error_line(r.compile_output), 300);
  const auto& t = r.tests.back();  // judging stops at the first failing test
  std::string detail = t.detail;
  if (harnessed && r.verdict == sandbox::Verdict::WA)
    detail = detail.find("got 0 tokens") != std::string::npos
                 ? "exited before the checks ran"
                 : "a check failed (an assertion, or a wrong return value)";
  return v + ": test " + std::to_string(r.tests.size()) + "/" + std::to_string(tests) + ": " +
         clip(detail, 300);
}

}  // namespace

std::vector<CodeGrade> grade_code_samples(
    sandbox::Sandbox& sandbox, const std::vector<CodeSample>& samples, const CodeGradeOptions& o,
    const std::function<void(size_t done, size_t total)>& on_done) {
  std::vector<CodeGrade> grades(samples.size());
  std::vector<sandbox::JudgeJob> jobs;
  std::vector<size_t> job_sample;
  for (size_t i = 0; i < samples.size(); ++i) {
    const CodeSample& s = samples[i];
    check(s.task != nullptr, "grade_code_samples: sample " + std::to_string(i) + " has no task");
    const CodeExtraction x =
        extract_code(s.text, s.task->default_lang, o.require_think, s.finish_reason);
    CodeGrade& g = grades[i];
    if (!x.code) {
      g.reason = x.status;
      continue;
    }
    g.extracted = x.code;
    CodeProgram prog;
    try {
      prog = build_code_program(*s.task, *x.code, x.lang);
    } catch (const Error& e) {
      g.reason = e.what();  // wrong_language
      continue;
    }
    sandbox::JudgeJob job;
    job.lang = prog.lang;
    job.source = std::move(prog.source);
    job.tests = std::move(prog.tests);
    job.options.checker = prog.checker;
    job.options.limits.cpu_s = o.time_limit_s > 0 ? o.time_limit_s : s.task->time_limit_s;
    if (job.options.limits.cpu_s <= 0) job.options.limits.cpu_s = sandbox::Limits{}.cpu_s;
    const int64_t mem = o.memory_mb > 0 ? o.memory_mb : s.task->memory_mb;
    if (mem > 0) job.options.limits.memory_mb = mem;
    job.options.stop_on_failure = true;
    jobs.push_back(std::move(job));
    job_sample.push_back(i);
  }
  int workers = o.workers > 0 ? o.workers : static_cast<int>(std::thread::hardware_concurrency());
  if (workers < 1) workers = 1;
  const auto results = sandbox::judge_all(sandbox, jobs, workers, [&](size_t done) {
    if (on_done) on_done(done, jobs.size());
  });
  for (size_t k = 0; k < results.size(); ++k) {
    CodeGrade& g = grades[job_sample[k]];
    g.correct = results[k].verdict == sandbox::Verdict::AC;
    const bool harnessed = samples[job_sample[k]].task->kind != CodeTask::Kind::Stdin;
    g.reason =
        judge_reason(results[k], jobs[k].tests.empty() ? 1 : jobs[k].tests.size(), harnessed);
  }
  return grades;
}

CodeGrade grade_code(sandbox::Sandbox& sandbox, const CodeTask& task, const std::string& text,
                     const CodeGradeOptions& options, const std::string& finish_reason) {
  CodeGradeOptions one = options;
  one.workers = 1;
  return grade_code_samples(sandbox, {CodeSample{&task, text, finish_reason}}, one).front();
}

std::string code_outcome(const std::string& reason) {
  const std::string head = reason.substr(0, reason.find(':'));
  for (const char* v :
       {"AC", "WA", "CE", "RE", "TLE", "MLE", "OLE", "SE", "wrong_language", "prompt_too_long"})
    if (head == v) return v;
  return "no_answer";
}

std::map<std::string, int64_t> count_code_outcomes(const std::vector<std::string>& reasons) {
  std::map<std::string, int64_t> counts;
  for (const char* v :
       {"AC", "WA", "CE", "RE", "TLE", "MLE", "OLE", "SE", "wrong_language", "no_answer"})
    counts[v] = 0;
  // Present only when it happened: most runs never meet it.
  for (const auto& r : reasons) ++counts[code_outcome(r)];
  return counts;
}

}  // namespace r1
