// Renderers of a run record (reports/record.h) for `r1report render`: Markdown, one self-contained
// HTML file with SVG plots, JUnit XML (a test per gate) and JSON; plus the escaping and JUnit
// helpers that `r1report compare` shares. Every renderer takes any JSON: fields missing or of the
// wrong type show as "not evaluated" / "—", never as an exception. Leaves out loading runs and
// evaluating gates (records carry evaluated gates).
#pragma once

#include <nlohmann/json.hpp>  // nlohmann::json

#include <string>  // std::string

#include "reports/svg.h"  // r1::xml_escape

namespace r1 {

// Title, status, promoted checkpoint, the failed stage with its failing gate (judged vs bound,
// slack, confidence), stages, a stages x benchmarks table (pass@1 ± stderr, 95% CI, maj@n,
// truncated), each stage's gates and rejection-sampling data, warnings.
std::string render_markdown(const nlohmann::json& record);
// The same content as one HTML file that needs nothing else (inline CSS and SVG, no script), plus
// plots: pass@1 per stage with 95% CI per benchmark, pass@k curves per benchmark, training curves
// per stage, per-tag breakdown bars per benchmark. Every string of the run is escaped.
std::string render_html(const nlohmann::json& record);
// One <testsuite> per stage, one <testcase> per gate (a <failure> unless passed); a stage with
// status "error", or "failed" without a failing gate, adds a testcase "stage NAME" with an <error>
// or <failure>.
std::string render_junit(const nlohmann::json& record);
// The record itself, pretty-printed (indent 2).
std::string render_json(const nlohmann::json& record);
// Dispatches on `format`: "md", "html", "junit" or "json"; throws r1::Error listing them otherwise.
std::string render_run(const nlohmann::json& record, const std::string& format);

// HTML text and attribute values (the same escaping as xml_escape).
std::string html_escape(const std::string& text);
// A JUnit XML document from suites: [{"name", "time"?, "cases": [{"name", "classname", "time"?,
// "failure": null|"message", "error": null|"message", "output"?: "text"}]}]; the counts (tests,
// failures, errors) of each suite and of the whole are computed from the cases.
std::string junit_xml(const nlohmann::json& suites);

}  // namespace r1
