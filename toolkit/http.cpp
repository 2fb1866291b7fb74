// HTTP/1.1 client and server on Boost.Beast (see http.h). Each client and each server connection
// drives its own io_context on its own thread, so blocking callers get async timeouts
// (beast::tcp_stream expiry) without a shared event loop. Leaves out connection pools: a client is
// one connection, a server connection is one thread.
#include "toolkit/http.h"
#include "toolkit/http_request_reader.h"  // r1::HttpRequestParser, r1::request_read_status

#include <boost/asio/ip/tcp.hpp>  // tcp::acceptor, tcp::resolver
#include <boost/asio/post.hpp>    // net::post
#include <boost/asio/ssl.hpp>     // ssl::context
#include <boost/asio/write.hpp>   // net::write
#include <boost/beast/core.hpp>   // beast::tcp_stream, beast::flat_buffer
#include <boost/beast/http.hpp>   // http::request, http::response, parsers
#include <boost/beast/ssl.hpp>    // beast::ssl_stream

#include <openssl/ssl.h>       // SSL_set_tlsext_host_name
#include <openssl/x509_vfy.h>  // X509_VERIFY_PARAM_set1_host
#include <poll.h>              // poll, POLLRDHUP
#include <sys/socket.h>        // recv, MSG_PEEK

#include <algorithm>           // std::min
#include <atomic>              // std::atomic
#include <cctype>              // std::tolower
#include <chrono>              // std::chrono
#include <condition_variable>  // std::condition_variable
#include <cstdio>              // std::snprintf
#include <fstream>             // std::ifstream
#include <limits>              // std::numeric_limits
#include <list>                // std::list
#include <mutex>               // std::mutex
#include <optional>            // std::optional
#include <sstream>             // std::ostringstream
#include <thread>              // std::thread
#include <vector>              // std::vector

