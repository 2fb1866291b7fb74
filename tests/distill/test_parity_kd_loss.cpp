// Parity of distill/kd_loss and teacher_topk with TRL 1.16.0 on the goldens of
// tests/reference/make_kd_goldens.py: loss and d(loss)/d(student_logits) of
// GKDTrainer.generalized_jsd_loss for every beta x temperature x reduction x mask case, and of the
// top-K (teacher-server) loss with and without the tail bucket. Float64 against float64 goldens
// (tight), and the same inputs in float32 (the training dtype; float32 rounding tolerances).
#include <gtest/gtest.h>  // testing
#include <torch/torch.h>  // torch::Tensor

#include <algorithm>  // std::max
#include <cmath>      // std::abs, std::isnan
#include <cstdio>     // std::printf
#include <limits>     // std::numeric_limits
#include <optional>   // std::optional
#include <string>     // std::string
#include <vector>     // std::vector

#include "distill/kd_loss.h"        // r1::generalized_jsd_loss, r1::topk_jsd_loss
#include "distill/teacher_cache.h"  // r1::teacher_topk
#include "toolkit/json.h"           // r1::read_json_file

namespace {

using nlohmann::json;

const json& goldens() {
  static const json g = r1::read_json_file("tests/data/goldens/kd_loss.json");
  return g;
}

double num(const json& v) {
  if (v.is_null()) return std::numeric_limits<double>::quiet_NaN();
  if (v.is_string()) {
    const double inf = std::numeric_limits<double>::infinity();
    return v.get<std::string>() == "-inf" ? -inf : inf;
  }
  return v.get<double>();
}

torch::Tensor tensor(const json& values, std::vector<int64_t> shape,
                     torch::ScalarType dtype = torch::kFloat64) {
  std::vector<double> v;
  for (const auto& x : values) v.push_back(num(x));
  return torch::tensor(v, torch::kFloat64).view(shape).to(dtype);
}

// Tolerances per dtype: float64 runs the same formulas as TRL (observed ~1e-15); float32 rounds
// logits and log-probs to 2^-24 relative, which cancellation in KL terms amplifies.
struct Tol {
  double rel, abs;
};
constexpr Tol kTol64{1e-10, 1e-13};
constexpr Tol kTol32{2e-5, 2e-6};

// Worst errors over a test, printed at its end; relative errors of values of at least 1e-6 (a
// gradient entry of 1e-15 has no meaningful relative error).
struct Worst {
  double abs = 0, rel = 0;
  void add(double got, double want) {
    const double a = std::abs(got - want);
    abs = std::max(abs, a);
    if (std::abs(want) >= 1e-6) rel = std::max(rel, a / std::abs(want));
  }
  void print(const char* what) const {
    std::printf("[ %s ] max abs err %.3g, max rel err %.3g (values >= 1e-6)\n", what, abs, rel);
  }
};

void expect_close(double got, double want, const std::string& what, const Tol& tol, Worst& worst) {
  if (std::isnan(want)) {
    EXPECT_TRUE(std::isnan(got)) << what << ": got " << got << ", want NaN";
    return;
  }
  worst.add(got, want);
  EXPECT_NEAR(got, want, tol.abs + tol.rel * std::abs(want)) << what;
}

void expect_all_close(const torch::Tensor& got, const json& want, const std::string& what,
                      const Tol& tol, Worst& worst) {
  auto g = got.detach().to(torch::kFloat64).flatten().contiguous();
  ASSERT_EQ(g.numel(), static_cast<int64_t>(want.size())) << what;
  const double* p = g.data_ptr<double>();
  for (int64_t i = 0; i < g.numel(); ++i)
    expect_close(p[i], num(want[i]), what + "[" + std::to_string(i) + "]", tol, worst);
}

struct Input {
  int64_t B, T, V;
  torch::Tensor student, teacher, labels;  // float64; labels undefined when the golden has none
};

Input input(int i) {
  const auto& in = goldens()["inputs"][i];
  Input x{in["B"], in["T"], in["V"], {}, {}, {}};
  x.student = tensor(in["student"], {x.B, x.T, x.V});
  x.teacher = tensor(in["teacher"], {x.B, x.T, x.V});
  if (!in["labels"].is_null()) x.labels = tensor(in["labels"], {x.B, x.T}, torch::kInt64);
  return x;
}

std::optional<double> num_items(const json& c) {
  if (!c.contains("num_items_in_batch") || c["num_items_in_batch"].is_null()) return std::nullopt;
  return c["num_items_in_batch"].get<double>();
}

// Backpropagates as the golden did ("none": the dot product with its weights) and checks the
// loss and the gradient.
struct Errors {
  Worst loss, terms, grad;  // scalar losses, "none" terms, gradients
  void print() const {
    loss.print("loss");
    terms.print("\"none\" terms");
    grad.print("grad");
  }
};

void check_case(const torch::Tensor& loss, const torch::Tensor& student, const json& c,
                const std::string& name, const Tol& tol, Errors& err) {
  const bool none = c["reduction"] == "none";
  EXPECT_EQ(loss.sizes().vec(), c["loss_shape"].get<std::vector<int64_t>>()) << name;
  if (none) {
    expect_all_close(loss, c["loss"], name + " loss", tol, err.terms);
    auto w = tensor(c["none_weights"], loss.sizes().vec(), loss.scalar_type());
    (loss * w).sum().backward();
  } else {
    expect_close(loss.item<double>(), num(c["loss"]), name + " loss", tol, err.loss);
    loss.backward();
  }
  expect_all_close(student.grad(), c["grad"], name + " grad", tol, err.grad);
}

std::string case_name(const char* kind, int n, const json& c) {
  return std::string(kind) + " " + std::to_string(n) + " (input " +
         std::to_string(c["input"].get<int>()) + ", beta " +
         std::to_string(c["beta"].get<double>()) + ", T " +
         std::to_string(c["temperature"].get<double>()) + ", " + c["reduction"].get<std::string>() +
         ")";
}

class KdLossParity : public ::testing::TestWithParam<torch::ScalarType> {};

TEST_P(KdLossParity, GeneralizedJsdMatchesTrl) {
  const auto& g = goldens();
  ASSERT_EQ(g["trl"].get<std::string>(), "1.16.0") << "goldens from another TRL: regenerate";
  const auto dtype = GetParam();
  const Tol tol = dtype == torch::kFloat64 ? kTol64 : kTol32;
  Errors err;
  int n = 0;
  for (const auto& c : g["loss_cases"]) {
    const Input in = input(c["input"]);
    auto student = in.student.to(dtype).requires_grad_(true);
    auto loss = r1::generalized_jsd_loss(student, in.teacher.to(dtype), in.labels, c["beta"],
                                         c["temperature"], c["reduction"], num_items(c));
    EXPECT_EQ(loss.scalar_type(), dtype);
    check_case(loss, student, c, case_name("case", n, c), tol, err);
    ++n;
  }
  EXPECT_GE(n, 50);
  std::printf("[ %d cases, %s ]\n", n, c10::toString(dtype));
  err.print();
}

TEST_P(KdLossParity, TopKMatchesTrlServerDistillation) {
  const auto& g = goldens();
  const auto dtype = GetParam();
  const Tol tol = dtype == torch::kFloat64 ? kTol64 : kTol32;
  Errors err;
  int n = 0, checked_against_trl = 0;
  for (const auto& c : g["topk_cases"]) {
    const Input in = input(c["input"]);
    const auto& teacher = g["topk_teachers"][c["teacher"].get<int>()];
    const int64_t K = c["k"];
    auto ids = tensor(teacher["ids"], {in.B, in.T, K}, torch::kInt32);
    auto logprobs = tensor(teacher["logprobs"], {in.B, in.T, K}, dtype);
    auto student = in.student.to(dtype).requires_grad_(true);
    auto loss = r1::topk_jsd_loss(student, ids, logprobs, in.labels, c["beta"], c["temperature"],
                                  c["reduction"], c["add_tail"]);
    const std::string name = case_name("top-K case", n, c) + " K " + std::to_string(K) +
                             (c["add_tail"].get<bool>() ? " tail" : " renormalised") +
                             (c["pad"].get<bool>() ? " padded" : "");
    check_case(loss, student, c, name, tol, err);
    checked_against_trl += c.value("checked_against_trl_method", false) ? 1 : 0;
    ++n;
  }
  EXPECT_GE(n, 40);
  EXPECT_GE(checked_against_trl, 8);  // beta 0 "batchmean" cases equal TRL's own method
  std::printf("[ %d top-K cases, %s ]\n", n, c10::toString(dtype));
  err.print();
}

INSTANTIATE_TEST_SUITE_P(Dtypes, KdLossParity, ::testing::Values(torch::kFloat64, torch::kFloat32),
                         [](const auto& info) { return std::string(c10::toString(info.param)); });

TEST(KdLossParity, TeacherTopKMatchesTorchTopk) {
  Worst err;
  for (const auto& t : goldens()["topk_teachers"]) {
    if (t["pad"].get<bool>()) continue;  // padded by hand, not by topk
    const Input in = input(t["input"]);
    const int64_t K = t["k"];
    for (int64_t chunk : {1, 64}) {
      auto topk = r1::teacher_topk(in.teacher, K, t["temperature"], chunk);
      ASSERT_EQ(topk.ids.sizes(), (std::vector<int64_t>{in.B, in.T, K}));
      EXPECT_EQ(topk.ids.scalar_type(), torch::kInt32);
      EXPECT_EQ(topk.logprobs.scalar_type(), torch::kFloat32);
      auto want_ids = tensor(t["ids"], {in.B, in.T, K}, torch::kInt32);
      EXPECT_TRUE(torch::equal(topk.ids, want_ids)) << "K " << K;
      // float32 output of a float64 computation: rounding only.
      expect_all_close(topk.logprobs, t["logprobs"], "top-K logprobs", {1e-7, 1e-7}, err);
    }
  }
  err.print("teacher top-K logprobs");
}

}  // namespace
