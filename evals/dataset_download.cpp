// Benchmark files from their pinned sources (see dataset_download.h).
#include "evals/dataset_download.h"

#include <zlib.h>  // inflate, the gzip decoder

#include <filesystem>    // std::filesystem
#include <system_error>  // std::error_code

#include "toolkit/error.h"   // r1::Error, r1::check
#include "toolkit/fs.h"      // r1::read_file, r1::write_file_atomic
#include "toolkit/sha256.h"  // r1::sha256_file, r1::sha256_hex

namespace r1 {
namespace {

namespace fs = std::filesystem;

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// The content of a gzip stream; throws r1::Error naming `where` when it is not one.
std::string gunzip(const std::string& data, const std::string& where) {
  z_stream zs{};
  check(inflateInit2(&zs, 16 + MAX_WBITS) == Z_OK, where + ": cannot start the gzip decoder");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[1 << 16];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
  }
  inflateEnd(&zs);
  check(rc == Z_STREAM_END, where + ": not a complete gzip file");
  return out;
}

}  // namespace

std::string download_dataset(const BenchmarkSpec& spec, const std::string& dir,
                             const std::string& url_override, const FetchOptions& options) {
  const std::string url = url_override.empty() ? spec.url : url_override;
  check(!url.empty(), spec.name + ": " + spec.file + " has no single public file to fetch (" +
                          spec.source + "): put it in " + dir + " yourself, or give --url URL");
  const fs::path dest = fs::path(dir) / spec.file;
  std::error_code ec;
  if (fs::exists(dest, ec)) {
    const std::string sha = sha256_file(dest.string());
    check(sha == spec.sha256, spec.name + ": " + dest.string() +
                                  " is already there and differs "
                                  "from the public file (sha256 " +
                                  sha + ", expected " + spec.sha256 +
                                  "): move it away to fetch the public one");
    return dest.string();
  }
  fs::create_directories(dir);
  Fetcher fetcher(options);
  const std::string label = spec.name + " " + spec.file;
  if (!ends_with(url, ".gz")) {
    fetcher.download({url, dest.string(), -1, spec.sha256, label});
    return dest.string();
  }
  const std::string packed = dest.string() + ".gz";
  fetcher.download({url, packed, -1, "", label});
  const std::string text = gunzip(read_file(packed), url);
  fs::remove(packed, ec);
  const std::string sha = sha256_hex(text);
  check(sha == spec.sha256, label + ": sha256 of " + url + " (decompressed) is " + sha +
                                ", expected " + spec.sha256 + " (nothing kept)");
  write_file_atomic(dest.string(), text);
  return dest.string();
}

}  // namespace r1
