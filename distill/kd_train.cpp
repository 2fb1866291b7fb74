// Logit-level distillation trainer (see kd_train.h).
#include "distill/kd_train.h"

#include <torch/torch.h>  // torch ops

#include <chrono>      // std::chrono
#include <cmath>       // std::ceil, std::isfinite
#include <filesystem>  // std::filesystem
#include <limits>      // std::numeric_limits
#include <optional>    // std::optional
#include <vector>      // std::vector

#include "distill/teacher_cache.h"  // r1::TeacherCache, r1::teacher_topk
#include "rl/distributed.h"         // r1::Dist
#include "rl/optim.h"               // r1::AdamW, r1::LrSchedule
#include "rl/sft.h"                 // r1::zero_padding_embedding_grad
#include "rl/sft_data.h"            // r1::load_sft_file, r1::SftSampler
#include "rl/train_common.h"        // r1::named_params, r1::pad_id_of
#include "rl/trainer_run.h"         // r1::TrainerRun
#include "toolkit/chat_template.h"  // r1::load_chat_template
#include "toolkit/engine.h"         // r1::Engine
#include "toolkit/error.h"          // r1::Error, r1::check
#include "toolkit/model_config.h"   // r1::load_model_config
#include "toolkit/model_source.h"   // r1::check_model_tokenizer, r1::tokenizer_sha256
#include "toolkit/progress.h"       // r1::Progress
#include "toolkit/sampling.h"       // r1::derive_seed
#include "toolkit/sha256.h"         // r1::sha256_file
#include "toolkit/tokenizer.h"      // r1::Tokenizer
#include "toolkit/transformer.h"    // r1::load_transformer

namespace r1 {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kStreamSample = 1;  // derive_seed stream of on-policy completions

// One sequence of a step: its tokens and where the loss starts.
struct Sequence {
  std::vector<int64_t> ids;
  int64_t prompt_tokens = 0;  // positions t >= prompt_tokens - 1 predict a response token
};

json config_json(const KdTrainConfig& c, const std::string& data_sha) {
  return {{"student", c.student},
          {"teacher", c.teacher},
          {"data_sha256", data_sha},
          {"beta", c.kd.beta},
          {"temperature", c.kd.temperature},
          {"lmbda", c.kd.lmbda},
          {"top_k", c.kd.top_k},
          {"top_k_tail", c.kd.top_k_tail},
          {"epochs", c.epochs},
          {"batch_size", c.batch_size},
          {"lr", c.lr},
          {"warmup_steps", c.warmup_steps},
          {"min_lr_ratio", c.min_lr_ratio},
          {"clip", c.clip},
          {"seed", c.seed},
          {"max_length", c.max_length},
          {"max_new_tokens", c.max_new_tokens},
          {"sample_temperature", c.sample_temperature}};
}

// Right-padded ids, positions, validity and labels (-100 except where the next token is a
// response token: the label is that token).
struct Padded {
  torch::Tensor ids, positions, valid, labels;
};
Padded pad(const std::vector<Sequence>& seqs, int64_t pad_id) {
  const auto B = static_cast<int64_t>(seqs.size());
  int64_t T = 1;
  for (const auto& s : seqs) T = std::max<int64_t>(T, static_cast<int64_t>(s.ids.size()));
  Padded p;
  p.ids = torch::full({B, T}, pad_id, torch::kLong);
  p.labels = torch::full({B, T}, -100, torch::kLong);
  p.valid = torch::zeros({B, T}, torch::kBool);
  p.positions = torch::arange(T, torch::kLong).unsqueeze(0).repeat({B, 1});
  auto ids = p.ids.accessor<int64_t, 2>();
  auto labels = p.labels.accessor<int64_t, 2>();
  auto valid = p.valid.accessor<bool, 2>();
  for (int64_t b = 0; b < B; ++b) {
    const auto& s = seqs[b];
    const auto n = static_cast<int64_t>(s.ids.size());
    for (int64_t t = 0; t < n; ++t) {
      ids[b][t] = s.ids[t];
      valid[b][t] = true;
      if (t + 1 < n && t + 1 >= s.prompt_tokens) labels[b][t] = s.ids[t + 1];
    }
  }
  return p;
}

}  // namespace

