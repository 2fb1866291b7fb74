// Judging on top of the sandbox: output checkers (exact, token, float tolerance, a testlib-style
// external checker program, exit code only), the per-test verdict, judge() over a test list and
// judge_all() on a pool of threads. Leaves out interactive problems and partial scores.
#include <signal.h>  // SIGSEGV...
#include <string.h>  // strsignal
#include <unistd.h>  // getpid

#include <atomic>      // std::atomic
#include <cerrno>      // errno
#include <cmath>       // std::fabs
#include <cstdlib>     // std::strtod
#include <filesystem>  // std::filesystem
#include <fstream>     // std::ifstream
#include <mutex>       // std::mutex
#include <thread>      // std::thread

#include <nlohmann/json.hpp>  // nlohmann::json

#include "sandbox/sandbox.h"
#include "toolkit/error.h"  // r1::Error
#include "toolkit/fs.h"     // r1::write_file_atomic, r1::read_file

namespace fs = std::filesystem;

namespace r1::sandbox {

namespace {

std::vector<std::string_view> tokens(std::string_view s) {
  std::vector<std::string_view> t;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    const size_t b = i;
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i > b) t.push_back(s.substr(b, i - b));
  }
  return t;
}

bool parse_double(std::string_view t, double* v) {
  const std::string s(t);
  char* end = nullptr;
  errno = 0;
  *v = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && !s.empty() && std::isfinite(*v);
}

std::string clip(std::string_view s, size_t n = 40) {
  return s.size() <= n ? std::string(s) : std::string(s.substr(0, n)) + "...";
}

// Why output differs from expected ("" when equal) for the built-in checkers.
std::string compare(const Checker& c, const std::string& out, const std::string& ans) {
  if (c.kind == Checker::Kind::Exact) {
    if (out == ans) return "";
    size_t i = 0;
    while (i < out.size() && i < ans.size() && out[i] == ans[i]) ++i;
    return "differs at byte " + std::to_string(i);
  }
  const auto a = tokens(out), b = tokens(ans);
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    if (a[i] == b[i]) continue;
    double x, y;
    if (c.kind == Checker::Kind::Float && parse_double(a[i], &x) && parse_double(b[i], &y)) {
      const double d = std::fabs(x - y);
      if (d <= c.abs_tol || d <= c.rel_tol * std::fabs(y)) continue;
    }
    return "token " + std::to_string(i + 1) + ": got '" + clip(a[i]) + "', expected '" +
           clip(b[i]) + "'";
  }
  if (a.size() != b.size())
    return "got " + std::to_string(a.size()) + " tokens, expected " + std::to_string(b.size());
  return "";
}

Verdict verdict_of(const ExecResult& r, std::string* detail) {
  switch (r.kind) {
    case ExitKind::Exited:
      if (r.exit_code == 0) return Verdict::AC;  // output still to be checked
      *detail = "exit code " + std::to_string(r.exit_code);
      return Verdict::RE;
    case ExitKind::Signaled:
      *detail =
          std::string("signal ") + std::to_string(r.signal) + " (" + strsignal(r.signal) + ")";
      return Verdict::RE;
    case ExitKind::CpuTimeout:
      *detail = "CPU time limit";
      return Verdict::TLE;
    case ExitKind::WallTimeout:
      *detail = "wall-clock limit";
      return Verdict::TLE;
    case ExitKind::MemoryLimit:
      *detail = "memory limit";
      return Verdict::MLE;
    case ExitKind::OutputLimit:
      *detail = "output limit";
      return Verdict::OLE;
    case ExitKind::SandboxError:
      *detail = r.error;
      return Verdict::SE;
  }
  return Verdict::SE;
}

}  // namespace

TestOutcome outcome_of(const ExecResult& r) {
  TestOutcome out;
  out.time_ms = r.time_ms;
  out.wall_ms = r.wall_ms;
  out.memory_kb = r.memory_kb;
  out.exit_code = r.exit_code;
  out.signal = r.signal;
  out.verdict = verdict_of(r, &out.detail);
  return out;
}

