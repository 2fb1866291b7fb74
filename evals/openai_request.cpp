// OpenAI-compatible request bodies (see openai_request.h).
#include "evals/openai_request.h"

#include <algorithm>  // std::all_of, std::min
#include <cmath>      // std::floor, std::fabs, std::isfinite
#include <cstdint>    // INT64_MAX, INT64_MIN, INT32_MAX

#include <nlohmann/json.hpp>  // nlohmann::json

namespace r1 {
namespace {

using json =
    nlohmann::ordered_json;  // keeps the client's key order (tools reach templates as sent)

json parse_body(const std::string& body) {
  json j;
  try {
    j = json::parse(body);
  } catch (const json::exception& e) {
    throw RequestError{400, std::string("the body is not valid JSON: ") + e.what()};
  }
  if (!j.is_object()) throw RequestError{400, "the body must be a JSON object"};
  return j;
}

template <typename T>
std::optional<T> opt(const json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  try {
    return j[key].get<T>();
  } catch (const json::exception&) {
    throw RequestError{400, std::string("field '") + key + "' has the wrong type"};
  }
}

// A number field in [lo, hi]; nullopt when absent or null.
std::optional<double> opt_number(const json& j, const char* key, double lo, double hi) {
  const auto v = opt<double>(j, key);
  if (v && !(*v >= lo && *v <= hi))
    throw RequestError{400, std::string("field '") + key + "' must be a number in [" +
                                json(lo).dump() + ", " + json(hi).dump() + "], got " +
                                j[key].dump()};
  return v;
}

// An integer field in [lo, hi] (a whole number written as 5.0 too); nullopt when absent or
// null. 5.7, 1e20 or a string is a 400 naming the field and the range.
std::optional<int64_t> opt_int(const json& j, const char* key, int64_t lo, int64_t hi) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  const json& v = j[key];
  std::optional<int64_t> x;  // the value, when it is a whole number
  if (v.is_number_unsigned()) {
    x = static_cast<int64_t>(std::min<uint64_t>(v.get<uint64_t>(), INT64_MAX));
  } else if (v.is_number_integer()) {
    x = v.get<int64_t>();
  } else if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15) x = static_cast<int64_t>(d);
  }
  if (!x || *x < lo || *x > hi)
    throw RequestError{400, std::string("field '") + key + "' must be an integer in [" +
                                std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                                v.dump()};
  return x;
}

void check_model(const json& j, const std::string& served_model) {
  if (!j.contains("model") || j["model"].is_null()) return;
  if (!j["model"].is_string()) throw RequestError{400, "field 'model' must be a string"};
  if (j["model"] != served_model)
    throw RequestError{404, "The model `" + j["model"].get<std::string>() +
                                "` does not exist (this server serves `" + served_model + "`)"};
}

// Messages as OpenAI sends them: a string role; content a string, a list of parts, or null/absent
// (an assistant turn with tool_calls); other fields (tool_calls, reasoning_content, tool_call_id,
// name) pass to the chat template as they are.
void read_messages(const json& j, CompletionRequest& r) {
  if (!j.contains("messages") || !j["messages"].is_array() || j["messages"].empty())
    throw RequestError{400, "field 'messages' must be a non-empty array"};
  for (const auto& m : j["messages"]) {
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string())
      throw RequestError{400, "each message needs a string 'role'"};
    const json content = m.value("content", json());
    if (!content.is_string() && !content.is_null() && !content.is_array())
      throw RequestError{400, "a message's 'content' must be a string, a list of parts or null"};
    ChatMessage cm{m["role"].get<std::string>(),
                   content.is_string() ? content.get<std::string>() : "", json()};
    for (auto it = m.begin(); it != m.end(); ++it)
      if (it.key() != "role" && (it.key() != "content" || !content.is_string()))
        cm.extra[it.key()] = it.value();
    if (!m.contains("content")) cm.extra["content"] = nullptr;
    r.messages.push_back(std::move(cm));
  }
}

// tools (a list of JSON-schema functions) and chat_template_kwargs reach the chat template, as in
// vLLM.
void read_template_inputs(const json& j, CompletionRequest& r) {
  if (j.contains("tools") && !j["tools"].is_null()) {
    if (!j["tools"].is_array()) throw RequestError{400, "field 'tools' must be an array of tools"};
    r.tools = j["tools"];
  }
  if (j.contains("chat_template_kwargs") && !j["chat_template_kwargs"].is_null()) {
    if (!j["chat_template_kwargs"].is_object())
      throw RequestError{400, "field 'chat_template_kwargs' must be an object"};
    r.template_kwargs = j["chat_template_kwargs"];
  }
}

