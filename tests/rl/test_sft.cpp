// The SFT trainer and its parts on tiny-r1 (CPU): row parsing, loss masks and errors naming
// FILE:LINE; batches and the seeded order; the schedule, clipping and AdamW (against torch's);
// training lowers the loss; checkpoints load back; exact resume (metrics and weights bit for bit,
// after a stop, a SIGKILL, a failed checkpoint); NaN steps; a full disk while checkpointing.
#include <gtest/gtest.h>
#include <signal.h>       // kill, SIGKILL
#include <torch/torch.h>  // torch ops, torch::optim::AdamW

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "rl/checkpoint.h"
#include "rl/optim.h"
#include "rl/sft.h"
#include "rl/sft_data.h"
#include "tests/test_util.h"
#include "toolkit/error.h"
#include "toolkit/fs.h"
#include "toolkit/gguf_convert.h"
#include "toolkit/safetensors.h"
#include "toolkit/tokenizer.h"

namespace r1 {
namespace {

namespace fs = std::filesystem;
const std::string kModel = "tests/data/models/tiny-r1";
constexpr int64_t kEos = 994, kThink = 998;

std::string write_lines(const test::TempDir& dir, const std::string& name,
                        const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  write_file_atomic(dir / name, text);
  return dir / name;
}

// Twelve short arithmetic rows in both row formats.
std::vector<std::string> arithmetic_rows(int n = 12) {
  std::vector<std::string> rows;
  for (int i = 0; i < n; ++i) {
    const int a = 3 + 7 * i, b = 11 + 5 * i;
    const std::string sum = std::to_string(a + b);
    nlohmann::json row;
    if (i % 2 == 0) {
      row = {
          {"prompt", "What is " + std::to_string(a) + " plus " + std::to_string(b) + "?"},
          {"response", "<think>\nadd them: " + sum + "\n</think>\n\nThe answer is " + sum + "."}};
    } else {
      row = {{"messages",
              {{{"role", "user"},
                {"content", "Add " + std::to_string(a) + " and " + std::to_string(b) + "."}},
               {{"role", "assistant"}, {"content", "<think>\nsum\n</think>\n\n" + sum}}}}};
    }
    rows.push_back(row.dump());
  }
  return rows;
}

struct Fixture {
  Tokenizer tok = Tokenizer::load(kModel);
  SftEncoder enc{&tok, load_chat_template(kModel), {}};
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

// The error `load_sft_file` throws for a file whose line 3 is `bad` (line 1 good, line 2 blank).
std::string error_for(const std::string& bad, SftDataConfig config = {}) {
  test::TempDir dir;
  const auto path = write_lines(dir, "d.jsonl", {arithmetic_rows(1)[0], "", bad});
  auto enc = fixture().enc;
  enc.config = config;
  try {
    load_sft_file(path, enc);
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path + ":3: "), std::string::npos) << what;
    return what;
  }
  ADD_FAILURE() << "no error for " << bad;
  return "";
}

// ---- data ----------------------------------------------------------------------------------

TEST(SftData, PromptResponseRow) {
  auto& f = fixture();
  auto row = nlohmann::json::parse(
      R"({"prompt": "What is 1 plus 2?", "response": "<think>\n1 plus 2 is 3.\n</think>\n\n3"})");
  const auto ex = encode_sft_row(row, f.enc, "x:1");
  // Prompt: BOS ... <｜Assistant｜><think>\n; the response does not repeat <think>.
  const std::vector<int64_t> prompt(ex.ids.begin(), ex.ids.begin() + ex.prompt_tokens);
  EXPECT_EQ(prompt, f.tok.encode(render_chat(f.enc.chat, {{"user", "What is 1 plus 2?"}}, true)));
  EXPECT_EQ(prompt.front(), 997);
  EXPECT_EQ(std::count(ex.ids.begin(), ex.ids.end(), kThink), 1);
  EXPECT_EQ(ex.ids.back(), kEos);
  const std::vector<int64_t> reply(ex.ids.begin() + ex.prompt_tokens, ex.ids.end());
  EXPECT_EQ(f.tok.decode(reply), "1 plus 2 is 3.\n</think>\n\n3<｜end▁of▁sentence｜>");
}

TEST(SftData, MessagesRowTrainsTheLastAssistantTurn) {
  auto& f = fixture();
  auto row = nlohmann::json::parse(R"({"messages": [
      {"role": "system", "content": "Be brief."},
      {"role": "user", "content": "Add 3 and 4."},
      {"role": "assistant", "content": "<think>\nsecret reasoning\n</think>\n\n7"},
      {"role": "user", "content": "Double it."},
      {"role": "assistant", "content": "<think>\n7 times 2\n</think>\n\n14"}]})");
  const auto ex = encode_sft_row(row, f.enc, "x:1");
  const std::string prompt = f.tok.decode({ex.ids.begin(), ex.ids.begin() + ex.prompt_tokens});
  // Earlier turns are context as the template renders history: the reasoning is dropped.
  EXPECT_EQ(prompt,
            "<｜begin▁of▁sentence｜>Be brief.<｜User｜>Add 3 and 4.<｜Assistant｜>\n\n7<｜end▁of▁"
            "sentence｜><｜User｜>Double it.<｜Assistant｜><think>\n");
  EXPECT_EQ(f.tok.decode({ex.ids.begin() + ex.prompt_tokens, ex.ids.end()}),
            "7 times 2\n</think>\n\n14<｜end▁of▁sentence｜>");
}

