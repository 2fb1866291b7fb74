#include "reports/compare.h"

#include <cstdio>  // std::snprintf
#include <vector>  // std::vector

#include "evals/metrics.h"   // r1::compare_paired, r1::metrics_from_json, r1::format_percent
#include "reports/gates.h"   // r1::parse_gate_list, r1::evaluate_gates
#include "reports/record.h"  // r1::load_run_record
#include "reports/render.h"  // r1::junit_xml
#include "toolkit/error.h"   // r1::Error, r1::check
#include "toolkit/yaml.h"    // r1::read_yaml_file

namespace r1 {
namespace {

using nlohmann::json;

std::string points(double d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f", 100 * d);
  return buf;
}

// Stages of a record that hold evaluation results, by name (an r1eval run: its one stage, named
// "eval" so that two r1eval runs match).
std::vector<std::pair<std::string, json>> evaluated_stages(const json& record) {
  std::vector<std::pair<std::string, json>> out;
  for (const auto& s : record.value("stages", json::array())) {
    const std::string name =
        record.value("kind", "") == "eval" ? "eval" : s.value("name", std::string("?"));
    out.emplace_back(name, s);
  }
  return out;
}

const json* find_stage(const std::vector<std::pair<std::string, json>>& stages,
                       const std::string& name) {
  for (const auto& [n, s] : stages)
    if (n == name) return &s;
  return nullptr;
}

}  // namespace

nlohmann::json compare_runs(const RunCompareOptions& o) {
  const json base = load_run_record(o.base), next = load_run_record(o.next);
  check(base.value("kind", "") == next.value("kind", ""),
        o.base + " is a" + (base.value("kind", "") == "eval" ? "n r1eval" : " pipeline") +
            " run and " + o.next + " is not: compare runs of one kind");
  std::vector<GateSpec> all_gates;
  std::map<std::string, std::vector<GateSpec>> stage_gates;
  if (!o.gates_file.empty()) {
    const json g = read_yaml_file(o.gates_file);
    check(g.is_object(),
          o.gates_file + ": a mapping with gates: [...] and/or stages: {NAME: [...]}");
    for (const auto& [k, v] : g.items())
      check(k == "gates" || k == "stages",
            o.gates_file + ": " + k + ": unknown key (gates, stages)");
    // Here "prev" is BASE's same stage, as "baseline" is.
    const auto parse = [](const json& list, const std::string& where) {
      std::vector<GateSpec> gates = parse_gate_list(list, where);
      for (auto& gate : gates)
        if (gate.reference == "prev") gate.reference = "baseline";
      return gates;
    };
    all_gates = parse(g.value("gates", json()), o.gates_file + ": gates");
    if (g.contains("stages")) {
      check(g["stages"].is_object(), o.gates_file + ": stages: a mapping of stage: [gates]");
      for (const auto& [name, list] : g["stages"].items())
        stage_gates[name] = parse(list, o.gates_file + ": stages." + name);
    }
  }
  json out = {{"base", o.base},           {"new", o.next}, {"gates_file", o.gates_file},
              {"stages", json::array()},  {"gates", 0},    {"failed", 0},
              {"warnings", json::array()}};
  for (const auto& w : base.value("warnings", json::array())) out["warnings"].push_back(w);
  for (const auto& w : next.value("warnings", json::array())) out["warnings"].push_back(w);
  const auto bs = evaluated_stages(base), ns = evaluated_stages(next);
  for (const auto& [name, list] : stage_gates)
    if (!find_stage(bs, name) && !find_stage(ns, name))
      out["warnings"].push_back(o.gates_file + ": stages." + name + ": neither run has that stage");
  int64_t n_gates = 0, n_failed = 0;
  for (const auto& [name, b] : bs) {
    const json* n = find_stage(ns, name);
    json st = {{"stage", name},
               {"base_status", b.value("status", "")},
               {"new_status", n ? n->value("status", "") : "absent"},
               {"benchmarks", json::object()},
               {"gates", json::array()}};
    const json base_results = b.value("results", json());
    const json new_results = n ? n->value("results", json()) : json();
    if (base_results.is_object() && new_results.is_object()) {
      for (const auto& [bench, block] : base_results.items()) {
        if (!new_results.contains(bench)) continue;
        try {
          const auto a = problem_counts(metrics_from_json(block, o.base + ": " + bench));
          const auto c =
              problem_counts(metrics_from_json(new_results[bench], o.next + ": " + bench));
          st["benchmarks"][bench] =
              comparison_to_json(compare_paired(bench, a, c, o.seed, o.bootstrap));
        } catch (const Error& e) {
          out["warnings"].push_back(std::string("stage ") + name + ": " + bench + ": " + e.what());
        }
      }
    }
    std::vector<GateSpec> gates = all_gates;
    if (stage_gates.count(name))
      gates.insert(gates.end(), stage_gates[name].begin(), stage_gates[name].end());
    if (!gates.empty()) {
      GateInputs in;
      const json& data_new = n ? n->value("data", json()) : json();
      const json& data_base = b.value("data", json());
      in.benchmarks = new_results.is_object() ? &new_results : nullptr;
      in.data = data_new.is_object() ? &data_new : nullptr;
      in.references["baseline"] = {o.base + " stage " + name,
                                   base_results.is_object() ? &base_results : nullptr,
                                   data_base.is_object() ? &data_base : nullptr};
      in.bootstrap = o.bootstrap;
      in.seed = o.seed;
      // Stages without benchmarks (rejection sampling) take only the data gates.
      for (const auto& r : evaluate_gates(gates, in)) {
        const bool data_gate = r["benchmark"].is_null();
        if (!data_gate && !base_results.is_object() && !new_results.is_object()) continue;
        if (data_gate && !in.data && !data_base.is_object()) continue;
        ++n_gates;
        if (r.value("status", "") != "passed") ++n_failed;
        st["gates"].push_back(r);
      }
    }
    out["stages"].push_back(st);
  }
  for (const auto& [name, s] : ns)
    if (!find_stage(bs, name))
      out["warnings"].push_back("stage " + name + " is only in " + o.next + " (not compared)");
  out["gates"] = n_gates;
  out["failed"] = n_failed;
  out["passed"] = n_failed == 0;
  return out;
}

std::string render_compare_markdown(const nlohmann::json& c) {
  const int64_t gates = c.value("gates", int64_t{0}), failed = c.value("failed", int64_t{0});
  std::string md = "### r1report compare: ";
  if (gates == 0) {
    md += "no gates given\n\n";
  } else if (failed == 0) {
    md += "✅ no regression (" + std::to_string(gates) + " gate" + (gates == 1 ? "" : "s") +
          " hold)\n\n";
  } else {
    md += "❌ " + std::to_string(failed) + " of " + std::to_string(gates) + " gates failed\n\n";
  }
  md += "Base `" + c.value("base", std::string()) + "`, new `" + c.value("new", std::string()) +
        "`" +
        (c.value("gates_file", std::string()).empty()
             ? std::string()
             : ", gates `" + c.value("gates_file", std::string()) + "`") +
        ". Differences are new minus base over the problems both evaluated, with the paired "
        "bootstrap 95% interval and the sign-flip p-value.\n\n";
  for (const auto& st : c.value("stages", json::array())) {
    const std::string name = st.value("stage", std::string("?"));
    md += "#### " + name + "\n\n";
    const json benches = st.value("benchmarks", json::object());
    if (benches.empty()) {
      md += "No benchmark evaluated in both runs (base: " + st.value("base_status", std::string()) +
            ", new: " + st.value("new_status", std::string()) + ").\n\n";
    } else {
      md +=
          "| benchmark | problems | base pass@1 | new pass@1 | difference (points) | 95% CI | "
          "p |\n|---|---:|---:|---:|---:|---|---:|\n";
      for (const auto& [bench, cmp] : benches.items()) {
        char p[32];
        std::snprintf(p, sizeof p, "%.3g", cmp.value("p_value", 1.0));
        const json ci = cmp.value("ci95", json::array({0.0, 0.0}));
        md += "| " + bench + " | " + std::to_string(cmp.value("problems_common", int64_t{0})) +
              " | " + format_percent(cmp.value("pass@1_a", 0.0)) + " | " +
              format_percent(cmp.value("pass@1_b", 0.0)) + " | " + points(cmp.value("diff", 0.0)) +
              " | [" + points(ci[0].get<double>()) + ", " + points(ci[1].get<double>()) + "] | " +
              p + " |\n";
      }
      md += "\n";
    }
    for (const auto& g : st.value("gates", json::array()))
      md += std::string("- ") + (g.value("status", "") == "passed" ? "✅" : "❌") + " `" +
            g.value("expr", std::string()) + "`: " + g.value("message", std::string()) + "\n";
    if (!st.value("gates", json::array()).empty()) md += "\n";
  }
  const json warnings = c.value("warnings", json::array());
  if (!warnings.empty()) {
    md += "Warnings:\n\n";
    for (const auto& w : warnings) md += "- " + w.get<std::string>() + "\n";
  }
  return md;
}

std::string render_compare_junit(const nlohmann::json& c) {
  json suites = json::array();
  for (const auto& st : c.value("stages", json::array())) {
    json suite = {{"name", "r1report compare: " + st.value("stage", std::string("?"))},
                  {"cases", json::array()}};
    for (const auto& g : st.value("gates", json::array())) {
      const bool ok = g.value("status", "") == "passed";
      suite["cases"].push_back(
          {{"name", g.value("expr", std::string()) +
                        (g["benchmark"].is_string() ? " [" + g["benchmark"].get<std::string>() + "]"
                                                    : std::string())},
           {"classname", st.value("stage", std::string("?"))},
           {"failure", ok ? json() : json(g.value("message", std::string()))},
           {"error", nullptr},
           {"output", g.value("message", std::string())}});
    }
    suites.push_back(suite);
  }
  return junit_xml(suites);
}

}  // namespace r1
