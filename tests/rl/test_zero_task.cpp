// Tests of the tiny R1-Zero assets (rl/zero_task.h, zero_tokenizer.h, zero_model.h): determinism
// and a golden hash of the data files, the held-out split, answers and reasoning recomputed from
// the expression text, grading with r1's math grader, tokenizer round trips and the chat template,
// and the random-init checkpoint loading and running. HF parity:
// tests/reference/check_zero_tokenizer.py.
#include <gtest/gtest.h>  // TEST, EXPECT_*
#include <torch/torch.h>  // torch::arange

#include <filesystem>     // std::filesystem
#include <map>            // std::map
#include <sstream>        // std::istringstream
#include <unordered_set>  // std::unordered_set

#include <nlohmann/json.hpp>  // nlohmann::json

#include "evals/math_grader.h"      // r1::grade_response
#include "rl/zero_model.h"          // r1::make_zero_model
#include "rl/zero_task.h"           // r1::write_zero_assets
#include "rl/zero_tokenizer.h"      // r1::zero_token_ids
#include "tests/test_util.h"        // r1::test::TempDir
#include "toolkit/chat_template.h"  // r1::load_chat_template
#include "toolkit/error.h"          // r1::Error
#include "toolkit/fs.h"             // r1::read_file
#include "toolkit/sha256.h"         // r1::sha256_file
#include "toolkit/tokenizer.h"      // r1::Tokenizer
#include "toolkit/transformer.h"    // r1::load_transformer

