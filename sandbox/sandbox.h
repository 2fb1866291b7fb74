// r1::sandbox: compile and run untrusted programs (C++ and Python 3) in bubblewrap with a
// libseccomp filter, rlimits, a wall-clock deadline, a per-run process cap and output caps read
// while the program runs; judge them against tests with a checker. Leaves out other languages and
// cgroups.
//
// Containment of one execution (see sandbox.cpp for the exact flags):
//   r1 (fork; when root: setgroups/setgid/setuid to a dedicated uid per slot, so that
//   RLIMIT_NPROC binds) -> bwrap --unshare-all --die-with-parent --new-session --clearenv,
//   read-only /usr, a private size-capped tmpfs work dir, no network, seccomp filter
//   -> r1sandbox-init as pid 1 of the new PID namespace (sets the program's rlimits, forks,
//   reports exit code / signal / rusage on a status pipe) -> the program.
// When init exits the kernel kills whatever is left in the namespace (daemonised children too).
#pragma once

#include <cstdint>     // int64_t
#include <functional>  // std::function
#include <map>         // std::map
#include <memory>      // std::unique_ptr
#include <mutex>       // std::mutex
#include <optional>    // std::optional
#include <string>      // std::string
#include <vector>      // std::vector

namespace r1::sandbox {

// What a judged program gets. SE is the sandbox's own failure and is never the program's fault.
enum class Verdict { AC, WA, CE, RE, TLE, MLE, OLE, SE };
const char* verdict_name(Verdict v);  // "AC", "WA", ...

enum class Lang { Cpp, Python };
Lang parse_lang(
    const std::string& name);      // "cpp"/"c++" or "python"/"python3"/"py"; throws r1::Error
const char* lang_name(Lang lang);  // "cpp" / "python"

// Resource limits of one execution (or one compilation).
struct Limits {
  double cpu_s = 2.0;                 // CPU time (user+sys) of the program; over it: TLE
  double wall_s = 0;                  // wall-clock deadline; 0 = 2 * cpu_s + 1
  int64_t memory_mb = 512;            // address space (RLIMIT_AS); peak RSS over it: MLE
  int64_t output_bytes = 64LL << 20;  // stdout + stderr read while running; over it: OLE
  int64_t file_bytes = 16LL << 20;    // work-dir tmpfs size and RLIMIT_FSIZE
  int open_files = 64;                // RLIMIT_NOFILE
  int processes = 32;                 // processes + threads of the run (RLIMIT_NPROC)
  double effective_wall_s() const { return wall_s > 0 ? wall_s : 2 * cpu_s + 1; }
};

// How one execution ended, before any comparison with an expected output.
enum class ExitKind {
  Exited,        // exit_code holds the code (0 = normal)
  Signaled,      // killed by signal `signal` (not by us)
  CpuTimeout,    // CPU time over the limit
  WallTimeout,   // wall deadline passed; killed
  MemoryLimit,   // peak RSS over the limit, or an allocation refused by the address-space limit
  OutputLimit,   // stdout + stderr over output_bytes; killed as soon as it was seen
  SandboxError,  // bwrap / init / fork failed: error says why
};
const char* exit_kind_name(ExitKind k);

struct ExecResult {
  ExitKind kind = ExitKind::SandboxError;
  int exit_code = -1;       // when kind == Exited
  int signal = 0;           // the terminating signal, when there was one
  double time_ms = 0;       // CPU (user + sys) of the program and its children
  double wall_ms = 0;       // from fork to reap
  int64_t memory_kb = 0;    // peak RSS (ru_maxrss) of the program and its children
  std::string stdout_data;  // up to Limits::output_bytes
  std::string stderr_data;  // first 64 KiB
  std::string error;        // for SandboxError
};

// A compiled (or, for Python, syntax-checked) program, ready to run.
struct Compiled {
  bool ok = false;             // false: compile error or sandbox error
  bool sandbox_error = false;  // the failure is the sandbox's (SE), not the program's (CE)
  bool cached = false;         // taken from the cache, no compiler run
  Lang lang = Lang::Cpp;
  std::string artifact;  // host path: the binary (C++) or the source file (Python)
  std::string output;    // compiler diagnostics, first errors first (capped at 8 KiB)
  std::string key;       // sha256 of (language, compiler, flags, source)
};

struct SandboxOptions {
  std::string bwrap = "bwrap";  // bubblewrap executable (PATH lookup)
  std::string init;             // r1sandbox-init; "" = beside the running executable
  std::string cache_dir;        // compiled programs; "" = $R1_SANDBOX_CACHE or
                                // ~/.cache/r1/sandbox
  std::string cxx = "g++";      // C++ compiler
  std::vector<std::string> cxx_flags = {"-O2", "-std=c++17", "-DONLINE_JUDGE"};
  std::string python = "/usr/bin/python3";  // Python 3 interpreter (must live under /usr)
  // Compilation: a contest program compiles in a few seconds; compile-time bombs end as CE.
  Limits compile_limits = {/*cpu_s=*/10,
                           /*wall_s=*/20,
                           /*memory_mb=*/2048,
                           /*output_bytes=*/1 << 20,
                           /*file_bytes=*/256LL << 20,
                           /*open_files=*/256,
                           /*processes=*/64};
  unsigned uid_base = 64000;  // when run as root: slot i runs as uid_base + i
  int slots = 64;             // concurrent executions at most (one uid each)
};

class Sandbox {
 public:
  explicit Sandbox(SandboxOptions options = {});
  ~Sandbox();
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  // Compiles C++ (or syntax-checks Python) inside the sandbox; cached by key. Thread-safe.
  Compiled compile(Lang lang, const std::string& source);

