// HTTP downloads (see download.h): the redirect loop, the resumable transfer into a locked
// PATH.incomplete, and the checks before the rename.
#include "toolkit/download.h"

#include <fcntl.h>     // open, O_*
#include <sys/file.h>  // flock
#include <sys/stat.h>  // fstat
#include <unistd.h>    // write, ftruncate, fsync, close

#include <nlohmann/json.hpp>  // nlohmann::json

#include <algorithm>     // std::max
#include <cctype>        // std::tolower, std::isalnum
#include <cerrno>        // errno
#include <chrono>        // std::chrono::milliseconds
#include <cstdio>        // std::snprintf
#include <cstring>       // std::strerror
#include <filesystem>    // std::filesystem
#include <functional>    // std::function
#include <string_view>   // std::string_view
#include <system_error>  // std::error_code
#include <thread>        // std::this_thread::sleep_for

#include "toolkit/error.h"     // r1::Error, r1::check
#include "toolkit/progress.h"  // r1::Progress
#include "toolkit/sha256.h"    // r1::sha256_file

namespace r1 {
namespace {

namespace fs = std::filesystem;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool starts_with_nocase(const std::string& s, const std::string& prefix) {
  return s.size() >= prefix.size() && lower(s.substr(0, prefix.size())) == prefix;
}

std::string origin_key(const Url& u) {
  return (u.tls ? "https://" : "http://") + lower(u.host) + ":" + u.port;
}

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

std::string megabytes(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return buf;
}

// PATH.incomplete, open for appending and locked (flock) against other processes while it lives.
class PartFile {
 public:
  explicit PartFile(std::string path) : path_(std::move(path)) {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    check(fd_ >= 0, path_ + ": cannot open for writing: " + std::strerror(errno));
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) fail("cannot lock");
    }
  }
  ~PartFile() { ::close(fd_); }
  PartFile(const PartFile&) = delete;
  PartFile& operator=(const PartFile&) = delete;

  const std::string& path() const { return path_; }
  int64_t size() const {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) fail("cannot stat");
    return st.st_size;
  }
  void truncate() {
    if (::ftruncate(fd_, 0) != 0) fail("cannot truncate");
  }
  void append(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) fail("cannot write");
      bytes.remove_prefix(static_cast<size_t>(n));
    }
  }
  void sync() {
    if (::fsync(fd_) != 0) fail("cannot sync");
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(path_ + ": " + what + ": " + std::strerror(errno));
  }
  std::string path_;
  int fd_ = -1;
};

// The Content-Range of a 206 must start where the partial file ends.
void check_content_range(const HttpResponse& head, int64_t from, const std::string& where) {
  const std::string range = head.header("Content-Range");
  const std::string expected = "bytes " + std::to_string(from) + "-";
  check(range.compare(0, expected.size(), expected) == 0,
        where + ": asked for bytes from " + std::to_string(from) + ", got Content-Range '" + range +
            "'");
}

// Removes the partial file and throws `message`.
[[noreturn]] void discard(const PartFile& part, const std::string& message) {
  std::error_code ignored;
  fs::remove(part.path(), ignored);
  throw Error(message);
}

}  // namespace

std::string FetchResult::header(const std::string& name) const {
  for (const auto& [key, value] : headers) {
    if (lower(key) == lower(name)) return value;
  }
  return "";
}

// ---------------------------------------------------------------------------------------------
// URLs

UrlTarget split_url(const std::string& url) {
  const size_t scheme_end = url.find("://");
  check(scheme_end != std::string::npos, "URL '" + url + "': expected http:// or https://");
  const size_t path_start = url.find_first_of("/?#", scheme_end + 3);
  UrlTarget t;
  t.origin = parse_url(url.substr(0, path_start));
  std::string target = path_start == std::string::npos ? "" : url.substr(path_start);
  target = target.substr(0, target.find('#'));
  if (target.empty() || target[0] != '/') target = "/" + target;
  for (char c : target) {
    check(static_cast<unsigned char>(c) > ' ',
          "URL '" + url + "': contains whitespace or control characters");
  }
  t.target = target;
  return t;
}

