// Sandbox throughput: test executions per second of an accepted CodeContests solution (1000_A,
// tests/data/sandbox, C++ and Python) judged on all its tests through r1::sandbox::judge_all with
// W workers (fully isolated: bwrap + seccomp + rlimits + checker), side by side with plain
// fork/exec of the same binary / interpreter on the same inputs on W threads (output read and
// compared the same way), and the ratio. Leaves out compile time (warmed up first) and asserts
// nothing: timings are machine-dependent.
//
// Run from the repo root: ninja -C build bench_sandbox && build/bin/bench_sandbox [--seconds 5]
#include <fcntl.h>     // open
#include <sys/mman.h>  // memfd_create
#include <sys/wait.h>  // waitpid
#include <unistd.h>    // fork, execv

#include <CLI/CLI.hpp>  // CLI::App

#include <atomic>   // std::atomic
#include <chrono>   // std::chrono
#include <cstdio>   // std::printf
#include <fstream>  // std::ifstream
#include <string>   // std::string
#include <thread>   // std::thread
#include <vector>   // std::vector

#include <nlohmann/json.hpp>  // nlohmann::json

#include "sandbox/sandbox.h"  // r1::sandbox::Sandbox, judge_all
#include "toolkit/error.h"    // r1::check
#include "toolkit/fs.h"       // r1::read_file

namespace sb = r1::sandbox;

namespace {

using Clock = std::chrono::steady_clock;

// The tests of one CodeContests problem (its name's prefix, e.g. "1000_A").
std::vector<sb::Test> problem_tests(const std::string& path, const std::string& problem) {
  std::ifstream in(path);
  r1::check(in.good(), path + ": cannot open (the shared data checkout)");
  for (std::string line; std::getline(in, line);) {
    const auto row = nlohmann::json::parse(line);
    const std::string name = nlohmann::json::parse(row.at("labels").get<std::string>()).at("name");
    if (name.rfind(problem + ".", 0) != 0) continue;
    std::vector<sb::Test> tests;
    for (const auto& t : nlohmann::json::parse(row.at("test").get<std::string>()))
      tests.push_back({t.at("input").at("stdin"), t.at("output").at("stdout")});
    return tests;
  }
  throw r1::Error(path + ": no problem " + problem);
}

// One plain execution: fork, stdin from a memfd, stdout through a pipe, exec, read, reap.
std::string plain_run(const std::vector<std::string>& argv, const std::string& input) {
  const int in = memfd_create("bench-stdin", MFD_CLOEXEC);
  r1::check(in >= 0 && write(in, input.data(), input.size()) == static_cast<ssize_t>(input.size()),
            "memfd");
  lseek(in, 0, SEEK_SET);
  int out[2];
  r1::check(pipe2(out, O_CLOEXEC) == 0, "pipe");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(in, 0);
    dup2(out[1], 1);
    execv(args[0], args.data());
    _exit(127);
  }
  close(in);
  close(out[1]);
  std::string got;
  char buf[65536];
  for (ssize_t n; (n = read(out[0], buf, sizeof buf)) > 0;) got.append(buf, static_cast<size_t>(n));
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  r1::check(WIFEXITED(status) && WEXITSTATUS(status) == 0, argv[0] + " failed");
  return got;
}

struct Rate {
  long executions = 0;
  double seconds = 0;
  double per_second() const { return executions / seconds; }
};

// Plain fork/exec on `workers` threads, passes over the tests until `seconds` have passed.
Rate bench_plain(const std::vector<std::string>& argv, const std::vector<sb::Test>& tests,
                 int workers, double seconds) {
  const sb::Checker checker;  // tokens, as judge() uses
  std::atomic<long> executions{0};
  std::atomic<bool> wrong{false};
  const auto t0 = Clock::now();
  const auto deadline = t0 + std::chrono::duration<double>(seconds);
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      for (size_t i = w; Clock::now() < deadline; i += workers) {
        const auto& t = tests[i % tests.size()];
        if (!sb::check_output(checker, plain_run(argv, t.input), t.output)) wrong = true;
        ++executions;
      }
    });
  }
  for (auto& t : threads) t.join();
  r1::check(!wrong, "plain run: a wrong answer (the solution or the harness is broken)");
  return {executions.load(), std::chrono::duration<double>(Clock::now() - t0).count()};
}

