#include "pipeline/recipe.h"

#include <cstdlib>     // std::getenv
#include <filesystem>  // std::filesystem
#include <regex>       // std::regex
#include <set>         // std::set

#include "distill/distill.h"        // r1::DistillConfig, r1::visit_distill_config
#include "pipeline/stage_config.h"  // r1::apply_config_json
#include "rl/grpo.h"                // r1::GrpoConfig, r1::visit_grpo_config
#include "rl/sft.h"                 // r1::SftConfig, r1::visit_sft_config
#include "toolkit/error.h"          // r1::Error, r1::check
#include "toolkit/yaml.h"           // r1::read_yaml_file

namespace r1 {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Replaces ${recipe_dir}, ${run}, ${assets} in every string of `j`; other ${...} are errors.
json substitute(const json& j, const std::map<std::string, std::string>& vars,
                const std::string& where) {
  if (j.is_object()) {
    json o = json::object();
    for (const auto& [k, v] : j.items()) o[k] = substitute(v, vars, where + "." + k);
    return o;
  }
  if (j.is_array()) {
    json a = json::array();
    for (size_t i = 0; i < j.size(); ++i)
      a.push_back(substitute(j[i], vars, where + "[" + std::to_string(i) + "]"));
    return a;
  }
  if (!j.is_string()) return j;
  std::string s = j.get<std::string>(), out;
  size_t pos = 0;
  for (;;) {
    const size_t open = s.find("${", pos);
    if (open == std::string::npos) break;
    const size_t close = s.find('}', open);
    check(close != std::string::npos, where + ": unclosed ${ in '" + s + "'");
    const std::string name = s.substr(open + 2, close - open - 2);
    const auto it = vars.find(name);
    const char* env = it == vars.end() ? std::getenv(name.c_str()) : nullptr;
    check(it != vars.end() || env != nullptr,
          where + ": unknown variable ${" + name +
              "} (known: ${recipe_dir}, ${run}, ${assets}, or a set environment variable)");
    check(env != nullptr || !it->second.empty(),
          where + ": ${" + name + "} is only defined when the model is {builtin: zero}");
    out += s.substr(pos, open - pos) + (env != nullptr ? std::string(env) : it->second);
    pos = close + 1;
  }
  return out + s.substr(pos);
}

void check_keys(const json& j, const std::string& where, const std::set<std::string>& known) {
  check(j.is_object(), where + ": must be a mapping");
  for (const auto& [k, v] : j.items()) {
    if (known.count(k)) continue;
    std::string list;
    for (const auto& n : known) list += (list.empty() ? "" : ", ") + n;
    throw Error(where + "." + k + ": unknown key (known: " + list + ")");
  }
}

std::string get_string(const json& j, const std::string& key, const std::string& where,
                       const std::string& fallback) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  check(j[key].is_string(), where + "." + key + ": must be a string, got " + j[key].dump());
  return j[key].get<std::string>();
}

int64_t get_int(const json& j, const std::string& key, const std::string& where, int64_t fallback,
                int64_t min) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  check(j[key].is_number_integer() && j[key].get<int64_t>() >= min,
        where + "." + key + ": must be an integer >= " + std::to_string(min) + ", got " +
            j[key].dump());
  return j[key].get<int64_t>();
}

ModelSpec parse_model(const json& j, const std::string& where) {
  ModelSpec m;
  if (j.is_string()) {
    m.dir = j.get<std::string>();
    check(!m.dir.empty(), where + ": empty");
    return m;
  }
  check(j.is_object(), where +
                           ": a checkpoint directory, a GGUF file, a hub id ORG/NAME, or {builtin: "
                           "zero, size: micro}");
  check_keys(j, where, {"builtin", "size", "base_steps", "seed"});
  m.builtin = get_string(j, "builtin", where, "");
  check(m.builtin == "zero", where + ".builtin: the built-in model is 'zero' (the tiny R1-Zero)");
  m.size = get_string(j, "size", where, m.size);
  m.base_steps = get_int(j, "base_steps", where, m.base_steps, 1);
  m.seed = static_cast<uint64_t>(get_int(j, "seed", where, 0, 0));
  return m;
}

