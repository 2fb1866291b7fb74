// HttpClient against HttpServer on loopback: round trips, keep-alive reuse and reconnection,
// resets, timeouts (silent and trickling servers), refused connections, 32 concurrent clients,
// bad requests, stop(); and HTTPS against a python3 server with a throwaway self-signed
// certificate.
#include "toolkit/http.h"
#include "toolkit/http_request_reader.h"  // r1::read_http_requests
#include "toolkit/sse.h"                  // r1::SseReader

#include <arpa/inet.h>   // inet_pton
#include <netinet/in.h>  // sockaddr_in
#include <poll.h>        // poll
#include <signal.h>      // kill
#include <sys/socket.h>  // socket, connect, setsockopt
#include <sys/wait.h>    // waitpid
#include <unistd.h>      // fork, execlp, pipe

#include <atomic>   // std::atomic
#include <chrono>   // std::chrono
#include <cstdlib>  // std::system
#include <thread>   // std::thread

#include "tests/test_util.h"  // test::TempDir

namespace r1 {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

Url local(int port, const std::string& base = "/v1") {
  return parse_url("http://127.0.0.1:" + std::to_string(port) + base);
}

// The message of the HttpError that `f` throws ("" and a test failure if it throws none).
template <class F>
std::string http_error(F&& f) {
  try {
    f();
  } catch (const HttpError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an HttpError";
  return "";
}

// Replies "METHOD TARGET content-type user-agent x-test|BODY".
HttpReply echo(const HttpRequest& req) {
  HttpReply reply;
  reply.body = req.method + " " + req.target + " " + req.header("content-type") + " " +
               req.header("USER-AGENT") + " " + req.header("x-test") + "|" + req.body;
  return reply;
}

// A started server on a free loopback port.
struct Served {
  explicit Served(HttpServer::Handler handler, int max_connections = 256)
      : server("127.0.0.1", 0, std::move(handler), max_connections) {
    server.start();
  }
  HttpServer server;
};

// Sends raw bytes on a fresh loopback connection and returns all the server sends back before
// closing (a 5 s receive timeout keeps a broken server from hanging the test).
std::string raw_exchange(int port, const std::string& bytes) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size())) {
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

TEST(ParseUrl, SplitsSchemeHostPortAndBasePath) {
  Url u = parse_url("http://h:8000/v1/");
  EXPECT_FALSE(u.tls);
  EXPECT_EQ(u.host, "h");
  EXPECT_EQ(u.port, "8000");
  EXPECT_EQ(u.base_path, "/v1");
  u = parse_url("https://api.example.com");
  EXPECT_TRUE(u.tls);
  EXPECT_EQ(u.host, "api.example.com");
  EXPECT_EQ(u.port, "443");
  EXPECT_EQ(u.base_path, "");
  u = parse_url("HTTP://127.0.0.1/a/b//");
  EXPECT_FALSE(u.tls);
  EXPECT_EQ(u.port, "80");
  EXPECT_EQ(u.base_path, "/a/b");
  EXPECT_EQ(parse_url("http://h/").base_path, "");
}

TEST(ParseUrl, RejectsBadUrlsNamingThem) {
  const std::pair<std::string, std::string> bad[] = {
      {"", "expected http:// or https://"},
      {"ftp://h/x", "expected http:// or https://"},
      {"localhost:8000", "expected http:// or https://"},
      {"http://", "missing host"},
      {"http://:80/v1", "missing host"},
      {"http://h:abc", "bad port 'abc'"},
      {"http://h:", "bad port ''"},
      {"http://h:0", "bad port '0'"},
      {"http://h:70000", "bad port '70000'"},
      {"http://user:pw@h/v1", "credentials"},
      {"http://h/v1?key=x", "query"},
      {"http://[::1]:80", "IPv6"},
      {"http://h /v1", "whitespace"},
  };
  for (const auto& [url, why] : bad) {
    try {
      parse_url(url);
      ADD_FAILURE() << "accepted " << url;
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_EQ(msg.rfind("endpoint URL '" + url + "': ", 0), 0u) << msg;
      EXPECT_NE(msg.find(why), std::string::npos) << msg;
    }
  }
}

TEST(Http, RoundTripCarriesMethodPathHeadersBodyAndStatus) {
  Served s([](const HttpRequest& req) {
    HttpReply reply = echo(req);
    if (req.target == "/v1/limited") {
      reply.status = 429;
      reply.headers = {{"Retry-After", "7"}};
    }
    return reply;
  });
  HttpClient client(local(s.server.port(), "/v1/"), 5);
  HttpResponse r = client.request("POST", "/echo", R"({"a":1})", {{"X-Test", "yes"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"(POST /v1/echo application/json r1 yes|{"a":1})");
  EXPECT_EQ(r.retry_after, "");

  r = client.request("GET", "/models?x=1", "");
  EXPECT_EQ(r.body, "GET /v1/models?x=1  r1 |");  // no Content-Type without a body

  r = client.request("POST", "/limited", "{}");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.retry_after, "7");

  const std::string big(3 << 20, 'x');  // 3 MiB each way
  r = client.request("POST", "/big", big);
  EXPECT_EQ(r.body, "POST /v1/big application/json r1 |" + big);

  EXPECT_THROW(client.request("FROB", "/x", ""), Error);
}

// A streamed reply (HttpReply::stream): each write reaches the client as it is made, in chunked
// encoding, and the connection stays usable afterwards; a POST body goes with stream(). An
// HTTP/1.0 client gets the pieces as one body; a producer that throws drops the connection.
TEST(Http, StreamedRepliesArriveAsTheyAreWritten) {
  Served s([](const HttpRequest& req) {
    HttpReply reply;
    reply.content_type = "text/event-stream";
    const bool fail = req.target == "/v1/fail";
    reply.stream = [body = req.body, fail](const HttpReply::ChunkWriter& write) {
      for (int i = 0; i < 3; ++i) {
        if (!write(body + std::to_string(i) + ";")) return;
        if (fail) throw Error("mid-stream failure");
        std::this_thread::sleep_for(150ms);
      }
    };
    return reply;
  });
  HttpClient client(local(s.server.port()), 5);
  std::vector<std::pair<std::string, double>> pieces;
  const auto start = Clock::now();
  const HttpResponse head = client.stream(
      "POST", "/events", {},
      [&](const HttpResponse& h, std::string_view p) {
        EXPECT_EQ(h.header("content-type"), "text/event-stream");
        pieces.emplace_back(std::string(p), seconds_since(start));
      },
      "ab");
  EXPECT_EQ(head.status, 200);
  std::string all;
  for (const auto& [p, t] : pieces) all += p;
  EXPECT_EQ(all, "ab0;ab1;ab2;");
  ASSERT_GE(pieces.size(), 3u);  // one read per chunk at least: they were 150 ms apart
  EXPECT_LT(pieces.front().second, 0.15);
  EXPECT_GT(pieces.back().second, 0.25);
  // The connection is reused for the next request; request() reads a streamed reply whole.
  EXPECT_EQ(client.request("POST", "/again", "c").body, "c0;c1;c2;");
  EXPECT_EQ(s.server.connections_accepted(), 1u);
  // HTTP/1.0 has no chunked encoding: one body with a Content-Length.
  const std::string old =
      raw_exchange(s.server.port(), "POST /x HTTP/1.0\r\nContent-Length: 1\r\n\r\nz");
  EXPECT_NE(old.find("Content-Length: 9"), std::string::npos) << old;
  EXPECT_NE(old.find("z0;z1;z2;"), std::string::npos) << old;
  // A producer that fails after its first piece: the client sees a broken transfer, not a body.
  std::string got;
  EXPECT_NE(http_error([&] {
              client.stream(
                  "POST", "/fail", {}, [&](const HttpResponse&, std::string_view p) { got += p; },
                  "f");
            }),
            "");
  EXPECT_EQ(got, "f0;");
}

// Server-Sent Events cut into pieces anywhere (inside a line, between "\r" and "\n") give the
// same events; comments, other fields and empty events are skipped; multi-line data is joined;
// an event that never ends is refused at the size bound.
TEST(SseReader, ParsesEventsFromPiecesCutAnywhere) {
  const std::string body =
      ": keep-alive\n\ndata: {\"a\":1}\n\nevent: x\r\ndata:b\r\ndata:  c\r\n\r\nid: 7\n\ndata: "
      "[DONE]\n\n";
  const std::vector<std::string> want = {"{\"a\":1}", "b\n c", "[DONE]"};
  for (size_t cut = 1; cut <= body.size(); ++cut) {
    std::vector<std::string> got;
    SseReader reader([&](const std::string& d) { got.push_back(d); });
    for (size_t i = 0; i < body.size(); i += cut)
      reader.feed(std::string_view(body).substr(i, cut));
    EXPECT_EQ(got, want) << "pieces of " << cut;
    EXPECT_EQ(reader.pending(), 0u);
  }
  SseReader bounded([](const std::string&) {}, 100);
  EXPECT_THROW(bounded.feed("data: " + std::string(200, 'x')), Error);
  SseReader unfinished([](const std::string&) { ADD_FAILURE() << "no event has ended"; });
  unfinished.feed("data: half");
  EXPECT_EQ(unfinished.pending(), 10u);
}

TEST(Http, HandlerExceptionBecomes500WithJsonError) {
  Served s([](const HttpRequest&) -> HttpReply { throw std::runtime_error("boom \"x\"\n"); });
  HttpClient client(local(s.server.port()), 5);
  const HttpResponse r = client.request("POST", "/x", "{}");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, R"({"error":{"message":"boom \"x\"\u000a"}})");
  EXPECT_EQ(client.request("POST", "/x", "{}").status, 500);  // the connection survives
}