// Issue 19: context messages carry tool calls, tool results and reasoning to the chat template,
// with the row's own key order (tojson prints it).
TEST(SftData, ToolCallsAndReasoningInTheContextReachTheTemplate) {
  auto& f = fixture();
  SftEncoder enc = f.enc;
  enc.chat = chat_template_from_source(
      "{% for m in messages %}<{{ m.role }}|{{ m.reasoning_content }}|{{ m.tool_calls|tojson if "
      "m.tool_calls is "
      "defined }}|{{ m.content }}>{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}",
      "t.jinja");
  auto row = nlohmann::ordered_json::parse(R"({"messages": [
      {"role": "user", "content": "Weather?"},
      {"role": "assistant", "reasoning_content": "need a tool", "content": null,
       "tool_calls": [{"type": "function", "function": {"name": "w", "arguments": {"z": 1, "a": 2}}}]},
      {"role": "tool", "content": "sunny"},
      {"role": "assistant", "content": "Sunny."}]})");
  const auto ex = encode_sft_row(row, enc, "x:1");
  EXPECT_EQ(f.tok.decode({ex.ids.begin(), ex.ids.begin() + ex.prompt_tokens}),
            "<user|||Weather?><assistant|need a tool|[{\"type\": \"function\", \"function\": "
            "{\"name\": \"w\", "
            "\"arguments\": {\"z\": 1, \"a\": 2}}}]|><tool|||sunny><assistant>");
  auto last_calls = nlohmann::ordered_json::parse(
      R"({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "tool_calls": []}]})");
  EXPECT_THROW(encode_sft_row(last_calls, enc, "x:1"), Error);
}

TEST(SftData, ErrorsNameTheLineAndField) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{not json", "not valid JSON"},
      {"[1, 2]", "row is array"},
      {R"({"text": "hi"})", "neither \"messages\" nor"},
      {R"({"prompt": "hi"})", "no \"response\""},
      {R"({"prompt": 5, "response": "x"})", "\"prompt\" is number"},
      {R"({"prompt": "hi", "response": null})", "\"response\" is null"},
      {R"({"messages": []})", "\"messages\" is empty"},
      {R"({"messages": [{"role": "user", "content": 3}]})", "messages[0].content is number"},
      {R"({"messages": [{"role": "user"}]})", "messages[0] has no \"content\""},
      {R"({"messages": [{"role": "assistant", "content": "a"}, )"
       R"({"role": "user", "content": "u"}]})",
       "the last message must be the assistant's"},
  };
  for (const auto& [row, needle] : cases)
    EXPECT_NE(error_for(row).find(needle), std::string::npos) << row << " -> " << needle;
  // Too long: the prompt alone (always an error), and the whole row without --truncate.
  const std::string long_prompt =
      nlohmann::json({{"prompt", std::string(400, 'x')}, {"response", "y"}}).dump();
  EXPECT_NE(error_for(long_prompt, {64, true}).find("the prompt is"), std::string::npos);
  const std::string long_reply =
      nlohmann::json({{"prompt", "hi"}, {"response", std::string(400, 'y')}}).dump();
  const auto e = error_for(long_reply, {64, false});
  EXPECT_NE(e.find("longer than --max-length 64"), std::string::npos) << e;
  EXPECT_NE(e.find("--truncate"), std::string::npos) << e;
}

