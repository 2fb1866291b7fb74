// The optimiser side of r1's trainers: AdamW (torch.optim.AdamW's update, op for op, so a step
// matches torch bit for bit in float32), fp32 master weights for models held in bf16/fp16, the
// learning-rate schedule (linear warmup, then cosine to a floor, as transformers'
// cosine-with-min-lr schedule), global-norm gradient clipping, and the optimiser state as named
// tensors for exact resume. Leaves out amsgrad, fused/foreach kernels and sharded (ZeRO) state.
#pragma once

#include <torch/types.h>  // torch::Tensor

#include <cstdint>  // int64_t
#include <string>   // std::string
#include <utility>  // std::pair
#include <vector>   // std::vector

namespace r1 {

// AdamW hyper-parameters (the learning rate comes from the schedule at each step).
struct AdamWConfig {
  double beta1 = 0.9;         // first-moment decay
  double beta2 = 0.999;       // second-moment decay
  double eps = 1e-8;          // added to sqrt(second moment)
  double weight_decay = 0.0;  // decoupled decay, applied to matrices only (not norms, biases)
};

// AdamW over a model's named parameters. The update runs on float32: parameters that are not
// float32 get a float32 master copy, updated and then rounded back into the parameter.
class AdamW {
 public:
  AdamW(std::vector<std::pair<std::string, torch::Tensor>> params, AdamWConfig config);

  // One update with learning rate `lr` from the parameters' .grad(), each multiplied by
  // grad_scale first (the clipping coefficient). Parameters without a gradient are left alone.
  void step(double lr, double grad_scale = 1.0);
  // Drops every parameter's gradient (the next backward writes fresh ones).
  void zero_grad();
  // Updates taken so far (skipped steps do not count).
  int64_t steps() const { return steps_; }
  const std::vector<std::pair<std::string, torch::Tensor>>& params() const { return params_; }

  // The whole state as named tensors on the CPU: "adamw.steps" (int64 scalar), and per parameter
  // NAME "exp_avg/NAME", "exp_avg_sq/NAME" and, with master weights, "master/NAME". On a CPU run
  // these alias the live state (no copy of the optimiser's memory): save them before the next step.
  std::vector<std::pair<std::string, torch::Tensor>> state() const;
  // Restores state() output; `get(name)` returns the stored tensor or an undefined one. Throws
  // r1::Error naming `origin` and the tensor when one is missing or has the wrong shape or dtype.
  template <typename Get>
  void load_state(Get&& get, const std::string& origin) {
    std::vector<std::pair<std::string, torch::Tensor>> found;
    for (const auto& [name, t] : state()) found.emplace_back(name, get(name));
    load_state_tensors(found, origin);
  }

 private:
  void load_state_tensors(const std::vector<std::pair<std::string, torch::Tensor>>& found,
                          const std::string& origin);

  std::vector<std::pair<std::string, torch::Tensor>> params_;
  std::vector<torch::Tensor> master_;                // float32 copy, undefined for float32 params
  std::vector<torch::Tensor> exp_avg_, exp_avg_sq_;  // float32, shaped as the parameter
  AdamWConfig config_;
  int64_t steps_ = 0;
};

// The learning-rate schedule: linear warmup from 0, then cosine decay from `lr` to
// lr * min_lr_ratio at total_steps (transformers' get_cosine_with_min_lr_schedule_with_warmup:
// step 0 of a warmup takes lr 0).
struct LrSchedule {
  double lr = 1e-5;           // peak learning rate
  int64_t warmup_steps = 0;   // steps of linear warmup
  int64_t total_steps = 1;    // optimiser steps of the whole run
  double min_lr_ratio = 0.0;  // floor of the cosine, as a fraction of lr

  // The learning rate of optimiser step `step` (0-based).
  double at(int64_t step) const;
};

// The L2 norm of all gradients together, computed in float32 (parameters without a gradient are
// skipped); non-finite when any gradient is.
double global_grad_norm(const std::vector<std::pair<std::string, torch::Tensor>>& params);
// The factor that brings a gradient of norm `norm` down to `max_norm` (torch's
// clip_grad_norm_: max_norm / (norm + 1e-6), at most 1); 1 when max_norm <= 0 (no clipping).
double clip_coefficient(double norm, double max_norm);

}  // namespace r1
