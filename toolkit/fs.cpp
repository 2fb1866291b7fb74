// File helpers (see fs.h).
#include "toolkit/fs.h"

#include <atomic>  // std::atomic

#include <fcntl.h>     // open
#include <sys/mman.h>  // mmap, munmap
#include <sys/stat.h>  // fstat
#include <unistd.h>    // fsync, getpid, close

#include <cerrno>      // errno
#include <cstring>     // std::strerror
#include <filesystem>  // std::filesystem
#include <fstream>     // std::ifstream
#include <sstream>     // std::ostringstream

#include "toolkit/error.h"  // r1::Error

namespace r1 {

std::string read_file(const std::string& path) {
  // Checked before opening, as map_file does: a device never ends (/dev/zero was read into memory
  // without end) and opening a FIFO waits for a writer.
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (!ec && std::filesystem::exists(st) && !std::filesystem::is_regular_file(st))
    throw Error(path + ": not a regular file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open (" + std::strerror(errno) + ")");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw Error(path + ": read failed");
  return ss.str();
}

std::string unique_tmp_path(const std::string& path) {
  static std::atomic<uint64_t> next{0};
  return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(next++);
}

void write_file_atomic(const std::string& path, const std::function<bool(std::FILE*)>& write) {
  const std::string tmp = unique_tmp_path(path);
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) throw Error(path + ": cannot create (" + std::strerror(errno) + ")");
  bool ok = false;
  try {
    ok = write(f);
  } catch (...) {
    std::fclose(f);
    std::remove(tmp.c_str());
    throw;
  }
  ok = ok && std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
  const int saved = errno;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    std::remove(tmp.c_str());
    throw Error(path + ": write failed (" + std::strerror(saved ? saved : errno) + ")");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw Error(path + ": rename failed (" + ec.message() + ")");
  }
}

void write_file_atomic(const std::string& path, const std::string& content) {
  write_file_atomic(path, [&](std::FILE* f) {
    return std::fwrite(content.data(), 1, content.size(), f) == content.size();
  });
}

MappedFile::~MappedFile() {
  if (data != nullptr) munmap(data, size);
}

std::shared_ptr<MappedFile> map_file(const std::string& path, size_t min_size,
                                     const std::string& kind) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused as not a regular file.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw Error(path + ": cannot open (" + std::strerror(errno) + ")");
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(path + ": not a regular file");
  }
  const auto size = static_cast<size_t>(st.st_size);
  if (size < min_size || size == 0) {
    ::close(fd);
    throw Error(path + ": too short for " + kind + " (" + std::to_string(size) + " bytes)");
  }
  void* addr = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  const int mmap_errno = errno;
  ::close(fd);
  if (addr == MAP_FAILED) throw Error(path + ": mmap failed (" + std::strerror(mmap_errno) + ")");
  auto m = std::make_shared<MappedFile>();
  m->data = static_cast<uint8_t*>(addr);
  m->size = size;
  return m;
}

}  // namespace r1