void read_prompt(const json& j, CompletionRequest& r) {
  if (!j.contains("prompt")) throw RequestError{400, "field 'prompt' is required"};
  json p = j["prompt"];
  if (p.is_array() && p.size() == 1 && p[0].is_string()) p = p[0];
  const auto is_id = [](const json& x) {
    return x.is_number_integer() && x.get<int64_t>() >= 0 && x.get<int64_t>() <= INT32_MAX;
  };
  if (p.is_string()) {
    r.prompt_text = p.get<std::string>();
  } else if (p.is_array() && !p.empty() && std::all_of(p.begin(), p.end(), is_id)) {
    r.prompt_ids = p.get<std::vector<int64_t>>();
  } else {
    throw RequestError{400, "field 'prompt' must be a string or a non-empty array of token ids"};
  }
}

void read_stop(const json& j, CompletionRequest& r) {
  if (!j.contains("stop") || j["stop"].is_null()) return;
  const json& s = j["stop"];
  if (s.is_string()) {
    r.stop = {s.get<std::string>()};
  } else if (s.is_array() &&
             std::all_of(s.begin(), s.end(), [](const json& x) { return x.is_string(); })) {
    r.stop = s.get<std::vector<std::string>>();
  } else {
    throw RequestError{400, "field 'stop' must be a string or an array of strings"};
  }
  for (const auto& x : r.stop)
    if (x.empty()) throw RequestError{400, "field 'stop' holds an empty string"};
}

// stream, stream_options: streaming serves one sample without logprobs.
void read_stream(const json& j, CompletionRequest& r) {
  r.stream = opt<bool>(j, "stream").value_or(false);
  if (j.contains("stream_options") && !j["stream_options"].is_null()) {
    if (!r.stream) throw RequestError{400, "field 'stream_options' needs 'stream': true"};
    if (!j["stream_options"].is_object())
      throw RequestError{400, "field 'stream_options' must be an object"};
    r.include_usage = opt<bool>(j["stream_options"], "include_usage").value_or(false);
  }
  if (r.stream && r.n != 1)
    throw RequestError{
        400, "field 'stream': r1serve streams one sample (n = 1), got n = " + std::to_string(r.n)};
  if (r.stream && r.logprobs)
    throw RequestError{400, "field 'stream': r1serve does not stream logprobs"};
}

}  // namespace

CompletionRequest parse_completion_request(const std::string& body, bool chat,
                                           const std::string& served_model) {
  const json j = parse_body(body);
  check_model(j, served_model);
  for (const char* unsupported : {"echo", "best_of", "logit_bias"})
    if (j.contains(unsupported) && !j[unsupported].is_null() && j[unsupported] != false)
      throw RequestError{400,
                         std::string("field '") + unsupported + "' is not supported by r1serve"};
  CompletionRequest r;
  r.chat = chat;
  if (chat) {
    read_messages(j, r);
    read_template_inputs(j, r);
  } else {
    read_prompt(j, r);
  }
  r.n = opt_int(j, "n", 1, 1024).value_or(1);
  r.temperature = opt_number(j, "temperature", 0, 1e6).value_or(1.0);
  r.top_p = opt_number(j, "top_p", 0, 1).value_or(1.0);
  if (r.top_p <= 0) throw RequestError{400, "field 'top_p' must be in (0, 1], got 0"};
  // As vLLM: -1 or 0 turn top-k off.
  r.top_k = std::max<int64_t>(opt_int(j, "top_k", -1, INT32_MAX).value_or(0), 0);
  r.max_tokens = opt_int(j, "max_tokens", 1, int64_t{1} << 24);
  if (chat && !r.max_tokens)
    r.max_tokens = opt_int(j, "max_completion_tokens", 1, int64_t{1} << 24);
  r.seed = opt_int(j, "seed", INT64_MIN, INT64_MAX);
  read_stop(j, r);
  r.ignore_eos = opt<bool>(j, "ignore_eos").value_or(false);
  r.logprobs =
      chat ? opt<bool>(j, "logprobs").value_or(false) : opt_int(j, "logprobs", 0, 20).has_value();
  if (chat) opt_int(j, "top_logprobs", 0, 20);  // checked; r1serve returns the chosen token's
  read_stream(j, r);
  return r;
}

}  // namespace r1
