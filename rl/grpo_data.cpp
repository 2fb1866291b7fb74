// GRPO prompt rows -> rendered, tokenized prompts (see grpo_data.h). The rendering goes through
// evals' protocol_messages so training prompts and r1eval's prompts are the same text.
#include "rl/grpo_data.h"

#include <memory>  // std::make_shared

#include "evals/benchmarks.h"  // r1::Problem
#include "evals/protocol.h"    // r1::Protocol, r1::protocol_messages
#include "sandbox/sandbox.h"   // r1::sandbox::parse_lang
#include "toolkit/error.h"     // r1::Error, r1::check
#include "toolkit/json.h"      // r1::for_each_jsonl_row

namespace r1 {
namespace {

[[noreturn]] void fail(const std::string& where, const std::string& message) {
  throw Error(where + ": " + message);
}

// A code row's task: stdin tests, the language of an untagged fence and optional limits (0 = the
// code grader's defaults).
std::shared_ptr<const CodeTask> code_task_of(const nlohmann::json& row, const std::string& where) {
  auto task = std::make_shared<CodeTask>();
  task->kind = CodeTask::Kind::Stdin;
  const auto& tests = row["tests"];
  if (!tests.is_array() || tests.empty())
    fail(where, std::string("\"tests\" is ") + (tests.is_array() ? "empty" : tests.type_name()) +
                    ", expected a non-empty list of {\"input\": ..., \"output\": ...}");
  for (size_t i = 0; i < tests.size(); ++i) {
    const auto& t = tests[i];
    const std::string at = "\"tests\"[" + std::to_string(i) + "]";
    if (!t.is_object()) fail(where, at + " is " + t.type_name() + ", expected an object");
    for (const char* field : {"input", "output"})
      if (!t.contains(field) || !t[field].is_string())
        fail(where, at + "." + field + " is " +
                        (t.contains(field) ? t[field].type_name() : "missing") +
                        ", expected a string");
    task->tests.push_back({t["input"].get<std::string>(), t["output"].get<std::string>()});
  }
  if (row.contains("language")) {
    if (!row["language"].is_string())
      fail(where, std::string("\"language\" is ") + row["language"].type_name() +
                      ", expected \"python\" or \"cpp\"");
    try {
      task->default_lang = sandbox::parse_lang(row["language"].get<std::string>());
    } catch (const Error& e) {
      fail(where, std::string("\"language\": ") + e.what());
    }
  }
  for (const char* field : {"time_limit_s", "memory_mb"}) {
    if (!row.contains(field)) continue;
    const auto& v = row[field];
    if (!v.is_number() || !(v.get<double>() > 0))
      fail(where, std::string("\"") + field + "\" is " + v.dump() + ", expected a positive number");
    if (std::string(field) == "time_limit_s")
      task->time_limit_s = v.get<double>();
    else
      task->memory_mb = v.get<int64_t>();
  }
  return task;
}

}  // namespace

std::string render_grpo_prompt(const GrpoPromptEncoder& enc, const std::string& problem) {
  Protocol p;
  p.prompt_template = enc.config.prompt_template;
  p.system_prompt = enc.config.system_prompt;
  Problem pr;
  pr.question = problem;
  return render_generation_prompt(enc.chat, protocol_messages(p, pr), enc.config.force_think);
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
  if (row.contains("tests")) {
    if (row.contains("answer"))
      fail(where, "both \"answer\" and \"tests\" (a row is math or code, not both)");
    out.code = code_task_of(row, where);
  } else {
    if (!row.contains("answer"))
      fail(where,
           "no \"answer\" field (the gold answer the rewards use; code rows give \"tests\")");
    const auto& a = row["answer"];
    if (a.is_string())
      out.answer = a.get<std::string>();
    else if (a.is_number())
      out.answer = a.dump();
    else
      fail(where, std::string("\"answer\" is ") + a.type_name() + ", expected a string or number");
  }
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
