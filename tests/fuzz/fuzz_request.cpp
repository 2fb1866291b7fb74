// libFuzzer target over r1serve's request reading (evals/openai_request.h): the input is a request
// body, read as /v1/completions and as /v1/chat/completions. Any input must give a request or a
// RequestError with status 400 or 404 and a message; any other exception escapes and crashes the
// run, as does a sanitizer report. Built and run by run_fuzz.sh (R1_FUZZ_TARGET=request).
#include <cstddef>  // std::size_t
#include <cstdint>  // std::uint8_t
#include <cstdio>   // std::fprintf
#include <cstdlib>  // std::abort
#include <string>   // std::string

#include "evals/openai_request.h"  // r1::parse_completion_request

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  for (const bool chat : {false, true}) {
    try {
      const r1::CompletionRequest r = r1::parse_completion_request(body, chat, "r1");
      const bool has_prompt = chat ? !r.messages.empty() : true;
      if (!has_prompt || r.n < 1 || r.n > 1024 || r.top_k < 0 || !(r.top_p > 0 && r.top_p <= 1) ||
          !(r.temperature >= 0) || (r.max_tokens && *r.max_tokens < 1)) {
        std::fprintf(stderr, "fuzz_request: accepted a request out of range\n");
        std::abort();
      }
    } catch (const r1::RequestError& e) {
      if ((e.status != 400 && e.status != 404) || e.message.empty()) {
        std::fprintf(stderr, "fuzz_request: error %d without a message\n", e.status);
        std::abort();
      }
    }
  }
  return 0;
}
