// A streamed OpenAI-compatible completion ("stream": true), read as it arrives: the
// Server-Sent Events' chunks (text_completion or chat.completion.chunk) gathered into one
// Completion, with the time its first token arrived. Works for OpenAI, vLLM, SGLang, llama.cpp's
// server and r1serve: text or delta content, reasoning_content/reasoning deltas, the finish
// reason wherever it comes, the usage of the last chunk (stream_options.include_usage).
#pragma once

#include <cstddef>      // size_t
#include <string>       // std::string
#include <string_view>  // std::string_view

#include <nlohmann/json.hpp>  // nlohmann::json

#include "evals/backend.h"  // r1::Completion
#include "toolkit/sse.h"    // r1::SseReader

namespace r1 {

// The token counts of a reply's (or a stream's last chunk's) "usage", where it has them.
void read_usage(const nlohmann::json& reply, Completion& c);

// A stream that cannot be read as a completion (an error event, a chunk that is not JSON or has
// no choices): the message says what came.
struct StreamError {
  std::string what;
};

class CompletionStream {
 public:
  // chat: chat.completion.chunk deltas, else text_completion text. The text gathered is bounded
  // by `max_text_bytes` (a server that ignores max_tokens): past it feed() throws Cut, and the
  // caller stops reading and counts the completion as truncated.
  CompletionStream(bool chat, size_t max_text_bytes);

  // Feeds the next piece of the body, `now_s` seconds after the request was sent.
  void feed(std::string_view piece, double now_s);
  // Whether "data: [DONE]" has arrived.
  bool done() const { return done_; }
  // What arrived: text, reasoning, finish_reason ("unknown" if none), token counts (from the
  // usage, when sent), ttft_s (the first chunk with text), tpot_s (when the usage gives the
  // token count). `end_s`: when the body ended.
  Completion result(double end_s) const;
  // A stream cut at max_text_bytes.
  struct Cut {};

 private:
  void event(const std::string& data);

  bool chat_;
  size_t max_text_bytes_;
  SseReader reader_;
  Completion c_;
  bool done_ = false;
  double now_s_ = 0;
};

}  // namespace r1
