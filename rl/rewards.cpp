// The built-in rewards (accuracy, boxed, format, language, length), their registry and the weighted
// RewardSet with its error handling. Scripts come from code point ranges (utf8proc has no script
// property; it gives the categories). Leaves out dictionaries: a language is its script(s).
#include "rl/rewards.h"

#include <utf8proc.h>  // utf8proc_iterate, utf8proc_category

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

namespace r1 {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::string_view kOpen = "<think>";
constexpr std::string_view kClose = "</think>";

// --- UTF-8 and scripts ------------------------------------------------------------------------

// Decodes the code point at s[i] into *cp (-1 for an invalid byte); returns its length in bytes.
size_t next_code_point(std::string_view s, size_t i, int32_t* cp) {
  utf8proc_int32_t c = -1;
  const auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                                  static_cast<utf8proc_ssize_t>(s.size() - i), &c);
  if (n <= 0) {
    *cp = -1;
    return 1;
  }
  *cp = c;
  return static_cast<size_t>(n);
}

// Scripts in count_words' order (ties in detect_language go to the earlier one).
enum Script {
  kLatin,
  kGreek,
  kCyrillic,
  kHebrew,
  kArabic,
  kDevanagari,
  kThai,
  kHangul,
  kHan,
  kHiragana,
  kKatakana,
  kOther,
  kScriptCount
};
constexpr std::array<const char*, kScriptCount> kScriptNames = {
    "latin", "greek",  "cyrillic", "hebrew",   "arabic",   "devanagari",
    "thai",  "hangul", "han",      "hiragana", "katakana", "other"};
using ScriptCounts = std::array<int64_t, kScriptCount>;

struct Range {
  int32_t first, last;
  Script script;
};
// The blocks of the scripts named above (letters outside them are kOther).
constexpr Range kRanges[] = {
    {0x0041, 0x024F, kLatin},      {0x0250, 0x02AF, kLatin},      {0x0370, 0x03FF, kGreek},
    {0x0400, 0x052F, kCyrillic},   {0x0590, 0x05FF, kHebrew},     {0x0600, 0x06FF, kArabic},
    {0x0750, 0x077F, kArabic},     {0x08A0, 0x08FF, kArabic},     {0x0900, 0x097F, kDevanagari},
    {0x0E00, 0x0E7F, kThai},       {0x1100, 0x11FF, kHangul},     {0x1C80, 0x1C8F, kCyrillic},
    {0x1E00, 0x1EFF, kLatin},      {0x1F00, 0x1FFF, kGreek},      {0x2C60, 0x2C7F, kLatin},
    {0x2DE0, 0x2DFF, kCyrillic},   {0x2E80, 0x2FDF, kHan},        {0x3005, 0x3007, kHan},
    {0x3021, 0x3029, kHan},        {0x3038, 0x303B, kHan},        {0x3040, 0x309F, kHiragana},
    {0x30A0, 0x30FF, kKatakana},   {0x3130, 0x318F, kHangul},     {0x31F0, 0x31FF, kKatakana},
    {0x3400, 0x4DBF, kHan},        {0x4E00, 0x9FFF, kHan},        {0xA640, 0xA69F, kCyrillic},
    {0xA720, 0xA7FF, kLatin},      {0xA8E0, 0xA8FF, kDevanagari}, {0xA960, 0xA97F, kHangul},
    {0xAB30, 0xAB6F, kLatin},      {0xAC00, 0xD7FF, kHangul},     {0xF900, 0xFAFF, kHan},
    {0xFB1D, 0xFB4F, kHebrew},     {0xFB50, 0xFDFF, kArabic},     {0xFE70, 0xFEFF, kArabic},
    {0xFF21, 0xFF5A, kLatin},      {0xFF66, 0xFF9F, kKatakana},   {0xFFA0, 0xFFDC, kHangul},
    {0x1B000, 0x1B16F, kHiragana}, {0x20000, 0x323AF, kHan},
};

Script script_of(int32_t cp) {
  for (const Range& r : kRanges)
    if (cp >= r.first && cp <= r.last) return r.script;
  return kOther;
}

bool is_letter(utf8proc_category_t c) {
  return c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LL || c == UTF8PROC_CATEGORY_LT ||
         c == UTF8PROC_CATEGORY_LM || c == UTF8PROC_CATEGORY_LO;
}
bool is_mark(utf8proc_category_t c) {
  return c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_MC || c == UTF8PROC_CATEGORY_ME;
}
// Scripts written without spaces between words: every letter is a word.
bool per_character(Script s) { return s == kHan || s == kHiragana || s == kKatakana; }

