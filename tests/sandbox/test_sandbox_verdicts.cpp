// r1::sandbox verdicts and checkers, end to end in bubblewrap: AC, WA, CE (the compiler's first
// error shown), RE (signal vs exit code, exit(134) is not a signal), TLE by CPU and by wall clock,
// MLE, OLE, for C++ and Python; threads and deep recursion; a killed program's own usage; each
// checker (exact, tokens, float abs/rel, a testlib-style program in C++, Python or as a binary,
// exit code); the compile cache; the r1sandbox CLI's JSON; and
// accepted reference solutions (tests/data/sandbox) passing every test of their CodeContests
// problem. Hostile programs are in test_sandbox_security.cpp.
#include <gtest/gtest.h>
#include <unistd.h>  // access

#include <fstream>  // std::ofstream
#include <map>      // std::map
#include <memory>   // std::unique_ptr
#include <string>   // std::string
#include <vector>   // std::vector

#include <nlohmann/json.hpp>  // nlohmann::json

#include "sandbox/sandbox.h"  // r1::sandbox::Sandbox, judge
#include "tests/test_util.h"  // r1::test::TempDir, run_command
#include "toolkit/error.h"    // r1::Error
#include "toolkit/fs.h"       // r1::read_file

namespace {

namespace sb = r1::sandbox;
using r1::test::TempDir;

const std::string kPrograms = R1_SANDBOX_PROGRAMS;
const std::string kCodeContests = r1::test::shared_data("benchmarks/code_contests_sample20.jsonl");

std::string program(const std::string& name) { return r1::read_file(kPrograms + "/" + name); }

bool have_bwrap() {
  return access("/usr/bin/bwrap", X_OK) == 0 || access("/usr/local/bin/bwrap", X_OK) == 0;
}

// The suite's uids when run as root: apart from other test binaries' and the default 64000...
sb::SandboxOptions test_options(const std::string& cache_dir) {
  sb::SandboxOptions o;
  o.init = R1_SANDBOX_INIT;
  o.cache_dir = cache_dir;
  o.uid_base = 64112;
  o.slots = 8;
  return o;
}

sb::Limits small_limits() {
  sb::Limits l;
  l.cpu_s = 1;
  l.wall_s = 3;
  l.memory_mb = 256;
  l.output_bytes = 1 << 20;
  return l;
}

// One Sandbox (and compile cache) for the whole suite, so that each program compiles once.
class SandboxTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cache_ = std::make_unique<TempDir>();
    if (have_bwrap()) sandbox_ = std::make_unique<sb::Sandbox>(test_options(cache_->path()));
  }
  static void TearDownTestSuite() {
    sandbox_.reset();
    cache_.reset();
  }
  void SetUp() override {
    if (!have_bwrap()) GTEST_SKIP() << "bubblewrap is not installed (apt-get install bubblewrap)";
  }

  static sb::Sandbox& sandbox() { return *sandbox_; }

  static sb::JudgeResult judge(sb::Lang lang, const std::string& file,
                               const std::vector<sb::Test>& tests, const sb::Checker& checker = {},
                               sb::Limits limits = small_limits(), bool stop_on_failure = true) {
    sb::JudgeOptions o;
    o.limits = limits;
    o.checker = checker;
    o.stop_on_failure = stop_on_failure;
    return sb::judge(sandbox(), lang, program(file), tests, o);
  }

  // Compiles and runs once: the ExitKind tells CPU from wall timeouts.
  static sb::ExecResult execute(sb::Lang lang, const std::string& file, const std::string& input,
                                const sb::Limits& limits = small_limits()) {
    const sb::Compiled c = sandbox().compile(lang, program(file));
    EXPECT_TRUE(c.ok) << file << ": " << c.output;
    if (!c.ok) return {};
    return sandbox().execute(c, input, limits);
  }

 private:
  static std::unique_ptr<TempDir> cache_;
  static std::unique_ptr<sb::Sandbox> sandbox_;
};
std::unique_ptr<TempDir> SandboxTest::cache_;
std::unique_ptr<sb::Sandbox> SandboxTest::sandbox_;

std::string describe(const sb::ExecResult& r) {
  return std::string("kind=") + sb::exit_kind_name(r.kind) +
         " exit=" + std::to_string(r.exit_code) + " signal=" + std::to_string(r.signal) +
         " time_ms=" + std::to_string(r.time_ms) + " wall_ms=" + std::to_string(r.wall_ms) +
         " memory_kb=" + std::to_string(r.memory_kb) + " error=" + r.error +
         " stderr=" + r.stderr_data.substr(0, 300);
}

