// The logit-level KD trainer (distill/kd_train.h) on the tiny R1-Zero's models: a random-init
// micro teacher and a nano student sharing its tokenizer. The student's divergence from the
// teacher on the training rows falls; the teacher's top-K is computed once per sequence and read
// back from the cache afterwards; on-policy steps happen at the seeded share; a run stopped after
// a checkpoint resumes to the uninterrupted run's weights, bit for bit; a teacher with another
// tokenizer is refused. And r1distill --train kd runs the same trainer as its stage 3.
#include <gtest/gtest.h>

#include <cstdio>      // std::printf
#include <filesystem>  // std::filesystem
#include <fstream>     // std::ofstream
#include <string>      // std::string

#include "distill/distill.h"        // r1::run_distill
#include "distill/kd_loss.h"        // r1::generalized_jsd_loss
#include "distill/kd_train.h"       // r1::run_kd
#include "rl/sft_data.h"            // r1::load_sft_file, r1::make_sft_batch
#include "rl/train_common.h"        // r1::pad_id_of
#include "rl/zero_task.h"           // r1::write_zero_assets
#include "tests/test_util.h"        // r1::test::TempDir, read_jsonl, error_of
#include "toolkit/chat_template.h"  // r1::load_chat_template
#include "toolkit/fs.h"             // r1::read_file
#include "toolkit/model_config.h"   // r1::load_model_config
#include "toolkit/tokenizer.h"      // r1::Tokenizer
#include "toolkit/transformer.h"    // r1::load_transformer

namespace {

namespace fs = std::filesystem;
using r1::test::TempDir;

r1::ZeroAssets assets(const fs::path& dir, const std::string& size) {
  r1::ZeroTaskConfig t;
  t.model_size = size;
  t.heldout_problems = 16;
  return r1::write_zero_assets(dir.string(), t);
}

// The first `n` rows of the task's cold-start SFT file.
std::string first_rows(const std::string& from, const std::string& to, int n) {
  std::ifstream in(from);
  std::ofstream out(to);
  std::string line;
  for (int i = 0; i < n && std::getline(in, line); ++i) out << line << "\n";
  return to;
}

// Forward KL(teacher || student) per response token over the rows of `data`, under `student`.
double divergence(const std::string& student, const std::string& teacher, const std::string& data) {
  const r1::Tokenizer tok = r1::Tokenizer::load(student);
  r1::SftEncoder enc{&tok, r1::load_chat_template(student), {}};
  enc.config.max_length = 512;
  const auto rows = r1::load_sft_file(data, enc);
  std::vector<const r1::SftExample*> all;
  for (const auto& r : rows) all.push_back(&r);
  const auto b = r1::make_sft_batch(all, r1::pad_id_of(tok, r1::load_model_config(student)));
  auto s = r1::load_transformer(student, torch::kFloat);
  auto t = r1::load_transformer(teacher, torch::kFloat);
  torch::NoGradGuard no_grad;
  auto sl = s->logits(s->forward(b.ids, b.positions, b.valid));
  auto tl = t->logits(t->forward(b.ids, b.positions, b.valid));
  auto labels = torch::full(b.ids.sizes(), -100, torch::kLong).view({-1});
  labels.index_put_({b.predict}, b.targets);
  return r1::generalized_jsd_loss(sl, tl, labels.view(b.ids.sizes()), 0.0).item<double>();
}

// The micro model with its final norm scaled up: peaked next-token distributions, like a trained
// teacher's, which a random-init student is far from.
std::string sharpened(const r1::ZeroAssets& a, const fs::path& dir) {
  auto m = r1::load_transformer(a.model, torch::kFloat);
  {
    torch::NoGradGuard no_grad;
    for (auto& [name, t] : m->hf_parameters())
      if (name == "model.norm.weight") t.mul_(30);
  }
  r1::save_transformer(*m, dir.string());
  for (const char* f : {"tokenizer.json", "tokenizer_config.json", "generation_config.json"})
    if (fs::exists(fs::path(a.model) / f)) fs::copy_file(fs::path(a.model) / f, dir / f);
  return dir.string();
}

struct Fixture {
  TempDir dir;
  r1::ZeroAssets teacher_assets = assets(dir / "teacher", "micro");
  std::string teacher = sharpened(teacher_assets, fs::path(dir.path()) / "sharp-teacher");
  r1::ZeroAssets student = assets(dir / "student", "nano");
  std::string data = first_rows(student.sft, dir / "rows.jsonl", 12);

