// SFT rows -> token sequences, batches and the seeded order (see sft_data.h). The prompt and the
// response are tokenized apart and concatenated, so the loss boundary is exact and the prompt's ids
// are the ones the model sees when it generates.
#include "rl/sft_data.h"

#include <torch/torch.h>  // torch::tensor, torch::full

#include <algorithm>  // std::max, std::find

#include "toolkit/error.h"  // r1::Error, r1::check
#include "toolkit/hash.h"   // r1::splitmix64_next
#include "toolkit/json.h"   // r1::for_each_ordered_jsonl_row

namespace r1 {
namespace {

[[noreturn]] void fail(const std::string& where, const std::string& message) {
  throw Error(where + ": " + message);
}

using ojson = nlohmann::ordered_json;

std::string type_name(const ojson& j) { return j.type_name(); }

// Messages as the chat template sees them: role and content strings, plus any other fields
// (reasoning_content, tool_calls, tool_call_id, name) in the row's own key order. An assistant
// turn that only calls tools may have a null or absent content.
std::vector<ChatMessage> parse_messages(const ojson& list, const std::string& field,
                                        const std::string& where) {
  if (!list.is_array())
    fail(where, "\"" + field + "\" is " + type_name(list) + ", expected a list of messages");
  std::vector<ChatMessage> out;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = field + "[" + std::to_string(i) + "]";
    const auto& m = list[i];
    if (!m.is_object())
      fail(where, at + " is " + type_name(m) + ", expected {\"role\", \"content\"}");
    if (!m.contains("role")) fail(where, at + " has no \"role\"");
    if (!m["role"].is_string())
      fail(where, at + ".role is " + type_name(m["role"]) + ", expected a string");
    const bool calls_tools = m.contains("tool_calls") && !m["tool_calls"].is_null();
    const bool no_content = !m.contains("content") || m["content"].is_null();
    if (no_content && !calls_tools) fail(where, at + " has no \"content\"");
    if (!no_content && !m["content"].is_string())
      fail(where, at + ".content is " + type_name(m["content"]) + ", expected a string");
    ChatMessage cm{m["role"].get<std::string>(), no_content ? "" : m["content"].get<std::string>(),
                   ojson()};
    for (auto it = m.begin(); it != m.end(); ++it)
      if (it.key() != "role" && it.key() != "content") cm.extra[it.key()] = it.value();
    if (no_content) cm.extra["content"] = nullptr;
    out.push_back(std::move(cm));
  }
  return out;
}

// The text the template puts after an assistant turn's content (DeepSeek: the EOS token; Qwen:
// "<|im_end|>"; Llama 3: "<|eot_id|>"), trailing whitespace dropped.
std::string end_of_turn(const ChatTemplate& t) {
  const std::string mark = "\x01r1-end-of-turn\x01";
  const std::string text = render_chat(t, {{"user", "u"}, {"assistant", mark}}, false);
  const size_t k = text.rfind(mark);
  std::string end = k == std::string::npos ? std::string() : text.substr(k + mark.size());
  while (!end.empty() && (end.back() == '\n' || end.back() == ' ' || end.back() == '\t'))
    end.pop_back();
  return end;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

SftExample encode_sft_row(const nlohmann::ordered_json& row, const SftEncoder& enc,
                          const std::string& where) {
  if (!row.is_object())
    fail(where, "row is " + type_name(row) +
                    ", expected an object with \"messages\" or \"prompt\" and \"response\"");
  std::vector<ChatMessage> context;
  std::string response;
  if (row.contains("messages")) {
    auto messages = parse_messages(row["messages"], "messages", where);
    if (messages.empty()) fail(where, "\"messages\" is empty");
    const auto& last = messages.back();
    if (last.role != "assistant")
      fail(where, "messages[" + std::to_string(messages.size() - 1) + "] has role \"" + last.role +
                      "\": the last message must be the assistant's reply the loss is taken on");
    if (last.extra.is_object() && last.extra.contains("tool_calls"))
      fail(where,
           "messages[" + std::to_string(messages.size() - 1) +
               "] calls tools: the last message is the reply the loss is taken on, and only its "
               "content "
               "is trained (end the row at the tool results, or put the call in the content)");
    response = last.content;
    messages.pop_back();
    context = std::move(messages);
  } else if (row.contains("prompt") || row.contains("response")) {
    for (const char* key : {"prompt", "response"})
      if (!row.contains(key)) fail(where, "row has no \"" + std::string(key) + "\"");
    const auto& prompt = row["prompt"];
    if (prompt.is_string())
      context = {{"user", prompt.get<std::string>()}};
    else if (prompt.is_array())
      context = parse_messages(prompt, "prompt", where);
    else
      fail(where, "\"prompt\" is " + type_name(prompt) + ", expected a string or a message list");
    if (!row["response"].is_string())
      fail(where, "\"response\" is " + type_name(row["response"]) + ", expected a string");
    response = row["response"].get<std::string>();
  } else {
    fail(where, "row has neither \"messages\" nor \"prompt\" and \"response\"");
  }

  std::string prompt_text;
  try {
    prompt_text = render_chat(enc.chat, context, /*add_generation_prompt=*/true);
  } catch (const Error& e) {
    fail(where, e.what());
  }
  // The R1 template forces "<think>\n" after the assistant tag; a reply that starts with its own
  // "<think>" continues it instead of repeating it.
  if (ends_with(prompt_text, "<think>\n") && response.rfind("<think>", 0) == 0) {
    response.erase(0, 7);
    if (!response.empty() && response[0] == '\n') response.erase(0, 1);
  }
  SftExample ex;
  ex.line = 0;
  ex.ids = enc.tokenizer->encode(prompt_text, /*add_special_tokens=*/false);
  ex.prompt_tokens = static_cast<int64_t>(ex.ids.size());
  const auto reply = enc.tokenizer->encode(response + end_of_turn(enc.chat), false);
  const int64_t max_len = enc.config.max_length;
  if (ex.prompt_tokens >= max_len)
    fail(where, "the prompt is " + std::to_string(ex.prompt_tokens) +
                    " tokens, which leaves no room for a response within --max-length " +
                    std::to_string(max_len) + " (shorten the prompt or drop the row)");
  const int64_t total = ex.prompt_tokens + static_cast<int64_t>(reply.size());
  if (total > max_len && !enc.config.truncate)
    fail(where, "prompt + response is " + std::to_string(total) +
                    " tokens, longer than --max-length " + std::to_string(max_len) +
                    " (raise it, drop the row, or pass --truncate)");
  const int64_t keep =
      std::min<int64_t>(static_cast<int64_t>(reply.size()), max_len - ex.prompt_tokens);
  ex.ids.insert(ex.ids.end(), reply.begin(), reply.begin() + keep);
  return ex;
}

std::vector<SftExample> load_sft_file(const std::string& path, const SftEncoder& enc) {
  check(enc.tokenizer != nullptr, "load_sft_file: no tokenizer");
  std::vector<SftExample> out;
  for_each_ordered_jsonl_row(path, [&](const ojson& row, const std::string& where, int64_t line) {
    out.push_back(encode_sft_row(row, enc, where));
    out.back().line = line;
  });
  check(!out.empty(),
        path + ": no rows (expected JSONL with \"messages\" or \"prompt\" and \"response\")");
  return out;
}

SftBatch make_sft_batch(const std::vector<const SftExample*>& rows, int64_t pad_id,
                        torch::Device device) {
  const int64_t B = static_cast<int64_t>(rows.size());
  int64_t T = 1;
  for (const auto* r : rows) T = std::max<int64_t>(T, static_cast<int64_t>(r->ids.size()));
  std::vector<int64_t> ids(B * T, pad_id), positions(B * T), predict, targets;
  std::vector<uint8_t> valid(B * T, 0);
  for (int64_t b = 0; b < B; ++b) {
    const auto& seq = rows[b]->ids;
    const int64_t len = static_cast<int64_t>(seq.size());
    for (int64_t t = 0; t < T; ++t) positions[b * T + t] = t;
    for (int64_t t = 0; t < len; ++t) {
      ids[b * T + t] = seq[t];
      valid[b * T + t] = 1;
    }
    for (int64_t t = std::max<int64_t>(rows[b]->prompt_tokens, 1) - 1; t + 1 < len; ++t) {
      predict.push_back(b * T + t);
      targets.push_back(seq[t + 1]);
    }
  }
  auto i64 = torch::dtype(torch::kLong);
  SftBatch batch;
  batch.ids = torch::tensor(ids, i64).view({B, T}).to(device);
  batch.positions = torch::tensor(positions, i64).view({B, T}).to(device);
  if (std::find(valid.begin(), valid.end(), 0) != valid.end())
    batch.valid = torch::tensor(std::vector<int64_t>(valid.begin(), valid.end()), i64)
                      .view({B, T})
                      .to(torch::kBool)
                      .to(device);
  batch.predict = torch::tensor(predict, i64).to(device);
  batch.targets = torch::tensor(targets, i64).to(device);
  batch.tokens = static_cast<int64_t>(targets.size());
  return batch;
}

std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch) {
  uint64_t state = seed;
  state = splitmix64_next(state) ^ static_cast<uint64_t>(epoch);
  std::vector<int64_t> order(n);
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  for (int64_t i = n - 1; i > 0; --i) {
    // Lemire's multiply-shift maps 64 random bits to [0, i] without a division.
    const auto j = static_cast<int64_t>(
        (static_cast<unsigned __int128>(splitmix64_next(state)) * static_cast<uint64_t>(i + 1)) >>
        64);
    std::swap(order[i], order[j]);
  }
  return order;
}

std::vector<int64_t> SftSampler::next(int64_t count) {
  std::vector<int64_t> out;
  while (static_cast<int64_t>(out.size()) < count) {
    if (order_.empty()) order_ = epoch_order(rows_, seed_, epoch_);
    out.push_back(order_[offset_++]);
    if (offset_ == rows_) {
      ++epoch_;
      offset_ = 0;
      order_.clear();
    }
  }
  return out;
}

void SftSampler::seek(int64_t epoch, int64_t offset) {
  check(epoch >= 0 && offset >= 0 && offset < rows_,
        "data position (epoch " + std::to_string(epoch) + ", row " + std::to_string(offset) +
            ") is outside a dataset of " + std::to_string(rows_) + " rows");
  epoch_ = epoch;
  offset_ = offset;
  order_.clear();
}

}  // namespace r1
