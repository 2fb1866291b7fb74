// bench_engine: times r1's engine on a checkpoint for tests/bench/bench_engine.py, which runs
// transformers on the same checkpoint in the same run and prints the ratio. Prints one JSON
// object: prefill and decode seconds and tokens/s for B prompts of P random ids and N new tokens.
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <iostream>
#include <random>

#include "toolkit/engine.h"

int main(int argc, char** argv) {
  CLI::App app{"bench_engine"};
  std::string model;
  int64_t batch = 1, prompt_len = 64, new_tokens = 64, repeats = 3, threads = 0, n = 1;
  double temperature = 0.6, top_p = 0.95;
  app.add_option("--model", model)->required();
  app.add_option("--batch", batch);
  app.add_option("--prompt-len", prompt_len);
  app.add_option("--new-tokens", new_tokens);
  app.add_option("--repeats", repeats);
  app.add_option("--temperature", temperature);
  app.add_option("--top-p", top_p);
  app.add_option("--threads", threads);
  app.add_option("--n", n, "samples per prompt (they share its prefill)");
  CLI11_PARSE(app, argc, argv);
  if (threads > 0) at::set_num_threads(static_cast<int>(threads));
  auto m = r1::load_transformer(model, torch::kFloat);
  std::mt19937_64 rng(0);
  std::vector<r1::GenerationRequest> reqs(batch);
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t t = 0; t < prompt_len; ++t)
      reqs[b].prompt.push_back(static_cast<int64_t>(rng() % m->config().vocab_size));
    reqs[b].sampling = {temperature, top_p, 0};
    reqs[b].n = n;
    reqs[b].seed = b;  // no stop ids: every sample runs the full length
  }
  r1::EngineOptions opts;
  opts.max_batch = batch * n;
  r1::Engine engine(m, opts);
  auto time_run = [&](int64_t tokens) {
    for (auto& r : reqs) r.max_new_tokens = tokens;
    const auto t0 = std::chrono::steady_clock::now();
    auto out = engine.generate(reqs);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (const auto& o : out)
      for (const auto& sample : o)
        if (static_cast<int64_t>(sample.ids.size()) != tokens) throw std::runtime_error("short");
    return s;
  };
  time_run(2);  // warm-up
  double prefill = 1e30, total = 1e30;
  for (int64_t i = 0; i < repeats; ++i) {
    prefill = std::min(prefill, time_run(1));
    total = std::min(total, time_run(new_tokens + 1));
  }
  const double decode = total - prefill;
  nlohmann::json j = {{"prefill_s", prefill},
                      {"decode_s", decode},
                      {"prefill_tok_s", batch * prompt_len / prefill},
                      {"n", n},
                      {"decode_tok_s", batch * n * new_tokens / decode},
                      {"threads", at::get_num_threads()}};
  std::cout << j.dump() << "\n";
}
