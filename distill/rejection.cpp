// Rejection sampling of teacher traces (see rejection.h): the filters in their fixed order, the
// SFT rows and the dataset card. Correctness is the store's; the format and language measures are
// rl/rewards.h's, so RL and distillation judge a trace the same way.
#include "distill/rejection.h"

#include <algorithm>      // std::sort, std::min
#include <cstdio>         // std::snprintf
#include <filesystem>     // std::filesystem
#include <iterator>       // std::size
#include <memory>         // std::unique_ptr
#include <set>            // std::set
#include <string_view>    // std::string_view
#include <tuple>          // std::tie
#include <type_traits>    // std::is_same_v, std::decay_t
#include <unordered_map>  // std::unordered_map
#include <unordered_set>  // std::unordered_set

#include "evals/code_grader.h"  // r1::code_outcome
#include "rl/rewards.h"         // r1::make_reward_format, r1::language_share, r1::count_words
#include "rl/train_common.h"    // r1::config_flag_name
#include "toolkit/error.h"      // r1::Error, r1::check
#include "toolkit/fs.h"         // r1::write_file_atomic
#include "toolkit/hash.h"       // r1::mix64
#include "toolkit/json.h"       // r1::dump_json, r1::for_each_jsonl_row
#include "toolkit/text.h"       // r1::trim_space
#include "toolkit/utf8.h"       // r1::count_code_points

namespace r1 {
namespace {

constexpr std::string_view kOpen = "<think>";
constexpr std::string_view kClose = "</think>";

const std::vector<std::string> kReasons = {
    "ungraded", "incorrect",  "no_think_close", "bad_format", "truncated",
    "too_long", "repetition", "mixed_language", "duplicate",  "over_cap"};

bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

size_t count_of(std::string_view s, std::string_view what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string_view::npos; p = s.find(what, p + what.size())) ++n;
  return n;
}

std::string percent(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f%%", 100.0 * x);
  return buf;
}

// At most `n` bytes of `s` for a message, cut at a code point boundary.
std::string excerpt(std::string_view s, size_t n = 60) {
  if (s.size() <= n) return std::string(s);
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n)) + "...";
}

// Type check and assignment of one config field from JSON.
template <typename T>
void field_from_json(T& field, const nlohmann::json& v, const std::string& where,
                     const char* name) {
  const std::string at = where + ": field " + name;
  if constexpr (std::is_same_v<T, bool>) {
    check(v.is_boolean(), at + " must be true or false");
    field = v.get<bool>();
  } else if constexpr (std::is_same_v<T, int64_t>) {
    check(v.is_number_integer(), at + " must be an integer");
    field = v.get<int64_t>();
  } else if constexpr (std::is_same_v<T, double>) {
    check(v.is_number(), at + " must be a number");
    field = v.get<double>();
  } else {
    static_assert(std::is_same_v<T, std::string>);
    check(v.is_string(), at + " must be a string");
    field = v.get<std::string>();
  }
}

// The histogram's bucket edges in tokens; characters use 4x (about 4 characters per token).
constexpr int64_t kTokenEdges[] = {0, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768};

nlohmann::json length_stats(std::vector<int64_t> lengths, const std::string& unit) {
  const int64_t scale = unit == "tokens" ? 1 : 4;
  nlohmann::json buckets = nlohmann::json::array();
  const size_t n_edges = std::size(kTokenEdges);
  for (size_t b = 0; b < n_edges; ++b) {
    const int64_t from = kTokenEdges[b] * scale;
    const bool open = b + 1 == n_edges;
    const int64_t to = open ? 0 : kTokenEdges[b + 1] * scale;
    int64_t count = 0;
    for (int64_t x : lengths) count += x >= from && (open || x < to);
    buckets.push_back(
        {{"from", from}, {"to", open ? nlohmann::json() : nlohmann::json(to)}, {"count", count}});
  }
  nlohmann::json j = {{"unit", unit}, {"buckets", buckets}};
  if (lengths.empty()) {
    for (const char* k : {"min", "mean", "median", "max"}) j[k] = nullptr;
    return j;
  }
  std::sort(lengths.begin(), lengths.end());
  double sum = 0;
  for (int64_t x : lengths) sum += static_cast<double>(x);
  j["min"] = lengths.front();
  j["mean"] = sum / static_cast<double>(lengths.size());
  j["median"] = lengths[(lengths.size() - 1) / 2];  // the lower median: a length that occurs
  j["max"] = lengths.back();
  return j;
}

}  // namespace