// judge_all over copies of the problem (every test run: no stop at a failure) with `workers`.
Rate bench_sandbox(sb::Sandbox& sandbox, sb::Lang lang, const std::string& source,
                   const std::vector<sb::Test>& tests, int workers, double seconds) {
  sb::JudgeJob job;
  job.lang = lang;
  job.source = source;
  job.tests = tests;
  job.options.stop_on_failure = false;
  // Calibrate: one job (also compiles), then enough copies for `seconds`.
  auto t0 = Clock::now();
  const auto warm = sb::judge_all(sandbox, {job}, 1);
  r1::check(warm[0].verdict == sb::Verdict::AC,
            std::string("sandbox run: ") + sb::verdict_name(warm[0].verdict) + " " +
                warm[0].compile_output +
                (warm[0].tests.empty() ? "" : warm[0].tests.back().detail));
  const double one = std::chrono::duration<double>(Clock::now() - t0).count();
  const size_t copies = std::max<size_t>(2, static_cast<size_t>(seconds * workers / one) + 1);
  const std::vector<sb::JudgeJob> jobs(copies, job);
  t0 = Clock::now();
  const auto results = sb::judge_all(sandbox, jobs, workers);
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  long executions = 0;
  for (const auto& r : results) {
    r1::check(r.verdict == sb::Verdict::AC,
              std::string("sandbox run: ") + sb::verdict_name(r.verdict));
    executions += static_cast<long>(r.tests.size());
  }
  return {executions, s};
}

int run(int argc, char** argv) {
  CLI::App app{"bench_sandbox: isolated executions/s vs plain fork/exec"};
  double seconds = 5;
  int workers = 2;
  std::string data = "../shared/data/benchmarks/code_contests_sample20.jsonl";
  app.add_option("--seconds", seconds, "seconds per measurement")->capture_default_str();
  app.add_option("--workers", workers, "parallel executions")->capture_default_str();
  app.add_option("--data", data, "CodeContests JSONL")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  const auto tests = problem_tests(data, "1000_A");
  sb::Sandbox sandbox;
  std::printf("problem 1000_A (%zu tests), %d workers, %.0f s per measurement\n\n", tests.size(),
              workers, seconds);
  std::printf("%-8s %12s %12s %8s   %s\n", "solution", "plain ex/s", "sandbox ex/s", "ratio",
              "(sandbox executions / seconds)");
  for (const auto lang : {sb::Lang::Cpp, sb::Lang::Python}) {
    const bool cpp = lang == sb::Lang::Cpp;
    const std::string source =
        r1::read_file(std::string("tests/data/sandbox/1000_A.") + (cpp ? "cpp" : "py"));
    // The plain side runs what the sandbox runs: the compiled binary from the sandbox's cache, or
    // the interpreter with the same flags on the same file.
    const sb::Compiled c = sandbox.compile(lang, source);
    r1::check(c.ok, "compile: " + c.output);
    const std::vector<std::string> argv_plain =
        cpp ? std::vector<std::string>{c.artifact}
            : std::vector<std::string>{sandbox.options().python, "-I", "-B", c.artifact};
    const Rate sandboxed = bench_sandbox(sandbox, lang, source, tests, workers, seconds);
    const Rate plain = bench_plain(argv_plain, tests, workers, seconds);
    std::printf("%-8s %12.1f %12.1f %7.3fx   (%ld / %.2f s)\n", cpp ? "C++" : "Python",
                plain.per_second(), sandboxed.per_second(),
                sandboxed.per_second() / plain.per_second(), sandboxed.executions,
                sandboxed.seconds);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_sandbox: error: %s\n", e.what());
    return 1;
  }
}
