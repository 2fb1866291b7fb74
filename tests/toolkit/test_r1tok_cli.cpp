// r1tok and the text paths of r1gen, as a user runs them: encode/decode/chat from the shell, a
// checkpoint with a real tokenizer and chat template (a random model r1 writes itself, with the
// R1-Distill tokenizer), --prompt, --chat, --stop, and clean errors.
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "tests/test_util.h"
#include "toolkit/fs.h"
#include "toolkit/tokenizer.h"
#include "toolkit/transformer.h"

namespace r1 {
namespace {

namespace fs = std::filesystem;
const std::string kTok =
    r1::test::shared_data("tokenizers/deepseek_r1_distill_qwen_tokenizer.json");

TEST(R1tok, EncodeDecodeChat) {
  test::TempDir dir;
  std::ofstream(dir / "in.txt") << "Hello <think>x</think>";
  auto enc = test::run_command(test::bin("r1tok") + " encode --tokenizer " + kTok +
                               " --special < " + (dir / "in.txt"));
  ASSERT_EQ(enc.exit_code, 0) << enc.out;
  EXPECT_EQ(nlohmann::json::parse(enc.out).get<std::vector<int64_t>>(),
            (std::vector<int64_t>{151646, 9707, 220, 151648, 87, 151649}));
  std::ofstream(dir / "lines.jsonl") << "\"a b\"\n\"\\u6570\\u5b66\"\n";
  auto jl = test::run_command(test::bin("r1tok") + " encode --jsonl --tokenizer " + kTok + " < " +
                              (dir / "lines.jsonl"));
  ASSERT_EQ(jl.exit_code, 0) << jl.out;
  EXPECT_EQ(std::count(jl.out.begin(), jl.out.end(), '\n'), 2);
  std::ofstream(dir / "ids.json") << "[151646, 9707]";
  auto dec = test::run_command(test::bin("r1tok") + " decode --skip-special --tokenizer " + kTok +
                               " < " + (dir / "ids.json"));
  EXPECT_EQ(dec.out, "Hello");
  nlohmann::json cfg = {
      {"bos_token", "<｜begin▁of▁sentence｜>"},
      {"chat_template", read_file("tests/data/chat_templates/deepseek_r1.jinja")}};
  std::ofstream(dir / "tokenizer_config.json") << cfg.dump();
  std::ofstream(dir / "msgs.json") << R"([{"role":"user","content":"1+1?"}])";
  auto chat = test::run_command(test::bin("r1tok") + " chat --tokenizer " + dir.path() + " < " +
                                (dir / "msgs.json"));
  EXPECT_EQ(chat.out, "<｜begin▁of▁sentence｜><｜User｜>1+1?<｜Assistant｜><think>\n");
  // Issue 19: tools, template kwargs and OpenAI-style messages (tool calls, reasoning) reach the
  // model's own template; a named built-in template; flags with bad values get one clear line.
  std::ofstream(dir / "chat_template.jinja")
      << "{% for m in messages %}[{{ m.role }}|{{ m.reasoning_content }}|{{ m.tool_calls|tojson if "
         "m.tool_calls "
         "is defined }}]{% endfor %}{{ tools|tojson }}{{ enable_thinking }}";
  std::ofstream(dir / "tools.json")
      << R"([{"type": "function", "function": {"name": "f", "parameters": {}}}])";
  std::ofstream(dir / "calls.json")
      << R"([{"role":"user","content":"q"},{"role":"assistant","content":null,"reasoning_content":"why",)"
         R"("tool_calls":[{"type":"function","function":{"name":"f","arguments":{"b":1,"a":2}}}]}])";
  auto tools = test::run_command(
      test::bin("r1tok") + " chat --tokenizer " + dir.path() + " --tools " + (dir / "tools.json") +
      " --template-kwargs '{\"enable_thinking\": false}' < " + (dir / "calls.json"));
  ASSERT_EQ(tools.exit_code, 0) << tools.out;
  EXPECT_EQ(tools.out,
            "[user||][assistant|why|[{\"type\": \"function\", \"function\": {\"name\": \"f\", "
            "\"arguments\": "
            "{\"b\": 1, \"a\": 2}}}]][{\"type\": \"function\", \"function\": {\"name\": \"f\", "
            "\"parameters\": "
            "{}}}]False");
  auto named =
      test::run_command(test::bin("r1tok") + " chat --tokenizer " + dir.path() +
                        " --chat-template qwen2.5 --no-generation-prompt < " + (dir / "msgs.json"));
  EXPECT_EQ(named.out,
            "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful "
            "assistant.<|im_end|>\n"
            "<|im_start|>user\n1+1?<|im_end|>\n");
  for (const std::string& flags :
       {std::string(" --template-kwargs '[1]'"), std::string(" --tools /nonexistent")}) {
    auto r = test::run_command(test::bin("r1tok") + " chat --tokenizer " + dir.path() + flags +
                               " < " + (dir / "msgs.json"));
    EXPECT_NE(r.exit_code, 0) << flags;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  }
  std::filesystem::remove(dir / "chat_template.jinja");
  auto bad = test::run_command(test::bin("r1tok") + " encode --tokenizer /nonexistent.json < " +
                               (dir / "in.txt"));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.out.find("r1tok: error: /nonexistent.json"), std::string::npos) << bad.out;
  std::ofstream(dir / "bad.jsonl") << "\"ok\"\n{oops\n";
  auto badl = test::run_command(test::bin("r1tok") + " encode --jsonl --tokenizer " + kTok + " < " +
                                (dir / "bad.jsonl"));
  EXPECT_NE(badl.out.find("line 2"), std::string::npos) << badl.out;
}

TEST(R1gen, TextPromptsChatAndStopStrings) {
  test::TempDir dir;
  // A random Qwen2 model over the R1-Distill vocabulary, written by r1 itself.
  ModelConfig c;
  c.model_type = "qwen2";
  c.vocab_size = 151665;
  c.hidden_size = 16;
  c.intermediate_size = 32;
  c.num_hidden_layers = 1;
  c.num_attention_heads = 2;
  c.num_key_value_heads = 1;
  c.head_dim = 8;
  c.max_position_embeddings = 512;
  c.qkv_bias = true;
  c.tie_word_embeddings = true;
  c.eos_token_ids = {151643};
  {
    torch::manual_seed(0);
    Transformer m(c, torch::kFloat);
    torch::NoGradGuard g;
    for (auto& p : m.parameters()) p.normal_(0, 0.5);
    save_transformer(m, dir / "m");
  }
  fs::copy_file(kTok, dir / "m/tokenizer.json");
  nlohmann::json cfg = {
      {"bos_token", "<｜begin▁of▁sentence｜>"},
      {"eos_token", "<｜end▁of▁sentence｜>"},
      {"chat_template", read_file("tests/data/chat_templates/deepseek_r1.jinja")}};
  std::ofstream(dir / "m/tokenizer_config.json") << cfg.dump();
  const Tokenizer tk = Tokenizer::load(dir / "m");  // names from tokenizer_config.json
  EXPECT_EQ(tk.bos_id, 151646);
  EXPECT_EQ(tk.eos_id, 151643);
  EXPECT_EQ(tk.pad_id, std::nullopt);
  const std::string base = test::bin("r1gen") + " --model " + (dir / "m");
  auto r = test::run_command(
      base + " --prompt 'What is 1+1?' --chat --n 2 --temperature 1 --max-new-tokens 6 --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::istringstream lines(r.out);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line);
    EXPECT_TRUE(j["text"].is_string());
    ++n;
  }
  EXPECT_EQ(n, 2);
  // A stop string taken from a known sample's text stops the same sample there.
  auto first = nlohmann::json::parse(r.out.substr(0, r.out.find('\n')));
  const std::string text = first["text"].get<std::string>();
  if (!text.empty() && text[0] != '\'' && text[0] != '\\') {
    // The first whole UTF-8 character of the text.
    const unsigned char lead = static_cast<unsigned char>(text[0]);
    const size_t len = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    std::string stop = text.substr(0, len);
    auto s = test::run_command(
        base +
        " --prompt 'What is 1+1?' --chat --n 1 --temperature 1 --max-new-tokens 6 --json --stop '" +
        stop + "'");
    ASSERT_EQ(s.exit_code, 0) << s.out;
    auto j = nlohmann::json::parse(s.out);
    EXPECT_EQ(j["finish_reason"], "stop");
    EXPECT_EQ(j["stop"], stop);
  }
  auto plain = test::run_command(base + " --prompt 'Hello' --max-new-tokens 3");
  EXPECT_EQ(plain.exit_code, 0) << plain.out;
  auto bad = test::run_command(base + " --prompt 'Hi' --chat --chat-template vicuna");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.out.find("vicuna"), std::string::npos) << bad.out;
  auto no_tok = test::run_command(test::bin("r1gen") +
                                  " --model tests/data/models/qwen2-gqa-fp32 --prompt hi");
  EXPECT_NE(no_tok.out.find("no tokenizer.json"), std::string::npos) << no_tok.out;
}

}  // namespace
}  // namespace r1
