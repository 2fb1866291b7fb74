// Loading pipeline and r1eval run directories into one run record (see record.h).
#include "reports/record.h"

#include <cstdint>     // int64_t
#include <filesystem>  // std::filesystem
#include <string>      // std::string, std::to_string

#include "reports/baseline.h"  // r1::baseline_without_training_logs
#include "toolkit/error.h"     // r1::Error, r1::check
#include "toolkit/fs.h"        // r1::read_file
#include "toolkit/json.h"      // r1::parse_json, r1::read_json_file

namespace r1 {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// Sets stage["results"] and stage["protocol"] (both null beforehand) from the r1eval run directory
// `dir`; what cannot be read becomes a warning starting with `who`. Returns run.json (null when
// absent or unreadable).
json load_eval_dir(const fs::path& dir, const std::string& who, json& stage, json& warnings) {
  json run, results;
  if (!fs::is_directory(dir)) {
    warnings.push_back(who + ": eval dir " + dir.string() + " does not exist (not evaluated)");
    return run;
  }
  const fs::path results_path = dir / "results.json", run_path = dir / "run.json";
  try {
    if (fs::exists(run_path)) {
      run = read_json_file(run_path.string());
      if (run.is_object() && run.contains("protocol"))
        stage["protocol"] = run["protocol"];
      else
        warnings.push_back(who + ": " + run_path.string() + ": no \"protocol\"");
    }
  } catch (const Error& e) {
    warnings.push_back(who + ": " + e.what());
  }
  if (!fs::exists(results_path)) {
    warnings.push_back(who + ": " + dir.string() + " has no results.json (not evaluated)");
    return run;
  }
  try {
    results = read_json_file(results_path.string());
  } catch (const Error& e) {
    warnings.push_back(who + ": " + e.what());
    return run;
  }
  if (stage["protocol"].is_null() && results.is_object() && results.contains("run") &&
      results["run"].is_object() && results["run"].contains("protocol"))
    stage["protocol"] = results["run"]["protocol"];
  if (!results.is_object() || !results.contains("benchmarks") ||
      !results["benchmarks"].is_object()) {
    warnings.push_back(who + ": " + results_path.string() + ": no \"benchmarks\" object");
    return run;
  }
  json benchmarks = json::object();
  for (const auto& [name, block] : results["benchmarks"].items()) {
    if (block.is_object())
      benchmarks[name] = block;
    else
      warnings.push_back(who + ": " + results_path.string() + ": benchmarks." + name +
                         " is not an object (left out)");
  }
  stage["results"] = std::move(benchmarks);
  return run;
}

// The rows of a training log (metrics.jsonl): "step" and the numeric fields of each line.
json load_training(const fs::path& path, const std::string& who, json& warnings) {
  json rows = json::array();
  std::string text;
  try {
    text = read_file(path.string());
  } catch (const Error& e) {
    warnings.push_back(who + ": training log " + e.what());
    return rows;
  }
  int64_t bad = 0;
  bool torn = false;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    const bool last =
        end == std::string::npos || text.find_first_not_of(" \t\r\n", end) == std::string::npos;
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(begin, end - begin);
    begin = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() && last) {  // a run killed mid-write
      torn = true;
      continue;
    }
    if (!j.is_object() || !j.contains("step") || !j["step"].is_number()) {
      ++bad;
      continue;
    }
    json row = json::object();
    for (const auto& [key, value] : j.items())
      if (value.is_number()) row[key] = value;
    rows.push_back(std::move(row));
  }
  if (torn) warnings.push_back(who + ": " + path.string() + ": torn last line ignored");
  if (bad > 0)
    warnings.push_back(who + ": " + path.string() + ": " + std::to_string(bad) +
                       " malformed lines left out");
  return rows;
}

