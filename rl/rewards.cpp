// The built-in rewards (accuracy, boxed, format, language, length), their registry and the weighted
// RewardSet with its error handling. The language reward's word counts: rl/language.cpp.
#include "rl/rewards.h"

#include <utf8proc.h>  // utf8proc_category

#include <algorithm>     // std::min
#include <array>         // std::array
#include <charconv>      // std::from_chars
#include <cmath>         // std::isfinite, std::abs
#include <limits>        // std::numeric_limits
#include <string_view>   // std::string_view
#include <system_error>  // std::errc
#include <utility>       // std::move

#include "evals/extract.h"      // r1::extract_preset, r1::answer_region, r1::last_boxed
#include "evals/math_grader.h"  // r1::grade_response
#include "rl/grpo_loss.h"       // r1::overlong_penalty
#include "toolkit/error.h"      // r1::Error, r1::check
#include "toolkit/text.h"       // r1::trim_space
#include "toolkit/utf8.h"       // r1::utf8_decode

namespace r1 {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::string_view kOpen = "<think>";
constexpr std::string_view kClose = "</think>";

// --- Text -------------------------------------------------------------------------------------

bool is_blank(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    int32_t cp;
    i += utf8_decode(s, i, &cp);
    if (cp < 0) return false;
    if (cp == 0x115F || cp == 0x1160 || cp == 0x3164 || cp == 0xFFA0 || cp == 0x2800) continue;
    switch (utf8proc_category(cp)) {
      case UTF8PROC_CATEGORY_ZS:
      case UTF8PROC_CATEGORY_ZL:
      case UTF8PROC_CATEGORY_ZP:
      case UTF8PROC_CATEGORY_CC:
      case UTF8PROC_CATEGORY_CF:
        continue;
      default:
        return false;
    }
  }
  return true;
}

size_t count_of(std::string_view s, std::string_view what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string_view::npos; p = s.find(what, p + what.size())) ++n;
  return n;
}

// --- The rewards ------------------------------------------------------------------------------

class AccuracyReward : public Reward {
 public:
  explicit AccuracyReward(const AccuracyOptions& o)
      : options_(o), extract_(extract_preset(o.extract)) {
    compare_.float_places = o.float_places;
  }
  std::string name() const override { return "accuracy"; }

  double compute(const RewardInput& in) override {
    if (in.code) {
      CodeGradeOptions one = options_.code;
      one.workers = 1;
      one.require_think = in.think_opened;
      const CodeGrade g = grade_code(sandbox(), *in.code, in.completion, one, in.finish_reason);
      check(code_outcome(g.reason) != "SE", "accuracy: sandbox error: " + g.reason);
      return g.correct ? 1 : 0;
    }
    check(!in.gold.empty(), "accuracy: the sample has neither a gold answer nor a code task");
    ExtractConfig x = extract_;
    x.require_think = in.think_opened;
    return grade_response(in.gold, in.completion, x, in.finish_reason, compare_).correct ? 1 : 0;
  }

  std::vector<double> compute_batch(const std::vector<RewardInput>& batch) override {
    std::vector<double> out(batch.size(), kNaN);
    // Code samples go to the sandbox together, one call per think_opened value.
    for (const bool opened : {true, false}) {
      std::vector<CodeSample> todo;
      std::vector<size_t> index;
      for (size_t i = 0; i < batch.size(); ++i) {
        const RewardInput& in = batch[i];
        if (!in.code || in.think_opened != opened) continue;
        todo.push_back({in.code.get(), in.completion, in.finish_reason});
        index.push_back(i);
      }
      if (todo.empty()) continue;
      CodeGradeOptions o = options_.code;
      o.require_think = opened;
      const std::vector<CodeGrade> grades = grade_code_samples(sandbox(), todo, o);
      for (size_t k = 0; k < grades.size(); ++k)
        if (code_outcome(grades[k].reason) != "SE") out[index[k]] = grades[k].correct ? 1 : 0;
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].code || batch[i].gold.empty()) continue;  // no gold: compute() says why
      try {
        out[i] = compute(batch[i]);
      } catch (const std::exception&) {
        // NaN: RewardSet asks compute() again for the message
      }
    }
    return out;
  }

 private:
  sandbox::Sandbox& sandbox() {
    if (options_.sandbox) return *options_.sandbox;
    if (!own_sandbox_) own_sandbox_ = std::make_unique<sandbox::Sandbox>(options_.code.sandbox);
    return *own_sandbox_;
  }

  AccuracyOptions options_;
  ExtractConfig extract_;
  CompareOptions compare_;
  std::unique_ptr<sandbox::Sandbox> own_sandbox_;
};