std::string describe(const sb::JudgeResult& r) {
  std::string s = std::string("verdict=") + sb::verdict_name(r.verdict) +
                  " passed=" + std::to_string(r.passed) +
                  " compile_output=" + r.compile_output.substr(0, 300);
  for (const auto& t : r.tests)
    s += std::string(" | ") + sb::verdict_name(t.verdict) + " " + t.detail;
  return s;
}

const std::vector<sb::Test> kSumTests = {{"1 2\n", "3\n"}, {"5 -7\n10\n", "8"}, {"", "0\n"}};

// --- AC and WA -----------------------------------------------------------------------------------

TEST_F(SandboxTest, AcceptedCpp) {
  const auto r = judge(sb::Lang::Cpp, "sum.cpp", kSumTests);
  ASSERT_EQ(r.verdict, sb::Verdict::AC) << describe(r);
  EXPECT_EQ(r.passed, 3);
  ASSERT_EQ(r.tests.size(), 3u);
  for (const auto& t : r.tests) {
    EXPECT_EQ(t.verdict, sb::Verdict::AC);
    EXPECT_EQ(t.exit_code, 0);
    EXPECT_EQ(t.signal, 0);
    EXPECT_GT(t.memory_kb, 0);
    EXPECT_GE(t.time_ms, 0);
    EXPECT_LT(t.wall_ms, 3000);
  }
}

TEST_F(SandboxTest, AcceptedPython) {
  const auto r = judge(sb::Lang::Python, "sum.py", kSumTests);
  ASSERT_EQ(r.verdict, sb::Verdict::AC) << describe(r);
  EXPECT_EQ(r.passed, 3);
}

TEST_F(SandboxTest, WrongAnswerStopsAtFirstFailure) {
  const std::vector<sb::Test> tests = {{"1 2", "3"}, {"2 2", "5"}, {"3 3", "6"}};
  for (const auto& [lang, file] :
       {std::pair{sb::Lang::Cpp, "sum.cpp"}, std::pair{sb::Lang::Python, "sum.py"}}) {
    const auto stopped = judge(lang, file, tests);
    EXPECT_EQ(stopped.verdict, sb::Verdict::WA) << file << ": " << describe(stopped);
    EXPECT_EQ(stopped.passed, 1) << file;
    ASSERT_EQ(stopped.tests.size(), 2u) << file;
    EXPECT_EQ(stopped.tests[1].verdict, sb::Verdict::WA);
    EXPECT_FALSE(stopped.tests[1].detail.empty());

    const auto all = judge(lang, file, tests, {}, small_limits(), /*stop_on_failure=*/false);
    EXPECT_EQ(all.verdict, sb::Verdict::WA) << file;
    EXPECT_EQ(all.passed, 2) << file;
    ASSERT_EQ(all.tests.size(), 3u) << file;
    EXPECT_EQ(all.tests[2].verdict, sb::Verdict::AC);
  }
}

// --- CE ------------------------------------------------------------------------------------------

TEST_F(SandboxTest, CompileErrorShowsTheFirstError) {
  const auto r = judge(sb::Lang::Cpp, "compile_error.cpp", kSumTests);
  EXPECT_EQ(r.verdict, sb::Verdict::CE) << describe(r);
  EXPECT_TRUE(r.tests.empty());
  const auto first_error = r.compile_output.find("error:");
  ASSERT_NE(first_error, std::string::npos) << r.compile_output;
  const std::string line =
      r.compile_output.substr(first_error, r.compile_output.find('\n', first_error) - first_error);
  EXPECT_NE(line.find("undeclared_r1_identifier"), std::string::npos) << line;
  EXPECT_NE(r.compile_output.find("main.cpp:5"), std::string::npos) << r.compile_output;
}

TEST_F(SandboxTest, CompileErrorPython) {
  const auto r = judge(sb::Lang::Python, "syntax_error.py", kSumTests);
  EXPECT_EQ(r.verdict, sb::Verdict::CE) << describe(r);
  EXPECT_NE(r.compile_output.find("SyntaxError"), std::string::npos) << r.compile_output;
  EXPECT_TRUE(r.tests.empty());
}

// --- RE: signals and exit codes told apart -------------------------------------------------------

struct ReCase {
  sb::Lang lang;
  const char* file;
  const char* input;
  sb::ExitKind kind;
  int exit_code;  // when Exited
  int signal;     // when Signaled
};