// --- Config -------------------------------------------------------------------------------------

void check_rejection_config(const RejectionConfig& c) {
  auto non_negative = [](const char* name, int64_t v) {
    check(v >= 0, config_flag_name(name) + " " + std::to_string(v) + ": must not be negative");
  };
  auto share = [](const char* name, double v) {
    check(v >= 0 && v <= 1,
          config_flag_name(name) + " " + std::to_string(v) + ": must be between 0 and 1");
  };
  non_negative("max_tokens", c.max_tokens);
  non_negative("max_chars", c.max_chars);
  non_negative("repetition_max_period", c.repetition_max_period);
  non_negative("repetition_min_words", c.repetition_min_words);
  non_negative("repetition_ngram", c.repetition_ngram);
  non_negative("repetition_min_ngrams", c.repetition_min_ngrams);
  non_negative("max_per_prompt", c.max_per_prompt);
  if (c.repetition_max_period > 0)
    check(c.repetition_min_repeats >= 2,
          "--repetition-min-repeats " + std::to_string(c.repetition_min_repeats) +
              ": must be at least 2 (or turn the loop rule off with --repetition-max-period 0)");
  share("repetition_min_distinct", c.repetition_min_distinct);
  share("language_min_share", c.language_min_share);
  if (!c.language.empty()) {
    const auto& names = language_names();
    std::string known;
    for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
    check(std::find(names.begin(), names.end(), c.language) != names.end(),
          "--language " + c.language + ": unknown language (known: " + known +
              "; or \"\" for the prompt's)");
  }
}

nlohmann::json rejection_config_json(const RejectionConfig& c) {
  nlohmann::json j = nlohmann::json::object();
  RejectionConfig copy = c;
  visit_rejection_config(
      copy, [&](const char* name, const auto& field, const char*, FieldRole) { j[name] = field; });
  return j;
}

RejectionConfig rejection_config_from_json(const nlohmann::json& j, const std::string& where) {
  check(j.is_object(), where + ": the rejection config must be a JSON object");
  RejectionConfig c;
  std::set<std::string> known;
  visit_rejection_config(c, [&](const char* name, auto& field, const char*, FieldRole) {
    known.insert(name);
    if (j.contains(name)) field_from_json(field, j.at(name), where, name);
  });
  for (const auto& [key, value] : j.items()) {
    std::string names;
    for (const auto& n : known) names += (names.empty() ? "" : ", ") + n;
    check(known.count(key), where + ": field " + key + " is unknown (known: " + names + ")");
  }
  check_rejection_config(c);
  return c;
}

const std::vector<std::string>& rejection_reasons() { return kReasons; }

// --- Text rules ---------------------------------------------------------------------------------

std::string sft_response(const SampleRecord& s, bool no_think) {
  if (no_think) return s.response;
  const std::string reasoning = trim_space(s.reasoning);
  if (!reasoning.empty())
    return reasoning + "\n" + std::string(kClose) + "\n\n" + trim_space(s.response);
  size_t i = 0;
  while (i < s.response.size() && is_ascii_space(s.response[i])) ++i;
  if (s.response.compare(i, kOpen.size(), kOpen) != 0) return s.response;
  i += kOpen.size();
  if (i < s.response.size() && s.response[i] == '\n') ++i;
  return s.response.substr(i);
}

