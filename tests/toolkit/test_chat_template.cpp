// Native chat templates against transformers' apply_chat_template on the real template strings
// (goldens from tests/reference/make_chat_goldens.py), format detection, and rejected roles.
#include <nlohmann/json.hpp>

#include "tests/test_util.h"
#include "toolkit/chat_template.h"
#include "toolkit/error.h"
#include "toolkit/fs.h"

namespace r1 {
namespace {

TEST(ChatTemplate, EqualsTransformersOnEveryGolden) {
  auto goldens = nlohmann::json::parse(read_file("tests/data/goldens/chat_templates.json"));
  int checked = 0;
  for (const auto& g : goldens) {
    if (g.contains("tools")) continue;  // tool calls are not rendered natively
    const std::string name = g["template"].get<std::string>();
    const std::string file = "tests/data/chat_templates/" + name + ".jinja";
    ChatTemplate t;
    t.format = detect_chat_format(read_file(file), file);
    if (g["bos_token"].is_string()) t.bos_token = g["bos_token"].get<std::string>();
    std::vector<ChatMessage> ms;
    for (const auto& m : g["messages"])
      ms.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
    EXPECT_EQ(render_chat(t, ms, g["add_generation_prompt"].get<bool>()),
              g["rendered"].get<std::string>())
        << name << " / " << g["case"] << " / gen=" << g["add_generation_prompt"];
    ++checked;
  }
  EXPECT_GE(checked, 90);
}

TEST(ChatTemplate, DetectsFormatsAndNamesThem) {
  auto f = [](const char* n) {
    return detect_chat_format(read_file(std::string("tests/data/chat_templates/") + n + ".jinja"),
                              n);
  };
  EXPECT_EQ(f("deepseek_r1"), ChatFormat::kDeepSeekR1);
  EXPECT_EQ(f("deepseek_r1_old"), ChatFormat::kDeepSeekR1NoThink);
  EXPECT_EQ(f("qwen2_5"), ChatFormat::kQwen25);
  EXPECT_EQ(f("llama3"), ChatFormat::kLlama3);
  EXPECT_EQ(f("llama3_1"), ChatFormat::kLlama31);
  EXPECT_THROW(detect_chat_format("{{ messages }}", "x"), Error);
  EXPECT_THROW(
      detect_chat_format(
          "<|start_header_id|><|eot_id|>Cutting Knowledge Date{{ strftime_now('%d') }}", "x"),
      Error);
  EXPECT_EQ(chat_format_by_name("qwen2.5"), ChatFormat::kQwen25);
  EXPECT_THROW(chat_format_by_name("vicuna"), Error);
}

TEST(ChatTemplate, LoadsFromTokenizerConfigAndRejectsTools) {
  test::TempDir dir;
  nlohmann::json cfg = {
      {"bos_token", {{"content", "<｜begin▁of▁sentence｜>"}}},
      {"chat_template", read_file("tests/data/chat_templates/deepseek_r1.jinja")}};
  write_file_atomic(dir / "tokenizer_config.json", cfg.dump());
  auto t = load_chat_template(dir.path());
  EXPECT_EQ(t.format, ChatFormat::kDeepSeekR1);
  EXPECT_EQ(render_chat(t, {{"user", "1+1?"}}, true),
            "<｜begin▁of▁sentence｜><｜User｜>1+1?<｜Assistant｜><think>\n");
  EXPECT_EQ(load_chat_template(dir.path(), "qwen2.5").format, ChatFormat::kQwen25);
  EXPECT_THROW(render_chat(t, {{"tool", "{}"}}, true), Error);
  EXPECT_THROW(load_chat_template("/nonexistent"), Error);
}

TEST(ChatTemplate, PyStripIsUnicodeAware) {
  EXPECT_EQ(py_strip(" \t\n x y \u3000\u00a0"), "x y");
  EXPECT_EQ(py_strip("\x1c"
                     "a"
                     "\x1f"),
            "a");
  EXPECT_EQ(py_strip("   "), "");
  EXPECT_EQ(py_strip("\u200b"
                     "a"),
            "\u200b"
            "a");  // zero-width space is not whitespace in Python
}

}  // namespace
}  // namespace r1
