// The GRPO trainer loop (see grpo.h): the config's checks and JSON, the run's set-up and the step,
// which reads as four named calls: collect_rollouts (grpo_rollout.cpp: generate, score, gather,
// dynamic sampling), update_policy (grpo_update.cpp: micro-batches, old/reference log-probs,
// iterations), step_metrics (grpo_metrics.cpp), then the held-out evaluation and the checkpoint
// through the run (trainer_run.h). A step is a pure function of (weights, optimiser state, prompt
// position, step number): prompts come from the seeded epoch order, every completion's sampling
// seed from (run seed, the prompt's draw number, sample index), the learning rate from the update
// number, so a checkpoint holding those resumes the run exactly. Data parallel
// (rl/distributed.h): every rank draws the same prompts and generates for its contiguous share
// (groups stay whole), the per-completion facts are gathered so every rank sees the step as one
// process does, and each rank computes the loss of its own completions weighted exactly as in the
// one-process micro-batches they belong to; gradients are summed before clipping. Rank 0 writes
// the run directory and runs the held-out evaluation while the others wait.
#include "rl/grpo.h"

#include <torch/torch.h>  // at::set_num_threads

#include <algorithm>   // std::min
#include <chrono>      // std::chrono::steady_clock
#include <cmath>       // std::isfinite
#include <filesystem>  // std::filesystem
#include <optional>    // std::optional

#include "evals/backend.h"         // r1::make_native_backend
#include "evals/protocol.h"        // r1::protocol_preset
#include "evals/runner.h"          // r1::run_eval
#include "rl/checkpoint.h"         // r1::checkpoint_dir
#include "rl/distributed.h"        // r1::Dist, r1::read_dist_env
#include "rl/grpo_data.h"          // r1::GrpoPrompt, r1::load_grpo_prompts
#include "rl/grpo_loss.h"          // r1::GrpoLossConfig
#include "rl/grpo_metrics.h"       // r1::step_metrics, r1::dump_batch
#include "rl/grpo_rollout.h"       // r1::collect_rollouts
#include "rl/grpo_update.h"        // r1::update_policy
#include "rl/optim.h"              // r1::AdamW, r1::LrSchedule
#include "rl/sft_data.h"           // r1::SftSampler
#include "rl/train_common.h"       // r1::check_positive, r1::named_params, r1::pad_id_of
#include "rl/trainer_run.h"        // r1::TrainerRun
#include "toolkit/engine.h"        // r1::Engine
#include "toolkit/error.h"         // r1::Error, r1::check
#include "toolkit/model_config.h"  // r1::load_model_config
#include "toolkit/model_source.h"  // r1::check_model_path, r1::check_model_tokenizer
#include "toolkit/progress.h"      // r1::Progress, r1::seconds_since
#include "toolkit/sampling.h"      // r1::derive_seed
#include "toolkit/sha256.h"        // r1::sha256_file
#include "toolkit/tokenizer.h"     // r1::Tokenizer

