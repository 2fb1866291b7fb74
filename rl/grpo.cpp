// The GRPO trainer loop (see grpo.h). A step is a pure function of (weights, optimiser state,
// prompt position, step number): prompts come from the seeded epoch order, every completion's
// sampling seed from (run seed, the prompt's draw number, sample index), the learning rate from the
// update number, so a checkpoint holding those resumes the run exactly. Log-probs are computed by
// one function (a forward over prompt + completion, then the chunked token_logprobs kernel) for the
// old, reference and current policy, so the first iteration's importance ratio is exactly 1.
// Data parallel (rl/distributed.h): every rank draws the same prompts and generates for its
// contiguous share (groups stay whole), the per-completion facts (rewards, lengths, truncation) are
// gathered so every rank sees the step as one process does (advantages, dynamic sampling, token
// counts, metrics), and each rank computes the loss of its completions weighted exactly as in the
// one-process micro-batches they belong to; gradients are summed before clipping. Rank 0 writes
// the run directory and runs the held-out evaluation while the others wait.
#include "rl/grpo.h"

#include <torch/torch.h>  // torch ops, torch::NoGradGuard

#include <algorithm>   // std::find, std::max, std::min
#include <chrono>      // std::chrono::steady_clock
#include <cmath>       // std::isfinite, std::sqrt
#include <cstdio>      // std::fprintf
#include <deque>       // std::deque
#include <filesystem>  // std::filesystem
#include <limits>      // std::numeric_limits
#include <optional>    // std::optional

#include "evals/backend.h"           // r1::make_native_backend
#include "evals/protocol.h"          // r1::protocol_preset
#include "evals/runner.h"            // r1::run_eval
#include "kernels/token_logprobs.h"  // r1::token_logprobs
#include "rl/checkpoint.h"           // r1::write_checkpoint, r1::MetricsLog
#include "rl/distributed.h"          // r1::Dist, r1::process_dist
#include "rl/grpo_data.h"            // r1::GrpoPrompt, r1::load_grpo_prompts
#include "rl/grpo_loss.h"            // r1::grpo_loss, r1::group_advantages
#include "rl/optim.h"                // r1::AdamW, r1::LrSchedule
#include "rl/sft.h"                  // r1::zero_padding_embedding_grad
#include "rl/sft_data.h"             // r1::SftSampler
#include "rl/train_common.h"         // r1::check_positive, r1::named_params, r1::pad_id_of
#include "toolkit/engine.h"          // r1::Engine
#include "toolkit/error.h"           // r1::Error, r1::check
#include "toolkit/fs.h"              // r1::write_file_atomic
#include "toolkit/run_dir.h"         // r1::check_run_dir
#include "toolkit/json.h"            // r1::dump_json, r1::read_json_file
#include "toolkit/model_config.h"    // r1::load_model_config, r1::parse_dtype
#include "toolkit/progress.h"        // r1::Progress, r1::seconds_since
#include "toolkit/sampling.h"        // r1::derive_seed
#include "toolkit/sha256.h"          // r1::sha256_file
#include "toolkit/tokenizer.h"       // r1::Tokenizer
#include "toolkit/model_source.h"  // r1::check_model_path, r1::check_model_tokenizer

