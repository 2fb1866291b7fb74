// The run of a trainer, shared by SFT, GRPO, KD and every later trainer: its run directory (the
// guard against someone else's folder, the resolved config file, partial checkpoints a killed
// write left), the checkpoint it resumes from (the same on every rank; the saved config, data and
// state format checked against this run's), restoring the optimiser, the data position and the RNG,
// the metrics log (cut back to the checkpoint on resume), the count of bad steps in a row and the
// eval/save cadence. A trainer keeps only its step: what it computes, and what its state adds.
// Rank 0 writes; every rank reads. Leaves out asynchronous checkpoint writes.
#pragma once

#include <c10/core/Device.h>      // c10::Device
#include <c10/core/ScalarType.h>  // at::ScalarType

#include <nlohmann/json.hpp>  // nlohmann::json

#include <cstdint>     // int64_t
#include <functional>  // std::function
#include <optional>    // std::optional
#include <string>      // std::string
#include <utility>     // std::pair

#include "rl/checkpoint.h"  // r1::CheckpointConfig, r1::MetricsLog

namespace r1 {

class AdamW;        // rl/optim.h
class Dist;         // rl/distributed.h
class SftSampler;   // rl/sft_data.h
class Transformer;  // toolkit/transformer.h

// What a trainer tells its run.
struct TrainerRunConfig {
  std::string kind;   // "sft", "grpo", "kd": OUT/<kind>_config.json, state format r1-<kind>-state
  std::string title;  // how errors name it: "an SFT", "a GRPO" (trainer state)
  std::string
      command;      // "r1train sft": the guard names it ("" = no guard: OUT is a run's subfolder)
  std::string out;  // the run directory
  std::string metrics;        // the metrics log ("" = OUT/metrics.jsonl)
  int64_t keep_last = 2;      // checkpoints kept (0 = all)
  int64_t max_bad_steps = 3;  // bad steps in a row that stop the run
  std::function<void(const std::string&)> before_checkpoint_write;  // see CheckpointConfig
  nlohmann::json config;  // the run's identity, saved in every checkpoint
  // Why a saved config differs from `config` ("--lr is 0.1 now but the run used 0.2"), nothing
  // where a resume may go on. Unset: any difference refuses the resume.
  std::function<std::optional<std::string>(const nlohmann::json& saved, const nlohmann::json& now)>
      difference;
  // The training data: a resume is refused when its sha256 changed (data_flag names it).
  std::string data_flag, data_path, data_sha256;
  const Dist* dist = nullptr;  // the job (null: one process)
};

// The run of a trainer config `c` that has the fields every trainer names alike (out, keep_last,
// max_bad_steps, before_checkpoint_write).
template <typename Config>
TrainerRunConfig trainer_run_config(const Config& c, std::string kind, std::string title,
                                    std::string command) {
  TrainerRunConfig r;
  r.kind = std::move(kind);
  r.title = std::move(title);
  r.command = std::move(command);
  r.out = c.out;
  r.keep_last = c.keep_last;
  r.max_bad_steps = c.max_bad_steps;
  r.before_checkpoint_write = c.before_checkpoint_write;
  return r;
}

// A trainer's model, optimiser and data position, as a checkpoint saves them.
struct TrainerState {
  Transformer* model = nullptr;
  std::string tokenizer_dir;  // the base model, whose tokenizer files a checkpoint copies
  const AdamW* opt = nullptr;
  const SftSampler* sampler = nullptr;
  nlohmann::json fields = nlohmann::json::object();  // the trainer's own (total_steps, loss, ...)
  nlohmann::json data = nlohmann::json::object();    // more of the data position (rows, drawn)
};

class TrainerRun {
 public:
  // Prepares OUT (rank 0) and finds the checkpoint to resume from. Throws r1::Error when OUT is
  // someone else's, when ranks see different checkpoints, or when the checkpoint is not this
  // trainer's, its config differs (config.difference) or its data changed.
  explicit TrainerRun(TrainerRunConfig config);

