// JSON in and out of files with errors that name the file: one parse helper for every reader.
// Leaves out schemas: callers check fields and name them in their own errors.
#pragma once

#include <nlohmann/json.hpp>  // nlohmann::json

#include <string>  // std::string

namespace r1 {

// Parses `text`; throws r1::Error "ORIGIN: not valid JSON (...)" on a syntax error.
nlohmann::json parse_json(const std::string& text, const std::string& origin);
// Reads and parses the file at `path` (errors name the path).
nlohmann::json read_json_file(const std::string& path);
// Serialises `j` (indent -1: one line); invalid UTF-8 in strings (model text) becomes U+FFFD
// instead of throwing.
std::string dump_json(const nlohmann::json& j, int indent = -1);

}  // namespace r1