namespace r1 {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

Clock::duration to_duration(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

// Starts one async operation with `start(handler)`, runs `ioc` on this thread until it has nothing
// left to do (the operation and the tcp_stream timer it armed), and returns the operation's error.
template <class Start>
beast::error_code run_op(net::io_context& ioc, Start&& start) {
  beast::error_code result;
  start([&result](beast::error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  ioc.run();
  return result;
}

// "Connection refused" -> "connection refused", to continue a "URL: " message.
std::string describe(const beast::error_code& ec) {
  std::string m = ec.message();
  if (!m.empty()) m[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(m[0])));
  return m;
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

// Status, Retry-After and every header of a response header.
template <class Fields>
HttpResponse response_head(const http::header<false, Fields>& h) {
  HttpResponse r;
  r.status = static_cast<int>(h.result_int());
  r.retry_after = std::string(h[http::field::retry_after]);
  for (const auto& field : h)
    r.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  return r;
}

std::string find_header(const HttpHeaders& headers, const std::string& name) {
  for (const auto& [key, value] : headers) {
    if (beast::iequals(key, name)) return value;
  }
  return "";
}

HttpReply error_reply(int status, const std::string& message) {
  HttpReply reply;
  reply.status = status;
  reply.body = "{\"error\":{\"message\":\"" + json_escape(message) + "\"}}";
  return reply;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// URLs

Url parse_url(const std::string& text) {
  auto fail = [&](const std::string& why) { return Error("endpoint URL '" + text + "': " + why); };
  const size_t scheme_end = text.find("://");
  std::string scheme = text.substr(0, scheme_end == std::string::npos ? 0 : scheme_end);
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  Url url;
  if (scheme != "http" && scheme != "https") throw fail("expected http:// or https://");
  url.tls = scheme == "https";
  const std::string rest = text.substr(scheme_end + 3);
  for (char c : rest) {
    if (static_cast<unsigned char>(c) <= ' ')
      throw fail("contains whitespace or control characters");
  }
  if (rest.find_first_of("?#") != std::string::npos) {
    throw fail("query strings and fragments are not supported");
  }
  const size_t slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  if (authority.find('@') != std::string::npos)
    throw fail("credentials in the URL are not supported");
  if (!authority.empty() && authority[0] == '[') throw fail("IPv6 literals are not supported");
  const size_t colon = authority.find(':');
  url.host = authority.substr(0, colon);
  if (url.host.empty()) throw fail("missing host");
  url.port = colon == std::string::npos ? (url.tls ? "443" : "80") : authority.substr(colon + 1);
  const bool digits = !url.port.empty() && url.port.size() <= 5 &&
                      url.port.find_first_not_of("0123456789") == std::string::npos;
  if (!digits || std::stoi(url.port) < 1 || std::stoi(url.port) > 65535) {
    throw fail("bad port '" + url.port + "' (expected 1-65535)");
  }
  url.base_path = slash == std::string::npos ? "" : rest.substr(slash);
  while (!url.base_path.empty() && url.base_path.back() == '/') url.base_path.pop_back();
  return url;
}

// ---------------------------------------------------------------------------------------------
// Client

struct HttpClient::Impl {
  Url url;
  double timeout_s = 0;
  std::string origin;  // "http://host:port", the start of every error message
  net::io_context ioc;
  ssl::context tls_ctx{ssl::context::tls_client};
  // At most one of these is open; both empty means no connection. Declared after ioc: destroyed
  // before it.
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;

  bool connected() const { return plain || tls; }
  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }

  // Calls f(stream) with the open stream, whichever its type.
  template <class F>
  beast::error_code with_stream(F&& f) {
    return tls ? f(*tls) : f(*plain);
  }

  std::string failure(const beast::error_code& ec) const {
    if (ec == beast::error::timeout) {
      std::ostringstream s;
      s << "timed out after " << timeout_s << "s";
      return s.str();
    }
    if (ec == http::error::end_of_stream)
      return "the server closed the connection without a response";
    if (ec == http::error::body_limit) return "response body over 64 MiB";
    if (ec == http::error::partial_message)
      return "the connection closed before the whole response arrived";
    if (is_http_error(ec)) return "malformed response: " + ec.message();
    return describe(ec);
  }

  http::request<http::string_body> make_request(http::verb verb, const std::string& target,
                                                const std::string& body,
                                                const HttpHeaders& headers) const {
    http::request<http::string_body> req{verb, target, 11};
    const bool default_port = url.port == (url.tls ? "443" : "80");
    req.set(http::field::host, default_port ? url.host : url.host + ":" + url.port);
    req.set(http::field::user_agent, "r1");
    if (!body.empty()) req.set(http::field::content_type, "application/json");
    for (const auto& [name, value] : headers) req.set(name, value);
    req.body() = body;
    req.prepare_payload();
    return req;
  }

  // Reads the body after the header into `sink` as it arrives, at most 64 KiB at a time (also
  // the last pieces before a failure), each read bounded by `deadline` or else by the timeout
  // anew; the response's head.
  HttpResponse read_body(http::response_parser<http::buffer_body>& parser, const std::string& where,
                         std::optional<Clock::time_point> deadline,
                         const HttpClient::BodySink& sink) {
    const HttpResponse head = response_head(parser.get().base());
    std::vector<char> chunk(size_t{64} << 10);
    beast::error_code ec;
    try {
      while (!ec && !parser.is_done()) {
        parser.get().body().data = chunk.data();
        parser.get().body().size = chunk.size();
        ec = with_stream([&](auto& stream) {
          auto& socket = beast::get_lowest_layer(stream);
          deadline ? socket.expires_at(*deadline) : socket.expires_after(to_duration(timeout_s));
          // read_some: each piece reaches the sink as it arrives (a streamed reply's events).
          return run_op(ioc, [&](auto h) { http::async_read_some(stream, buffer, parser, h); });
        });
        const size_t n = chunk.size() - parser.get().body().size;
        if (n > 0) sink(head, std::string_view(chunk.data(), n));
        if (ec == http::error::need_buffer) ec = {};
        // A TLS server may close without close_notify after a body that ends at end of stream.
        if (ec == ssl::error::stream_truncated && parser.need_eof()) parser.put_eof(ec);
      }
    } catch (...) {  // the sink failed: the rest of the body is still on the wire
      close();
      throw;
    }
    if (ec) {
      close();
      throw HttpError(where + ": " + failure(ec));
    }
    if (!parser.get().keep_alive()) close();
    return head;
  }

  // Sends METHOD base_path+path and reads the answer: the header, then the body into `sink`.
  // `whole` (request()): the timeout bounds the whole exchange and the body is limited to
  // kHttpMaxBody; else (stream()) it bounds connecting and the header, then each read. A request
  // on a reused connection that fails before any response byte arrived (and did not time out) is
  // sent once more on a fresh connection: the server had closed it while idle.
  HttpResponse exchange(const std::string& method, const std::string& path, const std::string& body,
                        const HttpHeaders& headers, bool whole, const HttpClient::BodySink& sink) {
    const std::string target = url.base_path + path;
    const std::string where = origin + target;
    const http::verb verb = http::string_to_verb(method);
    check(verb != http::verb::unknown, where + ": unknown HTTP method '" + method + "'");
    const auto req = make_request(verb, target, body, headers);
    const Clock::time_point deadline = Clock::now() + to_duration(timeout_s);
    for (int attempt = 0;; ++attempt) {
      const bool reused = connected();
      if (!reused) connect(deadline, where);
      http::response_parser<http::buffer_body> parser;
      parser.header_limit(kHttpMaxHeader);
      parser.body_limit(whole ? kHttpMaxBody : std::numeric_limits<std::uint64_t>::max());
      if (verb == http::verb::head) parser.skip(true);
      const beast::error_code ec = with_stream([&](auto& stream) {
        beast::get_lowest_layer(stream).expires_at(deadline);
        beast::error_code ec = run_op(ioc, [&](auto h) { http::async_write(stream, req, h); });
        if (!ec)
          ec = run_op(ioc, [&](auto h) { http::async_read_header(stream, buffer, parser, h); });
        return ec;
      });
      if (!ec)
        return read_body(parser, where, whole ? std::optional(deadline) : std::nullopt, sink);
      const bool stale = reused && attempt == 0 && ec != beast::error::timeout &&
                         !parser.got_some() && buffer.size() == 0;
      close();
      if (!stale) throw HttpError(where + ": " + failure(ec));
    }
  }

  void close() {
    beast::error_code ignored;
    if (connected()) lowest().socket().close(ignored);
    tls.reset();
    plain.reset();
    buffer.clear();
  }

  // Opens a fresh connection (and TLS session) that must be up by `deadline`.
  void connect(Clock::time_point deadline, const std::string& where) {
    close();
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    const auto endpoints = resolver.resolve(url.host, url.port, ec);
    if (ec) throw HttpError(where + ": cannot resolve host '" + url.host + "': " + describe(ec));
    beast::tcp_stream& stream =
        url.tls ? beast::get_lowest_layer(tls.emplace(ioc, tls_ctx)) : plain.emplace(ioc);
    stream.expires_at(deadline);
    ec = run_op(ioc, [&](auto handler) { stream.async_connect(endpoints, handler); });
    if (!ec) stream.socket().set_option(tcp::no_delay(true), ec);
    if (!ec && url.tls) {
      // SNI for names only (RFC 6066); OpenSSL checks the certificate against the name or IP.
      SSL* session = tls->native_handle();
      X509_VERIFY_PARAM* param = SSL_get0_param(session);
      beast::error_code not_ip;
      net::ip::make_address(url.host, not_ip);
      const bool ok = not_ip ? SSL_set_tlsext_host_name(session, url.host.c_str()) == 1 &&
                                   X509_VERIFY_PARAM_set1_host(param, url.host.c_str(), 0) == 1
                             : X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str()) == 1;
      if (!ok) {
        close();
        throw HttpError(where + ": cannot set up TLS for host '" + url.host + "'");
      }
      ec = run_op(ioc,
                  [&](auto handler) { tls->async_handshake(ssl::stream_base::client, handler); });
      if (ec && ec != beast::error::timeout) {
        close();
        throw HttpError(where + ": TLS handshake failed: " + describe(ec));
      }
    }
    if (ec) {
      close();
      throw HttpError(where + ": " + failure(ec));
    }
  }
};

HttpClient::HttpClient(Url url, double timeout_s, const std::string& ca_file)
    : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  s.url = std::move(url);
  s.timeout_s = timeout_s;
  s.origin = (s.url.tls ? "https://" : "http://") + s.url.host + ":" + s.url.port;
  check(timeout_s > 0,
        s.origin + ": HTTP timeout must be > 0 seconds, got " + std::to_string(timeout_s));
  if (s.url.tls) {
    beast::error_code ec;
    s.tls_ctx.set_verify_mode(ssl::verify_peer);
    if (ca_file.empty()) {
      s.tls_ctx.set_default_verify_paths(ec);
      if (ec) throw Error(s.origin + ": cannot load the system CA certificates: " + describe(ec));
    } else {
      check(std::ifstream(ca_file).good(), "CA file '" + ca_file + "': cannot read it");
      s.tls_ctx.load_verify_file(ca_file, ec);
      if (ec) throw Error("CA file '" + ca_file + "': no PEM certificate in it");
    }
  }
}

HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

const Url& HttpClient::url() const { return impl_->url; }

HttpResponse HttpClient::request(const std::string& method, const std::string& path,
                                 const std::string& body, const HttpHeaders& headers) {
  std::string received;
  HttpResponse res =
      impl_->exchange(method, path, body, headers, /*whole=*/true,
                      [&](const HttpResponse&, std::string_view piece) { received.append(piece); });
  res.body = std::move(received);
  return res;
}

HttpResponse HttpClient::stream(const std::string& method, const std::string& path,
                                const HttpHeaders& headers, const BodySink& sink,
                                const std::string& body) {
  return impl_->exchange(method, path, body, headers, /*whole=*/false, sink);
}

std::string HttpResponse::header(const std::string& name) const {
  return find_header(headers, name);
}

// ---------------------------------------------------------------------------------------------
// Server

std::string HttpRequest::header(const std::string& name) const {
  return find_header(headers, name);
}

namespace {

// One accepted connection, served by its own thread on its own io_context.
struct Connection {
  net::io_context ioc;
  std::optional<beast::tcp_stream> stream;  // after ioc: destroyed before it
  std::thread thread;
  std::atomic<bool> done{false};
  std::atomic<bool> busy{false};  // a request has begun arriving, is handled or answered
};

// The 503 of a server whose every connection is busy: a JSON body and when to come back.
std::string busy_reply(size_t connections) {
  const std::string body = "{\"error\": {\"message\": \"server busy: all " +
                           std::to_string(connections) +
                           " connections are serving requests; retry shortly\", \"type\": "
                           "\"server_busy\"}}";
  return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: "
         "1\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

}  // namespace

struct HttpServer::Impl {
  std::string host;
  int port = 0;  // the bound port, also after stop()
  Handler handler;
  size_t max_connections = 0;
  Clock::duration idle_timeout = std::chrono::seconds(60);
  // From a new connection to its first request's complete header, and from a kept-alive
  // connection's first byte of a request to its complete header (D1: slow or silent clients).
  Clock::duration header_timeout = std::chrono::seconds(5);

  net::io_context accept_ioc;
  tcp::acceptor acceptor{accept_ioc};
  std::thread accept_thread;
  std::atomic<bool> stopping{false};
  std::atomic<size_t> accepted{0};

  std::mutex stop_mu;  // serialises stop()
  std::mutex mu;       // guards connections and stopped
  std::condition_variable stopped_cv;
  std::list<std::shared_ptr<Connection>> connections;
  std::list<std::shared_ptr<Connection>> closing;  // evicted idle ones, joined once done
  bool stopped = false;

  void accept_next();
  void admit(std::shared_ptr<Connection> conn, tcp::socket socket);
  void reap_done();
  bool evict_idle();
  beast::error_code wait_for_request(Connection& c, beast::flat_buffer& buffer, bool first);
  void serve(Connection& c);
  HttpReply call_handler(const HttpRequest& req);
  beast::error_code write_reply(Connection& c, HttpReply reply, unsigned version, bool keep_alive,
                                bool head = false);
  beast::error_code write_streamed(Connection& c, HttpReply reply, unsigned version,
                                   bool keep_alive, bool head);
  void stop();
};

void HttpServer::Impl::accept_next() {
  auto conn = std::make_shared<Connection>();
  acceptor.async_accept(conn->ioc, [this, conn](beast::error_code ec, tcp::socket socket) {
    if (stopping || !acceptor.is_open()) return;
    if (ec) std::this_thread::sleep_for(std::chrono::milliseconds(10));  // e.g. out of fds
    if (!ec) admit(conn, std::move(socket));
    accept_next();
  });
}

// Joins the connections whose thread has ended (under mu).
void HttpServer::Impl::reap_done() {
  for (auto* list : {&connections, &closing})
    list->remove_if([](const std::shared_ptr<Connection>& c) {
      if (!c->done) return false;
      c->thread.join();
      return true;
    });
}

// At the limit, the oldest connection that waits for its next request gives up its slot: idle
// keep-alive sockets must not keep new clients out (D1). False when every one is busy (under mu).
bool HttpServer::Impl::evict_idle() {
  for (auto it = connections.begin(); it != connections.end(); ++it) {
    Connection* c = it->get();
    if (c->busy || c->done) continue;
    net::post(c->ioc, [c] {
      beast::error_code ignored;
      c->stream->socket().close(ignored);
    });
    closing.splice(closing.end(), connections, it);
    return true;
  }
  return false;
}

void HttpServer::Impl::admit(std::shared_ptr<Connection> conn, tcp::socket socket) {
  ++accepted;
  std::lock_guard lock(mu);
  reap_done();
  if (connections.size() >= max_connections && !evict_idle()) {
    beast::error_code ignored;
    net::write(socket, net::buffer(busy_reply(connections.size())), ignored);
    return;  // the socket closes here
  }
  conn->stream.emplace(std::move(socket));
  try {
    conn->thread = std::thread([this, c = conn.get()] {
      serve(*c);
      c->done = true;
    });
  } catch (const std::system_error&) {
    return;  // out of threads: drop this connection, keep serving the others
  }
  connections.push_back(std::move(conn));
}

HttpReply HttpServer::Impl::call_handler(const HttpRequest& req) {
  std::string error;
  try {
    HttpReply reply = handler(req);
    if (reply.status >= 100 && reply.status <= 999) return reply;
    error = "handler returned HTTP status " + std::to_string(reply.status);
  } catch (const std::exception& e) {
    error = e.what();
  } catch (...) {
    error = "unknown exception in handler";
  }
  return error_reply(500, error);
}

namespace {

// A reply's status line and headers, whichever its body.
template <class Body>
void set_head(http::response<Body>& res, const HttpReply& reply, unsigned version,
              bool keep_alive) {
  res.version(version);
  res.result(static_cast<unsigned>(reply.status));
  res.set(http::field::server, "r1");
  res.set(http::field::content_type, reply.content_type);
  for (const auto& [name, value] : reply.headers) res.set(name, value);
  res.keep_alive(keep_alive);
}

}  // namespace

beast::error_code HttpServer::Impl::write_reply(Connection& c, HttpReply reply, unsigned version,
                                                bool keep_alive, bool head) {
  if (reply.stream) return write_streamed(c, std::move(reply), version, keep_alive, head);
  const size_t cut = std::min(reply.cut_after, reply.body.size());
  http::response<http::string_body> res;
  set_head(res, reply, version, keep_alive);
  res.body() = std::move(reply.body);
  res.prepare_payload();
  c.stream->expires_after(idle_timeout);
  if (!head && cut == res.body().size())
    return run_op(c.ioc, [&](auto h) { http::async_write(*c.stream, res, h); });
  // HEAD: the header alone; the cut_after hook: the header and the first `cut` body bytes.
  http::response_serializer<http::string_body> serializer{res};
  auto ec = run_op(c.ioc, [&](auto h) { http::async_write_header(*c.stream, serializer, h); });
  if (!ec && !head) {
    ec = run_op(c.ioc, [&](auto h) {
      net::async_write(*c.stream, net::buffer(res.body().data(), cut), h);
    });
  }
  return ec;
}

beast::error_code HttpServer::Impl::write_streamed(Connection& c, HttpReply reply, unsigned version,
                                                   bool keep_alive, bool head) {
  if (version < 11 || head) {  // no chunked encoding: the pieces become one body
    std::string body;
    reply.stream([&body](std::string_view piece) {
      body.append(piece);
      return true;
    });
    reply.stream = nullptr;
    reply.body = std::move(body);
    return write_reply(c, std::move(reply), version, keep_alive, head);
  }
  http::response<http::empty_body> res;
  set_head(res, reply, version, keep_alive);
  res.chunked(true);
  http::response_serializer<http::empty_body> serializer{res};
  c.stream->expires_after(idle_timeout);
  beast::error_code ec =
      run_op(c.ioc, [&](auto h) { http::async_write_header(*c.stream, serializer, h); });
  try {
    reply.stream([&](std::string_view piece) {
      if (ec) return false;
      if (piece.empty()) return true;  // an empty chunk would end the body
      c.stream->expires_after(idle_timeout);
      ec = run_op(c.ioc, [&](auto h) {
        net::async_write(*c.stream, http::make_chunk(net::const_buffer(piece.data(), piece.size())),
                         h);
      });
      return !ec;
    });
  } catch (...) {  // the header is out: the only way left to say it failed is to drop the body
    return net::error::connection_aborted;
  }
  if (!ec)
    ec = run_op(c.ioc, [&](auto h) { net::async_write(*c.stream, http::make_chunk_last(), h); });
  return ec;
}

// Whether the peer has closed the connection (an end of stream or an error is waiting), without
// taking any byte a pipelined request may have sent.
bool peer_closed(beast::tcp_stream& stream) {
  const int fd = stream.socket().native_handle();
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLHUP | POLLERR | POLLRDHUP)) return true;
  char c;
  return ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

// Waits for the first byte of the next request (a new connection: header_timeout; a kept-alive
// one: idle_timeout), then marks the connection busy. Bytes already buffered count.
beast::error_code HttpServer::Impl::wait_for_request(Connection& c, beast::flat_buffer& buffer,
                                                     bool first) {
  beast::error_code ec;
  if (buffer.size() == 0) {
    c.stream->expires_after(first ? header_timeout : idle_timeout);
    ec = run_op(c.ioc, [&](auto h) {
      c.stream->async_read_some(buffer.prepare(4096),
                                [&buffer, h](beast::error_code e, size_t n) mutable {
                                  buffer.commit(n);
                                  h(e, n);
                                });
    });
  }
  if (!ec) c.busy = true;
  return ec;
}

void HttpServer::Impl::serve(Connection& c) {
  beast::tcp_stream& stream = *c.stream;
  beast::flat_buffer buffer;
  bool reset = false;
  for (bool first = true; !stopping; first = false) {
    c.busy = false;
    if (wait_for_request(c, buffer, first)) break;
    HttpRequestParser parser;
    limit_request_parser(parser);
    stream.expires_after(header_timeout);
    auto ec = run_op(c.ioc, [&](auto h) { http::async_read_header(stream, buffer, parser, h); });
    stream.expires_after(idle_timeout);  // the body may be large: the idle bound per read
    if (!ec && !parser.is_done()) {
      if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
        http::response<http::empty_body> go_on{http::status::continue_, 11};
        ec = run_op(c.ioc, [&](auto h) { http::async_write(stream, go_on, h); });
      }
      if (!ec) ec = run_op(c.ioc, [&](auto h) { http::async_read(stream, buffer, parser, h); });
    }
    std::string why;
    if (const int status = request_read_status(ec, &why))
      write_reply(c, error_reply(status, why), 11, false);
    if (ec) break;

    const bool request_keep_alive = parser.get().keep_alive();
    const unsigned version = parser.get().version();
    const bool head = parser.get().method() == http::verb::head;
    HttpRequest req = to_http_request(parser, [&stream] { return peer_closed(stream); });
    HttpReply reply = call_handler(req);
    if (reply.reset) {
      reset = true;
      break;
    }
    const bool cut = reply.cut_after < reply.body.size();
    const bool keep_alive = request_keep_alive && !stopping && !cut;
    if (write_reply(c, std::move(reply), version, keep_alive, head) || !keep_alive) break;
  }
  beast::error_code ignored;
  if (reset) {
    stream.socket().set_option(net::socket_base::linger(true, 0), ignored);  // close sends RST
  } else {
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }
  stream.close();
}

void HttpServer::Impl::stop() {
  std::lock_guard stop_lock(stop_mu);
  {
    std::lock_guard lock(mu);
    if (stopped) return;
  }
  stopping = true;
  if (accept_thread.joinable()) {
    net::post(accept_ioc, [this] {
      beast::error_code ignored;
      acceptor.close(ignored);
    });
    accept_thread.join();
  } else {
    beast::error_code ignored;
    acceptor.close(ignored);
  }
  std::list<std::shared_ptr<Connection>> open;
  {
    std::lock_guard lock(mu);
    open.swap(connections);
    open.splice(open.end(), closing);
  }
  // The close runs on the connection's own thread: at once if it waits for a request, after the
  // handler and the reply write if a handler is running.
  for (const auto& c : open) {
    net::post(c->ioc, [c = c.get()] {
      beast::error_code ignored;
      c->stream->socket().close(ignored);
    });
  }
  for (const auto& c : open) c->thread.join();
  {
    std::lock_guard lock(mu);
    stopped = true;
  }
  stopped_cv.notify_all();
}

HttpServer::HttpServer(std::string host, int port, Handler handler, int max_connections)
    : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  const std::string where = host + ":" + std::to_string(port);
  check(port >= 0 && port <= 65535, "cannot listen on " + where + ": bad port");
  check(max_connections > 0, "cannot listen on " + where + ": max_connections must be > 0");
  s.host = std::move(host);
  s.handler = std::move(handler);
  s.max_connections = static_cast<size_t>(max_connections);