namespace r1 {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Streams derived from the run seed (derive_seed's first part), one per use.
constexpr uint64_t kStreamOrder = 1, kStreamSample = 2;
// Token rows per chunk when computing entropies from hidden states (their logits exist at once).
constexpr int64_t kEntropyRows = 256;

GrpoLossConfig loss_config(const GrpoConfig& c) {
  GrpoLossConfig l;
  l.epsilon = c.epsilon;
  if (c.epsilon_high > 0) l.epsilon_high = c.epsilon_high;
  if (c.delta > 0) l.delta = c.delta;
  l.beta = c.beta;
  l.loss_type = c.loss_type;
  l.importance_sampling_level = c.importance_sampling_level;
  l.max_completion_length = c.max_new_tokens;
  l.scale_rewards = c.scale_rewards;
  l.mask_truncated_completions = c.mask_truncated;
  return l;
}

void validate(const GrpoConfig& c) {
  check(!c.model.empty(), "--model: required (a Hugging Face checkpoint directory)");
  check(!c.prompts.empty(), "--prompts: required (a JSONL file of {\"prompt\", \"answer\"})");
  check(!c.out.empty(), "--out: required (the run directory)");
  for (auto [name, v] : {std::pair{"num_generations", static_cast<double>(c.num_generations)},
                         {"prompts_per_step", static_cast<double>(c.prompts_per_step)},
                         {"max_new_tokens", static_cast<double>(c.max_new_tokens)},
                         {"temperature", c.temperature},
                         {"max_batch", static_cast<double>(c.max_batch)},
                         {"num_iterations", static_cast<double>(c.num_iterations)},
                         {"micro_batch", static_cast<double>(c.micro_batch)},
                         {"steps", static_cast<double>(c.steps)},
                         {"lr", c.lr},
                         {"adam_eps", c.adam_eps},
                         {"eval_samples", static_cast<double>(c.eval_samples)},
                         {"max_bad_steps", static_cast<double>(c.max_bad_steps)}})
    check_positive(name, v);
  for (auto [name, v] : {std::pair{"top_k", static_cast<double>(c.top_k)},
                         {"overlong_buffer", static_cast<double>(c.overlong_buffer)},
                         {"epsilon_high", c.epsilon_high},
                         {"delta", c.delta},
                         {"max_refill_rounds", static_cast<double>(c.max_refill_rounds)},
                         {"warmup_steps", static_cast<double>(c.warmup_steps)},
                         {"weight_decay", c.weight_decay},
                         {"clip", c.clip},
                         {"eval_every", static_cast<double>(c.eval_every)},
                         {"eval_limit", static_cast<double>(c.eval_limit)},
                         {"eval_temperature", c.eval_temperature},
                         {"eval_max_new_tokens", static_cast<double>(c.eval_max_new_tokens)},
                         {"save_every", static_cast<double>(c.save_every)},
                         {"keep_last", static_cast<double>(c.keep_last)},
                         {"threads", static_cast<double>(c.threads)},
                         {"stop_after", static_cast<double>(c.stop_after)}})
    check_non_negative(name, v);
  check(c.top_p > 0 && c.top_p <= 1, "--top-p " + c10::str(c.top_p) + ": must be within (0, 1]");
  check(c.eval_top_p > 0 && c.eval_top_p <= 1,
        "--eval-top-p " + c10::str(c.eval_top_p) + ": must be within (0, 1]");
  check(c.overlong_buffer <= c.max_new_tokens,
        "--overlong-buffer " + std::to_string(c.overlong_buffer) +
            ": must not exceed --max-new-tokens " + std::to_string(c.max_new_tokens));
  check(std::isfinite(c.overlong_factor),
        "--overlong-factor " + c10::str(c.overlong_factor) + ": must be finite");
  check(c.min_lr_ratio >= 0 && c.min_lr_ratio <= 1,
        "--min-lr-ratio " + c10::str(c.min_lr_ratio) + ": must be within [0, 1]");
  check(c.beta1 >= 0 && c.beta1 < 1 && c.beta2 >= 0 && c.beta2 < 1,
        "--beta1/--beta2: must be within [0, 1)");
  try {
    check_grpo_loss_config(loss_config(c));
  } catch (const Error& e) {
    // The loss names its own fields ("grpo epsilon: ..."); say which flag that is.
    throw Error(std::string(e.what()) +
                " (see --epsilon, --epsilon-high, --delta, --beta, "
                "--loss-type, --importance-sampling-level, --scale-rewards)");
  }
}

// One sampled completion of a step.
struct Rollout {
  const GrpoPrompt* prompt = nullptr;
  std::vector<int64_t> ids;  // generated tokens, the stop token included
  bool truncated = false;    // cut at max_new_tokens (or the context)
  double reward = 0.0;       // weighted total, overlong penalty included
};

// A right-padded micro-batch of prompt + completion sequences and where its completion tokens sit.
// Shapes: b rows, T the longest prompt + completion, Tc the longest completion, N completion
// tokens.
struct MicroBatch {
  torch::Tensor ids, positions, valid;  // (b, T) int64, int64, bool
  torch::Tensor predict;                // (N) int64: flat b*T index of the hidden state that
                                        //   predicts each completion token
  torch::Tensor targets;                // (N) int64: the completion tokens
  torch::Tensor place;                  // (N) int64: flat b*Tc index of each completion token
  torch::Tensor mask;                   // (b, Tc) float32: 1 where a completion token carries loss
  torch::Tensor advantages;             // (b) float32
  int64_t b = 0, Tc = 0;
  double tokens = 0;  // mask sum
};

MicroBatch make_micro_batch(const std::vector<const Rollout*>& rows,
                            const std::vector<float>& advantages, bool mask_truncated,
                            int64_t pad_id, torch::Device device) {
  MicroBatch mb;
  mb.b = static_cast<int64_t>(rows.size());
  int64_t T = 1, Tc = 1;
  for (const auto* r : rows) {
    T = std::max<int64_t>(T, static_cast<int64_t>(r->prompt->ids.size() + r->ids.size()));
    Tc = std::max<int64_t>(Tc, static_cast<int64_t>(r->ids.size()));
  }
  mb.Tc = Tc;
  std::vector<int64_t> ids(mb.b * T, pad_id), positions(mb.b * T, 0), predict, targets, place;
  std::vector<uint8_t> valid(mb.b * T, 0);
  std::vector<float> mask(mb.b * Tc, 0.0f);
  for (int64_t i = 0; i < mb.b; ++i) {
    const auto& p = rows[i]->prompt->ids;
    const auto& c = rows[i]->ids;
    const auto P = static_cast<int64_t>(p.size()), C = static_cast<int64_t>(c.size());
    for (int64_t t = 0; t < P + C; ++t) {
      ids[i * T + t] = t < P ? p[t] : c[t - P];
      positions[i * T + t] = t;
      valid[i * T + t] = 1;
    }
    const bool carries = !(mask_truncated && rows[i]->truncated);
    for (int64_t k = 0; k < C; ++k) {
      predict.push_back(i * T + P + k - 1);
      targets.push_back(c[k]);
      place.push_back(i * Tc + k);
      if (carries) mask[i * Tc + k] = 1.0f;
    }
    if (carries) mb.tokens += static_cast<double>(C);
  }
  auto i64 = torch::TensorOptions().dtype(torch::kLong);
  mb.ids = torch::tensor(ids, i64).view({mb.b, T}).to(device);
  mb.positions = torch::tensor(positions, i64).view({mb.b, T}).to(device);
  mb.valid = torch::tensor(std::vector<int64_t>(valid.begin(), valid.end()), i64)
                 .view({mb.b, T})
                 .to(torch::kBool)
                 .to(device);
  mb.predict = torch::tensor(predict, i64).to(device);
  mb.targets = torch::tensor(targets, i64).to(device);
  mb.place = torch::tensor(place, i64).to(device);
  mb.mask = torch::tensor(mask).view({mb.b, Tc}).to(device);
  mb.advantages = torch::tensor(advantages).to(device);
  return mb;
}

// Per-token log-probs (b, Tc) float32 of the completion tokens under `model` with logits / T,
// 0 at padding; differentiable unless grad mode is off. With `entropies`, also the per-token
// entropy (b, Tc) of the same distribution (no gradient).
torch::Tensor completion_logps(Transformer& model, const MicroBatch& mb, double temperature,
                               torch::Tensor* entropies = nullptr) {
  auto hidden = model.forward(mb.ids, mb.positions, mb.valid);                   // (b, T, C)
  auto h = hidden.reshape({-1, hidden.size(-1)}).index_select(0, mb.predict);    // (N, C)
  auto lp = token_logprobs(h, model.lm_head_weight(), mb.targets, temperature);  // (N)
  auto out = torch::zeros({mb.b * mb.Tc}, lp.options()).index_copy(0, mb.place, lp);
  if (entropies != nullptr) {
    torch::NoGradGuard no_grad;
    auto hd = h.detach();
    auto ent = torch::empty({hd.size(0)}, lp.options());  // (N)
    for (int64_t s = 0; s < hd.size(0); s += kEntropyRows) {
      const int64_t n = std::min(kEntropyRows, hd.size(0) - s);
      ent.narrow(0, s, n).copy_(token_entropy(model.logits(hd.narrow(0, s, n)) / temperature));
    }
    *entropies =
        torch::zeros({mb.b * mb.Tc}, lp.options()).index_copy(0, mb.place, ent).view({mb.b, mb.Tc});
  }
  return out.view({mb.b, mb.Tc});
}

// Appends each row's completion log-probs (its C completion tokens' entries) of a micro-batch's
// (b, Tc) log-probs.
void append_rows(std::vector<std::vector<double>>& out, const torch::Tensor& logps,
                 const MicroBatch& mb) {
  const auto lp = logps.detach().to(torch::kCPU, torch::kDouble).contiguous();
  const auto lengths = torch::zeros({mb.b * mb.Tc}, torch::kLong)
                           .index_fill_(0, mb.place.to(torch::kCPU), 1)
                           .view({mb.b, mb.Tc})
                           .sum(1);
  for (int64_t i = 0; i < mb.b; ++i) {
    const double* row = lp.data_ptr<double>() + i * mb.Tc;
    out.emplace_back(row, row + lengths[i].item<int64_t>());
  }
}

double mean_of(const std::vector<double>& v) {
  if (v.empty()) return 0.0;
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

// Population standard deviation (0 for fewer than two values).
double std_of(const std::vector<double>& v) {
  if (v.size() < 2) return 0.0;
  const double m = mean_of(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size()));
}

// Reward scores of several generation rounds as one batch, for logging.
void append_scores(RewardScores& all, const RewardScores& more) {
  if (all.names.empty()) {
    all = more;
    return;
  }
  all.total.insert(all.total.end(), more.total.begin(), more.total.end());
  for (size_t r = 0; r < all.names.size(); ++r) {
    all.values[r].insert(all.values[r].end(), more.values[r].begin(), more.values[r].end());
    all.errors[r] += more.errors[r];
    if (all.first_error[r].empty()) all.first_error[r] = more.first_error[r];
  }
}

// Token-weighted means of the loss metrics over micro-batches (clip_low_min / clip_high_max:
// min / max), one optimiser update's worth.
struct LossStats {
  double weight = 0, kl = 0, clip_low = 0, clip_high = 0, clip_region = 0;
  double entropy_weight = 0, entropy = 0;  // entropies are computed on the first update only
  double clip_low_min = kNaN, clip_high_max = kNaN;
  void add(const GrpoLossOut& o, double tokens) {
    if (tokens <= 0) return;
    weight += tokens;
    kl += std::isfinite(o.kl_mean) ? o.kl_mean * tokens : 0.0;
    if (std::isfinite(o.entropy_mean)) {
      entropy_weight += tokens;
      entropy += o.entropy_mean * tokens;
    }
    clip_low += o.clip_low_mean * tokens;
    clip_high += o.clip_high_mean * tokens;
    clip_region += o.clip_region_mean * tokens;
    if (std::isfinite(o.clip_low_min))
      clip_low_min =
          std::isfinite(clip_low_min) ? std::min(clip_low_min, o.clip_low_min) : o.clip_low_min;
    if (std::isfinite(o.clip_high_max))
      clip_high_max =
          std::isfinite(clip_high_max) ? std::max(clip_high_max, o.clip_high_max) : o.clip_high_max;
  }
  double mean(double sum) const { return weight > 0 ? sum / weight : 0.0; }
  double entropy_mean() const { return entropy_weight > 0 ? entropy / entropy_weight : 0.0; }
  // The job's stats from every rank's (sums added, extremes taken; NaN where no rank has one).
  void reduce(const Dist& dist) {
    if (!dist.active()) return;
    std::vector<double> sums = {weight,         kl,     clip_low, clip_high, clip_region,
                                entropy_weight, entropy};
    dist.sum(sums);
    weight = sums[0], kl = sums[1], clip_low = sums[2], clip_high = sums[3];
    clip_region = sums[4], entropy_weight = sums[5], entropy = sums[6];
    constexpr double kInf = std::numeric_limits<double>::infinity();
    std::vector<double> highs = {std::isfinite(clip_low_min) ? -clip_low_min : -kInf,
                                 std::isfinite(clip_high_max) ? clip_high_max : -kInf};
    dist.max(highs);
    clip_low_min = std::isfinite(highs[0]) ? -highs[0] : kNaN;
    clip_high_max = std::isfinite(highs[1]) ? highs[1] : kNaN;
  }
};

// What every rank knows of a kept completion, whichever rank generated it.
struct KeptCompletion {
  const Rollout* local = nullptr;  // this rank's rollout (its tokens); null: another rank's
  double reward = 0.0;             // weighted total plus the overlong penalty
  double tokens = 0.0;             // completion tokens carrying loss (0 when masked as truncated)
};

// Every completion of one generation round as one process sees it, in its order (prompt by prompt,
// G each). This rank generated [offset, offset + mine.total.size()) of the n; each rank fills in
// its own and the ranks sum. first_error stays this rank's.
struct RoundFacts {
  RewardScores scores;
  std::vector<double> penalty;  // overlong penalty per completion (0 when off)
  std::vector<int64_t> length;  // generated tokens per completion
  std::vector<bool> truncated;  // cut at max_new_tokens
};
RoundFacts gather_round(const Dist& dist, const RewardScores& mine,
                        const std::deque<Rollout>& local, size_t first_local,
                        const std::vector<double>& my_penalty, int64_t offset, int64_t n) {
  const size_t R = mine.names.size();
  const size_t F = 4 + R;  // total, penalty, length, truncated, values per reward
  std::vector<double> packed(static_cast<size_t>(n) * F + R, 0.0);
  for (size_t k = 0; k < mine.total.size(); ++k) {
    double* row = &packed[(static_cast<size_t>(offset) + k) * F];
    const Rollout& r = local[first_local + k];
    row[0] = mine.total[k];
    row[1] = my_penalty.empty() ? 0.0 : my_penalty[k];
    row[2] = static_cast<double>(r.ids.size());
    row[3] = r.truncated ? 1.0 : 0.0;
    for (size_t q = 0; q < R; ++q) row[4 + q] = mine.values[q][k];
  }
  for (size_t q = 0; q < R; ++q)
    packed[static_cast<size_t>(n) * F + q] = static_cast<double>(mine.errors[q]);
  dist.sum(packed);
  RoundFacts f;
  f.scores.names = mine.names;
  f.scores.weights = mine.weights;
  f.scores.first_error = mine.first_error;
  f.scores.values.assign(R, std::vector<double>(static_cast<size_t>(n)));
  for (size_t c = 0; c < static_cast<size_t>(n); ++c) {
    const double* row = &packed[c * F];
    f.scores.total.push_back(row[0]);
    f.penalty.push_back(row[1]);
    f.length.push_back(static_cast<int64_t>(row[2]));
    f.truncated.push_back(row[3] != 0.0);
    for (size_t q = 0; q < R; ++q) f.scores.values[q][c] = row[4 + q];
  }
  for (size_t q = 0; q < R; ++q)
    f.scores.errors.push_back(static_cast<int64_t>(packed[static_cast<size_t>(n) * F + q]));
  return f;
}

// run_eval's directories of steps after `step` (a killed run's, redone after the resume).
void remove_evals_after(const std::string& root, int64_t step) {
  if (!fs::is_directory(root)) return;
  for (const auto& e : fs::directory_iterator(root)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("step-", 0) != 0) continue;
    try {
      if (std::stoll(name.substr(5)) > step) fs::remove_all(e.path());
    } catch (const std::exception&) {
    }
  }
}

}  // namespace