TEST(SftData, TruncationAndEmptyFiles) {
  auto& f = fixture();
  auto enc = f.enc;
  enc.config = {32, true};
  auto row = nlohmann::json({{"prompt", "hi"}, {"response", std::string(400, 'y')}});
  const auto ex = encode_sft_row(row, enc, "x:1");
  EXPECT_EQ(ex.ids.size(), 32u);
  EXPECT_LT(ex.prompt_tokens, 32);
  test::TempDir dir;
  const auto empty = write_lines(dir, "e.jsonl", {"", "  "});
  try {
    load_sft_file(empty, f.enc);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(empty + ": no rows"), std::string::npos) << e.what();
  }
  // Line numbers count blank lines.
  const auto ok =
      write_lines(dir, "ok.jsonl", {"", arithmetic_rows(1)[0], "", arithmetic_rows(2)[1]});
  const auto rows = load_sft_file(ok, f.enc);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].line, 2);
  EXPECT_EQ(rows[1].line, 4);
}

TEST(SftData, PaddedBatchPredictsResponseTokensOnly) {
  SftExample a{{10, 11, 12, 13, 14}, 3, 1}, b{{20, 21, 22}, 1, 2};
  const auto batch = make_sft_batch({&a, &b}, 0);
  ASSERT_EQ(batch.ids.sizes(), (c10::IntArrayRef{2, 5}));
  EXPECT_TRUE(torch::equal(batch.ids[1], torch::tensor({20, 21, 22, 0, 0})));
  EXPECT_TRUE(torch::equal(batch.valid[1], torch::tensor({true, true, true, false, false})));
  // a: positions 2, 3 predict 13, 14; b: positions 0, 1 predict 21, 22 (flat 5, 6).
  EXPECT_TRUE(torch::equal(batch.predict, torch::tensor({2, 3, 5, 6}, torch::kLong)));
  EXPECT_TRUE(torch::equal(batch.targets, torch::tensor({13, 14, 21, 22}, torch::kLong)));
  EXPECT_EQ(batch.tokens, 4);
  // No padding: no mask, plain causal attention.
  EXPECT_FALSE(make_sft_batch({&a, &a}, 0).valid.defined());
}

TEST(SftData, SeededOrderAndResumablePosition) {
  const auto o = epoch_order(50, 7, 0);
  auto sorted = o;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 50; ++i) EXPECT_EQ(sorted[i], i);
  EXPECT_EQ(o, epoch_order(50, 7, 0));
  EXPECT_NE(o, epoch_order(50, 7, 1));
  EXPECT_NE(o, epoch_order(50, 8, 0));
  // Crossing epochs, then seeking a second sampler to the first one's position.
  SftSampler s(5, 3);
  const auto first = s.next(7);
  EXPECT_EQ(s.epoch(), 1);
  EXPECT_EQ(s.offset(), 2);
  const auto e0 = epoch_order(5, 3, 0), e1 = epoch_order(5, 3, 1);
  EXPECT_EQ(std::vector<int64_t>(first.begin(), first.begin() + 5), e0);
  EXPECT_EQ(first[5], e1[0]);
  SftSampler t(5, 3);
  t.seek(s.epoch(), s.offset());
  EXPECT_EQ(s.next(9), t.next(9));
}

// ---- optimiser -------------------------------------------------------------------------------

TEST(SftOptim, Schedule) {
  LrSchedule s{1e-3, 4, 20, 0.1};
  EXPECT_EQ(s.at(0), 0.0);
  EXPECT_DOUBLE_EQ(s.at(2), 0.5e-3);
  EXPECT_DOUBLE_EQ(s.at(4), 1e-3);
  EXPECT_DOUBLE_EQ(s.at(12), 1e-3 * (0.5 * 0.9 + 0.1));  // halfway through the cosine
  EXPECT_DOUBLE_EQ(s.at(20), 1e-4);
  for (int64_t i = 5; i <= 20; ++i) EXPECT_LT(s.at(i), s.at(i - 1));
  LrSchedule flat{2e-5, 0, 1, 0.0};
  EXPECT_EQ(flat.at(0), 2e-5);
}

TEST(SftOptim, ClippingMatchesTorch) {
  torch::manual_seed(1);
  std::vector<std::pair<std::string, torch::Tensor>> params;
  std::vector<torch::Tensor> copies;
  for (int i = 0; i < 3; ++i) {
    auto p = torch::randn({4, 5}, torch::requires_grad());
    p.mutable_grad() = torch::randn({4, 5}) * 3;
    auto q = p.detach().clone().requires_grad_();
    q.mutable_grad() = p.grad().clone();
    params.emplace_back("p" + std::to_string(i), p);
    copies.push_back(q);
  }
  const double norm = global_grad_norm(params);
  const double expected = torch::nn::utils::clip_grad_norm_(copies, 1.0);
  EXPECT_NEAR(norm, expected, 1e-5 * expected);
  const double coef = clip_coefficient(norm, 1.0);
  EXPECT_NEAR(coef, 1.0 / (norm + 1e-6), 1e-12);
  for (size_t i = 0; i < copies.size(); ++i)
    EXPECT_TRUE(torch::allclose(params[i].second.grad() * coef, copies[i].grad(), 1e-6, 1e-7));
  EXPECT_EQ(clip_coefficient(0.5, 1.0), 1.0);
  EXPECT_EQ(clip_coefficient(100.0, 0.0), 1.0);
  params[1].second.mutable_grad()[0][0] = std::numeric_limits<float>::infinity();
  EXPECT_FALSE(std::isfinite(global_grad_norm(params)));
}