TEST(Http, KeepAliveReusesOneConnection) {
  Served s(echo);
  HttpClient client(local(s.server.port()), 5);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(client.request("POST", "/n", std::to_string(i)).body,
              "POST /v1/n application/json r1 |" + std::to_string(i));
  }
  EXPECT_EQ(s.server.connections_accepted(), 1u);
}

TEST(Http, ClientReconnectsAfterServerClosesIdleConnection) {
  HttpServer server("127.0.0.1", 0, echo);
  server.set_idle_timeout(0.2);
  server.start();
  HttpClient client(local(server.port()), 5);
  EXPECT_EQ(client.request("POST", "/a", "1").status, 200);
  std::this_thread::sleep_for(500ms);  // the server has closed the idle connection by now
  EXPECT_EQ(client.request("POST", "/b", "2").body, "POST /v1/b application/json r1 |2");
  EXPECT_EQ(server.connections_accepted(), 2u);
}

TEST(Http, ResetReplyIsHttpErrorAndClientRecovers) {
  std::atomic<int> resets{0};
  Served s([&](const HttpRequest& req) {
    HttpReply reply = echo(req);
    if (req.target == "/v1/reset") {
      ++resets;
      reply.reset = true;
    }
    return reply;
  });
  HttpClient client(local(s.server.port()), 5);
  const std::string msg = http_error([&] { client.request("POST", "/reset", "{}"); });
  EXPECT_NE(msg.find("http://127.0.0.1:" + std::to_string(s.server.port()) +
                     "/v1/reset: connection reset"),
            std::string::npos)
      << msg;
  EXPECT_EQ(resets, 1);  // a fresh connection is not retried
  EXPECT_EQ(client.request("POST", "/ok", "1").status, 200);
}