void check_kd_models(const std::string& teacher, const std::string& student) {
  for (const auto* dir : {&student, &teacher})
    check_model_tokenizer(*dir, "a Hugging Face checkpoint directory or a GGUF file is expected");
  check(tokenizer_sha256(teacher) == tokenizer_sha256(student),
        "logit-level KD cannot apply: it compares the two models' next-token distributions token "
        "by token, and " +
            teacher + "'s tokenizer differs from " + student +
            "'s; distil by SFT on the teacher's traces instead (--train sft)");
  const int64_t tv = load_model_config(teacher).vocab_size;
  const int64_t sv = load_model_config(student).vocab_size;
  check(tv == sv, "logit-level KD cannot apply: the teacher's vocabulary (" + std::to_string(tv) +
                      ") and the student's (" + std::to_string(sv) +
                      ") differ; distil by SFT on the teacher's traces instead (--train sft)");
}

namespace {

void validate(const KdTrainConfig& c) {
  check_kd_config(c.kd);
  check(c.epochs > 0 && std::isfinite(c.epochs), "kd: --epochs must be > 0");
  check(c.batch_size > 0, "kd: --batch-size must be > 0");
  check(c.lr > 0 && std::isfinite(c.lr), "kd: --lr must be > 0");
  check(c.max_new_tokens > 0, "kd: --kd-max-new-tokens must be > 0");
}

// The rows distilled on, encoded with the student's tokenizer and template.
struct KdData {
  std::vector<SftExample> rows;
  int64_t max_length = 0, pad_id = 0, total_steps = 0;
  std::vector<int64_t> stop_ids;  // the student's eos tokens
};

KdData load_kd_data(const KdTrainConfig& c, const Tokenizer& tok) {
  const ModelConfig student_config = load_model_config(c.student);
  SftEncoder enc{&tok, load_chat_template(c.student), {}};
  enc.chat.kwargs = parse_template_kwargs(c.template_kwargs, "student_template_kwargs");
  enc.config.max_length = c.max_length > 0 ? c.max_length : student_config.max_position_embeddings;
  KdData d;
  d.rows = load_sft_file(c.data, enc);
  check(!d.rows.empty(), c.data + ": no rows to distil on");
  d.max_length = enc.config.max_length;
  d.pad_id = pad_id_of(tok, student_config);
  d.total_steps = std::max<int64_t>(
      1, static_cast<int64_t>(std::ceil(c.epochs * static_cast<double>(d.rows.size()) /
                                        static_cast<double>(c.batch_size))));
  d.stop_ids = student_config.eos_token_ids;
  return d;
}

// KD's run: no guard of its own (OUT is a folder of r1distill's run), one checkpoint kept, and the
// first non-finite step stops it; a resume needs the very same config.
TrainerRunConfig kd_run_config(const KdTrainConfig& c, const json& config) {
  TrainerRunConfig r;
  r.kind = "kd";
  r.title = "a KD";
  r.out = c.out;
  r.keep_last = 1;
  r.max_bad_steps = 1;
  r.config = config;
  return r;
}

// The step's sequences: the rows as written, or (on-policy) the student's own completions of their
// prompts, one seeded sample each.
std::vector<Sequence> step_sequences(const KdTrainConfig& c, const KdData& data, Engine& engine,
                                     const std::vector<int64_t>& picked, bool on_policy,
                                     int64_t step) {
  std::vector<Sequence> seqs;
  if (!on_policy) {
    for (int64_t i : picked) seqs.push_back({data.rows[i].ids, data.rows[i].prompt_tokens});
    return seqs;
  }
  std::vector<GenerationRequest> reqs;
  for (size_t i = 0; i < picked.size(); ++i) {
    const auto& row = data.rows[picked[i]];
    GenerationRequest r;
    r.prompt.assign(row.ids.begin(), row.ids.begin() + row.prompt_tokens);
    r.sampling = SamplingParams{c.sample_temperature, 1.0, 0};
    r.max_new_tokens = std::min<int64_t>(c.max_new_tokens,
                                         data.max_length - static_cast<int64_t>(r.prompt.size()));
    r.stop_ids = data.stop_ids;
    r.sample_seeds = {derive_seed(c.seed, {kStreamSample, static_cast<uint64_t>(step), i})};
    reqs.push_back(std::move(r));
  }
  const auto out = engine.generate(reqs);
  for (size_t i = 0; i < reqs.size(); ++i) {
    Sequence s{reqs[i].prompt, static_cast<int64_t>(reqs[i].prompt.size())};
    s.ids.insert(s.ids.end(), out[i][0].ids.begin(), out[i][0].ids.end());
    seqs.push_back(std::move(s));
  }
  return seqs;
}

// What the student is trained towards: the teacher's full logits (B, T, V), or with a cache its
// top-K ids and log-probs (B, T, K) per position.
struct TeacherTargets {
  torch::Tensor logits, ids, logprobs;
};

// The teacher's logits for some of the sequences.
torch::Tensor teacher_logits(Transformer& teacher, const std::vector<Sequence>& seqs,
                             const std::vector<int64_t>& which, int64_t pad_id) {
  std::vector<Sequence> part;
  for (int64_t b : which) part.push_back(seqs[b]);
  const Padded p = pad(part, pad_id);
  return teacher.logits(teacher.forward(p.ids, p.positions, p.valid));
}

// Top-K targets from the cache, the teacher run for the misses (stored for the next epoch).
TeacherTargets cached_targets(const KdTrainConfig& c, Transformer& teacher, TeacherCache& cache,
                              const std::vector<Sequence>& seqs, int64_t T, int64_t pad_id,
                              KdTrainResult& result) {
  const auto B = static_cast<int64_t>(seqs.size());
  const int64_t K = c.kd.top_k;
  TeacherTargets t;
  t.ids = torch::zeros({B, T, K}, torch::kInt);
  t.logprobs = torch::full({B, T, K}, -std::numeric_limits<float>::infinity());
  std::vector<int64_t> misses;
  for (int64_t b = 0; b < B; ++b) {
    if (auto hit = cache.load(seqs[b].ids)) {
      const auto n = hit->ids.size(0);
      t.ids[b].narrow(0, 0, n).copy_(hit->ids);
      t.logprobs[b].narrow(0, 0, n).copy_(hit->logprobs);
      ++result.cache_hits;
    } else {
      misses.push_back(b);
    }
  }
  if (misses.empty()) return t;
  const auto logits = teacher_logits(teacher, seqs, misses, pad_id);
  for (size_t m = 0; m < misses.size(); ++m) {
    const int64_t b = misses[m];
    const auto n = static_cast<int64_t>(seqs[b].ids.size());
    const TeacherTopK top = teacher_topk(logits[m].narrow(0, 0, n), K, c.kd.temperature);
    cache.store(seqs[b].ids, top);
    // Rounded to float16 as the cache stores them, so a hit and a miss train alike.
    t.ids[b].narrow(0, 0, n).copy_(top.ids);
    t.logprobs[b].narrow(0, 0, n).copy_(top.logprobs.to(torch::kHalf));
  }
  result.teacher_sequences += static_cast<int64_t>(misses.size());
  return t;
}

TeacherTargets teacher_targets(const KdTrainConfig& c, Transformer& teacher,
                               std::optional<TeacherCache>& cache,
                               const std::vector<Sequence>& seqs, int64_t T, int64_t pad_id,
                               KdTrainResult& result) {
  torch::NoGradGuard no_grad;
  if (cache) return cached_targets(c, teacher, *cache, seqs, T, pad_id, result);
  const auto B = static_cast<int64_t>(seqs.size());
  std::vector<int64_t> all(B);
  for (int64_t b = 0; b < B; ++b) all[b] = b;
  result.teacher_sequences += B;
  return {teacher_logits(teacher, seqs, all, pad_id), {}, {}};
}

// The student's distillation loss on the batch (backward not yet run).
torch::Tensor student_loss(const KdTrainConfig& c, Transformer& student, const Padded& batch,
                           const TeacherTargets& t, bool cached) {
  auto logits = student.logits(student.forward(batch.ids, batch.positions, batch.valid));
  return cached ? topk_jsd_loss(logits, t.ids, t.logprobs, batch.labels, c.kd.beta,
                                c.kd.temperature, "batchmean", c.kd.top_k_tail)
                : generalized_jsd_loss(logits, t.logits, batch.labels, c.kd.beta, c.kd.temperature,
                                       "batchmean");
}

}  // namespace

