// Chat templates rendered by r1's Jinja engine against transformers' apply_chat_template:
// 64 real published templates (tests/data/chat_templates/corpus, provenance in its README) x 20
// conversations x add_generation_prompt on/off, goldens from tests/reference/make_jinja_goldens.py;
// the built-in shortcuts against the original five templates and their goldens; and finding a
// checkpoint's template the way transformers does.
#include <nlohmann/json.hpp>

#include "tests/test_util.h"
#include "toolkit/chat_template.h"
#include "toolkit/chat_templates_builtin.h"
#include "toolkit/error.h"
#include "toolkit/fs.h"

namespace r1 {
namespace {

using ojson = nlohmann::ordered_json;

std::tm fixed_now(const std::string& iso) {  // "2026-01-15T10:30:00"
  std::tm t{};
  t.tm_year = std::stoi(iso.substr(0, 4)) - 1900;
  t.tm_mon = std::stoi(iso.substr(5, 2)) - 1;
  t.tm_mday = std::stoi(iso.substr(8, 2));
  t.tm_hour = std::stoi(iso.substr(11, 2));
  t.tm_min = std::stoi(iso.substr(14, 2));
  t.tm_sec = std::stoi(iso.substr(17, 2));
  timegm(&t);  // fills in the weekday and day of the year
  return t;
}

TEST(ChatTemplate, EqualsTransformersOnEveryCorpusGolden) {
  const auto doc = ojson::parse(read_file("tests/data/goldens/jinja_templates.json"));
  const std::tm now = fixed_now(doc["fixed_now"].get<std::string>());
  std::map<std::string, ChatTemplate> templates;
  int rendered = 0, raised = 0;
  for (const auto& g : doc["cases"]) {
    const std::string name = g["template"].get<std::string>();
    const std::string where = name + " / " + g["case"].get<std::string>() +
                              " / gen=" + (g["add_generation_prompt"].get<bool>() ? "1" : "0");
    if (!templates.count(name)) {
      const std::string file = "tests/data/chat_templates/corpus/" + name + ".jinja";
      templates[name] = chat_template_from_source(read_file(file), file);
    }
    ChatTemplate t = templates[name];
    t.special_tokens = g["special_tokens"];
    ChatInput in;
    in.kwargs = g["kwargs"];
    in.tools = g.value("tools", ojson());
    in.documents = g.value("documents", ojson());
    in.now = now;
    std::string out, error;
    try {
      out = render_chat_json(t, g["messages"], g["add_generation_prompt"].get<bool>(), in);
    } catch (const Error& e) {
      error = e.what();
    }
    if (g.contains("rendered")) {
      EXPECT_EQ(error, "") << where;
      EXPECT_EQ(out, g["rendered"].get<std::string>()) << where;
      ++rendered;
    } else {
      EXPECT_NE(error, "") << where << ": transformers raises " << g["error_type"] << ": "
                           << g["error"];
      if (g["error_type"] == "TemplateError") {  // raise_exception: the template's own message
        EXPECT_NE(error.find(g["error"].get<std::string>()), std::string::npos)
            << where << ": " << error;
      }
      ++raised;
    }
  }
  EXPECT_GE(templates.size(), 25u);
  EXPECT_GE(rendered, 2000);
  EXPECT_GE(raised, 300);
}

TEST(ChatTemplate, BuiltinsAreTheRealTemplatesByteForByte) {
  for (const auto& b : builtin_chat_templates())
    EXPECT_EQ(std::string(b.source),
              read_file(std::string("tests/data/chat_templates/") + b.file + ".jinja"))
        << b.name;
  EXPECT_EQ(builtin_chat_templates().size(), 5u);
}

TEST(ChatTemplate, BuiltinsEqualTransformersOnTheirGoldens) {
  const auto goldens = ojson::parse(read_file("tests/data/goldens/chat_templates.json"));
  const std::map<std::string, std::string> by_file = {{"deepseek_r1", "deepseek-r1"},
                                                      {"deepseek_r1_old", "deepseek-r1-nothink"},
                                                      {"qwen2_5", "qwen2.5"},
                                                      {"llama3", "llama3"},
                                                      {"llama3_1", "llama3.1"}};
  int checked = 0;
  for (const auto& g : goldens) {
    ChatTemplate t = builtin_chat_template(by_file.at(g["template"].get<std::string>()));
    for (const char* k : {"bos_token", "eos_token"})
      if (g[k].is_string()) t.special_tokens[k] = g[k];
    ChatInput in;
    in.tools = g.value("tools", ojson());
    EXPECT_EQ(render_chat_json(t, g["messages"], g["add_generation_prompt"].get<bool>(), in),
              g["rendered"].get<std::string>())
        << g["template"] << " / " << g["case"] << " / gen=" << g["add_generation_prompt"];
    ++checked;
  }
  EXPECT_GE(checked, 100);
}

TEST(ChatTemplate, FindsTemplatesWhereTransformersDoes) {
  test::TempDir dir;
  const std::string d = dir.path();
  auto cfg = [&](const ojson& j) { write_file_atomic(d + "/tokenizer_config.json", j.dump()); };
  cfg({{"chat_template", "cfg {{ bos_token }}"},
       {"bos_token", {{"content", "<B>"}, {"__type", "AddedToken"}}}});
  EXPECT_EQ(render_chat(load_chat_template(d), {{"user", "x"}}, true), "cfg <B>");
  write_file_atomic(d + "/chat_template.json", R"({"chat_template": "json"})");
  EXPECT_EQ(render_chat(load_chat_template(d), {{"user", "x"}}, true),
            "cfg <B>");  // the config wins over .json
  write_file_atomic(d + "/chat_template.jinja", "file {{ messages[0].content }}\n");
  EXPECT_EQ(render_chat(load_chat_template(d), {{"user", "x"}}, true),
            "file x");  // the .jinja file wins
  std::filesystem::create_directories(d + "/additional_chat_templates");
  write_file_atomic(d + "/additional_chat_templates/tool_use.jinja", "tools {{ tools|tojson }}");
  const ChatTemplate t = load_chat_template(d);
  EXPECT_EQ(render_chat(t, {{"user", "x"}}, true), "file x");
  ChatInput with_tools;
  with_tools.tools = ojson::array({{{"type", "function"}}});
  EXPECT_EQ(render_chat(t, {{"user", "x"}}, true, with_tools),
            "tools [{\"type\": \"function\"}]");  // picked as transformers does
  EXPECT_EQ(render_chat(load_chat_template(d, "tool_use"), {{"user", "x"}}, true), "tools null");
  EXPECT_EQ(render_chat(load_chat_template(d, "llama3"), {{"user", "x"}}, false),
            "<B><|start_header_id|>user<|end_header_id|>\n\nx<|eot_id|>");
}

TEST(ChatTemplate, NamedTemplateListsInTheConfig) {
  test::TempDir dir;
  write_file_atomic(
      dir.path() + "/tokenizer_config.json",
      R"({"chat_template": [{"name": "default", "template": "D"}, {"name": "rag", "template": "R"}]})");
  EXPECT_EQ(render_chat(load_chat_template(dir.path()), {{"user", "x"}}, true), "D");
  EXPECT_EQ(render_chat(load_chat_template(dir.path(), "rag"), {{"user", "x"}}, true), "R");
}

TEST(ChatTemplate, ClearErrors) {
  test::TempDir dir;
  write_file_atomic(dir.path() + "/tokenizer_config.json", "{}");
  EXPECT_NE(test::error_of([&] { load_chat_template(dir.path()); }).find("no chat_template"),
            std::string::npos);
  const ChatTemplate none = load_chat_template(dir.path(), "", /*required=*/false);
  EXPECT_TRUE(none.empty());
  EXPECT_NE(test::error_of([&] {
              render_chat(none, {{"user", "x"}}, true);
            }).find("has no chat template"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] { builtin_chat_template("vicuna"); }).find("built in: deepseek-r1"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] {
              load_chat_template(dir.path(), "/nonexistent.jinja");
            }).find("no such file"),
            std::string::npos);
  const ChatTemplate mistral = chat_template_from_source(
      "{% if messages[0].role != 'user' %}{{ raise_exception('Only user turns first') }}{% endif "
      "%}",
      "m.jinja");
  EXPECT_EQ(test::error_of([&] {
              render_chat(mistral, {{"assistant", "x"}}, true);
            }),
            "chat template m.jinja refused the conversation: Only user turns first");
  EXPECT_NE(test::error_of([] {
              chat_template_from_source("a\n{% for %}", "bad.jinja");
            }).find("bad.jinja line 2"),
            std::string::npos);
  EXPECT_NE(test::error_of([] {
              parse_template_kwargs("[1]");
            }).find("--template-kwargs must be a JSON object"),
            std::string::npos);
  EXPECT_EQ(parse_template_kwargs(R"({"enable_thinking": false})")["enable_thinking"], false);
}

