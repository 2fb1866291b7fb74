// Chat templates found and rendered as transformers does (see chat_template.h).
#include "toolkit/chat_template.h"

#include <filesystem>  // std::filesystem

#include "toolkit/chat_templates_builtin.h"  // r1::builtin_chat_templates
#include "toolkit/error.h"                   // r1::Error, r1::check
#include "toolkit/fs.h"                      // r1::read_file
#include "toolkit/gguf.h"                    // r1::GgufFile, r1::is_gguf_file
#include "toolkit/gguf_tokenizer.h"          // r1::gguf_vocab
#include "toolkit/jinja_builtins.h"          // r1::jinja::py_strip_chars, TemplateRaised
#include "toolkit/json.h"                    // r1::read_json_file
#include "toolkit/sha256.h"                  // r1::sha256_hex

namespace r1 {
namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

const char* const kSpecialTokens[] = {"bos_token", "eos_token", "unk_token", "sep_token",
                                      "pad_token", "cls_token", "mask_token"};

std::shared_ptr<const jinja::Template> compile(const std::string& source,
                                               const std::string& origin) {
  return std::make_shared<const jinja::Template>(source, origin);
}

std::string builtin_names() {
  std::string s;
  for (const auto& b : builtin_chat_templates()) s += (s.empty() ? "" : ", ") + std::string(b.name);
  return s;
}

// A special token as tokenizer_config.json writes it: a string or an AddedToken object.
std::optional<std::string> token_text(const ojson& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string())
    return v["content"].get<std::string>();
  return std::nullopt;
}

void read_special_tokens(const ojson& cfg, ChatTemplate& t) {
  for (const char* k : kSpecialTokens)
    if (cfg.contains(k))
      if (auto s = token_text(cfg[k])) t.special_tokens[k] = *s;
  if (t.special_tokens.contains("bos_token"))
    t.bos_token = t.special_tokens["bos_token"].get<std::string>();
}

// tokenizer_config.json's chat_template and special tokens, from a GGUF file's metadata.
ojson gguf_tokenizer_config(const std::string& path) {
  const GgufFile file(path);
  ojson cfg = ojson::object();
  if (file.has("tokenizer.chat_template"))
    cfg["chat_template"] = file.at("tokenizer.chat_template");
  const GgufVocab vocab = gguf_vocab(file);
  auto token = [&](const std::optional<int64_t>& id, const char* key) {
    if (id && *id >= 0 && *id < static_cast<int64_t>(vocab.tokens.size()))
      cfg[key] = vocab.tokens[*id];
  };
  token(vocab.bos_id, "bos_token");
  token(vocab.eos_id, "eos_token");
  token(vocab.unk_id, "unk_token");
  token(vocab.pad_id, "pad_token");
  return cfg;
}

void set_sources(ChatTemplate& t, const std::map<std::string, std::string>& sources,
                 const std::string& origin) {
  std::string all;
  for (const auto& [name, src] : sources) {
    const std::string where =
        sources.size() == 1 ? origin : origin + " (template \"" + name + "\")";
    auto tpl = compile(src, where);
    if (name == "default") t.jinja = tpl;
    t.named[name] = tpl;
    all += (sources.size() == 1 ? "" : name + "\n") + src;
  }
  if (sources.size() == 1 && t.jinja) t.named.clear();
  t.name = origin;
  t.sha256 = sha256_hex(all);
}

// chat_template.jinja and additional_chat_templates/*.jinja, which take priority over the config.
std::map<std::string, std::string> template_files(const fs::path& dir) {
  std::map<std::string, std::string> sources;
  if (fs::is_regular_file(dir / "chat_template.jinja"))
    sources["default"] = read_file((dir / "chat_template.jinja").string());
  const fs::path extra = dir / "additional_chat_templates";
  if (fs::is_directory(extra))
    for (const auto& e : fs::directory_iterator(extra))
      if (e.is_regular_file() && e.path().extension() == ".jinja")
        sources[e.path().stem().string()] = read_file(e.path().string());
  return sources;
}

