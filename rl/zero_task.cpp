// The tiny R1-Zero task and its files (see zero_task.h). Draws come from toolkit's counter-based
// SampleRng (splitmix64) only, never from <random>'s distributions, whose outputs differ between
// standard libraries: the golden hash in tests/rl/test_zero_task.cpp catches a platform difference.
#include "rl/zero_task.h"

#include <algorithm>      // std::min, std::max
#include <cstdint>        // INT64_MAX, INT64_MIN
#include <filesystem>     // std::filesystem
#include <unordered_set>  // std::unordered_set

#include "rl/zero_model.h"          // r1::make_zero_model
#include "rl/zero_tokenizer.h"      // r1::kZeroBos, r1::kZeroEos
#include "toolkit/chat_template.h"  // r1::render_chat
#include "toolkit/error.h"          // r1::Error, r1::check
#include "toolkit/fs.h"             // r1::write_file_atomic
#include "toolkit/hash.h"           // r1::fnv1a64
#include "toolkit/sha256.h"         // r1::sha256_hex

namespace r1 {
namespace {

using ojson = nlohmann::ordered_json;

// The streams of c.seed that each file draws from.
enum Stream : uint64_t { kBaseStream = 1, kSftStream = 2, kGrpoStream = 3, kHeldoutStream = 4 };

// An integer in [0, n) from one uniform draw (53 bits; n is small).
int64_t draw_below(SampleRng& rng, int64_t n) {
  const auto k = static_cast<int64_t>(rng.next_uniform() * static_cast<double>(n));
  return k < n ? k : n - 1;
}

std::string jsonl_line(const ojson& row) {
  return row.dump(-1, ' ', false, ojson::error_handler_t::replace) + "\n";
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t k = s.find(from); k != std::string::npos; k = s.find(from, k + to.size()))
    s.replace(k, from.size(), to);
  return s;
}

}  // namespace

void check_zero_task_config(const ZeroTaskConfig& c) {
  auto bad = [](const std::string& field, const std::string& value, const std::string& want) {
    return Error("zero task: " + field + " = " + value + " " + want);
  };
  double total = 0;
  for (double w : c.level_weights) {
    if (!(w >= 0)) throw bad("level_weights", std::to_string(w), "(weights must be >= 0)");
    total += w;
  }
  if (c.level_weights.empty() || !(total > 0))
    throw bad("level_weights", "[...]", "(give at least one positive weight; index 0 = level 1)");
  if (c.max_operand < 1 || c.max_operand > 999999)
    throw bad("max_operand", std::to_string(c.max_operand), "(must be in [1, 999999])");
  if (c.max_value < 0 || (c.max_value > 0 && c.max_value < c.max_operand))
    throw bad("max_value", std::to_string(c.max_value),
              "(0 = unbounded, else >= max_operand = " + std::to_string(c.max_operand) + ")");
  if (c.heldout_percent < 1 || c.heldout_percent > 99)
    throw bad("heldout_percent", std::to_string(c.heldout_percent), "(must be in [1, 99])");
  if (c.prompt_template.find("{problem}") == std::string::npos)
    throw bad("prompt_template", "\"" + c.prompt_template + "\"", "(must contain {problem})");
  for (auto [name, f] : {std::pair{"base_direct_fraction", c.base_direct_fraction},
                         std::pair{"base_error_fraction", c.base_error_fraction}})
    if (!(f >= 0 && f <= 1)) throw bad(name, std::to_string(f), "(must be in [0, 1])");
  if (c.base_direct_fraction + c.base_error_fraction > 1)
    throw bad("base_direct_fraction + base_error_fraction",
              std::to_string(c.base_direct_fraction + c.base_error_fraction), "(must be <= 1)");
  for (auto [name, n] : {std::pair{"base_docs", c.base_docs}, std::pair{"sft_rows", c.sft_rows},
                         std::pair{"grpo_prompts", c.grpo_prompts},
                         std::pair{"heldout_problems", c.heldout_problems}})
    if (n < 0) throw bad(name, std::to_string(n), "(must be >= 0)");
  zero_model_size(c.model_size);  // throws naming the known sizes
}

