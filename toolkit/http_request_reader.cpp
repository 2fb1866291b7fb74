// Reading requests (see http_request_reader.h).
#include "toolkit/http_request_reader.h"

#include <boost/asio/buffer.hpp>  // net::buffer

#include <cstdint>  // uint64_t

namespace r1 {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;

}  // namespace

void limit_request_parser(HttpRequestParser& parser) {
  parser.header_limit(kHttpMaxHeader);
  parser.body_limit(kHttpMaxBody);
}

bool is_http_error(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_version).category();
}

int request_read_status(const beast::error_code& ec, std::string* message) {
  if (ec == http::error::body_limit) {
    *message = "request body over 64 MiB";
    return 413;
  }
  if (is_http_error(ec) && ec != http::error::end_of_stream && ec != http::error::partial_message) {
    *message = "malformed request: " + ec.message();
    return 400;
  }
  return 0;
}

HttpRequest to_http_request(HttpRequestParser& parser, std::function<bool()> client_gone) {
  auto msg = parser.release();
  HttpRequest req{std::string(msg.method_string()),
                  std::string(msg.target()),
                  std::move(msg.body()),
                  {},
                  std::move(client_gone)};
  for (const auto& field : msg)
    req.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  return req;
}

int read_http_requests(std::string_view bytes,
                       const std::function<void(HttpRequest&&)>& on_request) {
  while (!bytes.empty()) {
    HttpRequestParser parser;
    limit_request_parser(parser);
    parser.eager(true);
    beast::error_code ec;
    while (!ec && !parser.is_done() && !bytes.empty()) {
      bytes.remove_prefix(parser.put(boost::asio::buffer(bytes.data(), bytes.size()), ec));
      // Every byte was offered: the request ends past them, and the server would read more
      // before parsing again (Beast's parser asserts that it gets more).
      if (ec == http::error::need_more) return 0;
    }
    if (ec) {
      std::string message;
      return request_read_status(ec, &message);
    }
    if (!parser.is_done()) return 0;
    const bool keep_alive = parser.get().keep_alive();
    on_request(to_http_request(parser, {}));
    if (!keep_alive) return 0;
  }
  return 0;
}

}  // namespace r1