// tokenizer_config.json's (or chat_template.json's) chat_template: a string, or [{name, template}].
std::map<std::string, std::string> config_templates(const ojson& v, const std::string& origin) {
  std::map<std::string, std::string> sources;
  if (v.is_string()) {
    sources["default"] = v.get<std::string>();
  } else if (v.is_array()) {
    for (const auto& e : v) {
      check(e.is_object() && e.contains("name") && e["name"].is_string() &&
                e.contains("template") && e["template"].is_string(),
            origin + ": chat_template list entries must be {\"name\": ..., \"template\": ...}");
      sources[e["name"].get<std::string>()] = e["template"].get<std::string>();
    }
  } else if (!v.is_null()) {
    throw Error(origin + ": chat_template must be a string or a list of {name, template}");
  }
  return sources;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The model's own templates (empty map when it has none) and where they came from.
std::map<std::string, std::string> model_templates(const std::string& dir, const ojson& cfg,
                                                   std::string* origin) {
  if (is_gguf_file(dir)) {
    *origin = dir + " (tokenizer.chat_template)";
    return config_templates(cfg.value("chat_template", ojson()), *origin);
  }
  const fs::path d(dir);
  auto files = template_files(d);
  if (!files.empty()) {
    *origin = (d / (files.count("default") ? "chat_template.jinja" : "additional_chat_templates"))
                  .string();
    return files;
  }
  if (cfg.contains("chat_template")) {
    *origin = (d / "tokenizer_config.json").string();
    return config_templates(cfg["chat_template"], *origin);
  }
  if (fs::is_regular_file(d / "chat_template.json")) {
    *origin = (d / "chat_template.json").string();
    const ojson j = ojson::parse(read_file(*origin), nullptr, false);
    check(j.is_object(), *origin + ": not a JSON object");
    return config_templates(j.value("chat_template", ojson()), *origin);
  }
  return {};
}

ojson read_config(const std::string& dir) {
  if (is_gguf_file(dir)) return gguf_tokenizer_config(dir);
  const fs::path p = fs::path(dir) / "tokenizer_config.json";
  if (!fs::exists(p)) return ojson::object();
  const ojson j = ojson::parse(read_file(p.string()), nullptr, false);
  check(!j.is_discarded() && j.is_object(), p.string() + ": not a JSON object");
  return j;
}

// What apply_chat_template does to a message: None-valued keys dropped, then reasoning under
// `thinking` first and `reasoning_content` (transformers' _alias_reasoning_fields).
ojson normalize_message(const ojson& m, size_t index) {
  check(m.is_object(), "message " + std::to_string(index) + " is not a JSON object");
  ojson out = ojson::object();
  for (auto it = m.begin(); it != m.end(); ++it)
    if (!it.value().is_null()) out[it.key()] = it.value();
  const ojson* reasoning = nullptr;
  for (const char* k : {"reasoning_content", "thinking", "reasoning"})
    if (!reasoning && out.contains(k)) reasoning = &out[k];
  if (!reasoning) return out;
  const ojson r = *reasoning;
  ojson aliased = ojson::object();
  aliased["thinking"] = r;
  for (auto it = out.begin(); it != out.end(); ++it) aliased[it.key()] = it.value();
  aliased["reasoning_content"] = r;
  return aliased;
}

const jinja::Template& pick(const ChatTemplate& t, const ChatInput& in) {
  if (t.empty())
    throw Error(
        "the model has no chat template (no chat_template.jinja, tokenizer_config.json "
        "chat_template or "
        "chat_template.json): choose one with --chat-template NAME|FILE.jinja (" +
        builtin_names() + ")");
  if (!in.template_name.empty()) {
    const auto it = t.named.find(in.template_name);
    check(it != t.named.end(), t.name + ": no chat template named \"" + in.template_name + "\"");
    return *it->second;
  }
  if (t.jinja && t.named.empty()) return *t.jinja;
  if (!in.tools.is_null() && t.named.count("tool_use")) return *t.named.at("tool_use");
  if (t.jinja) return *t.jinja;
  std::string names;
  for (const auto& kv : t.named) names += (names.empty() ? "" : ", ") + kv.first;
  throw Error(t.name + ": the model has several chat templates and no default (" + names +
              "): name one with --chat-template NAME");
}

}  // namespace

ChatTemplate builtin_chat_template(const std::string& name) {
  for (const auto& b : builtin_chat_templates())
    if (name == b.name) {
      ChatTemplate t = chat_template_from_source(b.source, std::string(b.name) + " (built in)");
      t.name = b.name;
      return t;
    }
  throw Error("chat template \"" + name + "\" is unknown (built in: " + builtin_names() +
              "; or give a .jinja file)");
}