nlohmann::json zero_task_config_to_json(const ZeroTaskConfig& c) {
  nlohmann::json j = nlohmann::json::object();
  visit_zero_task_config(
      c, [&](const char* key, const auto& v, const char*, FieldRole) { j[key] = v; });
  return j;
}

ZeroTaskConfig zero_task_config_from_json(const nlohmann::json& j, const std::string& where) {
  check(j.is_object(), where + ": the zero task config must be a JSON object");
  ZeroTaskConfig c;
  std::unordered_set<std::string> known;
  visit_zero_task_config(c, [&](const char* key, auto& out, const char*, FieldRole) {
    known.insert(key);
    if (!j.contains(key)) return;
    try {
      j.at(key).get_to(out);
    } catch (const nlohmann::json::exception&) {
      throw Error(where + ": zero task field " + key + " has the wrong type (" + j.at(key).dump() +
                  ")");
    }
  });
  for (const auto& [key, v] : j.items())
    check(known.count(key) > 0, where + ": zero task config has no field \"" + key + "\"");
  check_zero_task_config(c);
  return c;
}

std::string ZeroProblem::expression() const {
  std::string s = std::to_string(operands.at(0));
  for (size_t i = 0; i < ops.size(); ++i) s += ops[i] + std::to_string(operands.at(i + 1));
  return s;
}

std::string ZeroProblem::question() const { return "What is " + expression() + "?"; }

ZeroSplit zero_split(const std::string& expression, int64_t heldout_percent) {
  const uint64_t h = derive_seed(fnv1a64(expression), {});
  return static_cast<int64_t>(h % 100) < heldout_percent ? ZeroSplit::kHeldout : ZeroSplit::kTrain;
}

ZeroProblem zero_sample_problem(const ZeroTaskConfig& c, ZeroSplit split, SampleRng& rng) {
  double total = 0;
  for (double w : c.level_weights) total += w;
  for (int64_t tries = 0;; ++tries) {
    check(tries < 1000000,
          "zero task: no " + std::string(split == ZeroSplit::kHeldout ? "held-out" : "training") +
              " expression in a million draws (max_operand = " + std::to_string(c.max_operand) +
              "); raise max_operand or give higher levels weight");
    // The level: the first whose cumulative weight passes the draw (zero weights never chosen;
    // the last positive one when rounding leaves the draw at the total).
    const double u = rng.next_uniform() * total;
    size_t level = 0;
    for (size_t i = 0; i < c.level_weights.size(); ++i)
      if (c.level_weights[i] > 0) level = i + 1;
    double acc = 0;
    for (size_t i = 0; i < c.level_weights.size(); ++i) {
      acc += c.level_weights[i];
      if (c.level_weights[i] > 0 && u < acc) {
        level = i + 1;
        break;
      }
    }
    ZeroProblem p;
    int64_t value = 1 + draw_below(rng, c.max_operand);
    p.operands.push_back(value);
    for (size_t i = 0; i < level; ++i) {
      const bool at_top = c.max_value > 0 && value >= c.max_value;
      const bool minus = (rng.next_uniform() < 0.5 && value > 0) || at_top;
      // A subtrahend never exceeds the running value, so no value goes below zero; an addend never
      // takes it above max_value.
      const int64_t hi = minus             ? std::min(value, c.max_operand)
                         : c.max_value > 0 ? std::min(c.max_operand, c.max_value - value)
                                           : c.max_operand;
      const int64_t x = 1 + draw_below(rng, hi);
      p.ops += minus ? '-' : '+';
      p.operands.push_back(x);
      value += minus ? -x : x;
    }
    p.answer = value;
    if (zero_split(p.expression(), c.heldout_percent) == split) return p;
  }
}

