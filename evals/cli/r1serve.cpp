// r1serve: an OpenAI-compatible HTTP server over r1's engine, so any client (lighteval, the openai
// package, r1eval's HTTP backend) can evaluate r1's models:
//   r1serve --model DIR [--host 127.0.0.1] [--port 8000] [--max-batch 64]
// GET /health, GET /metrics (engine counters), GET /v1/models, POST /v1/completions (prompt as text
// or token ids) and POST /v1/chat/completions (the checkpoint's chat template), with n,
// temperature, top_p, top_k, max_tokens, seed, stop and logprobs. Concurrent requests share the
// engine's batch (continuous batching); with a seed, a request's samples are reproducible (n = 1:
// the seed is the sample's seed; sample j of n > 1: derive_seed(seed, {j})). "stream": true sends
// one sample (n = 1) as Server-Sent Events while it is generated, without logprobs. Leaves out
// echo, best_of, logit_bias and penalties: asked for, they are refused with a 400 naming the field.
#include <ATen/Parallel.h>    // at::set_num_threads
#include <CLI/CLI.hpp>        // CLI::App
#include <nlohmann/json.hpp>  // nlohmann::json

#include <algorithm>           // std::min, std::max
#include <atomic>              // std::atomic
#include <chrono>              // std::chrono::milliseconds
#include <cmath>               // std::floor, std::fabs, std::isfinite
#include <condition_variable>  // std::condition_variable
#include <csignal>             // sigwait
#include <cstdint>             // int64_t, INT64_MAX
#include <cstdio>              // std::fprintf
#include <ctime>               // std::time
#include <filesystem>          // std::filesystem
#include <future>              // std::future_status
#include <memory>              // std::make_shared
#include <random>              // std::random_device

#include "evals/openai_request.h"   // r1::parse_completion_request
#include "evals/prompt_budget.h"    // r1::PromptBudget
#include "evals/streamed_text.h"    // r1::StreamedText
#include "toolkit/chat_template.h"  // r1::render_chat
#include "toolkit/cli_flags.h"      // r1::parse_flags
#include "toolkit/cli_main.h"       // r1::guarded_main
#include "toolkit/engine.h"         // r1::EngineLoop
#include "toolkit/error.h"          // r1::Error
#include "toolkit/fs.h"             // r1::write_file_atomic
#include "toolkit/hf_hub.h"         // r1::resolve_model_path
#include "toolkit/http.h"           // r1::HttpServer
#include "toolkit/json.h"           // r1::dump_json
#include "toolkit/model_config.h"   // r1::load_generation_defaults
#include "toolkit/model_source.h"   // r1::check_model_path, r1::check_model_tokenizer
#include "toolkit/tokenizer.h"      // r1::Tokenizer
#include "toolkit/transformer.h"    // r1::load_transformer_for

namespace {

using nlohmann::json;

// The method each served path takes; nullptr for a path not served.
const char* route_method(const std::string& path) {
  static const std::pair<const char*, const char*> routes[] = {{"/health", "GET"},
                                                               {"/metrics", "GET"},
                                                               {"/v1/models", "GET"},
                                                               {"/v1/completions", "POST"},
                                                               {"/v1/chat/completions", "POST"}};
  for (const auto& [p, method] : routes)
    if (path == p) return method;
  return nullptr;
}

r1::HttpReply json_reply(int status, const json& body) {
  r1::HttpReply r;
  r.status = status;
  r.body = r1::dump_json(body);
  return r;
}

r1::HttpReply error_reply(int status, const std::string& message, const std::string& type) {
  return json_reply(status, {{"error", {{"message", message}, {"type", type}}}});
}

// The tokens of a streamed sample as the engine thread takes them, for the connection's thread
// that sends them.
class TokenFeed {
 public:
  void push(int64_t id) {
    {
      std::lock_guard lock(mu_);
      ids_.push_back(id);
    }
    cv_.notify_one();
  }
  // Waits up to `wait` for tokens beyond ids.size(); appends them to `ids`, false when none came.
  bool wait_for_more(std::vector<int64_t>& ids, std::chrono::milliseconds wait) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, wait, [&] { return ids_.size() > ids.size(); });
    if (ids_.size() == ids.size()) return false;
    ids.insert(ids.end(), ids_.begin() + static_cast<std::ptrdiff_t>(ids.size()), ids_.end());
    return true;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<int64_t> ids_;
};