TEST_F(SandboxTest, RuntimeErrorsTellSignalsFromExitCodes) {
  const ReCase cases[] = {
      {sb::Lang::Cpp, "runtime_error.cpp", "abort", sb::ExitKind::Signaled, -1, 6},
      {sb::Lang::Cpp, "runtime_error.cpp", "segv", sb::ExitKind::Signaled, -1, 11},
      {sb::Lang::Cpp, "runtime_error.cpp", "throw", sb::ExitKind::Signaled, -1, 6},
      {sb::Lang::Cpp, "runtime_error.cpp", "exit 3", sb::ExitKind::Exited, 3, 0},
      // 134 = 128 + SIGABRT, as a shell would print it: still an exit code, not a signal.
      {sb::Lang::Cpp, "runtime_error.cpp", "exit 134", sb::ExitKind::Exited, 134, 0},
      {sb::Lang::Cpp, "runtime_error.cpp", "exit 137", sb::ExitKind::Exited, 137, 0},
      {sb::Lang::Python, "runtime_error.py", "raise", sb::ExitKind::Exited, 1, 0},
      {sb::Lang::Python, "runtime_error.py", "exit 3", sb::ExitKind::Exited, 3, 0},
      {sb::Lang::Python, "runtime_error.py", "exit 134", sb::ExitKind::Exited, 134, 0},
      {sb::Lang::Python, "runtime_error.py", "kill", sb::ExitKind::Signaled, -1, 9},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.file) + " < " + c.input);
    const sb::ExecResult r = execute(c.lang, c.file, c.input);
    EXPECT_EQ(r.kind, c.kind) << describe(r);
    if (c.kind == sb::ExitKind::Exited) {
      EXPECT_EQ(r.exit_code, c.exit_code) << describe(r);
      EXPECT_EQ(r.signal, 0) << describe(r);
    } else {
      EXPECT_EQ(r.signal, c.signal) << describe(r);
    }
    EXPECT_EQ(r.stdout_data, "partial output\n");

    const auto j = judge(c.lang, c.file, {{c.input, "partial output\n"}});
    ASSERT_EQ(j.tests.size(), 1u) << describe(j);
    EXPECT_EQ(j.verdict, sb::Verdict::RE) << describe(j);
    EXPECT_EQ(j.tests[0].signal, c.kind == sb::ExitKind::Signaled ? c.signal : 0);
    if (c.kind == sb::ExitKind::Exited) {
      EXPECT_EQ(j.tests[0].exit_code, c.exit_code);
    }
  }
  const sb::ExecResult py = execute(sb::Lang::Python, "runtime_error.py", "raise");
  EXPECT_NE(py.stderr_data.find("ValueError: r1 uncaught"), std::string::npos) << py.stderr_data;
}

// --- TLE: CPU and wall clock ---------------------------------------------------------------------

TEST_F(SandboxTest, TimeLimitByCpu) {
  sb::Limits l = small_limits();
  l.wall_s = 10;  // far away: only the CPU limit may end it
  for (const auto& [lang, file] :
       {std::pair{sb::Lang::Cpp, "busy_loop.cpp"}, std::pair{sb::Lang::Python, "busy_loop.py"}}) {
    const sb::ExecResult r = execute(lang, file, "", l);
    EXPECT_EQ(r.kind, sb::ExitKind::CpuTimeout) << file << ": " << describe(r);
    EXPECT_GE(r.time_ms, 900) << file << ": " << describe(r);
    EXPECT_LT(r.wall_ms, 9000) << file << ": " << describe(r);  // before the 10 s deadline
    const auto j = judge(lang, file, {{"", ""}}, {}, l);
    EXPECT_EQ(j.verdict, sb::Verdict::TLE) << file << ": " << describe(j);
  }
}

TEST_F(SandboxTest, TimeLimitByWallClock) {
  sb::Limits l = small_limits();
  l.wall_s = 1.5;
  const sb::ExecResult r = execute(sb::Lang::Cpp, "sleep_forever.cpp", "", l);
  EXPECT_EQ(r.kind, sb::ExitKind::WallTimeout) << describe(r);
  EXPECT_GE(r.wall_ms, 1400) << describe(r);
  EXPECT_LT(r.wall_ms, 4000) << describe(r);
  EXPECT_LT(r.time_ms, 500) << describe(r);
  const auto j = judge(sb::Lang::Cpp, "sleep_forever.cpp", {{"", ""}}, {}, l);
  EXPECT_EQ(j.verdict, sb::Verdict::TLE) << describe(j);
}