std::string resolve_location(const std::string& base, const std::string& location) {
  if (starts_with_nocase(location, "http://") || starts_with_nocase(location, "https://"))
    return location;
  const size_t scheme_end = base.find("://");
  const size_t path_start = base.find_first_of("/?#", scheme_end + 3);
  const std::string origin = base.substr(0, path_start);
  if (location.rfind("//", 0) == 0) return base.substr(0, scheme_end + 1) + location;
  if (location.rfind('/', 0) == 0) return origin + location;
  std::string path = path_start == std::string::npos ? "/" : base.substr(path_start);
  path = path.substr(0, path.find_first_of("?#"));
  return origin + path.substr(0, path.rfind('/') + 1) + location;
}

std::string reply_excerpt(const std::string& body) {
  std::string text = body;
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error")) {
    const auto& e = j["error"];
    if (e.is_string()) text = e.get<std::string>();
    if (e.is_object() && e.contains("message") && e["message"].is_string())
      text = e["message"].get<std::string>();
  }
  if (text.size() > 200) text = text.substr(0, 200) + "...";
  for (char& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return text;
}

std::string url_encode(const std::string& text, bool keep_slash) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
        (keep_slash && c == '/')) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Fetcher

Fetcher::Fetcher(FetchOptions options) : options_(std::move(options)) {}

HttpClient& Fetcher::client(const Url& origin) {
  const std::string key = origin_key(origin);
  auto it = clients_.find(key);
  if (it == clients_.end())
    it = clients_.try_emplace(key, origin, options_.timeout_s, options_.ca_file).first;
  return it->second;
}

FetchResult Fetcher::send(const std::string& method, std::string url, Redirects redirects,
                          const HttpHeaders& extra, const HttpClient::BodySink& sink) {
  const std::string trusted =
      origin_key(split_url(options_.auth_origin.empty() ? url : options_.auth_origin).origin);
  for (int hop = 0;; ++hop) {
    const UrlTarget at = split_url(url);
    const bool trusted_host = origin_key(at.origin) == trusted;
    HttpHeaders headers;
    for (const auto& h : options_.headers) {
      if (trusted_host || lower(h.first) != "authorization") headers.push_back(h);
    }
    headers.insert(headers.end(), extra.begin(), extra.end());
    const HttpResponse head = client(at.origin).stream(
        method, at.target, headers, [&](const HttpResponse& h, std::string_view piece) {
          if (!is_redirect(h.status)) sink(h, piece);
        });
    const std::string location = head.header("Location");
    const std::string next =
        is_redirect(head.status) && !location.empty() ? resolve_location(url, location) : "";
    const bool follow =
        !next.empty() && (redirects == Redirects::kAll ||
                          (redirects == Redirects::kSameHost &&
                           origin_key(split_url(next).origin) == origin_key(at.origin)));
    if (!follow) return {head.status, head.headers, url, ""};
    check(hop < options_.max_redirects, url + ": more than " +
                                            std::to_string(options_.max_redirects) +
                                            " redirects (a redirect loop?)");
    url = next;
  }
}

FetchResult Fetcher::fetch(const std::string& method, const std::string& url, Redirects redirects,
                           const HttpHeaders& extra) {
  std::string body;
  FetchResult r =
      send(method, url, redirects, extra, [&](const HttpResponse&, std::string_view piece) {
        check(body.size() + piece.size() <= kHttpMaxBody, url + ": response body over 64 MiB");
        body.append(piece);
      });
  r.body = std::move(body);
  return r;
}

namespace {

using Get = std::function<FetchResult(const HttpHeaders& extra, const HttpClient::BodySink&)>;

// One GET (by `get`) of what `part` lacks, with a Range from its size: appends the body, starting
// over when the server ignores the Range. Throws HttpError when the transfer breaks off, r1::Error
// on an HTTP error status.
// 429 or 5xx: the server is busy or failing for now; worth another try after `wait_s`.
class ServerBusy : public Error {
 public:
  ServerBusy(const std::string& message, double wait_s) : Error(message), wait_s(wait_s) {}
  double wait_s;  // the server's Retry-After, or -1
};

// Retry-After in seconds (the delta form; an HTTP date or junk gives -1).
double retry_after_s(const std::string& v) {
  if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos || v.size() > 6)
    return -1;
  return std::stod(v);
}

