// r1::sandbox::Sandbox: one execution = fork, (root) drop to the slot's uid, exec bwrap with the
// seccomp filter on fd 3 and r1sandbox-init on a status pipe (fd 4); the parent feeds stdin from a
// memfd, reads stdout/stderr as they come (killing on the output cap), and waits on a pidfd with
// the wall deadline. Compilation is an execution of g++ (or a Python syntax check) with its own
// limits, cached by sha256. Leaves out cgroups: memory is the address-space rlimit plus peak RSS.
#include "sandbox/sandbox.h"

#include <errno.h>         // errno
#include <fcntl.h>         // open, fcntl
#include <grp.h>           // setgroups
#include <poll.h>          // poll
#include <seccomp.h>       // seccomp_*
#include <signal.h>        // kill, SIGKILL
#include <sys/ioctl.h>     // TIOCSTI
#include <sys/mman.h>      // memfd_create
#include <sys/prctl.h>     // prctl
#include <sys/resource.h>  // struct rusage
#include <sys/socket.h>    // AF_UNIX
#include <sys/stat.h>      // chmod
#include <sys/syscall.h>   // SYS_pidfd_open
#include <sys/wait.h>      // wait4
#include <unistd.h>        // fork, execvp, pipe2

#include <sched.h>             // CLONE_NEW*
#include <algorithm>           // std::min
#include <chrono>              // std::chrono
#include <condition_variable>  // std::condition_variable
#include <cstdio>              // std::sscanf
#include <cstdlib>             // std::getenv
#include <cstring>             // std::strerror
#include <filesystem>          // std::filesystem
#include <fstream>             // std::ifstream

#include "toolkit/error.h"   // r1::Error
#include "toolkit/fs.h"      // r1::write_file_atomic, r1::read_file, r1::unique_tmp_path
#include "toolkit/sha256.h"  // r1::sha256_hex

namespace fs = std::filesystem;

namespace r1::sandbox {

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::AC:
      return "AC";
    case Verdict::WA:
      return "WA";
    case Verdict::CE:
      return "CE";
    case Verdict::RE:
      return "RE";
    case Verdict::TLE:
      return "TLE";
    case Verdict::MLE:
      return "MLE";
    case Verdict::OLE:
      return "OLE";
    case Verdict::SE:
      return "SE";
  }
  return "SE";
}

const char* exit_kind_name(ExitKind k) {
  switch (k) {
    case ExitKind::Exited:
      return "exited";
    case ExitKind::Signaled:
      return "signaled";
    case ExitKind::CpuTimeout:
      return "cpu-timeout";
    case ExitKind::WallTimeout:
      return "wall-timeout";
    case ExitKind::MemoryLimit:
      return "memory-limit";
    case ExitKind::OutputLimit:
      return "output-limit";
    case ExitKind::SandboxError:
      return "sandbox-error";
  }
  return "sandbox-error";
}

Lang parse_lang(const std::string& name) {
  if (name == "cpp" || name == "c++" || name == "cxx" || name == "cc") return Lang::Cpp;
  if (name == "python" || name == "python3" || name == "py") return Lang::Python;
  throw Error("unknown language '" + name + "' (expected cpp or python)");
}

const char* lang_name(Lang lang) { return lang == Lang::Cpp ? "cpp" : "python"; }

