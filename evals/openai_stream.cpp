#include "evals/openai_stream.h"

#include <nlohmann/json.hpp>  // nlohmann::json

#include <utility>  // std::move

namespace r1 {
namespace {

using nlohmann::json;

// The string at `key` of object `j`, or nullptr when absent, null or not a string.
const std::string* string_at(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return nullptr;
  return j[key].get_ptr<const std::string*>();
}

}  // namespace

void read_usage(const json& j, Completion& c) {
  if (!j.is_object() || !j.contains("usage") || !j["usage"].is_object()) return;
  const auto& u = j["usage"];
  if (u.contains("prompt_tokens") && u["prompt_tokens"].is_number_integer())
    c.prompt_tokens = u["prompt_tokens"].get<int64_t>();
  if (u.contains("completion_tokens") && u["completion_tokens"].is_number_integer())
    c.completion_tokens = u["completion_tokens"].get<int64_t>();
}

CompletionStream::CompletionStream(bool chat, size_t max_text_bytes)
    : chat_(chat),
      max_text_bytes_(max_text_bytes),
      reader_([this](const std::string& data) { event(data); }) {
  c_.finish_reason = "unknown";
}

void CompletionStream::feed(std::string_view piece, double now_s) {
  now_s_ = now_s;
  if (!done_) reader_.feed(piece);
}

void CompletionStream::event(const std::string& data) {
  if (done_) return;
  if (data == "[DONE]") {
    done_ = true;
    return;
  }
  json j;
  try {
    j = json::parse(data);
  } catch (const json::exception&) {
    throw StreamError{"a streamed chunk is not valid JSON: '" + data.substr(0, 120) + "'"};
  }
  if (j.is_object() && j.contains("error")) {
    const auto& e = j["error"];
    const std::string* m = string_at(e, "message");
    throw StreamError{"the server sent an error mid-stream: " + (m ? *m
                                                                 : e.is_string()
                                                                     ? e.get<std::string>()
                                                                     : e.dump())};
  }
  if (!j.is_object() || !j.contains("choices") || !j["choices"].is_array())
    throw StreamError{"a streamed chunk has no choices (not an OpenAI-compatible stream)"};
  read_usage(j, c_);
  if (j["choices"].empty()) return;  // the usage chunk
  const json& choice = j["choices"][0];
  const size_t before = c_.text.size() + c_.reasoning.size();
  if (chat_) {
    const json delta = choice.is_object() && choice.contains("delta") ? choice["delta"] : json();
    if (const std::string* s = string_at(delta, "content")) c_.text += *s;
    for (const char* key : {"reasoning_content", "reasoning"})
      if (const std::string* s = string_at(delta, key)) c_.reasoning += *s;
  } else if (const std::string* s = string_at(choice, "text")) {
    c_.text += *s;
  }
  if (const std::string* f = string_at(choice, "finish_reason")) c_.finish_reason = *f;
  const size_t after = c_.text.size() + c_.reasoning.size();
  if (after > before && c_.ttft_s < 0) c_.ttft_s = now_s_;
  if (after > max_text_bytes_) throw Cut{};
}

Completion CompletionStream::result(double end_s) const {
  Completion c = c_;
  c.latency_s = end_s;
  if (c.ttft_s >= 0 && c.completion_tokens > 1)
    c.tpot_s = (end_s - c.ttft_s) / double(c.completion_tokens - 1);
  return c;
}

}  // namespace r1