TEST(SftOptim, AdamWMatchesTorchBitForBit) {
  torch::manual_seed(2);
  std::vector<std::pair<std::string, torch::Tensor>> ours;
  std::vector<torch::Tensor> theirs;
  for (int i = 0; i < 3; ++i) {
    auto p = torch::randn({6, 3}).requires_grad_();
    ours.emplace_back("w" + std::to_string(i), p);
    theirs.push_back(p.detach().clone().requires_grad_());
  }
  AdamW opt(ours, {0.9, 0.95, 1e-8, 0.1});
  torch::optim::AdamW ref(
      theirs, torch::optim::AdamWOptions(1e-2).betas({0.9, 0.95}).eps(1e-8).weight_decay(0.1));
  for (int step = 0; step < 4; ++step) {
    for (size_t i = 0; i < theirs.size(); ++i) {
      auto g = torch::randn({6, 3});
      ours[i].second.mutable_grad() = g.clone();
      theirs[i].mutable_grad() = g.clone();
    }
    opt.step(1e-2);
    ref.step();
    for (size_t i = 0; i < theirs.size(); ++i)
      EXPECT_TRUE(torch::equal(ours[i].second, theirs[i])) << "step " << step << " param " << i;
  }
  EXPECT_EQ(opt.steps(), 4);
}

TEST(SftOptim, MasterWeightsAndStateRoundTrip) {
  torch::manual_seed(3);
  auto make = [] {
    return std::vector<std::pair<std::string, torch::Tensor>>{
        {"w", torch::randn({8, 4}).to(torch::kBFloat16).requires_grad_()},
        {"b", torch::randn({4}).requires_grad_()}};
  };
  auto params = make();
  AdamW a(params, {0.9, 0.999, 1e-8, 0.01});
  auto grads = [&](std::vector<std::pair<std::string, torch::Tensor>>& ps, int seed) {
    torch::manual_seed(seed);
    for (auto& [n, p] : ps) p.mutable_grad() = torch::randn(p.sizes()).to(p.scalar_type());
  };
  for (int s = 0; s < 3; ++s) {
    grads(params, 10 + s);
    a.step(1e-3);
  }
  const auto state = a.state();
  ASSERT_EQ(state.size(), 1u + 3u + 2u);  // steps; w: exp_avg, exp_avg_sq, master; b: two
  // The bf16 parameter is its float32 master rounded.
  torch::Tensor master;
  for (const auto& [n, t] : state)
    if (n == "master/w") master = t;
  ASSERT_TRUE(master.defined());
  EXPECT_TRUE(torch::equal(params[0].second, master.to(torch::kBFloat16)));

  // A fresh optimiser over copies of the parameters, loaded from the state, continues identically.
  std::vector<std::pair<std::string, torch::Tensor>> copy;
  for (auto& [n, p] : params) copy.emplace_back(n, p.detach().clone().requires_grad_());
  AdamW b(copy, {0.9, 0.999, 1e-8, 0.01});
  b.load_state(
      [&](const std::string& name) {
        for (const auto& [n, t] : state)
          if (n == name) return t;
        return torch::Tensor();
      },
      "state");
  EXPECT_EQ(b.steps(), 3);
  grads(params, 20);
  grads(copy, 20);
  a.step(1e-3);
  b.step(1e-3);
  for (size_t i = 0; i < params.size(); ++i)
    EXPECT_TRUE(torch::equal(params[i].second, copy[i].second));
  // A missing tensor is named.
  try {
    b.load_state([](const std::string&) { return torch::Tensor(); }, "ckpt/r1_tensors.safetensors");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("ckpt/r1_tensors.safetensors: no tensor \"adamw.steps\""),
              std::string::npos);
  }
}

// ---- trainer ---------------------------------------------------------------------------------

SftConfig tiny_run(const std::string& out, const std::string& data) {
  SftConfig c;
  c.model = kModel;
  c.data = data;
  c.out = out;
  c.steps = 8;
  c.batch_size = 2;
  c.grad_accum = 2;
  c.lr = 2e-3;
  c.warmup_steps = 2;
  c.save_every = 3;
  c.keep_last = 0;
  return c;
}

