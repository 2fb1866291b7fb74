// The sandbox's security suite: hostile programs (tests/sandbox/programs), each with its expected
// verdict and a check on the host: fork bombs, endless loops and sleeps, memory and disk bombs,
// output floods, network to a server this test runs on 127.0.0.1, reading /etc/shadow, the home
// and the project, writing outside the work dir, symlink escapes, kill(-1), ptrace, namespaces,
// setuid, TIOCSTI, daemons left behind and compile-time bombs. After every test: no process of
// the suite's sandbox uids or named after its marker, no new mount, canaries unchanged. Leaves out
// kernel exploits and side channels (timing, CPU caches).
#include <dirent.h>  // opendir
#include <fcntl.h>   // open
#include <gtest/gtest.h>
#include <netinet/in.h>  // sockaddr_in
#include <signal.h>      // kill
#include <sys/socket.h>  // socket
#include <sys/stat.h>    // stat
#include <sys/un.h>      // sockaddr_un
#include <sys/wait.h>    // waitpid
#include <unistd.h>      // getuid, fork

#include <chrono>      // std::chrono
#include <cstddef>     // offsetof
#include <cstdio>      // std::sscanf
#include <cstdlib>     // setenv
#include <cstring>     // std::memcpy
#include <filesystem>  // std::filesystem
#include <fstream>     // std::ifstream
#include <memory>      // std::unique_ptr
#include <random>      // std::random_device
#include <set>         // std::set
#include <sstream>     // std::istringstream
#include <string>      // std::string
#include <thread>      // std::thread
#include <vector>      // std::vector

#include "sandbox/sandbox.h"  // r1::sandbox::Sandbox
#include "toolkit/fs.h"       // r1::read_file

namespace {

namespace fs = std::filesystem;
namespace sb = r1::sandbox;

const std::string kPrograms = R1_SANDBOX_PROGRAMS;
constexpr unsigned kUidBase = 64100;  // the suite's sandbox uids: 64100..64107 (when root)
constexpr int kSlots = 8;

std::string program(const std::string& name) { return r1::read_file(kPrograms + "/" + name); }

bool have_bwrap() {
  return access("/usr/bin/bwrap", X_OK) == 0 || access("/usr/local/bin/bwrap", X_OK) == 0;
}

bool contains(const std::string& hay, const std::string& needle) {
  return !needle.empty() && hay.find(needle) != std::string::npos;
}

std::string random_hex(int n) {
  std::random_device rd;
  std::string s;
  for (int i = 0; i < n; ++i) s += "0123456789abcdef"[rd() % 16];
  return s;
}

// --- Host observations ---------------------------------------------------------------------------

struct HostProcess {
  int pid;
  unsigned uid;
  std::string comm;
  char state;  // R, S, Z (zombie: dead, not yet reaped; it still counts for RLIMIT_NPROC)...
};

std::vector<HostProcess> host_processes() {
  std::vector<HostProcess> out;
  DIR* d = opendir("/proc");
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    const std::string dir = std::string("/proc/") + e->d_name;
    std::ifstream status(dir + "/status");
    HostProcess p{std::atoi(e->d_name), 0, "", '?'};
    std::string line;
    bool have_uid = false;
    while (std::getline(status, line)) {
      if (line.rfind("Name:", 0) == 0) {
        std::istringstream(line.substr(5)) >> p.comm;
      } else if (line.rfind("State:", 0) == 0) {
        std::istringstream(line.substr(6)) >> p.state;
      } else if (line.rfind("Uid:", 0) == 0) {
        std::istringstream(line.substr(4)) >> p.uid;
        have_uid = true;
      }
    }
    if (have_uid) out.push_back(p);
  }
  closedir(d);
  return out;
}

// Processes that belong to the suite's sandboxes: its uids (when root), or (when not root) our
// uid in another PID namespace (a zombie's namespace cannot be read: counted too), or its marker.
std::vector<HostProcess> sandbox_processes(const std::string& marker) {
  std::error_code ec;
  const std::string own_ns = fs::read_symlink("/proc/self/ns/pid", ec).string();
  std::vector<HostProcess> found;
  for (const auto& p : host_processes()) {
    bool ours = p.comm == marker;
    if (geteuid() == 0) {
      ours = ours || (p.uid >= kUidBase && p.uid < kUidBase + kSlots);
    } else if (p.uid == geteuid()) {
      const auto ns = fs::read_symlink("/proc/" + std::to_string(p.pid) + "/ns/pid", ec);
      ours = ours || (ec ? p.state == 'Z' : ns.string() != own_ns);
    }
    if (ours) found.push_back(p);
  }
  return found;
}