  // Runs a compiled program once with `input` on stdin. Thread-safe.
  ExecResult execute(const Compiled& program, const std::string& input, const Limits& limits);

  // Runs an arbitrary command (absolute path inside the sandbox; /usr is visible) with the
  // given read-only files bound at the given sandbox paths. Used by compile() and the tests.
  ExecResult run_command(const std::vector<std::string>& argv, const std::string& input,
                         const Limits& limits,
                         const std::map<std::string, std::string>& ro_files = {},
                         const std::string& rw_dir_host = "", const std::string& rw_dir = "");

  const SandboxOptions& options() const { return options_; }

 private:
  struct Impl;
  SandboxOptions options_;
  std::unique_ptr<Impl> impl_;
};

// Output checkers: compare a program's stdout with the expected answer.
struct Checker {
  enum class Kind {
    Exact,     // byte for byte
    Tokens,    // whitespace-separated tokens equal (default; trailing spaces/newlines ignored)
    Float,     // tokens; numbers equal within abs_tol or rel_tol, others exactly
    External,  // `program in out ans` in the sandbox, exit 0 = OK (testlib convention)
    ExitCode,  // output ignored: exit 0 = AC (programs that assert themselves, e.g. HumanEval)
  };
  Kind kind = Kind::Tokens;
  double abs_tol = 1e-6;
  double rel_tol = 1e-6;
  std::string program;  // External: host path of the checker's source (.cpp or .py) or binary
};
// "exact", "tokens", "float", "float:1e-4" (both tolerances), "exitcode", or a checker program
// path.
Checker parse_checker(const std::string& spec);
// Tokens/Exact/Float comparison (External and ExitCode are handled by judge()).
bool check_output(const Checker& checker, const std::string& output, const std::string& expected);

struct Test {
  std::string input;
  std::string output;  // expected
};

// Tests from JSONL lines {"input": ..., "output": ...}; errors name FILE:LINE.
std::vector<Test> load_tests_jsonl(const std::string& path);

struct JudgeOptions {
  Limits limits;  // per test
  Checker checker;
  bool stop_on_failure = true;  // stop at the first test that is not AC
};

struct TestOutcome {
  Verdict verdict = Verdict::SE;
  double time_ms = 0;
  double wall_ms = 0;
  int64_t memory_kb = 0;
  int exit_code = -1;
  int signal = 0;
  std::string detail;  // why (first differing token, the signal's name, the sandbox error...)
};

// The verdict of one execution before its output is checked (exit 0 = AC), with its usage.
TestOutcome outcome_of(const ExecResult& r);

struct JudgeResult {
  Verdict verdict = Verdict::SE;   // AC iff every test is AC; else the first failure's verdict
  std::string compile_output;      // compiler diagnostics (CE: the first errors)
  std::vector<TestOutcome> tests;  // in order; fewer than the tests when stopped early
  int passed = 0;                  // tests with AC
};

// Compiles once, runs each test, checks. An empty test list runs the program once on empty input
// (with ExitCode semantics when the checker is ExitCode).
JudgeResult judge(Sandbox& sandbox, Lang lang, const std::string& source,
                  const std::vector<Test>& tests, const JudgeOptions& options);

// Runs many judge jobs on `workers` threads (each execution holds one sandbox slot).
struct JudgeJob {
  Lang lang = Lang::Cpp;
  std::string source;
  std::vector<Test> tests;
  JudgeOptions options;
};
// on_done(done) is called (under a lock) after each job; results are in job order.
std::vector<JudgeResult> judge_all(Sandbox& sandbox, const std::vector<JudgeJob>& jobs, int workers,
                                   const std::function<void(size_t done)>& on_done = {});

std::string judge_result_to_json(const JudgeResult& result);  // the `r1sandbox run --json` shape

}  // namespace r1::sandbox