// metrics.jsonl without its timings, one normalised line per entry.
std::vector<std::string> metrics_without_time(const std::string& out) {
  std::vector<std::string> lines;
  std::istringstream in(read_file(out + "/metrics.jsonl"));
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    j.erase("seconds");
    lines.push_back(j.dump());
  }
  return lines;
}

std::map<std::string, torch::Tensor> weights(const std::string& dir) {
  SafetensorsCheckpoint ckpt(dir);
  std::map<std::string, torch::Tensor> out;
  for (const auto& n : ckpt.names()) out[n] = ckpt.tensor(n).clone();
  return out;
}

void expect_same_run(const std::string& a, const std::string& b, int64_t final_step) {
  EXPECT_EQ(metrics_without_time(a), metrics_without_time(b));
  const auto wa = weights(checkpoint_dir(a + "/checkpoints", final_step));
  const auto wb = weights(checkpoint_dir(b + "/checkpoints", final_step));
  ASSERT_EQ(wa.size(), wb.size());
  for (const auto& [name, t] : wa) EXPECT_TRUE(torch::equal(t, wb.at(name))) << name;
  EXPECT_EQ(read_file(checkpoint_dir(a + "/checkpoints", final_step) + "/r1_tensors.safetensors"),
            read_file(checkpoint_dir(b + "/checkpoints", final_step) + "/r1_tensors.safetensors"));
}

TEST(SftTrainer, LowersTheLossAndWritesLoadableCheckpoints) {
  test::TempDir dir;
  auto cfg = tiny_run(dir / "run", write_lines(dir, "train.jsonl", arithmetic_rows()));
  cfg.eval_data = write_lines(dir, "eval.jsonl", arithmetic_rows(14));
  cfg.steps = 12;
  cfg.keep_last = 2;
  const auto r = run_sft(cfg);
  EXPECT_EQ(r.steps, 12);
  EXPECT_EQ(r.resumed_from, 0);
  // Eval loss at step 0 and at the end; the training loss falls too.
  std::vector<double> eval, train;
  std::istringstream in(read_file(cfg.out + "/metrics.jsonl"));
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    if (j.contains("eval_loss")) eval.push_back(j["eval_loss"]);
    if (j.contains("grad_norm")) {
      train.push_back(j["loss"]);
      EXPECT_GT(j["tokens"].get<int64_t>(), 0);
      EXPECT_GE(j["seconds"].get<double>(), 0.0);
    }
  }
  ASSERT_EQ(eval.size(), 2u);
  ASSERT_EQ(train.size(), 12u);
  EXPECT_LT(eval.back(), eval.front() - 0.5) << eval.front() << " -> " << eval.back();
  EXPECT_LT(train.back(), train.front() - 0.5);
  ASSERT_TRUE(r.eval_loss);
  EXPECT_EQ(*r.eval_loss, eval.back());
  // keep_last 2: steps 9 and 12.
  const auto all = list_checkpoints(cfg.out + "/checkpoints");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].first, 9);
  EXPECT_EQ(all[1].first, 12);
  EXPECT_EQ(r.checkpoint, all[1].second);
  // A Hugging Face directory: the weights load back, with the tokenizer files beside them.
  auto model = load_transformer(r.checkpoint);
  const auto saved = weights(r.checkpoint);
  for (auto& [name, t] : model->hf_parameters()) EXPECT_TRUE(torch::equal(t, saved.at(name)));
  for (const char* f : {"config.json", "tokenizer.json", "tokenizer_config.json",
                        "generation_config.json", kTrainerStateFile, kTrainerTensorsFile})
    EXPECT_TRUE(fs::exists(fs::path(r.checkpoint) / f)) << f;
  // The eval loss of the reloaded checkpoint is the logged one.
  auto& f = fixture();
  const auto rows = load_sft_file(cfg.eval_data, f.enc);
  EXPECT_NEAR(sft_mean_loss(*model, rows, cfg.batch_size, kEos), eval.back(), 1e-9);
  // One row at a time (no padding, no mask) gives the same loss.
  EXPECT_NEAR(sft_mean_loss(*model, rows, 1, kEos), eval.back(), 1e-5);
}

class SftResume : public ::testing::TestWithParam<std::string> {};

