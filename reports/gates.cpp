#include "reports/gates.h"

#include <algorithm>  // std::count_if
#include <cmath>      // std::abs, std::floor
#include <cstdio>     // std::snprintf
#include <optional>   // std::optional
#include <regex>      // std::regex, std::smatch

#include "evals/metrics.h"  // r1::bootstrap_means, r1::format_percent, r1::pass_at_k
#include "toolkit/error.h"  // r1::Error, r1::check
#include "toolkit/text.h"   // r1::trim_space

namespace r1 {
namespace {

using nlohmann::json;

bool is_data_metric(const std::string& m) { return m == "rows" || m == "kept" || m == "kept_rate"; }
bool is_aggregate(const std::string& m) {
  return m == "truncated_rate" || m == "no_answer_rate" || m == "tokens_mean";
}
// pass@K's K, or 0 for maj@n.
std::optional<int64_t> per_problem_k(const std::string& m) {
  static const std::regex pass_re("pass@([1-9][0-9]{0,5})");
  std::smatch match;
  if (std::regex_match(m, match, pass_re)) return std::stoll(match[1]);
  if (m == "maj@n") return 0;
  return std::nullopt;
}
bool is_metric(const std::string& m) {
  return per_problem_k(m) || is_aggregate(m) || is_data_metric(m);
}

// A number with an optional % (50% = 0.5); nullopt when `s` is not one.
std::optional<double> parse_number(const std::string& s) {
  static const std::regex num_re("([-+]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][-+]?[0-9]+)?)(%?)");
  std::smatch m;
  if (!std::regex_match(s, m, num_re)) return std::nullopt;
  const double v = std::stod(m[1]);
  return m[5].length() ? v / 100.0 : v;
}

// Three decimals, or none for whole numbers of rows and tokens.
std::string num(double v) {
  char buf[32];
  const bool whole = std::abs(v) >= 1 && v == std::floor(v) && std::abs(v) < 1e15;
  std::snprintf(buf, sizeof buf, whole ? "%.0f" : "%.3f", v);
  return buf;
}
std::string signed_num(double v) { return (v >= 0 ? "+" : "") + num(v); }

bool holds(double x, const std::string& op, double bound) {
  if (op == ">=") return x >= bound;
  if (op == ">") return x > bound;
  if (op == "<=") return x <= bound;
  return x < bound;
}
bool lower_bounded(const std::string& op) { return op[0] == '>'; }

// A benchmark's metric: its value, and per-problem values when the metric has them.
struct MetricValues {
  std::string missing;  // why there is none ("" = present)
  double value = 0;
  std::map<std::string, double> per_problem;  // id -> value (per-problem metrics only)
};

MetricValues benchmark_metric(const json* benchmarks, const std::string& bench,
                              const std::string& metric) {
  MetricValues mv;
  if (benchmarks == nullptr || !benchmarks->is_object() || benchmarks->empty()) {
    mv.missing = "not evaluated";
    return mv;
  }
  if (!benchmarks->contains(bench)) {
    mv.missing = "no benchmark '" + bench + "' in the evaluation";
    return mv;
  }
  const json& b = benchmarks->at(bench);
  if (is_aggregate(metric)) {
    const json* v = nullptr;
    if (metric == "tokens_mean") {
      if (b.contains("completion_tokens") && b["completion_tokens"].is_object() &&
          b["completion_tokens"].contains("mean"))
        v = &b["completion_tokens"]["mean"];
    } else if (b.contains(metric)) {
      v = &b[metric];
    }
    if (v == nullptr || !v->is_number()) {
      mv.missing = bench + " has no " + metric;
      return mv;
    }
    mv.value = v->get<double>();
    return mv;
  }
  const int64_t k = *per_problem_k(metric);
  if (!b.contains("per_problem") || !b["per_problem"].is_array()) {
    mv.missing = bench + " has no per-problem results";
    return mv;
  }
  double sum = 0;
  for (const json& p : b["per_problem"]) {
    const int64_t n = p.value("n", int64_t{0}), c = p.value("c", int64_t{0});
    if (n <= 0) continue;
    if (k > n) {
      mv.missing = metric + " needs " + std::to_string(k) + " samples per problem; " + bench +
                   " has " + std::to_string(n) + " for problem " + p.value("id", std::string("?"));
      return mv;
    }
    const double v = k == 0 ? (p.value("maj_correct", false) ? 1.0 : 0.0) : pass_at_k(n, c, k);
    mv.per_problem[p.value("id", std::string())] = v;
    sum += v;
  }
  if (mv.per_problem.empty()) {
    mv.missing = bench + " has no graded samples";
    return mv;
  }
  mv.value = sum / static_cast<double>(mv.per_problem.size());
  return mv;
}

MetricValues data_metric(const json* data, const std::string& metric) {
  MetricValues mv;
  if (data == nullptr || !data->is_object() || !data->contains(metric) ||
      !(*data)[metric].is_number()) {
    mv.missing = "no data metric " + metric;
    return mv;
  }
  mv.value = (*data)[metric].get<double>();
  return mv;
}

// The share of sorted bootstrap means meeting `op bound`.
double share_holding(const std::vector<double>& sorted, const std::string& op, double bound) {
  const auto n =
      std::count_if(sorted.begin(), sorted.end(), [&](double x) { return holds(x, op, bound); });
  return static_cast<double>(n) / static_cast<double>(sorted.size());
}

json judge(const GateSpec& g, const std::string& bench, const GateInputs& in) {
  const bool data = is_data_metric(g.metric);
  const std::string what = data ? g.metric : bench + "." + g.metric;
  json r = {{"expr", g.expr},
            {"kind", !g.reference.empty()      ? "relative"
                     : per_problem_k(g.metric) ? "absolute"
                                               : "guard"},
            {"benchmark", data ? json(nullptr) : json(bench)},
            {"metric", g.metric},
            {"op", g.op},
            {"value", nullptr},
            {"reference", g.reference.empty() ? json(nullptr) : json(g.reference)},
            {"reference_label", nullptr},
            {"reference_value", nullptr},
            {"margin", nullptr},
            {"threshold", nullptr},
            {"estimate", nullptr},
            {"ci95", nullptr},
            {"judged_on", "point"},
            {"judged", nullptr},
            {"bound", nullptr},
            {"slack", nullptr},
            {"confidence", nullptr},
            {"problems_common", nullptr},
            {"status", "missing"},
            {"message", ""}};
  auto fail_missing = [&](const std::string& why) {
    r["message"] = "'" + g.expr + "'" + (g.benchmark.empty() && !data ? " on " + bench : "") +
                   ": cannot be judged: " + why;
    return r;
  };
  const MetricValues cur =
      data ? data_metric(in.data, g.metric) : benchmark_metric(in.benchmarks, bench, g.metric);
  if (!cur.missing.empty()) return fail_missing(cur.missing);
  r["value"] = cur.value;
  const bool lower = lower_bounded(g.op);

  if (g.reference.empty()) {
    r["threshold"] = g.number;
    r["estimate"] = cur.value;
    r["judged"] = cur.value;
    r["bound"] = g.number;
    const double slack = lower ? cur.value - g.number : g.number - cur.value;
    r["slack"] = slack;
    const bool ok = holds(cur.value, g.op, g.number);
    r["status"] = ok ? "passed" : "failed";
    std::string msg = what + " = " + num(cur.value) + (ok ? " " : ", not ") + g.op + " " +
                      num(g.number) + " (" + (ok ? "by " : "short by ") + num(std::abs(slack));
    if (!cur.per_problem.empty() && in.bootstrap > 0) {
      std::vector<double> values;
      for (const auto& [id, v] : cur.per_problem) values.push_back(v);
      const auto means = bootstrap_means(values, in.bootstrap, in.seed);
      const double lo = quantile_sorted(means, 0.025), hi = quantile_sorted(means, 0.975);
      const double conf = share_holding(means, g.op, g.number);
      r["ci95"] = {lo, hi};
      r["confidence"] = conf;
      msg += "; 95% CI [" + num(lo) + ", " + num(hi) + "], " + format_percent(conf) +
             " of bootstrap resamples meet it";
    }
    r["message"] = msg + ")";
    return r;
  }

  const auto it = in.references.find(g.reference);
  if (it == in.references.end()) return fail_missing("no " + g.reference + " run to compare with");
  const auto& ref = it->second;
  r["reference_label"] = ref.label;
  const MetricValues base =
      data ? data_metric(ref.data, g.metric) : benchmark_metric(ref.benchmarks, bench, g.metric);
  if (!base.missing.empty())
    return fail_missing(g.reference + " (" + ref.label + "): " + base.missing);
  r["reference_value"] = base.value;
  r["margin"] = lower ? -g.number : g.number;
  r["bound"] = g.number;
  const std::string against = " vs " + g.reference + " (" + ref.label + ")";

  if (cur.per_problem.empty() || base.per_problem.empty()) {  // aggregates: a point difference
    const double d = cur.value - base.value;
    r["estimate"] = d;
    r["judged"] = d;
    const double slack = lower ? d - g.number : g.number - d;
    r["slack"] = slack;
    const bool ok = holds(d, g.op, g.number);
    r["status"] = ok ? "passed" : "failed";
    r["message"] = what + against + ": " + num(cur.value) + " vs " + num(base.value) +
                   ", difference " + signed_num(d) + (ok ? " " : ", not ") + g.op + " " +
                   signed_num(g.number) + " (" + (ok ? "by " : "short by ") + num(std::abs(slack)) +
                   ")";
    return r;
  }
  std::vector<double> diffs;
  for (const auto& [id, v] : base.per_problem) {
    const auto c = cur.per_problem.find(id);
    if (c != cur.per_problem.end()) diffs.push_back(c->second - v);
  }
  r["problems_common"] = static_cast<int64_t>(diffs.size());
  if (diffs.empty()) return fail_missing("no problem in common with " + g.reference);
  double sum = 0;
  for (double d : diffs) sum += d;
  const double d = sum / static_cast<double>(diffs.size());
  r["estimate"] = d;
  const auto means = bootstrap_means(diffs, std::max(in.bootstrap, 1), in.seed);
  const double lo = quantile_sorted(means, 0.025), hi = quantile_sorted(means, 0.975);
  r["ci95"] = {lo, hi};
  const double judged = lower ? lo : hi;
  r["judged_on"] = lower ? "ci95_lo" : "ci95_hi";
  r["judged"] = judged;
  const double slack = lower ? judged - g.number : g.number - judged;
  r["slack"] = slack;
  const double conf = share_holding(means, g.op, g.number);
  r["confidence"] = conf;
  const bool ok = holds(judged, g.op, g.number);
  r["status"] = ok ? "passed" : "failed";
  r["message"] = what + against + ": paired difference " + signed_num(d) + " over " +
                 std::to_string(diffs.size()) + " problems, 95% CI [" + signed_num(lo) + ", " +
                 signed_num(hi) + "]; its " + (lower ? "lower" : "upper") + " end " +
                 signed_num(judged) + (ok ? " is " : " is not ") + g.op + " " +
                 signed_num(g.number) + " (" + (ok ? "by " : "short by ") + num(std::abs(slack)) +
                 "); " + format_percent(conf) + " of bootstrap resamples meet it";
  return r;
}

}  // namespace

GateSpec parse_gate(const std::string& expr) {
  GateSpec g;
  g.expr = trim_space(expr);
  // No gate is this long; bounded before std::regex, which recurses per character (a megabyte
  // of digits overflowed the stack).
  constexpr size_t kMaxGate = 300;
  check(g.expr.size() <= kMaxGate, "gate '" + g.expr.substr(0, 60) + "...' is longer than " +
                                       std::to_string(kMaxGate) + " characters");
  const std::string bad = "gate '" + g.expr + "': ";
  size_t pos = std::string::npos, len = 0;
  for (const char* op : {">=", "<=", ">", "<"}) {
    pos = g.expr.find(op);
    if (pos != std::string::npos) {
      g.op = op;
      len = g.op.size();
      break;
    }
  }
  check(pos != std::string::npos,
        bad + "no comparison (write METRIC >= VALUE, e.g. math500.pass@1 >= 0.5)");
  const std::string lhs = trim_space(g.expr.substr(0, pos)),
                    rhs = trim_space(g.expr.substr(pos + len));
  check(rhs.find_first_of("<>=") == std::string::npos, bad + "more than one comparison");
  const size_t dot = lhs.rfind('.');
  g.metric = dot == std::string::npos ? lhs : lhs.substr(dot + 1);
  if (dot != std::string::npos) g.benchmark = lhs.substr(0, dot);
  check(
      is_metric(g.metric),
      bad + "unknown metric '" + g.metric +
          "' (pass@K, maj@n, truncated_rate, no_answer_rate, tokens_mean, rows, kept, kept_rate)");
  check(dot == std::string::npos || !g.benchmark.empty(), bad + "empty benchmark name");
  check(!(is_data_metric(g.metric) && !g.benchmark.empty()),
        bad + g.metric + " is a data metric of the stage; it takes no benchmark");
  if (const auto v = parse_number(rhs)) {
    g.number = *v;
    return g;
  }
  static const std::regex ref_re("(prev|baseline|base)\\s*(([-+])\\s*(\\S+))?");
  std::smatch m;
  check(std::regex_match(rhs, m, ref_re),
        bad + "the right side '" + rhs +
            "' is neither a number nor prev/baseline [+/- NUMBER] (e.g. prev - 0.02)");
  g.reference = m[1] == "prev" ? "prev" : "baseline";
  if (m[2].matched) {
    const auto v = parse_number(m[4]);
    check(v.has_value() && *v >= 0, bad + "'" + std::string(m[4]) + "' is not a number >= 0");
    g.number = m[3] == "-" ? -*v : *v;
  }
  return g;
}

std::vector<GateSpec> parse_gate_list(const nlohmann::json& list, const std::string& where) {
  std::vector<GateSpec> gates;
  if (list.is_null()) return gates;
  check(list.is_array(), where + ": gates must be a list of strings like 'math500.pass@1 >= 0.5'");
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = where + "[" + std::to_string(i) + "]";
    check(list[i].is_string(), at + ": a gate must be a string, got " + list[i].dump());
    try {
      gates.push_back(parse_gate(list[i].get<std::string>()));
    } catch (const Error& e) {
      throw Error(at + ": " + e.what());
    }
  }
  return gates;
}

std::vector<nlohmann::json> evaluate_gates(const std::vector<GateSpec>& gates,
                                           const GateInputs& inputs) {
  std::vector<json> out;
  for (const GateSpec& g : gates) {
    if (is_data_metric(g.metric) || !g.benchmark.empty()) {
      out.push_back(judge(g, g.benchmark, inputs));
      continue;
    }
    if (inputs.benchmarks == nullptr || !inputs.benchmarks->is_object() ||
        inputs.benchmarks->empty()) {
      out.push_back(judge(g, "*", inputs));  // reports "not evaluated"
      continue;
    }
    for (const auto& [bench, block] : inputs.benchmarks->items())
      out.push_back(judge(g, bench, inputs));
  }
  return out;
}

bool gates_passed(const std::vector<nlohmann::json>& results) {
  for (const json& r : results)
    if (r.value("status", "") != "passed") return false;
  return true;
}

}  // namespace r1