namespace r1 {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

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

// The training prompts, encoded, and what they fix of the run.
struct GrpoData {
  std::vector<GrpoPrompt> prompts;
  int64_t max_context = 0, pad_id = 0;
  std::vector<int64_t> stop_ids;
  std::string sha256;  // of --prompts
};

GrpoData load_grpo_data(const GrpoConfig& cfg, const Tokenizer& tok) {
  const ModelConfig model_config = load_model_config(cfg.model);
  GrpoPromptEncoder enc{&tok, load_chat_template(cfg.model, cfg.chat_template), {}};
  enc.chat.kwargs = parse_template_kwargs(cfg.template_kwargs, "template_kwargs");
  enc.config.prompt_template = cfg.prompt_template;
  enc.config.system_prompt = cfg.system_prompt;
  enc.config.force_think = !cfg.no_think;
  enc.config.max_context = model_config.max_position_embeddings;
  GrpoData d;
  d.prompts = load_grpo_prompts(cfg.prompts, enc);
  if (!cfg.eval_prompts.empty()) load_grpo_prompts(cfg.eval_prompts, enc);  // errors up front
  d.sha256 = sha256_file(cfg.prompts);
  d.max_context = enc.config.max_context;
  d.pad_id = pad_id_of(tok, model_config);
  d.stop_ids = stop_token_ids(load_generation_defaults(cfg.model), model_config);
  if (d.stop_ids.empty() && tok.eos_id) d.stop_ids.push_back(*tok.eos_id);
  return d;
}

RewardSet make_rewards(const GrpoConfig& cfg, const RewardRegistry* registry) {
  RewardConfig rc;
  rc.accuracy.extract = cfg.extract;
  rc.length.max_tokens = cfg.max_new_tokens;
  rc.length.buffer_tokens = cfg.overlong_buffer > 0
                                ? cfg.overlong_buffer
                                : std::min(rc.length.buffer_tokens, cfg.max_new_tokens);
  return registry ? RewardSet(cfg.rewards, rc, *registry) : RewardSet(cfg.rewards, rc);
}

TrainerRunConfig grpo_run_config(const GrpoConfig& cfg, const GrpoData& data, const Dist& dist) {
  TrainerRunConfig r = trainer_run_config(cfg, "grpo", "a GRPO", "r1train grpo");
  r.metrics = cfg.metrics;
  r.config = grpo_config_json(cfg);
  r.difference = grpo_config_difference;
  r.data_flag = "--prompts";
  r.data_path = cfg.prompts;
  r.data_sha256 = data.sha256;
  r.dist = &dist;
  return r;
}

// How r1eval's runner evaluates the held-out prompts at a step: R1's protocol with the training
// prompt's templates and the eval sampling flags.
RunOptions held_out_options(const GrpoConfig& cfg, const std::string& out_dir) {
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
  ro.out_dir = out_dir;
  ro.limit = cfg.eval_limit;
  ro.progress = false;
  ro.quiet = true;  // the step's line reports the evaluation
  ro.bootstrap = 1000;
  return ro;
}

// Held-out pass@1 through r1eval's runner on the live weights (OUT/evals/step-N); the fields for
// the step's line. Rank 0 evaluates; the others wait for it.
json evaluate_held_out(const GrpoConfig& cfg, const std::shared_ptr<Transformer>& model,
                       const Dist& dist, int64_t at_step, GrpoResult& result) {
  if (cfg.eval_prompts.empty()) return json::object();
  json fields = json::object();
  if (dist.is_main()) {
    const auto t0 = Clock::now();
    const std::string out_dir =
        (fs::path(cfg.out) / "evals" / fs::path(checkpoint_dir("", at_step)).filename()).string();
    NativeOptions no;
    no.model_dir = cfg.model;
    no.chat_template = cfg.chat_template;
    no.template_kwargs = cfg.template_kwargs;
    no.max_batch = cfg.max_batch;
    auto backend = make_native_backend(model, no,
                                       "live:" + fs::absolute(cfg.out).lexically_normal().string() +
                                           "@step-" + std::to_string(at_step));
    const json results = run_eval(held_out_options(cfg, out_dir), *backend);
    const json& b = results.at("benchmarks").begin().value();
    result.eval_pass1 = b.at("pass@1").get<double>();
    fields = {{"eval/pass@1", b.at("pass@1")},
              {"eval/problems", b.at("problems")},
              {"eval/samples", b.at("samples")},
              {"eval/truncated_rate", b.at("truncated_rate")},
              {"time/eval", seconds_since(t0)}};
  }
  dist.wait_for_main();
  return fields;
}

// What is checked before the job's rendezvous, so that a bad flag fails at once on every rank;
// then the threads.
void check_launch(const GrpoConfig& cfg) {
  validate(cfg);
  if (cfg.threads > 0) at::set_num_threads(static_cast<int>(cfg.threads));
  check_model_path(cfg.model, "--model");
  check_model_tokenizer(cfg.model, "GRPO renders prompts and reads completions with it");
  check_splits_over_ranks("--prompts-per-step", cfg.prompts_per_step,
                          "each rank generates the groups of an equal share of the step's prompts");
  check(!cfg.dump_batches || read_dist_env().world_size == 1,
        "--dump-batches writes one process's batches; run it without RANK/WORLD_SIZE");
}

// The frozen reference of the KL term: the base model, loaded only when beta != 0.
std::shared_ptr<Transformer> load_reference(const GrpoConfig& cfg, const TrainingPlace& place) {
  if (cfg.beta == 0.0) return nullptr;
  auto ref = load_transformer(cfg.model, place.dtype, place.device);
  for (auto& p : ref->parameters()) p.set_requires_grad(false);
  return ref;
}

// The progress line's note: reward, accuracy (when scored) and mean completion length.
std::string progress_note(const json& line) {
  return "reward " + c10::str(line["reward"].get<double>()) +
         (line.contains("accuracy") ? " acc " + c10::str(line["accuracy"].get<double>())
                                    : std::string()) +
         " len " + c10::str(line["completions/mean_length"].get<double>());
}

}  // namespace