Checker parse_checker(const std::string& spec) {
  Checker c;
  if (spec == "exact")
    c.kind = Checker::Kind::Exact;
  else if (spec == "tokens" || spec.empty())
    c.kind = Checker::Kind::Tokens;
  else if (spec == "exitcode")
    c.kind = Checker::Kind::ExitCode;
  else if (spec == "float" || spec.rfind("float:", 0) == 0) {
    c.kind = Checker::Kind::Float;
    if (spec.size() > 6) {
      double tol;
      check(parse_double(std::string_view(spec).substr(6), &tol) && tol >= 0,
            "--checker " + spec + ": the tolerance must be a non-negative number");
      c.abs_tol = c.rel_tol = tol;
    }
  } else {
    check(fs::is_regular_file(spec),
          "--checker " + spec +
              ": not a checker name (exact, tokens, float[:TOL], exitcode) nor a checker file");
    c.kind = Checker::Kind::External;
    c.program = spec;
  }
  return c;
}

bool check_output(const Checker& checker, const std::string& output, const std::string& expected) {
  return compare(checker, output, expected).empty();
}

std::vector<Test> load_tests_jsonl(const std::string& path) {
  std::ifstream in(path);
  check(in.good(), path + ": cannot open the tests file");
  std::vector<Test> tests;
  std::string line;
  int64_t no = 0;
  while (std::getline(in, line)) {
    ++no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path + ":" + std::to_string(no);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const std::exception&) {
      throw Error(where + ": not a JSON object");
    }
    check(j.is_object(), where + ": not a JSON object");
    for (const char* f : {"input", "output"})
      check(j.contains(f) && j[f].is_string(),
            where + ": field '" + f + "' missing or not a string");
    tests.push_back({j["input"].get<std::string>(), j["output"].get<std::string>()});
  }
  return tests;
}

