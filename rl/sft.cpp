// The SFT trainer loop (see sft.h). A step is a pure function of (weights, optimiser state, data
// position, step number): rows come from the seeded epoch order, the learning rate from the step,
// so a checkpoint holding those resumes the run exactly. Skipped (non-finite) steps still consume
// their rows and their place in the schedule.
#include "rl/sft.h"

#include <torch/torch.h>  // torch ops, torch::NoGradGuard

#include <algorithm>   // std::find
#include <chrono>      // std::chrono::steady_clock
#include <cmath>       // std::isfinite, std::ceil
#include <cstdio>      // std::fprintf
#include <filesystem>  // std::filesystem
#include <limits>      // std::numeric_limits

#include "kernels/token_logprobs.h"  // r1::token_logprobs
#include "rl/checkpoint.h"           // r1::write_checkpoint, r1::MetricsLog
#include "rl/optim.h"                // r1::AdamW, r1::LrSchedule
#include "rl/train_common.h"         // r1::check_positive, r1::named_params, r1::pad_id_of
#include "toolkit/error.h"           // r1::Error, r1::check
#include "toolkit/fs.h"              // r1::write_file_atomic
#include "toolkit/json.h"            // r1::dump_json, r1::read_json_file
#include "toolkit/model_config.h"    // r1::load_model_config, r1::parse_dtype
#include "toolkit/progress.h"        // r1::Progress
#include "toolkit/safetensors.h"     // r1::SafetensorsFile
#include "toolkit/sha256.h"          // r1::sha256_file

namespace r1 {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

void validate(const SftConfig& c) {
  check(!c.model.empty(), "--model: required (a Hugging Face checkpoint directory)");
  check(!c.data.empty(), "--data: required (a JSONL file)");
  check(!c.out.empty(), "--out: required (the run directory)");
  check_positive("batch_size", static_cast<double>(c.batch_size));
  check_positive("grad_accum", static_cast<double>(c.grad_accum));
  check_positive("lr", c.lr);
  check_positive("max_bad_steps", static_cast<double>(c.max_bad_steps));
  for (auto [name, v] : {std::pair{"steps", static_cast<double>(c.steps)},
                         {"max_length", static_cast<double>(c.max_length)},
                         {"warmup_steps", static_cast<double>(c.warmup_steps)},
                         {"weight_decay", c.weight_decay},
                         {"clip", c.clip},
                         {"eval_every", static_cast<double>(c.eval_every)},
                         {"save_every", static_cast<double>(c.save_every)},
                         {"keep_last", static_cast<double>(c.keep_last)},
                         {"threads", static_cast<double>(c.threads)},
                         {"stop_after", static_cast<double>(c.stop_after)}})
    check_non_negative(name, v);
  if (c.steps == 0) check_positive("epochs", c.epochs);
  check(c.min_lr_ratio >= 0 && c.min_lr_ratio <= 1,
        "--min-lr-ratio " + c10::str(c.min_lr_ratio) + ": must be within [0, 1]");
  check(c.beta1 >= 0 && c.beta1 < 1 && c.beta2 >= 0 && c.beta2 < 1,
        "--beta1/--beta2: must be within [0, 1)");
  check_positive("adam_eps", c.adam_eps);
}

}  // namespace

nlohmann::json sft_config_json(const SftConfig& c) {
  nlohmann::json j = nlohmann::json::object();
  visit_sft_config(
      c, [&](const char* name, const auto& field, const char*, FieldRole) { j[name] = field; });
  return j;
}

std::optional<std::string> sft_config_difference(const nlohmann::json& saved,
                                                 const nlohmann::json& now) {
  SftConfig probe;
  std::optional<std::string> diff;
  visit_sft_config(probe, [&](const char* name, const auto&, const char*, FieldRole role) {
    if (diff || role != FieldRole::kRun) return;
    diff = config_field_difference(name, saved, now);
  });
  return diff;
}

torch::Tensor sft_loss_sum(Transformer& model, const SftBatch& batch) {
  auto hidden = model.forward(batch.ids, batch.positions, batch.valid);           // (B, T, C)
  auto h = hidden.reshape({-1, hidden.size(-1)}).index_select(0, batch.predict);  // (N, C)
  auto logp = token_logprobs(h, model.lm_head_weight(), batch.targets);           // (N)
  return -logp.sum();
}

void zero_padding_embedding_grad(Transformer& model) {
  const auto& c = model.config();
  if (!c.pad_token_id || c.tie_word_embeddings) return;
  const int64_t pad = *c.pad_token_id;
  for (auto& [name, p] : model.hf_parameters())
    if (name == "model.embed_tokens.weight" && p.grad().defined() && pad >= 0 && pad < p.size(0)) {
      torch::NoGradGuard no_grad;
      p.mutable_grad()[pad].zero_();
    }
}