  bool resuming() const { return resume_.has_value(); }
  // The step resumed from (0 when fresh), its checkpoint directory and saved state.
  int64_t resumed_step() const { return resume_ ? resume_->first : 0; }
  const std::string& resumed_checkpoint() const;
  const nlohmann::json& resumed_state() const { return state_; }
  // A number the resumed checkpoint's state holds under `key` (the last loss, reward), else
  // `fallback` (also when fresh).
  double resumed_number(const std::string& key, double fallback) const;
  // A trainer's result as the run starts at `step`: resumed_from, steps, total_steps, checkpoint.
  template <typename Result>
  Result result_at(int64_t step, int64_t total_steps) const {
    Result r;
    r.total_steps = total_steps;
    r.resumed_from = r.steps = step;
    r.checkpoint = resumed_checkpoint();
    return r;
  }
  // Where the weights come from: the checkpoint when resuming, else `base`.
  std::string weights(const std::string& base) const { return resume_ ? resume_->second : base; }

  // Writes OUT/<kind>_config.json (rank 0): the config with what the run resolved added, and the
  // world size in a data-parallel job.
  void write_config(const nlohmann::json& resolved = nlohmann::json::object()) const;
  // Resuming: the optimiser's state, the data position, the bad-step count and torch's generators
  // from the checkpoint; fresh: torch::manual_seed(seed). Then opens the metrics log (rank 0),
  // dropping the lines past the checkpoint (every line, when fresh). Returns the step to go on
  // from.
  int64_t restore(AdamW& opt, SftSampler& sampler, uint64_t seed);

  // Appends a line to the metrics log (rank 0; the others write nothing).
  void log(const nlohmann::json& line);
  const std::string& metrics_path() const { return metrics_path_; }

  // A step that trained resets the bad-step count; a skipped one adds to it and says so on stderr
  // (rank 0): "grpo: step 7: non-finite loss (loss nan), step skipped (1 in a row, stop at 3)".
  void good_step() { bad_in_a_row_ = 0; }
  void bad_step(int64_t step, const std::string& why, double loss);
  // Either, for a step whose update was skipped for `why` ("" = taken; then a step that `trained`
  // resets the count), marking the step's metrics line as skipped.
  void record_step(int64_t step, const std::string& why, double loss, bool trained,
                   nlohmann::json& line);
  int64_t bad_in_a_row() const { return bad_in_a_row_; }
  // Throws r1::Error once max_bad_steps steps in a row were bad, naming the newest intact
  // checkpoint and `hint` ("check the data").
  void stop_if_too_many_bad(int64_t step, const std::string& why, const std::string& hint) const;

  // Whether an every-N event (eval, save) falls on `step`: every N steps (0 = never) and at `last`.
  static bool due(int64_t step, int64_t every, int64_t last) {
    return (every > 0 && step % every == 0) || step == last;
  }
  // Writes checkpoint `step` (rank 0; every rank waits) and returns its directory.
  std::string save(int64_t step, const TrainerState& state) const;

 private:
  void prepare_directory() const;
  void load_resumed_state();
  const Dist& dist() const;

  TrainerRunConfig config_;
  CheckpointConfig checkpoints_;
  std::string metrics_path_;
  std::optional<std::pair<int64_t, std::string>> resume_;
  nlohmann::json state_;
  std::optional<MetricsLog> metrics_;
  int64_t bad_in_a_row_ = 0;
};

// Where this process trains: its place in the job (one process unless launched with
// RANK/WORLD_SIZE; joined here), its device (cuda is cuda:LOCAL_RANK in a job) and the training
// dtype of --dtype.
struct TrainingPlace {
  const Dist* dist = nullptr;
  torch::Device device = torch::kCPU;
  at::ScalarType dtype = at::kFloat;
};
TrainingPlace join_training(const std::string& device, const std::string& dtype);

// Throws r1::Error before any rendezvous, so that a bad flag fails at once on every rank, unless
// `flag`'s value `n` splits evenly over WORLD_SIZE; `why` says what is split.
void check_splits_over_ranks(const std::string& flag, int64_t n, const std::string& why);

// One optimiser update from the gradients backward left, unless the step is bad: with a finite
// `loss`, the gradients are summed over the ranks and their global norm (in *grad_norm) clipped to
// `clip`, then AdamW steps at `lr`. The gradients are dropped either way. Returns why the update
// was skipped ("non-finite loss", "non-finite gradient norm"), or "" when it was taken.
std::string update_unless_bad(AdamW& opt, const Dist& dist, double loss, double lr, double clip,
                              double* grad_norm);

}  // namespace r1
