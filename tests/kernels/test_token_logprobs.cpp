// Chunked per-token log-probs against the full log-softmax (forward and both gradients), with
// chunk sizes that do and do not divide the vocabulary.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "kernels/token_logprobs.h"

namespace r1 {
namespace {

TEST(TokenLogprobs, MatchesFullLogSoftmaxAndItsGradients) {
  torch::manual_seed(0);
  const int64_t N = 7, C = 16, V = 101;
  for (double temperature : {1.0, 0.6}) {
    for (int64_t chunk : {int64_t{8}, int64_t{50}, int64_t{101}, int64_t{4096}}) {
      auto h = torch::randn({N, C}, torch::requires_grad());
      auto w = torch::randn({V, C}, torch::requires_grad());
      auto t = torch::randint(0, V, {N}, torch::kLong);
      auto g = torch::randn({N});
      auto got = token_logprobs(h, w, t, temperature, chunk);
      auto [gh, gw] = [&] {
        auto grads = torch::autograd::grad({got}, {h, w}, {g});
        return std::pair{grads[0], grads[1]};
      }();
      auto want = torch::log_softmax(torch::mm(h, w.t()) / temperature, -1)
                      .gather(1, t.unsqueeze(1))
                      .squeeze(1);
      auto wgrads = torch::autograd::grad({want}, {h, w}, {g});
      EXPECT_TRUE(torch::allclose(got, want, 1e-5, 1e-5)) << chunk;
      EXPECT_TRUE(torch::allclose(gh, wgrads[0], 1e-4, 1e-5)) << chunk;
      EXPECT_TRUE(torch::allclose(gw, wgrads[1], 1e-4, 1e-5)) << chunk;
    }
  }
}

TEST(TokenLogprobs, RejectsBadShapes) {
  EXPECT_THROW(
      token_logprobs(torch::randn({2, 3}), torch::randn({5, 4}), torch::zeros({2}, torch::kLong)),
      c10::Error);
  EXPECT_THROW(
      token_logprobs(torch::randn({2, 3}), torch::randn({5, 3}), torch::zeros({3}, torch::kLong)),
      c10::Error);
}

}  // namespace
}  // namespace r1