// OpenAI's streamed chunks, as Server-Sent Events: text_completion (the completions API) or
// chat.completion.chunk deltas (the chat API, whose first chunk names the role).
struct ChunkFormat {
  std::string id;
  int64_t created;
  std::string model;
  bool chat;

  std::string event(const json& choices, const json& usage = nullptr) const {
    json j = {{"id", id},
              {"object", chat ? "chat.completion.chunk" : "text_completion"},
              {"created", created},
              {"model", model},
              {"choices", choices}};
    if (!usage.is_null()) j["usage"] = usage;
    return "data: " + r1::dump_json(j) + "\n\n";
  }
  // A chunk of text; `finish_reason` null until the last one. `role`: the chat's first chunk.
  std::string text(const std::string& delta, const json& finish_reason, bool role = false) const {
    json choice = {{"index", 0}};
    if (chat) {
      choice["delta"] = finish_reason.is_null() ? json{{"content", delta}} : json::object();
      if (role) choice["delta"]["role"] = "assistant";
    } else {
      choice["text"] = delta;
    }
    choice["logprobs"] = nullptr;
    choice["finish_reason"] = finish_reason;
    return event(json::array({choice}));
  }
  // stream_options.include_usage: the last chunk, with no choices.
  std::string usage(int64_t prompt_tokens, int64_t completion_tokens) const {
    return event(json::array(), {{"prompt_tokens", prompt_tokens},
                                 {"completion_tokens", completion_tokens},
                                 {"total_tokens", prompt_tokens + completion_tokens}});
  }
};

class Server {
 public:
  Server(std::shared_ptr<r1::Transformer> model, r1::Tokenizer tok, r1::ChatTemplate tmpl,
         std::vector<int64_t> eos, std::string name, r1::EngineOptions eo,
         int64_t max_bytes_in_flight)
      : tok_(std::move(tok)),
        tmpl_(std::move(tmpl)),
        eos_(std::move(eos)),
        name_(std::move(name)),
        max_context_(eo.max_context > 0 ? eo.max_context : model->config().max_position_embeddings),
        budget_(max_context_, r1::longest_token_bytes(tok_), max_bytes_in_flight),
        loop_(model, with_detokenizer(eo)) {}

  r1::HttpReply handle(const r1::HttpRequest& req) {
    const std::string path = req.target.substr(0, req.target.find('?'));
    try {
      if (const char* method = route_method(path); !method) {
        return error_reply(404, req.method + " " + path + " is not served here", "not_found");
      } else if (req.method != method) {  // as vLLM: 405 with the method that is allowed
        r1::HttpReply r =
            error_reply(405, req.method + " " + path + ": method not allowed (use " + method + ")",
                        "method_not_allowed");
        r.headers.push_back({"Allow", method});
        return r;
      }
      if (path == "/health") return json_reply(200, {{"status", "ok"}});
      if (path == "/metrics") return metrics();
      if (path == "/v1/models") return models();
      return complete(req, path == "/v1/chat/completions");
    } catch (const r1::RequestError& e) {
      r1::HttpReply r = error_reply(e.status, e.message,
                                    e.status == 404   ? "NotFoundError"
                                    : e.status == 503 ? "server_busy"
                                                      : "invalid_request_error");
      if (e.status == 503) r.headers.push_back({"Retry-After", "1"});
      return r;
    } catch (const r1::Error& e) {  // engine validation: the request's values
      return error_reply(400, e.what(), "invalid_request_error");
    }
  }

 private:
  r1::EngineOptions with_detokenizer(r1::EngineOptions eo) {
    eo.detokenize = [this](const std::vector<int64_t>& ids) { return tok_.decode(ids); };
    return eo;
  }

  r1::HttpReply models() const {
    return json_reply(200, {{"object", "list"},
                            {"data",
                             {{{"id", name_},
                               {"object", "model"},
                               {"owned_by", "r1"},
                               {"max_model_len", max_context_}}}}});
  }

  // The engine's counters: requests served, model time, batch fill (for benchmarks).
  r1::HttpReply metrics() const {
    const auto st = loop_.stats();
    return json_reply(200, {{"requests", st.requests},
                            {"cancelled", st.cancelled},
                            {"engine_busy_s", st.busy_s},
                            {"decode_steps", st.decode_steps},
                            {"prefills", st.prefills},
                            {"mean_batch", st.mean_batch()}});
  }

