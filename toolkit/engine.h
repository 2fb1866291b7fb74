// The generation engine: continuous batching over a Transformer and a KVCache. Requests are
// admitted as cache rows free up; the n samples of a prompt share one prefill (its K/V copied into
// n rows); every sample has its own seed, so its tokens do not depend on what else is in the batch.
// Leaves out paged attention, speculative decoding and prefix caching across requests.
#pragma once

#include <atomic>              // std::atomic
#include <condition_variable>  // std::condition_variable
#include <cstdint>             // int64_t, uint64_t
#include <deque>               // std::deque
#include <functional>          // std::function
#include <future>              // std::future
#include <memory>              // std::shared_ptr
#include <mutex>               // std::mutex
#include <string>              // std::string
#include <thread>              // std::thread
#include <vector>              // std::vector

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
  // Set (by another thread) to drop the request: EngineLoop frees its rows at the next step and
  // completes it with the samples done so far, the others finish_reason "cancelled".
  std::shared_ptr<std::atomic<bool>> cancelled;
  // Called on the generating thread as each token of sample j is taken (the stop token included),
  // before the sample can finish: streaming (r1serve). Must be quick and must not throw.
  std::function<void(int64_t sample, int64_t token)> on_token;
};

// One finished sample.
struct GeneratedSample {
  std::vector<int64_t> ids;     // generated tokens (the stop token included)
  std::vector<float> logprobs;  // log-prob of each generated token (see sample_tokens)
  std::string finish_reason;    // "stop" (stop id or string), "length" or "cancelled"
  std::string stop_string;      // the stop string matched, when one was
  // When its prefill began, its first token was sampled and it finished (steady-clock seconds;
  // 0 for a sample that never ran): time to first token and time per output token.
  double admitted_at = 0, first_token_at = 0, finished_at = 0;
};

struct EngineOptions {
  int64_t max_batch = 64;             // sequences decoded together (KV cache rows)
  int64_t max_prefill_tokens = 4096;  // padded prompt tokens per prefill forward
  int64_t max_context = 0;            // prompt + generated limit; 0 = max_position_embeddings
  // Turns generated ids into text; needed only for stop strings.
  std::function<std::string(const std::vector<int64_t>&)> detokenize;
};

// How full the batch was: decode steps run and sequences decoded over them (mean batch =
// rows / steps), prefill forwards, and how long the model worked.
struct EngineStats {
  int64_t decode_steps = 0, decode_rows = 0, prefills = 0;
  int64_t requests = 0;   // finished
  int64_t cancelled = 0;  // of them, cancelled before all their samples were done
  double busy_s = 0;      // wall time spent in model steps
  int64_t rows = 0;       // KV cache rows (sequences that can be decoded together)
  double mean_batch() const { return decode_steps ? double(decode_rows) / decode_steps : 0; }
  double batch_fill() const { return rows ? mean_batch() / double(rows) : 0; }
};

struct EnginePending;

class Engine {
 public:
  Engine(std::shared_ptr<Transformer> model, EngineOptions options = {});

  using OnSample = std::function<void(size_t request, int64_t sample, const GeneratedSample&)>;
  // Generates every sample of every request; result[i][j] is sample j of request i. on_sample, if
  // set, is called as each sample finishes (in completion order). Throws r1::Error for bad
  // requests (empty prompt, id out of vocabulary, prompt longer than the context) before any work.
  std::vector<std::vector<GeneratedSample>> generate(const std::vector<GenerationRequest>& requests,
                                                     const OnSample& on_sample = {});

  const Transformer& model() const { return *model_; }
  const EngineStats& stats() const { return stats_; }  // of the last generate()

 private:
  std::shared_ptr<Transformer> model_;
  EngineOptions options_;
  EngineStats stats_;
};

// The same engine for requests that arrive over time (r1serve): a thread runs continuous batching
// and admits each submitted request as soon as cache rows free up, so concurrent clients share
// decode steps. submit() is thread-safe.
class EngineLoop {
 public:
  EngineLoop(std::shared_ptr<Transformer> model, EngineOptions options = {});
  ~EngineLoop();  // stops the thread; requests not finished get an r1::Error through their future

  // Validates `request` (throws r1::Error at once when it is bad) and queues it. on_sample runs on
  // the loop thread as each sample finishes (request index 0); the future holds every sample.
  std::future<std::vector<GeneratedSample>> submit(GenerationRequest request,
                                                   Engine::OnSample on_sample = {});
  EngineStats stats() const;
  const Transformer& model() const { return *model_; }
  const EngineOptions& options() const { return options_; }

 private:
  void run();

  std::shared_ptr<Transformer> model_;
  EngineOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<EnginePending>> queue_;
  bool stopping_ = false;
  EngineStats stats_;
  std::thread thread_;
};

// Validates a request against a model's vocabulary and context; throws r1::Error naming the value.
void check_request(const GenerationRequest& r, size_t index, int64_t vocab_size,
                   int64_t max_context);

}  // namespace r1
