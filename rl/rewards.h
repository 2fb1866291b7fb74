// Rule-based rewards for GRPO as plug-ins (accuracy through the math grader or the sandbox's code
// grader, format, boxed, language consistency, length) and a weighted set that scores a batch,
// keeps each reward's values apart for logging and turns a reward's failure into a counted error,
// not a crash. Leaves out learned reward models, advantages (grpo), and partial credit for code.
#pragma once

#include <nlohmann/json.hpp>  // nlohmann::json

#include <cstdint>     // int64_t
#include <functional>  // std::function
#include <map>         // std::map
#include <memory>      // std::unique_ptr, std::shared_ptr
#include <string>      // std::string
#include <vector>      // std::vector

#include "evals/code_benchmarks.h"  // r1::CodeTask
#include "evals/code_grader.h"      // r1::CodeGradeOptions
#include "rl/language.h"            // r1::count_words, r1::detect_language, r1::language_share
#include "sandbox/sandbox.h"        // r1::sandbox::Sandbox

namespace r1 {

// One sampled completion to score.
struct RewardInput {
  // The user's question (the problem text, not the chat-templated prompt): `language` takes its
  // target language from the words of this text.
  std::string prompt;
  // The model's response. With the R1 template the prompt ends in "<think>\n" and the response
  // starts inside the reasoning: then set think_opened.
  std::string completion;
  // The prompt already opened the reasoning ("<think>" is the prompt's, not the completion's):
  // the completion is read as if "<think>" stood in front of it.
  bool think_opened = true;
  std::string gold;                      // math: the gold answer; empty for code
  std::shared_ptr<const CodeTask> code;  // code: the problem and its tests; null for math
  std::string finish_reason = "stop";    // "length": cut at the token limit (no answer)
  int64_t completion_tokens = -1;        // tokens generated; -1: unknown (`length` needs it)
  std::string language;  // `language`'s target ("latin", "zh", ...; see language_names()); "":
                         // the prompt's dominant language
};

// A reward: one score per sample. Implementations need not be thread-safe (RewardSet calls them
// from one thread).
class Reward {
 public:
  virtual ~Reward() = default;
  virtual std::string name() const = 0;
  // The score of one sample; throws (r1::Error, saying why) when it cannot score it.
  virtual double compute(const RewardInput& in) = 0;
  // The scores of a batch in input order; rewards with a costly shared step (the sandbox)
  // override it. A sample it cannot score may be NaN: RewardSet retries that sample with
  // compute(), which scores it or throws why. The default calls compute() per sample, a sample
  // that throws being NaN. If compute_batch throws, RewardSet retries every sample.
  virtual std::vector<double> compute_batch(const std::vector<RewardInput>& batch);
};

// --- Options, one struct per reward, gathered in RewardConfig ---------------------------------

struct AccuracyOptions {
  std::string extract = "boxed";  // math: extraction preset (extract.h)
  int float_places = 6;           // math: decimals a decimal answer must match (math_answer.h)
  CodeGradeOptions code;          // code: limits, judge workers, and code.sandbox for the
                                  // Sandbox made on first use (require_think is set per sample)
  sandbox::Sandbox* sandbox = nullptr;  // code: a Sandbox to borrow (outlives the reward);
                                        // null: the reward makes its own from code.sandbox
};

struct LengthOptions {
  // "overlong" (DAPO's soft overlong punishment) or "target" (L1-style distance to a budget).
  std::string mode = "overlong";
  int64_t max_tokens = 4096;     // overlong: L_max, the generation limit
  int64_t buffer_tokens = 512;   // overlong: L_cache, the zone below L_max where the penalty ramps
  int64_t target_tokens = 1024;  // target: T, the length aimed for
};

struct RewardConfig {
  AccuracyOptions accuracy;
  LengthOptions length;
};

// --- The built-in rewards ---------------------------------------------------------------------

// accuracy: 1 when the answer is right, else 0. Math (gold set): grade_response on the
// completion (think_opened: an unclosed reasoning has no answer), as r1eval grades. Code (code
// set): grade_code_samples, the whole batch on one sandbox; 1 iff every test passes. Not scored
// (compute throws why): a sandbox error (SE, retried once alone first), a sample with neither gold
// nor code.
std::unique_ptr<Reward> make_reward_accuracy(const AccuracyOptions& options = {});

// format: 1 iff the text T = ("<think>" if think_opened) + completion
//   - was not cut at the length limit (finish_reason != "length"),
//   - starts, after whitespace, with "<think>",
//   - holds "<think>" exactly once and "</think>" exactly once (so no nesting, no second block),
//   - has non-blank reasoning between them and a non-blank answer after "</think>";
// else 0. Blank: only Unicode separators (Z*), controls (Cc), format characters (Cf: zero-width
// spaces, joiners, BOM) and the letters that render as nothing (U+115F, U+1160, U+3164, U+FFA0,
// U+2800).
std::unique_ptr<Reward> make_reward_format();

// boxed: 1 iff the response was not cut at the length limit and its answer region (extract.h's
// answer_region, as accuracy reads it: after the last "</think>"; none while a think is unclosed;
// all of it without tags and think_opened false) holds a \boxed{} with non-blank content
// (last_boxed), else 0. R1's format reward for
// models that answer without a think block: it pays for the box the boxed accuracy rule reads.
std::unique_ptr<Reward> make_reward_boxed();

// language: the share of the reasoning's words in the target language (R1's language-consistency
// reward), in [0, 1]; 0 when the reasoning has no words. The target is RewardInput::language, else
// detect_language(prompt); with no target (a prompt without words) the share of the reasoning's own
// dominant language. Words: see count_words().
std::unique_ptr<Reward> make_reward_language();

// length, with L = completion_tokens (L < 0 throws), in [-1, 0]:
//   overlong: 0 if L <= L_max - L_cache; (L_max - L_cache - L) / L_cache if L_max - L_cache < L
//             <= L_max; -1 if L > L_max or finish_reason == "length".
//   target:   -min(1, |L - T| / T).
// Throws r1::Error naming the field for bad options.
std::unique_ptr<Reward> make_reward_length(const LengthOptions& options = {});

// --- Text helpers the rewards share (also for rejection sampling) -----------------------------

// The reasoning of a completion: after the opening "<think>" (the prompt's when think_opened, else
// the first in the completion) up to the next "</think>" or the end. A completion with no
// "<think>" and think_opened false has no tags: all of it is the reasoning.
std::string reasoning_text(const RewardInput& in);

// --- Registry and weighted sets ---------------------------------------------------------------

using RewardFactory = std::function<std::unique_ptr<Reward>(const RewardConfig&)>;

// Named reward factories. Plug-ins are added explicitly (register_builtin_rewards, or add()).
class RewardRegistry {
 public:
  // Throws r1::Error when `name` is already registered or empty.
  void add(const std::string& name, RewardFactory factory);
  // Throws r1::Error "unknown reward 'NAME' (known: ...)".
  std::unique_ptr<Reward> make(const std::string& name, const RewardConfig& config) const;
  std::vector<std::string> names() const;  // sorted