std::set<std::string> mounts() {
  std::set<std::string> lines;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) lines.insert(line);
  return lines;
}

struct FileState {
  bool exists = false;
  std::string content;
  mode_t mode = 0;
  bool operator==(const FileState&) const = default;
};

FileState file_state(const std::string& path) {
  FileState s;
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return s;
  s.exists = true;
  s.mode = st.st_mode;
  std::ifstream in(path, std::ios::binary);
  s.content.assign(std::istreambuf_iterator<char>(in), {});
  return s;
}

// Entries of `dir` whose name holds `needle` (non-recursive).
std::vector<std::string> entries_with(const std::string& dir, const std::string& needle) {
  std::vector<std::string> found;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (contains(it->path().filename().string(), needle)) found.push_back(it->path().string());
  return found;
}

std::string describe(const sb::ExecResult& r) {
  return std::string("kind=") + sb::exit_kind_name(r.kind) +
         " exit=" + std::to_string(r.exit_code) + " signal=" + std::to_string(r.signal) +
         " time_ms=" + std::to_string(r.time_ms) + " wall_ms=" + std::to_string(r.wall_ms) +
         " memory_kb=" + std::to_string(r.memory_kb) + " error=" + r.error +
         "\nstdout: " + r.stdout_data.substr(0, 2000) + "\nstderr: " + r.stderr_data.substr(0, 500);
}

// --- The suite -----------------------------------------------------------------------------------