double sft_mean_loss(Transformer& model, const std::vector<SftExample>& rows, int64_t batch_size,
                     int64_t pad_id) {
  torch::NoGradGuard no_grad;
  double nll = 0.0;
  int64_t tokens = 0;
  for (size_t i = 0; i < rows.size(); i += static_cast<size_t>(batch_size)) {
    std::vector<const SftExample*> part;
    for (size_t k = i; k < std::min(rows.size(), i + static_cast<size_t>(batch_size)); ++k)
      part.push_back(&rows[k]);
    const auto batch = make_sft_batch(part, pad_id, model.options().device());
    nll += sft_loss_sum(model, batch).item<double>();
    tokens += batch.tokens;
  }
  return tokens > 0 ? nll / static_cast<double>(tokens) : 0.0;
}

SftResult run_sft(const SftConfig& cfg) {
  validate(cfg);
  if (cfg.threads > 0) at::set_num_threads(static_cast<int>(cfg.threads));
  check(fs::is_directory(cfg.model),
        "--model " + cfg.model + ": not a directory (a Hugging Face checkpoint)");
  check(fs::exists(fs::path(cfg.model) / "tokenizer.json"),
        cfg.model + ": no tokenizer.json (SFT renders and tokenizes the data with it)");
  const torch::Device device = parse_device(cfg.device, "--device");
  const at::ScalarType dtype = resolve_train_dtype(cfg.dtype, device);

  // Data.
  const Tokenizer tok = Tokenizer::load(cfg.model);
  const ModelConfig model_config = load_model_config(cfg.model);
  SftEncoder enc{&tok, load_chat_template(cfg.model, cfg.chat_template), {}};
  enc.config.max_length =
      cfg.max_length > 0 ? cfg.max_length : model_config.max_position_embeddings;
  enc.config.truncate = cfg.truncate;
  const auto train = load_sft_file(cfg.data, enc);
  std::vector<SftExample> held_out;
  if (!cfg.eval_data.empty()) held_out = load_sft_file(cfg.eval_data, enc);
  const int64_t pad_id = pad_id_of(tok, model_config);
  const int64_t rows_per_step = cfg.batch_size * cfg.grad_accum;
  const int64_t total_steps =
      cfg.steps > 0
          ? cfg.steps
          : std::max<int64_t>(
                1, static_cast<int64_t>(std::ceil(cfg.epochs * static_cast<double>(train.size()) /
                                                  static_cast<double>(rows_per_step))));
  const std::string data_sha = sha256_file(cfg.data);

  // Run directory, and the checkpoint to resume from.
  fs::create_directories(cfg.out);
  CheckpointConfig ckpt{(fs::path(cfg.out) / "checkpoints").string(), cfg.keep_last,
                        cfg.before_checkpoint_write};
  remove_partial_checkpoints(ckpt.root);
  const auto resume = latest_checkpoint(ckpt.root);
  const nlohmann::json config_json = sft_config_json(cfg);
  nlohmann::json state;
  if (resume) {
    const std::string origin = (fs::path(resume->second) / kTrainerStateFile).string();
    state = read_json_file(origin);
    check(state.value("format", "") == "r1-sft-state",
          origin + ": not an SFT trainer state (field \"format\")");
    if (auto diff = sft_config_difference(state.at("config"), config_json))
      throw Error("cannot resume " + cfg.out + " from " + resume->second + ": " + *diff +
                  " (use the same flags, or a new --out)");
    check(state.at("data").at("sha256") == data_sha,
          "cannot resume " + cfg.out + ": --data " + cfg.data +
              " changed since the run started (sha256 differs; use a new --out)");
  }
  {
    nlohmann::json resolved = config_json;
    resolved["total_steps"] = total_steps;
    resolved["max_length"] = enc.config.max_length;
    resolved["train_rows"] = train.size();
    write_file_atomic((fs::path(cfg.out) / "sft_config.json").string(),
                      dump_json(resolved, 2) + "\n");
  }

  // Model and optimiser: from the checkpoint when resuming.
  auto model = load_transformer(resume ? resume->second : cfg.model, dtype, device);
  AdamW opt(named_params(*model),
            AdamWConfig{cfg.beta1, cfg.beta2, cfg.adam_eps, cfg.weight_decay});
  const LrSchedule schedule{cfg.lr, cfg.warmup_steps, total_steps, cfg.min_lr_ratio};
  SftSampler sampler(static_cast<int64_t>(train.size()), cfg.seed);
  int64_t step = 0, bad_in_a_row = 0;
  SftResult result;
  result.total_steps = total_steps;
  if (resume) {
    const std::string tensors_path = (fs::path(resume->second) / kTrainerTensorsFile).string();
    SafetensorsFile tensors(tensors_path);
    opt.load_state(
        [&](const std::string& name) {
          return tensors.find(name) ? tensors.tensor(name) : torch::Tensor();
        },
        tensors_path);
    step = state.at("step").get<int64_t>();
    bad_in_a_row = state.at("bad_in_a_row").get<int64_t>();
    sampler.seek(state.at("data").at("epoch").get<int64_t>(),
                 state.at("data").at("offset").get<int64_t>());
    set_torch_rng_state(state.at("rng"), resume->second);
    result.resumed_from = step;
    result.checkpoint = resume->second;
    if (state.contains("loss") && state["loss"].is_number()) result.loss = state["loss"];
  } else {
    torch::manual_seed(cfg.seed);
  }
  MetricsLog metrics((fs::path(cfg.out) / "metrics.jsonl").string(), resume ? step : int64_t{-1});

  auto evaluate = [&](int64_t at_step) {
    if (held_out.empty()) return;
    const auto t0 = Clock::now();
    const double loss = sft_mean_loss(*model, held_out, cfg.batch_size, pad_id);
    result.eval_loss = loss;
    metrics.write({{"step", at_step},
                   {"eval_loss", loss},
                   {"eval_rows", held_out.size()},
                   {"seconds", std::chrono::duration<double>(Clock::now() - t0).count()}});
  };
  auto save = [&](int64_t at_step) {
    nlohmann::json s = {{"format", "r1-sft-state"},
                        {"version", 1},
                        {"step", at_step},
                        {"total_steps", total_steps},
                        {"bad_in_a_row", bad_in_a_row},
                        {"loss", result.loss},
                        {"data",
                         {{"path", cfg.data},
                          {"sha256", data_sha},
                          {"rows", train.size()},
                          {"epoch", sampler.epoch()},
                          {"offset", sampler.offset()}}},
                        {"rng", torch_rng_state()},
                        {"config", config_json}};
    result.checkpoint = write_checkpoint(ckpt, at_step, {model.get(), cfg.model, s, opt.state()});
  };

  if (!resume) evaluate(0);
  Progress progress("sft", total_steps);
  progress.update(step);
  while (step < total_steps) {
    const auto t0 = Clock::now();
    const auto rows = sampler.next(rows_per_step);
    std::vector<SftBatch> micro;
    int64_t tokens = 0, seq_tokens = 0;
    for (int64_t m = 0; m < cfg.grad_accum; ++m) {
      std::vector<const SftExample*> part;
      for (int64_t k = 0; k < cfg.batch_size; ++k) {
        part.push_back(&train[rows[m * cfg.batch_size + k]]);
        seq_tokens += static_cast<int64_t>(part.back()->ids.size());
      }
      micro.push_back(make_sft_batch(part, pad_id, device));
      tokens += micro.back().tokens;
    }
    const double lr = schedule.at(step);
    const bool inject_nan =
        std::find(cfg.nan_steps.begin(), cfg.nan_steps.end(), step + 1) != cfg.nan_steps.end();
    double loss = 0.0;
    for (const auto& batch : micro) {
      auto l = sft_loss_sum(*model, batch) / static_cast<double>(tokens);
      if (inject_nan) l = l * std::numeric_limits<float>::quiet_NaN();
      l.backward();
      loss += l.item<double>();
    }
    zero_padding_embedding_grad(*model);
    ++step;
    nlohmann::json line = {{"step", step}, {"loss", loss}, {"lr", lr}};
    std::string bad;
    double grad_norm = 0.0;
    if (!std::isfinite(loss)) {
      bad = "non-finite loss";
    } else {
      grad_norm = global_grad_norm(opt.params());
      if (!std::isfinite(grad_norm)) bad = "non-finite gradient norm";
    }
    if (bad.empty()) {
      opt.step(lr, clip_coefficient(grad_norm, cfg.clip));
      bad_in_a_row = 0;
      result.loss = loss;
      line["grad_norm"] = grad_norm;
    } else {
      ++bad_in_a_row;
      ++result.skipped_steps;
      line["skipped"] = bad;
      std::fprintf(stderr, "sft: step %lld: %s (%g), step skipped (%lld in a row, stop at %lld)\n",
                   static_cast<long long>(step), bad.c_str(), loss,
                   static_cast<long long>(bad_in_a_row), static_cast<long long>(cfg.max_bad_steps));
    }
    opt.zero_grad();
    line["tokens"] = tokens;
    line["seq_tokens"] = seq_tokens;
    line["epoch"] = static_cast<double>(sampler.epoch()) +
                    static_cast<double>(sampler.offset()) / static_cast<double>(train.size());
    line["seconds"] = std::chrono::duration<double>(Clock::now() - t0).count();
    metrics.write(line);
    result.steps = step;
    if (bad_in_a_row >= cfg.max_bad_steps) {
      const auto good = latest_checkpoint(ckpt.root);
      throw Error("step " + std::to_string(step) + ": " + std::to_string(bad_in_a_row) +
                  " steps in a row had a " + bad + "; stopped. " +
                  (good ? "The last good checkpoint is " + good->second
                        : std::string("No checkpoint was written yet")) +
                  " (lower --lr or check the data; see " + metrics.path() + ")");
    }
    if ((cfg.eval_every > 0 && step % cfg.eval_every == 0) || step == total_steps) evaluate(step);
    if ((cfg.save_every > 0 && step % cfg.save_every == 0) || step == total_steps) save(step);
    progress.update(step, "loss " + c10::str(loss) + " lr " + c10::str(lr));
    if (cfg.stop_after > 0 && step == cfg.stop_after) break;
  }
  return result;
}

}  // namespace r1
