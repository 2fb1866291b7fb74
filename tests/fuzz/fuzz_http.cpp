// libFuzzer target over r1serve's HTTP framing (toolkit/http_request_reader.h): the input is what
// a client sends on one connection, read as HttpServer reads it (Beast's parser under r1's header
// and body limits, pipelined requests), and each request's body then read as r1serve reads
// /v1/completions and /v1/chat/completions. A bad request must get 400 or 413; any other status,
// an exception escaping, or a sanitizer report crashes the run. Built and run by run_fuzz.sh
// (R1_FUZZ_TARGET=http).
#include <cstddef>  // std::size_t
#include <cstdint>  // std::uint8_t
#include <cstdio>   // std::fprintf
#include <cstdlib>  // std::abort
#include <string>   // std::string

#include "evals/openai_request.h"         // r1::parse_completion_request
#include "toolkit/http_request_reader.h"  // r1::read_http_requests

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  const int status = r1::read_http_requests(bytes, [](r1::HttpRequest&& req) {
    if (req.method.empty() || req.target.empty()) {
      std::fprintf(stderr, "fuzz_http: a request without a method or target\n");
      std::abort();
    }
    if (req.method != "POST") return;
    try {
      r1::parse_completion_request(req.body, req.target.find("chat") != std::string::npos, "r1");
    } catch (const r1::RequestError& e) {
      if ((e.status != 400 && e.status != 404) || e.message.empty()) std::abort();
    }
  });
  if (status != 0 && status != 400 && status != 413) {
    std::fprintf(stderr, "fuzz_http: answered %d\n", status);
    std::abort();
  }
  return 0;
}