const std::set<std::string> kEvalKeys = {"benchmarks",      "dataset",
                                         "question_field",  "answer_field",
                                         "id_field",        "data_dir",
                                         "limit",           "bootstrap",
                                         "max_batch",       "preset",
                                         "samples",         "temperature",
                                         "top_p",           "top_k",
                                         "max_new_tokens",  "seed",
                                         "prompt_template", "system_prompt",
                                         "force_think",     "extract",
                                         "float_places",    "code_prompt_template",
                                         "device",          "dtype"};

// The default eval overlaid by `over` (keys present replace the default's).
json merge_eval(const json& base, const json& over, const std::string& where) {
  json e = base.is_object() ? base : json::object();
  if (over.is_null()) return e;
  check_keys(over, where, kEvalKeys);
  for (const auto& [k, v] : over.items()) e[k] = v;
  return e;
}

EvalSpec parse_eval(const json& e, const std::string& where) {
  EvalSpec s;
  check_keys(e, where, kEvalKeys);
  if (e.contains("benchmarks") && !e["benchmarks"].is_null()) {
    check(e["benchmarks"].is_array(), where + ".benchmarks: must be a list of names");
    for (const auto& b : e["benchmarks"]) {
      check(b.is_string(), where + ".benchmarks: must be a list of names, got " + b.dump());
      s.benchmarks.push_back(b.get<std::string>());
    }
  }
  s.dataset = get_string(e, "dataset", where, "");
  s.question_field = get_string(e, "question_field", where, s.question_field);
  s.answer_field = get_string(e, "answer_field", where, s.answer_field);
  s.id_field = get_string(e, "id_field", where, "");
  s.data_dir = get_string(e, "data_dir", where, "");
  s.limit = get_int(e, "limit", where, 0, 0);
  s.bootstrap = static_cast<int>(get_int(e, "bootstrap", where, 10000, 1));
  s.max_batch = get_int(e, "max_batch", where, 64, 1);
  s.device = get_string(e, "device", where, s.device);
  s.dtype = get_string(e, "dtype", where, s.dtype);
  json p = protocol_to_json(protocol_preset(get_string(e, "preset", where, "r1")));
  for (const auto& [k, v] : e.items())
    if (p.contains(k) && k != "preset") p[k] = v;
  s.protocol = protocol_from_json(p, where);
  check(s.protocol.samples >= 1, where + ".samples: must be >= 1");
  return s;
}

}  // namespace

std::string builtin_assets_dir(const std::string& run_dir) {
  return (fs::path(run_dir) / "input" / "assets").string();
}

void apply_stage_config(const StageSpec& s, SftConfig& c) {
  apply_config_json(c, [](auto& x, auto&& f) { visit_sft_config(x, f); }, s.config,
                    s.where + ".config", {"model", "out"});
}

void apply_stage_config(const StageSpec& s, GrpoConfig& c) {
  apply_config_json(c, [](auto& x, auto&& f) { visit_grpo_config(x, f); }, s.config,
                    s.where + ".config", {"model", "out"});
}

void apply_stage_config(const StageSpec& s, DistillConfig& c) {
  json fields = s.config;
  std::set<std::string> reserved = {"out", "until"};
  if (s.type == "distill") {
    if (fields["student"].is_string()) c.student = fields["student"].get<std::string>();
    fields.erase("student");
  } else {
    reserved.insert("student");
    reserved.insert("teacher");
  }
  apply_config_json(
      c, [](auto& x, auto&& f) { visit_distill_config(x, f); }, fields, s.where + ".config",
      reserved);
}

const std::vector<std::string>& stage_types() {
  static const std::vector<std::string> t = {"sft", "grpo", "rejection_sampling", "distill"};
  return t;
}

