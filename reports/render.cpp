// Markdown, HTML, JUnit and JSON renderings of a run record (see render.h). The content is built
// once as tables of cells (plain text, code, status) and written out by a Markdown and an HTML
// writer, so the two formats cannot drift apart.
#include "reports/render.h"

#include <algorithm>  // std::find, std::max, std::clamp, std::sort
#include <cstdint>    // int64_t
#include <cstdlib>    // std::strtoll, std::strtod
#include <optional>   // std::optional
#include <utility>    // std::pair
#include <vector>     // std::vector

#include "evals/metrics.h"   // r1::format_percent
#include "reports/record.h"  // r1::record_string, r1::record_number
#include "toolkit/error.h"   // r1::Error
#include "toolkit/json.h"    // r1::dump_json

namespace r1 {
namespace {

using json = nlohmann::json;
const std::string kDash = "—";

// ---- reading records that may hold anything ----

const json& member(const json& j, const char* key) {
  static const json null;
  if (!j.is_object()) return null;
  const auto it = j.find(key);
  return it == j.end() ? null : *it;
}
const json& list(const json& j, const char* key) {  // an array, or an empty one
  static const json empty = json::array();
  const json& v = member(j, key);
  return v.is_array() ? v : empty;
}
std::string str(const json& j, const char* key, const std::string& fallback = "") {
  return record_string(j, key, fallback);
}
std::optional<double> number(const json& j, const char* key) { return record_number(j, key); }

// [lo, hi] of a "ci95" field, when it is two numbers.
std::optional<std::pair<double, double>> interval(const json& ci) {
  if (!ci.is_array() || ci.size() != 2 || !ci[0].is_number() || !ci[1].is_number())
    return std::nullopt;
  return std::pair{ci[0].get<double>(), ci[1].get<double>()};
}

// Benchmark names of all stages, in order of first appearance.
std::vector<std::string> benchmark_names(const json& record) {
  std::vector<std::string> names;
  for (const json& stage : list(record, "stages"))
    if (member(stage, "results").is_object())
      for (const auto& [name, block] : member(stage, "results").items())
        if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  return names;
}

// The stage that failed (failed_stage, else the first failed or in error) and its first gate not
// passed; nullptr for either when there is none.
std::pair<const json*, const json*> failure(const json& record) {
  const std::string named = str(record, "failed_stage");
  for (const json& stage : list(record, "stages")) {
    const std::string status = str(stage, "status");
    if (named.empty() ? status != "failed" && status != "error" : str(stage, "name") != named)
      continue;
    for (const json& gate : list(stage, "gates"))
      if (str(gate, "status") != "passed") return {&stage, &gate};
    return {&stage, nullptr};
  }
  return {nullptr, nullptr};
}

// ---- formatting values ----

bool is_rate(const std::string& metric) {
  const auto ends_with = [&](const std::string& s) {
    return metric.size() >= s.size() && metric.compare(metric.size() - s.size(), s.size(), s) == 0;
  };
  return metric.rfind("pass@", 0) == 0 || metric.rfind("maj@", 0) == 0 || ends_with("_rate") ||
         ends_with("accuracy");
}
// Rates as percentages (differences in percentage points), other metrics with 4 digits.
std::string metric_value(const std::string& metric, std::optional<double> v) {
  if (!v) return kDash;
  return is_rate(metric) ? format_percent(*v) : format_double("%.4g", *v);
}
std::string metric_delta(const std::string& metric, double v) {
  return is_rate(metric) ? format_double("%+.1f pp", v * 100) : format_double("%+.4g", v);
}
std::string percent(std::optional<double> v) { return v ? format_percent(*v) : kDash; }
std::string interval_text(const json& ci) {
  const auto i = interval(ci);
  return i ? "[" + format_percent(i->first) + ", " + format_percent(i->second) + "]" : kDash;
}

std::string status_label(const std::string& status) {
  if (status == "passed") return "✓ passed";
  if (status == "failed" || status == "error") return "✗ " + status;
  if (status == "missing") return "? missing";
  return status.empty() ? "unknown" : status;
}

// What a gate judged: "judged 51.0% (ci95_lo of estimate 53.1%) vs bound 53.0%, slack -2.0 pp,
// confidence 0.97".
std::string gate_detail(const json& g) {
  const std::string metric = str(g, "metric");
  std::string s =
      number(g, "judged") ? "judged " + metric_value(metric, number(g, "judged")) : "not measured";
  if (const std::string on = str(g, "judged_on", "point"); on != "point" && number(g, "judged"))
    s += " (" + on +
         (number(g, "estimate") ? " of estimate " + metric_value(metric, number(g, "estimate"))
                                : "") +
         ")";
  if (number(g, "bound")) s += " vs bound " + metric_value(metric, number(g, "bound"));
  if (const auto slack = number(g, "slack")) s += ", slack " + metric_delta(metric, *slack);
  if (const auto c = number(g, "confidence")) s += ", confidence " + format_double("%.3g", *c);
  return s;
}

// "steps 1–3000 · loss 0.1168" from a stage's training rows (the last value of loss or reward).
std::string training_summary(const json& stage) {
  const json& rows = list(stage, "training");
  if (rows.empty()) return str(stage, "metrics").empty() ? kDash : "no data";
  std::string s = "steps " + format_double("%.0f", number(rows.front(), "step").value_or(0)) + "–" +
                  format_double("%.0f", number(rows.back(), "step").value_or(0));
  for (const char* key : {"loss", "reward"})
    for (auto it = rows.rbegin(); it != rows.rend(); ++it)
      if (const auto v = number(*it, key)) {
        s += std::string(" · ") + key + " " + format_double("%.4g", *v);
        break;
      }
  return s;
}

// ---- content as tables of cells ----

struct Cell {
  std::string text;                                 // plain text
  std::string code;                                 // shown as code, before the text
  std::string status;                               // shown as a status badge, before both
  Cell(std::string t = "") : text(std::move(t)) {}  // NOLINT: rows read as lists of strings
  Cell(const char* t) : text(t) {}                  // NOLINT
};
Cell code(std::string c, std::string t = "") {
  Cell cell(std::move(t));
  cell.code = std::move(c);
  return cell;
}
Cell badge(std::string status) {
  Cell cell;
  cell.status = std::move(status);
  return cell;
}

struct Table {
  std::vector<std::string> header;
  std::string align;  // one letter per column: 'l' left, 'r' right (numbers), 'w' left, wrapping
  std::vector<std::vector<Cell>> rows;
};

using Summary = std::vector<std::pair<std::string, Cell>>;

Summary summary(const json& record) {
  Summary s = {{"status", badge(str(record, "status", "unknown"))},
               {"run", code(str(record, "dir"), " (" + str(record, "kind", "run") + ")")}};
  for (const char* key : {"recipe", "command"})
    if (!str(record, key).empty()) s.emplace_back(key, code(str(record, key)));
  for (const char* key : {"started", "updated"})
    if (!str(record, key).empty()) s.emplace_back(key, str(record, key));
  if (str(record, "kind") == "pipeline") {
    const json& promoted = member(record, "promoted");
    s.emplace_back("promoted", promoted.is_object()
                                   ? code(str(promoted, "checkpoint", "?"),
                                          " (stage " + str(promoted, "stage", "?") + ")")
                                   : Cell("none"));
  }
  const auto [stage, gate] = failure(record);
  if (stage) s.emplace_back("failed stage", str(*stage, "name"));
  if (gate)
    s.emplace_back("failed gate",
                   code(str(*gate, "expr", "?"),
                        ": " + gate_detail(*gate) +
                            (str(*gate, "message").empty() ? "" : ". " + str(*gate, "message"))));
  if (!str(record, "error").empty()) s.emplace_back("error", str(record, "error"));
  return s;
}

Table stages_table(const json& record) {
  Table t{{"#", "stage", "type", "status", "checkpoint", "training", "evaluation", "time"},
          "rlllllll",
          {}};
  for (const json& stage : list(record, "stages")) {
    const json& results = member(stage, "results");
    const auto index = number(stage, "index");
    const auto seconds = number(stage, "seconds");
    t.rows.push_back(
        {index ? format_double("%.0f", *index) : kDash, str(stage, "name"),
         str(stage, "type", kDash), badge(str(stage, "status")),
         str(stage, "checkpoint").empty() ? Cell(kDash) : code(str(stage, "checkpoint")),
         training_summary(stage),
         results.is_object()
             ? std::to_string(results.size()) + " benchmark" + (results.size() == 1 ? "" : "s")
             : "not evaluated",
         seconds ? format_double("%.1f s", *seconds) : kDash});
  }
  return t;
}

// The largest k of a "pass@k" object and its value.
std::optional<std::pair<long long, double>> largest_k(const json& pass_at_k) {
  std::optional<std::pair<long long, double>> best;
  if (!pass_at_k.is_object()) return best;
  for (const auto& [key, v] : pass_at_k.items()) {
    char* end = nullptr;
    const long long k = std::strtoll(key.c_str(), &end, 10);
    if (*end == '\0' && k > 0 && v.is_number() && (!best || k > best->first))
      best = std::pair{k, v.get<double>()};
  }
  return best;
}

Table results_table(const json& record) {
  Table t{{"stage", "benchmark", "problems", "n", "pass@1 ± stderr", "95% CI", "maj@n",
           "pass@k (largest k)", "truncated", "no answer"},
          "llrrrrrrrr",
          {}};
  for (const json& stage : list(record, "stages")) {
    const json& results = member(stage, "results");
    if (!results.is_object() || results.empty()) {
      t.rows.push_back({str(stage, "name"), "not evaluated"});
      t.rows.back().resize(t.header.size(), kDash);
      continue;
    }
    for (const auto& [name, b] : results.items()) {
      const auto p1 = number(b, "pass@1"), se = number(b, "stderr"),
                 problems = number(b, "problems");
      const auto n_min = number(member(b, "n"), "min"), n_max = number(member(b, "n"), "max");
      const auto k = largest_k(member(b, "pass@k"));
      t.rows.push_back(
          {str(stage, "name"), name, problems ? format_double("%.0f", *problems) : kDash,
           !n_min ? kDash
                  : format_double("%.0f", *n_min) +
                        (n_max && *n_max != *n_min ? format_double("–%.0f", *n_max) : ""),
           p1 ? format_percent(*p1) + (se ? " ± " + format_percent(*se) : "") : kDash,
           interval_text(member(b, "ci95")), percent(number(b, "maj@n")),
           k ? format_percent(k->second) + " (k=" + std::to_string(k->first) + ")" : kDash,
           percent(number(b, "truncated_rate")), percent(number(b, "no_answer_rate"))});
    }
  }
  return t;
}

Table gates_table(const json& stage) {
  Table t{{"", "gate", "judged", "bound", "reference", "slack", "confidence", "message"},
          "llrrlrrw",
          {}};
  for (const json& g : list(stage, "gates")) {
    const std::string metric = str(g, "metric");
    std::string judged = metric_value(metric, number(g, "judged"));
    if (const std::string on = str(g, "judged_on", "point"); on != "point" && number(g, "judged"))
      judged += " (" + on + ")";
    std::string reference = str(g, "reference_label", str(g, "reference"));
    if (number(g, "reference_value"))
      reference +=
          (reference.empty() ? "" : " ") + metric_value(metric, number(g, "reference_value"));
    const auto slack = number(g, "slack"), confidence = number(g, "confidence");
    t.rows.push_back({badge(str(g, "status", "missing")), code(str(g, "expr", "?")), judged,
                      metric_value(metric, number(g, "bound")),
                      reference.empty() ? kDash : reference,
                      slack ? metric_delta(metric, *slack) : kDash,
                      confidence ? format_double("%.3g", *confidence) : kDash, str(g, "message")});
  }
  return t;
}

// Rejection-sampling data of `stages` (those with "data"): rows in, rows kept.
Table data_table(const json& stages) {
  Table t{{"stage", "rows", "kept", "kept rate", "SFT data"}, "lrrrl", {}};
  for (const json& stage : stages) {
    const json& d = member(stage, "data");
    if (!d.is_object()) continue;
    const auto rows = number(d, "rows"), kept = number(d, "kept");
    t.rows.push_back({str(stage, "name"), rows ? format_double("%.0f", *rows) : kDash,
                      kept ? format_double("%.0f", *kept) : kDash, percent(number(d, "kept_rate")),
                      str(d, "sft_data").empty() ? Cell(kDash) : code(str(d, "sft_data"))});
  }
  return t;
}

// ---- Markdown ----

// Text safe in a Markdown table cell: no cell break, no line break, no HTML tag.
std::string md_text(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n' || c == '\r')
      out += ' ';
    else if (c == '<')
      out += "&lt;";
    else
      out += c;
  }
  return out;
}
// A code span fenced by one more backtick than the longest run inside.
std::string md_code(const std::string& s) {
  size_t run = 0, longest = 0;
  std::string body;
  for (char c : s) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
    body += c == '|'                 ? std::string("\\|")
            : c == '\n' || c == '\r' ? std::string(" ")
                                     : std::string(1, c);
  }
  const std::string fence(longest + 1, '`');
  const std::string pad = !body.empty() && (body.front() == '`' || body.back() == '`') ? " " : "";
  return fence + pad + body + pad + fence;
}
std::string md_cell(const Cell& c) {
  std::string s = c.status.empty() ? "" : status_label(c.status);
  if (!c.code.empty()) s += (s.empty() ? "" : " ") + md_code(c.code);
  return s + md_text(c.text);
}
std::string md_table(const Table& t) {
  std::string s = "|";
  for (const auto& h : t.header) s += " " + md_text(h) + " |";
  s += "\n|";
  for (char a : t.align) s += a == 'r' ? "---:|" : "---|";
  s += "\n";
  for (const auto& row : t.rows) {
    s += "|";
    for (const Cell& c : row) s += " " + md_cell(c) + " |";
    s += "\n";
  }
  return s + "\n";
}