std::vector<ZeroProblem> zero_problems(const ZeroTaskConfig& c, ZeroSplit split, int64_t n,
                                       uint64_t stream, bool distinct) {
  SampleRng rng{derive_seed(c.seed, {stream}), 0};
  std::vector<ZeroProblem> out;
  std::unordered_set<std::string> seen;
  int64_t misses = 0;
  while (static_cast<int64_t>(out.size()) < n) {
    ZeroProblem p = zero_sample_problem(c, split, rng);
    if (distinct && !seen.insert(p.expression()).second) {
      check(++misses < 1000 * (n + 10),
            "zero task: cannot draw " + std::to_string(n) + " distinct " +
                (split == ZeroSplit::kHeldout ? "held-out" : "training") +
                " problems with max_operand = " + std::to_string(c.max_operand) +
                " and these level_weights; raise max_operand or give higher levels weight");
      continue;
    }
    out.push_back(std::move(p));
  }
  return out;
}

std::string zero_response(const ZeroProblem& p, ZeroResponse kind, SampleRng* rng,
                          int64_t max_value) {
  const std::string answer_tail = "</think>\n\\boxed{";
  if (kind == ZeroResponse::kDirect) return answer_tail + std::to_string(p.answer) + "}";
  int64_t wrong_step = -1, offset = 0;
  if (kind == ZeroResponse::kOneError) {
    check(rng != nullptr, "zero_response: kOneError needs a random stream");
    wrong_step = draw_below(*rng, static_cast<int64_t>(p.ops.size()));
    static constexpr int64_t kOffsets[] = {-10, -1, 1, 10};  // a carry or a last-digit slip
    offset = kOffsets[draw_below(*rng, 4)];
    if (max_value > 0 && max_value < 10) offset = offset < 0 ? -1 : 1;  // one-digit values
    // Every later value moves by the same offset: flip one that would take any of them below zero
    // (or above max_value, where the flip keeps them non-negative), so the wrong chain still reads
    // like the task's arithmetic.
    int64_t value = p.operands.at(0), lowest = INT64_MAX, highest = INT64_MIN;
    for (size_t i = 0; i < p.ops.size(); ++i) {
      value += p.ops[i] == '+' ? p.operands.at(i + 1) : -p.operands.at(i + 1);
      if (static_cast<int64_t>(i) >= wrong_step) {
        lowest = std::min(lowest, value);
        highest = std::max(highest, value);
      }
    }
    const bool below = lowest + offset < 0;
    const bool above = max_value > 0 && highest + offset > max_value;
    if (below || (above && lowest - offset >= 0)) offset = -offset;
  }
  std::string s;
  int64_t value = p.operands.at(0);
  for (size_t i = 0; i < p.ops.size(); ++i) {
    const int64_t x = p.operands.at(i + 1);
    int64_t next = p.ops[i] == '+' ? value + x : value - x;
    if (static_cast<int64_t>(i) == wrong_step) next += offset;
    s += std::to_string(value) + p.ops[i] + std::to_string(x) + "=" + std::to_string(next) + "\n";
    value = next;
  }
  return s + answer_tail + std::to_string(value) + "}";
}

std::string zero_prompt(const ZeroTaskConfig& c, const ZeroProblem& p) {
  return replace_all(c.prompt_template, "{problem}", p.question());
}

