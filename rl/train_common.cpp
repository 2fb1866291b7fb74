// The helpers the SFT and GRPO trainers share (see train_common.h).
#include "rl/train_common.h"

#include <c10/util/StringUtil.h>  // c10::str

#include <algorithm>  // std::find
#include <cstdio>     // std::snprintf

#include "toolkit/error.h"  // r1::check
#include "toolkit/fs.h"     // r1::read_file
#include "toolkit/json.h"   // r1::dump_json, r1::parse_json

namespace r1 {

std::string config_flag_name(const std::string& field) {
  std::string f = "--" + field;
  for (auto& ch : f)
    if (ch == '_') ch = '-';
  return f;
}

std::string format_number(const char* printf_format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, printf_format, v);
  return buf;
}

bool stage_runs(const std::vector<std::string>& stages, const std::string& stage,
                const std::string& until) {
  const auto at = [&](const std::string& s) {
    return std::find(stages.begin(), stages.end(), s) - stages.begin();
  };
  return at(stage) <= at(until);
}

void check_positive(const std::string& field, double v) {
  check(v > 0, config_flag_name(field) + " " + c10::str(v) + ": must be greater than 0");
}

void check_non_negative(const std::string& field, double v) {
  check(v >= 0, config_flag_name(field) + " " + c10::str(v) + ": must not be negative");
}

at::ScalarType resolve_train_dtype(const std::string& name, torch::Device device) {
  if (name == "auto") return device.is_cuda() ? at::kBFloat16 : at::kFloat;
  const auto dt = parse_dtype(name, "--dtype");
  check(dt == at::kFloat || dt == at::kBFloat16,
        "--dtype " + name + ": training runs in float32 or bfloat16");
  return dt;
}

std::vector<std::pair<std::string, torch::Tensor>> named_params(Transformer& model) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : model.named_parameters()) out.emplace_back(item.key(), item.value());
  return out;
}

int64_t pad_id_of(const Tokenizer& tok, const ModelConfig& c) {
  if (tok.pad_id) return *tok.pad_id;
  if (c.pad_token_id) return *c.pad_token_id;
  if (tok.eos_id) return *tok.eos_id;
  return 0;
}

std::optional<std::string> config_field_difference(const char* name, const nlohmann::json& saved,
                                                   const nlohmann::json& now) {
  const auto a = saved.contains(name) ? saved[name] : nlohmann::json();
  const auto b = now.contains(name) ? now[name] : nlohmann::json();
  if (a == b) return std::nullopt;
  return config_flag_name(name) + " is " + dump_json(b) + " now but the run used " + dump_json(a);
}

}  // namespace r1