bool is_ascii_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// The words of `text` per script (see count_words in the header).
ScriptCounts script_counts(std::string_view text) {
  ScriptCounts n{};
  Script run = kOther;
  int64_t run_letters = 0;  // letters of the current run (of a spaced script); 0: none open
  auto close_run = [&] {
    if (run_letters >= 2) ++n[run];
    run_letters = 0;
  };
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '`' && text.compare(i, 3, "```") == 0) {  // a fenced block: skip to its end
      close_run();
      const size_t end = text.find("```", i + 3);
      i = end == std::string_view::npos ? text.size() : end + 3;
      continue;
    }
    if (c == '\\' && i + 1 < text.size() && is_ascii_letter(text[i + 1])) {  // a LaTeX command
      close_run();
      size_t j = i + 1;
      while (j < text.size() && is_ascii_letter(text[j])) ++j;
      const std::string_view cmd = text.substr(i + 1, j - i - 1);
      if ((cmd == "begin" || cmd == "end") && j < text.size() && text[j] == '{') {
        const size_t close = text.find('}', j);
        j = close == std::string_view::npos ? text.size() : close + 1;
      }
      i = j;
      continue;
    }
    if (c == '<' && (text.compare(i, kOpen.size(), kOpen) == 0 ||
                     text.compare(i, kClose.size(), kClose) == 0)) {  // the think tags
      close_run();
      i += text[i + 1] == '/' ? kClose.size() : kOpen.size();
      continue;
    }
    int32_t cp;
    const size_t len = next_code_point(text, i, &cp);
    i += len;
    const utf8proc_category_t cat = cp < 0 ? UTF8PROC_CATEGORY_CN : utf8proc_category(cp);
    if (is_letter(cat)) {
      const Script s = script_of(cp);
      if (per_character(s)) {
        close_run();
        ++n[s];
      } else if (run_letters > 0 && s == run) {
        ++run_letters;
      } else {
        close_run();
        run = s;
        run_letters = 1;
      }
    } else if (!is_mark(cat)) {  // marks stay in their word
      close_run();
    }
  }
  close_run();
  return n;
}

struct Language {
  const char* name;
  std::vector<Script> scripts;
};
const std::vector<Language>& languages() {
  static const std::vector<Language> all = {
      {"latin", {kLatin}},
      {"greek", {kGreek}},
      {"cyrillic", {kCyrillic}},
      {"hebrew", {kHebrew}},
      {"arabic", {kArabic}},
      {"devanagari", {kDevanagari}},
      {"thai", {kThai}},
      {"other", {kOther}},
      {"zh", {kHan}},
      {"ja", {kHan, kHiragana, kKatakana}},
      {"ko", {kHangul, kHan}},
  };
  return all;
}

std::string detect_from_counts(const ScriptCounts& n) {
  int best = -1;
  for (int s = 0; s < kScriptCount; ++s)
    if (n[s] > 0 && (best < 0 || n[s] > n[best])) best = s;
  if (best < 0) return "";
  switch (best) {
    case kHan:
      return n[kHiragana] + n[kKatakana] > 0 ? "ja" : "zh";
    case kHiragana:
    case kKatakana:
      return "ja";
    case kHangul:
      return "ko";
    default:
      return kScriptNames[best];
  }
}

double share_of(const ScriptCounts& n, const std::string& language) {
  const std::string target = language.empty() ? detect_from_counts(n) : language;
  int64_t total = 0;
  for (int64_t k : n) total += k;
  if (total == 0) return 0;
  for (const Language& l : languages()) {
    if (target != l.name) continue;
    int64_t in = 0;
    for (Script s : l.scripts) in += n[s];
    return static_cast<double>(in) / static_cast<double>(total);
  }
  std::string known;
  for (const Language& l : languages()) known += (known.empty() ? "" : ", ") + std::string(l.name);
  throw Error("language '" + target + "' is unknown (known: " + known + ")");
}

// True when `s` shows nothing: separators, controls, format characters, the blank fillers.
bool is_blank(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    int32_t cp;
    i += next_code_point(s, i, &cp);
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

std::map<std::string, int64_t> count_words(const std::string& text) {
  const ScriptCounts n = script_counts(text);
  std::map<std::string, int64_t> out;
  for (int s = 0; s < kScriptCount; ++s)
    if (n[s] > 0) out[kScriptNames[s]] = n[s];
  return out;
}

const std::vector<std::string>& language_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const Language& l : languages()) v.push_back(l.name);
    return v;
  }();
  return names;
}

std::string detect_language(const std::string& text) {
  return detect_from_counts(script_counts(text));
}

double language_share(const std::string& text, const std::string& language) {
  return share_of(script_counts(text), language);
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
