// The live-weights backend (see live_backend.h). Mirrors evals/backend.cpp's NativeBackend except
// for where the model comes from; the rendering is grpo_data.h's render_generation_prompt, the
// same text the trainer's prompts are.
#include "rl/live_backend.h"

#include <algorithm>   // std::find
#include <chrono>      // std::chrono
#include <filesystem>  // std::filesystem
#include <optional>    // std::optional

#include "rl/grpo_data.h"          // r1::render_generation_prompt
#include "toolkit/engine.h"        // r1::Engine
#include "toolkit/error.h"         // r1::check
#include "toolkit/model_config.h"  // r1::load_generation_defaults, r1::stop_token_ids
#include "toolkit/sha256.h"        // r1::sha256_hex
#include "toolkit/tokenizer.h"     // r1::Tokenizer

namespace r1 {
namespace {

using Clock = std::chrono::steady_clock;

class LiveBackend : public Backend {
 public:
  LiveBackend(std::shared_ptr<Transformer> model, const LiveBackendOptions& o)
      : options_(o), model_(std::move(model)) {
    check(model_ != nullptr, "make_live_backend: no model");
    check(std::filesystem::exists(std::filesystem::path(o.tokenizer_dir) / "tokenizer.json"),
          o.tokenizer_dir + ": no tokenizer.json (the live backend needs the model's tokenizer)");
    tok_ = Tokenizer::load(o.tokenizer_dir);
    tmpl_ = load_chat_template(o.tokenizer_dir, o.chat_template);
    eos_ = stop_token_ids(load_generation_defaults(o.tokenizer_dir), model_->config());
    if (eos_.empty() && tok_->eos_id) eos_.push_back(*tok_->eos_id);
  }

  nlohmann::json describe() const override {
    return {{"kind", "live"},
            {"model", options_.name},
            {"chat_template", chat_format_name(tmpl_.format)}};
  }

  std::string prompt_hash(const PromptJob& job, const GenParams&) override {
    return sha256_hex(render_generation_prompt(tmpl_, job.messages));
  }

  void generate(const std::vector<PromptJob>& jobs, const GenParams& params,
                const OnDone& on_done) override {
    check(params.force_think,
          "the live backend always forces \"<think>\\n\" (as the trainer's prompts)");
    std::vector<GenerationRequest> requests;
    std::vector<size_t> job_of;
    for (size_t i = 0; i < jobs.size(); ++i) {
      if (jobs[i].samples.empty()) continue;
      GenerationRequest r;
      r.prompt = tok_->encode(render_generation_prompt(tmpl_, jobs[i].messages), false);
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
      std::vector<int64_t> ids = g.ids;
      if (!ids.empty() && g.finish_reason == "stop" &&
          std::find(eos_.begin(), eos_.end(), ids.back()) != eos_.end())
        ids.pop_back();
      Completion c;
      c.text = tok_->decode(ids, /*skip_special_tokens=*/true);
      c.finish_reason = g.finish_reason;
      c.prompt_tokens = static_cast<int64_t>(requests[req].prompt.size());
      c.completion_tokens = static_cast<int64_t>(g.ids.size());
      c.latency_s = std::chrono::duration<double>(Clock::now() - start).count();
      on_done(job, jobs[job].samples[sample].first, jobs[job].samples[sample].second, c);
    });
    stats_ = engine.stats();
  }

  nlohmann::json stats() const override {
    return {{"decode_steps", stats_.decode_steps},
            {"prefills", stats_.prefills},
            {"mean_batch", stats_.mean_batch()}};
  }

 private:
  LiveBackendOptions options_;
  std::shared_ptr<Transformer> model_;
  std::optional<Tokenizer> tok_;
  ChatTemplate tmpl_;
  std::vector<int64_t> eos_;
  EngineStats stats_;
};

}  // namespace

std::unique_ptr<Backend> make_live_backend(std::shared_ptr<Transformer> model,
                                           const LiveBackendOptions& options) {
  return std::make_unique<LiveBackend>(std::move(model), options);
}

}  // namespace r1
