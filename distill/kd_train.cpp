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
#include "rl/checkpoint.h"          // r1::write_checkpoint, r1::latest_checkpoint, r1::MetricsLog
#include "rl/optim.h"               // r1::AdamW, r1::LrSchedule
#include "rl/sft.h"                 // r1::zero_padding_embedding_grad
#include "rl/sft_data.h"            // r1::load_sft_file, r1::SftSampler
#include "rl/train_common.h"        // r1::named_params, r1::pad_id_of
#include "toolkit/chat_template.h"  // r1::load_chat_template
#include "toolkit/engine.h"         // r1::Engine
#include "toolkit/error.h"          // r1::Error, r1::check
#include "toolkit/fs.h"             // r1::write_file_atomic
#include "toolkit/json.h"           // r1::dump_json, r1::read_json_file
#include "toolkit/model_config.h"   // r1::load_model_config
#include "toolkit/progress.h"       // r1::Progress
#include "toolkit/sampling.h"       // r1::derive_seed
#include "toolkit/sha256.h"         // r1::sha256_file
#include "toolkit/tokenizer.h"      // r1::Tokenizer
#include "toolkit/transformer.h"    // r1::load_transformer
#include "toolkit/model_source.h"  // r1::check_model_tokenizer, r1::tokenizer_sha256

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
        "by token, and " + teacher + "'s tokenizer differs from " + student +
            "'s; distil by SFT on the teacher's traces instead (--train sft)");
  const int64_t tv = load_model_config(teacher).vocab_size;
  const int64_t sv = load_model_config(student).vocab_size;
  check(tv == sv, "logit-level KD cannot apply: the teacher's vocabulary (" + std::to_string(tv) +
                      ") and the student's (" + std::to_string(sv) +
                      ") differ; distil by SFT on the teacher's traces instead (--train sft)");
}