class SandboxSecurity : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!have_bwrap()) return;
    marker_ = "r1sbx" + random_hex(8);  // a comm name: at most 15 characters
    // A private TMPDIR: the sandbox's staging dirs and the checker's files land here, so what is
    // left behind can be told from other users of /tmp.
    old_tmpdir_ = std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "";
    private_tmp_ = (fs::temp_directory_path() / ("r1-sbsec-" + marker_)).string();
    fs::create_directories(private_tmp_);
    fs::permissions(private_tmp_, fs::perms::owner_all | fs::perms::group_read |
                                      fs::perms::group_exec | fs::perms::others_read |
                                      fs::perms::others_exec);
    setenv("TMPDIR", private_tmp_.c_str(), 1);
    // Secrets: in canary files outside any work dir and in our own environment.
    secret_ = "r1-secret-" + random_hex(24);
    setenv("R1SBX_SECRET", secret_.c_str(), 1);
    const char* home = std::getenv("HOME");
    home_ = home && *home ? home : "/root";
    bin_dir_ = fs::path(R1_SANDBOX_INIT).parent_path().string();
    repo_ = fs::current_path().string();
    canaries_.clear();
    canary_states_.clear();
    shadow_hashes_.clear();
    // (The home and build dirs may not be writable when not root: those canaries are left out.)
    for (const std::string& c :
         {private_tmp_ + "/canary-" + marker_, home_ + "/.r1sbx-canary-" + marker_,
          bin_dir_ + "/r1sbx-canary-" + marker_}) {
      std::ofstream out(c);
      if (!(out << secret_ << "\n")) continue;
      out.close();
      chmod(c.c_str(), 0644);
      canaries_.push_back(c);
      canary_states_.push_back(file_state(c));
    }
    // The host's /etc/shadow hashes (root can read them): none may appear in any output.
    std::ifstream shadow("/etc/shadow");
    for (std::string line; std::getline(shadow, line);) {
      const auto a = line.find(':'), b = line.find(':', a + 1);
      if (a != std::string::npos && b != std::string::npos && b - a > 4)
        shadow_hashes_.push_back(line.substr(a + 1, b - a - 1));
    }
    mounts_before_ = mounts();

    sb::SandboxOptions o;
    o.init = R1_SANDBOX_INIT;
    o.cache_dir = private_tmp_ + "/cache";
    o.uid_base = kUidBase;
    o.slots = kSlots;
    o.compile_limits.cpu_s = 10;  // compile-time bombs end sooner
    o.compile_limits.wall_s = 15;
    sandbox_ = std::make_unique<sb::Sandbox>(o);
  }

  static void TearDownTestSuite() {
    if (!sandbox_) return;
    sandbox_.reset();
    for (size_t i = 0; i < canaries_.size(); ++i) {
      EXPECT_EQ(file_state(canaries_[i]), canary_states_[i]) << canaries_[i] << " changed";
      std::error_code ec;
      fs::remove(canaries_[i], ec);
    }
    // Nothing of the sandbox's own left in the private TMPDIR: only the cache we asked for.
    std::vector<std::string> left;
    for (const auto& e : fs::directory_iterator(private_tmp_))
      if (e.path().filename() != "cache") left.push_back(e.path().filename().string());
    EXPECT_TRUE(left.empty()) << "left in TMPDIR " << private_tmp_ << ": " << left.front();
    std::error_code ec;
    fs::remove_all(private_tmp_, ec);
    if (old_tmpdir_.empty())
      unsetenv("TMPDIR");
    else
      setenv("TMPDIR", old_tmpdir_.c_str(), 1);
    EXPECT_EQ(mounts(), mounts_before_) << "mounts changed during the suite";
  }

  void SetUp() override {
    if (!have_bwrap()) GTEST_SKIP() << "bubblewrap is not installed (apt-get install bubblewrap)";
  }

  // After each test: no sandbox process alive (checked at once: the run is over), no new mount,
  // canaries intact, no file named after the marker where an escape would put one.
  void TearDown() override {
    if (!sandbox_) return;
    auto left = sandbox_processes(marker_);
    if (!left.empty()) {
      std::string names;
      for (const auto& p : left)
        names += " " + std::to_string(p.pid) + ":" + p.comm + "(uid " + std::to_string(p.uid) +
                 ", state " + p.state + ")";
      const auto t0 = std::chrono::steady_clock::now();
      while (!sandbox_processes(marker_).empty() &&
             std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5))
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - t0)
                          .count();
      const bool gone = sandbox_processes(marker_).empty();
      ADD_FAILURE() << "sandbox processes alive after the run returned:" << names << "; "
                    << (gone ? "gone " + std::to_string(ms) + " ms later"
                             : std::string("still alive 5 s later"));
      for (const auto& p : sandbox_processes(marker_)) kill(p.pid, SIGKILL);
    }
    EXPECT_EQ(mounts(), mounts_before_) << "a mount appeared on the host";
    for (size_t i = 0; i < canaries_.size(); ++i)
      EXPECT_EQ(file_state(canaries_[i]), canary_states_[i]) << canaries_[i] << " changed";
    for (const std::string& dir :
         {std::string("/"), std::string("/tmp"), std::string("/var/tmp"), std::string("/dev/shm"),
          std::string("/usr"), std::string("/etc"), home_, repo_, bin_dir_, private_tmp_}) {
      for (const auto& f : entries_with(dir, "r1sbx-escape")) {
        ADD_FAILURE() << "a sandboxed program wrote " << f << " on the host";
        std::error_code ec;
        fs::remove_all(f, ec);
      }
    }
  }

  static sb::Limits limits(double cpu_s, double wall_s) {
    sb::Limits l;
    l.cpu_s = cpu_s;
    l.wall_s = wall_s;
    l.memory_mb = 256;
    l.output_bytes = 1 << 20;
    l.file_bytes = 8 << 20;
    l.processes = 16;
    return l;
  }

  static sb::ExecResult run(sb::Lang lang, const std::string& file, const std::string& input,
                            const sb::Limits& l = limits(1, 3)) {
    const sb::Compiled c = sandbox_->compile(lang, program(file));
    EXPECT_TRUE(c.ok) << file << ": " << c.output;
    if (!c.ok) return {};
    return sandbox_->execute(c, input, l);
  }

  static sb::Verdict verdict(sb::Lang lang, const std::string& file, const std::string& input,
                             const std::string& expected, const sb::Limits& l = limits(1, 3)) {
    sb::JudgeOptions o;
    o.limits = l;
    return sb::judge(*sandbox_, lang, program(file), {{input, expected}}, o).verdict;
  }

  // No secret (the canaries' content, our environment's) or shadow hash in a program's output,
  // and no canary in a directory listing ("dir PATH: NAMES..." lines of read_secrets).
  static void expect_no_secrets(const std::string& out) {
    EXPECT_FALSE(contains(out, secret_)) << "a secret reached the program:\n" << out;
    for (const auto& h : shadow_hashes_)
      EXPECT_FALSE(contains(out, h)) << "an /etc/shadow hash reached the program";
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("dir ", 0) != 0 || line.find(": failed") != std::string::npos) continue;
      EXPECT_FALSE(contains(line, "canary-" + marker_)) << "a host directory is visible: " << line;
    }
  }

  static std::unique_ptr<sb::Sandbox> sandbox_;
  static std::string marker_, secret_, private_tmp_, old_tmpdir_, home_, bin_dir_, repo_;
  static std::vector<std::string> canaries_, shadow_hashes_;
  static std::vector<FileState> canary_states_;
  static std::set<std::string> mounts_before_;
};
std::unique_ptr<sb::Sandbox> SandboxSecurity::sandbox_;
std::string SandboxSecurity::marker_, SandboxSecurity::secret_, SandboxSecurity::private_tmp_,
    SandboxSecurity::old_tmpdir_, SandboxSecurity::home_, SandboxSecurity::bin_dir_,
    SandboxSecurity::repo_;
