// JSON in and out of files with errors that name the file: one parse helper for every reader.
// Leaves out schemas: callers check fields and name them in their own errors.
#pragma once

#include <nlohmann/json.hpp>  // nlohmann::json

#include <cstdint>     // int64_t
#include <functional>  // std::function
#include <string>      // std::string

namespace r1 {

// Parses `text`; throws r1::Error "ORIGIN: not valid JSON (...)" on a syntax error.
nlohmann::json parse_json(const std::string& text, const std::string& origin);
nlohmann::ordered_json parse_ordered_json(const std::string& text, const std::string& origin);
// Reads and parses the file at `path` (errors name the path).
nlohmann::json read_json_file(const std::string& path);
// Serialises `j` (indent -1: one line); invalid UTF-8 in strings (model text) becomes U+FFFD
// instead of throwing.
std::string dump_json(const nlohmann::json& j, int indent = -1);

// JSONL: calls `row(json, where, line)` for each non-blank line of the file `path`, where is
// "PATH:LINE" (1-based), as parse errors name it. The file is read whole; a last line without its
// newline is read like any other (a torn tail fails to parse and names its line).
void for_each_jsonl_row(
    const std::string& path,
    const std::function<void(const nlohmann::json&, const std::string&, int64_t)>& row);
// The same with each row's keys in file order (rows whose messages reach a chat template).
void for_each_ordered_jsonl_row(
    const std::string& path,
    const std::function<void(const nlohmann::ordered_json&, const std::string&, int64_t)>& row);
// The same for files of objects: a row that is not a JSON object throws r1::Error naming
// PATH:LINE.
void for_each_jsonl_object(
    const std::string& path,
    const std::function<void(const nlohmann::json&, const std::string&)>& row);

}  // namespace r1