KdTrainResult run_kd(const KdTrainConfig& c) {
  validate(c);
  if (c.threads > 0) at::set_num_threads(static_cast<int>(c.threads));
  check_kd_models(c.teacher, c.student);
  const Tokenizer tok = Tokenizer::load(c.student);
  const KdData data = load_kd_data(c, tok);
  const json config = config_json(c, sha256_file(c.data));
  TrainerRun run(kd_run_config(c, config));
  run.write_config();

  auto student = load_transformer(run.weights(c.student), torch::kFloat);
  auto teacher = load_transformer(c.teacher, torch::kFloat);
  AdamW opt(named_params(*student), AdamWConfig{0.9, 0.999, 1e-8, 0.0});
  const LrSchedule schedule{c.lr, c.warmup_steps, data.total_steps, c.min_lr_ratio};
  SftSampler sampler(static_cast<int64_t>(data.rows.size()), c.seed);
  int64_t step = run.restore(opt, sampler, c.seed);
  KdTrainResult result = run.result_at<KdTrainResult>(step, data.total_steps);
  result.loss = run.resumed_number("loss", 0.0);
  std::optional<TeacherCache> cache;
  if (c.kd.top_k > 0)
    cache.emplace((fs::path(c.out) / "teacher-cache").string(),
                  fs::absolute(c.teacher).lexically_normal().string() + "@" +
                      sha256_file((fs::path(c.teacher) / "model.safetensors").string()),
                  c.kd.top_k, c.kd.temperature);
  EngineOptions eo;
  eo.max_batch = c.batch_size;
  Engine engine(student, eo);

  Progress progress("kd", data.total_steps);
  progress.update(step);
  while (step < data.total_steps) {
    const auto t0 = Clock::now();
    const auto picked = sampler.next(c.batch_size);
    ++step;
    const bool on_policy = kd_step_on_policy(c.kd.lmbda, c.seed, step);
    const std::vector<Sequence> seqs = step_sequences(c, data, engine, picked, on_policy, step);
    if (on_policy) ++result.on_policy_steps;
    const Padded batch = pad(seqs, data.pad_id);
    const TeacherTargets targets =
        teacher_targets(c, *teacher, cache, seqs, batch.ids.size(1), data.pad_id, result);
    const double lr = schedule.at(step - 1);
    torch::Tensor loss = student_loss(c, *student, batch, targets, cache.has_value());
    loss.backward();
    zero_padding_embedding_grad(*student);
    const double loss_value = loss.item<double>();
    double grad_norm = 0.0;
    const std::string bad = update_unless_bad(opt, Dist(), loss_value, lr, c.clip, &grad_norm);
    if (!bad.empty()) run.bad_step(step, bad, loss_value);
    run.stop_if_too_many_bad(step, bad, "check the data");
    run.good_step();
    result.loss = loss_value;
    result.steps = step;
    run.log({{"step", step},
             {"loss", loss_value},
             {"on_policy", on_policy},
             {"tokens", (batch.labels != -100).sum().item<int64_t>()},
             {"grad_norm", grad_norm},
             {"lr", lr},
             {"epoch", sampler.epoch()},
             {"cache_hits", result.cache_hits},
             {"seconds", std::chrono::duration<double>(Clock::now() - t0).count()}});
    progress.update(step);
    if (c.stop_after > 0 && step == c.stop_after && step < data.total_steps) return result;
    if (TrainerRun::due(step, c.save_every, data.total_steps))
      result.checkpoint =
          run.save(step, {student.get(),
                          c.student,
                          &opt,
                          &sampler,
                          {{"total_steps", data.total_steps}, {"loss", result.loss}},
                          {}});
  }
  return result;
}

}  // namespace r1