std::vector<std::string> SandboxSecurity::canaries_, SandboxSecurity::shadow_hashes_;
std::vector<FileState> SandboxSecurity::canary_states_;
std::set<std::string> SandboxSecurity::mounts_before_;

// --- Processes and time --------------------------------------------------------------------------

TEST_F(SandboxSecurity, ForkBombIsContainedAndEndsInTime) {
  const sb::Limits l = limits(1, 3);
  for (const auto& [lang, file] :
       {std::pair{sb::Lang::Cpp, "fork_bomb.cpp"}, std::pair{sb::Lang::Python, "fork_bomb.py"}}) {
    SCOPED_TRACE(file);
    const sb::ExecResult r = run(lang, file, "", l);
    EXPECT_TRUE(r.kind == sb::ExitKind::CpuTimeout || r.kind == sb::ExitKind::WallTimeout)
        << describe(r);
    EXPECT_LT(r.wall_ms, 3000 + 1500) << describe(r);
    EXPECT_EQ(verdict(lang, file, "", "", l), sb::Verdict::TLE);
  }
}

TEST_F(SandboxSecurity, ProcessCapHoldsAndOrphansDie) {
  // fork_count keeps forking sleepers named after the marker until fork() fails, then exits 0
  // leaving them behind: TearDown checks that they are gone.
  const sb::Limits l = limits(2, 5);
  const sb::ExecResult r = run(sb::Lang::Cpp, "fork_count.cpp", marker_, l);
  ASSERT_EQ(r.kind, sb::ExitKind::Exited) << describe(r);
  int forked = -1;
  ASSERT_EQ(std::sscanf(r.stdout_data.c_str(), "forked %d", &forked), 1) << describe(r);
  EXPECT_GT(forked, 0);
  EXPECT_LT(forked, l.processes) << "the process cap did not hold: " << r.stdout_data;
  EXPECT_LT(r.wall_ms, 4000) << describe(r);
}

TEST_F(SandboxSecurity, NextRunInTheSlotGetsItsFullProcessBudget) {
  // A fork bomb ended by the wall deadline, then at once a run in the same slot (slot 0: runs go
  // one at a time here): it must be able to fork as many processes as in a quiet slot, i.e. the
  // bomb's processes must be gone (and reaped: zombies count for RLIMIT_NPROC) before the slot is
  // given to the next run.
  const sb::Limits l = limits(1, 2);
  const sb::ExecResult quiet = run(sb::Lang::Cpp, "fork_count.cpp", marker_, l);
  int baseline = -1;
  ASSERT_EQ(std::sscanf(quiet.stdout_data.c_str(), "forked %d", &baseline), 1) << describe(quiet);
  const sb::Compiled bomb = sandbox_->compile(sb::Lang::Cpp, program("fork_bomb.cpp"));
  const sb::Compiled count = sandbox_->compile(sb::Lang::Cpp, program("fork_count.cpp"));
  ASSERT_TRUE(bomb.ok && count.ok);
  const sb::ExecResult b = sandbox_->execute(bomb, "", l);
  EXPECT_TRUE(b.kind == sb::ExitKind::WallTimeout || b.kind == sb::ExitKind::CpuTimeout)
      << describe(b);
  const sb::ExecResult after = sandbox_->execute(count, marker_, l);
  ASSERT_EQ(after.kind, sb::ExitKind::Exited) << "the run after a fork bomb: " << describe(after);
  int forked = -1;
  ASSERT_EQ(std::sscanf(after.stdout_data.c_str(), "forked %d", &forked), 1) << describe(after);
  EXPECT_EQ(forked, baseline) << "the fork bomb's processes still counted against the next run";
}