namespace r1 {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A small, fast configuration with every field spelled out, so the goldens do not move when a
// default is tuned (the default counts are for training).
ZeroTaskConfig small_config(uint64_t seed = 0) {
  ZeroTaskConfig c;
  c.seed = seed;
  c.level_weights = {0.4, 0.4, 0.2};
  c.max_operand = 20;
  c.heldout_percent = 10;
  c.prompt_template = "{problem}";
  c.base_direct_fraction = 0.3;
  c.base_error_fraction = 0.2;
  c.base_docs = 300;
  c.sft_rows = 60;
  c.grpo_prompts = 80;
  c.heldout_problems = 40;
  c.model_size = "micro";
  return c;
}

// "What is 23+58-17?" -> 64, parsed from the text alone (left to right).
int64_t eval_question(const std::string& q) {
  EXPECT_EQ(q.rfind("What is ", 0), 0u) << q;
  EXPECT_EQ(q.back(), '?') << q;
  const std::string e = q.substr(8, q.size() - 9);
  int64_t value = 0, x = 0;
  char op = '+';
  for (size_t i = 0; i <= e.size(); ++i) {
    if (i < e.size() && std::isdigit(static_cast<unsigned char>(e[i]))) {
      x = x * 10 + (e[i] - '0');
      continue;
    }
    value = op == '+' ? value + x : value - x;
    EXPECT_GE(value, 0) << q;
    x = 0;
    if (i < e.size()) {
      op = e[i];
      EXPECT_TRUE(op == '+' || op == '-') << q;
    }
  }
  return value;
}

struct Steps {
  std::vector<std::string> lines;  // "a+b=c" before </think>
  int wrong = 0;                   // lines whose result is not a op b
  bool chained = true;             // each line starts from the previous result
  std::string boxed;               // the \boxed{} content
};

Steps parse_response(const std::string& r) {
  Steps s;
  const size_t close = r.find("</think>\n\\boxed{");
  EXPECT_NE(close, std::string::npos) << r;
  EXPECT_EQ(r.back(), '}') << r;
  s.boxed = r.substr(close + 16, r.size() - close - 17);
  std::istringstream in(r.substr(0, close));
  std::string prev;
  for (std::string line; std::getline(in, line);) {
    s.lines.push_back(line);
    const size_t eq = line.find('='), op = line.find_first_of("+-");
    const int64_t a = std::stoll(line.substr(0, op)),
                  b = std::stoll(line.substr(op + 1, eq - op - 1));
    const int64_t got = std::stoll(line.substr(eq + 1));
    EXPECT_TRUE(a >= 0 && b >= 1 && got >= 0) << line;  // no value below zero, wrong ones too
    if (got != (line[op] == '+' ? a + b : a - b)) ++s.wrong;
    if (!prev.empty() && line.substr(0, op) != prev) s.chained = false;
    prev = line.substr(eq + 1);
  }
  if (!s.lines.empty()) {
    EXPECT_EQ(prev, s.boxed) << r;  // the answer is the last result
  }
  return s;
}

TEST(ZeroTask, SameSeedSameBytesAndGoldenHashes) {
  test::TempDir a, b, c;
  write_zero_assets(a.path(), small_config(0));
  write_zero_assets(b.path(), small_config(0));
  write_zero_assets(c.path(), small_config(1));
  for (const char* f :
       {"base.jsonl", "sft.jsonl", "grpo.jsonl", "heldout.jsonl", "zero_assets.json",
        "model/config.json", "model/generation_config.json", "model/tokenizer.json",
        "model/tokenizer_config.json", "model/model.safetensors"})
    EXPECT_EQ(sha256_file(a / f), sha256_file(b / f)) << f;
  EXPECT_NE(sha256_file(a / "heldout.jsonl"), sha256_file(c / "heldout.jsonl"));
  EXPECT_NE(sha256_file(a / "model/model.safetensors"), sha256_file(c / "model/model.safetensors"));

  // Golden: a change here is a change of the task (or a platform whose arithmetic differs); if it
  // is meant, update the hashes and say so in the change.
  EXPECT_EQ(sha256_file(a / "base.jsonl"),
            "690fdb3657b532889f6a59411fe572b54ef073fe16ceae4be627244f713728c6");
  EXPECT_EQ(sha256_file(a / "sft.jsonl"),
            "cd215347dce21c4a5404bcd9199526b8aa98d68ebd604299c8ad72ea882f886c");
  EXPECT_EQ(sha256_file(a / "grpo.jsonl"),
            "39cb90c90316300a97899b7875af1143eb2897f54fd02887cc107ec567723247");
  EXPECT_EQ(sha256_file(a / "heldout.jsonl"),
            "03bb41b5d8021184e392346d008566588d1d8f936c2ec44e5a12037ec14d24b6");
  EXPECT_EQ(sha256_file(a / "model/tokenizer.json"),
            "4d7f148aec0e2a3e0428a740b1d73497081082049fc6246599359d03093402d1");
  const auto first = test::read_jsonl(a / "heldout.jsonl").front();
  EXPECT_EQ(first["problem"], "What is 16+16?") << first.dump();
}

TEST(ZeroTask, PrefixStableAcrossCounts) {
  // Asking for more rows appends: the first rows do not depend on the count.
  ZeroTaskConfig c = small_config();
  const auto few = zero_problems(c, ZeroSplit::kHeldout, 10, 4, true);
  const auto many = zero_problems(c, ZeroSplit::kHeldout, 50, 4, true);
  for (size_t i = 0; i < few.size(); ++i) EXPECT_EQ(few[i].expression(), many[i].expression());
}

TEST(ZeroTask, HeldoutDisjointFromTraining) {
  test::TempDir d1, d2;
  write_zero_assets(d1.path(), small_config(0));
  write_zero_assets(d2.path(), small_config(7));
  std::unordered_set<std::string> heldout;
  for (const auto& dir : {&d1, &d2})
    for (const auto& r : test::read_jsonl(*dir / "heldout.jsonl")) {
      const std::string q = r["problem"];
      EXPECT_TRUE(heldout.insert(q).second || dir == &d2) << "duplicate held-out problem " << q;
      EXPECT_EQ(zero_split(q.substr(8, q.size() - 9), 10), ZeroSplit::kHeldout) << q;
    }
  for (const auto& dir : {&d1, &d2})
    for (const char* f : {"base.jsonl", "sft.jsonl", "grpo.jsonl"})
      for (const auto& r : test::read_jsonl(*dir / f)) {
        const std::string q = r["prompt"];
        EXPECT_EQ(heldout.count(q), 0u) << f << ": held-out problem in training: " << q;
        EXPECT_EQ(zero_split(q.substr(8, q.size() - 9), 10), ZeroSplit::kTrain) << q;
      }
  // Roughly heldout_percent of all expressions are held out.
  int held = 0;
  for (int a = 1; a <= 99; ++a)
    for (int b = 1; b <= 99; ++b)
      held += zero_split(std::to_string(a) + "+" + std::to_string(b), 10) == ZeroSplit::kHeldout;
  EXPECT_NEAR(held / (99.0 * 99.0), 0.10, 0.02);
}

TEST(ZeroTask, AnswersAndReasoningRecomputed) {
  test::TempDir d;
  const ZeroTaskConfig c = small_config(3);
  write_zero_assets(d.path(), c);
  for (const auto& r : test::read_jsonl(d / "heldout.jsonl")) {
    EXPECT_EQ(r["answer"], std::to_string(eval_question(r["problem"]))) << r.dump();
    EXPECT_EQ(r["prompt"], r["problem"]);
  }
  for (const auto& r : test::read_jsonl(d / "grpo.jsonl"))
    EXPECT_EQ(r["answer"], std::to_string(eval_question(r["prompt"]))) << r.dump();
  for (const auto& r : test::read_jsonl(d / "sft.jsonl")) {
    const Steps s = parse_response(r["response"]);
    EXPECT_EQ(s.boxed, std::to_string(eval_question(r["prompt"]))) << r.dump();
    EXPECT_EQ(s.wrong, 0) << r.dump();
    EXPECT_TRUE(s.chained) << r.dump();
    EXPECT_GE(s.lines.size(), 1u);
  }
  std::map<std::string, int> kinds;
  for (const auto& r : test::read_jsonl(d / "base.jsonl")) {
    const std::string kind = r["kind"], prompt = r["prompt"], response = r["response"];
    ++kinds[kind];
    EXPECT_EQ(r["text"], std::string(kZeroBos) + kZeroUser + prompt + kZeroAssistant + "<think>\n" +
                             response + kZeroEos);
    const Steps s = parse_response(response);
    const std::string gold = std::to_string(eval_question(prompt));
    EXPECT_TRUE(s.chained) << response;
    if (kind == "direct") {
      EXPECT_TRUE(s.lines.empty());
      EXPECT_EQ(s.boxed, gold);
    } else if (kind == "reasoned") {
      EXPECT_EQ(s.wrong, 0);
      EXPECT_EQ(s.boxed, gold);
    } else {
      EXPECT_EQ(kind, "one_error");
      EXPECT_EQ(s.wrong, 1) << response;
      EXPECT_NE(s.boxed, gold) << response;
    }
  }
  EXPECT_NEAR(kinds["direct"] / 300.0, c.base_direct_fraction, 0.08);
  EXPECT_NEAR(kinds["one_error"] / 300.0, c.base_error_fraction, 0.08);
}

TEST(ZeroTask, OneErrorChainsStayNonNegative) {
  // Many subtractions, all levels: a wrong step never drives a later value below zero.
  ZeroTaskConfig c = small_config();
  c.level_weights = {1, 1, 1};
  SampleRng rng{99, 0};
  for (const auto& p : zero_problems(c, ZeroSplit::kTrain, 3000, 5, false)) {
    const Steps s = parse_response(zero_response(p, ZeroResponse::kOneError, &rng));
    EXPECT_EQ(s.wrong, 1);
    EXPECT_NE(s.boxed, std::to_string(p.answer));
  }
}

TEST(ZeroTask, MaxValueKeepsEveryStepOneDigit) {
  ZeroTaskConfig c = small_config();
  c.level_weights = {1, 1, 1};
  c.max_operand = 9;
  c.max_value = 9;
  SampleRng rng{7, 0};
  int in_range_errors = 0, errors = 0;
  for (const auto& p : zero_problems(c, ZeroSplit::kTrain, 3000, 5, false)) {
    int64_t v = p.operands.at(0);
    for (size_t i = 0; i < p.ops.size(); ++i) {
      v += p.ops[i] == '+' ? p.operands[i + 1] : -p.operands[i + 1];
      EXPECT_TRUE(v >= 0 && v <= 9) << p.expression();
    }
    EXPECT_EQ(v, p.answer);
    const Steps good = parse_response(zero_response(p, ZeroResponse::kReasoned, nullptr, 9));
    EXPECT_EQ(good.wrong, 0);
    const Steps s = parse_response(zero_response(p, ZeroResponse::kOneError, &rng, 9));
    EXPECT_EQ(s.wrong, 1);
    EXPECT_NE(s.boxed, std::to_string(p.answer));
    // The slip is by one digit, and stays in [0, 9] unless the chain touches both ends.
    EXPECT_EQ(std::abs(std::stoll(s.boxed) - p.answer), 1) << p.expression();
    ++errors;
    if (std::stoll(s.boxed) >= 0 && std::stoll(s.boxed) <= 9) ++in_range_errors;
  }
  EXPECT_GT(in_range_errors, errors * 95 / 100);
  // max_value below max_operand is refused, naming the field.
  c.max_value = 5;
  EXPECT_THROW(check_zero_task_config(c), Error);
}

TEST(ZeroTask, LevelsFollowTheWeights) {
  ZeroTaskConfig c = small_config();
  c.level_weights = {0, 1, 0};
  for (const auto& p : zero_problems(c, ZeroSplit::kTrain, 200, 9, false)) {
    EXPECT_EQ(p.level(), 2);
    for (int64_t x : p.operands) EXPECT_TRUE(x >= 1 && x <= c.max_operand);
  }
  c.level_weights = {1, 1, 1};
  int counts[4] = {0, 0, 0, 0};
  for (const auto& p : zero_problems(c, ZeroSplit::kTrain, 3000, 9, false)) ++counts[p.level()];
  for (int l = 1; l <= 3; ++l) EXPECT_NEAR(counts[l] / 3000.0, 1.0 / 3, 0.04) << l;
}

TEST(ZeroTask, GradedCorrectByTheMathGrader) {
  test::TempDir d;
  write_zero_assets(d.path(), small_config(5));
  const ExtractConfig boxed = extract_preset("boxed");
  for (const auto& r : test::read_jsonl(d / "sft.jsonl")) {
    const std::string gold = std::to_string(eval_question(r["prompt"]));
    // The response as the model would give it: after the forced "<think>\n".
    const Grade g = grade_response(gold, "<think>\n" + r["response"].get<std::string>(), boxed);
    EXPECT_TRUE(g.correct) << r.dump() << " " << g.reason;
  }
  for (const auto& r : test::read_jsonl(d / "base.jsonl")) {
    const std::string gold = std::to_string(eval_question(r["prompt"]));
    const Grade g = grade_response(gold, r["response"], boxed);
    EXPECT_EQ(g.correct, r["kind"] != "one_error") << r.dump() << " " << g.reason;
  }
  // The answer field grades against itself, as the GRPO reward and r1eval compare.
  for (const auto& r : test::read_jsonl(d / "heldout.jsonl"))
    EXPECT_TRUE(grade_response(r["answer"],
                               "</think>\n\\boxed{" + r["answer"].get<std::string>() + "}", boxed)
                    .correct);
}

TEST(ZeroTask, TokenizerRoundTripsEveryText) {
  test::TempDir d;
  write_zero_assets(d.path(), small_config(2));
  const Tokenizer tok = Tokenizer::load(d / "model");
  const ZeroTokenIds ids = zero_token_ids();
  EXPECT_EQ(tok.vocab_size(), ids.vocab_size);
  EXPECT_EQ(tok.bos_id, ids.bos);
  EXPECT_EQ(tok.eos_id, ids.eos);
  EXPECT_EQ(tok.pad_id, ids.pad);
  EXPECT_TRUE(tok.think_open_id && tok.think_close_id);
  EXPECT_TRUE(tok.is_special(ids.pad));
  EXPECT_FALSE(tok.is_special(*tok.think_close_id));
  // Digits are single tokens (id = byte), the task's words one token each.
  EXPECT_EQ(tok.encode("1234"), (std::vector<int64_t>{'1', '2', '3', '4'}));
  EXPECT_EQ(tok.encode("What is 7+5?").size(), 7u);  // What, " is", " ", 7, +, 5, ?
  EXPECT_EQ(tok.encode("\\boxed{12}").size(), 5u);
  EXPECT_EQ(
      tok.encode("Please reason step by step, and put your final answer within \\boxed{}.").size(),
      15u);  // " \\" and "boxed" are two chunks there

  int64_t longest = 0;
  std::vector<std::string> texts;
  for (const char* f : {"base.jsonl", "sft.jsonl", "grpo.jsonl", "heldout.jsonl"})
    for (const auto& r : test::read_jsonl(d / f))
      for (const char* k : {"text", "prompt", "response", "problem"})
        if (r.contains(k)) texts.push_back(r[k]);
  for (const auto& t : texts) {
    const auto e = tok.encode(t);
    EXPECT_EQ(tok.decode(e), t);
    longest = std::max<int64_t>(longest, static_cast<int64_t>(e.size()));
  }
  EXPECT_LT(longest, 96) << "documents must fit the training length with room to spare";
  // A base document: BOS, user, ..., EOS, each special token one id.
  const std::string doc = test::read_jsonl(d / "base.jsonl").front()["text"];
  const auto e = tok.encode(doc);
  EXPECT_EQ(e.front(), ids.bos);
  EXPECT_EQ(e.back(), ids.eos);
  EXPECT_EQ(tok.encode("x", true).front(), ids.bos);  // the post-processor prepends BOS
}

TEST(ZeroTask, ChatTemplateIsDeepSeekR1) {
  test::TempDir d;
  make_zero_model(d.path(), 0, "micro");
  const ChatTemplate t = load_chat_template(d.path());
  EXPECT_EQ(t.bos_token, kZeroBos);
  EXPECT_EQ(render_chat(t, {{"user", "What is 1+2?"}}, true),
            std::string(kZeroBos) + kZeroUser + "What is 1+2?" + kZeroAssistant + "<think>\n");
}

TEST(ZeroTask, ModelLoadsAndRuns) {
  test::TempDir d;
  make_zero_model(d.path(), 11, "micro");
  auto model = load_transformer(d.path());
  const ModelConfig& c = model->config();
  EXPECT_EQ(c.model_type, "qwen2");
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.vocab_size % 64, 0);
  EXPECT_GE(c.vocab_size, zero_token_ids().vocab_size);
  EXPECT_EQ(c.pad_token_id, zero_token_ids().pad);
  torch::NoGradGuard no_grad;
  const auto ids = torch::arange(0, 24, torch::kLong).reshape({2, 12});  // (B, T)
  const auto pos = torch::arange(0, 12, torch::kLong).expand({2, 12});
  const auto logits = model->logits(model->forward(ids, pos));  // (B, T, V)
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{2, 12, c.vocab_size}));
  EXPECT_TRUE(torch::isfinite(logits).all().item<bool>());
  EXPECT_GT(logits.std().item<double>(), 1e-4);
  // The init: embedding std ~0.02 with the pad row zero, unit norms, zero biases.
  for (auto& [name, p] : model->hf_parameters()) {
    if (name == "model.embed_tokens.weight") {
      EXPECT_NEAR(p.std().item<double>(), 0.02, 0.002);
      EXPECT_EQ(p[*c.pad_token_id].abs().sum().item<double>(), 0.0);
    } else if (name.find("norm") != std::string::npos) {
      EXPECT_TRUE(p.eq(1).all().item<bool>()) << name;
    } else if (name.find("bias") != std::string::npos) {
      EXPECT_TRUE(p.eq(0).all().item<bool>()) << name;
    }
  }
  // Parameter counts of the named sizes (printed for the record).
  for (const auto& s : zero_model_sizes()) {
    auto m = zero_init_model(zero_model_config(s.name), 0);
    std::printf("zero model %s: %lld parameters\n", s.name.c_str(),
                static_cast<long long>(zero_parameter_count(*m)));
  }
}