 private:
  std::map<std::string, RewardFactory> factories_;
};

// Adds accuracy, boxed, format, language, length.
void register_builtin_rewards(RewardRegistry& registry);
// A built-in reward by name (see RewardRegistry::make).
std::unique_ptr<Reward> make_reward(const std::string& name, const RewardConfig& config = {});

struct RewardWeight {
  std::string name;
  double weight = 1.0;
};
// Parses "accuracy:1.0,format:0.5" (a name alone weighs 1; spaces around items are ignored; any
// finite weight, 0 to log a reward without training on it). Throws r1::Error naming the item for an
// empty item or name, a weight that is not a finite number, or a name given twice. Names are
// checked against a registry when the set is made.
std::vector<RewardWeight> parse_reward_spec(const std::string& spec);

// The scores of one batch.
struct RewardScores {
  std::vector<double> total;                // per sample: sum_i weight_i * values[i][sample]
  std::vector<std::string> names;           // per reward, in the set's order
  std::vector<double> weights;              // per reward
  std::vector<std::vector<double>> values;  // [reward][sample]; a sample not scored has 0
  std::vector<int64_t> errors;              // per reward: samples not scored (threw or NaN/inf)
  std::vector<std::string> first_error;     // per reward: the first error's message, or ""

  double mean(size_t reward) const;  // over all samples (errors as 0); 0 for an empty batch
  double mean_total() const;
  // {"reward": mean_total, "reward/NAME": mean, "reward/NAME/errors": errors, ...}: one step's
  // line of the training log.
  nlohmann::json log_fields() const;
};

// Weighted rewards scored together.
class RewardSet {
 public:
  RewardSet() = default;
  // From a spec (parse_reward_spec) with the rewards of `registry`.
  RewardSet(const std::string& spec, const RewardConfig& config, const RewardRegistry& registry);
  // With the built-in rewards.
  RewardSet(const std::string& spec, const RewardConfig& config);

  // Throws r1::Error for a non-finite weight or a name already in the set.
  void add(std::unique_ptr<Reward> reward, double weight);
  size_t size() const { return rewards_.size(); }
  std::vector<std::string> names() const;

  // Scores every sample with every reward. Never throws for a reward's failure: a reward whose
  // batch call throws is retried sample by sample; a sample whose call throws, or whose value is
  // NaN or infinite, gets 0 and counts in errors (with the message in first_error).
  RewardScores compute(const std::vector<RewardInput>& batch);

 private:
  std::vector<std::unique_ptr<Reward>> rewards_;
  std::vector<double> weights_;
};

}  // namespace r1