  r1::KdTrainConfig config(const std::string& out) const {
    r1::KdTrainConfig c;
    c.student = student.model;
    c.teacher = teacher;
    c.data = data;
    c.out = out;
    c.kd.beta = 0.0;
    c.kd.lmbda = 0.25;
    c.kd.top_k = 16;
    c.epochs = 6;
    c.batch_size = 4;
    c.lr = 1e-2;
    c.max_new_tokens = 16;
    c.seed = 3;
    c.threads = 2;
    return c;
  }
};

TEST(KdTrain, StudentMovesTowardTheTeacherAndTheTeacherRunsOncePerSequence) {
  Fixture f;
  const double before = divergence(f.student.model, f.teacher, f.data);
  const auto r = r1::run_kd(f.config(f.dir / "run"));
  ASSERT_EQ(r.total_steps, 18);  // 6 epochs x 12 rows / 4
  EXPECT_EQ(r.steps, 18);
  const double after = divergence(r.checkpoint, f.teacher, f.data);
  std::printf("KL(teacher || student) per token: %.4f before, %.4f after %lld steps\n", before,
              after, static_cast<long long>(r.steps));
  EXPECT_LT(after, 0.5 * before) << before << " -> " << after;
  // lmbda 0.25 over 18 seeded draws: some steps on-policy, most not.
  EXPECT_GT(r.on_policy_steps, 0);
  EXPECT_LT(r.on_policy_steps, 12);
  // Each dataset row reached the teacher once; every later visit was a cache hit. On-policy
  // samples are new sequences (cached too, rarely met again).
  const int64_t offline_rows = (18 - r.on_policy_steps) * 4;
  EXPECT_GE(r.cache_hits, offline_rows - 12);
  EXPECT_LE(r.teacher_sequences, 12 + r.on_policy_steps * 4);
  EXPECT_TRUE(fs::exists(f.dir / "run/teacher-cache"));
  const auto lines = r1::test::read_jsonl(f.dir / "run/metrics.jsonl");
  ASSERT_EQ(lines.size(), 18u);
  EXPECT_TRUE(lines[0].contains("on_policy"));
}

TEST(KdTrain, StoppedRunResumesToTheSameWeights) {
  Fixture f;
  auto c = f.config(f.dir / "clean");
  const auto clean = r1::run_kd(c);
  c = f.config(f.dir / "stopped");
  c.save_every = 5;
  c.stop_after = 7;  // checkpoint at 5, then steps 6 and 7 are lost
  auto r = r1::run_kd(c);
  EXPECT_EQ(r.steps, 7);
  c.stop_after = 0;
  r = r1::run_kd(c);
  EXPECT_EQ(r.resumed_from, 5);
  EXPECT_EQ(r.steps, 18);
  EXPECT_EQ(r1::read_file(clean.checkpoint + "/model.safetensors"),
            r1::read_file(r.checkpoint + "/model.safetensors"));
  // The same metrics, step by step (less timing and this process's cache counter).
  auto metrics = [&](const std::string& run) {
    auto lines = r1::test::read_jsonl(f.dir / (run + "/metrics.jsonl"));
    for (auto& l : lines) l.erase("seconds"), l.erase("cache_hits");
    return lines;
  };
  EXPECT_EQ(metrics("stopped"), metrics("clean"));
  // Another flag on the same --out is refused.
  c.lr = 1e-3;
  EXPECT_NE(r1::test::error_of([&] { r1::run_kd(c); }).find("cannot resume"), std::string::npos);
}

TEST(KdTrain, RefusesAnotherTokenizer) {
  Fixture f;
  auto c = f.config(f.dir / "run");
  c.teacher = "tests/data/models/tiny-r1";
  const auto e = r1::test::error_of([&] { r1::run_kd(c); });
  EXPECT_NE(e.find("logit-level KD cannot apply"), std::string::npos) << e;
  EXPECT_NE(e.find("tokenizer differs"), std::string::npos) << e;
}

}  // namespace