json grpo_config_json(const GrpoConfig& c) {
  json j = json::object();
  visit_grpo_config(
      c, [&](const char* name, const auto& field, const char*, FieldRole) { j[name] = field; });
  return j;
}

std::optional<std::string> grpo_config_difference(const json& saved, const json& now) {
  GrpoConfig probe;
  std::optional<std::string> diff;
  visit_grpo_config(probe, [&](const char* name, const auto&, const char*, FieldRole role) {
    if (diff || role != FieldRole::kRun) return;
    diff = config_field_difference(name, saved, now);
  });
  return diff;
}

void check_grpo_config(const GrpoConfig& c) { validate(c); }

namespace {

// OUT/batches/step-NNNNNN.json (GrpoConfig::dump_batches): the step's kept completions in group
// order with their advantages and pre-update log-probs (`logps`, one vector per completion),
// and the step's outcome in `line`.
void dump_batch(const std::string& out, int64_t step, const std::vector<KeptCompletion>& kept,
                const std::vector<float>& advantages, const std::vector<std::vector<double>>& logps,
                const json& line) {
  json rows = json::array();
  for (size_t k = 0; k < kept.size(); ++k)
    rows.push_back({{"prompt_ids", kept[k].local->prompt->ids},
                    {"completion_ids", kept[k].local->ids},
                    {"reward", kept[k].reward},
                    {"advantage", advantages[k]},
                    {"truncated", kept[k].local->truncated},
                    {"logps", k < logps.size() ? json(logps[k]) : json::array()}});
  json j = {{"format", "r1-grpo-batch"}, {"version", 1}, {"step", step}, {"completions", rows}};
  for (const char* key : {"loss", "kl", "grad_norm", "lr", "reward", "tokens", "iterations"})
    if (line.contains(key)) j[key] = line.at(key);
  char name[32];
  std::snprintf(name, sizeof(name), "step-%06lld.json", static_cast<long long>(step));
  const std::string dir = out + "/batches";
  std::filesystem::create_directories(dir);
  write_file_atomic(dir + "/" + name, j.dump() + "\n");
}

}  // namespace

