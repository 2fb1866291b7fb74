// The generation engine: continuous batching over a Transformer and a KVCache. Requests are
// admitted as cache rows free up; the n samples of a prompt share one prefill (its K/V copied into
// n rows); every sample has its own seed, so its tokens do not depend on what else is in the batch.
// Leaves out paged attention, speculative decoding and prefix caching across requests.
#pragma once

#include <cstdint>     // int64_t, uint64_t
#include <functional>  // std::function
#include <memory>      // std::shared_ptr
#include <string>      // std::string
#include <vector>      // std::vector

#include "toolkit/sampling.h"     // r1::SamplingParams
#include "toolkit/transformer.h"  // r1::Transformer

namespace r1 {

// One prompt and how to continue it.
struct GenerationRequest {
  std::vector<int64_t> prompt;            // token ids, at least one
  int64_t n = 1;                          // samples to draw
  SamplingParams sampling;                // temperature / top-p / top-k (temperature 0 = greedy)
  int64_t max_new_tokens = 256;           // per sample
  std::vector<int64_t> stop_ids;          // end a sample after one of these tokens (kept in ids)
  std::vector<std::string> stop_strings;  // end a sample once its text contains one (needs a
                                          // detokenizer in EngineOptions)
  uint64_t seed = 0;                      // sample j draws with derive_seed(seed, {j}) ...
  std::vector<uint64_t> sample_seeds;     // ... unless its seed is given here (size n)
};

// One finished sample.
struct GeneratedSample {
  std::vector<int64_t> ids;     // generated tokens (the stop token included)
  std::vector<float> logprobs;  // log-prob of each generated token (see sample_tokens)
  std::string finish_reason;    // "stop" (stop id or string) or "length"
  std::string stop_string;      // the stop string matched, when one was
};

struct EngineOptions {
  int64_t max_batch = 64;             // sequences decoded together (KV cache rows)
  int64_t max_prefill_tokens = 4096;  // padded prompt tokens per prefill forward
  int64_t max_context = 0;            // prompt + generated limit; 0 = max_position_embeddings
  // Turns generated ids into text; needed only for stop strings.
  std::function<std::string(const std::vector<int64_t>&)> detokenize;
};

class Engine {
 public:
  Engine(std::shared_ptr<Transformer> model, EngineOptions options = {});

  using OnSample = std::function<void(size_t request, int64_t sample, const GeneratedSample&)>;
  // Generates every sample of every request; result[i][j] is sample j of request i. on_sample, if
  // set, is called as each sample finishes (in completion order). Throws r1::Error for bad
  // requests (empty prompt, id out of vocabulary, prompt longer than the context) before any work.
  std::vector<std::vector<GeneratedSample>> generate(const std::vector<GenerationRequest>& requests,
                                                     const OnSample& on_sample = {});

  // Full-sequence greedy logits without a cache, for tests: logits of the last position (V).
  const Transformer& model() const { return *model_; }

 private:
  std::shared_ptr<Transformer> model_;
  EngineOptions options_;
};

// Validates a request against a model's vocabulary and context; throws r1::Error naming the value.
void check_request(const GenerationRequest& r, size_t index, int64_t vocab_size,
                   int64_t max_context);

}  // namespace r1
