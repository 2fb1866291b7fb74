// r1sandbox: judge one program in the sandbox.
//   r1sandbox run --lang cpp|python SOURCE [--tests FILE.jsonl] [--time-limit S]
//                 [--memory-limit MB] [--checker NAME|PROGRAM] [--json]
// Without --tests the program runs once on this command's stdin (when it is not a terminal) and
// its output is printed; AC means it exited 0. Exit status: 0 for any verdict of the program, 2
// for a sandbox error (SE), 1 for bad usage or input.
#include <unistd.h>  // isatty

#include <CLI/CLI.hpp>  // CLI::App

#include <cstdio>    // std::printf
#include <iostream>  // std::cin
#include <iterator>  // std::istreambuf_iterator

#include "sandbox/sandbox.h"
#include "toolkit/error.h"  // r1::Error
#include "toolkit/fs.h"     // r1::read_file

namespace sb = r1::sandbox;

namespace {

int run(int argc, char** argv) {
  CLI::App app{"r1sandbox: compile and run untrusted code in bubblewrap + seccomp + rlimits"};
  app.require_subcommand(1);
  auto* cmd = app.add_subcommand("run", "compile SOURCE, run it on each test, print the verdict");
  std::string lang = "cpp", source, tests_path, checker = "tokens";
  double time_limit = 2.0, wall_limit = 0;
  int64_t memory_mb = 512, output_mb = 64;
  bool json = false, all_tests = false;
  sb::SandboxOptions so;
  cmd->add_option("--lang", lang, "cpp or python")->capture_default_str();
  cmd->add_option("source", source, "the program's source file")->required();
  cmd->add_option("--tests", tests_path, "JSONL tests {\"input\": ..., \"output\": ...}");
  cmd->add_option("--time-limit", time_limit, "CPU seconds per test")->capture_default_str();
  cmd->add_option("--wall-limit", wall_limit, "wall seconds per test (default 2 x time + 1)");
  cmd->add_option("--memory-limit", memory_mb, "MB of address space per test")
      ->capture_default_str();
  cmd->add_option("--output-limit", output_mb, "MB of stdout + stderr per test")
      ->capture_default_str();
  cmd->add_option("--checker", checker,
                  "exact, tokens, float[:TOL], exitcode, or a checker program (checker in out ans)")
      ->capture_default_str();
  cmd->add_flag("--all-tests", all_tests,
                "run every test instead of stopping at the first failure");
  cmd->add_flag("--json", json, "print the result as JSON");
  cmd->add_option("--cache-dir", so.cache_dir,
                  "compiled-program cache (default ~/.cache/r1/sandbox)");
  cmd->add_option("--bwrap", so.bwrap, "bubblewrap executable")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 1;  // --help: 0; bad flags: 1 (2 is a sandbox error)
  }
  r1::check(time_limit > 0, "--time-limit must be positive");
  r1::check(memory_mb >= 16, "--memory-limit must be at least 16 MB");
  r1::check(output_mb >= 1, "--output-limit must be at least 1 MB");
  const sb::Lang language = sb::parse_lang(lang);
  const std::string code = r1::read_file(source);

  sb::JudgeOptions jo;
  jo.limits.cpu_s = time_limit;
  jo.limits.wall_s = wall_limit;
  jo.limits.memory_mb = memory_mb;
  jo.limits.output_bytes = output_mb << 20;
  jo.stop_on_failure = !all_tests;
  jo.checker = sb::parse_checker(checker);
  std::vector<sb::Test> tests;
  bool once = tests_path.empty();
  if (!once) {
    tests = sb::load_tests_jsonl(tests_path);
    r1::check(!tests.empty(), tests_path + ": no tests");
  }
  sb::Sandbox sandbox(so);
  sb::JudgeResult res;
  std::string program_output;
  if (once) {
    // One run on our stdin; the output is the program's, the verdict its exit status.
    std::string input;
    if (!isatty(0)) input.assign(std::istreambuf_iterator<char>(std::cin), {});
    const sb::Compiled prog = sandbox.compile(language, code);
    res.compile_output = prog.output;
    if (!prog.ok) {
      res.verdict = prog.sandbox_error ? sb::Verdict::SE : sb::Verdict::CE;
    } else {
      const sb::ExecResult r = sandbox.execute(prog, input, jo.limits);
      if (r.kind == sb::ExitKind::Exited) program_output = r.stdout_data;
      res.tests.push_back(sb::outcome_of(r));
      res.verdict = res.tests.back().verdict;
      res.passed = res.verdict == sb::Verdict::AC;
    }
  } else {
    res = sb::judge(sandbox, language, code, tests, jo);
  }
  if (json) {
    std::printf("%s\n", sb::judge_result_to_json(res).c_str());
  } else {
    if (!program_output.empty())
      std::fwrite(program_output.data(), 1, program_output.size(), stdout);
    std::printf("%s", sb::verdict_name(res.verdict));
    if (!tests.empty()) std::printf("  %d/%zu tests passed", res.passed, tests.size());
    std::printf("\n");
    if (!res.compile_output.empty() && res.verdict != sb::Verdict::AC)
      std::printf("%s\n", res.compile_output.c_str());
    for (size_t i = 0; i < res.tests.size(); ++i) {
      const auto& t = res.tests[i];
      std::printf("  test %zu: %s  %.1f ms  %lld KB%s%s\n", i + 1, sb::verdict_name(t.verdict),
                  t.time_ms, static_cast<long long>(t.memory_kb), t.detail.empty() ? "" : "  ",
                  t.detail.c_str());
    }
  }
  return res.verdict == sb::Verdict::SE ? 2 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "r1sandbox: error: %s\n", e.what());
    return 1;
  }
}