  // The engine's samples of `g`; a client that closes its connection meanwhile cancels them, so
  // its rows are free at the next step (D2). Empty when cancelled.
  std::vector<r1::GeneratedSample> generate(r1::GenerationRequest g, const r1::HttpRequest& req) {
    auto cancelled = std::make_shared<std::atomic<bool>>(false);
    g.cancelled = cancelled;
    auto future = loop_.submit(std::move(g));
    while (future.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready)
      if (!*cancelled && req.client_gone && req.client_gone()) *cancelled = true;
    auto samples = future.get();
    if (*cancelled) samples.clear();
    return samples;
  }

  // The prompt's token ids; its text is measured against the context and the bytes in flight
  // before it is tokenized (D3).
  std::vector<int64_t> tokenize(const r1::CompletionRequest& q) {
    if (!q.chat && !q.prompt_ids.empty()) return q.prompt_ids;
    int64_t bytes = static_cast<int64_t>(q.prompt_text.size());
    for (const auto& m : q.messages)
      bytes += static_cast<int64_t>(m.role.size() + m.content.size() +
                                    (m.extra.is_null() ? 0 : m.extra.dump().size()));
    if (!q.tools.is_null()) bytes += static_cast<int64_t>(q.tools.dump().size());
    const auto hold = budget_.admit(bytes);
    // The rendered prompt carries its own BOS, so no post-processor specials (as transformers).
    if (q.chat) {
      r1::ChatInput in;
      in.tools = q.tools;
      in.kwargs = q.template_kwargs;
      std::string text;
      try {
        text = r1::render_chat(tmpl_, q.messages, true, in);
      } catch (const r1::Error& e) {
        throw r1::RequestError{400, e.what()};
      }
      return tok_.encode(text, false);
    }
    return tok_.encode(q.prompt_text, true);
  }

  r1::HttpReply complete(const r1::HttpRequest& req, bool chat) {
    const r1::CompletionRequest q = r1::parse_completion_request(req.body, chat, name_);
    r1::GenerationRequest g;
    g.prompt = tokenize(q);
    const int64_t prompt_len = static_cast<int64_t>(g.prompt.size());
    g.n = q.n;
    g.sampling.temperature = q.temperature;
    g.sampling.top_p = q.top_p;
    g.sampling.top_k = q.top_k;
    g.max_new_tokens = q.max_tokens.value_or(chat ? max_context_ - prompt_len : 16);
    if (g.max_new_tokens < 1)
      throw r1::RequestError{400, "the prompt's " + std::to_string(prompt_len) +
                                      " tokens leave no room in the context of " +
                                      std::to_string(max_context_)};
    g.seed = q.seed
                 ? static_cast<uint64_t>(*q.seed)
                 : (static_cast<uint64_t>(std::random_device{}()) << 32) | std::random_device{}();
    g.stop_strings = q.stop;
    // With n = 1 the request's seed is the sample's own seed, as in r1eval's native backend, so
    // a sample is the same whether r1eval runs the model itself or through r1serve.
    if (g.n == 1) g.sample_seeds = {g.seed};
    if (!q.ignore_eos) g.stop_ids = eos_;
    if (q.stream) return stream_reply(std::move(g), q, prompt_len, req);
    const bool logprobs = q.logprobs;

    std::vector<r1::GeneratedSample> samples;
    try {
      samples = generate(std::move(g), req);
    } catch (const r1::Error& e) {
      throw r1::RequestError{400, e.what()};
    }
    if (samples.empty()) {  // the client went away: nobody to answer
      r1::HttpReply gone;
      gone.reset = true;
      return gone;
    }
    json choices = json::array();
    int64_t completion_tokens = 0;
    for (size_t i = 0; i < samples.size(); ++i) {
      const auto& s = samples[i];
      completion_tokens += static_cast<int64_t>(s.ids.size());
      const std::string text = sample_text(s);
      json choice = {{"index", i}, {"finish_reason", s.finish_reason}};
      json lp = nullptr;
      if (logprobs) {
        json tokens = json::array(), values = json::array();
        for (size_t t = 0; t < s.ids.size(); ++t) {
          tokens.push_back(tok_.decode({s.ids[t]}));
          values.push_back(s.logprobs[t]);
        }
        if (chat) {
          json content = json::array();
          for (size_t t = 0; t < s.ids.size(); ++t)
            content.push_back(
                {{"token", tokens[t]}, {"logprob", values[t]}, {"token_id", s.ids[t]}});
          lp = {{"content", content}};
        } else {
          lp = {{"tokens", tokens}, {"token_logprobs", values}, {"token_ids", s.ids}};
        }
      }
      choice["logprobs"] = lp;
      if (chat) {
        choice["message"] = {{"role", "assistant"}, {"content", text}};
      } else {
        choice["text"] = text;
      }
      choices.push_back(choice);
    }
    const auto created = static_cast<int64_t>(std::time(nullptr));
    return json_reply(
        200, {{"id", std::string(chat ? "chatcmpl-" : "cmpl-") + std::to_string(++counter_)},
              {"object", chat ? "chat.completion" : "text_completion"},
              {"created", created},
              {"model", name_},
              {"choices", choices},
              {"usage",
               {{"prompt_tokens", prompt_len},
                {"completion_tokens", completion_tokens},
                {"total_tokens", prompt_len + completion_tokens}}}});
  }