TEST(ChatTemplate, MessagesCarryReasoningAndToolCalls) {
  const ChatTemplate t = chat_template_from_source(
      "{% for m in messages %}{{ m|tojson }}\n{% endfor %}{{ enable_thinking }}", "t");
  ChatMessage a{"assistant", "",
                ojson{{"content", nullptr},
                      {"reasoning_content", "why"},
                      {"tool_calls", ojson::array({{{"type", "function"}}})}}};
  ChatInput in;
  in.kwargs = {{"enable_thinking", false}};
  EXPECT_EQ(render_chat(t, {{"user", "q"}, a}, false, in),
            "{\"role\": \"user\", \"content\": \"q\"}\n"
            "{\"thinking\": \"why\", \"role\": \"assistant\", \"reasoning_content\": \"why\", "
            "\"tool_calls\": [{\"type\": \"function\"}]}\nFalse");
}

TEST(ChatTemplate, PyStripIsUnicodeAware) {
  EXPECT_EQ(py_strip(" \t\n x y \u3000\u00a0"), "x y");
  EXPECT_EQ(py_strip("\x1c"
                     "a\x1f"),
            "a");
  EXPECT_EQ(py_strip("   "), "");
  EXPECT_EQ(py_strip("\u200b"
                     "a"),
            "\u200b"
            "a");  // zero-width space is not whitespace in Python
}

}  // namespace
}  // namespace r1