// --- Stacks: threads start, the main stack grows to the memory limit (issue 17, D14) ------------

TEST_F(SandboxTest, ThreadsStartAndDeepRecursionFits) {
  sb::Limits l = small_limits();
  l.cpu_s = 5;
  l.wall_s = 10;
  const std::tuple<sb::Lang, const char*, const char*> cases[] = {
      {sb::Lang::Cpp, "threads.cpp", "16\n"},
      {sb::Lang::Python, "threads.py", "16\n"},
      {sb::Lang::Cpp, "deep_recursion.cpp", "1000000\n"},  // ~100 MiB of main-thread stack
  };
  for (const auto& [lang, file, want] : cases) {
    const sb::ExecResult r = execute(lang, file, "", l);
    EXPECT_EQ(r.kind, sb::ExitKind::Exited) << file << ": " << describe(r);
    EXPECT_EQ(r.exit_code, 0) << file << ": " << describe(r);
    EXPECT_EQ(r.stdout_data, want) << file << ": " << describe(r);
  }
}

// --- A killed program's usage is its own, not the sandbox's (issue 17, D15) -------------------

TEST_F(SandboxTest, KilledProgramsReportTheirOwnUsage) {
  sb::Limits l = small_limits();
  l.cpu_s = 5;
  l.wall_s = 2;
  l.output_bytes = 4 << 20;
  // The program touches 64 MiB and uses 0.3 s of CPU before it blocks or floods.
  for (const auto& [mode, kind] : {std::pair{"sleep\n", sb::ExitKind::WallTimeout},
                                   std::pair{"flood\n", sb::ExitKind::OutputLimit}}) {
    const sb::ExecResult r = execute(sb::Lang::Cpp, "usage_then_block.cpp", mode, l);
    EXPECT_EQ(r.kind, kind) << mode << describe(r);
    EXPECT_GE(r.memory_kb, 64 * 1024) << mode << describe(r);
    EXPECT_GE(r.time_ms, 290) << mode << describe(r);
  }
}

// --- MLE -----------------------------------------------------------------------------------------

TEST_F(SandboxTest, MemoryLimit) {
  sb::Limits l = small_limits();
  l.memory_mb = 128;
  l.cpu_s = 5;
  l.wall_s = 10;
  const std::pair<sb::Lang, const char*> cases[] = {
      {sb::Lang::Cpp, "memory_bad_alloc.cpp"},  // std::bad_alloc
      {sb::Lang::Cpp, "memory_bomb.cpp"},       // malloc's NULL written to: SIGSEGV at the limit
      {sb::Lang::Python, "memory_bomb.py"},     // MemoryError
  };
  for (const auto& [lang, file] : cases) {
    const sb::ExecResult r = execute(lang, file, "", l);
    EXPECT_EQ(r.kind, sb::ExitKind::MemoryLimit) << file << ": " << describe(r);
    EXPECT_LT(r.wall_ms, 8000) << file;
    const auto j = judge(lang, file, {{"", ""}}, {}, l);
    EXPECT_EQ(j.verdict, sb::Verdict::MLE) << file << ": " << describe(j);
  }
}

// --- OLE -----------------------------------------------------------------------------------------

TEST_F(SandboxTest, OutputLimitIsSeenWhileRunning) {
  sb::Limits l = small_limits();
  l.cpu_s = 5;
  l.wall_s = 10;
  l.output_bytes = 4 << 20;
  const std::tuple<sb::Lang, const char*, const char*> cases[] = {
      {sb::Lang::Cpp, "output_flood.cpp", "stdout"},
      {sb::Lang::Cpp, "output_flood.cpp", "stderr"},
      {sb::Lang::Python, "output_flood.py", ""},
  };
  for (const auto& [lang, file, input] : cases) {
    SCOPED_TRACE(std::string(file) + " < " + input);
    const sb::ExecResult r = execute(lang, file, input, l);
    EXPECT_EQ(r.kind, sb::ExitKind::OutputLimit) << describe(r);
    EXPECT_LT(r.wall_ms, 2000) << "OLE must be seen as the output comes, not at the deadline";
    EXPECT_LE(r.stdout_data.size(), static_cast<size_t>(l.output_bytes));
    const auto j = judge(lang, file, {{input, ""}}, {}, l);
    EXPECT_EQ(j.verdict, sb::Verdict::OLE) << describe(j);
  }
}