// ---- HTML ----

std::string html_cell(const Cell& c) {
  std::string s;
  if (!c.status.empty()) {
    static const std::vector<std::string> known = {"passed",  "evaluated", "failed", "error",
                                                   "missing", "running",   "pending"};
    const bool k = std::find(known.begin(), known.end(), c.status) != known.end();
    s += "<span class=\"badge s-" + (k ? c.status : "other") + "\">" +
         html_escape(status_label(c.status)) + "</span>";
  }
  if (!c.code.empty()) s += "<code>" + html_escape(c.code) + "</code>";
  return s + html_escape(c.text);
}
std::string html_table(const Table& t) {
  std::string s = "<table>\n<thead><tr>";
  for (size_t i = 0; i < t.header.size(); ++i)
    s += std::string(t.align[i] == 'r' ? "<th class=\"r\">" : "<th>") + html_escape(t.header[i]) +
         "</th>";
  s += "</tr></thead>\n<tbody>\n";
  for (const auto& row : t.rows) {
    s += "<tr>";
    for (size_t i = 0; i < row.size(); ++i) {
      const char a = i < t.align.size() ? t.align[i] : 'l';
      s += std::string(a == 'r'   ? "<td class=\"r\">"
                       : a == 'w' ? "<td class=\"w\">"
                                  : "<td>") +
           html_cell(row[i]) + "</td>";
    }
    s += "</tr>\n";
  }
  return s + "</tbody>\n</table>\n";
}