  // A sample's text as the client gets it: OpenAI leaves the matched stop string out.
  std::string sample_text(const r1::GeneratedSample& s) const {
    std::string text = tok_.decode(s.ids, /*skip_special_tokens=*/true);
    if (!s.stop_string.empty()) text = text.substr(0, text.find(s.stop_string));
    return text;
  }

  // "stream": true: the sample as Server-Sent Events while the engine generates it (OpenAI's
  // chunk format, StreamedText's rule for what text is certain). The request is queued before
  // the reply begins, so one the engine refuses is still a 400; a client that goes away mid-stream
  // cancels the generation.
  r1::HttpReply stream_reply(r1::GenerationRequest g, const r1::CompletionRequest& q,
                             int64_t prompt_len, const r1::HttpRequest& req) {
    auto feed = std::make_shared<TokenFeed>();
    g.on_token = [feed](int64_t, int64_t id) { feed->push(id); };
    auto cancelled = std::make_shared<std::atomic<bool>>(false);
    g.cancelled = cancelled;
    const std::vector<std::string> stops = g.stop_strings;
    std::shared_ptr<std::future<std::vector<r1::GeneratedSample>>> future;
    try {
      future = std::make_shared<std::future<std::vector<r1::GeneratedSample>>>(
          loop_.submit(std::move(g)));
    } catch (const r1::Error& e) {
      throw r1::RequestError{400, e.what()};
    }
    const ChunkFormat chunks{
        std::string(q.chat ? "chatcmpl-" : "cmpl-") + std::to_string(++counter_),
        static_cast<int64_t>(std::time(nullptr)), name_, q.chat};
    r1::HttpReply r;
    r.content_type = "text/event-stream";
    r.headers.push_back({"Cache-Control", "no-cache"});
    r.stream = [this, feed, cancelled, future, stops, chunks, prompt_len, usage = q.include_usage,
                gone = req.client_gone](const auto& write) {
      r1::StreamedText text([this](const auto& ids) { return tok_.decode(ids, true); }, stops);
      bool ok = !chunks.chat || write(chunks.text("", nullptr, true));
      std::vector<int64_t> ids;
      while (ok && future->wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
        ok = !(gone && gone());
        if (!ok || !feed->wait_for_more(ids, std::chrono::milliseconds(50))) continue;
        if (const std::string delta = text.next(ids); !delta.empty())
          ok = write(chunks.text(delta, nullptr));
      }
      if (!ok) {            // a failed write or a departed client
        *cancelled = true;  // frees its cache row at the engine's next step
        return;
      }
      const r1::GeneratedSample s = future->get().at(0);
      if (const std::string rest = text.finish(sample_text(s)); !rest.empty())
        ok = write(chunks.text(rest, nullptr));
      ok = ok && write(chunks.text("", s.finish_reason));
      const auto n = static_cast<int64_t>(s.ids.size());
      if (ok && usage) ok = write(chunks.usage(prompt_len, n));
      if (ok) write("data: [DONE]\n\n");
    };
    return r;
  }