// --- Checkers, as functions ----------------------------------------------------------------------

TEST(SandboxCheckers, ExactIsByteForByte) {
  const sb::Checker c = sb::parse_checker("exact");
  EXPECT_EQ(c.kind, sb::Checker::Kind::Exact);
  EXPECT_TRUE(sb::check_output(c, "1 2\n", "1 2\n"));
  EXPECT_FALSE(sb::check_output(c, "1 2\n", "1 2"));
  EXPECT_FALSE(sb::check_output(c, "1  2\n", "1 2\n"));
  EXPECT_FALSE(sb::check_output(c, "1 2\r\n", "1 2\n"));
}

TEST(SandboxCheckers, TokensIgnoreWhitespace) {
  const sb::Checker c = sb::parse_checker("tokens");
  EXPECT_EQ(c.kind, sb::Checker::Kind::Tokens);
  EXPECT_EQ(sb::parse_checker("").kind, sb::Checker::Kind::Tokens);  // the default
  EXPECT_TRUE(sb::check_output(c, "1  2\n3\n\n", "1 2 3"));
  EXPECT_TRUE(sb::check_output(c, "\t1 2\r\n", "1 2\n"));
  EXPECT_TRUE(sb::check_output(c, "", "\n"));
  EXPECT_FALSE(sb::check_output(c, "1 2", "1 2 3"));
  EXPECT_FALSE(sb::check_output(c, "12", "1 2"));
  EXPECT_FALSE(sb::check_output(c, "1.0", "1"));  // tokens are compared as text
  EXPECT_FALSE(sb::check_output(c, "yes", "YES"));
}

TEST(SandboxCheckers, FloatAbsoluteAndRelativeTolerance) {
  const sb::Checker c = sb::parse_checker("float");
  EXPECT_EQ(c.kind, sb::Checker::Kind::Float);
  EXPECT_DOUBLE_EQ(c.abs_tol, 1e-6);
  EXPECT_TRUE(sb::check_output(c, "1.0000001", "1"));    // |d| = 1e-7 <= abs 1e-6
  EXPECT_FALSE(sb::check_output(c, "1.00001", "1"));     // 1e-5: over both
  EXPECT_TRUE(sb::check_output(c, "1000000.5", "1e6"));  // |d| = 0.5, but 5e-7 relative
  EXPECT_FALSE(sb::check_output(c, "1000002", "1e6"));   // 2e-6 relative
  EXPECT_TRUE(sb::check_output(c, "0.5 x 2", ".5 x 2.0000000001"));
  EXPECT_FALSE(sb::check_output(c, "0.5 y 2", "0.5 x 2"));  // non-numbers exactly
  EXPECT_FALSE(sb::check_output(c, "0.5", "0.5 2"));
  EXPECT_FALSE(sb::check_output(c, "nan", "0"));

  const sb::Checker loose = sb::parse_checker("float:1e-3");
  EXPECT_DOUBLE_EQ(loose.abs_tol, 1e-3);
  EXPECT_DOUBLE_EQ(loose.rel_tol, 1e-3);
  EXPECT_TRUE(sb::check_output(loose, "3.1409", "3.14159"));
  EXPECT_FALSE(sb::check_output(loose, "3.13", "3.14159"));
  EXPECT_TRUE(sb::check_output(loose, "100100", "100000"));  // relative 1e-3

  sb::Checker abs_only = c;  // tolerances can be set apart
  abs_only.abs_tol = 0.1;
  abs_only.rel_tol = 0;
  EXPECT_TRUE(sb::check_output(abs_only, "10.05", "10"));
  EXPECT_FALSE(sb::check_output(abs_only, "1000.5", "1000"));
}

TEST(SandboxCheckers, ParseCheckerSpecs) {
  EXPECT_EQ(sb::parse_checker("exitcode").kind, sb::Checker::Kind::ExitCode);
  const sb::Checker ext = sb::parse_checker(kPrograms + "/checker_divisor.cpp");
  EXPECT_EQ(ext.kind, sb::Checker::Kind::External);
  EXPECT_EQ(ext.program, kPrograms + "/checker_divisor.cpp");
  EXPECT_THROW(sb::parse_checker("no-such-checker"), r1::Error);
  EXPECT_THROW(sb::parse_checker("float:-1"), r1::Error);
  EXPECT_THROW(sb::parse_checker("float:abc"), r1::Error);
}

// --- Checkers, end to end ------------------------------------------------------------------------

