// Writing a regression baseline from a run (see baseline.h).
#include "reports/baseline.h"

#include <filesystem>  // std::filesystem
#include <string>      // std::string
#include <vector>      // std::vector

#include "reports/record.h"  // r1::record_string
#include "toolkit/error.h"   // r1::Error, r1::check
#include "toolkit/fs.h"      // r1::read_file, r1::write_file_atomic
#include "toolkit/json.h"    // r1::parse_json, r1::dump_json

namespace r1 {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// The files of an r1eval run directory that a comparison reads (no samples).
const std::vector<std::string> kEvalFiles = {"run.json", "results.json", "summary.md"};

// Whether `dir` holds a baseline written earlier (so it may be replaced).
bool is_baseline_dir(const fs::path& dir) {
  const fs::path p = dir / "pipeline.json";
  if (fs::exists(dir / "baseline.json")) return true;
  if (!fs::exists(p)) return false;
  try {
    return parse_json(read_file(p.string()), p.string()).contains("baseline");
  } catch (const Error&) {
    return false;
  }
}

// Empties `out` for a new baseline: refused when it holds anything but an earlier baseline.
void prepare_out_dir(const fs::path& out) {
  if (!fs::exists(out)) {
    fs::create_directories(out);
    return;
  }
  check(fs::is_directory(out), out.string() + ": exists and is not a directory");
  if (fs::is_empty(out)) return;
  check(is_baseline_dir(out), out.string() +
                                  ": not empty and not an r1 baseline (refusing to replace it; "
                                  "name a new or empty folder)");
  for (const auto& entry : fs::directory_iterator(out)) fs::remove_all(entry.path());
}

// Copies the evaluation files of `from` present there into `to`; the number copied.
int copy_eval_files(const fs::path& from, const fs::path& to) {
  int n = 0;
  for (const std::string& name : kEvalFiles) {
    if (!fs::exists(from / name)) continue;
    fs::create_directories(to);
    write_file_atomic((to / name).string(), read_file((from / name).string()));
    ++n;
  }
  return n;
}

int write_pipeline_baseline(const fs::path& run, const fs::path& out) {
  const std::string path = (run / "pipeline.json").string();
  json p = parse_json(read_file(path), path);
  check(p.is_object() && p.value("format", json()) == "r1-pipeline-run",
        path + ": not an r1 pipeline run (no \"format\": \"r1-pipeline-run\")");
  int n = 0;
  for (const json& stage : p.value("stages", json::array()))
    if (const std::string eval = record_string(stage, "eval_dir"); !eval.empty())
      n += copy_eval_files(run / eval, out / eval);
  if (fs::exists(run / "report.md"))
    write_file_atomic((out / "report.md").string(), read_file((run / "report.md").string())), ++n;
  p["baseline"] = {
      {"from", run.string()}, {"training_logs", false}, {"checkpoints", false}, {"samples", false}};
  write_file_atomic((out / "pipeline.json").string(), dump_json(p, 1) + "\n");
  return n + 1;
}

}  // namespace

int write_baseline(const std::string& run_dir, const std::string& out_dir) {
  const fs::path run(run_dir), out(out_dir);
  const bool pipeline = fs::exists(run / "pipeline.json");
  check(pipeline || fs::exists(run / "results.json"),
        run_dir + ": not a run directory (no pipeline.json or results.json)");
  check(fs::weakly_canonical(run) != fs::weakly_canonical(out),
        out_dir + ": is the run itself (name another folder for the baseline)");
  prepare_out_dir(out);
  if (pipeline) return write_pipeline_baseline(run, out);
  const int n = copy_eval_files(run, out);
  write_file_atomic((out / "baseline.json").string(),
                    dump_json(json{{"from", run.string()}, {"samples", false}}, 1) + "\n");
  return n + 1;
}

bool baseline_without_training_logs(const nlohmann::json& p) {
  if (!p.is_object()) return false;
  const auto it = p.find("baseline");
  return it != p.end() && it->is_object() && it->contains("training_logs") &&
         it->at("training_logs") == false;
}

}  // namespace r1
