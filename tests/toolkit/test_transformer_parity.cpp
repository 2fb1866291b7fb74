// Parity with transformers (goldens from tests/reference/make_model_goldens.py): float32 logits
// within 1e-4, bf16 logits within bf16 tolerance, greedy continuations token for token through
// the engine (KV cache) and through repeated full forwards (no cache), left-padded batches, and a
// sequence giving the same result alone and inside a batch of other prompts.
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "tests/test_util.h"
#include "toolkit/engine.h"
#include "toolkit/fs.h"
#include "toolkit/safetensors.h"
#include "toolkit/transformer.h"

namespace r1 {
namespace {

struct Golden {
  std::string name, model;
  torch::Tensor ids, logits, logits_bf16, padded_mask, padded_logits;
  nlohmann::json greedy;
};

Golden load_golden(const std::string& name) {
  Golden g;
  g.name = name;
  SafetensorsFile f("tests/data/goldens/" + name + ".safetensors");
  g.ids = f.tensor("input_ids").clone();
  g.logits = f.tensor("logits").clone();
  if (f.find("logits_bf16")) g.logits_bf16 = f.tensor("logits_bf16").clone();
  g.padded_mask = f.tensor("padded_mask").clone();
  g.padded_logits = f.tensor("padded_logits").clone();
  auto j = nlohmann::json::parse(read_file("tests/data/goldens/" + name + ".json"));
  g.model = j["model"].get<std::string>();
  g.greedy = j["greedy"];
  return g;
}

torch::Tensor positions_for(const torch::Tensor& ids) {
  return torch::arange(ids.size(1), torch::kLong).unsqueeze(0).expand_as(ids).contiguous();
}

// Greedy by repeated full forwards over the growing sequence: no KV cache involved.
std::vector<int64_t> greedy_without_cache(Transformer& m, std::vector<int64_t> seq, int steps,
                                          const std::vector<int64_t>& eos) {
  torch::InferenceMode guard;
  std::vector<int64_t> out;
  for (int s = 0; s < steps; ++s) {
    auto ids = torch::tensor(seq, torch::kLong).unsqueeze(0);
    auto h = m.forward(ids, positions_for(ids));
    const int64_t next = m.logits(h[0][-1]).argmax().item<int64_t>();
    out.push_back(next);
    seq.push_back(next);
    if (std::find(eos.begin(), eos.end(), next) != eos.end()) break;
  }
  return out;
}

std::vector<int64_t> greedy_with_engine(std::shared_ptr<Transformer> m,
                                        const std::vector<int64_t>& prompt, int steps,
                                        const std::vector<int64_t>& eos) {
  Engine engine(m);
  GenerationRequest r;
  r.prompt = prompt;
  r.sampling.temperature = 0;
  r.max_new_tokens = steps;
  r.stop_ids = eos;
  return engine.generate({r})[0][0].ids;
}

class Parity : public ::testing::TestWithParam<std::string> {};

TEST_P(Parity, Float32LogitsMatchTransformers) {
  torch::InferenceMode guard;
  auto g = load_golden(GetParam());
  auto m = load_transformer(g.model, torch::kFloat);
  auto logits = m->logits(m->forward(g.ids, positions_for(g.ids)));
  const double diff = (logits - g.logits).abs().max().item<double>();
  EXPECT_LT(diff, 1e-4) << g.name;
  EXPECT_GT(g.logits.abs().max().item<double>(), 0.1) << "golden logits too flat to test anything";
}

TEST_P(Parity, LeftPaddedBatchMatchesTransformers) {
  torch::InferenceMode guard;
  auto g = load_golden(GetParam());
  auto m = load_transformer(g.model, torch::kFloat);
  auto valid = g.padded_mask.to(torch::kBool);
  auto pos = (g.padded_mask.cumsum(-1) - 1).clamp_min(0);
  auto logits = m->logits(m->forward(g.ids, pos, valid));
  auto sel = valid.unsqueeze(-1).expand_as(logits);
  const double diff = (logits - g.padded_logits).masked_select(sel).abs().max().item<double>();
  EXPECT_LT(diff, 1e-4) << g.name;
}

TEST_P(Parity, GreedyMatchesTransformersWithAndWithoutCache) {
  auto g = load_golden(GetParam());
  auto m = load_transformer(g.model, torch::kFloat);
  auto eos = m->config().eos_token_ids;
  for (const auto& row : g.greedy["float32"]) {
    auto prompt = row["prompt"].get<std::vector<int64_t>>();
    auto want = row["greedy"].get<std::vector<int64_t>>();
    EXPECT_EQ(greedy_with_engine(m, prompt, 32, eos), want) << g.name;
    EXPECT_EQ(greedy_without_cache(*m, prompt, 32, eos), want) << g.name;
  }
}

TEST_P(Parity, Bfloat16MatchesTransformers) {
  auto g = load_golden(GetParam());
  if (!g.logits_bf16.defined()) GTEST_SKIP() << "float32 checkpoint";
  auto m = load_transformer(g.model, torch::kBFloat16);
  {
    torch::InferenceMode guard;
    auto logits = m->logits(m->forward(g.ids, positions_for(g.ids)));
    // bf16 keeps 8 bits of mantissa: allow a few ulps at the logits' scale.
    const double scale = g.logits_bf16.abs().max().item<double>();
    EXPECT_LT((logits - g.logits_bf16).abs().max().item<double>(), 0.04 * std::max(scale, 1.0))
        << g.name;
  }
  // Greedy in bf16 can only agree up to rounding: at each step of transformers' bf16 greedy
  // sequence, its token must be r1's argmax, or within two bf16 ulps of r1's maximum logit (a
  // tie at bf16 resolution). Teacher-forced, so one near-tie does not end the comparison.
  int exact = 0, steps = 0;
  for (const auto& row : g.greedy["bfloat16"]) {
    auto prompt = row["prompt"].get<std::vector<int64_t>>();
    auto want = row["greedy"].get<std::vector<int64_t>>();
    std::vector<int64_t> seq = prompt;
    seq.insert(seq.end(), want.begin(), want.end());
    torch::InferenceMode guard;
    auto ids = torch::tensor(seq, torch::kLong).unsqueeze(0);
    auto logits = m->logits(m->forward(ids, positions_for(ids)))[0];
    for (size_t t = 0; t < want.size(); ++t) {
      auto row_logits = logits[prompt.size() - 1 + t];
      const double top = row_logits.max().item<double>();
      const double got = row_logits[want[t]].item<double>();
      EXPECT_GE(got, top - 2 * std::max(std::abs(top), 1.0) / 128) << g.name << " step " << t;
      exact += row_logits.argmax().item<int64_t>() == want[t];
      ++steps;
    }
  }
  EXPECT_GE(exact, steps * 9 / 10) << g.name;
  // And r1's own bf16 greedy with the KV cache equals r1's bf16 greedy without it.
  for (const auto& row : g.greedy["bfloat16"]) {
    auto prompt = row["prompt"].get<std::vector<int64_t>>();
    EXPECT_EQ(greedy_with_engine(m, prompt, 32, m->config().eos_token_ids),
              greedy_without_cache(*m, prompt, 32, m->config().eos_token_ids))
        << g.name;
  }
}

TEST_P(Parity, SequenceAloneEqualsSequenceInsideABatch) {
  auto g = load_golden(GetParam());
  auto m = load_transformer(g.model, torch::kFloat);
  const int64_t V = m->config().vocab_size;
  auto make = [&](std::vector<int64_t> prompt, uint64_t seed) {
    GenerationRequest r;
    for (auto& id : prompt) id %= V;
    r.prompt = std::move(prompt);
    r.sampling.temperature = 0.8;
    r.sampling.top_p = 0.95;
    r.max_new_tokens = 24;
    r.n = 3;
    r.seed = seed;
    return r;
  };
  std::vector<int64_t> a = {5, 17, 33, 8, 100, 9, 11};
  auto alone = Engine(m).generate({make(a, 7)})[0];
  // The same request between a longer and a shorter prompt, with a small batch so rows are
  // admitted while others decode.
  EngineOptions opts;
  opts.max_batch = 5;
  auto mixed = Engine(m, opts).generate(
      {make({3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}, 1), make(a, 7), make({42}, 2)});
  ASSERT_EQ(mixed[1].size(), alone.size());
  for (size_t j = 0; j < alone.size(); ++j) {
    EXPECT_EQ(mixed[1][j].ids, alone[j].ids) << "sample " << j;
    ASSERT_EQ(mixed[1][j].logprobs.size(), alone[j].logprobs.size());
    for (size_t t = 0; t < alone[j].logprobs.size(); ++t)
      EXPECT_NEAR(mixed[1][j].logprobs[t], alone[j].logprobs[t], 1e-4);
  }
}

INSTANTIATE_TEST_SUITE_P(Models, Parity,
                         ::testing::Values("qwen2-gqa-fp32", "qwen2-tied-bf16", "llama-rope3-fp32",
                                           "llama-tied-mha-fp32", "tiny-llama-verl"),
                         test::ParamName());

}  // namespace
}  // namespace r1