TEST_F(SandboxSecurity, InfiniteLoopIsCpuTle) {
  const sb::ExecResult r = run(sb::Lang::Cpp, "busy_loop.cpp", "", limits(1, 10));
  EXPECT_EQ(r.kind, sb::ExitKind::CpuTimeout) << describe(r);
  EXPECT_LT(r.wall_ms, 9000) << describe(r);
  EXPECT_EQ(verdict(sb::Lang::Cpp, "busy_loop.cpp", "", "", limits(1, 10)), sb::Verdict::TLE);
}

TEST_F(SandboxSecurity, SleepForeverIsWallTle) {
  const sb::ExecResult r = run(sb::Lang::Cpp, "sleep_forever.cpp", "", limits(1, 1.5));
  EXPECT_EQ(r.kind, sb::ExitKind::WallTimeout) << describe(r);
  EXPECT_GE(r.wall_ms, 1400) << describe(r);
  EXPECT_LT(r.wall_ms, 3000) << describe(r);
}

TEST_F(SandboxSecurity, DaemonLeftBehindIsGone) {
  // The program exits at once; its setsid'd grandchild (named after the marker) sleeps forever,
  // with stdout closed ("close") or kept open ("keep"). Neither may hold the run up or outlive it.
  for (const char* mode : {"close", "keep"}) {
    SCOPED_TRACE(mode);
    const sb::ExecResult r = run(sb::Lang::Cpp, "daemon.cpp", marker_ + " " + mode, limits(1, 5));
    EXPECT_EQ(r.kind, sb::ExitKind::Exited) << describe(r);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.stdout_data, "parent done\n");
    EXPECT_LT(r.wall_ms, 2000) << "the daemon held the run up: " << describe(r);
    const auto left = sandbox_processes(marker_);
    EXPECT_TRUE(left.empty()) << "the daemon (pid " << left.front().pid << ") outlived the run";
  }
}

