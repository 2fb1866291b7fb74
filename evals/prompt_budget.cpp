// Prompt byte bounds before tokenizing (see prompt_budget.h).
#include "evals/prompt_budget.h"

#include <algorithm>  // std::max
#include <string>     // std::to_string

#include "evals/openai_request.h"  // r1::RequestError

namespace r1 {

int64_t longest_token_bytes(const Tokenizer& tok) {
  int64_t longest = 1;
  for (int64_t id = 0; id < tok.vocab_size(); ++id)
    longest = std::max<int64_t>(longest, static_cast<int64_t>(tok.decode({id}).size()));
  return longest;
}

PromptBudget::PromptBudget(int64_t context_tokens, int64_t longest_token_bytes,
                           int64_t max_bytes_in_flight)
    : context_tokens_(context_tokens),
      max_prompt_bytes_(2 * context_tokens * std::max<int64_t>(longest_token_bytes, 1)),
      max_in_flight_(max_bytes_in_flight) {}

PromptBudget::Hold PromptBudget::admit(int64_t bytes) {
  if (bytes > max_prompt_bytes_)
    throw RequestError{400, "the prompt's " + std::to_string(bytes) +
                                " bytes cannot fit the context of " +
                                std::to_string(context_tokens_) + " tokens (at most " +
                                std::to_string(max_prompt_bytes_) + " bytes could)"};
  if (bytes > max_in_flight_)
    throw RequestError{413, "the prompt's " + std::to_string(bytes) +
                                " bytes exceed the server's budget of " +
                                std::to_string(max_in_flight_) +
                                " prompt bytes in flight (r1serve --max-bytes-in-flight)"};
  if (in_flight_.fetch_add(bytes) + bytes > max_in_flight_) {
    in_flight_ -= bytes;
    throw RequestError{503, "server busy: " + std::to_string(max_in_flight_) +
                                " prompt bytes are being tokenized; retry shortly"};
  }
  return Hold(in_flight_, bytes);
}

}  // namespace r1