TEST(Http, SlowHandlerTimesOutWithinTheTimeout) {
  std::atomic<bool> release{false};
  Served s([&](const HttpRequest& req) {
    const auto start = Clock::now();
    while (req.target == "/v1/slow" && !release && seconds_since(start) < 5) {
      std::this_thread::sleep_for(10ms);
    }
    return echo(req);
  });
  HttpClient client(local(s.server.port()), 0.5);
  EXPECT_EQ(client.request("POST", "/fast", "{}").status, 200);
  const auto start = Clock::now();
  const std::string msg = http_error([&] { client.request("POST", "/slow", "{}"); });
  const double took = seconds_since(start);
  release = true;
  EXPECT_NE(msg.find("/v1/slow: timed out after 0.5s"), std::string::npos) << msg;
  EXPECT_GE(took, 0.45);
  EXPECT_LT(took, 1.5);
  EXPECT_EQ(client.request("POST", "/fast", "{}").status, 200);
}

TEST(Http, TimeoutCoversSilentAndTricklingServers) {
  // Silent: the kernel completes the handshake for a listening socket nobody accepts from.
  HttpServer silent("127.0.0.1", 0, echo);  // never started
  HttpClient to_silent(local(silent.port()), 0.3);
  auto start = Clock::now();
  EXPECT_NE(http_error([&] { to_silent.request("GET", "/x", ""); }).find("timed out after 0.3s"),
            std::string::npos);
  EXPECT_LT(seconds_since(start), 1.3);

  // Trickling: a valid header, then one body byte every 50 ms; each read makes progress, but the
  // request as a whole must still end at its deadline.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::thread trickler([fd] {
    const int conn = ::accept(fd, nullptr, nullptr);
    const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
    bool ok = ::send(conn, head.data(), head.size(), MSG_NOSIGNAL) > 0;
    for (int i = 0; ok && i < 60; ++i) {
      std::this_thread::sleep_for(50ms);
      ok = ::send(conn, "x", 1, MSG_NOSIGNAL) == 1;
    }
    ::close(conn);
  });
  HttpClient to_trickler(local(ntohs(addr.sin_port)), 0.5);
  start = Clock::now();
  EXPECT_NE(http_error([&] { to_trickler.request("GET", "/x", ""); }).find("timed out after 0.5s"),
            std::string::npos);
  EXPECT_LT(seconds_since(start), 1.5);
  trickler.join();  // its sends fail once the client has closed
  ::close(fd);
}