JudgeResult judge(Sandbox& sandbox, Lang lang, const std::string& source,
                  const std::vector<Test>& tests, const JudgeOptions& o) {
  JudgeResult res;
  const Compiled prog = sandbox.compile(lang, source);
  res.compile_output = prog.output;
  if (!prog.ok) {
    res.verdict = prog.sandbox_error ? Verdict::SE : Verdict::CE;
    return res;
  }
  // An external checker is compiled (C++ / Python source) or run as given (a binary).
  Compiled checker;
  if (o.checker.kind == Checker::Kind::External) {
    const std::string& p = o.checker.program;
    const bool is_py = p.size() > 3 && p.compare(p.size() - 3, 3, ".py") == 0;
    const bool is_cpp = p.size() > 4 && (p.compare(p.size() - 4, 4, ".cpp") == 0 ||
                                         p.compare(p.size() - 3, 3, ".cc") == 0);
    if (is_py || is_cpp) {
      checker = sandbox.compile(is_py ? Lang::Python : Lang::Cpp, read_file(p));
      if (!checker.ok) {
        res.verdict = Verdict::SE;
        res.compile_output = "checker " + p + " does not compile:\n" + checker.output;
        return res;
      }
    } else {
      checker.ok = true;
      checker.lang = Lang::Cpp;
      checker.artifact = fs::absolute(p).string();
    }
  }
  const std::vector<Test> once = {Test{}};
  const auto& run_tests = tests.empty() ? once : tests;
  res.verdict = Verdict::AC;
  for (const auto& t : run_tests) {
    const ExecResult r = sandbox.execute(prog, t.input, o.limits);
    TestOutcome out = outcome_of(r);
    if (out.verdict == Verdict::AC && !tests.empty()) {
      switch (o.checker.kind) {
        case Checker::Kind::ExitCode:
          break;
        case Checker::Kind::External: {
          // checker in out ans, each a read-only file in the checker's sandbox.
          // mkdtemp: an unguessable name, and it never follows a planted symlink.
          std::string tmpl = (fs::temp_directory_path() / "r1-check-XXXXXX").string();
          check(mkdtemp(tmpl.data()) != nullptr, "sandbox: cannot create " + tmpl);
          const fs::path dir = tmpl;
          fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read |
                                   fs::perms::group_exec | fs::perms::others_read |
                                   fs::perms::others_exec);
          write_file_atomic((dir / "in").string(), t.input);
          write_file_atomic((dir / "out").string(), r.stdout_data);
          write_file_atomic((dir / "ans").string(), t.output);
          for (const char* f : {"in", "out", "ans"})
            fs::permissions(dir / f, fs::perms::owner_read | fs::perms::owner_write |
                                         fs::perms::group_read | fs::perms::others_read);
          const std::map<std::string, std::string> files = {{"/check/in", (dir / "in").string()},
                                                            {"/check/out", (dir / "out").string()},
                                                            {"/check/ans", (dir / "ans").string()}};
          Limits cl;
          cl.cpu_s = 10;
          cl.memory_mb = 1024;
          std::vector<std::string> argv;
          std::map<std::string, std::string> ro = files;
          if (checker.lang == Lang::Python && checker.artifact.size() > 3 &&
              checker.artifact.compare(checker.artifact.size() - 3, 3, ".py") == 0) {
            ro["/checker/main.py"] = checker.artifact;
            argv = {sandbox.options().python, "-I", "-B", "/checker/main.py"};
          } else {
            ro["/checker/main"] = checker.artifact;
            argv = {"/checker/main"};
          }
          argv.insert(argv.end(), {"/check/in", "/check/out", "/check/ans"});
          const ExecResult cr = sandbox.run_command(argv, "", cl, ro);
          std::error_code ec;
          fs::remove_all(dir, ec);
          if (cr.kind == ExitKind::Exited && cr.exit_code == 0) break;
          if (cr.kind == ExitKind::Exited && cr.exit_code == 1) {
            out.verdict = Verdict::WA;
            const std::string msg = cr.stderr_data.empty() ? cr.stdout_data : cr.stderr_data;
            out.detail = "checker: " + clip(msg.substr(0, msg.find('\n')), 200);
          } else {
            out.verdict = Verdict::SE;
            out.detail = "checker failed (" + std::string(exit_kind_name(cr.kind)) + ", exit " +
                         std::to_string(cr.exit_code) +
                         "): " + clip(cr.stderr_data + cr.error, 200);
          }
          break;
        }
        default: {
          const std::string why = compare(o.checker, r.stdout_data, t.output);
          if (!why.empty()) {
            out.verdict = Verdict::WA;
            out.detail = why;
          }
        }
      }
    }
    if (out.verdict == Verdict::AC) ++res.passed;
    const bool fail = out.verdict != Verdict::AC;
    if (fail && res.verdict == Verdict::AC) res.verdict = out.verdict;
    res.tests.push_back(std::move(out));
    if (fail && o.stop_on_failure) break;
  }
  return res;
}

std::vector<JudgeResult> judge_all(Sandbox& sandbox, const std::vector<JudgeJob>& jobs, int workers,
                                   const std::function<void(size_t)>& on_done) {
  std::vector<JudgeResult> results(jobs.size());
  std::atomic<size_t> next{0};
  std::mutex mu;
  size_t done = 0;
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < jobs.size();) {
      const auto& j = jobs[i];
      try {
        results[i] = judge(sandbox, j.lang, j.source, j.tests, j.options);
      } catch (const std::exception& e) {
        results[i].verdict = Verdict::SE;
        results[i].compile_output = e.what();
      }
      std::lock_guard<std::mutex> lock(mu);
      ++done;
      if (on_done) on_done(done);
    }
  };
  const int n = std::max(1, std::min<int>(workers, static_cast<int>(jobs.size())));
  std::vector<std::thread> threads;
  for (int t = 1; t < n; ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  return results;
}

std::string judge_result_to_json(const JudgeResult& r) {
  nlohmann::json j;
  j["verdict"] = verdict_name(r.verdict);
  j["compile_output"] = r.compile_output;
  j["passed"] = r.passed;
  j["tests"] = nlohmann::json::array();
  for (const auto& t : r.tests) {
    j["tests"].push_back({{"verdict", verdict_name(t.verdict)},
                          {"time_ms", std::round(t.time_ms * 1000) / 1000},
                          {"wall_ms", std::round(t.wall_ms * 1000) / 1000},
                          {"memory_kb", t.memory_kb},
                          {"exit_code", t.exit_code},
                          {"signal", t.signal},
                          {"detail", t.detail}});
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace r1::sandbox
