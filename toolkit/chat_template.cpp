// Native chat templates (see chat_template.h). Each renderer follows its Jinja template's control
// flow step for step; tests/toolkit/test_chat_template.cpp checks them against transformers.
#include "toolkit/chat_template.h"

#include <utf8proc.h>  // utf8proc_iterate

#include <filesystem>  // std::filesystem

#include <nlohmann/json.hpp>  // nlohmann::json

#include "toolkit/error.h"  // r1::Error, r1::check
#include "toolkit/fs.h"
#include "toolkit/gguf.h"            // r1::GgufFile, r1::is_gguf_file
#include "toolkit/gguf_tokenizer.h"  // r1::gguf_vocab
#include "toolkit/json.h"  // r1::parse_json     // r1::read_file

namespace r1 {
namespace {

const std::vector<std::pair<std::string, ChatFormat>>& names() {
  static const std::vector<std::pair<std::string, ChatFormat>> n = {
      {"deepseek-r1", ChatFormat::kDeepSeekR1},
      {"deepseek-r1-nothink", ChatFormat::kDeepSeekR1NoThink},
      {"qwen2.5", ChatFormat::kQwen25},
      {"llama3", ChatFormat::kLlama3},
      {"llama3.1", ChatFormat::kLlama31}};
  return n;
}

bool py_space(int32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

void reject_role(const ChatMessage& m, size_t i, ChatFormat f) {
  throw Error("message " + std::to_string(i) + ": role \"" + m.role +
              "\" is not supported by the " + chat_format_name(f) +
              " chat template in r1 (system, user, assistant)");
}

std::string render_deepseek(const ChatTemplate& t, const std::vector<ChatMessage>& ms, bool gen) {
  std::string system;
  for (const auto& m : ms)
    if (m.role == "system") system = m.content;  // the last system message wins
  std::string out = t.bos_token + system;
  for (size_t i = 0; i < ms.size(); ++i) {
    const auto& m = ms[i];
    if (m.role == "user") {
      out += "<｜User｜>" + m.content;
    } else if (m.role == "assistant") {
      std::string content = m.content;
      const size_t k = content.rfind("</think>");
      if (k != std::string::npos)
        content = content.substr(k + 8);  // the answer after the reasoning
      out += "<｜Assistant｜>" + content + "<｜end▁of▁sentence｜>";
    } else if (m.role != "system") {
      reject_role(m, i, t.format);
    }
  }
  if (gen)
    out += t.format == ChatFormat::kDeepSeekR1 ? "<｜Assistant｜><think>\n" : "<｜Assistant｜>";
  return out;
}

std::string render_qwen(const ChatTemplate& t, const std::vector<ChatMessage>& ms, bool gen) {
  std::string out;
  if (!ms.empty() && ms[0].role == "system")
    out = "<|im_start|>system\n" + ms[0].content + "<|im_end|>\n";
  else
    out =
        "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful "
        "assistant.<|im_end|>\n";
  for (size_t i = 0; i < ms.size(); ++i) {
    const auto& m = ms[i];
    if (m.role == "user" || (m.role == "system" && i > 0) || m.role == "assistant")
      out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
    else if (m.role != "system")
      reject_role(m, i, t.format);
  }
  if (gen) out += "<|im_start|>assistant\n";
  return out;
}

std::string render_llama3(const ChatTemplate& t, const std::vector<ChatMessage>& ms, bool gen) {
  std::string out;
  for (size_t i = 0; i < ms.size(); ++i) {
    if (ms[i].role == "tool" || ms[i].role == "ipython") reject_role(ms[i], i, t.format);
    if (i == 0) out += t.bos_token;
    out += "<|start_header_id|>" + ms[i].role + "<|end_header_id|>\n\n" + py_strip(ms[i].content) +
           "<|eot_id|>";
  }
  if (gen) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  return out;
}

std::string render_llama31(const ChatTemplate& t, const std::vector<ChatMessage>& ms, bool gen) {
  size_t first = 0;
  std::string system;
  if (!ms.empty() && ms[0].role == "system") {
    system = py_strip(ms[0].content);
    first = 1;
  }
  std::string out = t.bos_token + "<|start_header_id|>system<|end_header_id|>\n\n" +
                    "Cutting Knowledge Date: December 2023\nToday Date: " + t.llama31_date +
                    "\n\n" + system + "<|eot_id|>";
  for (size_t i = first; i < ms.size(); ++i) {
    if (ms[i].role == "tool" || ms[i].role == "ipython") reject_role(ms[i], i, t.format);
    out += "<|start_header_id|>" + ms[i].role + "<|end_header_id|>\n\n" + py_strip(ms[i].content) +
           "<|eot_id|>";
  }
  if (gen) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  return out;
}

}  // namespace

std::string py_strip(const std::string& s) {
  // Find the first and one-past-last non-space code points.
  size_t begin = s.size(), end = 0;
  for (size_t i = 0; i < s.size();) {
    utf8proc_int32_t cp = -1;
    auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i), s.size() - i,
                              &cp);
    if (n <= 0) n = 1;
    if (cp < 0 || !py_space(cp)) {
      begin = std::min(begin, i);
      end = i + static_cast<size_t>(n);
    }
    i += static_cast<size_t>(n);
  }
  return begin >= end ? std::string() : s.substr(begin, end - begin);
}

