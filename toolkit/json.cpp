// JSON helpers (see json.h).
#include "toolkit/json.h"

#include "toolkit/error.h"  // r1::Error, r1::check
#include "toolkit/fs.h"     // r1::read_file

namespace r1 {

nlohmann::json parse_json(const std::string& text, const std::string& origin) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(origin + ": not valid JSON (" + e.what() + ")");
  }
}

nlohmann::json read_json_file(const std::string& path) { return parse_json(read_file(path), path); }

std::string dump_json(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::ordered_json parse_ordered_json(const std::string& text, const std::string& origin) {
  try {
    return nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(origin + ": not valid JSON (" + e.what() + ")");
  }
}

namespace {

// Each non-blank line of `path` with "path:line" and its 1-based number.
void for_each_jsonl_line(
    const std::string& path,
    const std::function<void(const std::string&, const std::string&, int64_t)>& f) {
  const std::string text = read_file(path);
  size_t begin = 0;
  int64_t line = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    ++line;
    const std::string content = text.substr(begin, end - begin);
    begin = end + 1;
    if (content.find_first_not_of(" \t\r") == std::string::npos) continue;
    f(content, path + ":" + std::to_string(line), line);
  }
}

}  // namespace

void for_each_jsonl_row(
    const std::string& path,
    const std::function<void(const nlohmann::json&, const std::string&, int64_t)>& row) {
  for_each_jsonl_line(path, [&](const std::string& content, const std::string& where,
                                int64_t line) { row(parse_json(content, where), where, line); });
}

void for_each_ordered_jsonl_row(
    const std::string& path,
    const std::function<void(const nlohmann::ordered_json&, const std::string&, int64_t)>& row) {
  for_each_jsonl_line(path,
                      [&](const std::string& content, const std::string& where, int64_t line) {
                        row(parse_ordered_json(content, where), where, line);
                      });
}

void for_each_jsonl_object(
    const std::string& path,
    const std::function<void(const nlohmann::json&, const std::string&)>& row) {
  for_each_jsonl_row(path, [&](const nlohmann::json& j, const std::string& where, int64_t) {
    check(j.is_object(), where + ": a row must be a JSON object");
    row(j, where);
  });
}

}  // namespace r1
