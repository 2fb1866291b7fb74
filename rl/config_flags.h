// CLI11 flags derived from a trainer config's visit function (visit_sft_config,
// visit_grpo_config): one flag per field, the field name with dashes; bools as flags, lists
// comma-separated, required fields marked, test hooks in their own group. Header-only, so only the
// command files that include it need CLI11. Leaves out config files (flags only).
#pragma once

#include <CLI/CLI.hpp>  // CLI::App

#include <cstdint>      // int64_t
#include <string>       // std::string
#include <type_traits>  // std::is_same_v, std::decay_t
#include <vector>       // std::vector

#include "rl/sft.h"           // r1::FieldRole
#include "rl/train_common.h"  // r1::config_flag_name

namespace r1 {

// Adds one flag per field `visit(config, f)` visits; `required` names the fields that must be
// given. The flags write into `config`, which must outlive parsing.
template <typename Config, typename Visit>
void add_config_flags(CLI::App& app, Config& config, Visit&& visit,
                      const std::vector<std::string>& required) {
  visit(config, [&](const char* name, auto& field, const char* help, FieldRole role) {
    using T = std::decay_t<decltype(field)>;
    CLI::Option* opt = nullptr;
    if constexpr (std::is_same_v<T, bool>) {
      opt = app.add_flag(config_flag_name(name), field, help);
    } else if constexpr (std::is_same_v<T, std::vector<int64_t>> ||
                         std::is_same_v<T, std::vector<double>>) {
      opt = app.add_option(config_flag_name(name), field, help)->delimiter(',');
    } else {
      opt = app.add_option(config_flag_name(name), field, help);
      if constexpr (std::is_same_v<T, std::string>) {
        if (!field.empty()) opt->capture_default_str();  // "" defaults say what they mean in help
      } else {
        opt->capture_default_str();
      }
    }
    for (const auto& r : required)
      if (r == name) opt->required();
    if (role == FieldRole::kTesting) opt->group("Testing");
  });
}

}  // namespace r1
