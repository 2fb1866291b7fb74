// GRPO prompt rows -> rendered, tokenized prompts (see grpo_data.h). The rendering goes through
// evals' protocol_messages so training prompts and r1eval's prompts are the same text.
#include "rl/grpo_data.h"

#include "evals/benchmarks.h"  // r1::Problem
#include "evals/protocol.h"    // r1::Protocol, r1::protocol_messages
#include "rl/train_common.h"    // r1::for_each_jsonl_row
#include "toolkit/error.h"     // r1::Error, r1::check

namespace r1 {
namespace {

[[noreturn]] void fail(const std::string& where, const std::string& message) {
  throw Error(where + ": " + message);
}

}  // namespace

std::string render_generation_prompt(const ChatTemplate& chat,
                                     const std::vector<ChatMessage>& messages) {
  std::string text = render_chat(chat, messages, /*add_generation_prompt=*/true);
  const std::string think = "<think>\n";
  if (text.size() < think.size() ||
      text.compare(text.size() - think.size(), think.size(), think) != 0)
    text += think;
  return text;
}

std::string render_grpo_prompt(const GrpoPromptEncoder& enc, const std::string& problem) {
  Protocol p;
  p.prompt_template = enc.config.prompt_template;
  p.system_prompt = enc.config.system_prompt;
  Problem pr;
  pr.question = problem;
  return render_generation_prompt(enc.chat, protocol_messages(p, pr));
}

GrpoPrompt encode_grpo_row(const nlohmann::json& row, const GrpoPromptEncoder& enc,
                           const std::string& where) {
  check(enc.tokenizer != nullptr, "encode_grpo_row: no tokenizer");
  if (!row.is_object())
    fail(where, std::string("the row is ") + row.type_name() +
                    ", expected an object {\"prompt\": ..., \"answer\": ...}");
  GrpoPrompt out;
  if (!row.contains("prompt")) fail(where, "no \"prompt\" field");
  if (!row["prompt"].is_string())
    fail(where, std::string("\"prompt\" is ") + row["prompt"].type_name() + ", expected a string");
  out.problem = row["prompt"].get<std::string>();
  if (out.problem.find_first_not_of(" \t\r\n") == std::string::npos)
    fail(where, "\"prompt\" is blank");
  if (!row.contains("answer")) fail(where, "no \"answer\" field (the gold answer the rewards use)");
  const auto& a = row["answer"];
  if (a.is_string())
    out.answer = a.get<std::string>();
  else if (a.is_number())
    out.answer = a.dump();
  else
    fail(where, std::string("\"answer\" is ") + a.type_name() + ", expected a string or number");
  if (row.contains("id")) {
    const auto& id = row["id"];
    if (!id.is_string() && !id.is_number())
      fail(where, std::string("\"id\" is ") + id.type_name() + ", expected a string or number");
    out.id = id.is_string() ? id.get<std::string>() : id.dump();
  }
  std::string text;
  try {
    text = render_grpo_prompt(enc, out.problem);
  } catch (const Error& e) {
    fail(where, e.what());
  }
  // The rendered prompt carries its own BOS, so no post-processor specials (as r1eval).
  out.ids = enc.tokenizer->encode(text, /*add_special_tokens=*/false);
  const auto n = static_cast<int64_t>(out.ids.size());
  if (n >= enc.config.max_context)
    fail(where, "the prompt is " + std::to_string(n) +
                    " tokens, which leaves no room to generate "
                    "in the context of " +
                    std::to_string(enc.config.max_context) + " tokens; shorten or drop this row");
  return out;
}

std::vector<GrpoPrompt> load_grpo_prompts(const std::string& path, const GrpoPromptEncoder& enc) {
  std::vector<GrpoPrompt> out;
  for_each_jsonl_row(path, [&](const nlohmann::json& row, const std::string& where, int64_t line) {
    out.push_back(encode_grpo_row(row, enc, where));
    out.back().line = line;
    if (out.back().id.empty()) out.back().id = std::to_string(line);
  });
  check(!out.empty(), path + ": no rows (expected JSONL with \"prompt\" and \"answer\")");
  return out;
}

}  // namespace r1
