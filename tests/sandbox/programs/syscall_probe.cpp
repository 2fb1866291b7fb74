// Runs the one probe named on stdin, a system call the sandbox must refuse (ptrace, namespaces,
// setuid, mount, keyctl, bpf, perf_event_open, io_uring, non-Unix sockets, TIOCSTI on its own
// controlling terminal...), and prints "allowed" or "denied ERRNO". Leaves out side effects.
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

namespace {

// A child that sleeps, as a target for ptrace and process_vm_readv.
pid_t sleeper() {
  const pid_t pid = fork();
  if (pid == 0) {
    for (;;) pause();
  }
  return pid;
}

// Runs fn in a forked child (which may call setsid and the like) and returns its result, with
// errno set from the child.
template <typename F>
long in_child(F fn) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  const pid_t pid = fork();
  if (pid == 0) {
    errno = 0;
    const long rc = fn();
    const int result[2] = {static_cast<int>(rc), errno};
    (void)!write(fds[1], result, sizeof result);
    _exit(0);
  }
  close(fds[1]);
  int result[2] = {-1, EIO};
  if (read(fds[0], result, sizeof result) != sizeof result) result[1] = ECHILD;
  close(fds[0]);
  waitpid(pid, nullptr, 0);
  errno = result[1];
  return result[0];
}

// TIOCSTI on a pty that the probe makes its controlling terminal (which the kernel allows without
// privileges). `high` sets bits above the 32-bit command, which the kernel ignores: a filter that
// compares the whole 64-bit argument would miss it.
long tiocsti_on_own_pty(unsigned long high) {
  const int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) return -2;
  const char* slave_name = ptsname(master);
  if (!slave_name) return -2;
  const std::string slave_path = slave_name;
  return in_child([&]() -> long {
    if (setsid() < 0) return -2;
    const int slave = open(slave_path.c_str(), O_RDWR);  // becomes the controlling terminal
    if (slave < 0) return -2;
    ioctl(slave, TIOCSCTTY, 0);
    const char c = 'x';
    return syscall(SYS_ioctl, slave, high | TIOCSTI, &c);
  });
}

long probe(const std::string& name) {
  if (name == "ptrace_traceme") return ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
  if (name == "ptrace_attach_child") {
    const pid_t child = sleeper();
    const long rc = ptrace(PTRACE_ATTACH, child, nullptr, nullptr);
    const int err = errno;
    kill(child, SIGKILL);
    errno = err;
    return rc;
  }
  if (name == "ptrace_attach_init") return ptrace(PTRACE_ATTACH, 1, nullptr, nullptr);
  if (name == "process_vm_readv") {
    static char secret[16] = "in the child";
    char got[16];
    const pid_t child = sleeper();
    iovec local{got, sizeof got}, remote{secret, sizeof secret};
    const long rc = process_vm_readv(child, &local, 1, &remote, 1, 0);
    const int err = errno;
    kill(child, SIGKILL);
    errno = err;
    return rc < 0 ? -1 : 0;
  }
  if (name == "setuid_root") return setuid(0);
  if (name == "setgid_root") return setgid(0);
  if (name == "unshare_user") return unshare(CLONE_NEWUSER);
  if (name == "unshare_mount") return unshare(CLONE_NEWNS);
  if (name == "unshare_net") return unshare(CLONE_NEWNET);
  if (name == "clone_newuser") {
    const long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, nullptr, nullptr, nullptr, 0);
    if (pid == 0) _exit(0);
    if (pid > 0) waitpid(static_cast<pid_t>(pid), nullptr, 0);
    return pid < 0 ? -1 : 0;
  }
  if (name == "setns") {
    const int fd = open("/proc/self/ns/mnt", O_RDONLY);
    return fd < 0 ? -1 : setns(fd, 0);
  }
  if (name == "mount_tmpfs") return mount("none", "/tmp", "tmpfs", 0, nullptr);
  if (name == "chroot") return chroot("/tmp");
  if (name == "keyctl")
    return syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 1);
  if (name == "bpf") {
    bpf_attr attr{};
    attr.map_type = BPF_MAP_TYPE_ARRAY;
    attr.key_size = 4;
    attr.value_size = 4;
    attr.max_entries = 1;
    return syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr) < 0 ? -1 : 0;
  }
  if (name == "perf_event_open") {
    perf_event_attr attr{};
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_TASK_CLOCK;
    attr.exclude_kernel = 1;
    return syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0) < 0 ? -1 : 0;
  }
  if (name == "io_uring_setup") {
    io_uring_params params{};
    return syscall(SYS_io_uring_setup, 4, &params) < 0 ? -1 : 0;
  }
  if (name == "socket_inet") return socket(AF_INET, SOCK_STREAM, 0) < 0 ? -1 : 0;
  if (name == "socket_inet6") return socket(AF_INET6, SOCK_DGRAM, 0) < 0 ? -1 : 0;
  if (name == "socket_netlink") return socket(AF_NETLINK, SOCK_RAW, 0) < 0 ? -1 : 0;
  if (name == "socket_packet") return socket(AF_PACKET, SOCK_RAW, 0) < 0 ? -1 : 0;
  if (name == "tiocsti_stdin") {
    const char c = 'x';
    return ioctl(0, TIOCSTI, &c);
  }
  if (name == "tiocsti_pty") return tiocsti_on_own_pty(0);
  if (name == "tiocsti_pty_high_bits") return tiocsti_on_own_pty(1UL << 32);
  std::printf("unknown probe %s\n", name.c_str());
  std::exit(2);
}

}  // namespace

int main() {
  std::string name;
  std::cin >> name;
  errno = 0;
  const long rc = probe(name);
  if (rc == -2)
    std::printf("setup failed %s\n", std::strerror(errno));
  else if (rc < 0)
    std::printf("denied %s\n", std::strerror(errno));
  else
    std::printf("allowed\n");
}
