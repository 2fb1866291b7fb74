// Tries to reach the host: TCP connect and UDP send to 127.0.0.1:PORT (the test's server) and a
// connect to the test's abstract Unix socket; stdin holds "PORT ABSTRACT_NAME". Prints one line
// per attempt, "NAME: connected|sent" or "NAME: failed ERRNO". Leaves out IPv6 and DNS.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

namespace {

void report(const char* name, bool ok, const char* success) {
  if (ok)
    std::printf("%s: %s\n", name, success);
  else
    std::printf("%s: failed %s\n", name, std::strerror(errno));
}

}  // namespace

int main() {
  int port = 0;
  std::string abstract_name;
  std::cin >> port >> abstract_name;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

  int fd = socket(AF_INET, SOCK_STREAM, 0);
  report("tcp", fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0,
         "connected");
  if (fd >= 0) close(fd);

  fd = socket(AF_INET, SOCK_DGRAM, 0);
  report("udp",
         fd >= 0 && sendto(fd, "x", 1, 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 1,
         "sent");
  if (fd >= 0) close(fd);

  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::memcpy(un.sun_path + 1, abstract_name.data(),
              std::min(abstract_name.size(), sizeof un.sun_path - 2));
  const socklen_t len =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + abstract_name.size());
  fd = socket(AF_UNIX, SOCK_STREAM, 0);
  report("unix", fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&un), len) == 0, "connected");
  if (fd >= 0) close(fd);
}
