// The SFT trainer loop (see sft.h). A step is a pure function of (weights, optimiser state, data
// position, step number): rows come from the seeded epoch order, the learning rate from the step,
// so a checkpoint holding those resumes the run exactly. Skipped (non-finite) steps still consume
// their rows and their place in the schedule. Data parallel (rl/distributed.h): every rank draws
// the same rows and takes its contiguous part of each micro-batch; losses are divided by the whole
// step's response tokens (summed over ranks) and gradients summed before clipping, so every rank
// holds the one-process gradient and takes the same step. Rank 0 writes the run directory.
#include "rl/sft.h"

#include <torch/torch.h>  // torch ops, torch::NoGradGuard

#include <algorithm>   // std::find
#include <chrono>      // std::chrono::steady_clock
#include <cmath>       // std::isfinite, std::ceil
#include <cstdio>      // std::fprintf
#include <filesystem>  // std::filesystem
#include <limits>      // std::numeric_limits
#include <optional>    // std::optional
#include <span>        // std::span
#include <utility>     // std::pair

#include "kernels/token_logprobs.h"  // r1::token_logprobs
#include "rl/checkpoint.h"           // r1::write_checkpoint, r1::MetricsLog
#include "rl/distributed.h"          // r1::Dist, r1::process_dist
#include "rl/optim.h"                // r1::AdamW, r1::LrSchedule
#include "rl/train_common.h"         // r1::check_positive, r1::named_params, r1::pad_id_of
#include "toolkit/error.h"           // r1::Error, r1::check
#include "toolkit/fs.h"              // r1::write_file_atomic
#include "toolkit/run_dir.h"         // r1::check_run_dir
#include "toolkit/json.h"            // r1::dump_json, r1::read_json_file
#include "toolkit/model_config.h"    // r1::load_model_config, r1::parse_dtype
#include "toolkit/progress.h"        // r1::Progress
#include "toolkit/sha256.h"          // r1::sha256_file
#include "toolkit/model_source.h"  // r1::check_model_path, r1::check_model_tokenizer

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

void check_sft_config(const SftConfig& c) { validate(c); }

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

std::pair<double, int64_t> sft_loss_totals(Transformer& model, std::span<const SftExample> rows,
                                           int64_t batch_size, int64_t pad_id) {
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
  return {nll, tokens};
}

double sft_mean_loss(Transformer& model, const std::vector<SftExample>& rows, int64_t batch_size,
                     int64_t pad_id) {
  const auto [nll, tokens] = sft_loss_totals(model, rows, batch_size, pad_id);
  return tokens > 0 ? nll / static_cast<double>(tokens) : 0.0;
}

