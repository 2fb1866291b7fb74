// Generation backends behind one interface: the native engine over a local Hugging Face checkpoint
// (all prompts batched together, the samples of a prompt sharing one prefill, the batch kept full)
// and OpenAI-compatible HTTP servers (vLLM, SGLang, llama.cpp server, DeepSeek's API, r1serve):
// /v1/chat/completions or /v1/completions, N connections, keep-alive, several endpoints
// round-robin, retries with backoff on connection errors, timeouts, 429 and 5xx. Every sample is
// one request with its own seed, so results do not depend on concurrency or order.
// Leaves out streaming and batch APIs.
#pragma once

#include <nlohmann/json.hpp>  // nlohmann::json

#include <cstdint>     // int64_t, uint64_t
#include <functional>  // std::function
#include <memory>      // std::shared_ptr, std::unique_ptr
#include <string>      // std::string
#include <utility>     // std::pair
#include <vector>      // std::vector

#include "toolkit/chat_template.h"  // r1::ChatMessage

namespace r1 {

class Transformer;  // toolkit/transformer.h

// One prompt and the samples wanted of it.
struct PromptJob {
  std::string benchmark, problem_id;
  std::vector<ChatMessage> messages;
  std::vector<std::pair<int64_t, uint64_t>> samples;  // (sample index, seed)
};

struct GenParams {
  double temperature = 0.6, top_p = 0.95;
  int64_t top_k = 0, max_new_tokens = 32768;
  bool force_think = true;  // the response starts with "<think>\n" (where the backend can force it)
};

// One finished sample.
struct Completion {
  std::string text;       // what the model wrote (after a forced "<think>\n")
  std::string reasoning;  // reasoning_content, when the server returns it apart from the text
  std::string finish_reason;
  int64_t prompt_tokens = -1, completion_tokens = -1;  // -1: unknown
  double latency_s = 0;
  // Time to first token (native: from the prefill's start; HTTP: from the request's send to the
  // first streamed text) and time per output token after it; -1 where not measured (a request
  // without streaming has no first token).
  double ttft_s = -1, tpot_s = -1;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // What generated the samples (kind, model, endpoint...), stored with the run.
  virtual nlohmann::json describe() const = 0;
  // A hash of exactly what this backend sends for `job` (rendered prompt or messages).
  virtual std::string prompt_hash(const PromptJob& job, const GenParams& params) = 0;
  // What it sends for `job`: the rendered prompt text, or the messages (chat API).
  virtual nlohmann::json prompt_payload(const PromptJob& job, const GenParams& params) const = 0;
  // Called as each sample finishes, possibly from several threads at once, once per sample.
  using OnDone =
      std::function<void(size_t job, int64_t sample_index, uint64_t seed, const Completion& c)>;
  // Generates every sample of every job. Throws r1::Error when it has to give up (a dead server
  // after the retries, a request the server refuses); samples already reported stay reported.
  virtual void generate(const std::vector<PromptJob>& jobs, const GenParams& params,
                        const OnDone& on_done) = 0;
  // How full the batch was during the last generate(): batch_fill in [0, 1] (native: mean
  // decoded rows / cache rows; HTTP: mean requests in flight / --concurrency), and what it came
  // from.
  virtual nlohmann::json stats() const = 0;
};

struct NativeOptions {
  std::string model_dir;
  std::string dtype = "auto";   // "auto": float32 on CPU, the checkpoint's dtype on CUDA
  std::string device = "cpu";   // "cpu", "cuda", "cuda:1"
  std::string chat_template;    // a format name or .jinja file; empty: the checkpoint's
  std::string template_kwargs;  // JSON object of extra chat-template variables ("" = none)
  int64_t max_batch = 64;       // sequences decoded together
  int64_t max_context = 0;      // 0: the model's
  int threads = 0;              // CPU threads for LibTorch; 0: its default
};
// Messages as OpenAI-style JSON objects: [{"role", "content"}, ...].
nlohmann::json messages_json(const std::vector<ChatMessage>& messages);

std::unique_ptr<Backend> make_native_backend(const NativeOptions& options);
// The native backend over a model already in memory (a trainer's live policy), generating with
// `model` as it is at each generate() call; tokenizer, chat template and stop ids come from
// options.model_dir, whose weights are not loaded (dtype, device and threads are unused).
// describe() says kind "live" and `name` as the model.
std::unique_ptr<Backend> make_native_backend(std::shared_ptr<Transformer> model,
                                             const NativeOptions& options, const std::string& name);

struct HttpOptions {
  std::vector<std::string> endpoints;  // base URLs, e.g. http://host:8000/v1
  std::string served_model;            // "model" field; empty: the first of GET /models
  std::string api = "chat";            // "chat" or "completions"
  std::string api_key;                 // empty: $R1_API_KEY, then $OPENAI_API_KEY
  std::string tokenizer_dir;           // completions API: renders the chat template locally
  std::string chat_template;           // completions API: format name or .jinja override
  std::string template_kwargs;  // chat API: sent as chat_template_kwargs; completions: used here
  int concurrency = 16;         // connections (requests in flight)
  double timeout_s = 1800;      // per request
  int max_retries = 8;          // per sample, on connection errors, 429, 5xx, bad JSON
  double retry_base_s = 1;      // backoff: base * 2^try, at most 60 s (or Retry-After)
  std::string ca_file;          // extra CA bundle for https
  // "stream": true (Server-Sent Events), so each sample's time to first token is measured; a
  // server that answers with one JSON body instead is read as such (no TTFT then).
  bool stream = true;
};
std::unique_ptr<Backend> make_http_backend(const HttpOptions& options);

}  // namespace r1