TEST(Http, ConnectionRefusedNamesTheUrl) {
  int port = 0;
  { port = HttpServer("127.0.0.1", 0, echo).port(); }  // bound, then closed again
  HttpClient client(local(port), 5);
  const std::string msg = http_error([&] { client.request("POST", "/completions", "{}"); });
  EXPECT_EQ(msg,
            "http://127.0.0.1:" + std::to_string(port) + "/v1/completions: connection refused");
}

TEST(Http, ThirtyTwoConcurrentClients) {
  Served s(echo);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  threads.reserve(32);
  for (int t = 0; t < 32; ++t) {
    threads.emplace_back([&, t] {
      HttpClient client(local(s.server.port()), 10);
      for (int i = 0; i < 20; ++i) {
        const std::string body = std::to_string(t) + "/" + std::to_string(i);
        try {
          if (client.request("POST", "/c", body).body ==
              "POST /v1/c application/json r1 |" + body) {
            ++ok;
          }
        } catch (const HttpError&) {
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 32 * 20);
  EXPECT_EQ(s.server.connections_accepted(), 32u);
}

// A loopback socket connected to `port` that has sent `bytes` (maybe none) and then waits.
int open_socket(int port, const std::string& bytes = "") {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const ssize_t sent = bytes.empty() ? 0 : ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  EXPECT_EQ(sent, static_cast<ssize_t>(bytes.size()));
  return fd;
}

// Issue 17, D1: 256 idle TCP connections took every slot of r1serve, so every request, /health
// included, got an empty 503 for up to 60 s. Idle connections now give up their slot to new
// clients; connections whose requests are under way keep theirs, and only then is a new client
// told 503, with a JSON body and Retry-After; a client that starts a request and stalls is cut
// off after the header timeout.
TEST(Http, IdleConnectionsYieldTheirSlotsAndBusyOnesGive503WithRetryAfter) {
  Served s(echo, 4);
  std::vector<int> idle;
  for (int i = 0; i < 4; ++i) idle.push_back(open_socket(s.server.port()));
  HttpClient kept(local(s.server.port()), 5);
  EXPECT_EQ(kept.request("POST", "/a", "1").status, 200);  // evicts a silent one
  HttpClient other(local(s.server.port()), 5);
  EXPECT_EQ(other.request("POST", "/b", "2").status, 200);  // evicts the next (or `kept`)
  for (int fd : idle) ::close(fd);

  // Four requests under way (their header half sent) hold every slot: a new client gets 503.
  Served t(echo, 4);
  t.server.set_header_timeout(1);
  std::vector<int> stalled;
  for (int i = 0; i < 4; ++i)
    stalled.push_back(open_socket(t.server.port(), "POST /x HTTP/1.1\r\nHost: h\r\n"));
  std::this_thread::sleep_for(200ms);
  const std::string busy = raw_exchange(t.server.port(), "GET /health HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(busy.rfind("HTTP/1.1 503", 0), 0u) << busy;
  EXPECT_NE(busy.find("Retry-After: 1"), std::string::npos) << busy;
  EXPECT_NE(busy.find("server busy"), std::string::npos) << busy;
  // The stalled ones are cut off after the header timeout; then clients get in again.
  std::this_thread::sleep_for(1500ms);
  HttpClient after(local(t.server.port()), 5);
  EXPECT_EQ(after.request("POST", "/c", "3").status, 200);
  for (int fd : stalled) ::close(fd);
}

TEST(Http, ASilentNewConnectionIsClosedAfterTheHeaderTimeout) {
  Served s(echo);
  s.server.set_header_timeout(0.5);
  const int fd = open_socket(s.server.port());
  const auto t0 = Clock::now();
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);  // the server closes: readable, end of stream
  char c;
  EXPECT_EQ(::recv(fd, &c, 1, 0), 0);
  EXPECT_LT(seconds_since(t0), 3.0);
  ::close(fd);
}

TEST(Http, BadRequestsGet400And413) {
  Served s(echo);
  EXPECT_EQ(raw_exchange(s.server.port(), "NONSENSE\r\n\r\n").rfind("HTTP/1.1 400", 0), 0u);
  const std::string huge = "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 100000000\r\n\r\n{}";
  const std::string reply = raw_exchange(s.server.port(), huge);
  EXPECT_EQ(reply.rfind("HTTP/1.1 413", 0), 0u) << reply;
  EXPECT_NE(reply.find("64 MiB"), std::string::npos) << reply;
}

// The server's framing on bytes in memory (read_http_requests: the steps HttpServer reads its
// sockets with, and what fuzz_http fuzzes): pipelined and chunked requests, and each kind of bad
// request with the status it is answered with.
std::vector<HttpRequest> read_all(const std::string& bytes, int* status) {
  std::vector<HttpRequest> out;
  *status = read_http_requests(bytes, [&](HttpRequest&& r) { out.push_back(std::move(r)); });
  return out;
}

TEST(HttpRequestReader, FramesRequestsAsTheServerDoes) {
  int status = -1;
  auto reqs = read_all(
      "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
      "POST /v1/chat/completions HTTP/1.1\r\nTransfer-Encoding: "
      "chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
      "FOO /health HTTP/1.1\r\n\r\n",
      &status);
  EXPECT_EQ(status, 0);
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[0].header("host"), "x");
  EXPECT_EQ(reqs[1].body, "hello");
  EXPECT_EQ(reqs[2].body, "abcde");
  EXPECT_EQ(reqs[3].method, "FOO");  // routing answers it 405; framing lets it through
  // HTTP/1.0 without keep-alive: the connection ends after the first request.
  reqs = read_all("GET /a HTTP/1.0\r\n\r\nGET /b HTTP/1.0\r\n\r\n", &status);
  EXPECT_EQ(reqs.size(), 1u);
  // A body cut short: no request, nothing to answer yet (the server waits, then times out).
  reqs = read_all("POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", &status);
  EXPECT_TRUE(reqs.empty());
  EXPECT_EQ(status, 0);
  const std::vector<std::pair<std::string, int>> bad = {
      {"\x01\x02garbage\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nX: " + std::string(70000, 'a') + "\r\n\r\n", 400},  // header over 64 KiB
      {"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: 67108865\r\n\r\n", 413},
      {"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
      {"GET / HTTP/9.9\r\n\r\n", 400},
  };
  for (const auto& [bytes, want] : bad) {
    reqs = read_all("GET /ok HTTP/1.1\r\n\r\n" + bytes, &status);
    EXPECT_EQ(status, want) << bytes.substr(0, 80);
    EXPECT_EQ(reqs.size(), 1u) << "the request before a bad one is still served";
  }
}

TEST(Http, BindFailureNamesHostAndPort) {
  HttpServer first("127.0.0.1", 0, echo);
  const std::string where = "127.0.0.1:" + std::to_string(first.port());
  try {
    HttpServer second("127.0.0.1", first.port(), echo);
    ADD_FAILURE() << "bound twice";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("cannot listen on " + where + ": ", 0), 0u) << e.what();
  }
}

TEST(Http, StopClosesIdleConnectionsAndWaitsForRunningHandlers) {
  std::atomic<bool> in_handler{false};
  auto server = std::make_unique<HttpServer>("127.0.0.1", 0, [&](const HttpRequest& req) {
    if (req.target == "/v1/slow") {
      in_handler = true;
      std::this_thread::sleep_for(300ms);
    }
    return echo(req);
  });
  server->start();
  HttpClient idle(local(server->port()), 5), busy(local(server->port()), 5);
  EXPECT_EQ(idle.request("POST", "/a", "1").status, 200);  // now an idle keep-alive connection
  std::thread busy_thread([&] {
    try {
      busy.request("POST", "/slow", "{}");
    } catch (const HttpError&) {  // the reply may be lost to stop(): either outcome is fine
    }
  });
  while (!in_handler) std::this_thread::sleep_for(1ms);
  std::thread waiter([&] { server->wait(); });
  const auto start = Clock::now();
  server->stop();
  const double took = seconds_since(start);
  waiter.join();
  busy_thread.join();
  EXPECT_LT(took, 2.0);
  EXPECT_NE(http_error([&] { idle.request("POST", "/a", "1"); }).find("connection refused"),
            std::string::npos);
  server.reset();  // a second stop() from the destructor is a no-op
}

// ---------------------------------------------------------------------------------------------
// HTTPS against python3's http.server with a self-signed certificate for DNS:localhost only.

// A child process, killed and reaped on destruction.
struct Child {
  pid_t pid = -1;
  ~Child() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

constexpr const char* kTlsEchoServer = R"(
import http.server, ssl, sys
class Echo(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[1], sys.argv[2])
server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
)";

TEST(Https, VerifiesPeerAndHostName) {
  if (std::system("command -v openssl >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1")) {
    GTEST_SKIP() << "needs the openssl CLI and python3";
  }
  test::TempDir dir;
  const std::string cert = dir / "cert.pem", key = dir / "key.pem";
  const auto made = test::run_command(
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
      "-addext subjectAltName=DNS:localhost -keyout " +
      key + " -out " + cert);
  ASSERT_EQ(made.exit_code, 0) << made.out;

  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  Child server;
  server.pid = ::fork();
  ASSERT_GE(server.pid, 0);
  if (server.pid == 0) {
    ::dup2(out[1], 1);
    ::close(out[0]);
    ::execlp("python3", "python3", "-c", kTlsEchoServer, cert.c_str(), key.c_str(), nullptr);
    ::_exit(127);
  }
  ::close(out[1]);
  std::string port;
  pollfd ready{out[0], POLLIN, 0};
  char c;
  while (::poll(&ready, 1, 10000) == 1 && ::read(out[0], &c, 1) == 1 && c != '\n') port += c;
  ::close(out[0]);
  ASSERT_FALSE(port.empty()) << "the python TLS server did not start";

  HttpClient trusted(parse_url("https://localhost:" + port), 5, cert);
  EXPECT_EQ(trusted.request("POST", "/echo", "hello").body, "hello");
  EXPECT_EQ(trusted.request("POST", "/echo", "again").body, "again");  // over the same session

  HttpClient untrusted(parse_url("https://localhost:" + port), 5);
  std::string msg = http_error([&] { untrusted.request("POST", "/echo", "x"); });
  EXPECT_NE(msg.find("https://localhost:" + port + "/echo: TLS handshake failed"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("certificate verify failed"), std::string::npos) << msg;

  // The certificate names localhost, not 127.0.0.1: host name verification must refuse it.
  HttpClient wrong_name(parse_url("https://127.0.0.1:" + port), 5, cert);
  msg = http_error([&] { wrong_name.request("POST", "/echo", "x"); });
  EXPECT_NE(msg.find("certificate verify failed"), std::string::npos) << msg;
}

}  // namespace
}  // namespace r1
