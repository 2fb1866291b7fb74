// Generation backends (see backend.h).
#include "evals/backend.h"

#include <torch/torch.h>  // at::set_num_threads

#include <algorithm>   // std::min
#include <atomic>      // std::atomic
#include <cctype>      // std::tolower
#include <chrono>      // std::chrono
#include <cmath>       // std::pow
#include <cstdio>      // std::fprintf
#include <cstdlib>     // std::getenv
#include <filesystem>  // std::filesystem
#include <mutex>       // std::mutex
#include <optional>    // std::optional
#include <thread>      // std::thread

#include "evals/extract.h"         // r1::kPromptTooLong
#include "evals/openai_stream.h"   // r1::CompletionStream, r1::read_usage
#include "evals/protocol.h"        // r1::render_generation_prompt
#include "toolkit/engine.h"        // r1::Engine
#include "toolkit/error.h"         // r1::Error, r1::check
#include "toolkit/http.h"          // r1::HttpClient
#include "toolkit/json.h"          // r1::dump_json
#include "toolkit/model_config.h"  // r1::load_generation_defaults
#include "toolkit/model_source.h"  // r1::check_model_path, r1::check_model_tokenizer
#include "toolkit/progress.h"      // r1::seconds_since
#include "toolkit/sha256.h"        // r1::sha256_hex
#include "toolkit/tokenizer.h"     // r1::Tokenizer

namespace r1 {
namespace {

using Clock = std::chrono::steady_clock;

// ---- native ----------------------------------------------------------------------------------

class NativeBackend : public Backend {
 public:
  // With `model`, generates with it (the live backend named `live_name`); else loads model_dir's.
  explicit NativeBackend(const NativeOptions& o, std::shared_ptr<Transformer> model = nullptr,
                         std::string live_name = "")
      : options_(o), model_(std::move(model)), live_name_(std::move(live_name)) {
    check_model_path(o.model_dir, "--model");
    check_model_tokenizer(o.model_dir, "r1eval needs the checkpoint's tokenizer");
    if (!model_) {
      if (o.threads > 0) at::set_num_threads(o.threads);
      model_ = load_transformer_for(o.model_dir, o.dtype, o.device);
    }
    tok_ = Tokenizer::load(o.model_dir);
    tmpl_ = load_chat_template(o.model_dir, o.chat_template);
    tmpl_.kwargs = parse_template_kwargs(o.template_kwargs);
    const auto gen = load_generation_defaults(o.model_dir);
    eos_ = stop_token_ids(gen, model_->config());
    if (eos_.empty() && tok_->eos_id) eos_.push_back(*tok_->eos_id);
  }

  nlohmann::json describe() const override {
    if (!live_name_.empty())
      return {{"kind", "live"},
              {"model", live_name_},
              {"chat_template", tmpl_.name},
              {"chat_template_sha256", tmpl_.sha256},
              {"template_kwargs", tmpl_.kwargs}};
    return {{"kind", "native"},
            {"model", std::filesystem::absolute(options_.model_dir).lexically_normal().string()},
            {"chat_template", tmpl_.name},
            {"chat_template_sha256", tmpl_.sha256},
            {"template_kwargs", tmpl_.kwargs},
            {"dtype", options_.dtype},
            {"device", options_.device}};
  }

  std::string prompt_hash(const PromptJob& job, const GenParams& params) override {
    return sha256_hex(render_generation_prompt(tmpl_, job.messages, params.force_think));
  }

  nlohmann::json prompt_payload(const PromptJob& job, const GenParams& params) const override {
    return render_generation_prompt(tmpl_, job.messages, params.force_think);
  }