TEST_P(SftResume, StoppedAndResumedRunIsBitIdentical) {
  test::TempDir dir;
  const auto data = write_lines(dir, "train.jsonl", arithmetic_rows(10));
  auto straight = tiny_run(dir / "straight", data);
  straight.dtype = GetParam();
  straight.eval_data = write_lines(dir, "eval.jsonl", arithmetic_rows(3));
  straight.eval_every = 4;
  run_sft(straight);
  // Stopped after step 5 (checkpoint at 3; metrics already past it), then resumed to the end.
  auto stopped = straight;
  stopped.out = dir / "stopped";
  stopped.stop_after = 5;
  auto r1 = run_sft(stopped);
  EXPECT_EQ(r1.steps, 5);
  EXPECT_EQ(list_checkpoints(stopped.out + "/checkpoints").back().first, 3);
  stopped.stop_after = 0;
  auto r2 = run_sft(stopped);
  EXPECT_EQ(r2.resumed_from, 3);
  EXPECT_EQ(r2.steps, 8);
  expect_same_run(straight.out, stopped.out, 8);
  // Resuming a finished run does nothing and changes nothing.
  auto r3 = run_sft(stopped);
  EXPECT_EQ(r3.resumed_from, 8);
  expect_same_run(straight.out, stopped.out, 8);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, SftResume, ::testing::Values("float32", "bfloat16"));

TEST(SftTrainer, ResumeRefusesChangedFlagsOrData) {
  test::TempDir dir;
  auto cfg = tiny_run(dir / "run", write_lines(dir, "train.jsonl", arithmetic_rows()));
  cfg.stop_after = 4;
  run_sft(cfg);
  auto other = cfg;
  other.lr = 1e-3;
  try {
    run_sft(other);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--lr is 0.001 now but the run used 0.002"),
              std::string::npos)
        << e.what();
  }
  write_lines(dir, "train.jsonl", arithmetic_rows(11));
  try {
    run_sft(cfg);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("changed since the run started"), std::string::npos)
        << e.what();
  }
}

// Issue 17, D8: an --out folder holding someone's files (no sft_config.json) is refused, naming
// it; their metrics.jsonl is neither appended to nor replaced.
TEST(SftTrainer, RefusesAFolderThatIsNotAnSftRun) {
  test::TempDir dir;
  auto cfg = tiny_run(dir / "mine", write_lines(dir, "train.jsonl", arithmetic_rows()));
  std::filesystem::create_directories(dir / "mine");
  std::ofstream(dir / "mine/metrics.jsonl") << "{\"mine\": 1}\n";
  EXPECT_NE(test::error_of([&] {
              run_sft(cfg);
            }).find("mine: not empty and not a run of r1train sft (no sft_config.json)"),
            std::string::npos);
  EXPECT_EQ(read_file(dir / "mine/metrics.jsonl"), "{\"mine\": 1}\n");
  EXPECT_FALSE(std::filesystem::exists(dir / "mine/sft_config.json"));
}

TEST(SftTrainer, NonFiniteStepsAreSkippedThenStopTheRun) {
  test::TempDir dir;
  const auto data = write_lines(dir, "train.jsonl", arithmetic_rows());
  // One NaN step: skipped and logged; the run goes on and the weights stay finite.
  auto one = tiny_run(dir / "one", data);
  one.nan_steps = {3};
  const auto r = run_sft(one);
  EXPECT_EQ(r.steps, 8);
  EXPECT_EQ(r.skipped_steps, 1);
  const auto lines = metrics_without_time(one.out);
  auto third = nlohmann::json::parse(lines.at(2));
  EXPECT_EQ(third["step"], 3);
  EXPECT_EQ(third["skipped"], "non-finite loss");
  EXPECT_TRUE(third["loss"].is_null());
  EXPECT_FALSE(third.contains("grad_norm"));
  for (const auto& [n, t] : weights(r.checkpoint))
    EXPECT_TRUE(torch::isfinite(t).all().item<bool>());

  // Two in a row with max_bad_steps 2: the run stops and names the last good checkpoint, intact.
  auto two = tiny_run(dir / "two", data);
  two.nan_steps = {7, 8};
  two.save_every = 2;
  two.max_bad_steps = 2;
  try {
    run_sft(two);
    FAIL();
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("step 8: 2 steps in a row had a non-finite loss; stopped"),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("last good checkpoint is " + checkpoint_dir(two.out + "/checkpoints", 6)),
              std::string::npos)
        << what;
  }
  const auto last = latest_checkpoint(two.out + "/checkpoints");
  ASSERT_TRUE(last);
  EXPECT_EQ(last->first, 6);
  auto model = load_transformer(last->second);
  for (auto& [n, t] : model->hf_parameters()) EXPECT_TRUE(torch::isfinite(t).all().item<bool>());
}