class FormatReward : public Reward {
 public:
  std::string name() const override { return "format"; }
  double compute(const RewardInput& in) override {
    if (in.finish_reason == "length") return 0;
    const std::string_view c = in.completion;
    if (count_of(c, kOpen) + (in.think_opened ? 1 : 0) != 1 || count_of(c, kClose) != 1) return 0;
    size_t begin = 0;  // of the reasoning
    if (!in.think_opened) {
      const size_t open = c.find(kOpen);
      if (!is_blank(c.substr(0, open))) return 0;
      begin = open + kOpen.size();
    }
    const size_t close = c.find(kClose);
    if (close < begin) return 0;  // "</think>" before "<think>"
    const bool reasoned = !is_blank(c.substr(begin, close - begin));
    const bool answered = !is_blank(c.substr(close + kClose.size()));
    return reasoned && answered ? 1 : 0;
  }
};

class BoxedReward : public Reward {
 public:
  std::string name() const override { return "boxed"; }
  double compute(const RewardInput& in) override {
    if (in.finish_reason == "length") return 0;
    const auto answer = answer_region(in.completion, in.think_opened);  // as accuracy reads it
    if (!answer) return 0;                                              // still reasoning
    const auto box = last_boxed(*answer);
    return box && !is_blank(*box) ? 1 : 0;
  }
};

class LanguageReward : public Reward {
 public:
  std::string name() const override { return "language"; }
  double compute(const RewardInput& in) override {
    const std::string target = in.language.empty() ? detect_language(in.prompt) : in.language;
    return language_share(reasoning_text(in), target);
  }
};

class LengthReward : public Reward {
 public:
  explicit LengthReward(const LengthOptions& o) : o_(o) {
    if (o.mode == "overlong") {
      check(o.max_tokens >= 1,
            "length.max_tokens must be at least 1 (got " + std::to_string(o.max_tokens) + ")");
      check(o.buffer_tokens >= 1 && o.buffer_tokens <= o.max_tokens,
            "length.buffer_tokens must be in [1, length.max_tokens = " +
                std::to_string(o.max_tokens) + "] (got " + std::to_string(o.buffer_tokens) + ")");
    } else if (o.mode == "target") {
      check(o.target_tokens >= 1, "length.target_tokens must be at least 1 (got " +
                                      std::to_string(o.target_tokens) + ")");
    } else {
      throw Error("length.mode '" + o.mode + "' is unknown (overlong, target)");
    }
  }
  std::string name() const override { return "length"; }
  double compute(const RewardInput& in) override {
    check(in.completion_tokens >= 0, "length: completion_tokens is not set (" +
                                         std::to_string(in.completion_tokens) +
                                         "): give each sample its generated token count");
    const double len = static_cast<double>(in.completion_tokens);
    if (o_.mode == "target") {
      const double t = static_cast<double>(o_.target_tokens);
      return -std::min(1.0, std::abs(len - t) / t);
    }
    if (in.finish_reason == "length") return -1;
    return overlong_penalty(in.completion_tokens, o_.max_tokens, o_.buffer_tokens);
  }

 private:
  LengthOptions o_;
};

}  // namespace

// --- Reward -----------------------------------------------------------------------------------