  void generate(const std::vector<PromptJob>& jobs, const GenParams& params,
                const OnDone& on_done) override {
    std::vector<GenerationRequest> requests;
    std::vector<size_t> job_of;
    const int64_t context =
        options_.max_context > 0 ? options_.max_context : model_->config().max_position_embeddings;
    for (size_t i = 0; i < jobs.size(); ++i) {
      if (jobs[i].samples.empty()) continue;
      GenerationRequest r;
      // The rendered prompt carries its own BOS, so no post-processor specials (as transformers).
      r.prompt = tok_->encode(render_generation_prompt(tmpl_, jobs[i].messages, params.force_think),
                              false);
      if (static_cast<int64_t>(r.prompt.size()) >= context) {
        report_prompt_too_long(jobs[i], i, static_cast<int64_t>(r.prompt.size()), on_done);
        continue;
      }
      r.n = static_cast<int64_t>(jobs[i].samples.size());
      r.sampling.temperature = params.temperature;
      r.sampling.top_p = params.top_p;
      r.sampling.top_k = params.top_k;
      r.max_new_tokens = params.max_new_tokens;
      r.stop_ids = eos_;
      for (const auto& s : jobs[i].samples) r.sample_seeds.push_back(s.second);
      requests.push_back(std::move(r));
      job_of.push_back(i);
    }
    EngineOptions eo;
    eo.max_batch = options_.max_batch;
    eo.max_context = options_.max_context;
    Engine engine(model_, eo);
    const auto start = Clock::now();
    engine.generate(requests, [&](size_t req, int64_t sample, const GeneratedSample& g) {
      const size_t job = job_of[req];
      Completion c;
      std::vector<int64_t> ids = g.ids;
      if (!ids.empty() && g.finish_reason == "stop" &&
          std::find(eos_.begin(), eos_.end(), ids.back()) != eos_.end())
        ids.pop_back();
      c.text = tok_->decode(ids, /*skip_special_tokens=*/true);
      c.finish_reason = g.finish_reason;
      c.prompt_tokens = static_cast<int64_t>(requests[req].prompt.size());
      c.completion_tokens = static_cast<int64_t>(g.ids.size());
      c.latency_s = seconds_since(start);
      if (g.first_token_at > 0) {
        c.ttft_s = g.first_token_at - g.admitted_at;
        if (g.ids.size() >= 2)
          c.tpot_s = (g.finished_at - g.first_token_at) / double(g.ids.size() - 1);
      }
      on_done(job, jobs[job].samples[sample].first, jobs[job].samples[sample].second, c);
    });
    stats_ = engine.stats();
  }

  // A prompt that does not fit the context is one outcome per sample, not the run's end (D11).
  static void report_prompt_too_long(const PromptJob& job, size_t index, int64_t tokens,
                                     const OnDone& on_done) {
    Completion c;
    c.finish_reason = kPromptTooLong;
    c.prompt_tokens = tokens;
    c.completion_tokens = 0;
    for (const auto& [sample, seed] : job.samples) on_done(index, sample, seed, c);
  }

  nlohmann::json stats() const override {
    return {{"decode_steps", stats_.decode_steps},
            {"prefills", stats_.prefills},
            {"mean_batch", stats_.mean_batch()},
            {"rows", stats_.rows},
            {"batch_fill", stats_.batch_fill()}};
  }

