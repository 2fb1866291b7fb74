// A trainer's run directory, resume and cadence (see trainer_run.h).
#include "rl/trainer_run.h"

#include <torch/torch.h>  // torch::manual_seed

#include <cmath>       // std::isfinite
#include <cstdio>      // std::fprintf
#include <filesystem>  // std::filesystem

#include "rl/distributed.h"       // r1::Dist
#include "rl/optim.h"             // r1::AdamW
#include "rl/sft_data.h"          // r1::SftSampler
#include "rl/train_common.h"      // r1::resolve_train_dtype
#include "toolkit/error.h"        // r1::Error, r1::check
#include "toolkit/fs.h"           // r1::write_file_atomic
#include "toolkit/json.h"         // r1::dump_json, r1::read_json_file
#include "toolkit/run_dir.h"      // r1::check_run_dir
#include "toolkit/transformer.h"  // r1::parse_device

namespace r1 {

namespace fs = std::filesystem;
using json = nlohmann::json;

TrainerRun::TrainerRun(TrainerRunConfig config)
    : config_(std::move(config)),
      checkpoints_{(fs::path(config_.out) / "checkpoints").string(), config_.keep_last,
                   config_.before_checkpoint_write},
      metrics_path_(config_.metrics.empty() ? (fs::path(config_.out) / "metrics.jsonl").string()
                                            : config_.metrics) {
  prepare_directory();
  resume_ = latest_checkpoint(checkpoints_.root);
  check(
      dist().same_on_all_ranks(resume_ ? static_cast<double>(resume_->first) : -1.0),
      "rank " + std::to_string(dist().rank()) + " sees " +
          (resume_ ? "checkpoint " + resume_->second : "no checkpoint under " + checkpoints_.root) +
          " and another rank sees otherwise: every rank must resume from the same --out (one "
          "shared filesystem)");
  if (resume_) load_resumed_state();
}

const Dist& TrainerRun::dist() const {
  static const Dist one_process;
  return config_.dist ? *config_.dist : one_process;
}

// Rank 0 guards and creates OUT and removes the temp directories of a killed checkpoint write.
void TrainerRun::prepare_directory() const {
  if (dist().is_main()) {
    if (!config_.command.empty())
      check_run_dir(config_.out, config_.kind + "_config.json", config_.command);
    fs::create_directories(config_.out);
    remove_partial_checkpoints(checkpoints_.root);
  }
  dist().barrier();
}

// The checkpoint's state, which must be this trainer's, of this config and of unchanged data.
void TrainerRun::load_resumed_state() {
  const std::string origin = (fs::path(resume_->second) / kTrainerStateFile).string();
  state_ = read_json_file(origin);
  const json& state = state_;
  check(state.value("format", "") == "r1-" + config_.kind + "-state",
        origin + ": not " + config_.title + " trainer state (field \"format\")");
  const json& saved = state.at("config");
  std::optional<std::string> diff;
  if (config_.difference)
    diff = config_.difference(saved, config_.config);
  else if (saved != config_.config)
    diff = "the flags or the data differ from the run's";
  if (diff)
    throw Error("cannot resume " + config_.out + " from " + resume_->second + ": " + *diff +
                " (use the same flags, or a new --out)");
  if (!config_.data_sha256.empty())
    check(state.at("data").at("sha256") == config_.data_sha256,
          "cannot resume " + config_.out + ": " + config_.data_flag + " " + config_.data_path +
              " changed since the run started (sha256 differs; use a new --out)");
}

const std::string& TrainerRun::resumed_checkpoint() const {
  static const std::string none;
  return resume_ ? resume_->second : none;
}

double TrainerRun::resumed_number(const std::string& key, double fallback) const {
  if (!resume_ || !state_.contains(key) || !state_.at(key).is_number()) return fallback;
  return state_.at(key).get<double>();
}

void TrainerRun::write_config(const json& resolved) const {
  if (!dist().is_main()) return;
  json j = config_.config;
  j.update(resolved);
  if (dist().active()) j["world_size"] = dist().world_size();
  write_file_atomic((fs::path(config_.out) / (config_.kind + "_config.json")).string(),
                    dump_json(j, 2) + "\n");
}

int64_t TrainerRun::restore(AdamW& opt, SftSampler& sampler, uint64_t seed) {
  int64_t step = 0;
  if (resume_) {
    load_optimizer_state(opt, resume_->second);
    step = state_.at("step").get<int64_t>();
    bad_in_a_row_ = state_.value("bad_in_a_row", int64_t{0});
    sampler.seek(state_.at("data").at("epoch").get<int64_t>(),
                 state_.at("data").at("offset").get<int64_t>());
    set_torch_rng_state(state_.at("rng"), resume_->second);
  } else {
    torch::manual_seed(seed);
  }
  if (dist().is_main()) metrics_.emplace(metrics_path_, resume_ ? step : int64_t{-1});
  return step;
}

void TrainerRun::log(const json& line) {
  if (metrics_) metrics_->write(line);
}

void TrainerRun::bad_step(int64_t step, const std::string& why, double loss) {
  ++bad_in_a_row_;
  if (dist().is_main())
    std::fprintf(
        stderr, "%s: step %lld: %s (loss %g), step skipped (%lld in a row, stop at %lld)\n",
        config_.kind.c_str(), static_cast<long long>(step), why.c_str(), loss,
        static_cast<long long>(bad_in_a_row_), static_cast<long long>(config_.max_bad_steps));
}

void TrainerRun::record_step(int64_t step, const std::string& why, double loss, bool trained,
                             json& line) {
  if (why.empty()) {
    if (trained) good_step();
    return;
  }
  bad_step(step, why, loss);
  line["skipped"] = why;
}

void TrainerRun::stop_if_too_many_bad(int64_t step, const std::string& why,
                                      const std::string& hint) const {
  if (bad_in_a_row_ < config_.max_bad_steps) return;
  const auto good = latest_checkpoint(checkpoints_.root);
  throw Error("step " + std::to_string(step) + ": " + std::to_string(bad_in_a_row_) +
              " steps in a row had a " + why + "; stopped. " +
              (good ? "The last good checkpoint is " + good->second
                    : std::string("No checkpoint was written yet")) +
              " (lower --lr or " + hint + "; see " + metrics_path_ + ")");
}

std::string TrainerRun::save(int64_t step, const TrainerState& s) const {
  json data = s.data;
  if (!config_.data_path.empty()) {
    data["path"] = config_.data_path;
    data["sha256"] = config_.data_sha256;
  }
  data["epoch"] = s.sampler->epoch();
  data["offset"] = s.sampler->offset();
  json state = s.fields;
  state.update({{"format", "r1-" + config_.kind + "-state"},
                {"version", 1},
                {"step", step},
                {"bad_in_a_row", bad_in_a_row_},
                {"data", data},
                {"rng", torch_rng_state()},
                {"config", config_.config}});
  std::string dir = checkpoint_dir(checkpoints_.root, step);
  if (dist().is_main())
    dir = write_checkpoint(checkpoints_, step, {s.model, s.tokenizer_dir, state, s.opt->state()});
  dist().wait_for_main();
  return dir;
}

TrainingPlace join_training(const std::string& device, const std::string& dtype) {
  const torch::Device requested = parse_device(device, "--device");
  TrainingPlace place;
  place.dist = &process_dist(requested);
  place.device = place.dist->device_for(requested);
  place.dtype = resolve_train_dtype(dtype, place.device);
  return place;
}

void check_splits_over_ranks(const std::string& flag, int64_t n, const std::string& why) {
  const int64_t world = read_dist_env().world_size;
  check(n % world == 0, flag + " " + std::to_string(n) + ": not divisible by WORLD_SIZE " +
                            std::to_string(world) + " (" + why + ")");
}

std::string update_unless_bad(AdamW& opt, const Dist& dist, double loss, double lr, double clip,
                              double* grad_norm) {
  std::string bad;
  *grad_norm = 0.0;
  if (!std::isfinite(loss)) {
    bad = "non-finite loss";
  } else {
    dist.sum_gradients(opt.params());
    *grad_norm = global_grad_norm(opt.params());
    if (!std::isfinite(*grad_norm)) bad = "non-finite gradient norm";
  }
  if (bad.empty()) opt.step(lr, clip_coefficient(*grad_norm, clip));
  opt.zero_grad();
  return bad;
}

}  // namespace r1