std::string normalize_trace(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  bool space = false;
  for (char c : text) {
    if (is_ascii_space(c)) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string find_repetition(const std::string& text, const RejectionConfig& c) {
  // The words, as ids (equal words, equal ids).
  std::vector<std::string_view> words;
  const std::string_view t = text;
  for (size_t i = 0; i < t.size();) {
    while (i < t.size() && is_ascii_space(t[i])) ++i;
    const size_t b = i;
    while (i < t.size() && !is_ascii_space(t[i])) ++i;
    if (i > b) words.push_back(t.substr(b, i - b));
  }
  const int64_t n = static_cast<int64_t>(words.size());
  std::vector<int32_t> w(words.size());
  {
    std::unordered_map<std::string_view, int32_t> ids;
    for (size_t i = 0; i < words.size(); ++i)
      w[i] = ids.emplace(words[i], static_cast<int32_t>(ids.size())).first->second;
  }

  // Loop rule: for each period p, `run` counts consecutive positions with w[i] == w[i - p]; the
  // words [i - run - p + 1, i] are then a p-word unit repeated (run + p) / p times.
  const int64_t max_p = std::min(c.repetition_max_period, n / 2);
  for (int64_t p = 1; p <= max_p; ++p) {
    int64_t run = 0;
    for (int64_t i = p; i < n; ++i) {
      run = w[i] == w[i - p] ? run + 1 : 0;
      const int64_t span = run + p;
      if (span >= p * c.repetition_min_repeats && span >= c.repetition_min_words) {
        // Extend to the loop's end for the message.
        int64_t end = i + 1;
        while (end < n && w[end] == w[end - p]) ++end;
        const int64_t start = i - span + 1;
        std::string unit;
        for (int64_t k = start; k < start + p; ++k)
          unit += (unit.empty() ? "" : " ") + std::string(words[k]);
        return "a " + std::to_string(p) + "-word unit repeated " +
               std::to_string((end - start) / p) + " times back to back from word " +
               std::to_string(start) + ": \"" + excerpt(unit) + "\"";
      }
    }
  }

  // Diversity rule, over hashed n-grams (a rolling sum of mixed ids; collisions are negligible at
  // 64 bits and could only raise the count of repeats by a hair).
  const int64_t ng = c.repetition_ngram;
  const int64_t total = n - ng + 1;
  if (ng > 0 && total >= std::max<int64_t>(c.repetition_min_ngrams, 1)) {
    constexpr uint64_t kBase = 0x100000001B3ull;
    uint64_t top = 1;  // kBase^(ng-1)
    for (int64_t k = 1; k < ng; ++k) top *= kBase;
    std::unordered_set<uint64_t> seen;
    seen.reserve(static_cast<size_t>(total));
    uint64_t h = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (i >= ng) h -= mix64(static_cast<uint64_t>(w[i - ng]) + 1) * top;
      h = h * kBase + mix64(static_cast<uint64_t>(w[i]) + 1);
      if (i >= ng - 1) seen.insert(h);
    }
    const double distinct = static_cast<double>(seen.size()) / static_cast<double>(total);
    if (distinct < c.repetition_min_distinct)
      return "only " + percent(distinct) + " of its " + std::to_string(total) + " " +
             std::to_string(ng) + "-word n-grams are distinct (min " +
             percent(c.repetition_min_distinct) + ")";
  }
  return "";
}

// --- Filtering ----------------------------------------------------------------------------------

namespace {

using Verdict = std::pair<std::string, std::string>;  // the rule that drops a trace and why

std::string trace_name(const SampleRecord& s) {
  return "sample " + std::to_string(s.sample_index) + " of problem " + s.problem_id + " (" +
         s.benchmark + ")";
}

// The traces by (problem, sample), each with a prompt, none given twice; `benchmark_of` maps each
// problem to its one benchmark.
std::vector<const SampleRecord*> sorted_traces(const std::vector<SampleRecord>& traces,
                                               const std::map<std::string, std::string>& prompts,
                                               std::map<std::string, std::string>& benchmark_of) {
  std::vector<const SampleRecord*> order;
  order.reserve(traces.size());
  for (const auto& s : traces) {
    check(prompts.count(s.problem_id), trace_name(s) + ": no prompt for problem " + s.problem_id +
                                           " (give the problems the traces were sampled from)");
    const auto [it, fresh] = benchmark_of.emplace(s.problem_id, s.benchmark);
    check(fresh || it->second == s.benchmark,
          "problem id " + s.problem_id + " appears under benchmarks " + it->second + " and " +
              s.benchmark + ": filter one benchmark at a time, or give problems unique ids");
    order.push_back(&s);
  }
  std::sort(order.begin(), order.end(), [](const SampleRecord* a, const SampleRecord* b) {
    return std::tie(a->problem_id, a->sample_index) < std::tie(b->problem_id, b->sample_index);
  });
  for (size_t k = 1; k < order.size(); ++k)
    check(order[k]->problem_id != order[k - 1]->problem_id ||
              order[k]->sample_index != order[k - 1]->sample_index,
          trace_name(*order[k]) + " is given twice");
  return order;
}

// mixed_language: too small a share of the reasoning's words in the target language.
std::optional<Verdict> language_verdict(const std::string& response, const std::string& target,
                                        const RejectionConfig& config) {
  const std::string reasoning = response.substr(0, response.find(kClose));
  const auto counts = count_words(reasoning);
  int64_t words = 0;
  for (const auto& [script, k] : counts) words += k;
  const double share = words > 0 ? language_share(reasoning, target) : 1.0;
  if (share >= config.language_min_share) return std::nullopt;
  std::string scripts;
  for (const auto& [script, k] : counts)
    scripts += (scripts.empty() ? "" : ", ") + script + " " + std::to_string(k);
  return Verdict{"mixed_language",
                 percent(share) + " of " + std::to_string(words) + " reasoning words in " +
                     (target.empty() ? "its dominant language" : target) + " (min " +
                     percent(config.language_min_share) + "; " + scripts + ")"};
}

// The first failing rule of a trace on its own, in rejection_reasons() order up to repetition and
// language (duplicate and over_cap depend on the traces kept before it).
std::optional<Verdict> trace_verdict(const SampleRecord& s, const std::string& response,
                                     int64_t chars, const std::string& target,
                                     const RejectionConfig& config, Reward& format) {
  if (config.require_correct) {
    if (s.reason == "pending" || code_outcome(s.reason) == "SE")
      return Verdict{"ungraded", "grader reason \"" + excerpt(s.reason) + "\""};
    if (!s.correct) return Verdict{"incorrect", "grader reason \"" + excerpt(s.reason) + "\""};
  }
  if (!config.no_think && response.find(kClose) == std::string::npos)
    return Verdict{"no_think_close", "no </think> in " + std::to_string(chars) + " characters"};
  RewardInput in;
  in.completion = response;
  in.think_opened = true;
  in.finish_reason = "stop";  // truncation is its own reason
  if (!config.no_think && format.compute(in) == 0) {
    const size_t close = response.find(kClose);
    return Verdict{
        "bad_format",
        std::to_string(count_of(response, kOpen)) + " <think> and " +
            std::to_string(count_of(response, kClose)) + " </think> after the prompt's; " +
            std::to_string(count_code_points(trim_space(response.substr(0, close)))) +
            " characters of reasoning, " +
            std::to_string(count_code_points(trim_space(response.substr(close + kClose.size())))) +
            " of answer"};
  }
  if (s.finish_reason == "length") return Verdict{"truncated", "finish_reason \"length\""};
  if (config.max_tokens > 0 && s.completion_tokens > config.max_tokens)
    return Verdict{"too_long", std::to_string(s.completion_tokens) + " completion tokens (max " +
                                   std::to_string(config.max_tokens) + ")"};
  if (config.max_chars > 0 && chars > config.max_chars)
    return Verdict{"too_long", std::to_string(chars) + " characters (max " +
                                   std::to_string(config.max_chars) + ")"};
  if (std::string why = find_repetition(response, config); !why.empty())
    return Verdict{"repetition", why};
  if (config.language_min_share > 0) return language_verdict(response, target, config);
  return std::nullopt;
}

// What filtering counted, for the card.
struct Tally {
  std::map<std::string, int64_t> dropped, incorrect_by;
  std::map<std::string, int64_t> kept_per_problem;  // problems with traces, kept count
  std::map<std::string, std::string> benchmark_of;  // problem id -> its benchmark
};

nlohmann::json rejection_card(size_t traces, size_t prompts, const RejectionResult& result,
                              const Tally& t, const RejectionConfig& config) {
  nlohmann::json card;
  card["traces"] = traces;
  card["kept"] = result.kept.size();
  nlohmann::json drops = nlohmann::json::object();
  for (const auto& r : kReasons) drops[r] = t.dropped.at(r);  // nlohmann sorts keys; the order
  card["dropped"] = drops;                                    // is in "reasons"
  card["reasons"] = kReasons;
  card["incorrect_by"] = t.incorrect_by;
  int64_t with_kept = 0, most = 0;
  for (const auto& [id, k] : t.kept_per_problem) {
    with_kept += k > 0;
    most = std::max(most, k);
  }
  std::vector<int64_t> per_prompt(static_cast<size_t>(most) + 1, 0);
  for (const auto& [id, k] : t.kept_per_problem) ++per_prompt[static_cast<size_t>(k)];
  card["prompts"] = {{"given", prompts},
                     {"with_traces", t.kept_per_problem.size()},
                     {"with_kept", with_kept},
                     {"kept_per_prompt", per_prompt}};
  bool tokens = !result.kept.empty();
  for (const auto& k : result.kept) tokens = tokens && k.tokens >= 0;
  std::vector<int64_t> lengths;
  for (const auto& k : result.kept) lengths.push_back(tokens ? k.tokens : k.chars);
  card["length"] = length_stats(std::move(lengths), tokens ? "tokens" : "chars");
  std::set<std::string> benchmarks;
  for (const auto& [id, b] : t.benchmark_of) benchmarks.insert(b);
  card["benchmarks"] = benchmarks;
  card["config"] = rejection_config_json(config);
  return card;
}

}  // namespace

RejectionResult reject_traces(const std::vector<SampleRecord>& traces,
                              const std::map<std::string, std::string>& prompts,
                              const RejectionConfig& config) {
  check_rejection_config(config);
  Tally tally;
  const std::vector<const SampleRecord*> order = sorted_traces(traces, prompts, tally.benchmark_of);
  const std::unique_ptr<Reward> format = make_reward_format();
  RejectionResult result;
  for (const auto& r : kReasons) tally.dropped[r] = 0;
  std::string group;           // the problem of the traces in `seen`
  std::set<std::string> seen;  // normalized responses kept for `group`
  std::string target;          // the group's target language
  for (const SampleRecord* sp : order) {
    const SampleRecord& s = *sp;
    const std::string& prompt = prompts.at(s.problem_id);
    if (s.problem_id != group || tally.kept_per_problem.empty()) {
      group = s.problem_id;
      seen.clear();
      target = config.language.empty() ? detect_language(prompt) : config.language;
    }
    int64_t& kept_here = tally.kept_per_problem[s.problem_id];
    const std::string response = sft_response(s, config.no_think);
    const int64_t chars = count_code_points(response);
    std::string normalized;
    Verdict v = trace_verdict(s, response, chars, target, config, *format).value_or(Verdict{});
    if (v.first.empty()) {
      normalized = normalize_trace(response);
      if (seen.count(normalized))
        v = {"duplicate", "same text as a trace kept before"};
      else if (config.max_per_prompt > 0 && kept_here >= config.max_per_prompt)
        v = {"over_cap", std::to_string(kept_here) + " traces kept for this prompt already"};
    }
    auto& [reason, detail] = v;
    if (reason.empty()) {
      seen.insert(std::move(normalized));
      ++kept_here;
      result.kept.push_back({s.benchmark, s.problem_id, s.sample_index, prompt, response,
                             s.completion_tokens, chars});
    } else {
      ++tally.dropped[reason];
      if (reason == "incorrect") ++tally.incorrect_by[s.reason.substr(0, s.reason.find(':'))];
    }
    result.verdicts.push_back(
        {s.benchmark, s.problem_id, s.sample_index, std::move(reason), std::move(detail)});
  }
  result.card = rejection_card(traces.size(), prompts.size(), result, tally, config);
  return result;
}

std::vector<SampleRecord> read_traces(const std::string& path) {
  std::vector<SampleRecord> out;
  for_each_jsonl_row(path, [&](const nlohmann::json& j, const std::string& where, int64_t) {
    out.push_back(sample_from_json(j, where));
  });
  return out;
}

// --- Output -------------------------------------------------------------------------------------

std::string rejection_card_markdown(const nlohmann::json& card) {
  const auto& c = card;
  std::string md = "# Rejection sampling: dataset card\n\n";
  const int64_t traces = c["traces"].get<int64_t>();
  const int64_t kept = c["kept"].get<int64_t>();
  auto share = [&](int64_t n) {
    return traces > 0 ? " (" + percent(static_cast<double>(n) / static_cast<double>(traces)) + ")"
                      : std::string();
  };
  md += "Kept **" + std::to_string(kept) + "** of " + std::to_string(traces) + " traces" +
        share(kept) + ", for " + c["prompts"]["with_kept"].dump() + " of " +
        c["prompts"]["with_traces"].dump() + " prompts with traces (" +
        c["prompts"]["given"].dump() + " prompts given).\n\n";
  md += "## Dropped, by the first reason that applied\n\n| reason | traces |\n|---|---:|\n";
  for (const auto& r : c["reasons"]) {
    const int64_t n = c["dropped"][r.get<std::string>()].get<int64_t>();
    md += "| " + r.get<std::string>() + " | " + std::to_string(n) + share(n) + " |\n";
  }
  md += "| **kept** | " + std::to_string(kept) + share(kept) + " |\n\n";
  if (!c["incorrect_by"].empty()) {
    md += "Incorrect, by grader reason: ";
    bool first = true;
    for (const auto& [reason, n] : c["incorrect_by"].items()) {
      md +=
          (first ? "" : ", ") + (reason.empty() ? std::string("(none)") : reason) + " " + n.dump();
      first = false;
    }
    md += ".\n\n";
  }
  md += "## Kept traces per prompt\n\n| kept | prompts |\n|---:|---:|\n";
  const auto& per_prompt = c["prompts"]["kept_per_prompt"];
  for (size_t k = 0; k < per_prompt.size(); ++k)
    md += "| " + std::to_string(k) + " | " + per_prompt[k].dump() + " |\n";
  const auto& len = c["length"];
  const std::string unit = len["unit"].get<std::string>();
  md += "\n## Length of kept traces (" + unit + ")\n\n";
  if (!len["max"].is_null()) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "min %lld, median %lld, mean %.0f, max %lld\n\n",
                  static_cast<long long>(len["min"].get<int64_t>()),
                  static_cast<long long>(len["median"].get<int64_t>()), len["mean"].get<double>(),
                  static_cast<long long>(len["max"].get<int64_t>()));
    md += buf;
  }
  md += "| " + unit + " | traces |\n|---|---:|\n";
  for (const auto& b : len["buckets"])
    md += "| " + b["from"].dump() +
          (b["to"].is_null() ? "+" : " - " + std::to_string(b["to"].get<int64_t>() - 1)) + " | " +
          b["count"].dump() + " |\n";
  md += "\n## Config\n\n```json\n" + c["config"].dump(2) + "\n```\n";
  return md;
}