TEST(SftTrainer, FailedCheckpointLeavesThePreviousOneIntact) {
  test::TempDir dir;
  const auto data = write_lines(dir, "train.jsonl", arithmetic_rows());
  auto straight = tiny_run(dir / "straight", data);
  run_sft(straight);

  auto failing = tiny_run(dir / "failing", data);
  failing.before_checkpoint_write = [](const std::string& file) {
    if (file.find("step-000006") != std::string::npos &&
        file.find("r1_tensors") != std::string::npos)
      throw Error(file + ": write failed (No space left on device)");
  };
  const std::string root = failing.out + "/checkpoints";
  try {
    run_sft(failing);
    FAIL();
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("checkpoint " + checkpoint_dir(root, 6) + " was not written"),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("No space left on device"), std::string::npos) << what;
    EXPECT_NE(what.find("newest intact checkpoint is " + checkpoint_dir(root, 3)),
              std::string::npos)
        << what;
  }
  // Only step 3, complete; no temp directory left behind.
  const auto all = list_checkpoints(root);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].first, 3);
  for (const auto& entry : fs::directory_iterator(root))
    EXPECT_EQ(entry.path().filename().string().rfind(".tmp-", 0), std::string::npos)
        << entry.path();
  load_transformer(all[0].second);
  // Resumed once the disk is fixed, it ends where the uninterrupted run ends.
  failing.before_checkpoint_write = nullptr;
  EXPECT_EQ(run_sft(failing).resumed_from, 3);
  expect_same_run(straight.out, failing.out, 8);
}

// ---- r1train ---------------------------------------------------------------------------------

test::CommandResult r1train(const std::string& args) {
  return test::run_command(test::bin("r1train") + " " + args);
}

void expect_clean_error(const test::CommandResult& r, const std::string& needle) {
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_LT(r.exit_code, 128) << "crashed: " << r.out;
  EXPECT_NE(r.out.find(needle), std::string::npos) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
}

TEST(R1train, SftRunsAndReportsBadInputOnOneLine) {
  test::TempDir dir;
  const auto data = write_lines(dir, "train.jsonl", arithmetic_rows(6));
  const std::string base = "sft --model " + kModel + " --out " + dir / "run";
  auto ok = r1train(base + " --data " + data + " --steps 2 --batch-size 3 --lr 1e-3");
  ASSERT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_NE(ok.out.find("r1train sft: 2/2 steps"), std::string::npos) << ok.out;
  EXPECT_TRUE(fs::exists(checkpoint_dir(dir / "run/checkpoints", 2)));

  auto rows = arithmetic_rows(3);
  rows[2] = R"({"prompt": "hi", "response": 7})";
  const auto bad = write_lines(dir, "bad.jsonl", rows);
  expect_clean_error(r1train("sft --model " + kModel + " --out " + dir / "b" + " --data " + bad),
                     bad + ":3: \"response\" is number");
  expect_clean_error(r1train("sft --model /nonexistent --out " + dir / "c" + " --data " + data),
                     "--model /nonexistent does not exist");
  expect_clean_error(r1train(base + " --data " + data + " --batch-size 0"), "--batch-size 0");
  expect_clean_error(r1train(base + " --data " + data + " --steps 2 --batch-size 3 --lr 5e-3"),
                     "--lr is 0.005 now but the run used 0.001");
  auto none = r1train("");
  EXPECT_NE(none.exit_code, 0);
}

// Issue 19: --template-kwargs reaches the template the trainer renders rows with (this one raises
// unless `flag` is set); the run records it, so a resume with other kwargs is refused.
TEST(R1train, SftTemplateKwargsReachTheTemplate) {
  test::TempDir dir;
  const auto data = write_lines(dir, "train.jsonl", arithmetic_rows(4));
  const std::string tpl = dir / "strict.jinja";
  write_file_atomic(tpl,
                    "{% if not flag %}{{ raise_exception('flag missing') }}{% endif %}"
                    "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}"
                    "{% if add_generation_prompt %}<|assistant|>{% endif %}");
  const std::string base = "sft --model " + kModel + " --data " + data +
                           " --steps 1 --batch-size 2 --chat-template " + tpl + " --out " +
                           dir / "run";
  expect_clean_error(r1train(base), "flag missing");
  auto ok = r1train(base + " --template-kwargs '{\"flag\": true}'");
  ASSERT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_EQ(nlohmann::json::parse(read_file(dir / "run/sft_config.json"))["template_kwargs"],
            "{\"flag\": true}");
  expect_clean_error(r1train(base + " --template-kwargs '{\"flag\": 1}'"), "--template-kwargs");
}

