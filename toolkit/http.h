// HTTP/1.1 plumbing on Boost.Beast: a keep-alive client (http and https, peer and host name
// verified) for OpenAI-style endpoints and streamed downloads, and a thread-per-connection server
// for r1's own endpoints and test fakes. Leaves out HTTP/2, proxies, redirects (download.h follows
// them), chunked uploads, IPv6 literals and TLS on the server side (put a reverse proxy in front).
#pragma once

#include <cstddef>      // size_t
#include <functional>   // std::function
#include <memory>       // std::unique_ptr
#include <string>       // std::string
#include <string_view>  // std::string_view
#include <utility>      // std::pair
#include <vector>       // std::vector

#include "toolkit/error.h"  // r1::Error

namespace r1 {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// Request and response bodies above this size are refused (413 on the server, HttpError on the
// client).
constexpr size_t kHttpMaxBody = size_t{64} << 20;
// Request and response headers above this size are refused the same way.
constexpr unsigned kHttpMaxHeader = 64 << 10;

// An endpoint such as "https://api.example.com/v1" split into what a connection needs.
struct Url {
  bool tls = false;       // https
  std::string host;       // name or IPv4 address, no brackets
  std::string port;       // "80" / "443" when the URL names none
  std::string base_path;  // "" or "/v1": no trailing slash, request paths are appended to it
};

// Parses "http[s]://host[:port][/base/path][/]"; throws r1::Error("endpoint URL 'X': ...") for
// another scheme, a missing host, a bad port, credentials, a query or a fragment.
Url parse_url(const std::string& url);

struct HttpResponse {
  int status = 0;
  std::string body;
  std::string retry_after;  // the Retry-After header, "" when absent
  HttpHeaders headers;      // every response header, in the order received
  // The first header called `name` (case-insensitive), "" if absent.
  std::string header(const std::string& name) const;
};

// A transport failure: connection refused or reset, timeout, TLS or certificate failure, a
// malformed or oversized response. The message names the URL: "http://h:80/v1/x: timed out after
// 30s". HTTP error statuses are not HttpErrors: they come back in HttpResponse::status.
class HttpError : public Error {
 public:
  using Error::Error;
};

// One persistent keep-alive connection to one endpoint, opened on the first request and reopened
// when the server has closed it: a request on a reused connection that fails before any response
// byte arrives (but did not time out) is sent once more on a fresh connection. Not thread-safe:
// use one client per thread.
class HttpClient {
 public:
  // `timeout_s` bounds each request() as a whole: connect, TLS handshake, write and read (DNS
  // lookup is bounded by the system resolver). `ca_file` (PEM) replaces the system trust store.
  HttpClient(Url url, double timeout_s, const std::string& ca_file = "");
  ~HttpClient();
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;

  // Sends METHOD base_path+path with `body` (Content-Type application/json unless `headers` says
  // otherwise) and returns the response, whatever its status. Throws HttpError on transport
  // failure, r1::Error on an unknown method.
  HttpResponse request(const std::string& method, const std::string& path, const std::string& body,
                       const HttpHeaders& headers = {});

  // A request whose response body is handed to `sink` piece by piece as it arrives, with the
  // response's status and headers, and without a size limit (the returned body stays empty): for
  // downloads (GET, HEAD) and streamed completions (POST with `body`, Server-Sent Events).
  // `timeout_s` bounds connecting and the header, then each read on its own, not the whole
  // transfer. A failure after part of the body reached `sink` throws HttpError too (a download
  // resumes with a Range header); an exception from `sink` closes the connection and propagates.
  using BodySink = std::function<void(const HttpResponse& head, std::string_view piece)>;
  HttpResponse stream(const std::string& method, const std::string& path,
                      const HttpHeaders& headers, const BodySink& sink,
                      const std::string& body = "");

  const Url& url() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct HttpRequest {
  std::string method;  // "POST"
  std::string target;  // path and query as sent: "/v1/completions?x=1"
  std::string body;
  HttpHeaders headers;
  // HttpServer: whether the client has closed its connection (a handler that waits long can
  // stop working for nobody); call on the handler's thread. Empty elsewhere.
  std::function<bool()> client_gone;
  // The first header called `name` (case-insensitive), "" if absent.
  std::string header(const std::string& name) const;
};

struct HttpReply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  bool reset = false;  // test hook: drop the connection with a TCP RST instead of answering
  // Test hook: send the header (Content-Length of the whole body) and only this many body bytes,
  // then close the connection, as a transfer broken mid-file.
  size_t cut_after = std::string::npos;
  HttpHeaders headers;  // extra headers, e.g. {"Retry-After", "2"}
  // A body produced while it is sent (Server-Sent Events): when set, the server sends the header
  // (Transfer-Encoding: chunked) and then calls it on the connection's thread; each write(piece)
  // sends one chunk at once and returns false once the connection has failed, so the producer
  // can stop. `body` and `cut_after` are unused. An HTTP/1.0 request or a HEAD gets the pieces
  // gathered into one body. An exception from the producer drops the connection.
  using ChunkWriter = std::function<bool(std::string_view piece)>;
  std::function<void(const ChunkWriter& write)> stream;
};

// Serves `handler` on HOST:PORT, one thread per connection with keep-alive, so a handler may block
// for minutes (waiting for a model) without holding up other connections. Malformed requests get
// 400 and oversized bodies 413, then the connection is closed; a handler exception becomes 500
// {"error":{"message":...}}; connections beyond `max_connections` get 503. A HEAD request gets
// the header of the handler's reply (its Content-Length that of the body) without the body.
class HttpServer {
 public:
  using Handler = std::function<HttpReply(const HttpRequest&)>;

  // Binds and listens now (port 0 picks a free port, see port()); throws r1::Error("cannot listen
  // on HOST:PORT: reason").
  HttpServer(std::string host, int port, Handler handler, int max_connections = 256);
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const;
  // Idle keep-alive connections (and clients that stall mid-request) are closed after this many
  // seconds; default 60. Set before start().
  void set_idle_timeout(double seconds);
  // A new connection must send its first request's whole header within this many seconds, and a
  // kept-alive one a request's header within it from the request's first byte; default 5. Set
  // before start(). At max_connections, a connection waiting for its next request is closed to
  // admit a new one; only when every connection is busy does a new one get 503 (with a JSON
  // body and Retry-After).
  void set_header_timeout(double seconds);
  // Starts accepting on a background thread.
  void start();
  // Closes the listener and every connection and joins all threads. Connections waiting for a
  // request close at once; a handler already running is waited for (its reply may be lost).
  // Idempotent; safe to call from any thread other than a handler.
  void stop();
  // Blocks until stop() has finished (for a server's main thread).
  void wait();
  // Connections accepted since construction (for tests of keep-alive reuse).
  size_t connections_accepted() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace r1
