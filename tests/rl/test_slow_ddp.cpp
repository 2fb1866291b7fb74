// Data-parallel training (rl/distributed.h) through the r1train binary, as torchrun would start it
// (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT): 2 CPU processes over Gloo end with the weights and
// metrics of 1 process on the same global batch, for SFT (with a sharded held-out loss) and for
// GRPO under each loss aggregation, truncation masking, old log-probs with KL, batch-scaled
// advantages and dynamic sampling with an uneven refill; only rank 0 writes the run directory; a
// 2-process run resumes exactly; a bad environment or a missing peer ends in one clear line, not a
// hang.
#include <gtest/gtest.h>  // TEST, EXPECT_*
#include <netinet/in.h>   // sockaddr_in
#include <sys/socket.h>   // socket, bind, getsockname
#include <torch/torch.h>  // torch ops
#include <unistd.h>       // close

#include <nlohmann/json.hpp>  // nlohmann::json

#include <algorithm>   // std::count
#include <chrono>      // std::chrono::steady_clock
#include <cmath>       // std::abs
#include <filesystem>  // std::filesystem
#include <string>      // std::string
#include <vector>      // std::vector

#include "rl/checkpoint.h"        // r1::checkpoint_dir
#include "tests/test_util.h"      // r1::test::TempDir, r1::test::run_command, r1::test::bin
#include "toolkit/fs.h"           // r1::read_file, r1::write_file_atomic
#include "toolkit/safetensors.h"  // r1::SafetensorsCheckpoint