namespace {

// base.jsonl: pretraining documents; the kind of each is drawn from its own stream, after the
// problems.
std::string base_documents(const ZeroTaskConfig& c, const ChatTemplate& chat) {
  const auto problems = zero_problems(c, ZeroSplit::kTrain, c.base_docs, kBaseStream, false);
  SampleRng rng{derive_seed(c.seed, {kBaseStream, 1}), 0};
  std::string text;
  for (const auto& p : problems) {
    const double u = rng.next_uniform();
    const ZeroResponse kind = u < c.base_direct_fraction ? ZeroResponse::kDirect
                              : u < c.base_direct_fraction + c.base_error_fraction
                                  ? ZeroResponse::kOneError
                                  : ZeroResponse::kReasoned;
    const std::string prompt = zero_prompt(c, p);
    const std::string response = zero_response(p, kind, &rng, c.max_value);
    const std::string doc = render_chat(chat, {{"user", prompt}}, true) + response + kZeroEos;
    const char* name = kind == ZeroResponse::kDirect     ? "direct"
                       : kind == ZeroResponse::kOneError ? "one_error"
                                                         : "reasoned";
    text += jsonl_line({{"prompt", prompt}, {"response", response}, {"text", doc}, {"kind", name}});
  }
  return text;
}

// sft.jsonl: the cold start's reasoned responses.
std::string sft_rows(const ZeroTaskConfig& c) {
  std::string text;
  for (const auto& p : zero_problems(c, ZeroSplit::kTrain, c.sft_rows, kSftStream, true))
    text += jsonl_line(
        {{"prompt", zero_prompt(c, p)}, {"response", zero_response(p, ZeroResponse::kReasoned)}});
  return text;
}

// grpo.jsonl: prompts with their answers.
std::string grpo_rows(const ZeroTaskConfig& c) {
  std::string text;
  for (const auto& p : zero_problems(c, ZeroSplit::kTrain, c.grpo_prompts, kGrpoStream, false))
    text += jsonl_line({{"prompt", zero_prompt(c, p)}, {"answer", std::to_string(p.answer)}});
  return text;
}

// heldout.jsonl: the evaluation's problems, from the held-out split.
std::string heldout_rows(const ZeroTaskConfig& c) {
  std::string text;
  const auto problems =
      zero_problems(c, ZeroSplit::kHeldout, c.heldout_problems, kHeldoutStream, true);
  for (size_t i = 0; i < problems.size(); ++i) {
    const auto& p = problems[i];
    text += jsonl_line({{"id", "zero-" + std::to_string(i)},
                        {"problem", p.question()},
                        {"prompt", zero_prompt(c, p)},
                        {"answer", std::to_string(p.answer)},
                        {"level", p.level()}});
  }
  return text;
}

ojson zero_manifest(const ZeroTaskConfig& c, const ojson& files) {
  const ModelConfig mc = zero_model_config(c.model_size);
  return {{"config", ojson::parse(zero_task_config_to_json(c).dump())},
          {"files", files},
          {"model",
           {{"dir", "model"},
            {"size", c.model_size},
            {"hidden_size", mc.hidden_size},
            {"num_hidden_layers", mc.num_hidden_layers},
            {"vocab_size", mc.vocab_size},
            {"tokenizer_size", zero_token_ids().vocab_size}}},
          {"r1eval",
           "r1eval run --dataset heldout.jsonl --question-field prompt --answer-field answer "
           "--id-field id --prompt-template '{problem}' --samples 16 --max-new-tokens 128 "
           "--model model"}};
}

}  // namespace

ZeroAssets write_zero_assets(const std::string& out_dir, const ZeroTaskConfig& c) {
  namespace fs = std::filesystem;
  check_zero_task_config(c);
  fs::create_directories(out_dir);
  const fs::path root(out_dir);
  ZeroAssets a;
  a.base = (root / "base.jsonl").string();
  a.sft = (root / "sft.jsonl").string();
  a.grpo = (root / "grpo.jsonl").string();
  a.heldout = (root / "heldout.jsonl").string();
  a.model = (root / "model").string();
  a.manifest = (root / "zero_assets.json").string();

  ChatTemplate chat = chat_template_from_source(zero_chat_template(), "the R1-Zero task template");
  chat.special_tokens["bos_token"] = kZeroBos;
  chat.bos_token = kZeroBos;
  ojson files = ojson::object();
  auto write = [&](const std::string& path, const std::string& text, int64_t rows) {
    write_file_atomic(path, text);
    files[fs::path(path).filename().string()] = {{"rows", rows}, {"sha256", sha256_hex(text)}};
  };
  write(a.base, base_documents(c, chat), c.base_docs);
  write(a.sft, sft_rows(c), c.sft_rows);
  write(a.grpo, grpo_rows(c), c.grpo_prompts);
  write(a.heldout, heldout_rows(c), c.heldout_problems);
  make_zero_model(a.model, c.seed, c.model_size);
  write_file_atomic(a.manifest, zero_manifest(c, files).dump(2, ' ', false) + "\n");
  return a;
}

}  // namespace r1