  beast::error_code ec;
  tcp::resolver resolver(s.accept_ioc);
  const auto results = resolver.resolve(
      s.host, std::to_string(port), tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (!ec && results.empty()) ec = net::error::host_not_found;
  if (!ec) {
    const tcp::endpoint endpoint = *results.begin();
    s.acceptor.open(endpoint.protocol(), ec);
    if (!ec) s.acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) s.acceptor.bind(endpoint, ec);
    if (!ec) s.acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (!ec) s.port = s.acceptor.local_endpoint(ec).port();
  }
  if (ec) throw Error("cannot listen on " + where + ": " + describe(ec));
}

HttpServer::~HttpServer() { stop(); }

int HttpServer::port() const { return impl_->port; }

void HttpServer::set_idle_timeout(double seconds) { impl_->idle_timeout = to_duration(seconds); }
void HttpServer::set_header_timeout(double seconds) {
  impl_->header_timeout = to_duration(seconds);
}

void HttpServer::start() {
  Impl& s = *impl_;
  check(!s.accept_thread.joinable() && !s.stopping,
        "HttpServer::start: already started or stopped");
  s.accept_next();
  s.accept_thread = std::thread([&s] { s.accept_ioc.run(); });
}

void HttpServer::stop() { impl_->stop(); }

void HttpServer::wait() {
  std::unique_lock lock(impl_->mu);
  impl_->stopped_cv.wait(lock, [&] { return impl_->stopped; });
}

size_t HttpServer::connections_accepted() const { return impl_->accepted; }

}  // namespace r1
