// GRPO prompts: JSONL rows, each rendered with the checkpoint's chat template and the protocol's
// user-turn template (the reasoning forced open with "<think>\n", as r1eval renders it) and
// tokenized once; errors name FILE:LINE. A math row is {"prompt", "answer"}; a code row is
// {"prompt", "tests": [{"input", "output"}, ...]} (stdin -> expected stdout, judged in r1's sandbox
// by the accuracy reward), with optional "language" (of an untagged fence: "python", the default,
// or "cpp"), "time_limit_s" and "memory_mb"; either may carry an "id". Leaves out functional and
// HumanEval-style code rows and prompt truncation: a prompt that leaves no room to generate is
// refused, naming its line.
#pragma once

#include <nlohmann/json.hpp>  // nlohmann::json

#include <cstdint>  // int64_t
#include <memory>   // std::shared_ptr
#include <string>   // std::string
#include <vector>   // std::vector

#include "evals/code_benchmarks.h"  // r1::CodeTask
#include "toolkit/chat_template.h"  // r1::ChatTemplate
#include "toolkit/tokenizer.h"      // r1::Tokenizer

namespace r1 {

// How a row's prompt becomes the tokens the policy continues.
struct GrpoPromptConfig {
  // The user turn; "{problem}" is replaced by the row's "prompt" (r1eval's --prompt-template).
  std::string prompt_template = "{problem}";
  std::string system_prompt;   // "" = no system turn (R1's recommendation)
  int64_t max_context = 4096;  // prompt tokens must be fewer (at least one token left to sample)
  // The prompt opens the reasoning ("<think>\n" appended unless the template ends with it), as
  // R1 trains; false for a chat model that answers without a think block.
  bool force_think = true;
};

// One training prompt.
struct GrpoPrompt {
  std::string id;       // the row's "id", else its line number
  std::string problem;  // the row's "prompt" (what the rewards read as the question)
  std::string answer;   // math: the gold answer (a number is kept as its JSON text)
  std::shared_ptr<const CodeTask> code;  // code rows: the tests; null for math
  std::vector<int64_t> ids;  // the rendered prompt's tokens (ending in "<think>\n" if forced)
  int64_t line = 0;          // 1-based line in its file
};

// The tokenizer and template prompts are encoded with (from the checkpoint directory).
struct GrpoPromptEncoder {
  const Tokenizer* tokenizer = nullptr;
  ChatTemplate chat;
  GrpoPromptConfig config;
};

// The prompt text of `problem`: the protocol's messages (evals/protocol.h protocol_messages with
// config's templates) through render_generation_prompt (config's force_think), as r1eval's native
// backend renders them.
std::string render_grpo_prompt(const GrpoPromptEncoder& enc, const std::string& problem);

// Encodes one parsed row; `where` ("FILE:LINE") starts every error, which names the field: a row
// that is not an object, a missing or non-string "prompt", neither or both of "answer" (string or
// number) and "tests" (a non-empty list of {"input": string, "output": string}), a bad "language",
// "time_limit_s" or "memory_mb", a prompt of max_context tokens or more.
GrpoPrompt encode_grpo_row(const nlohmann::json& row, const GrpoPromptEncoder& enc,
                           const std::string& where);
// Reads a JSONL file (blank lines skipped); errors name FILE:LINE.
std::vector<GrpoPrompt> load_grpo_prompts(const std::string& path, const GrpoPromptEncoder& enc);

}  // namespace r1
