// The body of an OpenAI-compatible completion request, as r1serve reads it: every field checked
// and typed before any tokenizing or generation, so a client's mistake is a 400 (or 404 for a
// model not served) naming the field, never an exception from deeper down. Pure (JSON in,
// struct out), so it is fuzzed on its own (tests/fuzz/fuzz_request.cpp). Leaves out what needs
// the model: tokenizing, the chat template, the context check.
#pragma once

#include <cstdint>   // int64_t
#include <optional>  // std::optional
#include <string>    // std::string
#include <vector>    // std::vector

#include "toolkit/chat_template.h"  // r1::ChatMessage

namespace r1 {

// A request the client got wrong: the HTTP status (400, or 404 for a model not served) and the
// message.
struct RequestError {
  int status = 400;
  std::string message;
};

struct CompletionRequest {
  bool chat = false;
  std::vector<ChatMessage> messages;       // chat
  nlohmann::ordered_json tools = nullptr;  // chat: tools, or null
  nlohmann::ordered_json template_kwargs =
      nlohmann::ordered_json::object();  // chat: chat_template_kwargs
  std::string prompt_text;               // completions: text (when prompt_ids is empty)
  std::vector<int64_t> prompt_ids;       // completions: token ids
  int64_t n = 1;
  double temperature = 1.0, top_p = 1.0;
  int64_t top_k = 0;                  // 0 = off (-1 is read as off, as vLLM does)
  std::optional<int64_t> max_tokens;  // absent: the server's default
  std::optional<int64_t> seed;        // absent: the server draws one
  std::vector<std::string> stop;
  bool ignore_eos = false;
  bool logprobs = false;
  // Server-Sent Events, one choice (n = 1) and no logprobs; include_usage: a last chunk with the
  // usage (stream_options.include_usage, as OpenAI and vLLM).
  bool stream = false, include_usage = false;
};

// Reads a /v1/completions (chat = false) or /v1/chat/completions body for a server that serves
// `served_model`. Throws RequestError.
CompletionRequest parse_completion_request(const std::string& body, bool chat,
                                           const std::string& served_model);

}  // namespace r1