namespace {

constexpr size_t kStderrCap = 64 << 10;
constexpr size_t kCompileOutputCap = 8 << 10;

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

// The program's host pid: the first child of the sandbox's pid 1 (init forks it first; orphans
// re-parented to init come after it), or 0 when it has none.
pid_t first_child_of(pid_t init_pid) {
  const std::string path =
      "/proc/" + std::to_string(init_pid) + "/task/" + std::to_string(init_pid) + "/children";
  std::ifstream in(path);
  long child = 0;
  if (!(in >> child) || child <= 0) return 0;
  return static_cast<pid_t>(child);
}

// Kills the program rather than the sandbox's init, so that init reaps it and reports the
// program's own CPU time and peak memory (D15: a killed init reports nothing, and bwrap's usage is
// not the program's). False when the program cannot be found: the caller then kills init.
bool kill_program(pid_t init_pid) {
  const pid_t child = first_child_of(init_pid);
  if (child <= 0) return false;
  const int fd = static_cast<int>(syscall(SYS_pidfd_open, child, 0));
  if (fd < 0) return false;
  // The pidfd names a process for good; it is init's child if init still lists it after opening.
  const bool same = first_child_of(init_pid) == child;
  const bool sent = same && syscall(SYS_pidfd_send_signal, fd, SIGKILL, nullptr, 0) == 0;
  close(fd);
  return sent;
}

// The seccomp filter as BPF bytes (built once): allow by default, refuse with EPERM what a
// test program never needs and what would reach outside the namespaces.
std::string build_seccomp_bpf() {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  check(ctx != nullptr, "sandbox: seccomp_init failed");
  const uint32_t deny = SCMP_ACT_ERRNO(EPERM);
  const char* denied[] = {"ptrace",
                          "process_vm_readv",
                          "process_vm_writev",
                          "mount",
                          "umount2",
                          "pivot_root",
                          "chroot",
                          "keyctl",
                          "add_key",
                          "request_key",
                          "bpf",
                          "perf_event_open",
                          "io_uring_setup",
                          "io_uring_enter",
                          "io_uring_register",
                          "unshare",
                          "setns",
                          "userfaultfd",
                          "kexec_load",
                          "kexec_file_load",
                          "init_module",
                          "finit_module",
                          "delete_module",
                          "reboot",
                          "swapon",
                          "swapoff",
                          "syslog",
                          "acct",
                          "open_by_handle_at",
                          "name_to_handle_at",
                          "fanotify_init",
                          "move_mount",
                          "open_tree",
                          "fsopen",
                          "fsmount",
                          "fsconfig",
                          "fspick",
                          "mount_setattr",
                          "quotactl",
                          "lookup_dcookie",
                          "vhangup",
                          "settimeofday",
                          "clock_settime",
                          "adjtimex",
                          "clock_adjtime",
                          "iopl",
                          "ioperm",
                          "pidfd_getfd"};
  int rc = 0;
  for (const char* name : denied) {
    const int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue;  // not on this architecture
    rc |= seccomp_rule_add(ctx, deny, nr, 0);
  }
  // Sockets: AF_UNIX only (the network namespace is empty anyway).
  rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
                         SCMP_A0(SCMP_CMP_NE, AF_UNIX));
  // No new namespaces through clone; clone3 cannot be inspected, so it reports ENOSYS and libc
  // falls back to clone.
  const uint64_t ns_flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
                            CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP;
  for (uint64_t bit = 1; bit != 0; bit <<= 1)
    if (ns_flags & bit)
      rc |= seccomp_rule_add(ctx, deny, SCMP_SYS(clone), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, bit, bit));
  rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
  // Terminal injection. The kernel reads the request as 32 bits: compare only those, or
  // TIOCSTI | (1 << 32) would slip through.
  rc |= seccomp_rule_add(ctx, deny, SCMP_SYS(ioctl), 1,
                         SCMP_A1(SCMP_CMP_MASKED_EQ, 0xFFFFFFFFu, TIOCSTI));
  rc |= seccomp_rule_add(ctx, deny, SCMP_SYS(ioctl), 1,
                         SCMP_A1(SCMP_CMP_MASKED_EQ, 0xFFFFFFFFu, TIOCLINUX));
  if (rc != 0) {
    seccomp_release(ctx);
    throw Error("sandbox: building the seccomp filter failed");
  }
  // Export through a memfd (libseccomp writes to an fd).
  const int fd = memfd_create("r1-seccomp", MFD_CLOEXEC);
  check(fd >= 0, "sandbox: " + errno_text("memfd_create"));
  rc = seccomp_export_bpf(ctx, fd);
  seccomp_release(ctx);
  std::string bpf;
  if (rc == 0) {
    lseek(fd, 0, SEEK_SET);
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) bpf.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  check(rc == 0 && !bpf.empty(), "sandbox: exporting the seccomp filter failed");
  return bpf;
}

// "/usr/bin/x" for a name found on PATH (or the path itself), resolved through symlinks.
std::string resolve_program(const std::string& name) {
  std::string found;
  if (name.find('/') != std::string::npos) {
    found = name;
  } else {
    const char* path = std::getenv("PATH");
    std::string p = path ? path : "/usr/bin:/bin";
    size_t start = 0;
    while (start <= p.size()) {
      size_t end = p.find(':', start);
      if (end == std::string::npos) end = p.size();
      std::string cand = p.substr(start, end - start) + "/" + name;
      if (access(cand.c_str(), X_OK) == 0) {
        found = cand;
        break;
      }
      start = end + 1;
    }
  }
  if (found.empty() || access(found.c_str(), X_OK) != 0) return "";
  std::error_code ec;
  const fs::path real = fs::canonical(found, ec);
  return ec ? found : real.string();
}

void set_nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Text from a memfd holding `data` (stdin of the program).
int memfd_with(const std::string& data) {
  const int fd = memfd_create("r1-stdin", MFD_CLOEXEC);
  if (fd < 0) return -1;
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t w = write(fd, data.data() + off, data.size() - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      close(fd);
      return -1;
    }
    off += static_cast<size_t>(w);
  }
  lseek(fd, 0, SEEK_SET);
  return fd;
}

