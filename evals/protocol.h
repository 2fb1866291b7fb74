// Evaluation protocols: how a benchmark problem becomes a prompt and how it is sampled. Presets:
// "r1" (DeepSeek-R1: no system prompt, the problem then "Please reason step by step, and put your
// final answer within \boxed{}." in the user turn, the response forced to start with "<think>\n",
// temperature 0.6, top-p 0.95, 32,768 new tokens, 16 samples), "r1-64" (the same with 64 samples,
// as the R1 README reports), "greedy" (temperature 0, one sample) and "grpo" (R1's, with the
// row's text as the whole user turn: r1train grpo's and r1distill --protocol grpo's prompts). Code
// problems get their benchmark's own prompt (code_benchmarks.h code_prompt) through
// code_prompt_template, without the \boxed{} instruction. Every field can be overridden; the
// resolved protocol is stored with the run. Leaves out few-shot prompts.
#pragma once

#include <nlohmann/json.hpp>  // nlohmann::json

#include <cstdint>  // int64_t, uint64_t
#include <string>   // std::string
#include <vector>   // std::vector

#include "evals/benchmarks.h"       // r1::Problem
#include "toolkit/chat_template.h"  // r1::ChatMessage

namespace r1 {

struct Protocol {
  std::string preset = "r1";
  std::string system_prompt;  // empty: no system turn (R1's recommendation)
  // The user turn; "{problem}" is replaced by the question.
  std::string prompt_template =
      "{problem}\nPlease reason step by step, and put your final answer within \\boxed{}.";
  // The user turn of a code problem; "{problem}" is replaced by its benchmark's prompt.
  std::string code_prompt_template = "{problem}";
  bool force_think = true;  // the response starts with "<think>\n" (added to the prompt)
  double temperature = 0.6;
  double top_p = 0.95;
  int64_t top_k = 0;
  int64_t max_new_tokens = 32768;
  int64_t samples = 16;           // per problem
  uint64_t seed = 0;              // the run seed; each sample's seed derives from it
  std::string extract = "boxed";  // extraction preset (extract.h)
  int float_places = 6;           // grader: decimals a decimal answer must match

  bool operator==(const Protocol&) const = default;
};

// "r1", "r1-64", "greedy", "grpo"; throws r1::Error listing them otherwise.
Protocol protocol_preset(const std::string& name);
nlohmann::json protocol_to_json(const Protocol& p);
// Throws r1::Error naming `where` and the field.
Protocol protocol_from_json(const nlohmann::json& j, const std::string& where);
// The fields that decide what is generated (not the grading ones): two runs whose generation
// fields differ must not share a sample store. Returns the first differing field, or "".
std::string generation_difference(const Protocol& a, const Protocol& b);

// The chat messages of a problem under a protocol.
std::vector<ChatMessage> protocol_messages(const Protocol& p, const Problem& problem);

// The prompt text of a chat under a template, with the generation prompt, and "<think>\n"
// appended when force_think is set and the template did not already end with it (DeepSeek-R1's
// current template does).
std::string render_generation_prompt(const ChatTemplate& chat,
                                     const std::vector<ChatMessage>& messages, bool force_think);

// The seed of one sample: a function of (run seed, benchmark, problem id, sample index) only,
// below 2^31 so every OpenAI-compatible server accepts it.
uint64_t sample_seed(uint64_t run_seed, const std::string& benchmark, const std::string& problem_id,
                     int64_t sample_index);

}  // namespace r1