void write_rejection(const RejectionResult& result, const std::string& dir) {
  std::filesystem::create_directories(dir);
  const std::string open = result.card.at("config").at("no_think").get<bool>() ? "" : "<think>\n";
  std::string sft;
  for (const auto& k : result.kept)
    sft += dump_json({{"prompt", k.prompt},
                      {"response", open + k.response},
                      {"benchmark", k.benchmark},
                      {"problem_id", k.problem_id},
                      {"sample_index", k.sample_index}}) +
           "\n";
  std::string dropped;
  for (const auto& v : result.verdicts)
    if (!v.reason.empty())
      dropped += dump_json({{"benchmark", v.benchmark},
                            {"problem_id", v.problem_id},
                            {"sample_index", v.sample_index},
                            {"reason", v.reason},
                            {"detail", v.detail}}) +
                 "\n";
  nlohmann::json card = result.card;
  card["files"] = {{"sft", "sft.jsonl"}, {"dropped", "dropped.jsonl"}};
  write_file_atomic(dir + "/sft.jsonl", sft);
  write_file_atomic(dir + "/dropped.jsonl", dropped);
  write_file_atomic(dir + "/card.json", dump_json(card, 2) + "\n");
  write_file_atomic(dir + "/card.md", rejection_card_markdown(card));
}

}  // namespace r1