bool contains(const std::string& hay, const char* needle) {
  return hay.find(needle) != std::string::npos;
}

}  // namespace

struct Sandbox::Impl {
  std::string bpf;          // seccomp program
  std::string bwrap;        // resolved bwrap
  std::string init;         // staged copy of r1sandbox-init
  std::string staging;      // world-readable dir of staged artifacts
  std::string cache_dir;    // compiled-program cache
  std::string cxx, python;  // resolved compiler and interpreter
  std::string setup_error;  // why the sandbox cannot run (reported as SE)
  bool root = geteuid() == 0;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<int> free_slots;

  int acquire() {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return !free_slots.empty(); });
    const int s = free_slots.back();
    free_slots.pop_back();
    return s;
  }
  void release(int s) {
    {
      std::lock_guard<std::mutex> lock(mu);
      free_slots.push_back(s);
    }
    cv.notify_one();
  }
};

namespace {

// Copies `src` to `dst` readable by every uid (mode 0755 for programs), atomically. The judge
// pool's threads may stage the same file at once (two identical samples): each copies to its own
// temporary name, or one's rename finds the file gone (an SE a CI run met).
void stage_copy(const std::string& src, const std::string& dst, mode_t mode) {
  const std::string tmp = unique_tmp_path(dst);
  std::error_code ec;
  fs::copy_file(src, tmp, fs::copy_options::overwrite_existing, ec);
  check(!ec, "sandbox: cannot copy " + src + " to " + tmp + ": " + ec.message());
  chmod(tmp.c_str(), mode);
  fs::rename(tmp, dst, ec);
  check(!ec, "sandbox: cannot rename " + tmp + ": " + ec.message());
}

std::string default_cache_dir() {
  if (const char* c = std::getenv("R1_SANDBOX_CACHE"); c && *c) return c;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/r1/sandbox";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/r1/sandbox";
  return "/tmp/r1-sandbox-cache";
}

}  // namespace

Sandbox::Sandbox(SandboxOptions options) : options_(std::move(options)), impl_(new Impl) {
  Impl& m = *impl_;
  for (int i = options_.slots - 1; i >= 0; --i) m.free_slots.push_back(i);
  m.bpf = build_seccomp_bpf();
  m.bwrap = resolve_program(options_.bwrap);
  m.cxx = resolve_program(options_.cxx);
  m.python = resolve_program(options_.python);
  std::string init = options_.init;
  if (init.empty()) {
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) init = (self.parent_path() / "r1sandbox-init").string();
  }
  m.cache_dir = options_.cache_dir.empty() ? default_cache_dir() : options_.cache_dir;
  if (m.bwrap.empty())
    m.setup_error = "bubblewrap not found ('" + options_.bwrap + "'): apt-get install bubblewrap";
  else if (init.empty() || access(init.c_str(), X_OK) != 0)
    m.setup_error = "r1sandbox-init not found at '" + init +
                    "' (it is built beside r1sandbox; or set SandboxOptions::init)";
  std::error_code ec;
  fs::create_directories(m.cache_dir, ec);
  if (ec && m.setup_error.empty())
    m.setup_error = "cannot create the sandbox cache " + m.cache_dir + ": " + ec.message();
  // The staging dir lives in the system temp dir so that a dropped uid can reach it even when
  // the cache is under a private home.
  const char* tmpdir = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmpdir && *tmpdir ? tmpdir : "/tmp") + "/r1-sandbox-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  check(mkdtemp(buf.data()) != nullptr, "sandbox: " + errno_text("mkdtemp " + tmpl));
  m.staging = buf.data();
  chmod(m.staging.c_str(), 0755);
  if (m.setup_error.empty()) {
    m.init = m.staging + "/init";
    stage_copy(init, m.init, 0755);
  }
}

Sandbox::~Sandbox() {
  std::error_code ec;
  fs::remove_all(impl_->staging, ec);
}