ChatFormat chat_format_by_name(const std::string& name) {
  for (const auto& [n, f] : names())
    if (n == name) return f;
  throw Error("chat template \"" + name +
              "\" is unknown (deepseek-r1, deepseek-r1-nothink, qwen2.5, llama3, llama3.1)");
}

std::string chat_format_name(ChatFormat f) {
  for (const auto& [n, g] : names())
    if (g == f) return n;
  return "?";
}

ChatFormat detect_chat_format(const std::string& j, const std::string& origin) {
  auto has = [&](const char* s) { return j.find(s) != std::string::npos; };
  if (has("<｜User｜>") && has("<｜Assistant｜>"))
    return has("<｜Assistant｜><think>") ? ChatFormat::kDeepSeekR1 : ChatFormat::kDeepSeekR1NoThink;
  if (has("<|im_start|>") && has("You are Qwen, created by Alibaba Cloud"))
    return ChatFormat::kQwen25;
  // Llama 3.2's template stamps today's date (strftime_now) and differs in more than that.
  if (has("strftime_now"))
    throw Error(origin +
                ": chat_template takes today's date (Llama 3.2 style), which r1 does not render; "
                "choose one with --chat-template NAME");
  if (has("<|start_header_id|>") && has("<|eot_id|>"))
    return has("Cutting Knowledge Date") ? ChatFormat::kLlama31 : ChatFormat::kLlama3;
  throw Error(origin +
              ": chat_template is not one r1 renders (DeepSeek-R1, Qwen2.5, Llama 3/3.1); "
              "choose one with --chat-template NAME");
}

namespace {

// tokenizer_config.json's chat_template and bos_token, from a GGUF file's metadata.
nlohmann::json gguf_tokenizer_config(const std::string& path) {
  const GgufFile file(path);
  nlohmann::json cfg = nlohmann::json::object();
  if (file.has("tokenizer.chat_template")) cfg["chat_template"] = file.at("tokenizer.chat_template");
  const GgufVocab vocab = gguf_vocab(file);
  if (vocab.bos_id && *vocab.bos_id >= 0 && *vocab.bos_id < static_cast<int64_t>(vocab.tokens.size()))
    cfg["bos_token"] = vocab.tokens[*vocab.bos_id];
  return cfg;
}

}  // namespace

ChatTemplate load_chat_template(const std::string& dir, const std::string& override) {
  namespace fs = std::filesystem;
  ChatTemplate t;
  const bool gguf = is_gguf_file(dir);
  const fs::path cfg_path = gguf ? fs::path(dir) : fs::path(dir) / "tokenizer_config.json";
  nlohmann::json cfg = nlohmann::json::object();
  if (gguf)
    cfg = gguf_tokenizer_config(dir);
  else if (fs::exists(cfg_path))
    cfg = read_json_file(cfg_path.string());
  if (cfg.contains("bos_token")) {
    const auto& b = cfg["bos_token"];
    if (b.is_string())
      t.bos_token = b.get<std::string>();
    else if (b.is_object() && b.contains("content") && b["content"].is_string())
      t.bos_token = b["content"].get<std::string>();
  }
  if (!override.empty()) {
    if (override.size() > 6 && override.substr(override.size() - 6) == ".jinja")
      t.format = detect_chat_format(read_file(override), override);
    else
      t.format = chat_format_by_name(override);
    return t;
  }
  check(cfg.contains("chat_template"),
        cfg_path.string() + ": no chat_template (choose one with --chat-template NAME)");
  const auto& ct = cfg["chat_template"];
  check(ct.is_string(), cfg_path.string() + ": chat_template is not a single template string");
  t.format = detect_chat_format(ct.get<std::string>(), cfg_path.string());
  return t;
}

std::string render_chat(const ChatTemplate& t, const std::vector<ChatMessage>& messages, bool gen) {
  switch (t.format) {
    case ChatFormat::kDeepSeekR1:
    case ChatFormat::kDeepSeekR1NoThink:
      return render_deepseek(t, messages, gen);
    case ChatFormat::kQwen25:
      return render_qwen(t, messages, gen);
    case ChatFormat::kLlama3:
      return render_llama3(t, messages, gen);
    case ChatFormat::kLlama31:
      return render_llama31(t, messages, gen);
  }
  throw Error("unknown chat format");
}

}  // namespace r1