TEST(R1train, KilledRunResumesBitIdentical) {
  test::TempDir dir;
  const auto data = write_lines(dir, "train.jsonl", arithmetic_rows());
  const std::string args = "sft --model " + kModel + " --data " + data +
                           " --steps 40 --batch-size 2 --grad-accum 2 --lr 1e-3 --save-every 2"
                           " --keep-last 0 --threads 1";
  ASSERT_EQ(r1train(args + " --out " + dir / "straight").exit_code, 0);
  // Start, SIGKILL once the second checkpoint exists (possibly mid-write), rerun to resume.
  const std::string killed = dir / "killed";
  const auto pid_out = test::run_command(test::bin("r1train") + " " + args + " --out " + killed +
                                         " >/dev/null 2>&1 & echo $!");
  const pid_t pid = std::stoi(pid_out.out);
  for (int i = 0; i < 3000 && !fs::exists(checkpoint_dir(killed + "/checkpoints", 4)); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ::kill(pid, SIGKILL);
  test::run_command("while kill -0 " + std::to_string(pid) + " 2>/dev/null; do sleep 0.05; done");
  auto resumed = r1train(args + " --out " + killed);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out;
  EXPECT_NE(resumed.out.find("resumed from step"), std::string::npos) << resumed.out;
  EXPECT_EQ(resumed.out.find("resumed from step 40"), std::string::npos) << "killed too late";
  expect_same_run(dir / "straight", killed, 40);
}

// A real full disk: the run's directory on a 4 MiB tmpfs in a private mount namespace holds one
// checkpoint (~2.5 MB) but not two. Skipped where unshare/mount are not permitted.
TEST(R1train, FullDiskWhileCheckpointing) {
  test::TempDir dir;
  const auto data = write_lines(dir, "train.jsonl", arithmetic_rows());
  const std::string mnt = dir / "mnt", copy = dir / "copy";
  fs::create_directories(mnt);
  const auto probe = test::run_command("unshare -m sh -c 'mount -t tmpfs -o size=64k tmpfs " + mnt +
                                       " && echo mounted'");
  if (probe.out.find("mounted") == std::string::npos)
    GTEST_SKIP() << "cannot mount a tmpfs here: " << probe.out;
  const auto r = test::run_command(
      "unshare -m sh -c 'mount -t tmpfs -o size=4m tmpfs " + mnt + " && " + test::bin("r1train") +
      " sft --model " + kModel + " --data " + data + " --out " + mnt +
      "/run --steps 6 --batch-size 2 --save-every 2 --keep-last 3; rc=$?; cp -r " + mnt + "/run " +
      copy + "; exit $rc'");
  ASSERT_NE(r.exit_code, 0) << r.out;
  EXPECT_LT(r.exit_code, 128) << r.out;
  EXPECT_NE(r.out.find("No space left on device"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("newest intact checkpoint is " + mnt + "/run/checkpoints/step-000002"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  const auto all = list_checkpoints(copy + "/checkpoints");
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].first, 2);
  load_transformer(all[0].second);
}

}  // namespace
}  // namespace r1

namespace r1 {
namespace {

// The same run from tiny-r1 as a GGUF file (F32, made by hf_to_gguf) trains the same weights bit
// for bit, and its checkpoints carry the tokenizer the GGUF file held, loadable on their own.
TEST(SftTrainer, TrainsFromAGgufFileAsFromItsCheckpoint) {
  test::TempDir dir;
  const std::string gguf = dir / "tiny-r1.gguf";
  hf_to_gguf(kModel, gguf, GgmlType::kF32);
  const auto data = write_lines(dir, "train.jsonl", arithmetic_rows());
  auto a = tiny_run(dir / "a", data);
  auto b = tiny_run(dir / "b", data);
  a.steps = b.steps = 3;
  b.model = gguf;
  const auto ra = run_sft(a), rb = run_sft(b);
  const auto wa = weights(ra.checkpoint), wb = weights(rb.checkpoint);
  ASSERT_EQ(wa.size(), wb.size());
  for (const auto& [name, t] : wa) EXPECT_TRUE(torch::equal(t, wb.at(name))) << name;
  EXPECT_EQ(ra.loss, rb.loss);
  const Tokenizer from_dir = Tokenizer::load(kModel), from_ckpt = Tokenizer::load(rb.checkpoint);
  const std::string text = "<think>\n12 + 30 = 42</think> The answer is \\boxed{42}.";
  EXPECT_EQ(from_ckpt.encode(text, true), from_dir.encode(text, true));
  EXPECT_TRUE(std::filesystem::exists(rb.checkpoint + "/tokenizer_config.json"));
}

}  // namespace
}  // namespace r1
