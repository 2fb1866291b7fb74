// r1gen: generate from a Hugging Face checkpoint with r1's engine. Prints each sample's text (or
// ids when the checkpoint has no tokenizer), or one JSON object per sample with --json
// ({"ids", "logprobs", "finish_reason", "text"}). --chat wraps --prompt in the checkpoint's chat
// template as one user turn (R1: the response is forced to start with "<think>\n"). --timings
// prints one JSON line to stderr: seconds to load the model and the tokenizer, and generate()'s
// wall time (prefill + decode) with the tokens it produced.
#include <torch/torch.h>  // at::set_num_threads

#include <CLI/CLI.hpp>        // CLI::App
#include <nlohmann/json.hpp>  // nlohmann::json

#include <chrono>      // std::chrono
#include <cstdio>      // std::printf
#include <filesystem>  // std::filesystem
#include <iostream>    // std::cout
#include <sstream>     // std::stringstream

#include "toolkit/chat_template.h"  // r1::render_chat
#include "toolkit/cli_flags.h"      // r1::parse_flags
#include "toolkit/cli_main.h"       // r1::guarded_main
#include "toolkit/engine.h"         // r1::Engine
#include "toolkit/error.h"          // r1::Error
#include "toolkit/hf_hub.h"         // r1::resolve_model_path
#include "toolkit/json.h"           // r1::dump_json
#include "toolkit/model_config.h"   // r1::load_generation_defaults
#include "toolkit/model_source.h"   // r1::model_has_tokenizer
#include "toolkit/progress.h"       // r1::Progress
#include "toolkit/tokenizer.h"      // r1::Tokenizer

namespace {

std::vector<int64_t> parse_ids(const std::string& text) {
  std::vector<int64_t> ids;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    r1::check(used == item.size() && !item.empty(),
              "--prompt-ids: \"" + item + "\" is not an integer (expected e.g. 1,2,3)");
    ids.push_back(v);
  }
  r1::check(!ids.empty() && text.back() != ',',
            "--prompt-ids: \"" + text + "\" is not a list like 1,2,3");
  return ids;
}