std::vector<double> Reward::compute_batch(const std::vector<RewardInput>& batch) {
  std::vector<double> out(batch.size(), kNaN);
  for (size_t i = 0; i < batch.size(); ++i) {
    try {
      out[i] = compute(batch[i]);
    } catch (...) {
      // NaN: RewardSet asks compute() again for the message
    }
  }
  return out;
}

std::unique_ptr<Reward> make_reward_accuracy(const AccuracyOptions& options) {
  return std::make_unique<AccuracyReward>(options);
}
std::unique_ptr<Reward> make_reward_format() { return std::make_unique<FormatReward>(); }
std::unique_ptr<Reward> make_reward_boxed() { return std::make_unique<BoxedReward>(); }
std::unique_ptr<Reward> make_reward_language() { return std::make_unique<LanguageReward>(); }
std::unique_ptr<Reward> make_reward_length(const LengthOptions& options) {
  return std::make_unique<LengthReward>(options);
}

// --- Text helpers -----------------------------------------------------------------------------

std::string reasoning_text(const RewardInput& in) {
  const std::string_view c = in.completion;
  size_t begin = 0;
  if (!in.think_opened) {
    const size_t open = c.find(kOpen);
    if (open == std::string_view::npos) return in.completion;
    begin = open + kOpen.size();
  }
  const size_t close = c.find(kClose, begin);
  return std::string(c.substr(begin, close == std::string_view::npos ? c.npos : close - begin));
}

// --- Registry ---------------------------------------------------------------------------------

void RewardRegistry::add(const std::string& name, RewardFactory factory) {
  check(!name.empty(), "a reward needs a name");
  check(factories_.count(name) == 0, "reward '" + name + "' is registered twice");
  factories_[name] = std::move(factory);
}

std::unique_ptr<Reward> RewardRegistry::make(const std::string& name,
                                             const RewardConfig& config) const {
  const auto it = factories_.find(name);
  if (it == factories_.end()) {
    std::string known;
    for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
    throw Error("unknown reward '" + name + "' (known: " + known + ")");
  }
  return it->second(config);
}

std::vector<std::string> RewardRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, f] : factories_) out.push_back(name);
  return out;
}

void register_builtin_rewards(RewardRegistry& registry) {
  registry.add("accuracy", [](const RewardConfig& c) { return make_reward_accuracy(c.accuracy); });
  registry.add("boxed", [](const RewardConfig&) { return make_reward_boxed(); });
  registry.add("format", [](const RewardConfig&) { return make_reward_format(); });
  registry.add("language", [](const RewardConfig&) { return make_reward_language(); });
  registry.add("length", [](const RewardConfig& c) { return make_reward_length(c.length); });
}

namespace {
const RewardRegistry& builtin_registry() {
  static const RewardRegistry registry = [] {
    RewardRegistry r;
    register_builtin_rewards(r);
    return r;
  }();
  return registry;
}
}  // namespace

std::unique_ptr<Reward> make_reward(const std::string& name, const RewardConfig& config) {
  return builtin_registry().make(name, config);
}

namespace {
// One "NAME" or "NAME:WEIGHT" item of a spec (`where` names the spec in errors).
RewardWeight parse_reward_item(const std::string& item, const std::string& where) {
  if (item.empty()) throw Error(where + "an empty item (give NAME or NAME:WEIGHT between commas)");
  RewardWeight w;
  const size_t colon = item.find(':');
  w.name = trim_space(item.substr(0, colon));
  if (w.name.empty()) throw Error(where + "item '" + item + "' has no reward name");
  if (colon == std::string::npos) return w;
  const std::string text = trim_space(item.substr(colon + 1));
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, w.weight);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(w.weight))
    throw Error(where + "the weight of '" + w.name + "' ('" + text + "') is not a finite number");
  return w;
}
}  // namespace