namespace {

// --- One sandboxed command: build the argv, spawn, supervise, classify ----------------------

// What bwrap is given: the namespaces, the read-only system, the tmpfs work dir, r1sandbox-init as
// pid 1 with the rlimits as its arguments, then the command.
std::vector<std::string> bwrap_argv(const std::string& bwrap, const std::string& init,
                                    const std::vector<std::string>& argv, const Limits& limits,
                                    const std::map<std::string, std::string>& ro_files,
                                    const std::string& rw_dir_host, const std::string& rw_dir) {
  const auto tmpfs_bytes = std::to_string(std::max<int64_t>(limits.file_bytes, 1 << 20));
  const int64_t as_bytes = limits.memory_mb * (1LL << 20);
  const long long cpu_rl = static_cast<long long>(limits.cpu_s) + 1;
  // NPROC counts the uid's processes in the sandbox's user namespace: init is one of them.
  const int nproc = limits.processes + 1;
  std::vector<std::string> a = {bwrap,
                                "--unshare-all",
                                "--die-with-parent",
                                "--new-session",
                                "--as-pid-1",
                                "--clearenv",
                                "--setenv",
                                "PATH",
                                "/usr/local/bin:/usr/bin:/bin",
                                "--setenv",
                                "HOME",
                                "/tmp",
                                "--setenv",
                                "LANG",
                                "C.UTF-8",
                                "--setenv",
                                "PYTHONDONTWRITEBYTECODE",
                                "1",
                                "--ro-bind",
                                "/usr",
                                "/usr",
                                "--symlink",
                                "usr/bin",
                                "/bin",
                                "--symlink",
                                "usr/lib",
                                "/lib",
                                "--symlink",
                                "usr/lib64",
                                "/lib64",
                                "--symlink",
                                "usr/sbin",
                                "/sbin",
                                "--ro-bind-try",
                                "/etc/ld.so.cache",
                                "/etc/ld.so.cache",
                                "--ro-bind-try",
                                "/etc/alternatives",
                                "/etc/alternatives",
                                "--proc",
                                "/proc",
                                "--dev",
                                "/dev",
                                "--size",
                                tmpfs_bytes,
                                "--tmpfs",
                                "/tmp",
                                "--ro-bind",
                                init,
                                "/.r1/init"};
  for (const auto& [dest, host] : ro_files) a.insert(a.end(), {"--ro-bind", host, dest});
  if (!rw_dir_host.empty()) a.insert(a.end(), {"--bind", rw_dir_host, rw_dir});
  a.insert(a.end(), {"--chdir", rw_dir.empty() ? "/tmp" : rw_dir, "--seccomp", "3", "--info-fd",
                     "5", "/.r1/init", "4", std::to_string(cpu_rl), std::to_string(as_bytes),
                     std::to_string(limits.file_bytes), std::to_string(limits.open_files),
                     std::to_string(nproc), "--"});
  a.insert(a.end(), argv.begin(), argv.end());
  return a;
}

// The descriptors of a run: stdin (a memfd), stdout and stderr pipes, the seccomp pipe (the BPF
// program, written before the fork: it is well under a pipe's 64 KiB), init's status pipe and
// bwrap's --info-fd (the pid of the sandbox's pid 1). [0] is the read end, [1] the write end.
struct Pipes {
  int in = -1;
  int out[2] = {-1, -1}, err[2] = {-1, -1}, bpf[2] = {-1, -1}, st[2] = {-1, -1};
  int info[2] = {-1, -1};
  ~Pipes() { close_all(); }
  void close_all() {
    for (int* fd : {&in, &out[0], &out[1], &err[0], &err[1], &bpf[0], &bpf[1], &st[0], &st[1],
                    &info[0], &info[1]})
      close_fd(*fd);
  }
  static void close_fd(int& fd) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
  // Opens them all; "" or why not.
  std::string open(const std::string& input, const std::string& bpf_program) {
    in = memfd_with(input);
    if (in < 0 || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) || pipe2(bpf, O_CLOEXEC) ||
        pipe2(st, O_CLOEXEC) || pipe2(info, O_CLOEXEC))
      return errno_text("sandbox: creating pipes");
    if (write(bpf[1], bpf_program.data(), bpf_program.size()) !=
        static_cast<ssize_t>(bpf_program.size()))
      return errno_text("sandbox: writing the seccomp filter");
    close_fd(bpf[1]);
    return "";
  }
};

// Forks bwrap with the pipes as its fds 0-5, as `uid` when running as root. Returns its pid, or
// -1 with errno set. The parent's copies of the child's ends are closed either way.
pid_t spawn(std::vector<std::string>& a, Pipes& p, bool root, uid_t uid) {
  std::vector<char*> cargv;
  for (auto& s : a) cargv.push_back(s.data());
  cargv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    // Child: only async-signal-safe calls from here to exec.
    setpgid(0, 0);
    if (root) {
      if (syscall(SYS_setgroups, 0, nullptr) != 0 || syscall(SYS_setresgid, uid, uid, uid) != 0 ||
          syscall(SYS_setresuid, uid, uid, uid) != 0)
        _exit(125);
    }
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    // bwrap's fds 0-5. Each source first moves above them (F_DUPFD: a copy without CLOEXEC), then
    // onto its number: a direct dup2 could overwrite a source still to be moved when another
    // thread's sandbox freed a low number, and dup2(fd, fd) would leave CLOEXEC set (bwrap then
    // failed with "Write to info_fd: Bad file descriptor").
    const int sources[6] = {p.in, p.out[1], p.err[1], p.bpf[0], p.st[1], p.info[1]};
    int high[6];
    for (int k = 0; k < 6; ++k)
      if ((high[k] = fcntl(sources[k], F_DUPFD, 16)) < 0) _exit(125);
    for (int k = 0; k < 6; ++k)
      if (dup2(high[k], k) < 0) _exit(125);
    for (int fd = 6; fd < 1024; ++fd) close(fd);
    execv(cargv[0], cargv.data());
    static const char msg[] = "r1sandbox: cannot exec bubblewrap\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(126);
  }
  const int fork_errno = errno;
  for (int* fd : {&p.in, &p.out[1], &p.err[1], &p.bpf[0], &p.st[1], &p.info[1]})
    Pipes::close_fd(*fd);
  errno = fork_errno;
  return pid;
}

