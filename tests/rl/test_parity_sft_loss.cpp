// r1's SFT against transformers/PyTorch on tiny-r1 (goldens from tests/reference/
// make_sft_goldens.py): the rows' ids and loss masks, the loss and gradient norms on a padded
// batch, the loss after one clipped AdamW step, the LR schedule; and a checkpoint written by
// r1train loads in transformers (tests/reference/check_hf_load.py, run live with the project's
// .venv Python) with the same loss as in r1.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>

#include "rl/checkpoint.h"
#include "rl/optim.h"
#include "rl/sft.h"
#include "rl/sft_data.h"
#include "tests/test_util.h"
#include "toolkit/fs.h"
#include "toolkit/json.h"

namespace r1 {
namespace {

namespace fs = std::filesystem;
const std::string kGolden = "tests/data/goldens/sft_loss.json";

double rel(double a, double b) { return std::abs(a - b) / std::max(std::abs(b), 1e-12); }

struct Golden {
  nlohmann::json j = read_json_file(kGolden);
  std::string model = j["model"];
  Tokenizer tok = Tokenizer::load(model);
  SftEncoder enc{&tok, load_chat_template(model), {}};
  std::vector<SftExample> rows;
  Golden() {
    for (size_t i = 0; i < j["rows"].size(); ++i)
      rows.push_back(
          encode_sft_row(j["rows"][i], enc, kGolden + ": rows[" + std::to_string(i) + "]"));
  }
  SftBatch batch() const {
    std::vector<const SftExample*> ptrs;
    for (const auto& r : rows) ptrs.push_back(&r);
    return make_sft_batch(ptrs, j["pad_id"].get<int64_t>());
  }
};

TEST(SftParity, IdsAndLossMasksMatchTransformers) {
  Golden g;
  ASSERT_EQ(g.rows.size(), g.j["ids"].size());
  for (size_t i = 0; i < g.rows.size(); ++i) {
    EXPECT_EQ(g.rows[i].ids, g.j["ids"][i].get<std::vector<int64_t>>()) << "row " << i;
    const auto labels = g.j["labels"][i].get<std::vector<int64_t>>();
    int64_t prompt = 0;
    while (prompt < static_cast<int64_t>(labels.size()) && labels[prompt] == -100) ++prompt;
    EXPECT_EQ(g.rows[i].prompt_tokens, prompt) << "row " << i;
  }
}

TEST(SftParity, LossGradientsAndOneStepMatchTransformers) {
  Golden g;
  auto model = load_transformer(g.model);
  const auto batch = g.batch();
  auto loss = sft_loss_sum(*model, batch) / static_cast<double>(batch.tokens);
  const double ours = loss.item<double>(), theirs = g.j["loss"];
  EXPECT_LT(rel(ours, theirs), 1e-5) << ours << " vs " << theirs;
  loss.backward();
  zero_padding_embedding_grad(*model);
  std::vector<std::pair<std::string, torch::Tensor>> params;
  for (const auto& item : model->named_parameters()) params.emplace_back(item.key(), item.value());
  const double norm = global_grad_norm(params), norm_ref = g.j["grad_norm"];
  EXPECT_LT(rel(norm, norm_ref), 1e-4) << norm << " vs " << norm_ref;
  const double head = model->lm_head_weight().grad().norm().item<double>();
  EXPECT_LT(rel(head, g.j["lm_head_grad_norm"].get<double>()), 1e-4) << head;
  std::printf("sft parity: loss %.9g vs transformers %.9g (rel %.2e), grad norm rel %.2e\n", ours,
              theirs, rel(ours, theirs), rel(norm, norm_ref));

  // One clipped AdamW step (decay on matrices), then the loss again: torch.optim.AdamW's result.
  const auto& s = g.j["step"];
  AdamW opt(params, {0.9, 0.999, 1e-8, s["weight_decay"].get<double>()});
  opt.step(s["lr"].get<double>(), clip_coefficient(norm, s["clip"].get<double>()));
  torch::NoGradGuard no_grad;
  const double after =
      (sft_loss_sum(*model, batch) / static_cast<double>(batch.tokens)).item<double>();
  const double after_ref = s["loss_after"];
  EXPECT_LT(rel(after, after_ref), 1e-5) << after << " vs " << after_ref;
  std::printf("sft parity: loss after one AdamW step %.9g vs torch %.9g (rel %.2e)\n", after,
              after_ref, rel(after, after_ref));
}

TEST(SftParity, ScheduleMatchesTransformers) {
  Golden g;
  const auto& s = g.j["schedule"];
  LrSchedule schedule{s["lr"], s["warmup_steps"], s["total_steps"], s["min_lr_ratio"]};
  const auto values = s["values"].get<std::vector<double>>();
  for (size_t i = 0; i < values.size(); ++i)
    EXPECT_NEAR(schedule.at(static_cast<int64_t>(i)), values[i], 1e-15) << "step " << i;
}

std::string python() {
  if (const char* p = std::getenv("R1_PYTHON")) return p;
  return fs::exists(".venv/bin/python") ? ".venv/bin/python" : "";
}

class HfLoad : public ::testing::TestWithParam<std::string> {};

// r1train's checkpoint, loaded by transformers, gives r1's loss on the golden rows.
TEST_P(HfLoad, R1trainCheckpointLoadsInTransformers) {
  const std::string py = python();
  if (py.empty()) GTEST_SKIP() << "no Python with transformers (.venv/bin/python or $R1_PYTHON)";
  Golden g;
  test::TempDir dir;
  std::string rows;
  for (const auto& r : g.j["rows"]) rows += r.dump() + "\n";
  write_file_atomic(dir / "rows.jsonl", rows);
  const auto train = test::run_command(test::bin("r1train") + " sft --model " + g.model +
                                       " --data " + dir / "rows.jsonl" + " --out " + dir / "run" +
                                       " --steps 3 --batch-size 3 --lr 1e-3 --dtype " + GetParam());
  ASSERT_EQ(train.exit_code, 0) << train.out;
  const std::string ckpt = checkpoint_dir(dir / "run/checkpoints", 3);
  const auto hf = test::run_command(py + " tests/reference/check_hf_load.py " + ckpt + " " +
                                    dir / "rows.jsonl" + " 2>/dev/null");
  ASSERT_EQ(hf.exit_code, 0) << hf.out;
  const auto j = nlohmann::json::parse(hf.out.substr(hf.out.find('{')));
  EXPECT_EQ(j["architecture"], "Qwen2ForCausalLM");
  EXPECT_EQ(j["dtype"], GetParam() == "bfloat16" ? "torch.bfloat16" : "torch.float32");
  for (size_t i = 0; i < g.rows.size(); ++i)
    EXPECT_EQ(j["ids"][i].get<std::vector<int64_t>>(), g.rows[i].ids);
  auto model = load_transformer(ckpt, at::kFloat);
  const double ours = sft_mean_loss(*model, g.rows, 3, g.j["pad_id"].get<int64_t>());
  const double theirs = j["loss"];
  EXPECT_LT(rel(ours, theirs), 1e-5) << ours << " vs " << theirs;
  std::printf("hf load (%s): loss in r1 %.9g vs transformers %.9g (rel %.2e)\n", GetParam().c_str(),
              ours, theirs, rel(ours, theirs));
  EXPECT_GT(std::abs(ours - g.j["loss"].get<double>()), 1e-3);  // it did train
}

INSTANTIATE_TEST_SUITE_P(Dtypes, HfLoad, ::testing::Values("float32", "bfloat16"));

}  // namespace
}  // namespace r1