TEST_F(SandboxTest, ExactAndTokensCheckersJudged) {
  const std::vector<sb::Test> tests = {{"1 2 \n", "1 2\n"}};
  EXPECT_EQ(judge(sb::Lang::Cpp, "echo_input.cpp", tests, sb::parse_checker("exact")).verdict,
            sb::Verdict::WA);
  EXPECT_EQ(judge(sb::Lang::Cpp, "echo_input.cpp", tests, sb::parse_checker("tokens")).verdict,
            sb::Verdict::AC);
  EXPECT_EQ(
      judge(sb::Lang::Python, "echo_input.py", {{"1 2\n", "1 2\n"}}, sb::parse_checker("exact"))
          .verdict,
      sb::Verdict::AC);
}

TEST_F(SandboxTest, FloatCheckerJudged) {
  const std::vector<sb::Test> close = {{"3.14159265 2.5\n", "3.1415926 2.5000001"}};
  const std::vector<sb::Test> far = {{"3.1416 2.5\n", "3.1415926 2.5"}};
  EXPECT_EQ(judge(sb::Lang::Cpp, "echo_input.cpp", close, sb::parse_checker("float")).verdict,
            sb::Verdict::AC);
  EXPECT_EQ(judge(sb::Lang::Cpp, "echo_input.cpp", close, sb::parse_checker("tokens")).verdict,
            sb::Verdict::WA);
  EXPECT_EQ(judge(sb::Lang::Cpp, "echo_input.cpp", far, sb::parse_checker("float")).verdict,
            sb::Verdict::WA);
  EXPECT_EQ(judge(sb::Lang::Cpp, "echo_input.cpp", far, sb::parse_checker("float:1e-4")).verdict,
            sb::Verdict::AC);
}

TEST_F(SandboxTest, ExternalCheckerPrograms) {
  // The jury answers the smallest divisor; the program prints the largest: only a checker that
  // understands the problem accepts it. 13 has no proper divisor: the program's 13 is wrong.
  const std::vector<sb::Test> good = {{"12\n", "2\n"}, {"35\n", "5\n"}};
  const std::vector<sb::Test> bad = {{"12\n", "2\n"}, {"13\n", "1\n"}};
  EXPECT_EQ(judge(sb::Lang::Cpp, "largest_divisor.cpp", good).verdict, sb::Verdict::WA);

  // A binary checker: compiled here, given as a path without a source extension.
  const sb::Compiled binary = sandbox().compile(sb::Lang::Cpp, program("checker_divisor.cpp"));
  ASSERT_TRUE(binary.ok) << binary.output;
  for (const std::string& checker :
       {kPrograms + "/checker_divisor.cpp", kPrograms + "/checker_divisor.py", binary.artifact}) {
    SCOPED_TRACE(checker);
    const sb::Checker c = sb::parse_checker(checker);
    ASSERT_EQ(c.kind, sb::Checker::Kind::External);
    const auto ok = judge(sb::Lang::Cpp, "largest_divisor.cpp", good, c);
    EXPECT_EQ(ok.verdict, sb::Verdict::AC) << describe(ok);
    EXPECT_EQ(ok.passed, 2);
    const auto wrong = judge(sb::Lang::Cpp, "largest_divisor.cpp", bad, c);
    EXPECT_EQ(wrong.verdict, sb::Verdict::WA) << describe(wrong);
    EXPECT_EQ(wrong.passed, 1);
    ASSERT_EQ(wrong.tests.size(), 2u);
    EXPECT_NE(wrong.tests[1].detail.find("not a proper divisor"), std::string::npos)
        << wrong.tests[1].detail;
  }
}

TEST_F(SandboxTest, ExitCodeChecker) {
  const sb::Checker c = sb::parse_checker("exitcode");
  // The output is ignored: "partial output" against an unrelated expected text.
  EXPECT_EQ(judge(sb::Lang::Cpp, "runtime_error.cpp", {{"exit 0", "unrelated"}}, c).verdict,
            sb::Verdict::AC);
  EXPECT_EQ(judge(sb::Lang::Cpp, "runtime_error.cpp", {{"exit 3", "partial output\n"}}, c).verdict,
            sb::Verdict::RE);
  EXPECT_EQ(judge(sb::Lang::Python, "runtime_error.py", {{"raise", ""}}, c).verdict,
            sb::Verdict::RE);
  // No tests: one run on empty input, judged by its exit status.
  EXPECT_EQ(judge(sb::Lang::Cpp, "sum.cpp", {}, c).verdict, sb::Verdict::AC);
}