int run(int argc, char** argv) {
  CLI::App app{"r1gen: sample continuations from a Hugging Face checkpoint with r1's engine"};
  std::string model_dir, prompt_ids, prompt_text, dtype_name = "auto", device_name = "cpu",
                                                  chat_template, template_kwargs;
  std::vector<std::string> stops;
  bool chat = false;
  std::optional<double> temperature, top_p;
  std::optional<int64_t> top_k, max_new_tokens;
  uint64_t seed = 0;
  int64_t n = 1, max_batch = 64, threads = 0, max_context = 0;
  bool json = false, ignore_eos = false, timings = false;
  app.add_option("--model", model_dir,
                 "checkpoint directory, GGUF file or hub id ORG/NAME[@REV][:FILE]")
      ->required();
  auto* ids_opt = app.add_option("--prompt-ids", prompt_ids, "prompt as comma-separated token ids");
  auto* text_opt = app.add_option("--prompt", prompt_text,
                                  "prompt text (tokenized with the checkpoint's tokenizer.json)");
  app.add_flag("--chat", chat,
               "render --prompt as a user turn with the checkpoint's chat template");
  app.add_option("--chat-template", chat_template,
                 "override: deepseek-r1, deepseek-r1-nothink, qwen2.5, llama3, llama3.1, a .jinja "
                 "file or the name of one "
                 "of the model's templates");
  app.add_option(
      "--template-kwargs", template_kwargs,
      "with --chat: JSON object of extra template variables, e.g. '{\"enable_thinking\": false}'");
  app.add_option("--stop", stops, "stop string (repeatable; needs the tokenizer)");
  ids_opt->excludes(text_opt);
  app.add_option("--max-new-tokens", max_new_tokens,
                 "tokens to generate per sample (default: generation_config or 64)");
  app.add_option("--temperature", temperature,
                 "0 = greedy (default: generation_config, else greedy)");
  app.add_option("--top-p", top_p, "nucleus mass in (0, 1] (default: generation_config or 1)");
  app.add_option("--top-k", top_k,
                 "keep the k most likely tokens, 0 = off (default: generation_config or 0)");
  app.add_option("--seed", seed, "run seed; sample j uses a seed derived from (seed, j)");
  app.add_option("--n", n, "samples for the prompt")->check(CLI::PositiveNumber);
  app.add_option("--max-batch", max_batch, "sequences decoded together")
      ->check(CLI::PositiveNumber);
  app.add_option("--max-context", max_context,
                 "prompt + generation limit (default: max_position_embeddings)");
  app.add_option("--dtype", dtype_name,
                 "auto (float32 on CPU, the checkpoint's on CUDA), float32, bfloat16");
  app.add_option("--device", device_name, "cpu or cuda[:N]");
  app.add_option("--threads", threads, "CPU threads (default: all cores)");
  app.add_flag("--json", json, "one JSON object per sample");
  app.add_flag("--ignore-eos", ignore_eos, "do not stop at EOS ids");
  app.add_flag("--timings", timings,
               "print load seconds and generation tok/s to stderr as one JSON line");
  if (const auto code = r1::parse_flags(app, argc, argv)) return *code;
  const auto kwargs = r1::parse_template_kwargs(template_kwargs);  // checked before the model loads
  r1::check(n <= 1000000, "--n " + std::to_string(n) + " is too many samples (at most 1000000)");
  r1::check(max_context >= 0, "--max-context must be positive (0 = the model's own)");
  if (ids_opt->empty() && text_opt->empty())
    throw r1::Error("give the prompt with --prompt TEXT or --prompt-ids 1,2,3");
  if (chat && text_opt->empty()) throw r1::Error("--chat needs --prompt TEXT");
  if (threads > 0) at::set_num_threads(static_cast<int>(threads));
  model_dir = r1::resolve_model_path(model_dir);  // a hub id: its snapshot in the hub cache

  using Clock = std::chrono::steady_clock;
  const auto seconds_since = [](Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
  };
  const auto load_start = Clock::now();
  auto model = r1::load_transformer_for(model_dir, dtype_name, device_name);
  const double model_load_s = seconds_since(load_start);
  const auto& cfg = model->config();
  const auto gen = r1::load_generation_defaults(model_dir);

  // The tokenizer, when the checkpoint has one (needed for text prompts, stop strings and text
  // out).
  std::optional<r1::Tokenizer> tok;
  const auto tok_start = Clock::now();
  if (r1::model_has_tokenizer(model_dir)) tok = r1::Tokenizer::load(model_dir);
  const double tokenizer_load_s = seconds_since(tok_start);
  if ((!text_opt->empty() || !stops.empty()) && !tok)
    throw r1::Error(model_dir +
                    ": no tokenizer.json, needed by --prompt and --stop (use --prompt-ids)");

  r1::GenerationRequest req;
  if (!text_opt->empty() && chat) {
    auto tmpl = r1::load_chat_template(model_dir, chat_template);
    tmpl.kwargs = kwargs;
    // The rendered prompt carries its own BOS, so no post-processor specials (as transformers).
    req.prompt = tok->encode(r1::render_chat(tmpl, {{"user", prompt_text}}, true), false);
  } else if (!text_opt->empty()) {
    req.prompt = tok->encode(prompt_text, true);
  } else {
    req.prompt = parse_ids(prompt_ids);
  }
  req.stop_strings = stops;
  req.n = n;
  req.seed = seed;
  req.max_new_tokens = max_new_tokens.value_or(gen.max_new_tokens.value_or(64));
  const bool sample_default = gen.do_sample.value_or(false);
  req.sampling.temperature =
      temperature.value_or(sample_default ? gen.temperature.value_or(1.0) : 0.0);
  req.sampling.top_p = top_p.value_or(gen.top_p.value_or(1.0));
  req.sampling.top_k = top_k.value_or(gen.top_k.value_or(0));
  if (!ignore_eos) req.stop_ids = r1::stop_token_ids(gen, cfg);

  r1::EngineOptions opts;
  opts.max_batch = max_batch;
  opts.max_context = max_context;
  if (tok) opts.detokenize = [&](const std::vector<int64_t>& ids) { return tok->decode(ids); };
  r1::Engine engine(model, opts);
  r1::Progress progress("r1gen: samples", n);
  int64_t done = 0, tokens = 0;
  const auto start = std::chrono::steady_clock::now();
  auto results = engine.generate({req}, [&](size_t, int64_t, const r1::GeneratedSample& s) {
    tokens += s.ids.size();
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    progress.update(++done,
                    std::to_string(static_cast<int64_t>(tokens / std::max(secs, 1e-9))) + " tok/s");
  });
  if (timings) {
    const double generate_s = seconds_since(start);
    const auto& st = engine.stats();
    std::cerr << r1::dump_json({{"model_load_s", model_load_s},
                                {"tokenizer_load_s", tokenizer_load_s},
                                {"load_s", model_load_s + tokenizer_load_s},
                                {"generate_s", generate_s},
                                {"new_tokens", tokens},
                                {"tok_s", tokens / std::max(generate_s, 1e-9)},
                                {"prefills", st.prefills},
                                {"decode_steps", st.decode_steps},
                                {"threads", at::get_num_threads()}})
              << std::endl;
  }
  for (const auto& s : results[0]) {
    if (json) {
      nlohmann::json j = {
          {"ids", s.ids}, {"logprobs", s.logprobs}, {"finish_reason", s.finish_reason}};
      if (tok) j["text"] = tok->decode(s.ids, /*skip_special_tokens=*/true);
      if (!s.stop_string.empty()) j["stop"] = s.stop_string;
      std::cout << r1::dump_json(j) << "\n";
    } else if (tok) {
      std::cout << "[" << s.finish_reason << "] " << tok->decode(s.ids, true) << "\n";
    } else {
      std::cout << s.finish_reason << ":";
      for (int64_t id : s.ids) std::cout << " " << id;
      std::cout << "\n";
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return r1::guarded_main("r1gen", [&] { return run(argc, argv); });
}