  r1::Tokenizer tok_;
  r1::ChatTemplate tmpl_;
  std::vector<int64_t> eos_;
  std::string name_;
  int64_t max_context_;
  r1::PromptBudget budget_;
  std::atomic<int64_t> counter_{0};
  r1::EngineLoop loop_;
};

int run(int argc, char** argv) {
  CLI::App app{"r1serve: an OpenAI-compatible server over r1's engine"};
  std::string model_dir, host = "127.0.0.1", dtype = "auto", device = "cpu", chat_template, name,
                         port_file;
  int port = 8000, threads = 0;
  int64_t max_bytes_in_flight = int64_t{16} << 20;
  r1::EngineOptions eo;
  app.add_option("--model", model_dir, "Hugging Face checkpoint directory or hub id ORG/NAME[@REV]")
      ->required();
  app.add_option("--host", host, "address to listen on");
  app.add_option("--port", port, "port (0 = any free port)")->check(CLI::Range(0, 65535));
  app.add_option("--port-file", port_file, "write the port here once listening");
  app.add_option("--served-model-name", name, "model id in the API (default: the dir's name)");
  app.add_option("--dtype", dtype, "auto (float32 on CPU, the checkpoint's on CUDA), bfloat16");
  app.add_option("--device", device, "cpu, cuda, cuda:1");
  app.add_option("--max-batch", eo.max_batch, "sequences decoded together")
      ->check(CLI::PositiveNumber);
  app.add_option("--max-context", eo.max_context, "context limit (0 = the model's)");
  std::string template_kwargs;
  app.add_option(
      "--chat-template", chat_template,
      "deepseek-r1, deepseek-r1-nothink, qwen2.5, llama3, llama3.1, a .jinja file, or the name of "
      "one of "
      "the model's templates (default: the model's own; without one, chat requests get 400)");
  app.add_option("--template-kwargs", template_kwargs,
                 "JSON object of default chat-template variables; a request's chat_template_kwargs "
                 "override them");
  app.add_option("--threads", threads, "CPU threads for the model (0 = default)");
  app.add_option("--max-bytes-in-flight", max_bytes_in_flight,
                 "prompt bytes tokenized at once; more gets 503 with Retry-After")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 32));
  if (const auto code = r1::parse_flags(app, argc, argv)) return *code;
  const auto default_kwargs = r1::parse_template_kwargs(template_kwargs);
  const std::string model_spec = model_dir;
  model_dir = r1::resolve_model_path(model_dir);  // a hub id: its snapshot in the hub cache
  r1::check_model_path(model_dir, "--model");
  r1::check_model_tokenizer(model_dir, "r1serve needs the checkpoint's tokenizer");
  if (threads > 0) at::set_num_threads(threads);
  if (name.empty() && model_dir != model_spec) name = model_spec;  // the hub id, as vLLM names it
  if (name.empty()) name = std::filesystem::path(model_dir).lexically_normal().filename().string();

  // SIGINT/SIGTERM are taken by sigwait below, in this thread only.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto model = r1::load_transformer_for(model_dir, dtype, device);
  auto tok = r1::Tokenizer::load(model_dir);
  // Without a template r1serve still serves /v1/completions; chat requests get a 400 (as vLLM).
  auto tmpl = r1::load_chat_template(model_dir, chat_template, /*required=*/false);
  tmpl.kwargs = default_kwargs;
  const auto gen = r1::load_generation_defaults(model_dir);
  auto eos = r1::stop_token_ids(gen, model->config());
  Server server(model, std::move(tok), std::move(tmpl), std::move(eos), name, eo,
                max_bytes_in_flight);
  r1::HttpServer http(host, port, [&](const r1::HttpRequest& r) { return server.handle(r); });
  http.start();
  if (!port_file.empty()) {  // atomically, so a watcher never reads half of it
    r1::write_file_atomic(port_file, std::to_string(http.port()) + "\n");
  }
  std::fprintf(stderr, "r1serve: serving %s on http://%s:%d/v1\n", name.c_str(), host.c_str(),
               http.port());
  int sig = 0;
  sigwait(&signals, &sig);
  std::fprintf(stderr, "r1serve: stopping (signal %d)\n", sig);
  http.stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return r1::guarded_main("r1serve", [&] { return run(argc, argv); });
}