// --- The compile cache ---------------------------------------------------------------------------

TEST(SandboxCompileCache, HitTheSecondTime) {
  if (!have_bwrap()) GTEST_SKIP() << "bubblewrap is not installed";
  TempDir cache;
  const std::string source = program("sum.cpp");
  sb::Compiled first, again, other_instance;
  {
    sb::Sandbox s(test_options(cache.path()));
    first = s.compile(sb::Lang::Cpp, source);
    ASSERT_TRUE(first.ok) << first.output;
    EXPECT_FALSE(first.cached);
    again = s.compile(sb::Lang::Cpp, source);
    EXPECT_TRUE(again.ok);
    EXPECT_TRUE(again.cached);
    EXPECT_EQ(again.key, first.key);
    const auto r = s.execute(again, "20 22", small_limits());
    EXPECT_EQ(r.stdout_data, "42\n") << describe(r);

    const sb::Compiled changed = s.compile(sb::Lang::Cpp, source + "\n// changed\n");
    EXPECT_FALSE(changed.cached);
    EXPECT_NE(changed.key, first.key);

    const sb::Compiled ce = s.compile(sb::Lang::Cpp, program("compile_error.cpp"));
    const sb::Compiled ce_again = s.compile(sb::Lang::Cpp, program("compile_error.cpp"));
    EXPECT_FALSE(ce.ok);
    EXPECT_FALSE(ce_again.ok);
    EXPECT_TRUE(ce_again.cached);
    EXPECT_EQ(ce_again.output, ce.output);

    const sb::Compiled py = s.compile(sb::Lang::Python, program("sum.py"));
    const sb::Compiled py_again = s.compile(sb::Lang::Python, program("sum.py"));
    EXPECT_TRUE(py.ok) << py.output;
    EXPECT_TRUE(py_again.cached);
  }
  // A new Sandbox on the same cache dir: the compiled program comes from disk.
  sb::Sandbox s(test_options(cache.path()));
  other_instance = s.compile(sb::Lang::Cpp, source);
  EXPECT_TRUE(other_instance.ok);
  EXPECT_TRUE(other_instance.cached);
  EXPECT_EQ(other_instance.key, first.key);
  EXPECT_EQ(s.execute(other_instance, "1 1", small_limits()).stdout_data, "2\n");
}

// --- The r1sandbox CLI ---------------------------------------------------------------------------

nlohmann::json cli_json(const std::string& args, int* exit_code) {
  const auto r = r1::test::run_command(std::string(R1_SANDBOX_CLI) + " run " + args + " --json");
  *exit_code = r.exit_code;
  const auto brace = r.out.find('{');
  if (brace == std::string::npos) return {{"raw", r.out}};
  try {
    return nlohmann::json::parse(r.out.substr(brace));
  } catch (const std::exception&) {
    return {{"raw", r.out}};
  }
}

