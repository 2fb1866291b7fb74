// Chat templates: a model's own Jinja template(s), found the way transformers finds them and
// rendered by r1's Jinja engine (toolkit/jinja.h) with exactly the variables apply_chat_template
// passes: messages (None-valued keys dropped, reasoning aliased as reasoning_content/thinking),
// tools, documents, add_generation_prompt, the tokenizer's named special tokens, and any template
// kwargs (--template-kwargs / chat_template_kwargs, e.g. {"enable_thinking": false}).
// Built-in shortcuts, each a real published template: "deepseek-r1", "deepseek-r1-nothink",
// "qwen2.5", "llama3", "llama3.1".
#pragma once

#include <ctime>     // std::tm
#include <map>       // std::map
#include <memory>    // std::shared_ptr
#include <optional>  // std::optional
#include <string>    // std::string
#include <vector>    // std::vector

#include <nlohmann/json.hpp>  // nlohmann::ordered_json

#include "toolkit/jinja.h"  // r1::jinja::Template

namespace r1 {

struct ChatMessage {
  std::string role;     // "system", "user", "assistant", "tool", ...
  std::string content;  // text
  // Other fields a template may read, in order: reasoning_content, tool_calls, tool_call_id,
  // name... (a JSON object; a "content" key here replaces `content`, null drops it).
  nlohmann::ordered_json extra = nullptr;
};

struct ChatTemplate {
  std::shared_ptr<const jinja::Template> jinja;                         // the default template
  std::map<std::string, std::shared_ptr<const jinja::Template>> named;  // e.g. "tool_use", "rag"
  std::string name;       // where it came from: a built-in name, or the file that held it
  std::string sha256;     // of the default template's source (or of the named ones, joined)
  std::string bos_token;  // the tokenizer's BOS text ("" when none)
  nlohmann::ordered_json special_tokens =
      nlohmann::ordered_json::object();                              // bos_token, eos_token, ...
  nlohmann::ordered_json kwargs = nlohmann::ordered_json::object();  // extra template variables
  bool empty() const { return !jinja && named.empty(); }
};

// What one render adds to the template's own kwargs.
struct ChatInput {
  nlohmann::ordered_json tools = nullptr;      // a list of JSON-schema functions, or null
  nlohmann::ordered_json documents = nullptr;  // a list of {title, text}, or null
  nlohmann::ordered_json kwargs = nlohmann::ordered_json::object();  // per-call template kwargs
  std::string template_name;   // one of ChatTemplate::named ("" picks as transformers does)
  std::optional<std::tm> now;  // strftime_now's local time (absent: the clock)
};

// The built-in template `name` (list above); throws r1::Error naming the choices.
ChatTemplate builtin_chat_template(const std::string& name);
// A template from Jinja source; `origin` names it in errors.
ChatTemplate chat_template_from_source(const std::string& source, const std::string& origin);

// The template of a checkpoint or tokenizer directory, or a GGUF file: chat_template.jinja and
// additional_chat_templates/*.jinja, else tokenizer_config.json's chat_template (a string, or a
// list of {name, template}), else chat_template.json; with the special tokens from
// tokenizer_config.json. `override` is a built-in name, a .jinja file, or the name of one of the
// model's named templates. Throws r1::Error when there is none, unless `required` is false (then
// the result is empty() and render_chat on it throws).
ChatTemplate load_chat_template(const std::string& dir, const std::string& override = "",
                                bool required = true);

// The prompt text for `messages` (add_generation_prompt opens the assistant turn).
std::string render_chat(const ChatTemplate& t, const std::vector<ChatMessage>& messages,
                        bool add_generation_prompt, const ChatInput& input = {});
// The same for messages given as OpenAI-style JSON objects (role, content, tool_calls, ...).
std::string render_chat_json(const ChatTemplate& t, const nlohmann::ordered_json& messages,
                             bool add_generation_prompt, const ChatInput& input = {});

// --template-kwargs TEXT: a JSON object, or r1::Error naming `flag`.
nlohmann::ordered_json parse_template_kwargs(const std::string& text,
                                             const std::string& flag = "--template-kwargs");
// --tools FILE: a JSON list of JSON-schema functions, or r1::Error naming the file.
nlohmann::ordered_json read_tools_file(const std::string& path);

// Python's str.strip(): Unicode whitespace removed from both ends.
std::string py_strip(const std::string& s);

}  // namespace r1