 private:
  NativeOptions options_;
  std::shared_ptr<Transformer> model_;
  std::string live_name_;
  std::optional<Tokenizer> tok_;
  ChatTemplate tmpl_;
  std::vector<int64_t> eos_;
  EngineStats stats_;
};

// ---- HTTP ------------------------------------------------------------------------------------

// Thrown for an attempt worth retrying (connection trouble, 429, 5xx, a malformed answer).
struct Retryable {
  std::string what;
  double retry_after_s = -1;
};

// Whether a server's 400 says the request does not fit the model's context, as vLLM ("This
// model's maximum context length is ..."), SGLang ("... longer than the model's context length"),
// llama.cpp ("exceeds the available context size"), OpenAI (context_length_exceeded) and r1serve
// ("does not fit the context", "no room in the context") word it.
bool is_context_error(const std::string& message) {
  std::string m = message;
  for (char& ch : m) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (const char* phrase : {"maximum context length", "context length", "context_length",
                             "context size", "fit the context", "room in the context"})
    if (m.find(phrase) != std::string::npos) return true;
  return false;
}

std::string server_message(const std::string& body) {
  try {
    const auto j = nlohmann::json::parse(body);
    if (j.contains("error")) {
      const auto& e = j["error"];
      if (e.is_object() && e.contains("message") && e["message"].is_string())
        return e["message"].get<std::string>();
      if (e.is_string()) return e.get<std::string>();
    }
    if (j.contains("detail") && j["detail"].is_string()) return j["detail"].get<std::string>();
  } catch (const nlohmann::json::exception&) {
  }
  return body.substr(0, 200);
}

class HttpBackend : public Backend {
 public:
  explicit HttpBackend(const HttpOptions& o) : options_(o) {
    check(!o.endpoints.empty(), "give at least one --endpoint URL");
    check(o.api == "chat" || o.api == "completions",
          "--api " + o.api + ": must be chat or completions");
    check(o.concurrency >= 1, "--concurrency must be at least 1");
    check(o.timeout_s > 0, "--timeout must be positive");
    check(o.max_retries >= 0, "--retries must be >= 0");
    for (const auto& e : o.endpoints) urls_.push_back(parse_url(e));
    template_kwargs_ =
        parse_template_kwargs(o.template_kwargs);  // a clear error before any request
    check(o.api == "completions" || o.chat_template.empty(),
          "--chat-template " + o.chat_template +
              ": the chat API renders the server's own template (start the server with it, or use "
              "--api completions --tokenizer DIR to render here)");
    api_key_ = o.api_key;
    for (const char* var : {"R1_API_KEY", "OPENAI_API_KEY"})
      if (api_key_.empty())
        if (const char* v = std::getenv(var); v && *v) api_key_ = v;
    if (o.api == "completions") {
      check(!o.tokenizer_dir.empty(),
            "--api completions renders the chat template here: give --tokenizer DIR (the "
            "model's tokenizer_config.json)");
      tmpl_ = load_chat_template(o.tokenizer_dir, o.chat_template);
      tmpl_->kwargs = template_kwargs_;
    }
    preflight();
  }

  nlohmann::json describe() const override {
    nlohmann::json d = {{"kind", "http"},
                        {"endpoints", options_.endpoints},
                        {"served_model", model_},
                        {"api", options_.api},
                        {"stream", options_.stream}};
    if (tmpl_) {
      d["chat_template"] = tmpl_->name;
      d["chat_template_sha256"] = tmpl_->sha256;
    }
    if (!template_kwargs_.empty()) d["template_kwargs"] = template_kwargs_;
    return d;
  }

  std::string prompt_hash(const PromptJob& job, const GenParams& params) override {
    const nlohmann::json p = prompt_payload(job, params);
    return sha256_hex(p.is_string() ? p.get<std::string>() : p.dump());
  }