void transfer(const DownloadTarget& t, PartFile& part, Progress& progress, const Get& get) {
  const int64_t from = part.size();
  HttpHeaders extra = {{"Accept-Encoding", "identity"}};
  if (from > 0) extra.emplace_back("Range", "bytes=" + std::to_string(from) + "-");
  std::string error_body;
  bool started = false;
  const FetchResult r = get(extra, [&](const HttpResponse& head, std::string_view piece) {
    if (head.status != 200 && head.status != 206) {
      if (error_body.size() < 4096) error_body.append(piece.substr(0, 4096));
      return;
    }
    if (!started && head.status == 206) check_content_range(head, from, t.label + ": " + t.url);
    if (!started && head.status == 200 && from > 0) part.truncate();  // the Range was ignored
    started = true;
    part.append(piece);
    const int64_t done = part.size();
    progress.update(done, megabytes(done));
  });
  if (r.status == 416 && from > 0) {  // the partial file is not a prefix of this file
    part.truncate();
    return transfer(t, part, progress, get);
  }
  if (r.status != 200 && r.status != 206) {
    const std::string why = reply_excerpt(error_body);
    const std::string message = t.label + ": GET " + r.url + ": HTTP " + std::to_string(r.status) +
                                (why.empty() ? "" : " (" + why + ")");
    if (r.status == 429 || r.status >= 500)
      throw ServerBusy(message, retry_after_s(r.header("Retry-After")));
    throw Error(message);
  }
  if (!started && r.status == 200 && from > 0) part.truncate();  // an empty file
}

// transfer() until `part` holds the whole file (its size when known, else the end of a whole
// response), resuming after each transfer that broke off with bytes received; a failure that
// brought nothing (no host, refused, a bad certificate) or the `attempts`-th is thrown.
void transfer_until_done(const DownloadTarget& t, PartFile& part, Progress& progress,
                         const Get& get, int attempts) {
  for (int attempt = 1;; ++attempt) {
    if (t.size >= 0 && part.size() == t.size) return;
    const int64_t before = part.size();
    try {
      return transfer(t, part, progress, get);
    } catch (const ServerBusy& e) {  // 429/5xx: wait (Retry-After, else backoff; at most 30 s)
      if (attempt >= attempts)
        throw Error(std::string(e.what()) + " (" + std::to_string(attempt) +
                    " tries; the server is busy or "
                    "failing: run again later" +
                    (part.size() > 0 ? " to resume from " + part.path() : "") + ")");
      const double wait = e.wait_s >= 0 ? e.wait_s : 0.5 * (1 << std::min(attempt, 6));
      std::this_thread::sleep_for(
          std::chrono::milliseconds(static_cast<int64_t>(std::min(wait, 30.0) * 1000)));
      continue;
    } catch (const HttpError& e) {
      const int64_t kept = part.size();
      if (attempt >= attempts || kept == before)
        throw Error(t.label + ": " + e.what() + " (" + std::to_string(attempt) + " tries" +
                    (kept > 0 ? "; run again to resume from the " + std::to_string(kept) +
                                    " bytes in " + part.path()
                              : "") +
                    ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt));  // a network blip
  }
}

}  // namespace

void Fetcher::download(const DownloadTarget& t) {
  std::error_code ec;
  if (fs::exists(t.path, ec)) return;
  const fs::path parent = fs::path(t.path).parent_path();
  if (!parent.empty()) fs::create_directories(parent);
  PartFile part(t.path + ".incomplete");
  if (fs::exists(t.path, ec)) {  // another process finished it while this one waited
    if (part.size() == 0) fs::remove(part.path(), ec);
    return;
  }
  if (t.size >= 0 && part.size() > t.size) part.truncate();
  Progress progress(t.label, std::max<int64_t>(t.size, 0),
                    options_.progress && Progress::stderr_is_terminal());
  auto get = [&](const HttpHeaders& extra, const HttpClient::BodySink& sink) {
    return send("GET", t.url, Redirects::kAll, extra, sink);
  };
  try {
    transfer_until_done(t, part, progress, get, options_.attempts);
  } catch (...) {  // bytes that arrived stay for the next run to resume; an empty file goes
    std::error_code ignored;
    if (part.size() == 0) fs::remove(part.path(), ignored);
    throw;
  }
  part.sync();
  const int64_t got = part.size();
  if (t.size >= 0 && got != t.size)
    discard(part, t.label + ": " + t.url + " gave " + std::to_string(got) + " bytes, expected " +
                      std::to_string(t.size) + " (nothing kept; run again to download it anew)");
  if (!t.sha256.empty()) {
    const std::string sha = sha256_file(part.path());
    if (sha != t.sha256)
      discard(part, t.label + ": sha256 of " + t.url + " is " + sha + ", expected " + t.sha256 +
                        " (nothing kept: the source changed or the transfer was corrupted)");
  }
  fs::rename(part.path(), t.path);
}

}  // namespace r1