std::vector<RewardWeight> parse_reward_spec(const std::string& spec) {
  std::vector<RewardWeight> out;
  const std::string where = "reward spec '" + spec + "': ";
  check(!trim_space(spec).empty(), where + "empty (give e.g. accuracy:1.0,format:0.5)");
  size_t start = 0;
  while (true) {
    const size_t comma = spec.find(',', start);
    RewardWeight w = parse_reward_item(
        trim_space(spec.substr(start, comma == std::string::npos ? comma : comma - start)), where);
    for (const RewardWeight& seen : out)
      if (seen.name == w.name) throw Error(where + "reward '" + w.name + "' is given twice");
    out.push_back(std::move(w));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// --- Scores and sets --------------------------------------------------------------------------

double RewardScores::mean(size_t reward) const {
  const auto& v = values.at(reward);
  if (v.empty()) return 0;
  double sum = 0;
  for (double x : v) sum += x;
  return sum / static_cast<double>(v.size());
}

double RewardScores::mean_total() const {
  if (total.empty()) return 0;
  double sum = 0;
  for (double x : total) sum += x;
  return sum / static_cast<double>(total.size());
}

nlohmann::json RewardScores::log_fields() const {
  nlohmann::json j = {{"reward", mean_total()}};
  for (size_t k = 0; k < names.size(); ++k) {
    j["reward/" + names[k]] = mean(k);
    j["reward/" + names[k] + "/errors"] = errors[k];
  }
  return j;
}

RewardSet::RewardSet(const std::string& spec, const RewardConfig& config,
                     const RewardRegistry& registry) {
  for (const RewardWeight& w : parse_reward_spec(spec)) {
    std::unique_ptr<Reward> r;
    try {
      r = registry.make(w.name, config);
    } catch (const Error& e) {
      throw Error("reward spec '" + spec + "': " + e.what());
    }
    add(std::move(r), w.weight);
  }
}

RewardSet::RewardSet(const std::string& spec, const RewardConfig& config)
    : RewardSet(spec, config, builtin_registry()) {}

void RewardSet::add(std::unique_ptr<Reward> reward, double weight) {
  check(reward != nullptr, "RewardSet::add: no reward");
  const std::string name = reward->name();
  check(std::isfinite(weight),
        "reward '" + name + "': weight " + std::to_string(weight) + " is not finite");
  for (const auto& r : rewards_)
    check(r->name() != name, "reward '" + name + "' is in the set twice");
  rewards_.push_back(std::move(reward));
  weights_.push_back(weight);
}

std::vector<std::string> RewardSet::names() const {
  std::vector<std::string> out;
  for (const auto& r : rewards_) out.push_back(r->name());
  return out;
}

RewardScores RewardSet::compute(const std::vector<RewardInput>& batch) {
  const size_t n = batch.size();
  RewardScores s;
  s.total.assign(n, 0);
  for (size_t k = 0; k < rewards_.size(); ++k) {
    Reward& r = *rewards_[k];
    const std::string name = r.name();
    std::vector<double> got;
    try {
      got = r.compute_batch(batch);
      check(got.size() == n, name + ": compute_batch gave " + std::to_string(got.size()) +
                                 " values for " + std::to_string(n) + " samples");
    } catch (...) {
      got.assign(n, kNaN);  // every sample again, one at a time
    }
    std::vector<double> values(n, 0);
    int64_t errors = 0;
    std::string first;
    auto fail = [&](size_t i, const std::string& why) {
      ++errors;
      if (first.empty()) first = "sample " + std::to_string(i) + ": " + why;
    };
    for (size_t i = 0; i < n; ++i) {
      double v = got[i];
      if (!std::isfinite(v)) {
        try {
          v = r.compute(batch[i]);
        } catch (const std::exception& e) {
          fail(i, e.what());
          continue;
        } catch (...) {
          fail(i, "an exception that is not a std::exception");
          continue;
        }
        if (!std::isfinite(v)) {
          fail(i, name + ": value " + std::to_string(v) + " is not finite");
          continue;
        }
      }
      values[i] = v;
      s.total[i] += weights_[k] * v;
    }
    s.names.push_back(name);
    s.weights.push_back(weights_[k]);
    s.values.push_back(std::move(values));
    s.errors.push_back(errors);
    s.first_error.push_back(std::move(first));
  }
  return s;
}

}  // namespace r1