ChatTemplate chat_template_from_source(const std::string& source, const std::string& origin) {
  ChatTemplate t;
  set_sources(t, {{"default", source}}, origin);
  return t;
}

ChatTemplate load_chat_template(const std::string& dir, const std::string& override,
                                bool required) {
  const ojson cfg = read_config(dir);
  ChatTemplate t;
  std::string origin;
  const auto sources = model_templates(dir, cfg, &origin);
  if (!override.empty()) {
    if (ends_with(override, ".jinja")) {
      check(fs::is_regular_file(override), "--chat-template " + override + ": no such file");
      t = chat_template_from_source(read_file(override), override);
    } else if (sources.count(override)) {
      t = chat_template_from_source(sources.at(override),
                                    origin + " (template \"" + override + "\")");
    } else {
      t = builtin_chat_template(override);
    }
  } else if (!sources.empty()) {
    set_sources(t, sources, origin);
  } else if (required) {
    const std::string where =
        is_gguf_file(dir) ? dir : (fs::path(dir) / "tokenizer_config.json").string();
    throw Error(
        where +
        ": no chat_template (nor chat_template.jinja or chat_template.json beside it); choose one "
        "with --chat-template NAME|FILE.jinja (" +
        builtin_names() + ")");
  }
  read_special_tokens(cfg, t);
  return t;
}

std::string render_chat_json(const ChatTemplate& t, const ojson& messages,
                             bool add_generation_prompt, const ChatInput& input) {
  const jinja::Template& tpl = pick(t, input);
  check(messages.is_array(), "messages must be a JSON list");
  ojson vars = t.special_tokens;
  for (auto it = t.kwargs.begin(); it != t.kwargs.end(); ++it) vars[it.key()] = it.value();
  for (auto it = input.kwargs.begin(); it != input.kwargs.end(); ++it) vars[it.key()] = it.value();
  ojson msgs = ojson::array();
  for (size_t i = 0; i < messages.size(); ++i) msgs.push_back(normalize_message(messages[i], i));
  vars["messages"] = std::move(msgs);
  vars["tools"] = input.tools;
  vars["documents"] = input.documents;
  vars["add_generation_prompt"] = add_generation_prompt;
  try {
    return tpl.render(jinja::Value::from_json(vars), input.now ? &*input.now : nullptr);
  } catch (const jinja::TemplateRaised& e) {
    throw Error("chat template " + tpl.origin() + " refused the conversation: " + e.what());
  }
}

std::string render_chat(const ChatTemplate& t, const std::vector<ChatMessage>& messages,
                        bool add_generation_prompt, const ChatInput& input) {
  ojson list = ojson::array();
  for (const auto& m : messages) {
    ojson j = ojson::object();
    j["role"] = m.role;
    j["content"] = m.content;
    if (m.extra.is_object())
      for (auto it = m.extra.begin(); it != m.extra.end(); ++it) j[it.key()] = it.value();
    list.push_back(std::move(j));
  }
  return render_chat_json(t, list, add_generation_prompt, input);
}

ojson parse_template_kwargs(const std::string& text, const std::string& flag) {
  if (text.empty()) return ojson::object();
  const ojson j = ojson::parse(text, nullptr, false);
  check(!j.is_discarded() && j.is_object(),
        flag + " must be a JSON object, e.g. '{\"enable_thinking\": false}' (got " + text + ")");
  return j;
}

ojson read_tools_file(const std::string& path) {
  check(fs::is_regular_file(path), "--tools " + path + ": no such file");
  const ojson j = ojson::parse(read_file(path), nullptr, false);
  check(!j.is_discarded(), "--tools " + path + ": not valid JSON");
  check(j.is_array(), "--tools " + path + ": must be a JSON list of tools (JSON-schema functions)");
  for (size_t i = 0; i < j.size(); ++i)
    check(j[i].is_object(),
          "--tools " + path + ": tool " + std::to_string(i) + " is not a JSON object");
  return j;
}

std::string py_strip(const std::string& s) { return jinja::py_strip_chars(s, nullptr, true, true); }

}  // namespace r1
