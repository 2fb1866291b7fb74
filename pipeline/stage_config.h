// Trainer configs from a recipe's JSON: each key sets the field of that name through the
// trainer's visit function (visit_sft_config, visit_grpo_config, visit_distill_config), with its
// type checked, so recipes take exactly the fields the commands take as flags.
// Leaves out test-hook fields (FieldRole::kTesting): a recipe cannot set them.
#pragma once

#include <nlohmann/json.hpp>  // nlohmann::json

#include <cstdint>      // int64_t, uint64_t
#include <set>          // std::set
#include <string>       // std::string
#include <type_traits>  // std::is_same_v, std::decay_t
#include <vector>       // std::vector

#include "rl/sft.h"         // r1::FieldRole
#include "toolkit/error.h"  // r1::Error, r1::check

namespace r1 {

// Sets config fields from the object `j`; throws r1::Error "WHERE.KEY: ..." for a key that is no
// field (listing them), one in `reserved` (the pipeline sets it), or a value of the wrong type.
template <typename Config, typename Visit>
void apply_config_json(Config& config, Visit&& visit, const nlohmann::json& j,
                       const std::string& where, const std::set<std::string>& reserved) {
  if (j.is_null()) return;
  check(j.is_object(), where + ": must be a mapping of field: value");
  std::set<std::string> done;
  std::string names;
  visit(config, [&](const char* name, auto& field, const char*, FieldRole role) {
    using T = std::decay_t<decltype(field)>;
    if (role == FieldRole::kTesting || reserved.count(name)) return;
    names += std::string(names.empty() ? "" : ", ") + name;
    if (!j.contains(name)) return;
    const nlohmann::json& v = j.at(name);
    const std::string at = where + "." + name;
    done.insert(name);
    if constexpr (std::is_same_v<T, bool>) {
      check(v.is_boolean(), at + ": must be true or false, got " + v.dump());
      field = v.get<bool>();
    } else if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, uint64_t>) {
      check(v.is_number_integer() && (std::is_same_v<T, int64_t> || v.get<int64_t>() >= 0),
            at + ": must be an integer" + (std::is_same_v<T, uint64_t> ? " >= 0" : "") + ", got " +
                v.dump());
      field = v.get<T>();
    } else if constexpr (std::is_same_v<T, double>) {
      check(v.is_number(), at + ": must be a number, got " + v.dump());
      field = v.get<double>();
    } else if constexpr (std::is_same_v<T, std::string>) {
      check(v.is_string() || v.is_number(), at + ": must be a string, got " + v.dump());
      field = v.is_string() ? v.get<std::string>() : v.dump();
    } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
      check(v.is_array(), at + ": must be a list of integers, got " + v.dump());
      field.clear();
      for (const auto& x : v) {
        check(x.is_number_integer(), at + ": must be a list of integers, got " + v.dump());
        field.push_back(x.get<int64_t>());
      }
    } else {
      throw Error(at + ": this field cannot be set from a recipe");
    }
  });
  for (const auto& [key, value] : j.items()) {
    if (done.count(key)) continue;
    check(!reserved.count(key), where + "." + key + ": set by the pipeline, not the recipe");
    throw Error(where + "." + key + ": no such field (fields: " + names + ")");
  }
}

}  // namespace r1
