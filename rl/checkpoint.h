// Trainer checkpoints, written and read through a trainer's run (rl/trainer_run.h): a checkpoint is
// a Hugging Face model directory (weights, config, the base model's tokenizer files) plus the
// trainer's state (r1_trainer_state.json, r1_tensors.safetensors: optimiser, RNG), built in a temp
// directory, fsync'd and renamed into place, so a crash or a full disk leaves the previous one
// whole; the metrics log (JSONL, cut back to a checkpoint on resume); torch RNG state capture.
// Leaves out sharded weights and asynchronous writes.
#pragma once

#include <torch/types.h>  // torch::Tensor

#include <nlohmann/json.hpp>  // nlohmann::json

#include <cstdint>     // int64_t
#include <cstdio>      // std::FILE
#include <functional>  // std::function
#include <optional>    // std::optional
#include <string>      // std::string
#include <utility>     // std::pair
#include <vector>      // std::vector

#include "toolkit/transformer.h"  // r1::Transformer

namespace r1 {

class AdamW;  // rl/optim.h

inline constexpr char kTrainerStateFile[] = "r1_trainer_state.json";
inline constexpr char kTrainerTensorsFile[] = "r1_tensors.safetensors";

// What one checkpoint holds.
struct CheckpointContent {
  Transformer* model = nullptr;  // saved as config.json + model.safetensors in its dtype
  std::string tokenizer_dir;     // tokenizer/generation files are copied from here, or
                                 // written from it when it is a GGUF file ("" = none)
  nlohmann::json state;          // the trainer's own state -> r1_trainer_state.json
  std::vector<std::pair<std::string, torch::Tensor>> tensors;  // -> r1_tensors.safetensors
};

// Where checkpoints of a run go and how many stay.
struct CheckpointConfig {
  std::string root;       // directory of the checkpoints (RUN/checkpoints)
  int64_t keep_last = 2;  // complete checkpoints kept, newest first; 0 keeps all
  // Tests: called with each file's path just before it is written into the temp directory;
  // throwing r1::Error there simulates a failed write (a full disk).
  std::function<void(const std::string& file)> before_write;
};

// ROOT/step-000042.
std::string checkpoint_dir(const std::string& root, int64_t step);
// Complete checkpoints under `root` (step-N directories holding the trainer state file), by step.
std::vector<std::pair<int64_t, std::string>> list_checkpoints(const std::string& root);
// The newest complete checkpoint, if any.
std::optional<std::pair<int64_t, std::string>> latest_checkpoint(const std::string& root);
// Removes temp directories a killed write left under `root`.
void remove_partial_checkpoints(const std::string& root);

// Writes checkpoint `step` atomically and prunes old ones beyond keep_last. Returns its path. On
// any failure (e.g. ENOSPC) the temp directory is removed, earlier checkpoints are untouched, and
// r1::Error says which checkpoint failed, why, and which one is the newest intact.
std::string write_checkpoint(const CheckpointConfig& config, int64_t step,
                             const CheckpointContent& content);

// Loads the optimiser state checkpoint `dir` holds (its r1_tensors.safetensors) into `opt`; throws
// r1::Error naming the file and tensor when it does not match the optimiser's parameters.
void load_optimizer_state(AdamW& opt, const std::string& dir);

// The state of torch's default generators (CPU, and each CUDA device when present) as JSON (hex
// bytes), and back; a trainer saves them so any stochastic op resumes on the same stream.
nlohmann::json torch_rng_state();
void set_torch_rng_state(const nlohmann::json& state, const std::string& origin);

// The metrics log of a run: one JSON object per line, flushed per line.
class MetricsLog {
 public:
  // Opens `path` for appending. With keep_through_step set, first drops every line whose "step"
  // is larger (the lines of a killed run past the checkpoint it resumes from), atomically.
  explicit MetricsLog(const std::string& path, std::optional<int64_t> keep_through_step = {});
  ~MetricsLog();
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;

  void write(const nlohmann::json& line);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace r1
