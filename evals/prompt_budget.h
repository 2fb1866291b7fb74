// What r1serve lets a prompt cost before it is tokenized (issue 17, D3): four concurrent 16 MB
// prompts were tokenized in full before the context check and took the server from 133 MB to
// 3.2 GB. A prompt is refused by its byte length first: no text longer than the context times the
// vocabulary's longest token (twice, for normalisation) can fit. And the bytes being tokenized at
// once are bounded: a prompt that would pass the bound gets 503 with Retry-After.
#pragma once

#include <atomic>   // std::atomic
#include <cstdint>  // int64_t

#include "toolkit/tokenizer.h"  // r1::Tokenizer

namespace r1 {

// The most bytes any one token's text has (special tokens included).
int64_t longest_token_bytes(const Tokenizer& tok);

class PromptBudget {
 public:
  PromptBudget(int64_t context_tokens, int64_t longest_token_bytes, int64_t max_bytes_in_flight);

  // Holds a prompt's bytes of the in-flight budget while alive.
  class Hold {
   public:
    Hold(std::atomic<int64_t>& in_flight, int64_t bytes) : in_flight_(in_flight), bytes_(bytes) {}
    ~Hold() { in_flight_ -= bytes_; }
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;

   private:
    std::atomic<int64_t>& in_flight_;
    int64_t bytes_;
  };

  // Checks `bytes` of prompt text and holds them: throws RequestError 400 when they cannot fit
  // the context, 413 when they exceed the in-flight budget alone, 503 when they do not fit beside
  // the prompts being tokenized now.
  [[nodiscard]] Hold admit(int64_t bytes);

  int64_t max_prompt_bytes() const { return max_prompt_bytes_; }

 private:
  int64_t context_tokens_, max_prompt_bytes_, max_in_flight_;
  std::atomic<int64_t> in_flight_{0};
};

}  // namespace r1