constexpr const char* kCss = R"(
body{margin:0;background:#f5f6f8;color:#1f2937;
  font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1240px;margin:0 auto;padding:28px 32px 56px}
h1{font-size:24px;margin:0 0 2px;display:flex;align-items:center;gap:12px}
h2{font-size:18px;margin:36px 0 12px;padding-bottom:6px;border-bottom:1px solid #e5e7eb}
h3{font-size:15px;margin:24px 0 8px;display:flex;align-items:center;gap:10px}
p.sub{color:#6b7280;margin:0 0 18px}
p.none{color:#6b7280;font-style:italic;margin:6px 0 14px}
.scroll{overflow-x:auto}
table{width:100%;border-collapse:collapse;background:#fff;border:1px solid #e5e7eb;
  margin:8px 0 16px;font-size:13px}
th,td{padding:6px 12px;border-bottom:1px solid #eef0f3;text-align:left;vertical-align:top;
  white-space:nowrap}
td.w,table.kv td{white-space:normal;min-width:240px}
th{background:#f9fafb;font-weight:600;color:#374151;white-space:nowrap}
td.r,th.r{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.kv th{background:none;color:#6b7280;font-weight:500;width:120px}
table.kv tr.bad td,table.kv tr.bad th{background:#fef2f2;color:#991b1b}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f3f4f6;
  padding:1px 5px;border-radius:4px;white-space:nowrap}
.badge{display:inline-block;padding:1px 9px;border-radius:10px;font-size:12px;font-weight:600;
  white-space:nowrap;margin-right:6px}
.s-passed,.s-evaluated{background:#dcfce7;color:#166534}
.s-failed,.s-error{background:#fee2e2;color:#991b1b}
.s-missing{background:#fef3c7;color:#92400e}
.s-running,.s-pending,.s-other{background:#e5e7eb;color:#374151}
.charts{display:flex;flex-wrap:wrap;gap:16px;margin:8px 0 16px}
figure{margin:0;background:#fff;border:1px solid #e5e7eb;border-radius:6px;padding:6px;
  line-height:0}
ul.warnings li{color:#92400e;margin:2px 0}
)";

std::string figure(const std::string& svg) { return "<figure>" + svg + "</figure>\n"; }

// pass@1 per benchmark (groups) and stage (series), 95% CI bars: the record's ci95, else 1.96
// standard errors.
std::string comparison_chart(const json& record, const std::vector<std::string>& benches) {
  std::vector<BarSeries> series;
  for (const json& stage : list(record, "stages")) {
    const json& results = member(stage, "results");
    if (!results.is_object() || results.empty()) continue;
    BarSeries s{str(stage, "name"), {}};
    for (const auto& name : benches) {
      const json& b = member(results, name.c_str());
      Bar bar;
      if (const auto p1 = number(b, "pass@1")) {
        bar.value = *p1;
        bar.error = interval(member(b, "ci95"));
        if (const auto se = number(b, "stderr"); !bar.error && se)
          bar.error = std::pair{*p1 - 1.96 * *se, *p1 + 1.96 * *se};
      }
      s.bars.push_back(bar);
    }
    series.push_back(std::move(s));
  }
  ChartOptions o;
  o.title = "pass@1 by stage (95% CI)";
  o.y_label = "pass@1";
  o.y_percent = true;
  o.width = std::clamp(
      240 + 90 * static_cast<int>(benches.size() * std::max<size_t>(1, series.size())), 552, 1160);
  return bar_chart(benches, series, o);
}

// pass@k against k (log2) for one benchmark, a line per stage.
std::string pass_at_k_chart(const json& record, const std::string& bench) {
  std::vector<LineSeries> series;
  for (const json& stage : list(record, "stages")) {
    const json& pk = member(member(member(stage, "results"), bench.c_str()), "pass@k");
    if (!pk.is_object()) continue;
    LineSeries s{str(stage, "name"), {}};
    for (const auto& [key, v] : pk.items()) {
      char* end = nullptr;
      const double k = std::strtod(key.c_str(), &end);
      if (*end == '\0' && v.is_number()) s.points.push_back({k, v.get<double>()});
    }
    std::sort(s.points.begin(), s.points.end());
    series.push_back(std::move(s));
  }
  ChartOptions o;
  o.title = bench + ": pass@k";
  o.x_label = "k (samples per problem)";
  o.y_label = "pass@k";
  o.y_percent = true;
  o.x_log2 = true;
  return line_chart(series, o);
}

// Tag names of a benchmark's "breakdown" over all stages, in order of first appearance.
std::vector<std::string> breakdown_tags(const json& record, const std::string& bench) {
  std::vector<std::string> tags;
  for (const json& stage : list(record, "stages")) {
    const json& bd = member(member(member(stage, "results"), bench.c_str()), "breakdown");
    if (bd.is_object())
      for (const auto& [tag, values] : bd.items())
        if (values.is_object() && std::find(tags.begin(), tags.end(), tag) == tags.end())
          tags.push_back(tag);
  }
  return tags;
}

// pass@1 per value of one tag (groups) and stage (series).
std::string breakdown_chart(const json& record, const std::string& bench, const std::string& tag) {
  std::vector<std::string> values;
  std::vector<const json*> by_stage;  // the tag's {value: {"problems", "pass@1"}} per stage
  std::vector<std::string> names;
  for (const json& stage : list(record, "stages")) {
    const json& v =
        member(member(member(member(stage, "results"), bench.c_str()), "breakdown"), tag.c_str());
    if (!v.is_object()) continue;
    by_stage.push_back(&v);
    names.push_back(str(stage, "name"));
    for (const auto& [value, row] : v.items())
      if (std::find(values.begin(), values.end(), value) == values.end()) values.push_back(value);
  }
  std::vector<BarSeries> series;
  for (size_t i = 0; i < by_stage.size(); ++i) {
    BarSeries s{names[i], {}};
    for (const auto& value : values) {
      Bar bar;
      if (const auto p = number(member(*by_stage[i], value.c_str()), "pass@1")) bar.value = *p;
      s.bars.push_back(bar);
    }
    series.push_back(std::move(s));
  }
  ChartOptions o;
  o.title = bench + " by " + tag + ": pass@1";
  o.x_label = tag;
  o.y_label = "pass@1";
  o.y_percent = true;
  o.width = std::clamp(
      160 + 24 * static_cast<int>(values.size() * std::max<size_t>(1, series.size())), 552, 1160);
  return bar_chart(values, series, o);
}

// Training curves of one stage: loss, reward, accuracy / held-out pass@1 against step; a chart
// only for the fields the log holds.
struct TrainingChart {
  const char* title;
  std::vector<const char*> fields;
  bool percent;
};
const TrainingChart kTrainingCharts[] = {
    {"loss", {"loss", "eval_loss"}, false},
    {"reward", {"reward"}, false},
    {"accuracy and held-out pass@1", {"accuracy", "eval/pass@1"}, true},
};

std::string training_charts(const json& stage) {
  std::string s;
  for (const TrainingChart& c : kTrainingCharts) {
    std::vector<LineSeries> series;
    for (const char* field : c.fields) {
      LineSeries line{field, {}};
      for (const json& row : list(stage, "training"))
        if (const auto v = number(row, field))
          line.points.push_back({number(row, "step").value_or(0), *v});
      if (!line.points.empty()) series.push_back(std::move(line));
    }
    if (series.empty()) continue;
    ChartOptions o;
    o.title = str(stage, "name") + ": " + c.title;
    o.x_label = "step";
    o.y_percent = c.percent;
    o.width = 366;  // three in a row
    o.height = 260;
    s += figure(line_chart(series, o));
  }
  return s;
}

std::string stage_heading(const json& stage) {
  const auto index = number(stage, "index");
  return "<h3>" + (index ? format_double("%.0f", *index) + ". " : "") +
         html_escape(str(stage, "name")) + html_cell(badge(str(stage, "status"))) +
         "<span class=\"badge s-other\">" + html_escape(str(stage, "type", "?")) + "</span></h3>\n";
}

std::string xml_attr(const json& j, const char* key) { return xml_escape(str(j, key)); }

}  // namespace

std::string html_escape(const std::string& text) { return xml_escape(text); }

std::string render_markdown(const json& record) {
  std::string s = "# " + md_text(str(record, "name", "run")) + ": " +
                  status_label(str(record, "status", "unknown")) + "\n\n";
  for (const auto& [key, cell] : summary(record)) s += "- **" + key + "**: " + md_cell(cell) + "\n";
  s += "\n## Stages\n\n" + md_table(stages_table(record));
  s += "## Results\n\n" + md_table(results_table(record));
  for (const json& stage : list(record, "stages")) {
    if (list(stage, "gates").empty()) continue;
    s += "## Gates: " + md_text(str(stage, "name")) + "\n\n" + md_table(gates_table(stage));
  }
  if (const Table data = data_table(list(record, "stages")); !data.rows.empty())
    s += "## Rejection sampling\n\n" + md_table(data);
  if (!list(record, "warnings").empty()) {
    s += "## Warnings\n\n";
    for (const json& w : list(record, "warnings"))
      s += "- " + md_text(w.is_string() ? w.get<std::string>() : w.dump()) + "\n";
  }
  return s;
}

std::string render_html(const json& record) {
  const std::string name = str(record, "name", "run");
  std::string s =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>r1 report: " +
      html_escape(name) + "</title>\n<style>" + kCss + "</style>\n</head>\n<body>\n<main>\n";
  s += "<h1>" + html_escape(name) + html_cell(badge(str(record, "status", "unknown"))) + "</h1>\n";
  s += "<p class=\"sub\">r1 " + html_escape(str(record, "kind", "run")) + " run report</p>\n";
  s += "<table class=\"kv\">\n";
  for (const auto& [key, cell] : summary(record))
    s +=
        std::string(key.rfind("failed", 0) == 0 || key == "error" ? "<tr class=\"bad\">" : "<tr>") +
        "<th>" + html_escape(key) + "</th><td>" + html_cell(cell) + "</td></tr>\n";
  s += "</table>\n";

  s += "<h2>Stages</h2>\n<div class=\"scroll\">" + html_table(stages_table(record)) + "</div>\n";
  s += "<h2>Results</h2>\n<div class=\"scroll\">" + html_table(results_table(record)) + "</div>\n";
  const std::vector<std::string> benches = benchmark_names(record);
  if (!benches.empty()) {
    s += "<div class=\"charts\">\n" + figure(comparison_chart(record, benches));
    for (const auto& bench : benches) s += figure(pass_at_k_chart(record, bench));
    s += "</div>\n";
    std::string breakdowns;
    for (const auto& bench : benches)
      for (const auto& tag : breakdown_tags(record, bench))
        breakdowns += figure(breakdown_chart(record, bench, tag));
    if (!breakdowns.empty())
      s += "<h2>Breakdowns</h2>\n<div class=\"charts\">\n" + breakdowns + "</div>\n";
  }

  const json& stages = list(record, "stages");
  if (!stages.empty()) s += "<h2>Stage details</h2>\n";
  for (const json& stage : stages) {
    s += stage_heading(stage);
    if (!str(stage, "error").empty())
      s += "<p>error: " + html_escape(str(stage, "error")) + "</p>\n";
    s += list(stage, "gates").empty()
             ? "<p class=\"none\">no gates</p>\n"
             : "<div class=\"scroll\">" + html_table(gates_table(stage)) + "</div>\n";
    if (member(stage, "data").is_object()) s += html_table(data_table(json::array({stage})));
    if (const std::string charts = training_charts(stage); !charts.empty())
      s += "<div class=\"charts\">\n" + charts + "</div>\n";
    else if (!str(stage, "metrics").empty())  // named but unreadable, empty, or not kept
      s += member(stage, "training_kept") == false
               ? "<p class=\"none\">training log: not kept (a baseline)</p>\n"
               : "<p class=\"none\">training log: no data</p>\n";
  }
  if (!list(record, "warnings").empty()) {
    s += "<h2>Warnings</h2>\n<ul class=\"warnings\">\n";
    for (const json& w : list(record, "warnings"))
      s += "<li>" + html_escape(w.is_string() ? w.get<std::string>() : w.dump()) + "</li>\n";
    s += "</ul>\n";
  }
  return s + "</main>\n</body>\n</html>\n";
}

std::string junit_xml(const json& suites) {
  int64_t tests = 0, failures = 0, errors = 0;
  double time = 0;
  std::string body;
  for (const json& suite : suites.is_array() ? suites : json::array()) {
    int64_t f = 0, e = 0;
    std::string cases;
    for (const json& c : list(suite, "cases")) {
      cases += "    <testcase name=\"" + xml_attr(c, "name") + "\" classname=\"" +
               xml_attr(c, "classname") + "\" time=\"" +
               format_double("%.3f", number(c, "time").value_or(0)) + "\"";
      std::string inner;
      if (member(c, "error").is_string()) {
        ++e;
        inner += "      <error message=\"" + xml_attr(c, "error") + "\" type=\"error\">" +
                 xml_attr(c, "error") + "</error>\n";
      } else if (member(c, "failure").is_string()) {
        ++f;
        inner += "      <failure message=\"" + xml_attr(c, "failure") + "\" type=\"failure\">" +
                 xml_attr(c, "failure") + "</failure>\n";
      }
      if (!str(c, "output").empty())
        inner += "      <system-out>" + xml_attr(c, "output") + "</system-out>\n";
      cases += inner.empty() ? "/>\n" : ">\n" + inner + "    </testcase>\n";
    }
    const int64_t n = static_cast<int64_t>(list(suite, "cases").size());
    const double t = number(suite, "time").value_or(0);
    body += "  <testsuite name=\"" + xml_attr(suite, "name") + "\" tests=\"" + std::to_string(n) +
            "\" failures=\"" + std::to_string(f) + "\" errors=\"" + std::to_string(e) +
            "\" skipped=\"0\" time=\"" + format_double("%.3f", t) + "\">\n" + cases +
            "  </testsuite>\n";
    tests += n, failures += f, errors += e, time += t;
  }
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites tests=\"" +
         std::to_string(tests) + "\" failures=\"" + std::to_string(failures) + "\" errors=\"" +
         std::to_string(errors) + "\" time=\"" + format_double("%.3f", time) + "\">\n" + body +
         "</testsuites>\n";
}

std::string render_junit(const json& record) {
  json suites = json::array();
  for (const json& stage : list(record, "stages")) {
    const std::string name = str(stage, "name"), status = str(stage, "status");
    json cases = json::array();
    bool gate_failed = false;
    for (const json& g : list(stage, "gates")) {
      const std::string gs = str(g, "status", "missing");
      const std::string text = gate_detail(g) + ". " + str(g, "message", "gate " + gs);
      gate_failed |= gs != "passed";
      cases.push_back({{"name", str(g, "expr", "?")},
                       {"classname", name},
                       {"failure", gs == "passed" ? json() : json(gs + ": " + text)},
                       {"error", nullptr},
                       {"output", text}});
    }
    const std::string error = str(stage, "error");
    if (status == "error" || (status == "failed" && !gate_failed))
      cases.push_back(
          {{"name", "stage " + name},
           {"classname", name},
           {"failure", status == "failed" ? json(error.empty() ? "stage failed" : error) : json()},
           {"error", status == "error" ? json(error.empty() ? "stage error" : error) : json()}});
    json suite = {{"name", name}, {"cases", cases}};
    if (const auto seconds = number(stage, "seconds")) suite["time"] = *seconds;
    suites.push_back(std::move(suite));
  }
  return junit_xml(suites);
}

std::string render_json(const json& record) { return dump_json(record, 2) + "\n"; }

std::string render_run(const json& record, const std::string& format) {
  if (format == "md") return render_markdown(record);
  if (format == "html") return render_html(record);
  if (format == "junit") return render_junit(record);
  if (format == "json") return render_json(record);
  throw Error("unknown report format '" + format + "' (use md, html, junit or json)");
}

}  // namespace r1
