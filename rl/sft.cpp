// The SFT trainer loop (see sft.h). A step is a pure function of (weights, optimiser state, data
// position, step number): rows come from the seeded epoch order, the learning rate from the step,
// so a checkpoint holding those resumes the run exactly. Skipped (non-finite) steps still consume
// their rows and their place in the schedule. Data parallel (rl/distributed.h): every rank draws
// the same rows and takes its contiguous part of each micro-batch; losses are divided by the whole
// step's response tokens (summed over ranks) and gradients summed before clipping, so every rank
// holds the one-process gradient and takes the same step. Rank 0 writes the run directory.
#include "rl/sft.h"

#include <torch/torch.h>  // torch ops, torch::NoGradGuard

#include <algorithm>  // std::find
#include <chrono>     // std::chrono::steady_clock
#include <cmath>      // std::isfinite, std::ceil
#include <limits>     // std::numeric_limits
#include <optional>   // std::optional
#include <span>       // std::span
#include <utility>    // std::pair

#include "kernels/token_logprobs.h"  // r1::token_logprobs
#include "rl/distributed.h"          // r1::Dist, r1::process_dist
#include "rl/optim.h"                // r1::AdamW, r1::LrSchedule
#include "rl/train_common.h"         // r1::check_positive, r1::named_params, r1::pad_id_of
#include "rl/trainer_run.h"          // r1::TrainerRun
#include "toolkit/error.h"           // r1::Error, r1::check
#include "toolkit/model_config.h"    // r1::load_model_config, r1::parse_dtype
#include "toolkit/model_source.h"    // r1::check_model_path, r1::check_model_tokenizer
#include "toolkit/progress.h"        // r1::Progress
#include "toolkit/sha256.h"          // r1::sha256_file