Recipe load_recipe(const std::string& path, const std::string& run_dir) {
  Recipe r;
  r.path = path;
  r.dir = fs::absolute(path).parent_path().lexically_normal().string();
  const std::string file = fs::path(path).filename().string();
  const json raw = read_yaml_file(path);
  check(raw.is_object(), path + ": a recipe is a mapping with name, model and stages");
  check_keys(raw, file, {"name", "description", "model", "baseline", "threads", "eval", "stages"});
  std::map<std::string, std::string> vars = {
      {"recipe_dir", r.dir}, {"run", run_dir}, {"assets", ""}};
  r.name = get_string(raw, "name", file, fs::path(path).stem().string());
  check(raw.contains("model"),
        file + ": model: missing (a checkpoint directory or {builtin: zero})");
  const json model = substitute(raw["model"], vars, file + ".model");
  r.model = parse_model(model, file + ".model");
  if (!r.model.builtin.empty()) vars["assets"] = builtin_assets_dir(run_dir);
  r.baseline = substitute(json(get_string(raw, "baseline", file, "")), vars, file + ".baseline");
  r.threads = get_int(raw, "threads", file, 0, 0);
  const json default_eval = substitute(raw.value("eval", json::object()), vars, file + ".eval");
  r.eval = parse_eval(default_eval, file + ".eval");
  check(raw.contains("stages") && raw["stages"].is_array() && !raw["stages"].empty(),
        file + ": stages: a list of at least one stage");

  std::set<std::string> names = {"input"};
  for (size_t i = 0; i < raw["stages"].size(); ++i) {
    const std::string where = file + ": stages[" + std::to_string(i) + "]";
    const json& st = raw["stages"][i];
    check_keys(st, where, {"name", "type", "from", "config", "eval", "gates"});
    StageSpec s;
    s.type = get_string(st, "type", where, "");
    bool known = false;
    for (const auto& t : stage_types()) known = known || t == s.type;
    check(known, where + ".type: '" + s.type +
                     "' is not a stage type (sft, grpo, rejection_sampling, distill)");
    s.name = get_string(st, "name", where, s.type);
    static const std::regex name_re("[A-Za-z0-9_-]{1,64}");
    check(s.name.size() <= 64 && std::regex_match(s.name, name_re),
          where + ".name: '" + s.name.substr(0, 80) + (s.name.size() > 80 ? "..." : "") +
              "' must be letters, digits, _ or - (at most 64)");
    check(names.insert(s.name).second,
          where + ".name: '" + s.name + "' is used twice (or is 'input', the input model)");
    s.from = get_string(st, "from", where, "promoted");
    check(s.from == "promoted" || names.count(s.from),
          where + ".from: '" + s.from + "' is not promoted, input or an earlier stage");
    check(s.from != s.name, where + ".from: a stage cannot start from itself");
    s.config = substitute(st.value("config", json::object()), vars, where + ".config");
    check(s.config.is_object(), where + ".config: must be a mapping of the trainer's fields");
    s.where = where;
    if (s.type == "distill") {
      check(s.config.contains("student"),
            where +
                ".config.student: missing (a checkpoint "
                "directory, a preset, or {builtin: zero, size: nano})");
      if (s.config["student"].is_object())
        s.builtin_student = parse_model(s.config["student"], where + ".config.student");
    }
    // Check the fields against the trainer now, so a typo fails before hours of training.
    if (s.type == "sft") {
      SftConfig c;
      apply_stage_config(s, c);
    } else if (s.type == "grpo") {
      GrpoConfig c;
      apply_stage_config(s, c);
    } else {
      DistillConfig c;
      apply_stage_config(s, c);
    }
    const json eval = merge_eval(
        default_eval, substitute(st.value("eval", json()), vars, where + ".eval"), where + ".eval");
    s.eval = parse_eval(eval, where + ".eval");
    s.gates = parse_gate_list(st.value("gates", json()), where + ".gates");
    json gates = json::array();
    for (const auto& g : s.gates) gates.push_back(g.expr);
    s.resolved = {
        {"type", s.type}, {"from", s.from}, {"config", s.config}, {"eval", eval}, {"gates", gates}};
    r.stages.push_back(std::move(s));
  }
  r.resolved = {{"name", r.name},       {"model", model},       {"baseline", r.baseline},
                {"threads", r.threads}, {"eval", default_eval}, {"stages", json::array()}};
  for (const auto& s : r.stages) r.resolved["stages"].push_back(s.resolved);
  return r;
}

}  // namespace r1