json load_pipeline(const fs::path& run_dir, const std::string& dir) {
  const std::string path = (run_dir / "pipeline.json").string();
  const json p = parse_json(read_file(path), path);
  check(p.is_object() && p.value("format", json()) == "r1-pipeline-run",
        path + ": not an r1 pipeline run (no \"format\": \"r1-pipeline-run\")");
  json warnings = json::array();
  if (p.contains("version") && p["version"] != 1)
    warnings.push_back(path + ": version " + p["version"].dump() +
                       " (this reader knows 1): fields may be missed");
  json record = {{"kind", "pipeline"},
                 {"dir", dir},
                 {"name", record_string(p, "name", run_dir.filename().string())},
                 {"status", record_string(p, "status", "unknown")}};
  for (const char* key : {"command", "recipe", "recipe_sha256", "started", "updated", "promoted",
                          "failed_stage", "error"})
    record[key] = p.contains(key) ? p[key] : json();
  const bool no_logs = baseline_without_training_logs(p);  // a baseline keeps none, on purpose
  json stages = json::array();
  const json none = json::array();
  const json& raw = p.contains("stages") ? p["stages"] : none;
  if (!raw.is_array()) warnings.push_back(path + ": \"stages\" is not a list (no stages shown)");
  for (size_t i = 0; raw.is_array() && i < raw.size(); ++i) {
    if (!raw[i].is_object()) {
      warnings.push_back(path + ": stages[" + std::to_string(i) + "] is not an object (left out)");
      continue;
    }
    json stage = raw[i];
    stage["name"] = record_string(stage, "name", "stage " + std::to_string(i));
    stage["status"] = record_string(stage, "status", "unknown");
    const std::string who = "stage " + stage["name"].get<std::string>();
    json gates = json::array();
    for (const json& g : stage.value("gates", json::array()))
      if (g.is_object()) gates.push_back(g);
    stage["gates"] = std::move(gates);
    stage["results"] = nullptr;
    stage["protocol"] = nullptr;
    if (const std::string eval = record_string(stage, "eval_dir"); !eval.empty())
      load_eval_dir(run_dir / eval, who, stage, warnings);
    stage["training"] = json::array();
    stage["training_kept"] = !no_logs;
    if (const std::string log = record_string(stage, "metrics"); !log.empty() && !no_logs)
      stage["training"] = load_training(run_dir / log, who, warnings);
    stages.push_back(std::move(stage));
  }
  record["stages"] = std::move(stages);
  record["warnings"] = std::move(warnings);
  return record;
}

json load_eval(const fs::path& run_dir, const std::string& dir) {
  fs::path name = fs::absolute(run_dir).lexically_normal();
  if (!name.has_filename()) name = name.parent_path();
  json warnings = json::array();
  json stage = {{"name", name.filename().string()},
                {"type", "eval"},
                {"index", 0},
                {"dir", "."},
                {"eval_dir", "."},
                {"gates", json::array()},
                {"training", json::array()},
                {"results", nullptr},
                {"protocol", nullptr}};
  const json run = load_eval_dir(run_dir, "run " + name.filename().string(), stage, warnings);
  stage["status"] = stage["results"].is_null() ? "running" : "evaluated";
  return {{"kind", "eval"},
          {"dir", dir},
          {"name", stage["name"]},
          {"status", stage["status"]},
          {"command", run.is_object() && run.contains("command") ? run["command"] : json()},
          {"promoted", nullptr},
          {"failed_stage", nullptr},
          {"error", nullptr},
          {"stages", json::array({stage})},
          {"warnings", warnings}};
}

}  // namespace

json load_run_record(const std::string& dir) {
  const fs::path run_dir(dir);
  if (fs::exists(run_dir / "pipeline.json")) return load_pipeline(run_dir, dir);
  check(fs::exists(run_dir / "run.json") || fs::exists(run_dir / "results.json"),
        dir + ": not a run directory (no pipeline.json, run.json or results.json)");
  return load_eval(run_dir, dir);
}

std::string record_string(const json& j, const char* key, const std::string& fallback) {
  if (!j.is_object()) return fallback;
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

std::optional<double> record_number(const json& j, const char* key) {
  if (!j.is_object()) return std::nullopt;
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

}  // namespace r1