namespace r1 {
namespace {

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

namespace {

// The training and held-out rows, encoded, and what they fix of the run.
struct SftData {
  std::vector<SftExample> train, held_out;
  int64_t max_length = 0, pad_id = 0, total_steps = 0;
  std::string sha256;  // of --data
};

SftData load_sft_data(const SftConfig& cfg, const Tokenizer& tok) {
  const ModelConfig model_config = load_model_config(cfg.model);
  SftEncoder enc{&tok, load_chat_template(cfg.model, cfg.chat_template), {}};
  enc.chat.kwargs = parse_template_kwargs(cfg.template_kwargs, "template_kwargs");
  enc.config.max_length =
      cfg.max_length > 0 ? cfg.max_length : model_config.max_position_embeddings;
  enc.config.truncate = cfg.truncate;
  SftData d;
  d.train = load_sft_file(cfg.data, enc);
  if (!cfg.eval_data.empty()) d.held_out = load_sft_file(cfg.eval_data, enc);
  d.max_length = enc.config.max_length;
  d.pad_id = pad_id_of(tok, model_config);
  const int64_t rows_per_step = cfg.batch_size * cfg.grad_accum;
  d.total_steps =
      cfg.steps > 0
          ? cfg.steps
          : std::max<int64_t>(
                1, static_cast<int64_t>(std::ceil(cfg.epochs * static_cast<double>(d.train.size()) /
                                                  static_cast<double>(rows_per_step))));
  d.sha256 = sha256_file(cfg.data);
  return d;
}

TrainerRunConfig sft_run_config(const SftConfig& cfg, const SftData& data, const Dist& dist) {
  TrainerRunConfig r = trainer_run_config(cfg, "sft", "an SFT", "r1train sft");
  r.config = sft_config_json(cfg);
  r.difference = sft_config_difference;
  r.data_flag = "--data";
  r.data_path = cfg.data;
  r.data_sha256 = data.sha256;
  r.dist = &dist;
  return r;
}

// One step's micro-batches: this rank's rows [lo, hi) of each, and the step's token counts over
// all ranks (every rank divides by the same).
struct SftStepBatch {
  std::vector<SftBatch> micro;
  int64_t tokens = 0, seq_tokens = 0;
};

SftStepBatch sft_step_batch(const SftConfig& cfg, const SftData& data,
                            const std::vector<int64_t>& rows, std::pair<int64_t, int64_t> shard,
                            const TrainingPlace& place) {
  SftStepBatch s;
  for (int64_t m = 0; m < cfg.grad_accum; ++m) {
    std::vector<const SftExample*> part;
    for (int64_t k = shard.first; k < shard.second; ++k) {
      part.push_back(&data.train[rows[m * cfg.batch_size + k]]);
      s.seq_tokens += static_cast<int64_t>(part.back()->ids.size());
    }
    s.micro.push_back(make_sft_batch(part, data.pad_id, place.device));
    s.tokens += s.micro.back().tokens;
  }
  if (place.dist->active()) {
    std::vector<double> counts = {static_cast<double>(s.tokens), static_cast<double>(s.seq_tokens)};
    place.dist->sum(counts);
    s.tokens = static_cast<int64_t>(counts[0]);
    s.seq_tokens = static_cast<int64_t>(counts[1]);
  }
  return s;
}

// Forward and backward over the step's micro-batches; the loss summed over the ranks.
double sft_backward(Transformer& model, const SftStepBatch& step, bool inject_nan,
                    const Dist& dist) {
  double loss = 0.0;
  for (const auto& batch : step.micro) {
    auto l = sft_loss_sum(model, batch) / static_cast<double>(step.tokens);
    if (inject_nan) l = l * std::numeric_limits<float>::quiet_NaN();
    l.backward();
    loss += l.item<double>();
  }
  zero_padding_embedding_grad(model);
  return dist.sum(loss);
}

// The held-out loss: each rank scores its part of the rows, the sums are added up. Nothing
// without held-out rows.
std::optional<nlohmann::json> sft_evaluate(Transformer& model, const SftConfig& cfg,
                                           const SftData& data, const Dist& dist, int64_t step) {
  if (data.held_out.empty()) return std::nullopt;
  const auto t0 = Clock::now();
  const auto [begin, end] = dist.shard(static_cast<int64_t>(data.held_out.size()));
  auto [nll, tokens] = sft_loss_totals(model, std::span(data.held_out).subspan(begin, end - begin),
                                       cfg.batch_size, data.pad_id);
  if (dist.active()) {
    std::vector<double> sums = {nll, static_cast<double>(tokens)};
    dist.sum(sums);
    nll = sums[0];
    tokens = static_cast<int64_t>(sums[1]);
  }
  return nlohmann::json{{"step", step},
                        {"eval_loss", tokens > 0 ? nll / static_cast<double>(tokens) : 0.0},
                        {"eval_rows", data.held_out.size()},
                        {"seconds", std::chrono::duration<double>(Clock::now() - t0).count()}};
}

}  // namespace

SftResult run_sft(const SftConfig& cfg) {
  validate(cfg);
  if (cfg.threads > 0) at::set_num_threads(static_cast<int>(cfg.threads));
  check_model_path(cfg.model, "--model");
  check_model_tokenizer(cfg.model, "SFT renders and tokenizes the data with it");
  check_splits_over_ranks("--batch-size", cfg.batch_size,
                          "each micro-batch is split evenly across the ranks; the step's batch "
                          "stays --batch-size x --grad-accum");
  const TrainingPlace place = join_training(cfg.device, cfg.dtype);
  const Dist& dist = *place.dist;
  const Tokenizer tok = Tokenizer::load(cfg.model);
  const SftData data = load_sft_data(cfg, tok);
  TrainerRun run(sft_run_config(cfg, data, dist));
  run.write_config({{"total_steps", data.total_steps},
                    {"max_length", data.max_length},
                    {"train_rows", data.train.size()}});

  auto model = load_transformer(run.weights(cfg.model), place.dtype, place.device);
  AdamW opt(named_params(*model),
            AdamWConfig{cfg.beta1, cfg.beta2, cfg.adam_eps, cfg.weight_decay});
  const LrSchedule schedule{cfg.lr, cfg.warmup_steps, data.total_steps, cfg.min_lr_ratio};
  SftSampler sampler(static_cast<int64_t>(data.train.size()), cfg.seed);
  int64_t step = run.restore(opt, sampler, cfg.seed);
  SftResult result = run.result_at<SftResult>(step, data.total_steps);
  result.loss = run.resumed_number("loss", 0.0);
  auto evaluate = [&](int64_t at_step) {
    if (auto line = sft_evaluate(*model, cfg, data, dist, at_step)) {
      result.eval_loss = (*line)["eval_loss"].get<double>();
      run.log(*line);
    }
  };

  if (!run.resuming()) evaluate(0);
  Progress progress("sft", data.total_steps, dist.is_main() && Progress::stderr_is_terminal());
  progress.update(step);
  const auto shard = dist.shard(cfg.batch_size);
  while (step < data.total_steps) {
    const auto t0 = Clock::now();
    const auto rows = sampler.next(cfg.batch_size * cfg.grad_accum);
    const SftStepBatch batch = sft_step_batch(cfg, data, rows, shard, place);
    const double lr = schedule.at(step);
    const bool inject_nan =
        std::find(cfg.nan_steps.begin(), cfg.nan_steps.end(), step + 1) != cfg.nan_steps.end();
    const double loss = sft_backward(*model, batch, inject_nan, dist);
    ++step;
    nlohmann::json line = {{"step", step}, {"loss", loss}, {"lr", lr}};
    double grad_norm = 0.0;
    const std::string bad = update_unless_bad(opt, dist, loss, lr, cfg.clip, &grad_norm);
    run.record_step(step, bad, loss, /*trained=*/true, line);
    if (bad.empty()) {
      result.loss = loss;
      line["grad_norm"] = grad_norm;
    }
    result.skipped_steps += !bad.empty();
    line["tokens"] = batch.tokens;
    line["seq_tokens"] = batch.seq_tokens;
    line["epoch"] = static_cast<double>(sampler.epoch()) +
                    static_cast<double>(sampler.offset()) / static_cast<double>(data.train.size());
    line["seconds"] = std::chrono::duration<double>(Clock::now() - t0).count();
    run.log(line);
    result.steps = step;
    run.stop_if_too_many_bad(step, bad, "check the data");
    if (TrainerRun::due(step, cfg.eval_every, data.total_steps)) evaluate(step);
    if (TrainerRun::due(step, cfg.save_every, data.total_steps))
      result.checkpoint =
          run.save(step, {model.get(),
                          cfg.model,
                          &opt,
                          &sampler,
                          {{"total_steps", data.total_steps}, {"loss", result.loss}},
                          {{"rows", data.train.size()}}});
    progress.update(step, "loss " + c10::str(loss) + " lr " + c10::str(lr));
    if (cfg.stop_after > 0 && step == cfg.stop_after) break;
  }
  return result;
}

}  // namespace r1
