// Files over HTTP(S) for r1's downloads (hub checkpoints, benchmark data): redirects followed
// (Authorization kept for one trusted host), a transfer that breaks off resumed with a Range
// request from the bytes already on disk (in this run and the next), size and sha256 checked
// before the file takes its final name, a progress line on a terminal. Leaves out proxies,
// parallel ranges and content encodings (identity is asked for).
#pragma once

#include <cstdint>  // int64_t
#include <map>      // std::map
#include <string>   // std::string

#include "toolkit/http.h"  // r1::HttpClient, r1::HttpHeaders, r1::Url

namespace r1 {

struct FetchOptions {
  HttpHeaders headers;  // sent with every request, but Authorization only to `auth_origin`
  // The URL whose scheme, host and port may see Authorization (the hub's, not its CDN's); "": the
  // first URL of each request.
  std::string auth_origin;
  double timeout_s = 60;   // bounds connecting, each response header and each read
  std::string ca_file;     // PEM CA bundle in place of the system store ("" = system store)
  int max_redirects = 10;  // redirects followed per request
  int attempts = 5;        // tries of a transfer that breaks off mid-file or gets 429/5xx, in all
  bool progress = true;    // a progress line per download (only ever drawn on a terminal)
};

// Which redirects (301, 302, 303, 307, 308 with a Location) a request follows: all, those that
// stay on the same scheme, host and port (the hub's renamed-repo redirects; a CDN redirect is
// then returned as the answer), or none.
enum class Redirects { kAll, kSameHost, kNone };

struct FetchResult {
  int status = 0;
  HttpHeaders headers;
  std::string url;   // the URL that gave this answer (after the redirects followed)
  std::string body;  // the body of a non-redirect answer (at most kHttpMaxBody)
  // The first header called `name` (case-insensitive), "" if absent.
  std::string header(const std::string& name) const;
};

struct DownloadTarget {
  std::string url;
  std::string path;    // the final file; PATH.incomplete holds the bytes received so far
  int64_t size = -1;   // expected size in bytes, -1 when unknown
  std::string sha256;  // expected lowercase hex digest, "" to skip the check
  std::string label;   // what the progress line and the errors call the file
};

// Requests that share connections per origin (scheme, host, port): one Fetcher serves a whole
// model's files over one keep-alive connection. Not thread-safe.
class Fetcher {
 public:
  explicit Fetcher(FetchOptions options);

  // METHOD url (GET or HEAD) with `extra` headers, its body in memory. Throws HttpError on a
  // transport failure, r1::Error on a bad URL, a redirect loop or a body over kHttpMaxBody; an
  // HTTP error status is returned, not thrown.
  FetchResult fetch(const std::string& method, const std::string& url,
                    Redirects redirects = Redirects::kAll, const HttpHeaders& extra = {});

  // Downloads target.url to target.path (parent directories made). Bytes go to PATH.incomplete,
  // locked against a second process, and a broken transfer is resumed with Range from its size;
  // an existing PATH is left as it is. Throws r1::Error "LABEL: ..." naming the URL on an HTTP
  // error status, a size or sha256 mismatch (then nothing is kept), a transport failure that
  // brought no byte, or after `attempts` broken transfers (the bytes received are kept in
  // PATH.incomplete for the next run to resume).
  void download(const DownloadTarget& target);

 private:
  FetchResult send(const std::string& method, std::string url, Redirects redirects,
                   const HttpHeaders& extra, const HttpClient::BodySink& sink);
  HttpClient& client(const Url& origin);

  FetchOptions options_;
  std::map<std::string, HttpClient> clients_;  // by "scheme://host:port"
};

// An absolute URL split into what a connection needs and the request target (path and query,
// "/" when the URL has no path); throws r1::Error naming the URL for another scheme.
struct UrlTarget {
  Url origin;
  std::string target;
};
UrlTarget split_url(const std::string& url);
// The absolute URL a Location header means when received from `base` (absolute, "//host/x",
// "/x" or a relative path).
std::string resolve_location(const std::string& base, const std::string& location);
// What an error body says, on one line of at most ~200 characters: the message of a JSON
// {"error": "..."} or {"error": {"message": "..."}}, else the start of the text.
std::string reply_excerpt(const std::string& body);
// Percent-encodes all but RFC 3986's unreserved characters (and "/" when `keep_slash`), as
// Python's urllib.parse.quote does.
std::string url_encode(const std::string& text, bool keep_slash);

}  // namespace r1
