// r1sandbox-init: pid 1 of a sandbox's PID namespace (started by bwrap --as-pid-1). Forks the
// program with its rlimits set, reaps everything, and writes one status line on STATUS_FD:
//   "exit CODE UTIME_US STIME_US MAXRSS_KB" | "signal SIG UTIME_US STIME_US MAXRSS_KB" | "error
//   MSG"
// then exits, which makes the kernel kill whatever is left in the namespace. Leaves out any
// policy: the seccomp filter and the mounts are bwrap's; this only tells exit codes from signals.
//
// usage: r1sandbox-init STATUS_FD CPU_S AS_BYTES FSIZE_BYTES NOFILE NPROC -- PROGRAM ARGS...
#include <errno.h>         // errno
#include <fcntl.h>         // fcntl, O_CLOEXEC
#include <signal.h>        // signal numbers
#include <stdio.h>         // snprintf
#include <stdlib.h>        // strtoull, _exit
#include <string.h>        // strcmp, strerror, strlen
#include <sys/resource.h>  // setrlimit, getrusage
#include <sys/wait.h>      // waitpid
#include <unistd.h>        // fork, execv, write, pipe2

namespace {

void write_all(int fd, const char* s, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return;
    }
    s += w;
    n -= static_cast<size_t>(w);
  }
}

[[noreturn]] void fail(int status_fd, const char* what, int err) {
  char buf[512];
  int n = snprintf(buf, sizeof buf, "error %s: %s\n", what, strerror(err));
  write_all(status_fd, buf, static_cast<size_t>(n));
  _exit(120);
}

bool set_limit(int resource, unsigned long long soft, unsigned long long hard) {
  struct rlimit rl;
  rl.rlim_cur = soft;
  rl.rlim_max = hard;
  return setrlimit(resource, &rl) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 9 || strcmp(argv[7], "--") != 0) return 121;
  const int status_fd = static_cast<int>(strtoull(argv[1], nullptr, 10));
  const unsigned long long cpu_s = strtoull(argv[2], nullptr, 10);
  const unsigned long long as_bytes = strtoull(argv[3], nullptr, 10);
  const unsigned long long fsize = strtoull(argv[4], nullptr, 10);
  const unsigned long long nofile = strtoull(argv[5], nullptr, 10);
  const unsigned long long nproc = strtoull(argv[6], nullptr, 10);
  fcntl(status_fd, F_SETFD, FD_CLOEXEC);

  // The child reports a failed exec through this close-on-exec pipe.
  int errpipe[2];
  if (pipe2(errpipe, O_CLOEXEC) != 0) fail(status_fd, "pipe", errno);
  const pid_t child = fork();
  if (child < 0) fail(status_fd, "fork", errno);
  if (child == 0) {
    close(errpipe[0]);
    // The stack, as judges set it: the main thread's may grow to the memory limit (deep recursion
    // is bounded by RLIMIT_AS alone, as on Codeforces), while threads get glibc's default 2 MiB
    // stacks. glibc sizes every new thread's stack by RLIMIT_STACK when it is finite, so a stack
    // limit equal to the address-space limit left no room to start a single thread (D14).
    // Other inherited descriptors (bwrap's) must not reach the program.
    for (int fd = 3; fd < 1024; ++fd)
      if (fd != errpipe[1]) close(fd);
    const bool ok = set_limit(RLIMIT_CORE, 0, 0) && set_limit(RLIMIT_CPU, cpu_s, cpu_s + 1) &&
                    set_limit(RLIMIT_AS, as_bytes, as_bytes) &&
                    set_limit(RLIMIT_STACK, RLIM_INFINITY, RLIM_INFINITY) &&
                    set_limit(RLIMIT_FSIZE, fsize, fsize) &&
                    set_limit(RLIMIT_NOFILE, nofile, nofile) &&
                    set_limit(RLIMIT_NPROC, nproc, nproc);
    int err = ok ? 0 : errno;
    if (ok) {
      execv(argv[8], argv + 8);
      err = errno;
    }
    write_all(errpipe[1], reinterpret_cast<const char*>(&err), sizeof err);
    _exit(127);
  }
  close(errpipe[1]);
  int exec_err = 0;
  const ssize_t got = read(errpipe[0], &exec_err, sizeof exec_err);
  close(errpipe[0]);

  // Reap everything (orphans are re-parented to us) until the program itself is gone.
  int status = 0;
  for (;;) {
    int st = 0;
    const pid_t p = waitpid(-1, &st, 0);
    if (p == child) {
      status = st;
      break;
    }
    if (p < 0 && errno != EINTR) break;
  }
  if (got == static_cast<ssize_t>(sizeof exec_err) && exec_err != 0) {
    char what[600];
    snprintf(what, sizeof what, "exec %s", argv[8]);
    fail(status_fd, what, exec_err);
  }
  struct rusage ru;
  getrusage(RUSAGE_CHILDREN, &ru);
  const long long utime = ru.ru_utime.tv_sec * 1000000LL + ru.ru_utime.tv_usec;
  const long long stime = ru.ru_stime.tv_sec * 1000000LL + ru.ru_stime.tv_usec;
  char buf[256];
  int n;
  if (WIFSIGNALED(status))
    n = snprintf(buf, sizeof buf, "signal %d %lld %lld %ld\n", WTERMSIG(status), utime, stime,
                 ru.ru_maxrss);
  else
    n = snprintf(buf, sizeof buf, "exit %d %lld %lld %ld\n", WEXITSTATUS(status), utime, stime,
                 ru.ru_maxrss);
  write_all(status_fd, buf, static_cast<size_t>(n));
  return 0;
}
