// Stage 2 of distillation, rejection sampling: teacher traces (r1eval's sample records, graded
// before they were stored) pass named filters in a fixed order, are de-duplicated and capped per
// prompt; the kept ones become SFT rows ({"prompt", "response"}, as `r1train sft` reads them),
// written with a dataset card (counts per drop reason, a length histogram, the config).
// Leaves out grading and judging (r1eval's; the store's `correct` is trusted), generation, the CLI.
#pragma once

#include <nlohmann/json.hpp>  // nlohmann::json

#include <cstdint>  // int64_t
#include <map>      // std::map
#include <string>   // std::string
#include <vector>   // std::vector

#include "evals/sample_store.h"  // r1::SampleRecord
#include "rl/sft.h"              // r1::FieldRole

namespace r1 {

// The filters' settings. A limit of 0 turns its rule off. JSON (card.json's "config"), flags (by
// add_config_flags) and the checks derive from visit_rejection_config.
struct RejectionConfig {
  // Traces answer without a think block (the prompt did not open "<think>"): the think rules
  // (no_think_close, bad_format) are off, the SFT response is the reply as stored, and the
  // reasoning of the language rule is the whole reply. For chat models that do not write R1's
  // format.
  bool no_think = false;
  // Keep only traces the store marks correct; drop those still ungraded ("pending" code samples,
  // "SE" sandbox failures). false: keep wrong answers too (format-only distillation).
  bool require_correct = true;
  int64_t max_tokens = 16384;  // too_long: completion tokens above this (when the store has them)
  int64_t max_chars = 65536;   // too_long: characters (code points) of the SFT response above this
  // repetition, loop rule: a unit of 1..max_period whitespace-separated words repeated back to
  // back at least min_repeats times over at least min_words words.
  int64_t repetition_max_period = 64;
  int64_t repetition_min_repeats = 8;
  int64_t repetition_min_words = 32;
  // repetition, diversity rule: fewer than min_distinct of the trace's word n-grams distinct,
  // checked only on traces with at least min_ngrams n-grams.
  int64_t repetition_ngram = 10;
  double repetition_min_distinct = 0.5;
  int64_t repetition_min_ngrams = 200;
  // mixed_language: the target language of the reasoning (a name of language_names(): "latin",
  // "zh", ...); "": the prompt's (detect_language), or the reasoning's own when the prompt has
  // none.
  std::string language;
  double language_min_share = 0.95;  // drop below this share of reasoning words in the target
  int64_t max_per_prompt = 4;        // over_cap: kept traces per prompt, lowest sample_index first
};

// Calls f(name, field, help, role) for each field (snake_case names; flags add dashes). Every field
// is FieldRole::kRun: it decides which traces are kept.
template <typename Config, typename F>
void visit_rejection_config(Config& c, F&& f) {
  using R = FieldRole;
  f("no_think", c.no_think,
    "traces answer without a <think> block: no think rules, SFT rows as the teacher wrote them",
    R::kRun);
  f("require_correct", c.require_correct,
    "keep only traces graded correct (drop ungraded and wrong ones)", R::kRun);
  f("max_tokens", c.max_tokens, "drop traces with more completion tokens (0 = no limit)", R::kRun);
  f("max_chars", c.max_chars,
    "drop traces with a longer SFT response, in characters (0 = no limit)", R::kRun);
  f("repetition_max_period", c.repetition_max_period,
    "longest repeated unit, in words, the loop rule looks for (0 = rule off)", R::kRun);
  f("repetition_min_repeats", c.repetition_min_repeats,
    "back-to-back repeats of a unit that make a loop", R::kRun);
  f("repetition_min_words", c.repetition_min_words, "words a loop must cover", R::kRun);
  f("repetition_ngram", c.repetition_ngram,
    "n of the word n-grams of the diversity rule (0 = rule off)", R::kRun);
  f("repetition_min_distinct", c.repetition_min_distinct,
    "drop below this share of distinct n-grams", R::kRun);
  f("repetition_min_ngrams", c.repetition_min_ngrams,
    "n-grams a trace needs before the diversity rule applies", R::kRun);
  f("language", c.language, "target language of the reasoning (\"\" = the prompt's)", R::kRun);
  f("language_min_share", c.language_min_share,
    "drop below this share of reasoning words in the target language (0 = rule off)", R::kRun);
  f("max_per_prompt", c.max_per_prompt, "kept traces per prompt (0 = no cap)", R::kRun);
}

// Throws r1::Error naming the field's flag for a value out of range or an unknown language.
void check_rejection_config(const RejectionConfig& c);
nlohmann::json rejection_config_json(const RejectionConfig& c);
// Fields missing from `j` keep their defaults; an unknown field or a wrong type throws r1::Error
// "WHERE: field NAME ...". The result is checked (check_rejection_config).
RejectionConfig rejection_config_from_json(const nlohmann::json& j, const std::string& where);

// The drop reasons in the order they are tried; a trace gets the first that applies:
//   ungraded        (require_correct) reason "pending" (code not judged yet) or "SE..." (sandbox
//                   failure): correctness unknown
//   incorrect       (require_correct) `correct` is false
//   no_think_close  the SFT response holds no "</think>" (reasoning never closed); a trace whose
//                   reasoning came apart (SampleRecord::reasoning) is closed by construction
//                   (off with no_think)
//   bad_format      closed, but not the R1 format: the format reward (rl/rewards.h) scores
//                   "<think>" + response 0 (a second <think> or </think>, blank reasoning or
//                   answer) (off with no_think)
//   truncated       finish_reason "length"
//   too_long        completion_tokens > max_tokens, or the response's characters > max_chars
//   repetition      find_repetition reports a loop or low diversity
//   mixed_language  reasoning words with a share in the target language < language_min_share
//                   (language_share of rl/rewards.h; a reasoning without words passes)
//   duplicate       normalize_trace(response) equals that of a trace kept for the same prompt
//   over_cap        the prompt has max_per_prompt kept traces already
const std::vector<std::string>& rejection_reasons();

// The SFT response of a trace: the text after the prompt's forced "<think>\n", i.e.
// "REASONING</think>ANSWER". With reasoning returned apart (an API's reasoning_content):
// trim(reasoning) + "\n</think>\n\n" + trim(response), the R1 layout. Else the response as stored,
// less a leading "<think>" (and one newline after it) the model wrote itself. With no_think: the
// response as stored (a reasoning returned apart is not part of it).
std::string sft_response(const SampleRecord& s, bool no_think = false);
// Whitespace runs as one space, ends trimmed: the key duplicates are compared by.
std::string normalize_trace(const std::string& text);
// Why `text` is a repetition loop under `c`'s two rules (words are split at ASCII whitespace), or
// "" when it is not. Loop rule: the smallest unit of p <= repetition_max_period words repeated back
// to back r >= repetition_min_repeats times over p * r >= repetition_min_words words, anywhere.
// Diversity rule: with N >= repetition_min_ngrams word n-grams (n = repetition_ngram), distinct / N
// < repetition_min_distinct. Cost O(words * max_period). Unspaced scripts (Chinese, Japanese) make
// a sentence one "word": verbatim loops are still found, the diversity rule is coarser there.
std::string find_repetition(const std::string& text, const RejectionConfig& c);

// One trace's outcome.
struct TraceVerdict {
  std::string benchmark;
  std::string problem_id;
  int64_t sample_index = 0;
  std::string reason;  // a name of rejection_reasons(); "" when kept
  std::string detail;  // why, with the numbers ("41% of 120 reasoning words in latin, min 95%")
};

// One kept trace as an SFT row.
struct SftTrace {
  std::string benchmark;
  std::string problem_id;
  int64_t sample_index = 0;
  std::string prompt;    // the user turn: the problem text
  std::string response;  // sft_response()
  int64_t tokens = -1;   // the store's completion_tokens (-1: unknown)
  int64_t chars = 0;     // code points of response
};

struct RejectionResult {
  std::vector<SftTrace> kept;          // by (problem_id, sample_index)
  std::vector<TraceVerdict> verdicts;  // every trace, by (problem_id, sample_index)
  // The dataset card: "traces", "kept", "dropped" {reason: count, every reason}, "incorrect_by"
  // {grader reason up to its first ':': count}, "reasons" (the order of rejection_reasons()),
  // "prompts" {"given", "with_traces", "with_kept", "kept_per_prompt" [prompts with 0 kept, with
  // 1, ...]}, "length" {"unit" ("tokens" when every kept
  // trace has them, else "chars"), "buckets" [{"from", "to" (null: open), "count"}], "min",
  // "mean", "median", "max"}, "benchmarks", "config". kept + the dropped counts = traces.
  nlohmann::json card;
};

// Filters `traces`. `prompts` maps problem_id -> the question text (the user turn of the SFT row,
// and where the target language comes from). Traces are taken in (problem_id, sample_index) order,
// whatever their input order, so the result is deterministic. Throws r1::Error for a trace whose
// problem has no prompt, a problem id met under two benchmarks, a (problem id, sample index) met
// twice, or a bad config.
RejectionResult reject_traces(const std::vector<SampleRecord>& traces,
                              const std::map<std::string, std::string>& prompts,
                              const RejectionConfig& config = {});

// The traces of a sample store file (RUN/samples.jsonl), read only (the store is not opened, so
// no lock and no repair). Errors name FILE:LINE and the field.
std::vector<SampleRecord> read_traces(const std::string& path);

// Writes into `dir` (created): sft.jsonl (one {"prompt", "response", "benchmark", "problem_id",
// "sample_index"} per kept trace; the response is "<think>\n" + SftTrace::response, the reply as
// the teacher gave it: the SFT loader drops the "<think>\n" again for a student whose chat
// template forces it, and keeps it for one whose template does not; with no_think, the response
// alone), dropped.jsonl ({"benchmark",
// "problem_id", "sample_index", "reason", "detail"} per dropped trace), card.json and card.md. Each
// file is written atomically.
void write_rejection(const RejectionResult& result, const std::string& dir);
// card.md's text.
std::string rejection_card_markdown(const nlohmann::json& card);

}  // namespace r1