GrpoResult run_grpo(const GrpoConfig& cfg, const RewardRegistry* registry) {
  check_launch(cfg);
  const TrainingPlace place = join_training(cfg.device, cfg.dtype);
  const Dist& dist = *place.dist;
  const Tokenizer tok = Tokenizer::load(cfg.model);
  const GrpoData data = load_grpo_data(cfg, tok);
  RewardSet rewards = make_rewards(cfg, registry);
  const int64_t total_updates = cfg.steps * cfg.num_iterations;
  TrainerRun run(grpo_run_config(cfg, data, dist));
  run.write_config({{"total_updates", total_updates},
                    {"max_context", data.max_context},
                    {"train_prompts", data.prompts.size()},
                    {"reward_names", rewards.names()}});

  // Policy (from the checkpoint when resuming), frozen reference (the base model, beta > 0 only).
  auto model = load_transformer(run.weights(cfg.model), place.dtype, place.device);
  const std::shared_ptr<Transformer> ref = load_reference(cfg, place);
  AdamW opt(named_params(*model),
            AdamWConfig{cfg.beta1, cfg.beta2, cfg.adam_eps, cfg.weight_decay});
  const LrSchedule schedule{cfg.lr, cfg.warmup_steps, total_updates, cfg.min_lr_ratio};
  SftSampler sampler(static_cast<int64_t>(data.prompts.size()),
                     derive_seed(cfg.seed, {kGrpoStreamOrder}));
  int64_t step = run.restore(opt, sampler, cfg.seed);
  int64_t drawn = run.resuming() ? run.resumed_state().at("data").at("drawn").get<int64_t>() : 0;
  GrpoResult result = run.result_at<GrpoResult>(step, cfg.steps);
  result.reward = run.resumed_number("reward", 0.0);
  // A fresh run drops every held-out evaluation (a killed run's); a resume, those after its step.
  if (dist.is_main())
    remove_evals_after((fs::path(cfg.out) / "evals").string(), run.resuming() ? step : -1);

  EngineOptions engine_options;
  engine_options.max_batch = cfg.max_batch;
  Engine engine(model, engine_options);
  const RolloutSource source{&cfg, &tok, &data.prompts, data.stop_ids, &dist, &engine, &rewards};
  const PolicyUpdater updater{&cfg,  model.get(),      ref.get(),   &opt,        &schedule,
                              &dist, loss_config(cfg), data.pad_id, place.device};

  if (!run.resuming() && !cfg.eval_prompts.empty()) {
    json line = evaluate_held_out(cfg, model, dist, 0, result);
    line["step"] = 0;
    run.log(line);
  }
  Progress progress("grpo", cfg.steps, dist.is_main() && Progress::stderr_is_terminal());
  progress.update(step);
  while (step < cfg.steps) {
    const auto t_step = Clock::now();
    ++step;
    StepRollouts rollouts;
    collect_rollouts(source, sampler, drawn, rollouts);
    report_reward_errors(rollouts, dist, step);
    const StepUpdate update = update_policy(updater, rollouts.kept, step);
    json line = step_metrics(cfg, step, rollouts, update,
                             schedule.at((step - 1) * cfg.num_iterations), sampler.epoch());
    result.reward = line["reward"].get<double>();
    run.record_step(step, update.bad, update.loss_mean, !rollouts.kept.empty(), line);
    result.skipped_steps += !update.bad.empty();
    result.steps = step;
    if (run.bad_in_a_row() >= cfg.max_bad_steps) {
      line["time/step"] = seconds_since(t_step);
      run.log(line);
      run.stop_if_too_many_bad(step, update.bad, "check the rewards");
    }
    if (TrainerRun::due(step, cfg.eval_every, cfg.steps))
      line.update(evaluate_held_out(cfg, model, dist, step, result));
    line["time/step"] = seconds_since(t_step);
    run.log(line);
    if (cfg.dump_batches) dump_batch(cfg.out, step, rollouts, update, line);
    if (TrainerRun::due(step, cfg.save_every, cfg.steps))
      result.checkpoint = run.save(
          step, {model.get(),
                 cfg.model,
                 &opt,
                 &sampler,
                 {{"total_steps", cfg.steps}, {"updates", opt.steps()}, {"reward", result.reward}},
                 {{"rows", data.prompts.size()}, {"drawn", drawn}}});
    progress.update(step, progress_note(line));
    if (cfg.stop_after > 0 && step == cfg.stop_after) break;
  }
  return result;
}

}  // namespace r1