// Watches a spawned bwrap until it exits and its pipes are drained: reads stdout and stderr
// (capped), learns the sandbox's pid 1 from --info-fd, and kills the program at the wall deadline
// or past the output limit. Killing the sandbox's pid 1 (as a pidfd: no pid-reuse race), not bwrap,
// is what ends a run: the kernel then kills every process of the namespace, bwrap reaps pid 1 and
// exits, and when we have reaped bwrap nothing of the run is left. (Killing bwrap instead would
// orphan pid 1 to the host's init, which reaps it whenever it gets round to it.)
class Supervisor {
 public:
  Supervisor(pid_t pid, Pipes& p, const Limits& limits, ExecResult& r)
      : pid_(pid), p_(p), limits_(limits), r_(r) {
    pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    set_nonblock(p.out[0]);
    set_nonblock(p.err[0]);
    set_nonblock(p.info[0]);
  }
  ~Supervisor() {
    if (pidfd_ >= 0) close(pidfd_);
    if (init_pidfd_ >= 0) close(init_pidfd_);
  }

  // Runs until bwrap has exited and its output is read; then reaps it into *wstatus and *ru.
  void run(std::chrono::steady_clock::time_point t0, int* wstatus, struct rusage* ru) {
    const auto deadline =
        t0 + std::chrono::microseconds(static_cast<int64_t>(limits_.effective_wall_s() * 1e6));
    while (!exited_ || out_open_ || err_open_)
      if (!poll_once(deadline)) break;
    while (wait4(pid_, wstatus, 0, ru) < 0 && errno == EINTR) {
    }
  }
  bool killed() const { return killed_; }
  ExitKind kill_reason() const { return kill_reason_; }

 private:
  // One poll over the open pipes and bwrap's pidfd; false on a poll error.
  bool poll_once(std::chrono::steady_clock::time_point deadline) {
    pollfd pf[4];
    int n = 0, i_out = -1, i_err = -1, i_pid = -1, i_info = -1;
    if (init_pidfd_ == -1 && p_.info[0] >= 0) pf[i_info = n++] = {p_.info[0], POLLIN, 0};
    if (out_open_) pf[i_out = n++] = {p_.out[0], POLLIN, 0};
    if (err_open_) pf[i_err = n++] = {p_.err[0], POLLIN, 0};
    if (!exited_ && pidfd_ >= 0) pf[i_pid = n++] = {pidfd_, POLLIN, 0};
    int timeout_ms = timeout_for(deadline);
    if (pidfd_ < 0 && !exited_) {
      // No pidfd (old kernel): poll for the exit.
      int wst;
      if (waitpid(pid_, &wst, WNOHANG) == pid_) {
        exited_ = true;
        return true;
      }
      timeout_ms = std::min(timeout_ms, 5);
    }
    const int pr = poll(pf, static_cast<nfds_t>(n), timeout_ms);
    if (pr < 0 && errno != EINTR) return false;
    const auto ready = [&](int i) {
      return i >= 0 && (pf[i].revents & (POLLIN | POLLHUP | POLLERR));
    };
    if (ready(i_out)) drain(p_.out[0], out_open_, r_.stdout_data, out_cap());
    if (ready(i_err)) drain(p_.err[0], err_open_, r_.stderr_data, kStderrCap);
    if (ready(i_info)) read_info();
    if (i_pid >= 0 && (pf[i_pid].revents & POLLIN)) exited_ = true;
    if (exited_) {
      // bwrap is gone, so is the namespace: whatever is left in the pipes is all there is.
      if (out_open_) drain(p_.out[0], out_open_, r_.stdout_data, out_cap());
      if (err_open_) drain(p_.err[0], err_open_, r_.stderr_data, kStderrCap);
      // A writer outside the namespace cannot exist; stop waiting for EOF.
      out_open_ = err_open_ = false;
    }
    return true;
  }