namespace r1 {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
const std::string kModel = "tests/data/models/tiny-r1";

// A TCP port that was free a moment ago (the kernel's pick for port 0).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ADD_FAILURE() << "no free port";
    return 29500;
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

// r1train as one process (no data-parallel variables).
test::CommandResult r1train(const std::string& args, const std::string& env = "") {
  return test::run_command("env OMP_NUM_THREADS=1 " + env + " timeout 120 " + test::bin("r1train") +
                           " " + args);
}

// r1train as a job of rank_args.size() ranks on this machine: rank r runs `args + rank_args[r]`
// with the variables rank_env[r] (if given) added. All run at once and are waited for; the results
// are in rank order.
std::vector<test::CommandResult> r1train_ranks(const test::TempDir& dir, const std::string& args,
                                               const std::vector<std::string>& rank_args,
                                               const std::vector<std::string>& rank_env = {}) {
  const int port = free_port();
  const auto n = rank_args.size();
  std::string cmd;
  for (size_t r = 0; r < n; ++r) {
    const std::string log = dir / ("rank" + std::to_string(r) + ".log");
    cmd += "(env OMP_NUM_THREADS=1 WORLD_SIZE=" + std::to_string(n) + " RANK=" + std::to_string(r) +
           " MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(port) + " " +
           (r < rank_env.size() ? rank_env[r] : std::string()) + " timeout 120 " +
           test::bin("r1train") + " " + args + " " + rank_args[r] + " >" + log +
           " 2>&1; echo $? >" + log + ".rc) & ";
  }
  test::run_command(cmd + "wait");
  std::vector<test::CommandResult> out(n);
  for (size_t r = 0; r < n; ++r) {
    const std::string log = dir / ("rank" + std::to_string(r) + ".log");
    out[r].out = read_file(log);
    out[r].exit_code = std::stoi(read_file(log + ".rc"));
  }
  return out;
}

void expect_ok(const std::vector<test::CommandResult>& ranks) {
  for (size_t r = 0; r < ranks.size(); ++r)
    EXPECT_EQ(ranks[r].exit_code, 0) << "rank " << r << ": " << ranks[r].out;
}

void expect_clean_error(const test::CommandResult& r, const std::string& needle) {
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_LT(r.exit_code, 124) << "crashed or hung: " << r.out;
  EXPECT_NE(r.out.find(needle), std::string::npos) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
}

// The largest absolute difference between two checkpoints' weights.
double max_weight_diff(const std::string& a_dir, const std::string& b_dir) {
  SafetensorsCheckpoint a(a_dir), b(b_dir);
  EXPECT_EQ(a.names(), b.names());
  double worst = 0;
  for (const auto& name : a.names())
    worst = std::max(worst, (a.tensor(name) - b.tensor(name)).abs().max().item<double>());
  return worst;
}

// The metrics of a 2-rank run against the 1-process run's: the same lines and fields, integers and
// strings equal, numbers within `rel` (wall-clock fields skipped).
void expect_same_metrics(const std::vector<json>& one, const std::vector<json>& two, double rel) {
  ASSERT_EQ(one.size(), two.size());
  for (size_t i = 0; i < one.size(); ++i) {
    for (const auto& [key, a] : one[i].items()) {
      if (key == "seconds" || key.rfind("time/", 0) == 0) continue;
      ASSERT_TRUE(two[i].contains(key)) << "line " << i << ": " << key;
      const json& b = two[i][key];
      if (a.is_number_float()) {
        const double x = a.get<double>(), y = b.get<double>();
        EXPECT_LE(std::abs(x - y), rel * std::max(1.0, std::abs(x)))
            << "line " << i << ": " << key << " " << x << " vs " << y;
      } else if (a.is_array()) {  // GRPO's per-iteration lines
        expect_same_metrics(std::vector<json>(a.begin(), a.end()),
                            std::vector<json>(b.begin(), b.end()), rel);
      } else {
        EXPECT_EQ(a, b) << "line " << i << ": " << key;
      }
    }
  }
}

// The weights drift apart by float rounding only: the ranks add their parts of a sum in another
// order. AdamW magnifies that for entries whose gradient is near its eps (its first update is
// lr * g / (|g| + eps)), so the runs use --adam-eps 1e-6; the metrics' grad_norm and loss, which
// AdamW's scale invariance would hide, catch a wrong normaliser.
constexpr double kWeightTol = 1e-5;
constexpr double kMetricTol = 1e-5;

std::string write_text(const test::TempDir& dir, const std::string& name, const std::string& text) {
  write_file_atomic(dir / name, text);
  return dir / name;
}

// n arithmetic rows {"prompt", "response"} for SFT.
std::string sft_rows(const test::TempDir& dir, const std::string& name, int n, int from = 0) {
  std::string text;
  for (int i = from; i < from + n; ++i) {
    const int a = 3 + 7 * i, b = 11 + 5 * i;
    const std::string sum = std::to_string(a + b);
    text +=
        json{{"prompt", "What is " + std::to_string(a) + " plus " + std::to_string(b) + "?"},
             {"response", "<think>\nadd them: " + sum + "\n</think>\n\nThe answer is " + sum + "."}}
            .dump() +
        "\n";
  }
  return write_text(dir, name, text);
}

// ---- SFT -------------------------------------------------------------------------------------

TEST(Ddp, SftTwoRanksEqualOneAndOnlyRankZeroWrites) {
  test::TempDir dir;
  const std::string args = "sft --model " + kModel + " --data " + sft_rows(dir, "train.jsonl", 16) +
                           " --eval-data " + sft_rows(dir, "eval.jsonl", 5, 100) +
                           " --steps 4 --batch-size 4 --grad-accum 2 --lr 1e-3 --eval-every 2"
                           " --save-every 2 --keep-last 0 --adam-eps 1e-6 --threads 1";
  const auto one = r1train(args + " --out " + dir / "one");
  ASSERT_EQ(one.exit_code, 0) << one.out;
  // Rank 1 gets its own --out to show that it writes nothing there.
  const auto two = r1train_ranks(dir, args, {"--out " + dir / "two", "--out " + dir / "two-rank1"});
  expect_ok(two);
  EXPECT_FALSE(fs::exists(dir / "two-rank1")) << "rank 1 wrote into its --out";
  EXPECT_TRUE(fs::exists(dir / "two/sft_config.json"));

  const std::string last_one = checkpoint_dir(dir / "one/checkpoints", 4);
  const std::string last_two = checkpoint_dir(dir / "two/checkpoints", 4);
  EXPECT_GT(max_weight_diff(last_one, kModel), 1e-3) << "training did not move the weights";
  EXPECT_LT(max_weight_diff(last_one, last_two), kWeightTol);
  const auto metrics = test::read_jsonl(dir / "two" + "/metrics.jsonl");
  expect_same_metrics(test::read_jsonl(dir / "one" + "/metrics.jsonl"), metrics, kMetricTol);
  EXPECT_TRUE(metrics.front().contains("eval_loss")) << metrics.front();

  // A 2-rank run stopped after step 3 (its newest checkpoint is step 2) resumes where the
  // uninterrupted one ends, bit for bit: both ranks read the checkpoint.
  const std::string stop = "--out " + dir / "stopped";
  expect_ok(r1train_ranks(dir, args + " --stop-after 3", {stop, stop}));
  const auto resumed = r1train_ranks(dir, args, {stop, stop});
  expect_ok(resumed);
  ASSERT_EQ(resumed.size(), 2u);
  EXPECT_NE(resumed[0].out.find("resumed from step 2"), std::string::npos) << resumed[0].out;
  EXPECT_EQ(resumed[1].out.find("r1train sft:"), std::string::npos)  // the job's line, once
      << resumed[1].out;
  EXPECT_EQ(max_weight_diff(last_two, checkpoint_dir(dir / "stopped/checkpoints", 4)), 0.0);
  expect_same_metrics(metrics, test::read_jsonl(dir / "stopped" + "/metrics.jsonl"), 0.0);
}

// ---- GRPO ------------------------------------------------------------------------------------

// The base policy of the GRPO runs: tiny-r1 after a little SFT, so that completions end at EOS
// after varying lengths (a random model is cut at the limit every time) and rewards differ.
const std::string& grpo_base() {
  static test::TempDir dir;
  static const std::string base = [] {
    const auto r =
        r1train("sft --model " + kModel + " --data " + sft_rows(dir, "train.jsonl", 16) +
                " --out " + dir / "base --steps 30 --batch-size 4 --lr 1e-2 --threads 1");
    EXPECT_EQ(r.exit_code, 0) << r.out;
    return checkpoint_dir(dir / "base/checkpoints", 30);
  }();
  return base;
}

std::string grpo_prompts(const test::TempDir& dir) {
  std::string text;
  for (int i = 0; i < 8; ++i)
    text += json{{"prompt", "What is " + std::to_string(i) + "+" + std::to_string(2 * i) + "?"},
                 {"answer", std::to_string(3 * i)}}
                .dump() +
            "\n";
  return write_text(dir, "prompts.jsonl", text);
}

struct GrpoCase {
  std::string name;
  std::string flags;  // "{prompts}" stands for the prompt file
};

class DdpGrpo : public testing::TestWithParam<GrpoCase> {};

// 4 prompts x 4 samples a step in micro-batches of 3: the ranks' halves of the step cut the
// 1-process micro-batches, so every loss aggregation's per-micro-batch normaliser is exercised.
TEST_P(DdpGrpo, TwoRanksEqualOne) {
  test::TempDir dir;
  const std::string prompts = grpo_prompts(dir);
  std::string flags = GetParam().flags;
  if (const auto at = flags.find("{prompts}"); at != std::string::npos)
    flags.replace(at, 9, prompts);
  const std::string args =
      "grpo --model " + grpo_base() + " --prompts " + prompts +
      " --steps 3 --prompts-per-step 4 --num-generations 4"
      " --max-new-tokens 12 --micro-batch 3 --lr 1e-3 --rewards format,language"
      " --adam-eps 1e-6 --threads 1 " +
      flags;
  const auto one = r1train(args + " --out " + dir / "one");
  ASSERT_EQ(one.exit_code, 0) << one.out;
  expect_ok(r1train_ranks(dir, args, {"--out " + dir / "two", "--out " + dir / "two-rank1"}));
  EXPECT_FALSE(fs::exists(dir / "two-rank1")) << "rank 1 wrote into its --out";

  const auto metrics = test::read_jsonl(dir / "one" + "/metrics.jsonl");
  bool varied_lengths = false;
  for (const auto& line : metrics)
    if (line.contains("completions/truncated_rate"))
      varied_lengths = varied_lengths || (line["completions/truncated_rate"].get<double>() > 0 &&
                                          line["completions/truncated_rate"].get<double>() < 1);
  EXPECT_TRUE(varied_lengths) << "every completion was cut (or none): the test lost its point";
  const std::string last_one = checkpoint_dir(dir / "one/checkpoints", 3);
  EXPECT_GT(max_weight_diff(last_one, grpo_base()), 1e-3) << "training did not move the weights";
  EXPECT_LT(max_weight_diff(last_one, checkpoint_dir(dir / "two/checkpoints", 3)), kWeightTol);
  expect_same_metrics(metrics, test::read_jsonl(dir / "two" + "/metrics.jsonl"), kMetricTol);
  if (GetParam().flags.find("--dynamic-sampling") != std::string::npos) {
    int64_t dropped = 0;
    for (const auto& line : metrics) dropped += line.value("groups/dropped", int64_t{0});
    EXPECT_GT(dropped, 0) << "no group was dropped, so no refill: pick another --seed";
  }
  if (GetParam().flags.find("--eval-prompts") != std::string::npos) {
    EXPECT_TRUE(fs::exists(dir / "two/evals/step-000003")) << "rank 0 did not evaluate";
    EXPECT_TRUE(metrics.back().contains("eval/pass@1"));
  }
}

INSTANTIATE_TEST_SUITE_P(
    LossTypes, DdpGrpo,
    testing::Values(
        // Refill rounds of 1 and 3 prompts: the ranks' shares are uneven, one may have none.
        // Rank 0 alone evaluates the held-out prompts ({prompts}: the training ones).
        GrpoCase{"dapo_dynamic_eval",
                 "--seed 7 --loss-type dapo --dynamic-sampling --max-refill-rounds 2 "
                 "--eval-prompts {prompts} --eval-samples 2"},
        GrpoCase{"bnpo_masked_batch",
                 "--seed 3 --loss-type bnpo --mask-truncated --scale-rewards batch"},
        GrpoCase{"grpo_iterations_kl", "--seed 3 --loss-type grpo --num-iterations 2 --beta 0.1"},
        GrpoCase{"dr_grpo", "--seed 3 --loss-type dr_grpo"}),
    [](const testing::TestParamInfo<GrpoCase>& info) { return info.param.name; });

// ---- Errors ----------------------------------------------------------------------------------

TEST(Ddp, BadEnvironmentIsOneLine) {
  test::TempDir dir;
  const std::string data = sft_rows(dir, "train.jsonl", 8);
  const std::string args =
      "sft --model " + kModel + " --data " + data + " --out " + dir / "run" + " --steps 1";
  const std::string peer = "MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(free_port());
  // The default --batch-size (4) splits over 2 ranks.
  expect_clean_error(r1train(args, "WORLD_SIZE=abc RANK=0"), "WORLD_SIZE=abc: not a positive");
  expect_clean_error(r1train(args, "WORLD_SIZE=0 RANK=0"), "WORLD_SIZE=0: not a positive");
  expect_clean_error(r1train(args, "WORLD_SIZE=2 RANK=2 " + peer), "RANK=2: must be below");
  expect_clean_error(r1train(args, "WORLD_SIZE=2 RANK=-1 " + peer), "RANK=-1: not a rank");
  expect_clean_error(r1train(args, "RANK=1"), "RANK=1 is set but WORLD_SIZE is not");
  expect_clean_error(r1train(args, "WORLD_SIZE=2 RANK=0"), "MASTER_ADDR: not set");
  expect_clean_error(r1train(args, "WORLD_SIZE=2 RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT=70000"),
                     "MASTER_PORT=70000: not a TCP port");
  expect_clean_error(r1train(args, "WORLD_SIZE=2 RANK=0 R1_DIST_TIMEOUT_S=soon " + peer),
                     "R1_DIST_TIMEOUT_S=soon: not a positive number");
  // The global batch must split evenly; said before any rank waits for the others.
  expect_clean_error(r1train(args + " --batch-size 3", "WORLD_SIZE=2 RANK=1 " + peer),
                     "--batch-size 3: not divisible by WORLD_SIZE 2");
  expect_clean_error(r1train("grpo --model " + kModel + " --prompts " + grpo_prompts(dir) +
                                 " --out " + dir / "g" + " --prompts-per-step 3",
                             "WORLD_SIZE=2 RANK=0 " + peer),
                     "--prompts-per-step 3: not divisible by WORLD_SIZE 2");
}

TEST(Ddp, MissingPeerTimesOutWithOneLine) {
  test::TempDir dir;
  const std::string args = "sft --model " + kModel + " --data " + sft_rows(dir, "train.jsonl", 8) +
                           " --out " + dir / "run" + " --steps 1 --batch-size 4";
  for (const int rank : {0, 1}) {  // rank 0 waits for a client; rank 1 for rank 0's store
    const auto t0 = std::chrono::steady_clock::now();
    const auto r =
        r1train(args, "WORLD_SIZE=2 RANK=" + std::to_string(rank) +
                          " MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(free_port()) +
                          " R1_DIST_TIMEOUT_S=2");
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    expect_clean_error(r, "rank " + std::to_string(rank) + " of 2: the ranks did not all meet");
    EXPECT_NE(r.out.find("R1_DIST_TIMEOUT_S"), std::string::npos) << r.out;
    EXPECT_LT(seconds, 60) << r.out;
    EXPECT_FALSE(fs::exists(dir / "run/metrics.jsonl"));
  }
}

// A rank that fails after the rendezvous (here: rank 1 cannot read its --data) ends the others at
// their next collective, at once: its connections close.
TEST(Ddp, ExitedPeerEndsTheOthersWithOneLine) {
  test::TempDir dir;
  const std::string args = "sft --model " + kModel + " --out " + dir / "run" + " --steps 1";
  const auto t0 = std::chrono::steady_clock::now();
  const auto ranks = r1train_ranks(
      dir, args, {"--data " + sft_rows(dir, "train.jsonl", 8), "--data " + dir / "missing.jsonl"},
      {"R1_DIST_TIMEOUT_S=30", "R1_DIST_TIMEOUT_S=30"});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  expect_clean_error(ranks[1], "missing.jsonl");
  expect_clean_error(ranks[0], "rank 0 of 2: barrier failed");
  EXPECT_NE(ranks[0].out.find("another rank exited"), std::string::npos) << ranks[0].out;
  EXPECT_LT(seconds, 20) << "rank 0 waited for the timeout instead of noticing the exit";
}

}  // namespace
}  // namespace r1
