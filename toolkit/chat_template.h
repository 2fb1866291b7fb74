// Chat templates rendered natively (no Jinja): DeepSeek-R1 / R1-Distill (current, whose generation
// prompt forces "<think>\n", and the earlier one), Qwen2.5 (ChatML with its default system prompt)
// and Llama 3 / 3.1. Output equals transformers' apply_chat_template on the real template strings
// (tests/data/chat_templates). Leaves out tool calls and tool results: they are rejected.
#pragma once

#include <string>  // std::string
#include <vector>  // std::vector

namespace r1 {

enum class ChatFormat { kDeepSeekR1, kDeepSeekR1NoThink, kQwen25, kLlama3, kLlama31 };

struct ChatMessage {
  std::string role;     // "system", "user" or "assistant"
  std::string content;  // text
};

struct ChatTemplate {
  ChatFormat format = ChatFormat::kDeepSeekR1;
  std::string bos_token;                     // the tokenizer's BOS text, where the format uses one
  std::string llama31_date = "26 Jul 2024";  // Llama 3.1's "Today Date" (the template's default)
};

// Names: "deepseek-r1", "deepseek-r1-nothink" (the template before the forced "<think>\n"),
// "qwen2.5", "llama3", "llama3.1".
ChatFormat chat_format_by_name(const std::string& name);
std::string chat_format_name(ChatFormat f);
// Recognises one of the formats from a Jinja template string; throws r1::Error naming `origin`
// when it is none of them.
ChatFormat detect_chat_format(const std::string& jinja, const std::string& origin);
// The template of a checkpoint or tokenizer directory (tokenizer_config.json: chat_template and
// bos_token), or a named format / a .jinja file when `override` is set.
ChatTemplate load_chat_template(const std::string& dir, const std::string& override = "");

// The prompt text for `messages`; with add_generation_prompt the assistant turn is opened (and,
// for DeepSeek-R1, "<think>\n" forced). Throws r1::Error for roles the format cannot render.
std::string render_chat(const ChatTemplate& t, const std::vector<ChatMessage>& messages,
                        bool add_generation_prompt);

// Python's str.strip(): Unicode whitespace removed from both ends (Llama's `| trim`).
std::string py_strip(const std::string& s);

}  // namespace r1