  // Until the deadline (killing at it); once killed, short waits, ending init if it lingers.
  int timeout_for(std::chrono::steady_clock::time_point deadline) {
    const auto now = std::chrono::steady_clock::now();
    if (killed_) {
      // Init reaps the killed program and exits at once; if it has not within a second, end it.
      if (now - killed_at_ > std::chrono::seconds(1)) kill_init();
      return 50;
    }
    if (now >= deadline) {
      kill_it(ExitKind::WallTimeout);
      return 0;
    }
    return static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1);
  }

  size_t out_cap() const { return static_cast<size_t>(limits_.output_bytes); }

  // Reads bwrap's --info-fd until it names the sandbox's pid 1, then opens a pidfd on it.
  void read_info() {
    if (init_pidfd_ >= 0 || p_.info[0] < 0) return;
    char ib[512];
    for (;;) {
      const ssize_t n = read(p_.info[0], ib, sizeof ib);
      if (n > 0) {
        info_text_.append(ib, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) Pipes::close_fd(p_.info[0]);
      break;
    }
    const size_t k = info_text_.find("\"child-pid\"");
    if (k == std::string::npos) return;
    const size_t colon = info_text_.find(':', k);
    if (colon == std::string::npos) return;
    char* end = nullptr;
    const long child = std::strtol(info_text_.c_str() + colon + 1, &end, 10);
    if (end == info_text_.c_str() + colon + 1 || child <= 0) return;
    init_pid_ = static_cast<pid_t>(child);
    init_pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, init_pid_, 0));
    if (init_pidfd_ < 0) init_pidfd_ = -2;  // already gone: nothing to kill there
  }

  void kill_init() {
    if (init_killed_) return;
    init_killed_ = true;
    if (init_pidfd_ >= 0) {
      syscall(SYS_pidfd_send_signal, init_pidfd_, SIGKILL, nullptr, 0);
    } else if (init_pidfd_ == -1) {
      // bwrap has not said yet which process is pid 1 (it is still setting up): kill bwrap,
      // whose --die-with-parent child follows it.
      kill(pid_, SIGKILL);
      kill(-pid_, SIGKILL);
    }
  }

  void kill_it(ExitKind why) {
    if (killed_) return;
    killed_ = true;
    kill_reason_ = why;
    killed_at_ = std::chrono::steady_clock::now();
    read_info();
    if (init_pid_ > 0 && init_pidfd_ >= 0 && kill_program(init_pid_)) return;
    kill_init();
  }

  // Reads what `fd` holds into `sink` (up to `cap`), counting every byte against output_bytes.
  void drain(int fd, bool& open, std::string& sink, size_t cap) {
    for (;;) {
      const ssize_t n = read(fd, buf_, sizeof buf_);
      if (n > 0) {
        total_ += n;
        if (sink.size() < cap) sink.append(buf_, std::min<size_t>(n, cap - sink.size()));
        if (total_ > limits_.output_bytes) kill_it(ExitKind::OutputLimit);
        continue;
      }
      if (n == 0)
        open = false;
      else if (errno == EINTR)
        continue;
      return;
    }
  }

  const pid_t pid_;
  Pipes& p_;
  const Limits& limits_;
  ExecResult& r_;
  int pidfd_ = -1;
  int init_pidfd_ = -1;  // -1: not known yet; -2: pid 1 was already gone
  pid_t init_pid_ = 0;
  std::string info_text_;
  bool out_open_ = true, err_open_ = true, exited_ = false, killed_ = false, init_killed_ = false;
  ExitKind kill_reason_ = ExitKind::Exited;
  std::chrono::steady_clock::time_point killed_at_;
  int64_t total_ = 0;
  char buf_[65536];
};

// init's status line: "exit CODE UTIME_US STIME_US MAXRSS_KB", "signal ...", or "error WHY".
std::string read_status(int fd) {
  std::string status;
  char buf[4096];
  set_nonblock(fd);
  for (;;) {
    const ssize_t k = read(fd, buf, sizeof buf);
    if (k > 0)
      status.append(buf, static_cast<size_t>(k));
    else if (k < 0 && errno == EINTR)
      continue;
    else
      break;
  }
  return status;
}