TEST(SandboxCli, RunPrintsJsonVerdicts) {
  if (!have_bwrap()) GTEST_SKIP() << "bubblewrap is not installed";
  TempDir dir;
  {
    std::ofstream f(dir / "tests.jsonl");
    f << R"({"input": "1 2\n", "output": "3\n"})"
      << "\n"
      << R"({"input": "40 2\n", "output": "42\n"})"
      << "\n";
    std::ofstream w(dir / "wrong.jsonl");
    w << R"({"input": "1 2\n", "output": "4\n"})"
      << "\n";
  }
  const std::string cache = " --cache-dir " + dir.path() + "/cache";
  int code = -1;
  auto j = cli_json("--lang cpp " + kPrograms + "/sum.cpp --tests " + (dir / "tests.jsonl") + cache,
                    &code);
  EXPECT_EQ(code, 0) << j.dump();
  EXPECT_EQ(j.value("verdict", ""), "AC") << j.dump();
  ASSERT_TRUE(j.contains("compile_output")) << j.dump();
  ASSERT_TRUE(j.contains("tests") && j["tests"].is_array() && j["tests"].size() == 2) << j.dump();
  for (const auto& t : j["tests"]) {
    EXPECT_EQ(t.value("verdict", ""), "AC");
    for (const char* field : {"time_ms", "memory_kb", "exit_code", "signal"})
      EXPECT_TRUE(t.contains(field) && t[field].is_number()) << field << " in " << t.dump();
  }

  j = cli_json("--lang python " + kPrograms + "/sum.py --tests " + (dir / "wrong.jsonl") + cache,
               &code);
  EXPECT_EQ(code, 0) << "a verdict was produced: " << j.dump();
  EXPECT_EQ(j.value("verdict", ""), "WA") << j.dump();

  j = cli_json(
      "--lang cpp " + kPrograms + "/compile_error.cpp --tests " + (dir / "tests.jsonl") + cache,
      &code);
  EXPECT_EQ(code, 0) << j.dump();
  EXPECT_EQ(j.value("verdict", ""), "CE") << j.dump();
  EXPECT_NE(j.value("compile_output", "").find("undeclared_r1_identifier"), std::string::npos);

  j = cli_json("--lang cpp " + kPrograms + "/busy_loop.cpp --time-limit 0.5 --tests " +
                   (dir / "tests.jsonl") + cache,
               &code);
  EXPECT_EQ(code, 0) << j.dump();
  EXPECT_EQ(j.value("verdict", ""), "TLE") << j.dump();

  j = cli_json("--lang cpp " + kPrograms + "/memory_bad_alloc.cpp --memory-limit 64 --tests " +
                   (dir / "tests.jsonl") + cache,
               &code);
  EXPECT_EQ(j.value("verdict", ""), "MLE") << j.dump();

  j = cli_json("--lang cpp " + kPrograms + "/runtime_error.cpp --checker exitcode --tests " +
                   (dir / "tests.jsonl") + cache,
               &code);
  EXPECT_EQ(j.value("verdict", ""), "AC") << j.dump();  // "1 2" is no mode: exits 0
}

// --- Accepted reference solutions on their CodeContests tests ------------------------------------

struct Reference {
  const char* problem;  // the name's prefix in the data file
  sb::Lang lang;
  const char* file;  // in tests/data/sandbox
};

// Tests of one problem: "test" is a JSON string holding [{"input":{"stdin"}, "output":{"stdout"}}].
std::vector<sb::Test> problem_tests(const std::string& problem) {
  std::ifstream in(kCodeContests);
  std::string line;
  while (std::getline(in, line)) {
    const auto row = nlohmann::json::parse(line);
    const auto labels = nlohmann::json::parse(row.at("labels").get<std::string>());
    const std::string name = labels.at("name");
    if (name.rfind(problem + ".", 0) != 0) continue;
    std::vector<sb::Test> tests;
    for (const auto& t : nlohmann::json::parse(row.at("test").get<std::string>()))
      tests.push_back({t.at("input").at("stdin"), t.at("output").at("stdout")});
    return tests;
  }
  return {};
}

TEST_F(SandboxTest, ReferenceSolutionsPassAllCodeContestsTests) {
  if (access(kCodeContests.c_str(), R_OK) != 0)
    GTEST_SKIP() << kCodeContests << " is absent (the shared data checkout)";
  const Reference refs[] = {
      {"1000_A", sb::Lang::Cpp, "1000_A.cpp"}, {"1000_A", sb::Lang::Python, "1000_A.py"},
      {"1198_A", sb::Lang::Cpp, "1198_A.cpp"}, {"1238_B", sb::Lang::Python, "1238_B.py"},
      {"1323_D", sb::Lang::Cpp, "1323_D.cpp"}, {"1342_C", sb::Lang::Cpp, "1342_C.cpp"},
      {"12_B", sb::Lang::Python, "12_B.py"},
  };
  std::vector<sb::JudgeJob> jobs;
  for (const auto& ref : refs) {
    sb::JudgeJob job;
    job.lang = ref.lang;
    job.source = r1::read_file(std::string("tests/data/sandbox/") + ref.file);
    job.tests = problem_tests(ref.problem);
    ASSERT_GE(job.tests.size(), 10u) << ref.problem << ": tests not found in " << kCodeContests;
    job.options.limits.cpu_s = 2;
    job.options.limits.memory_mb = 512;
    job.options.stop_on_failure = false;
    jobs.push_back(std::move(job));
  }
  const auto results = sb::judge_all(sandbox(), jobs, 2);
  ASSERT_EQ(results.size(), jobs.size());
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i].verdict, sb::Verdict::AC) << refs[i].file << ": " << describe(results[i]);
    EXPECT_EQ(results[i].passed, static_cast<int>(jobs[i].tests.size())) << refs[i].file;
    EXPECT_EQ(results[i].tests.size(), jobs[i].tests.size()) << refs[i].file;
  }
}

}  // namespace