SftResult run_sft(const SftConfig& cfg) {
  validate(cfg);
  if (cfg.threads > 0) at::set_num_threads(static_cast<int>(cfg.threads));
  check_model_path(cfg.model, "--model");
  check_model_tokenizer(cfg.model, "SFT renders and tokenizes the data with it");
  // The job (one process unless launched with RANK/WORLD_SIZE): each micro-batch is split evenly.
  // The split is checked before the rendezvous, so that a bad flag fails at once on every rank.
  const int64_t world = read_dist_env().world_size;
  check(cfg.batch_size % world == 0,
        "--batch-size " + std::to_string(cfg.batch_size) + ": not divisible by WORLD_SIZE " +
            std::to_string(world) +
            " (each micro-batch is split evenly across the ranks; the step's batch stays " +
            "--batch-size x --grad-accum)");
  const torch::Device requested = parse_device(cfg.device, "--device");
  const Dist& dist = process_dist(requested);
  const torch::Device device = dist.device_for(requested);
  const at::ScalarType dtype = resolve_train_dtype(cfg.dtype, device);

  // Data.
  const Tokenizer tok = Tokenizer::load(cfg.model);
  const ModelConfig model_config = load_model_config(cfg.model);
  SftEncoder enc{&tok, load_chat_template(cfg.model, cfg.chat_template), {}};
  enc.chat.kwargs = parse_template_kwargs(cfg.template_kwargs, "template_kwargs");
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

  // Run directory (rank 0's to write), and the checkpoint to resume from (every rank reads it).
  CheckpointConfig ckpt{(fs::path(cfg.out) / "checkpoints").string(), cfg.keep_last,
                        cfg.before_checkpoint_write};
  if (dist.is_main()) {
    check_run_dir(cfg.out, "sft_config.json", "r1train sft");
    fs::create_directories(cfg.out);
    remove_partial_checkpoints(ckpt.root);
  }
  dist.barrier();
  const auto resume = latest_checkpoint(ckpt.root);
  check(dist.same_on_all_ranks(resume ? static_cast<double>(resume->first) : -1.0),
        "rank " + std::to_string(dist.rank()) + " sees " +
            (resume ? "checkpoint " + resume->second : "no checkpoint under " + ckpt.root) +
            " and another rank sees otherwise: every rank must resume from the same --out (one "
            "shared filesystem)");
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
  if (dist.is_main()) {
    nlohmann::json resolved = config_json;
    resolved["total_steps"] = total_steps;
    resolved["max_length"] = enc.config.max_length;
    resolved["train_rows"] = train.size();
    if (dist.active()) resolved["world_size"] = dist.world_size();
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
    load_optimizer_state(opt, resume->second);
    step = state.at("step").get<int64_t>();
    bad_in_a_row = state.at("bad_in_a_row").get<int64_t>();
    sampler.seek(state.at("data").at("epoch").get<int64_t>(),
                 state.at("data").at("offset").get<int64_t>());
    set_torch_rng_state(state.at("rng"), resume->second);
    result.resumed_from = result.steps = step;
    result.checkpoint = resume->second;
    if (state.contains("loss") && state["loss"].is_number()) result.loss = state["loss"];
  } else {
    torch::manual_seed(cfg.seed);
  }
  const std::string metrics_path = (fs::path(cfg.out) / "metrics.jsonl").string();
  std::optional<MetricsLog> metrics;  // rank 0's
  if (dist.is_main()) metrics.emplace(metrics_path, resume ? step : int64_t{-1});
  auto log = [&](const nlohmann::json& line) {
    if (metrics) metrics->write(line);
  };

  // The held-out loss: each rank scores its part of the rows, the sums are added up.
  auto evaluate = [&](int64_t at_step) {
    if (held_out.empty()) return;
    const auto t0 = Clock::now();
    const auto [begin, end] = dist.shard(static_cast<int64_t>(held_out.size()));
    auto [nll, tokens] = sft_loss_totals(*model, std::span(held_out).subspan(begin, end - begin),
                                         cfg.batch_size, pad_id);
    if (dist.active()) {
      std::vector<double> sums = {nll, static_cast<double>(tokens)};
      dist.sum(sums);
      nll = sums[0];
      tokens = static_cast<int64_t>(sums[1]);
    }
    const double loss = tokens > 0 ? nll / static_cast<double>(tokens) : 0.0;
    result.eval_loss = loss;
    log({{"step", at_step},
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
    if (dist.is_main())
      result.checkpoint = write_checkpoint(ckpt, at_step, {model.get(), cfg.model, s, opt.state()});
    else
      result.checkpoint = checkpoint_dir(ckpt.root, at_step);
    dist.wait_for_main();
  };

  if (!resume) evaluate(0);
  Progress progress("sft", total_steps, dist.is_main() && Progress::stderr_is_terminal());
  progress.update(step);
  // This rank's rows [lo, hi) of each micro-batch.
  const auto [lo, hi] = dist.shard(cfg.batch_size);
  while (step < total_steps) {
    const auto t0 = Clock::now();
    const auto rows = sampler.next(rows_per_step);
    std::vector<SftBatch> micro;
    int64_t tokens = 0, seq_tokens = 0;
    for (int64_t m = 0; m < cfg.grad_accum; ++m) {
      std::vector<const SftExample*> part;
      for (int64_t k = lo; k < hi; ++k) {
        part.push_back(&train[rows[m * cfg.batch_size + k]]);
        seq_tokens += static_cast<int64_t>(part.back()->ids.size());
      }
      micro.push_back(make_sft_batch(part, pad_id, device));
      tokens += micro.back().tokens;
    }
    if (dist.active()) {  // the step's tokens over all ranks: every rank divides by the same
      std::vector<double> counts = {static_cast<double>(tokens), static_cast<double>(seq_tokens)};
      dist.sum(counts);
      tokens = static_cast<int64_t>(counts[0]);
      seq_tokens = static_cast<int64_t>(counts[1]);
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
    loss = dist.sum(loss);
    ++step;
    nlohmann::json line = {{"step", step}, {"loss", loss}, {"lr", lr}};
    std::string bad;
    double grad_norm = 0.0;
    if (!std::isfinite(loss)) {
      bad = "non-finite loss";
    } else {
      dist.sum_gradients(opt.params());
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
      if (dist.is_main())
        std::fprintf(
            stderr, "sft: step %lld: %s (%g), step skipped (%lld in a row, stop at %lld)\n",
            static_cast<long long>(step), bad.c_str(), loss, static_cast<long long>(bad_in_a_row),
            static_cast<long long>(cfg.max_bad_steps));
    }
    opt.zero_grad();
    line["tokens"] = tokens;
    line["seq_tokens"] = seq_tokens;
    line["epoch"] = static_cast<double>(sampler.epoch()) +
                    static_cast<double>(sampler.offset()) / static_cast<double>(train.size());
    line["seconds"] = std::chrono::duration<double>(Clock::now() - t0).count();
    log(line);
    result.steps = step;
    if (bad_in_a_row >= cfg.max_bad_steps) {
      const auto good = latest_checkpoint(ckpt.root);
      throw Error("step " + std::to_string(step) + ": " + std::to_string(bad_in_a_row) +
                  " steps in a row had a " + bad + "; stopped. " +
                  (good ? "The last good checkpoint is " + good->second
                        : std::string("No checkpoint was written yet")) +
                  " (lower --lr or check the data; see " + metrics_path + ")");
    }
    if ((cfg.eval_every > 0 && step % cfg.eval_every == 0) || step == total_steps) evaluate(step);
    if ((cfg.save_every > 0 && step % cfg.save_every == 0) || step == total_steps) save(step);
    progress.update(step, "loss " + c10::str(loss) + " lr " + c10::str(lr));
    if (cfg.stop_after > 0 && step == cfg.stop_after) break;
  }
  return result;
}

}  // namespace r1
