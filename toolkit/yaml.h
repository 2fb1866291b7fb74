// YAML files (recipes, gate files) read as JSON values, so one set of field checks serves both.
// Scalars are typed as YAML 1.2's core schema types them: null (~, null, empty), true/false,
// integers, floats (.inf, .nan), else strings; a quoted scalar is always a string.
// Leaves out anchors' identity (aliases are copied), tags other than quoting, and writing YAML.
#pragma once

#include <nlohmann/json.hpp>  // nlohmann::json

#include <string>  // std::string

namespace r1 {

// Parses `text`; throws r1::Error "ORIGIN:LINE:COL: ..." on a syntax error or a non-string key.
nlohmann::json parse_yaml(const std::string& text, const std::string& origin);
// Reads and parses the file at `path` (errors name the path and line).
nlohmann::json read_yaml_file(const std::string& path);

}  // namespace r1