// The run's outcome from init's status line, bwrap's exit and usage, and whether (and why) the
// supervisor killed it: the limit that was hit, else how the program ended.
void classify(ExecResult& r, const std::string& status, const Supervisor& sup, int wstatus,
              const struct rusage& ru, const Limits& limits) {
  char kind[16] = {0};
  int code = 0;
  long long ut = 0, stt = 0, rss = 0;
  const bool have_status =
      std::sscanf(status.c_str(), "%15s %d %lld %lld %lld", kind, &code, &ut, &stt, &rss) == 5;
  if (sup.killed()) {
    r.kind = sup.kill_reason();
    if (r.kind == ExitKind::WallTimeout) r.signal = SIGKILL;
    if (have_status) {
      // The program was killed and init reaped it: its own usage.
      r.time_ms = (ut + stt) / 1e3;
      r.memory_kb = rss;
    } else {
      // Init itself was killed: only bwrap's usage is known, a lower bound.
      r.time_ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
                  (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
      r.memory_kb = ru.ru_maxrss;
    }
    return;
  }
  if (status.rfind("error ", 0) == 0) {
    r.error = "sandbox: " + status.substr(6, status.find('\n') - 6);
    return;
  }
  if (!have_status) {
    // bwrap failed before init ran: its own message is on stderr.
    std::string why = r.stderr_data.substr(0, r.stderr_data.find('\n'));
    if (why.empty()) {
      why = WIFEXITED(wstatus) ? "bwrap exited with " + std::to_string(WEXITSTATUS(wstatus))
                               : "bwrap killed by signal " + std::to_string(WTERMSIG(wstatus));
    }
    r.error = "sandbox: " + why;
    return;
  }
  r.time_ms = (ut + stt) / 1e3;
  r.memory_kb = rss;
  const bool signaled = std::strcmp(kind, "signal") == 0;
  if (signaled)
    r.signal = code;
  else
    r.exit_code = code;
  const bool failed = signaled || code != 0;
  const bool alloc_refused =
      contains(r.stderr_data, "std::bad_alloc") || contains(r.stderr_data, "MemoryError") ||
      contains(r.stderr_data, "Cannot allocate memory") || contains(r.stderr_data, "out of memory");
  if (r.time_ms > limits.cpu_s * 1e3 || (signaled && code == SIGXCPU)) {
    r.kind = ExitKind::CpuTimeout;
  } else if (r.memory_kb > limits.memory_mb * 1024 || (failed && alloc_refused) ||
             (failed && r.memory_kb * 10 >= limits.memory_mb * 1024 * 8)) {
    // A failed run at 80% or more of the address-space limit is taken as one that hit it (an
    // unchecked malloc returning NULL dies of SIGSEGV, not of a message).
    r.kind = ExitKind::MemoryLimit;
  } else if (signaled && code == SIGXFSZ) {
    r.kind = ExitKind::OutputLimit;
  } else {
    r.kind = signaled ? ExitKind::Signaled : ExitKind::Exited;
  }
}

}  // namespace

ExecResult Sandbox::run_command(const std::vector<std::string>& argv, const std::string& input,
                                const Limits& limits,
                                const std::map<std::string, std::string>& ro_files,
                                const std::string& rw_dir_host, const std::string& rw_dir) {
  Impl& m = *impl_;
  ExecResult r;
  if (!m.setup_error.empty()) {
    r.error = m.setup_error;
    return r;
  }
  check(!argv.empty(), "sandbox: empty command");
  std::vector<std::string> a =
      bwrap_argv(m.bwrap, m.init, argv, limits, ro_files, rw_dir_host, rw_dir);
  Pipes p;
  if (std::string why = p.open(input, m.bpf); !why.empty()) {
    r.error = why;
    return r;
  }
  const int slot = m.acquire();
  const uid_t uid = static_cast<uid_t>(options_.uid_base + slot);
  if (m.root && !rw_dir_host.empty() && chown(rw_dir_host.c_str(), uid, uid) != 0) {
    r.error = errno_text("sandbox: chown " + rw_dir_host);
    m.release(slot);
    return r;
  }
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t pid = spawn(a, p, m.root, uid);
  if (pid < 0) {
    r.error = errno_text("sandbox: fork");
    m.release(slot);
    return r;
  }
  int wstatus = 0;
  struct rusage ru {};
  Supervisor sup(pid, p, limits, r);
  sup.run(t0, &wstatus, &ru);
  r.wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  m.release(slot);
  classify(r, read_status(p.st[0]), sup, wstatus, ru, limits);
  return r;
}

