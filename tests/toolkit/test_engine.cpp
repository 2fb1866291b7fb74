// The engine and the samplers: per-sample seeds independent of batching, shared prefill equal to
// separate requests, stop ids / stop strings / length, top-k and top-p semantics (transformers'
// warpers) checked by frequency, the fast candidate path against the full sort, request errors.
#include <torch/torch.h>

#include <map>

#include "tests/test_util.h"
#include "toolkit/engine.h"
#include "toolkit/error.h"
#include "toolkit/sampling.h"

namespace r1 {
namespace {

std::shared_ptr<Transformer> tiny() {
  static auto m = load_transformer("tests/data/models/qwen2-gqa-fp32", torch::kFloat);
  return m;
}

GenerationRequest request(std::vector<int64_t> prompt, int64_t n, uint64_t seed) {
  GenerationRequest r;
  r.prompt = std::move(prompt);
  r.n = n;
  r.seed = seed;
  r.sampling.temperature = 1.0;
  r.sampling.top_p = 0.9;
  r.sampling.top_k = 50;
  r.max_new_tokens = 20;
  return r;
}

TEST(Engine, SharedPrefillEqualsSeparateRequestsWithTheSameSeeds) {
  Engine engine(tiny());
  auto together = engine.generate({request({7, 8, 9, 10}, 4, 11)})[0];
  std::vector<GenerationRequest> apart;
  for (uint64_t j = 0; j < 4; ++j) {
    auto r = request({7, 8, 9, 10}, 1, 0);
    r.sample_seeds = {derive_seed(11, {j})};
    apart.push_back(r);
  }
  auto separate = engine.generate(apart);
  for (size_t j = 0; j < 4; ++j) EXPECT_EQ(together[j].ids, separate[j][0].ids) << j;
  // Different seeds give different samples (the model is random, so they almost surely differ).
  EXPECT_NE(together[0].ids, together[1].ids);
}

TEST(Engine, SameSeedSameTokensWhateverTheBatch) {
  auto base = Engine(tiny()).generate({request({1, 2, 3}, 2, 5)})[0];
  for (int64_t max_batch : {1, 2, 3, 16}) {
    EngineOptions o;
    o.max_batch = max_batch;
    auto got = Engine(tiny(), o).generate({request({9, 9}, 3, 1), request({1, 2, 3}, 2, 5)})[1];
    for (size_t j = 0; j < base.size(); ++j) EXPECT_EQ(got[j].ids, base[j].ids) << max_batch;
  }
}

TEST(Engine, FinishReasonsAndCallbacks) {
  auto r = request({4, 5, 6}, 3, 2);
  r.max_new_tokens = 5;
  int calls = 0;
  auto out = Engine(tiny()).generate({r}, [&](size_t i, int64_t j, const GeneratedSample& s) {
    EXPECT_EQ(i, 0u);
    EXPECT_LT(j, 3);
    ++calls;
  })[0];
  EXPECT_EQ(calls, 3);
  for (const auto& s : out) {
    EXPECT_EQ(s.finish_reason, "length");
    EXPECT_EQ(s.ids.size(), 5u);
    EXPECT_EQ(s.logprobs.size(), 5u);
    for (float lp : s.logprobs) EXPECT_LE(lp, 0.0f);
  }
  // Stop on the third token sampled by a known run.
  auto stop = r;
  stop.stop_ids = {out[0].ids[2]};
  auto s0 = Engine(tiny()).generate({stop})[0][0];
  EXPECT_EQ(s0.finish_reason, "stop");
  EXPECT_LE(s0.ids.size(), 3u);
  EXPECT_EQ(s0.ids.back(), out[0].ids[2]);
  // Stop strings through a detokenizer that spells ids as "<id>".
  EngineOptions o;
  o.detokenize = [](const std::vector<int64_t>& ids) {
    std::string s;
    for (auto id : ids) s.append("<").append(std::to_string(id)).append(">");
    return s;
  };
  auto str = r;
  std::string stop_text = "<";
  stop_text.append(std::to_string(out[1].ids[3])).append(">");
  str.stop_strings = {stop_text};
  auto s1 = Engine(tiny(), o).generate({str})[0][1];
  EXPECT_EQ(s1.finish_reason, "stop");
  EXPECT_EQ(s1.stop_string, str.stop_strings[0]);
  EXPECT_LE(s1.ids.size(), 4u);
  // The context limit ends generation with "length".
  EngineOptions small;
  small.max_context = 6;
  auto ctx = Engine(tiny(), small).generate({r})[0][0];
  EXPECT_EQ(ctx.finish_reason, "length");
  EXPECT_EQ(ctx.ids.size(), 3u);  // prompt 3 + 3 generated = 6
}

TEST(Engine, TopKOneIsGreedy) {
  auto g = request({3, 1, 4, 1, 5}, 1, 0);
  g.sampling.temperature = 0;
  auto k1 = request({3, 1, 4, 1, 5}, 2, 9);
  k1.sampling.top_k = 1;
  auto out = Engine(tiny()).generate({g, k1});
  EXPECT_EQ(out[1][0].ids, out[0][0].ids);
  EXPECT_EQ(out[1][1].ids, out[0][0].ids);
}

TEST(Engine, BadRequestsAreRejectedBeforeAnyWork) {
  Engine engine(tiny());
  auto expect_error = [&](GenerationRequest r, const std::string& needle) {
    try {
      engine.generate({r});
      ADD_FAILURE() << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error(request({}, 1, 0), "prompt is empty");
  expect_error(request({1, 320}, 1, 0), "prompt id 320 at position 1 is outside the vocabulary");
  expect_error(request({-1}, 1, 0), "outside the vocabulary");
  expect_error(request(std::vector<int64_t>(256, 3), 1, 0), "does not fit the context of 256");
  auto t = request({1}, 1, 0);
  t.sampling.top_p = 0;
  expect_error(t, "top_p");
  auto s = request({1}, 1, 0);
  s.stop_strings = {"x"};
  expect_error(s, "stop strings need a tokenizer");
}

// Frequencies of sample_tokens over many independent streams.
std::map<int64_t, double> frequencies(const torch::Tensor& probs, SamplingParams p, int draws) {
  auto logits = probs.log().unsqueeze(0).contiguous();
  std::map<int64_t, double> f;
  for (int i = 0; i < draws; ++i) {
    SampleRng rng{derive_seed(3, {static_cast<uint64_t>(i)}), 0};
    std::vector<SampleRng*> rngs = {&rng};
    f[sample_tokens(logits, {p}, rngs).ids[0]] += 1.0 / draws;
  }
  return f;
}

TEST(Sampling, TopPAndTopKFollowTransformersSemantics) {
  auto probs = torch::tensor({0.1, 0.4, 0.2, 0.3}, torch::kFloat);
  // top_p 0.5: smallest prefix of the sorted list reaching 0.5 is {1 (0.4), 3 (0.3)}.
  auto f = frequencies(probs, {1.0, 0.5, 0}, 20000);
  EXPECT_EQ(f.size(), 2u);
  EXPECT_NEAR(f[1], 4.0 / 7, 0.02);
  EXPECT_NEAR(f[3], 3.0 / 7, 0.02);
  // top_p 0.7 reaches exactly 0.7 with {1, 3}: transformers keeps just those too.
  EXPECT_EQ(frequencies(probs, {1.0, 0.7, 0}, 2000).size(), 2u);
  // top_k 3, then top_p 0.9 over the renormalised top 3 (0.4, 0.3, 0.2 -> /0.9): keeps all three.
  auto k = frequencies(probs, {1.0, 0.9, 3}, 20000);
  EXPECT_EQ(k.size(), 3u);
  EXPECT_NEAR(k[2], 0.2 / 0.9, 0.02);
  // Plain sampling follows the distribution.
  auto all = frequencies(probs, {1.0, 1.0, 0}, 20000);
  EXPECT_NEAR(all[0], 0.1, 0.015);
  EXPECT_NEAR(all[1], 0.4, 0.015);
  // Temperature sharpens: at 0.5 probabilities go as p^2.
  auto t = frequencies(probs, {0.5, 1.0, 0}, 20000);
  EXPECT_NEAR(t[1], 0.16 / 0.30, 0.02);
}

// transformers' kept set, transcribed from TopKLogitsWarper and TopPLogitsWarper: top-k removes
// tokens below the k-th probability (ties with it stay); top-p sorts ascending (stable), removes
// tokens whose cumulative mass is <= 1 - top_p over the renormalised top-k, and keeps the last.
std::vector<char> reference_kept(const torch::Tensor& probs_in, const SamplingParams& p) {
  const int64_t V = probs_in.size(0);
  auto probs = probs_in.to(torch::kDouble);
  std::vector<char> keep(V, 1);
  if (p.top_k > 0 && p.top_k < V) {
    const double kth = std::get<0>(probs.topk(p.top_k))[p.top_k - 1].item<double>();
    for (int64_t i = 0; i < V; ++i) keep[i] = probs_in[i].item<float>() >= static_cast<float>(kth);
  }
  if (p.top_p < 1.0) {
    double total = 0;
    for (int64_t i = 0; i < V; ++i)
      if (keep[i]) total += probs[i].item<double>();
    auto [sorted, idx] = probs_in.sort(/*stable=*/true, -1, /*descending=*/false);
    double cum = 0;
    for (int64_t j = 0; j < V - 1; ++j) {  // the last (most likely) token always stays
      const int64_t t = idx[j].item<int64_t>();
      if (!keep[t]) continue;
      cum += probs[t].item<double>() / total;
      if (cum <= 1 - p.top_p) keep[t] = 0;
    }
  }
  return keep;
}

TEST(Sampling, KeptSetAndDrawEqualTransformersSemantics) {
  // Peaked and flat rows, with and without top-k, and rows full of ties (as bf16 logits give):
  // the draw must be the inverse CDF, in id order, over transformers' kept set.
  torch::manual_seed(1);
  const int64_t V = 3000;
  std::vector<torch::Tensor> rows = {
      torch::randn({V}) * 8.0, torch::randn({V}) * 0.01,
      (torch::randn({V}) * 3.0).to(torch::kBFloat16).to(torch::kFloat),
      // 1291 ties: no top-p boundary falls exactly between two
      // of them, where float rounding alone would decide.
      torch::cat({torch::tensor({1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0}).repeat({430}),
                  torch::tensor({1.0})})};
  for (size_t r = 0; r < rows.size(); ++r) {
    for (SamplingParams p : {SamplingParams{0.7, 0.9, 0}, SamplingParams{0.7, 0.9, 40},
                             SamplingParams{1.0, 1.0, 2}, SamplingParams{1.0, 0.5, 0}}) {
      auto logits = rows[r].unsqueeze(0).contiguous();
      auto probs = torch::softmax(logits[0] / p.temperature, -1);
      const auto keep = reference_kept(probs, p);
      double mass = 0;
      for (int64_t i = 0; i < logits.size(1); ++i)
        if (keep[i]) mass += probs[i].item<double>();
      for (int i = 0; i < 40; ++i) {
        SampleRng rng{static_cast<uint64_t>(i), 0}, copy = rng;
        std::vector<SampleRng*> rngs = {&rng};
        auto got = sample_tokens(logits, {p}, rngs);
        const double target = copy.next_uniform() * mass;
        double acc = 0;
        int64_t want = -1;
        for (int64_t t = 0; t < logits.size(1); ++t) {
          if (!keep[t]) continue;
          acc += probs[t].item<double>();
          want = t;
          if (acc > target) break;
        }
        ASSERT_EQ(got.ids[0], want)
            << "row " << r << " top_k " << p.top_k << " top_p " << p.top_p << " draw " << i;
      }
    }
  }
}

TEST(Sampling, NonFiniteLogitsAreAnError) {
  auto logits = torch::tensor({1.0f, 2.0f, 3.0f}).unsqueeze(0);
  SampleRng rng{1, 0};
  std::vector<SampleRng*> rngs = {&rng};
  EXPECT_THROW(sample_tokens(logits, {SamplingParams{1e-300, 1.0, 5}}, rngs), Error);
  EXPECT_THROW(sample_tokens(logits, {SamplingParams{1e-300, 1.0, 0}}, rngs), Error);
  auto nan = torch::tensor({1.0f, NAN, 3.0f}).unsqueeze(0);
  EXPECT_THROW(sample_tokens(nan, {SamplingParams{1.0, 0.9, 0}}, rngs), Error);
}

}  // namespace
}  // namespace r1
