// How r1's HTTP server turns a connection's bytes into requests: Beast's request parser under
// r1's limits (a 64 KiB header, a kHttpMaxBody body), the reply a failed read gets, and the
// request a handler sees. HttpServer reads through these from its sockets; read_http_requests
// runs the same steps on bytes in memory, for the fuzzer (tests/fuzz/fuzz_http.cpp) and tests.
#pragma once

#include <boost/beast/http.hpp>  // http::request_parser, http::string_body

#include <functional>   // std::function
#include <string>       // std::string
#include <string_view>  // std::string_view

#include "toolkit/http.h"  // r1::HttpRequest

namespace r1 {

using HttpRequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

// Sets r1's header and body limits on a fresh parser.
void limit_request_parser(HttpRequestParser& parser);
// Whether `ec` is Beast's HTTP parse error (rather than a socket's).
bool is_http_error(const boost::beast::error_code& ec);
// The status a read that failed with `ec` is answered with (413: body over the limit, 400:
// malformed, with *message saying why), or 0 when there is nobody to answer (the peer closed or
// stalled, the socket failed).
int request_read_status(const boost::beast::error_code& ec, std::string* message);
// The parsed request as a handler sees it.
HttpRequest to_http_request(HttpRequestParser& parser, std::function<bool()> client_gone);

// Reads `bytes` as one kept-alive connection's requests (pipelined, as the server reads them) and
// calls `on_request` for each complete one. Returns the status the first bad request is answered
// with (the connection closes there), or 0 when every request parsed or the bytes end mid-request.
int read_http_requests(std::string_view bytes,
                       const std::function<void(HttpRequest&&)>& on_request);

}  // namespace r1
