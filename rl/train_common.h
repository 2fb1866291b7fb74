// Helpers the SFT and GRPO trainers share: flag names for config fields and their range checks,
// the training dtype, the model's parameters for the optimiser, the padding token, the difference
// between a saved and a current config field, and the
// stage order and number formatting of the multi-stage runs (r1train zero, r1distill).
#pragma once

#include <c10/core/Device.h>      // c10::Device
#include <c10/core/ScalarType.h>  // at::ScalarType
#include <torch/types.h>          // torch::Tensor

#include <nlohmann/json.hpp>  // nlohmann::json

#include <cstdint>     // int64_t
#include <functional>  // std::function
#include <optional>    // std::optional
#include <string>      // std::string
#include <utility>     // std::pair
#include <vector>      // std::vector

#include "toolkit/model_config.h"  // r1::ModelConfig
#include "toolkit/tokenizer.h"     // r1::Tokenizer
#include "toolkit/transformer.h"   // r1::Transformer

namespace r1 {

// One number through a printf format ("%.3f"), for reports.
std::string format_number(const char* printf_format, double v);

// Whether `stage` comes at or before `until` in the ordered `stages` (both must be among them).
bool stage_runs(const std::vector<std::string>& stages, const std::string& stage,
                const std::string& until);

// "max_new_tokens" -> "--max-new-tokens".
std::string config_flag_name(const std::string& field);

// Throw r1::Error naming the field's flag unless `v > 0` (`v >= 0`).
void check_positive(const std::string& field, double v);
void check_non_negative(const std::string& field, double v);

// The training dtype of --dtype: "auto" is bfloat16 on CUDA, else float32; only those two pass.
at::ScalarType resolve_train_dtype(const std::string& name, torch::Device device);

// The model's parameters with their names, as the optimiser takes them.
std::vector<std::pair<std::string, torch::Tensor>> named_params(Transformer& model);

// The token that pads batches: the tokenizer's pad, the config's pad, the eos, else 0.
int64_t pad_id_of(const Tokenizer& tok, const ModelConfig& c);

// Why field `name` of a run config differs between `saved` and `now` ("--lr is 0.1 now but the
// run used 0.2"), or nothing where it is the same (a missing field counts as null).
std::optional<std::string> config_field_difference(const char* name, const nlohmann::json& saved,
                                                   const nlohmann::json& now);

}  // namespace r1