GrpoResult run_grpo(const GrpoConfig& cfg, const RewardRegistry* registry) {
  validate(cfg);
  if (cfg.threads > 0) at::set_num_threads(static_cast<int>(cfg.threads));
  check_model_path(cfg.model, "--model");
  check_model_tokenizer(cfg.model, "GRPO renders prompts and reads completions with it");
  // The job (one process unless launched with RANK/WORLD_SIZE): each rank generates for its share
  // of a step's prompts. The split is checked before the rendezvous, so that a bad flag fails at
  // once on every rank.
  const int64_t world = read_dist_env().world_size;
  check(cfg.prompts_per_step % world == 0,
        "--prompts-per-step " + std::to_string(cfg.prompts_per_step) +
            ": not divisible by WORLD_SIZE " + std::to_string(world) +
            " (each rank generates the groups of an equal share of the step's prompts)");
  check(!cfg.dump_batches || world == 1,
        "--dump-batches writes one process's batches; run it without RANK/WORLD_SIZE");
  const torch::Device requested = parse_device(cfg.device, "--device");
  const Dist& dist = process_dist(requested);
  const torch::Device device = dist.device_for(requested);
  const at::ScalarType dtype = resolve_train_dtype(cfg.dtype, device);
  const GrpoLossConfig loss_cfg = loss_config(cfg);

  // Data.
  const Tokenizer tok = Tokenizer::load(cfg.model);
  const ModelConfig model_config = load_model_config(cfg.model);
  GrpoPromptEncoder enc{&tok, load_chat_template(cfg.model, cfg.chat_template), {}};
  enc.chat.kwargs = parse_template_kwargs(cfg.template_kwargs, "template_kwargs");
  enc.config.prompt_template = cfg.prompt_template;
  enc.config.system_prompt = cfg.system_prompt;
  enc.config.force_think = !cfg.no_think;
  enc.config.max_context = model_config.max_position_embeddings;
  const auto prompts = load_grpo_prompts(cfg.prompts, enc);
  if (!cfg.eval_prompts.empty()) load_grpo_prompts(cfg.eval_prompts, enc);  // errors up front
  const std::string data_sha = sha256_file(cfg.prompts);
  const int64_t pad_id = pad_id_of(tok, model_config);
  std::vector<int64_t> stop_ids = stop_token_ids(load_generation_defaults(cfg.model), model_config);
  if (stop_ids.empty() && tok.eos_id) stop_ids.push_back(*tok.eos_id);
  const int64_t G = cfg.num_generations;
  const int64_t total_updates = cfg.steps * cfg.num_iterations;

  // Rewards.
  RewardConfig reward_cfg;
  reward_cfg.accuracy.extract = cfg.extract;
  reward_cfg.length.max_tokens = cfg.max_new_tokens;
  reward_cfg.length.buffer_tokens =
      cfg.overlong_buffer > 0 ? cfg.overlong_buffer
                              : std::min(reward_cfg.length.buffer_tokens, cfg.max_new_tokens);
  RewardSet rewards =
      registry ? RewardSet(cfg.rewards, reward_cfg, *registry) : RewardSet(cfg.rewards, reward_cfg);

  // Run directory (rank 0's to write), and the checkpoint to resume from (every rank reads it).
  CheckpointConfig ckpt{(fs::path(cfg.out) / "checkpoints").string(), cfg.keep_last,
                        cfg.before_checkpoint_write};
  if (dist.is_main()) {
    check_run_dir(cfg.out, "grpo_config.json", "r1train grpo");
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
  const json config_json = grpo_config_json(cfg);
  json state;
  if (resume) {
    const std::string origin = (fs::path(resume->second) / kTrainerStateFile).string();
    state = read_json_file(origin);
    check(state.value("format", "") == "r1-grpo-state",
          origin + ": not a GRPO trainer state (field \"format\")");
    if (auto diff = grpo_config_difference(state.at("config"), config_json))
      throw Error("cannot resume " + cfg.out + " from " + resume->second + ": " + *diff +
                  " (use the same flags, or a new --out)");
    check(state.at("data").at("sha256") == data_sha,
          "cannot resume " + cfg.out + ": --prompts " + cfg.prompts +
              " changed since the run started (sha256 differs; use a new --out)");
  }
  if (dist.is_main()) {
    json resolved = config_json;
    resolved["total_updates"] = total_updates;
    resolved["max_context"] = enc.config.max_context;
    resolved["train_prompts"] = prompts.size();
    resolved["reward_names"] = rewards.names();
    if (dist.active()) resolved["world_size"] = dist.world_size();
    write_file_atomic((fs::path(cfg.out) / "grpo_config.json").string(),
                      dump_json(resolved, 2) + "\n");
  }

  // Policy (from the checkpoint when resuming), frozen reference (the base model, beta > 0 only).
  auto model = load_transformer(resume ? resume->second : cfg.model, dtype, device);
  std::shared_ptr<Transformer> ref;
  if (cfg.beta != 0.0) {
    ref = load_transformer(cfg.model, dtype, device);
    for (auto& p : ref->parameters()) p.set_requires_grad(false);
  }
  AdamW opt(named_params(*model),
            AdamWConfig{cfg.beta1, cfg.beta2, cfg.adam_eps, cfg.weight_decay});
  const LrSchedule schedule{cfg.lr, cfg.warmup_steps, total_updates, cfg.min_lr_ratio};
  SftSampler sampler(static_cast<int64_t>(prompts.size()), derive_seed(cfg.seed, {kStreamOrder}));
  int64_t step = 0, bad_in_a_row = 0, drawn = 0;
  GrpoResult result;
  result.total_steps = cfg.steps;
  if (resume) {
    load_optimizer_state(opt, resume->second);
    step = state.at("step").get<int64_t>();
    bad_in_a_row = state.at("bad_in_a_row").get<int64_t>();
    drawn = state.at("data").at("drawn").get<int64_t>();
    sampler.seek(state.at("data").at("epoch").get<int64_t>(),
                 state.at("data").at("offset").get<int64_t>());
    set_torch_rng_state(state.at("rng"), resume->second);
    result.resumed_from = result.steps = step;
    result.checkpoint = resume->second;
    if (state.contains("reward") && state["reward"].is_number()) result.reward = state["reward"];
  } else {
    torch::manual_seed(cfg.seed);
  }
  const std::string metrics_path =
      cfg.metrics.empty() ? (fs::path(cfg.out) / "metrics.jsonl").string() : cfg.metrics;
  // A fresh run drops every line (a killed run's before its first checkpoint); a resume, the lines
  // after its checkpoint. The same for held-out evaluations.
  std::optional<MetricsLog> metrics;  // rank 0's
  const std::string evals_root = (fs::path(cfg.out) / "evals").string();
  if (dist.is_main()) {
    metrics.emplace(metrics_path, resume ? step : int64_t{-1});
    remove_evals_after(evals_root, resume ? step : -1);
  }
  auto log = [&](const json& line) {
    if (metrics) metrics->write(line);
  };

  EngineOptions engine_options;
  engine_options.max_batch = cfg.max_batch;
  Engine engine(model, engine_options);

  // Held-out pass@1 through r1eval's runner on the live weights; fields for the step's line.
  auto evaluate_here = [&](int64_t at_step) -> json {
    if (cfg.eval_prompts.empty()) return json::object();
    const auto t0 = Clock::now();
    RunOptions ro;
    ro.dataset = cfg.eval_prompts;
    ro.question_field = "prompt";
    ro.answer_field = "answer";
    ro.protocol = protocol_preset("grpo");
    ro.protocol.prompt_template = cfg.prompt_template;
    ro.protocol.system_prompt = cfg.system_prompt;
    ro.protocol.force_think = !cfg.no_think;
    ro.protocol.temperature = cfg.eval_temperature;
    ro.protocol.top_p = cfg.eval_top_p;
    ro.protocol.top_k = 0;
    ro.protocol.max_new_tokens =
        cfg.eval_max_new_tokens > 0 ? cfg.eval_max_new_tokens : cfg.max_new_tokens;
    ro.protocol.samples = cfg.eval_samples;
    ro.protocol.seed = cfg.seed;
    ro.protocol.extract = cfg.extract;
    ro.out_dir = (fs::path(evals_root) / fs::path(checkpoint_dir("", at_step)).filename()).string();
    ro.limit = cfg.eval_limit;
    ro.progress = false;
    ro.quiet = true;  // the step's line reports the evaluation
    ro.bootstrap = 1000;
    NativeOptions no;
    no.model_dir = cfg.model;
    no.chat_template = cfg.chat_template;
    no.template_kwargs = cfg.template_kwargs;
    no.max_batch = cfg.max_batch;
    auto backend = make_native_backend(model, no,
                                       "live:" + fs::absolute(cfg.out).lexically_normal().string() +
                                           "@step-" + std::to_string(at_step));
    const json results = run_eval(ro, *backend);
    const json& b = results.at("benchmarks").begin().value();
    result.eval_pass1 = b.at("pass@1").get<double>();
    return {{"eval/pass@1", b.at("pass@1")},
            {"eval/problems", b.at("problems")},
            {"eval/samples", b.at("samples")},
            {"eval/truncated_rate", b.at("truncated_rate")},
            {"time/eval", seconds_since(t0)}};
  };
  // Rank 0 evaluates; the others wait for it.
  auto evaluate = [&](int64_t at_step) -> json {
    if (cfg.eval_prompts.empty()) return json::object();
    json fields = dist.is_main() ? evaluate_here(at_step) : json::object();
    dist.wait_for_main();
    return fields;
  };
  auto save = [&](int64_t at_step) {
    json s = {{"format", "r1-grpo-state"},
              {"version", 1},
              {"step", at_step},
              {"total_steps", cfg.steps},
              {"updates", opt.steps()},
              {"bad_in_a_row", bad_in_a_row},
              {"reward", result.reward},
              {"data",
               {{"path", cfg.prompts},
                {"sha256", data_sha},
                {"rows", prompts.size()},
                {"epoch", sampler.epoch()},
                {"offset", sampler.offset()},
                {"drawn", drawn}}},
              {"rng", torch_rng_state()},
              {"config", config_json}};
    if (dist.is_main())
      result.checkpoint = write_checkpoint(ckpt, at_step, {model.get(), cfg.model, s, opt.state()});
    else
      result.checkpoint = checkpoint_dir(ckpt.root, at_step);
    dist.wait_for_main();
  };

  if (!resume && !cfg.eval_prompts.empty()) {
    json line = evaluate(0);
    line["step"] = 0;
    log(line);
  }
  Progress progress("grpo", cfg.steps, dist.is_main() && Progress::stderr_is_terminal());
  progress.update(step);
  while (step < cfg.steps) {
    const auto t_step = Clock::now();
    ++step;
    json line = {{"step", step}};
    double t_generate = 0, t_reward = 0, t_logprobs = 0, t_update = 0;

    // Generate and score; with dynamic sampling, drop groups whose rewards are all equal and draw
    // more prompts until the batch is full or the refill rounds are spent. Each rank generates the
    // groups of its contiguous share of a round's prompts (seeds by draw number, so the samples do
    // not depend on the rank), then every rank learns every completion's facts (gather_round).
    std::deque<Rollout> local;         // this rank's completions, every round
    std::vector<KeptCompletion> kept;  // group-major: G consecutive completions per prompt
    RewardScores scores, local_scores;
    std::vector<double> lengths, overlong;
    int64_t groups_generated = 0, groups_dropped = 0, rounds = 0, truncated = 0;
    for (int64_t need = cfg.prompts_per_step; need > 0;) {
      const auto t0 = Clock::now();
      const auto rows = sampler.next(need);
      const auto n_rows = static_cast<int64_t>(rows.size());
      const auto [row_lo, row_hi] = dist.shard(n_rows);
      std::vector<GenerationRequest> requests;
      for (int64_t i = row_lo; i < row_hi; ++i) {
        GenerationRequest r;
        r.prompt = prompts[rows[i]].ids;
        r.n = G;
        r.sampling = SamplingParams{cfg.temperature, cfg.top_p, cfg.top_k};
        r.max_new_tokens = cfg.max_new_tokens;
        r.stop_ids = stop_ids;
        for (int64_t j = 0; j < G; ++j)
          r.sample_seeds.push_back(derive_seed(
              cfg.seed,
              {kStreamSample, static_cast<uint64_t>(drawn + i), static_cast<uint64_t>(j)}));
        requests.push_back(std::move(r));
      }
      drawn += n_rows;
      std::vector<std::vector<GeneratedSample>> samples;
      if (!requests.empty()) samples = engine.generate(requests);
      t_generate += seconds_since(t0);

      const auto t1 = Clock::now();
      const size_t first_local = local.size();
      std::vector<RewardInput> inputs;
      for (size_t i = 0; i < samples.size(); ++i) {
        const GrpoPrompt& p = prompts[rows[row_lo + static_cast<int64_t>(i)]];
        for (const auto& s : samples[i]) {
          Rollout r;
          r.prompt = &p;
          r.ids = s.ids;
          r.truncated = s.finish_reason == "length";
          std::vector<int64_t> text_ids = s.ids;
          if (!r.truncated && !text_ids.empty() &&
              std::find(stop_ids.begin(), stop_ids.end(), text_ids.back()) != stop_ids.end())
            text_ids.pop_back();
          RewardInput in;
          in.prompt = p.problem;
          in.completion = tok.decode(text_ids, /*skip_special_tokens=*/true);
          in.think_opened = !cfg.no_think;
          in.gold = p.answer;
          in.code = p.code;
          in.finish_reason = s.finish_reason;
          in.completion_tokens = static_cast<int64_t>(s.ids.size());
          inputs.push_back(std::move(in));
          local.push_back(std::move(r));
        }
      }
      const RewardScores sc = rewards.compute(inputs);
      append_scores(local_scores, sc);
      std::vector<double> my_penalty;
      if (cfg.overlong_buffer > 0)
        for (size_t k = first_local; k < local.size(); ++k)
          my_penalty.push_back(cfg.overlong_factor *
                               overlong_penalty(static_cast<int64_t>(local[k].ids.size()),
                                                cfg.max_new_tokens, cfg.overlong_buffer));
      const RoundFacts f =
          gather_round(dist, sc, local, first_local, my_penalty, row_lo * G, n_rows * G);
      std::vector<double> round_rewards(f.scores.total.size());
      for (size_t k = 0; k < round_rewards.size(); ++k) {
        round_rewards[k] = f.scores.total[k];
        if (cfg.overlong_buffer > 0) {
          round_rewards[k] += f.penalty[k];
          overlong.push_back(f.penalty[k]);
        }
        lengths.push_back(static_cast<double>(f.length[k]));
        truncated += f.truncated[k] ? 1 : 0;
      }
      for (size_t k = first_local; k < local.size(); ++k)
        local[k].reward = round_rewards[static_cast<size_t>(row_lo * G) + k - first_local];
      append_scores(scores, f.scores);
      for (int64_t g = 0; g < n_rows; ++g) {
        ++groups_generated;
        bool all_equal = true;
        for (int64_t j = 1; j < G; ++j)
          all_equal = all_equal && round_rewards[g * G + j] == round_rewards[g * G];
        if (cfg.dynamic_sampling && all_equal) {
          ++groups_dropped;
          continue;
        }
        for (int64_t j = 0; j < G; ++j) {
          const size_t c = static_cast<size_t>(g * G + j);
          KeptCompletion k;
          if (g >= row_lo && g < row_hi)
            k.local = &local[first_local + static_cast<size_t>((g - row_lo) * G + j)];
          k.reward = round_rewards[c];
          k.tokens = cfg.mask_truncated && f.truncated[c] ? 0.0 : static_cast<double>(f.length[c]);
          kept.push_back(k);
        }
      }
      t_reward += seconds_since(t1);
      if (!cfg.dynamic_sampling || rounds == cfg.max_refill_rounds) break;
      need = cfg.prompts_per_step - static_cast<int64_t>(kept.size()) / G;
      if (need > 0) ++rounds;
    }
    for (size_t r = 0; r < local_scores.names.size(); ++r)
      if (local_scores.errors[r] > 0)
        std::fprintf(
            stderr, "grpo: %sstep %lld: reward %s could not score %lld samples (scored 0): %s\n",
            dist.active() ? ("rank " + std::to_string(dist.rank()) + ": ").c_str() : "",
            static_cast<long long>(step), local_scores.names[r].c_str(),
            static_cast<long long>(local_scores.errors[r]), local_scores.first_error[r].c_str());

    // Advantages over the kept groups, then micro-batches of micro_batch completions in group
    // order, as one process cuts them. This rank computes the loss of its own completions in each
    // (a piece), scaled so that the pieces of a micro-batch add up to its one-process loss: grpo
    // and dr_grpo average over the micro-batch's sequences (b_piece / b), bnpo over its tokens
    // (tokens_piece / tokens), dapo divides by the step's tokens already.
    const auto n_kept = static_cast<int64_t>(kept.size());
    const int64_t n_micro = (n_kept + cfg.micro_batch - 1) / cfg.micro_batch;
    std::vector<MicroBatch> micro;    // this rank's pieces
    std::vector<double> piece_scale;  // per piece
    double batch_tokens = 0;
    std::vector<float> advs;
    if (n_kept > 0) {
      std::vector<float> rw;
      for (const auto& k : kept) rw.push_back(static_cast<float>(k.reward));
      auto adv = group_advantages(torch::tensor(rw), G, cfg.scale_rewards);
      advs.assign(adv.data_ptr<float>(), adv.data_ptr<float>() + adv.numel());
      for (int64_t m = 0; m < n_micro; ++m) {
        const int64_t s = m * cfg.micro_batch, e = std::min(n_kept, s + cfg.micro_batch);
        double micro_tokens = 0, piece_tokens = 0;
        std::vector<const Rollout*> part;
        std::vector<float> part_advs;
        for (int64_t c = s; c < e; ++c) {
          micro_tokens += kept[c].tokens;
          if (kept[c].local == nullptr) continue;
          part.push_back(kept[c].local);
          part_advs.push_back(advs[c]);
          piece_tokens += kept[c].tokens;
        }
        batch_tokens += micro_tokens;
        if (part.empty()) continue;
        micro.push_back(make_micro_batch(part, part_advs, cfg.mask_truncated, pad_id, device));
        double scale = 1.0;
        if (cfg.loss_type == "grpo" || cfg.loss_type == "dr_grpo")
          scale = static_cast<double>(part.size()) / static_cast<double>(e - s);
        else if (cfg.loss_type == "bnpo")
          scale = std::max(piece_tokens, 1.0) / std::max(micro_tokens, 1.0);
        piece_scale.push_back(scale);
      }
    }
    GrpoLossConfig lc = loss_cfg;
    lc.gradient_accumulation_steps = std::max<int64_t>(1, n_micro);
    lc.steps_per_generation = lc.gradient_accumulation_steps;

    // Old log-probs (num_iterations > 1) and reference log-probs (beta > 0), without gradient.
    const auto t2 = Clock::now();
    std::vector<torch::Tensor> old_logps(micro.size()), ref_logps(micro.size());
    {
      torch::NoGradGuard no_grad;
      for (size_t m = 0; m < micro.size(); ++m) {
        if (cfg.num_iterations > 1)
          old_logps[m] = completion_logps(*model, micro[m], cfg.temperature);
        if (ref) ref_logps[m] = completion_logps(*ref, micro[m], cfg.temperature);
      }
    }
    t_logprobs = seconds_since(t2);

    // num_iterations updates on the batch. The loss, its metrics and the gradients are summed over
    // the ranks before anything is decided, so every rank skips or takes the same update.
    const auto t3 = Clock::now();
    const bool inject_nan =
        std::find(cfg.nan_steps.begin(), cfg.nan_steps.end(), step) != cfg.nan_steps.end();
    json iterations = json::array();
    std::vector<std::vector<double>> dumped_logps;  // dump_batches: per completion, before updating
    LossStats stats;
    double loss_mean = 0, grad_norm_last = 0;
    std::string bad;
    for (int64_t it = 0; it < cfg.num_iterations && n_kept > 0; ++it) {
      const int64_t update = (step - 1) * cfg.num_iterations + it;
      const double lr = schedule.at(update);
      double loss = 0, log_ratio_max = 0;
      LossStats it_stats;
      for (size_t m = 0; m < micro.size(); ++m) {
        torch::Tensor entropies;
        auto logps =
            completion_logps(*model, micro[m], cfg.temperature, it == 0 ? &entropies : nullptr);
        if (cfg.dump_batches && it == 0) append_rows(dumped_logps, logps, micro[m]);
        GrpoLossBatch lb;
        lb.num_items_in_batch = batch_tokens;
        lb.entropies = entropies;
        const GrpoLossOut out = grpo_loss(logps, old_logps[m], ref_logps[m], micro[m].advantages,
                                          micro[m].mask, lc, lb);
        auto l = out.loss;
        if (piece_scale[m] != 1.0) l = l * piece_scale[m];
        if (inject_nan) l = l * std::numeric_limits<float>::quiet_NaN();
        l.backward();
        loss += l.item<double>();
        it_stats.add(out, micro[m].tokens);
        stats.add(out, micro[m].tokens);
        if (old_logps[m].defined() && micro[m].tokens > 0) {
          torch::NoGradGuard no_grad;
          log_ratio_max = std::max(
              log_ratio_max,
              ((logps.detach() - old_logps[m]).abs() * micro[m].mask).max().item<double>());
        }
      }
      zero_padding_embedding_grad(*model);  // as transformers' Embedding(padding_idx) (sft.h)
      if (dist.active()) {
        loss = dist.sum(loss);
        std::vector<double> highest = {log_ratio_max};
        dist.max(highest);
        log_ratio_max = highest[0];
        it_stats.reduce(dist);
      }
      json it_line = {{"lr", lr}, {"loss", loss}};
      if (cfg.num_iterations > 1) it_line["log_ratio_max"] = log_ratio_max;
      it_line["clip_ratio/region_mean"] = it_stats.mean(it_stats.clip_region);
      std::string it_bad;
      double grad_norm = 0;
      if (!std::isfinite(loss)) {
        it_bad = "non-finite loss";
      } else {
        dist.sum_gradients(opt.params());
        grad_norm = global_grad_norm(opt.params());
        if (!std::isfinite(grad_norm)) it_bad = "non-finite gradient norm";
      }
      if (it_bad.empty()) {
        opt.step(lr, clip_coefficient(grad_norm, cfg.clip));
        it_line["grad_norm"] = grad_norm;
        grad_norm_last = grad_norm;
      } else {
        it_line["skipped"] = it_bad;
        if (bad.empty()) bad = it_bad;
      }
      opt.zero_grad();
      loss_mean += loss / static_cast<double>(cfg.num_iterations);
      iterations.push_back(it_line);
    }
    stats.reduce(dist);
    t_update = seconds_since(t3);

    // The step's line.
    const int64_t n_generated = static_cast<int64_t>(lengths.size());
    line.update(scores.log_fields());
    std::vector<double> totals;  // rewards with the overlong penalty, all generated completions
    for (size_t k = 0; k < scores.total.size(); ++k)
      totals.push_back(scores.total[k] + (overlong.empty() ? 0.0 : overlong[k]));
    line["reward"] = result.reward = mean_of(totals);
    line["reward_std"] = std_of(totals);
    for (size_t r = 0; r < scores.names.size(); ++r)
      line["reward/" + scores.names[r] + "/std"] = std_of(scores.values[r]);
    if (!overlong.empty()) line["reward/overlong"] = mean_of(overlong);
    for (size_t r = 0; r < scores.names.size(); ++r)
      if (scores.names[r] == "accuracy") line["accuracy"] = mean_of(scores.values[r]);
    line["completions/mean_length"] = mean_of(lengths);
    line["completions/max_length"] =
        lengths.empty() ? 0.0 : *std::max_element(lengths.begin(), lengths.end());
    line["completions/min_length"] =
        lengths.empty() ? 0.0 : *std::min_element(lengths.begin(), lengths.end());
    line["completions/truncated_rate"] =
        n_generated ? static_cast<double>(truncated) / static_cast<double>(n_generated) : 0.0;
    line["groups/generated"] = groups_generated;
    line["groups/dropped"] = groups_dropped;
    line["groups/kept"] = n_kept / G;
    line["refill_rounds"] = rounds;
    line["tokens"] = batch_tokens;
    line["lr"] = schedule.at((step - 1) * cfg.num_iterations);
    if (n_kept == 0) {
      line["skipped"] = "no group to train on (every group's rewards were equal)";
    } else {
      line["loss"] = loss_mean;
      line["grad_norm"] = grad_norm_last;
      if (cfg.beta != 0.0) line["kl"] = stats.mean(stats.kl);
      line["entropy"] = stats.entropy_mean();
      line["clip_ratio/low_mean"] = stats.mean(stats.clip_low);
      line["clip_ratio/high_mean"] = stats.mean(stats.clip_high);
      line["clip_ratio/region_mean"] = stats.mean(stats.clip_region);
      line["clip_ratio/low_min"] = std::isfinite(stats.clip_low_min) ? stats.clip_low_min : 0.0;
      line["clip_ratio/high_max"] = std::isfinite(stats.clip_high_max) ? stats.clip_high_max : 0.0;
      line["iterations"] = iterations;
    }
    line["epoch"] = sampler.epoch();
    line["time/generate"] = t_generate;
    line["time/reward"] = t_reward;
    line["time/logprobs"] = t_logprobs;
    line["time/update"] = t_update;

    if (bad.empty()) {
      if (n_kept > 0) bad_in_a_row = 0;
    } else {
      ++bad_in_a_row;
      ++result.skipped_steps;
      line["skipped"] = bad;
      if (dist.is_main())
        std::fprintf(
            stderr, "grpo: step %lld: %s (loss %g), update skipped (%lld in a row, stop at %lld)\n",
            static_cast<long long>(step), bad.c_str(), loss_mean,
            static_cast<long long>(bad_in_a_row), static_cast<long long>(cfg.max_bad_steps));
    }
    result.steps = step;
    if (bad_in_a_row >= cfg.max_bad_steps) {
      line["time/step"] = seconds_since(t_step);
      log(line);
      const auto good = latest_checkpoint(ckpt.root);
      throw Error("step " + std::to_string(step) + ": " + std::to_string(bad_in_a_row) +
                  " steps in a row had a " + bad + "; stopped. " +
                  (good ? "The last good checkpoint is " + good->second
                        : std::string("No checkpoint was written yet")) +
                  " (lower --lr or check the rewards; see " + metrics_path + ")");
    }
    if ((cfg.eval_every > 0 && step % cfg.eval_every == 0) || step == cfg.steps)
      line.update(evaluate(step));
    line["time/step"] = seconds_since(t_step);
    log(line);
    if (cfg.dump_batches) dump_batch(cfg.out, step, kept, advs, dumped_logps, line);
    if ((cfg.save_every > 0 && step % cfg.save_every == 0) || step == cfg.steps) save(step);
    progress.update(
        step, "reward " + c10::str(line["reward"].get<double>()) +
                  (line.contains("accuracy") ? " acc " + c10::str(line["accuracy"].get<double>())
                                             : std::string()) +
                  " len " + c10::str(line["completions/mean_length"].get<double>()));
    if (cfg.stop_after > 0 && step == cfg.stop_after) break;
  }
  return result;
}

}  // namespace r1