  void generate(const std::vector<PromptJob>& jobs, const GenParams& params,
                const OnDone& on_done) override {
    struct Item {
      size_t job;
      size_t sample;
    };
    std::vector<Item> items;
    for (size_t i = 0; i < jobs.size(); ++i)
      for (size_t s = 0; s < jobs[i].samples.size(); ++s) items.push_back({i, s});
    std::atomic<size_t> next{0}, rr{0};
    std::atomic<bool> stop{false};
    std::mutex err_mu;
    std::string first_error;
    auto fail = [&](const std::string& what) {
      std::lock_guard<std::mutex> lock(err_mu);
      if (first_error.empty()) first_error = what;
      stop = true;
    };
    auto worker = [&] {
      std::vector<std::unique_ptr<HttpClient>> clients(urls_.size());
      for (;;) {
        if (stop) return;
        const size_t k = next.fetch_add(1);
        if (k >= items.size()) return;
        const Item it = items[k];
        const PromptJob& job = jobs[it.job];
        const auto [index, seed] = job.samples[it.sample];
        const std::string body = request_body(job, params, seed);
        std::string last;
        for (int attempt = 0;; ++attempt) {
          const size_t e = rr.fetch_add(1) % urls_.size();
          if (!clients[e])
            clients[e] =
                std::make_unique<HttpClient>(urls_[e], options_.timeout_s, options_.ca_file);
          const auto start = Clock::now();
          try {
            Completion c = options_.stream ? attempt_streamed(*clients[e], body, start,
                                                              text_cap(params.max_new_tokens))
                                           : read_reply(post(*clients[e], body));
            c.latency_s = seconds_since(start);
            add_busy(c.latency_s);
            bound_text(c, params.max_new_tokens);
            on_done(it.job, index, seed, c);
            break;
          } catch (const Retryable& r) {
            last = options_.endpoints[e] + ": " + r.what;
            if (attempt >= options_.max_retries) {
              fail("gave up on problem " + job.problem_id + " sample " + std::to_string(index) +
                   " after " + std::to_string(attempt + 1) + " tries: " + last);
              return;
            }
            double wait = options_.retry_base_s * std::pow(2.0, attempt);
            if (r.retry_after_s >= 0) wait = r.retry_after_s;
            wait = std::min(wait, 60.0);
            // Sleep in slices so a failure elsewhere stops this worker promptly.
            const auto until = Clock::now() + std::chrono::duration<double>(wait);
            while (Clock::now() < until) {
              if (stop) return;
              std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
          } catch (const std::exception& ex) {
            fail(options_.endpoints[e] + ": " + ex.what());
            return;
          }
        }
      }
    };
    const int n = std::min<int>(options_.concurrency, std::max<size_t>(items.size(), 1));
    busy_s_ = 0;
    const auto start = Clock::now();
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
    wall_s_ = seconds_since(start);
    if (!first_error.empty()) throw Error(first_error);
  }

  // Mean requests in flight = the requests' summed seconds / the wall time of generate().
  nlohmann::json stats() const override {
    const double in_flight = wall_s_ > 0 ? busy_s_ / wall_s_ : 0;
    return {{"mean_in_flight", in_flight},
            {"concurrency", options_.concurrency},
            {"batch_fill", in_flight / double(options_.concurrency)}};
  }

 private:
  HttpHeaders headers() const {
    if (api_key_.empty()) return {};
    return {{"Authorization", "Bearer " + api_key_}};
  }

  // GET /models on each endpoint: fails fast on a dead server or a bad key, and names the model
  // when --served-model is not given.
  void preflight() {
    for (size_t e = 0; e < urls_.size(); ++e) {
      HttpClient client(urls_[e], std::min(options_.timeout_s, 30.0), options_.ca_file);
      HttpResponse r;
      try {
        r = client.request("GET", "/models", "", headers());
      } catch (const HttpError& ex) {
        throw Error("endpoint " + options_.endpoints[e] + " is unreachable: " + ex.what() +
                    " (is the server running?)");
      }
      if (r.status == 401 || r.status == 403)
        throw Error("endpoint " + options_.endpoints[e] + " refused the API key (HTTP " +
                    std::to_string(r.status) + "): set $R1_API_KEY or $OPENAI_API_KEY");
      if (r.status != 200 || !model_.empty() || !options_.served_model.empty()) continue;
      try {
        const auto j = nlohmann::json::parse(r.body);
        model_ = j.at("data").at(0).at("id").get<std::string>();
      } catch (const nlohmann::json::exception&) {
      }
    }
    if (!options_.served_model.empty()) model_ = options_.served_model;
    check(!model_.empty(), "endpoint " + options_.endpoints[0] +
                               " does not list its models: give --served-model NAME");
  }

  std::string request_body(const PromptJob& job, const GenParams& p, uint64_t seed) const {
    nlohmann::json b = {{"model", model_},  {"temperature", p.temperature},
                        {"top_p", p.top_p}, {"max_tokens", p.max_new_tokens},
                        {"seed", seed},     {"n", 1}};
    if (p.top_k > 0) b["top_k"] = p.top_k;
    if (options_.stream) {
      b["stream"] = true;
      b["stream_options"] = {{"include_usage", true}};  // the token counts, in the last chunk
    }
    b[tmpl_ ? "prompt" : "messages"] = prompt_payload(job, p);
    if (!tmpl_ && !template_kwargs_.empty())  // vLLM's way to reach the server's template
      b["chat_template_kwargs"] = template_kwargs_;
    return dump_json(b);
  }

  // What a request carries of the job: the rendered prompt text (completions API) or the
  // messages (chat API).
  nlohmann::json prompt_payload(const PromptJob& job, const GenParams& p) const override {
    if (tmpl_) {
      // Servers tokenize a completions prompt with its special tokens (vLLM, llama.cpp, r1serve
      // add the BOS), so the template's own BOS text is left out.
      std::string prompt = render_generation_prompt(*tmpl_, job.messages, p.force_think);
      if (!tmpl_->bos_token.empty() && prompt.rfind(tmpl_->bos_token, 0) == 0)
        prompt.erase(0, tmpl_->bos_token.size());
      return prompt;
    }
    return messages_json(job.messages);
  }

  // A server that ignores max_tokens (or misbehaves) can send megabytes of text: what r1eval
  // stores is bounded by what max_new_tokens tokens could spell (64 bytes a token, at least
  // 1 MiB); the rest is cut and the sample counted as truncated.
  static size_t text_cap(int64_t max_new_tokens) {
    return static_cast<size_t>(std::max<int64_t>(int64_t{1} << 20, 64 * max_new_tokens));
  }
  static void bound_text(Completion& c, int64_t max_new_tokens) {
    const size_t cap = text_cap(max_new_tokens);
    if (c.text.size() + c.reasoning.size() <= cap) return;
    std::fprintf(stderr,
                 "r1eval: the endpoint sent %zu bytes for at most %lld tokens; stored %zu of "
                 "them, as truncated\n",
                 c.text.size() + c.reasoning.size(), static_cast<long long>(max_new_tokens), cap);
    if (c.reasoning.size() > cap) c.reasoning.resize(cap);
    c.text.resize(std::min(c.text.size(), cap - c.reasoning.size()));
    c.finish_reason = "length";
  }

  std::string completion_path() const { return tmpl_ ? "/completions" : "/chat/completions"; }

  HttpResponse post(HttpClient& client, const std::string& body) const {
    try {
      return client.request("POST", completion_path(), body, headers());
    } catch (const HttpError& e) {
      throw Retryable{e.what()};
    }
  }

  // The request with "stream": true: Server-Sent Events gathered as they arrive, the first text
  // timed from `start`. A reply that is not an event stream (an error status, or a server that
  // ignores "stream") is read whole, as without streaming.
  // The stream is cut (and the sample counted truncated) once it has sent `cap` bytes of text.
  Completion attempt_streamed(HttpClient& client, const std::string& body, Clock::time_point start,
                              size_t cap) const {
    CompletionStream events(!tmpl_, cap);
    HttpResponse whole;
    bool sse = false;
    auto sink = [&](const HttpResponse& head, std::string_view piece) {
      sse = head.status == 200 && head.header("Content-Type").rfind("text/event-stream", 0) == 0;
      if (sse) return events.feed(piece, seconds_since(start));
      if (whole.body.size() + piece.size() > kHttpMaxBody)
        throw Retryable{"the reply is larger than " + std::to_string(kHttpMaxBody) + " bytes"};
      whole.body.append(piece);
    };
    try {
      const HttpResponse head = client.stream("POST", completion_path(), headers(), sink, body);
      whole.status = head.status;
      whole.retry_after = head.retry_after;
    } catch (const HttpError& e) {
      throw Retryable{e.what()};
    } catch (const StreamError& e) {
      throw Retryable{e.what};
    } catch (const CompletionStream::Cut&) {
      Completion c = events.result(seconds_since(start));
      c.finish_reason = "length";  // bound_text then cuts it to the stored size
      return c;
    } catch (const Error& e) {  // an event without end
      throw Retryable{e.what()};
    }
    if (!sse) return read_reply(whole);
    Completion c = events.result(seconds_since(start));
    if (!events.done() && c.finish_reason == "unknown")
      throw Retryable{"the event stream ended before its finish reason or [DONE]"};
    return c;
  }

  Completion read_reply(const HttpResponse& r) const {
    if (r.status == 429 || r.status == 408 || r.status >= 500) {
      Retryable x{"HTTP " + std::to_string(r.status) + " " + server_message(r.body)};
      if (!r.retry_after.empty()) {
        try {
          x.retry_after_s = std::stod(r.retry_after);
        } catch (const std::exception&) {
        }
      }
      throw x;
    }
    if (r.status == 400 && is_context_error(server_message(r.body))) {
      Completion c;  // one outcome of this sample, not the run's end (D11)
      c.finish_reason = kPromptTooLong;
      return c;
    }
    if (r.status != 200)
      throw Error("HTTP " + std::to_string(r.status) + ": " + server_message(r.body));
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(r.body);
    } catch (const nlohmann::json::exception&) {
      throw Retryable{"the answer is not valid JSON"};
    }
    try {
      const auto& choice = j.at("choices").at(0);
      Completion c;
      if (tmpl_) {
        c.text = choice.at("text").get<std::string>();
      } else {
        const auto& m = choice.at("message");
        c.text = m.at("content").is_null() ? "" : m.at("content").get<std::string>();
        for (const char* key : {"reasoning_content", "reasoning"})
          if (m.contains(key) && m[key].is_string()) c.reasoning = m[key].get<std::string>();
      }
      c.finish_reason = choice.contains("finish_reason") && choice["finish_reason"].is_string()
                            ? choice["finish_reason"].get<std::string>()
                            : "unknown";
      read_usage(j, c);
      return c;
    } catch (const nlohmann::json::exception&) {
      throw Retryable{"the answer has no choices[0] text (not an OpenAI-compatible reply)"};
    }
  }