KdTrainResult run_kd(const KdTrainConfig& c) {
  check_kd_config(c.kd);
  check(c.epochs > 0 && std::isfinite(c.epochs), "kd: --epochs must be > 0");
  check(c.batch_size > 0, "kd: --batch-size must be > 0");
  check(c.lr > 0 && std::isfinite(c.lr), "kd: --lr must be > 0");
  check(c.max_new_tokens > 0, "kd: --kd-max-new-tokens must be > 0");
  if (c.threads > 0) at::set_num_threads(static_cast<int>(c.threads));
  check_kd_models(c.teacher, c.student);

  const Tokenizer tok = Tokenizer::load(c.student);
  const ModelConfig student_config = load_model_config(c.student);
  SftEncoder enc{&tok, load_chat_template(c.student), {}};
  enc.chat.kwargs = parse_template_kwargs(c.template_kwargs, "student_template_kwargs");
  enc.config.max_length = c.max_length > 0 ? c.max_length : student_config.max_position_embeddings;
  const auto rows = load_sft_file(c.data, enc);
  check(!rows.empty(), c.data + ": no rows to distil on");
  const int64_t pad_id = pad_id_of(tok, student_config);
  const int64_t total_steps = std::max<int64_t>(
      1, static_cast<int64_t>(std::ceil(c.epochs * static_cast<double>(rows.size()) /
                                        static_cast<double>(c.batch_size))));
  const json cfg_json = config_json(c, sha256_file(c.data));

  CheckpointConfig ckpt{(fs::path(c.out) / "checkpoints").string(), 1, {}};
  fs::create_directories(c.out);
  remove_partial_checkpoints(ckpt.root);
  const auto resume = latest_checkpoint(ckpt.root);
  json state;
  if (resume) {
    const std::string origin = (fs::path(resume->second) / kTrainerStateFile).string();
    state = read_json_file(origin);
    check(state.value("format", "") == "r1-kd-state",
          origin + ": not a KD trainer state (field \"format\")");
    check(state.at("config") == cfg_json,
          "cannot resume " + c.out + " from " + resume->second +
              ": the flags or the data differ from the run's (use the same, or a new --out)");
  }
  write_file_atomic((fs::path(c.out) / "kd_config.json").string(), dump_json(cfg_json, 2) + "\n");

  auto student = load_transformer(resume ? resume->second : c.student, torch::kFloat);
  auto teacher = load_transformer(c.teacher, torch::kFloat);
  AdamW opt(named_params(*student), AdamWConfig{0.9, 0.999, 1e-8, 0.0});
  const LrSchedule schedule{c.lr, c.warmup_steps, total_steps, c.min_lr_ratio};
  SftSampler sampler(static_cast<int64_t>(rows.size()), c.seed);
  KdTrainResult result;
  result.total_steps = total_steps;
  int64_t step = 0;
  if (resume) {
    load_optimizer_state(opt, resume->second);
    step = state.at("step").get<int64_t>();
    sampler.seek(state.at("data").at("epoch").get<int64_t>(),
                 state.at("data").at("offset").get<int64_t>());
    set_torch_rng_state(state.at("rng"), resume->second);
    result.resumed_from = result.steps = step;
    result.checkpoint = resume->second;
    result.loss = state.value("loss", 0.0);
  } else {
    torch::manual_seed(c.seed);
  }
  std::optional<TeacherCache> cache;
  if (c.kd.top_k > 0)
    cache.emplace((fs::path(c.out) / "teacher-cache").string(),
                  fs::absolute(c.teacher).lexically_normal().string() + "@" +
                      sha256_file((fs::path(c.teacher) / "model.safetensors").string()),
                  c.kd.top_k, c.kd.temperature);
  MetricsLog metrics((fs::path(c.out) / "metrics.jsonl").string(),
                     resume ? std::optional<int64_t>(step) : std::optional<int64_t>(-1));
  EngineOptions eo;
  eo.max_batch = c.batch_size;
  Engine engine(student, eo);

  auto save = [&](int64_t at_step) {
    json s = {{"format", "r1-kd-state"},
              {"version", 1},
              {"step", at_step},
              {"total_steps", total_steps},
              {"loss", result.loss},
              {"data", {{"epoch", sampler.epoch()}, {"offset", sampler.offset()}}},
              {"rng", torch_rng_state()},
              {"config", cfg_json}};
    result.checkpoint = write_checkpoint(ckpt, at_step, {student.get(), c.student, s, opt.state()});
  };

  Progress progress("kd", total_steps);
  progress.update(step);
  while (step < total_steps) {
    const auto t0 = Clock::now();
    const auto picked = sampler.next(c.batch_size);
    ++step;
    const bool on_policy = kd_step_on_policy(c.kd.lmbda, c.seed, step);
    std::vector<Sequence> seqs;
    if (on_policy) {
      // The student's own completions of the rows' prompts, one seeded sample each.
      std::vector<GenerationRequest> reqs;
      for (size_t i = 0; i < picked.size(); ++i) {
        const auto& row = rows[picked[i]];
        GenerationRequest r;
        r.prompt.assign(row.ids.begin(), row.ids.begin() + row.prompt_tokens);
        r.sampling = SamplingParams{c.sample_temperature, 1.0, 0};
        r.max_new_tokens = std::min<int64_t>(
            c.max_new_tokens, enc.config.max_length - static_cast<int64_t>(r.prompt.size()));
        r.stop_ids = student_config.eos_token_ids;
        r.sample_seeds = {derive_seed(c.seed, {kStreamSample, static_cast<uint64_t>(step), i})};
        reqs.push_back(std::move(r));
      }
      const auto out = engine.generate(reqs);
      for (size_t i = 0; i < reqs.size(); ++i) {
        Sequence s{reqs[i].prompt, static_cast<int64_t>(reqs[i].prompt.size())};
        s.ids.insert(s.ids.end(), out[i][0].ids.begin(), out[i][0].ids.end());
        seqs.push_back(std::move(s));
      }
      ++result.on_policy_steps;
    } else {
      for (int64_t i : picked) seqs.push_back({rows[i].ids, rows[i].prompt_tokens});
    }
    const Padded batch = pad(seqs, pad_id);
    const auto B = static_cast<int64_t>(seqs.size());
    const int64_t T = batch.ids.size(1);

    // The teacher: its top-K per position from the cache (computed for the misses), or its full
    // logits for this batch.
    torch::Tensor teacher_logits, teacher_ids, teacher_lps;
    {
      torch::NoGradGuard no_grad;
      auto forward = [&](const std::vector<int64_t>& which) {
        std::vector<Sequence> part;
        for (int64_t b : which) part.push_back(seqs[b]);
        const Padded p = pad(part, pad_id);
        return teacher->logits(teacher->forward(p.ids, p.positions, p.valid));
      };
      if (!cache) {
        std::vector<int64_t> all(B);
        for (int64_t b = 0; b < B; ++b) all[b] = b;
        teacher_logits = forward(all);
        result.teacher_sequences += B;
      } else {
        const int64_t K = c.kd.top_k;
        teacher_ids = torch::zeros({B, T, K}, torch::kInt);
        teacher_lps = torch::full({B, T, K}, -std::numeric_limits<float>::infinity());
        std::vector<int64_t> misses;
        for (int64_t b = 0; b < B; ++b) {
          if (auto hit = cache->load(seqs[b].ids)) {
            const auto n = hit->ids.size(0);
            teacher_ids[b].narrow(0, 0, n).copy_(hit->ids);
            teacher_lps[b].narrow(0, 0, n).copy_(hit->logprobs);
            ++result.cache_hits;
          } else {
            misses.push_back(b);
          }
        }
        if (!misses.empty()) {
          const auto logits = forward(misses);
          for (size_t m = 0; m < misses.size(); ++m) {
            const int64_t b = misses[m];
            const auto n = static_cast<int64_t>(seqs[b].ids.size());
            const TeacherTopK top = teacher_topk(logits[m].narrow(0, 0, n), K, c.kd.temperature);
            cache->store(seqs[b].ids, top);
            // Rounded to float16 as the cache stores them, so a hit and a miss train alike.
            teacher_ids[b].narrow(0, 0, n).copy_(top.ids);
            teacher_lps[b].narrow(0, 0, n).copy_(top.logprobs.to(torch::kHalf));
          }
          result.teacher_sequences += static_cast<int64_t>(misses.size());
        }
      }
    }

    // The student's loss and update.
    const double lr = schedule.at(step - 1);
    auto logits = student->logits(student->forward(batch.ids, batch.positions, batch.valid));
    torch::Tensor loss =
        cache ? topk_jsd_loss(logits, teacher_ids, teacher_lps, batch.labels, c.kd.beta,
                              c.kd.temperature, "batchmean", c.kd.top_k_tail)
              : generalized_jsd_loss(logits, teacher_logits, batch.labels, c.kd.beta,
                                     c.kd.temperature, "batchmean");
    loss.backward();
    zero_padding_embedding_grad(*student);
    const double loss_value = loss.item<double>();
    check(std::isfinite(loss_value),
          "kd: step " + std::to_string(step) + ": non-finite loss (the last checkpoint is intact)");
    const double grad_norm = global_grad_norm(opt.params());
    opt.step(lr, clip_coefficient(grad_norm, c.clip));
    opt.zero_grad();
    result.loss = loss_value;
    result.steps = step;
    metrics.write({{"step", step},
                   {"loss", loss_value},
                   {"on_policy", on_policy},
                   {"tokens", (batch.labels != -100).sum().item<int64_t>()},
                   {"grad_norm", grad_norm},
                   {"lr", lr},
                   {"epoch", sampler.epoch()},
                   {"cache_hits", result.cache_hits},
                   {"seconds", std::chrono::duration<double>(Clock::now() - t0).count()}});
    progress.update(step);
    if (c.stop_after > 0 && step == c.stop_after && step < total_steps) return result;
    if (step == total_steps || (c.save_every > 0 && step % c.save_every == 0)) save(step);
  }
  return result;
}

}  // namespace r1