Compiled Sandbox::compile(Lang lang, const std::string& source) {
  Impl& m = *impl_;
  Compiled c;
  c.lang = lang;
  const std::string tool = lang == Lang::Cpp ? m.cxx : m.python;
  std::string flags;
  if (lang == Lang::Cpp)
    for (const auto& f : options_.cxx_flags) flags += f + " ";
  std::error_code ec;
  const auto mtime =
      fs::exists(tool, ec) ? fs::last_write_time(tool, ec).time_since_epoch().count() : 0;
  c.key = sha256_hex(std::string(lang_name(lang)) + '\0' + tool + '\0' + std::to_string(mtime) +
                     '\0' + flags + '\0' + source);
  if (!m.setup_error.empty() || tool.empty()) {
    c.sandbox_error = true;
    c.output = !m.setup_error.empty() ? m.setup_error
               : lang == Lang::Cpp    ? "C++ compiler '" + options_.cxx + "' not found"
                                      : "Python interpreter '" + options_.python + "' not found";
    return c;
  }
  const std::string dir = m.cache_dir + "/" + c.key.substr(0, 2);
  const std::string cached = dir + "/" + c.key + (lang == Lang::Cpp ? ".bin" : ".py");
  const std::string cached_ce = dir + "/" + c.key + ".ce";
  const std::string staged = m.staging + "/" + c.key + (lang == Lang::Cpp ? "" : ".py");
  if (fs::exists(staged, ec)) {
    c.ok = c.cached = true;
    c.artifact = staged;
    return c;
  }
  if (fs::exists(cached, ec)) {
    stage_copy(cached, staged, 0755);
    c.ok = c.cached = true;
    c.artifact = staged;
    return c;
  }
  if (fs::exists(cached_ce, ec)) {
    c.cached = true;
    c.output = read_file(cached_ce);
    return c;
  }

  // A private build dir (owned by the slot's uid while compiling), bound at /build.
  std::string tmpl = m.staging + "/build-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    c.sandbox_error = true;
    c.output = errno_text("sandbox: mkdtemp " + tmpl);
    return c;
  }
  const std::string build = buf.data();
  const std::string src_name = lang == Lang::Cpp ? "main.cpp" : "main.py";
  write_file_atomic(build + "/" + src_name, source);
  chmod((build + "/" + src_name).c_str(), 0644);
  std::vector<std::string> argv;
  if (lang == Lang::Cpp) {
    argv.push_back(m.cxx);
    argv.insert(argv.end(), options_.cxx_flags.begin(), options_.cxx_flags.end());
    argv.insert(argv.end(), {"-o", "/build/prog", "/build/" + src_name});
  } else {
    argv = {m.python,
            "-I",
            "-B",
            "-c",
            "import sys, traceback\nsrc = open(sys.argv[1], 'rb').read()\ntry:\n"
            "    compile(src, 'main.py', 'exec')\nexcept (SyntaxError, ValueError) as e:\n"
            "    sys.stderr.write(''.join(traceback.format_exception_only(type(e), e)))\n    "
            "sys.exit(1)\n",
            "/build/" + src_name};
  }
  const ExecResult r = run_command(argv, "", options_.compile_limits, {}, build, "/build");
  auto cleanup = [&] { fs::remove_all(build, ec); };
  if (r.kind == ExitKind::SandboxError) {
    c.sandbox_error = true;
    c.output = r.error;
    cleanup();
    return c;
  }
  std::string diag = r.stderr_data.empty() ? r.stdout_data : r.stderr_data;
  if (diag.size() > kCompileOutputCap) diag = diag.substr(0, kCompileOutputCap) + "\n[...]";
  const bool ok = r.kind == ExitKind::Exited && r.exit_code == 0 &&
                  (lang == Lang::Python || fs::exists(build + "/prog", ec));
  if (!ok) {
    std::string why;
    switch (r.kind) {
      case ExitKind::CpuTimeout:
      case ExitKind::WallTimeout:
        why = "compilation exceeded its time limit";
        break;
      case ExitKind::MemoryLimit:
        why = "compilation exceeded its memory limit";
        break;
      case ExitKind::OutputLimit:
        why = "compilation exceeded its output limit";
        break;
      case ExitKind::Signaled:
        why = "the compiler was killed by signal " + std::to_string(r.signal);
        break;
      default:
        break;
    }
    c.output = why.empty() ? diag : why + (diag.empty() ? "" : "\n" + diag);
    // Deterministic failures are cached; limit hits are not (they depend on the machine's load).
    if (why.empty()) {
      fs::create_directories(dir, ec);
      write_file_atomic(cached_ce, c.output);
    }
    cleanup();
    return c;
  }
  c.output = diag;  // warnings
  fs::create_directories(dir, ec);
  stage_copy(lang == Lang::Cpp ? build + "/prog" : build + "/" + src_name, cached, 0755);
  stage_copy(cached, staged, 0755);
  cleanup();
  c.ok = true;
  c.artifact = staged;
  return c;
}

ExecResult Sandbox::execute(const Compiled& program, const std::string& input,
                            const Limits& limits) {
  check(program.ok, "sandbox: executing a program that did not compile");
  if (program.lang == Lang::Cpp)
    return run_command({"/prog/main"}, input, limits, {{"/prog/main", program.artifact}});
  return run_command({impl_->python, "-I", "-B", "/prog/main.py"}, input, limits,
                     {{"/prog/main.py", program.artifact}});
}

}  // namespace r1::sandbox