TEST_F(SandboxSecurity, KillMinusOneHitsOnlyItsOwnRun) {
  // Host processes with the uids of the first two slots (when root), so one shares the killer's
  // uid, and a bystander run in another slot: all must survive kill(-1, SIGKILL) from inside.
  std::vector<pid_t> helpers;
  for (unsigned uid : {kUidBase, kUidBase + 1}) {
    const pid_t helper = fork();
    if (helper == 0) {
      if (geteuid() == 0 && (setresgid(uid, uid, uid) != 0 || setresuid(uid, uid, uid) != 0))
        _exit(3);
      for (;;) pause();
    }
    ASSERT_GT(helper, 0);
    helpers.push_back(helper);
  }
  const sb::Compiled killer = sandbox_->compile(sb::Lang::Cpp, program("kill_all.cpp"));
  const sb::Compiled bystander = sandbox_->compile(sb::Lang::Cpp, program("sleep_print.cpp"));
  ASSERT_TRUE(killer.ok && bystander.ok);
  sb::ExecResult killed, stood_by;
  std::thread by([&] { stood_by = sandbox_->execute(bystander, "1.5", limits(1, 5)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  killed = sandbox_->execute(killer, "", limits(1, 5));
  by.join();
  EXPECT_EQ(killed.kind, sb::ExitKind::Exited) << describe(killed);
  EXPECT_TRUE(contains(killed.stdout_data, "survived")) << describe(killed);
  EXPECT_EQ(stood_by.kind, sb::ExitKind::Exited) << describe(stood_by);
  EXPECT_EQ(stood_by.stdout_data, "slept\n") << describe(stood_by);
  for (const pid_t helper : helpers) {
    int status = 0;
    EXPECT_EQ(waitpid(helper, &status, WNOHANG), 0) << "a host process of a sandbox uid was killed";
    kill(helper, SIGKILL);
    waitpid(helper, &status, 0);
  }
}

// --- Memory, disk, output ------------------------------------------------------------------------

TEST_F(SandboxSecurity, MemoryBombsAreContained) {
  sb::Limits l = limits(5, 10);
  l.memory_mb = 128;
  for (const auto& [lang, file] : {std::pair{sb::Lang::Cpp, "memory_bomb.cpp"},
                                   std::pair{sb::Lang::Cpp, "memory_bad_alloc.cpp"},
                                   std::pair{sb::Lang::Python, "memory_bomb.py"}}) {
    SCOPED_TRACE(file);
    const sb::ExecResult r = run(lang, file, "", l);
    EXPECT_NE(r.kind, sb::ExitKind::Exited) << describe(r);
    EXPECT_NE(r.kind, sb::ExitKind::SandboxError) << describe(r);
    EXPECT_LE(r.memory_kb, l.memory_mb * 1024) << describe(r);
    EXPECT_LT(r.wall_ms, 8000) << describe(r);
  }
  EXPECT_EQ(verdict(sb::Lang::Cpp, "memory_bad_alloc.cpp", "", "", l), sb::Verdict::MLE);
  EXPECT_EQ(verdict(sb::Lang::Python, "memory_bomb.py", "", "", l), sb::Verdict::MLE);
}

TEST_F(SandboxSecurity, DiskFillStopsAtTheCaps) {
  const sb::Limits l = limits(5, 10);  // file_bytes: 8 MiB (RLIMIT_FSIZE and the tmpfs size)
  // One file: the file-size limit (EFBIG, SIGXFSZ being ignored).
  sb::ExecResult r = run(sb::Lang::Cpp, "disk_fill.cpp", "one", l);
  ASSERT_EQ(r.kind, sb::ExitKind::Exited) << describe(r);
  long long written = -1;
  ASSERT_EQ(std::sscanf(r.stdout_data.c_str(), "written %lld", &written), 1) << describe(r);
  EXPECT_LE(written, l.file_bytes) << r.stdout_data;
  EXPECT_TRUE(contains(r.stdout_data, "too large") || contains(r.stdout_data, "No space"))
      << r.stdout_data;
  // Many files, each under the file-size limit: the work dir's size cap.
  r = run(sb::Lang::Cpp, "disk_fill.cpp", "many", l);
  ASSERT_EQ(r.kind, sb::ExitKind::Exited) << describe(r);
  ASSERT_EQ(std::sscanf(r.stdout_data.c_str(), "written %lld", &written), 1) << describe(r);
  EXPECT_LE(written, l.file_bytes) << r.stdout_data;
  EXPECT_TRUE(contains(r.stdout_data, "No space")) << r.stdout_data;
  // The next run starts with an empty work dir.
  r = run(sb::Lang::Cpp, "disk_fill.cpp", "many", l);
  ASSERT_EQ(std::sscanf(r.stdout_data.c_str(), "written %lld", &written), 1) << describe(r);
  EXPECT_GT(written, l.file_bytes / 2) << "the work dir kept the last run's files";
}

TEST_F(SandboxSecurity, OutputFloodIsOleQuickly) {
  const sb::Limits l = limits(5, 10);  // output_bytes: 1 MiB
  for (const auto& [lang, file, input] : {std::tuple{sb::Lang::Cpp, "output_flood.cpp", "stdout"},
                                          std::tuple{sb::Lang::Cpp, "output_flood.cpp", "stderr"},
                                          std::tuple{sb::Lang::Python, "output_flood.py", ""}}) {
    SCOPED_TRACE(std::string(file) + " " + input);
    const sb::ExecResult r = run(lang, file, input, l);
    EXPECT_EQ(r.kind, sb::ExitKind::OutputLimit) << describe(r);
    EXPECT_LT(r.wall_ms, 1000) << "OLE must come long before the 10 s deadline: " << describe(r);
    EXPECT_EQ(verdict(lang, file, input, "", l), sb::Verdict::OLE);
  }
}

// --- Network -------------------------------------------------------------------------------------

TEST_F(SandboxSecurity, NetworkCannotReachTheHost) {
  // A TCP server and a UDP socket on 127.0.0.1 (same ephemeral port) and an abstract Unix socket:
  // none may receive anything from a sandboxed program.
  const int tcp = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  ASSERT_GE(tcp, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(tcp, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(tcp, 16), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(tcp, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);
  const int udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  ASSERT_GE(udp, 0);
  const bool udp_bound = bind(udp, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  const std::string abstract_name = "r1sbx-" + marker_;
  const int unix_server = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::memcpy(un.sun_path + 1, abstract_name.data(), abstract_name.size());
  const auto un_len =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + abstract_name.size());
  ASSERT_EQ(bind(unix_server, reinterpret_cast<sockaddr*>(&un), un_len), 0);
  ASSERT_EQ(listen(unix_server, 16), 0);

  const std::string input = std::to_string(port) + " " + abstract_name;
  const sb::ExecResult c = run(sb::Lang::Cpp, "net_connect.cpp", input);
  EXPECT_EQ(c.kind, sb::ExitKind::Exited) << describe(c);
  for (const char* probe : {"tcp: failed", "udp: failed", "unix: failed"})
    EXPECT_TRUE(contains(c.stdout_data, probe)) << probe << "\n" << describe(c);
  const sb::ExecResult py = run(sb::Lang::Python, "net_connect.py", input);
  EXPECT_TRUE(contains(py.stdout_data, "tcp: failed")) << describe(py);

  EXPECT_LT(accept(tcp, nullptr, nullptr), 0) << "the TCP server accepted a connection";
  EXPECT_LT(accept(unix_server, nullptr, nullptr), 0) << "the Unix socket accepted a connection";
  char byte;
  if (udp_bound) {
    EXPECT_LT(recv(udp, &byte, 1, 0), 0) << "the UDP socket received a datagram";
  }
  close(tcp);
  close(udp);
  close(unix_server);
}

// --- Files ---------------------------------------------------------------------------------------

TEST_F(SandboxSecurity, HostFilesCannotBeRead) {
  std::string input = "file /etc/shadow\n";
  for (const auto& c : canaries_) input += "file " + c + "\n";
  input += "file " + repo_ + "/CMakeLists.txt\nfile /proc/1/environ\n";
  for (const auto& d :
       {home_, repo_, bin_dir_, private_tmp_, std::string("/"), std::string("/tmp")})
    input += "dir " + d + "\n";
  const std::string cmake = r1::read_file(repo_ + "/CMakeLists.txt");
  const std::string repo_first_line = cmake.substr(0, cmake.find('\n'));

  const sb::ExecResult r = run(sb::Lang::Cpp, "read_secrets.cpp", input);
  ASSERT_EQ(r.kind, sb::ExitKind::Exited) << describe(r);
  expect_no_secrets(r.stdout_data);
  EXPECT_FALSE(contains(r.stdout_data, repo_first_line)) << "the project's files are readable";
  EXPECT_FALSE(contains(r.stdout_data, "R1SBX_SECRET")) << "the environment leaked";
  // Only the sandbox's own few processes are visible in /proc.
  const auto pids = r.stdout_data.substr(r.stdout_data.rfind("pids:") + 5);
  std::istringstream in(pids);
  int pid, count = 0;
  while (in >> pid) {
    ++count;
    EXPECT_LT(pid, 100) << "a host pid is visible: " << pid;
  }
  EXPECT_LE(count, 4) << pids;

  const sb::ExecResult py = run(sb::Lang::Python, "read_secrets.py", input);
  ASSERT_EQ(py.kind, sb::ExitKind::Exited) << describe(py);
  expect_no_secrets(py.stdout_data);
  EXPECT_FALSE(contains(py.stdout_data, repo_first_line));
}

TEST_F(SandboxSecurity, HostFilesCannotBeWritten) {
  std::string input;
  for (const auto& dir : {std::string("/usr"), std::string("/usr/bin"), std::string("/etc"),
                          std::string(""), std::string("/var/tmp"), std::string("/dev/shm"), home_,
                          repo_, bin_dir_, private_tmp_, "/proc/1/root" + repo_})
    input += dir + "/r1sbx-escape-" + marker_ + "\n";
  for (const auto& c : canaries_) input += c + "\n";
  const sb::ExecResult r = run(sb::Lang::Cpp, "write_outside.cpp", input);
  EXPECT_EQ(r.kind, sb::ExitKind::Exited) << describe(r);
  // The host checks are TearDown's: canaries unchanged, no r1sbx-escape file anywhere.
}

TEST_F(SandboxSecurity, SymlinkEscapesStayInside) {
  const sb::ExecResult r = run(sb::Lang::Cpp, "symlink_escape.cpp", canaries_[0] + " " + bin_dir_);
  EXPECT_EQ(r.kind, sb::ExitKind::Exited) << describe(r);
  expect_no_secrets(r.stdout_data);
  // TearDown: the canary unchanged, nothing in bin_dir_.
}

// --- System calls that must be refused -----------------------------------------------------------

class SandboxSyscalls : public SandboxSecurity,
                        public ::testing::WithParamInterface<const char*> {};

TEST_P(SandboxSyscalls, Refused) {
  const sb::ExecResult r = run(sb::Lang::Cpp, "syscall_probe.cpp", GetParam());
  // Refused with an errno (the program reports it), or killed by seccomp (SIGSYS).
  if (r.kind == sb::ExitKind::Signaled) {
    EXPECT_EQ(r.signal, SIGSYS) << describe(r);
    return;
  }
  ASSERT_EQ(r.kind, sb::ExitKind::Exited) << describe(r);
  EXPECT_EQ(r.stdout_data.rfind("denied", 0), 0u) << GetParam() << ": " << r.stdout_data;
}

INSTANTIATE_TEST_SUITE_P(Probes, SandboxSyscalls,
                         ::testing::Values("ptrace_traceme", "ptrace_attach_child",
                                           "ptrace_attach_init", "process_vm_readv", "setuid_root",
                                           "setgid_root", "unshare_user", "unshare_mount",
                                           "unshare_net", "clone_newuser", "setns", "mount_tmpfs",
                                           "chroot", "keyctl", "bpf", "perf_event_open",
                                           "io_uring_setup", "socket_inet", "socket_inet6",
                                           "socket_netlink", "socket_packet", "tiocsti_stdin",
                                           "tiocsti_pty", "tiocsti_pty_high_bits"));

// --- Compile-time bombs --------------------------------------------------------------------------

TEST_F(SandboxSecurity, CompileTimeBombsAreCe) {
  // compile_limits: 10 s CPU, 15 s wall (set in SetUpTestSuite).
  for (const char* file : {"include_dev_random.cpp", "template_depth.cpp", "template_explosion.cpp",
                           "include_secret.cpp"}) {
    SCOPED_TRACE(file);
    const auto t0 = std::chrono::steady_clock::now();
    const sb::Compiled c = sandbox_->compile(sb::Lang::Cpp, program(file));
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_FALSE(c.ok);
    EXPECT_FALSE(c.sandbox_error) << c.output;
    EXPECT_LT(s, 15 + 3) << "the compile limits did not hold";
    expect_no_secrets(c.output);
    const auto left = sandbox_processes(marker_);
    EXPECT_TRUE(left.empty()) << "compiler process " << left.front().comm
                              << " outlived the compile";
  }
}

// --- Nothing left behind -------------------------------------------------------------------------

TEST_F(SandboxSecurity, ExternalCheckerAndRunsLeaveNoFiles) {
  // A checker run writes in/out/ans on the host: gone after judging (TearDownTestSuite also checks
  // the whole private TMPDIR once the Sandbox is destroyed).
  sb::JudgeOptions o;
  o.limits = limits(1, 3);
  o.checker = sb::parse_checker(kPrograms + "/checker_divisor.cpp");
  const auto r = sb::judge(*sandbox_, sb::Lang::Cpp, program("largest_divisor.cpp"),
                           {{"12\n", "2\n"}, {"13\n", "1\n"}}, o);
  EXPECT_EQ(r.verdict, sb::Verdict::WA);
  EXPECT_EQ(r.passed, 1);
  for (const auto& e : fs::directory_iterator(private_tmp_)) {
    const std::string name = e.path().filename().string();
    EXPECT_TRUE(name == "cache" || name.rfind("r1-sandbox-", 0) == 0 ||
                name.rfind("canary-", 0) == 0)
        << "left in TMPDIR: " << name;
  }
}

}  // namespace