  HttpOptions options_;
  std::vector<Url> urls_;
  std::string api_key_, model_;
  std::optional<ChatTemplate> tmpl_;
  nlohmann::ordered_json template_kwargs_;  // --template-kwargs, parsed once
  std::mutex busy_mu_;
  double busy_s_ = 0, wall_s_ = 0;  // the last generate(): summed request seconds, wall seconds
  void add_busy(double s) {
    std::lock_guard<std::mutex> lock(busy_mu_);
    busy_s_ += s;
  }
};

}  // namespace

nlohmann::json messages_json(const std::vector<ChatMessage>& messages) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& m : messages) out.push_back({{"role", m.role}, {"content", m.content}});
  return out;
}

std::unique_ptr<Backend> make_native_backend(const NativeOptions& options) {
  return std::make_unique<NativeBackend>(options);
}

std::unique_ptr<Backend> make_native_backend(std::shared_ptr<Transformer> model,
                                             const NativeOptions& options,
                                             const std::string& name) {
  check(model != nullptr, "make_native_backend: no model");
  return std::make_unique<NativeBackend>(options, std::move(model), name.empty() ? "live" : name);
}

std::unique_ptr<Backend> make_http_backend(const HttpOptions& options) {
  return std::make_unique<HttpBackend>(options);
}

}  // namespace r1