TEST(ZeroTask, ConfigJsonRoundTripAndErrors) {
  ZeroTaskConfig c = small_config(42);
  c.level_weights = {1, 2};
  const ZeroTaskConfig back = zero_task_config_from_json(zero_task_config_to_json(c), "t");
  EXPECT_EQ(zero_task_config_to_json(back), zero_task_config_to_json(c));
  auto message = [](const json& j) {
    try {
      zero_task_config_from_json(j, "cfg.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(message({{"max_operand", 0}}).find("max_operand = 0"), std::string::npos);
  EXPECT_NE(message({{"heldout_percent", 100}}).find("heldout_percent"), std::string::npos);
  EXPECT_NE(message({{"level_weights", {0, 0}}}).find("level_weights"), std::string::npos);
  EXPECT_NE(message({{"prompt_template", "no slot"}}).find("{problem}"), std::string::npos);
  EXPECT_NE(message({{"model_size", "huge"}}).find("micro, tiny, small"), std::string::npos);
  EXPECT_NE(message({{"sft_rows", "many"}}).find("sft_rows has the wrong type"), std::string::npos);
  EXPECT_NE(message({{"sed", 1}}).find("no field \"sed\""), std::string::npos);
  // Too small a space for the distinct held-out problems asked for.
  ZeroTaskConfig tiny = small_config();
  tiny.max_operand = 3;
  tiny.level_weights = {1};
  EXPECT_THROW(zero_problems(tiny, ZeroSplit::kHeldout, 50, 4, true), Error);
}

}  // namespace
}  // namespace r1

namespace r1 {
namespace {

// Not a check: writes the assets (small counts, the default model size) into $R1_ZERO_OUT for
// tests/reference/check_zero_tokenizer.py; skipped when the variable is not set.
TEST(ZeroTask, WriteAssetsForReference) {
  const char* out = std::getenv("R1_ZERO_OUT");
  if (out == nullptr || *out == '\0') GTEST_SKIP() << "R1_ZERO_OUT not set";
  ZeroTaskConfig c = small_config(0);
  c.model_size = ZeroTaskConfig().model_size;
  const ZeroAssets a = write_zero_assets(out, c);
  std::printf("zero assets in %s (model %s)\n", out, a.model.c_str());
}

}  // namespace
}  // namespace r1
