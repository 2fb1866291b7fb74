// The Markdown of evaluation metrics: the run summary and the paired comparison paragraph (see
// metrics.h).
#include <cmath>   // std::fabs
#include <cstdio>  // std::snprintf

#include "evals/metrics.h"

namespace r1 {
namespace {

// A difference of rates in percentage points, signed ("+2.7", "-0.4", "0.0").
std::string points(double x) {
  char buf[32];
  const double p = 100 * x;
  if (std::fabs(p) < 0.05) return "0.0";
  std::snprintf(buf, sizeof buf, "%+.1f", p);
  return buf;
}

std::string md_cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    if (c == '\n') {
      out += ' ';
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

std::string format_percent(double rate) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100 * rate);
  return buf;
}

std::string render_summary_md(const std::string& title, const std::vector<BenchmarkMetrics>& runs,
                              const std::string& config_lines) {
  std::string out = "# " + title + "\n\n";
  if (!config_lines.empty()) {
    out += "```\n" + config_lines;
    if (config_lines.back() != '\n') out += '\n';
    out += "```\n\n";
  }
  std::set<int64_t> ks;  // pass@k columns past k = 1, over all runs
  for (const BenchmarkMetrics& m : runs) {
    for (const auto& [k, v] : m.pass_at_k) {
      if (k > 1) ks.insert(k);
    }
  }
  out += "| benchmark | problems | n | pass@1 ± stderr | 95% CI | maj@n |";
  for (int64_t k : ks) out += " pass@" + std::to_string(k) + " |";
  out += " truncated | no answer | mean tokens |\n|---|---:|---:|---:|---:|---:|";
  for (size_t i = 0; i < ks.size(); ++i) out += "---:|";
  out += "---:|---:|---:|\n";
  const std::string none = "—";
  for (const BenchmarkMetrics& m : runs) {
    std::string problems = std::to_string(m.problems);
    if (m.problems_missing > 0) {
      problems += " (" + std::to_string(m.problems_missing) + " missing)";
    }
    out += "| " + md_cell(m.benchmark) + " | " + problems + " | ";
    if (m.problems == 0) {
      out += none + " | " + none + " | " + none + " | " + none + " |";
      for (size_t i = 0; i < ks.size(); ++i) out += " " + none + " |";
      out += " " + none + " | " + none + " | " + none + " |\n";
      continue;
    }
    out += std::to_string(m.n_min);
    if (m.n_max != m.n_min) out += "-" + std::to_string(m.n_max);
    out += " | " + format_percent(m.pass1) + " ± " + format_percent(m.pass1_stderr) + " | ";
    out += m.ci95
               ? "[" + format_percent(m.ci95->first) + ", " + format_percent(m.ci95->second) + "]"
               : none;
    out += " | " + format_percent(m.maj) + " |";
    for (int64_t k : ks) {
      auto it = m.pass_at_k.find(k);
      out += " " + (it == m.pass_at_k.end() ? none : format_percent(it->second)) + " |";
    }
    out +=
        " " + format_percent(m.truncated_rate) + " | " + format_percent(m.no_answer_rate) + " | ";
    if (m.tokens_mean) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.0f", *m.tokens_mean);
      out += buf;
    } else {
      out += none;
    }
    out += " |\n";
  }
  for (const BenchmarkMetrics& m : runs) {
    for (const Breakdown& b : m.breakdowns) {
      out += "\n## " + md_cell(m.benchmark) + " by " + md_cell(b.tag) + "\n\n| " + md_cell(b.tag) +
             " | problems | pass@1 |\n|---|---:|---:|\n";
      for (const BreakdownRow& r : b.rows) {
        out += "| " + md_cell(r.value) + " | " + std::to_string(r.problems) + " | " +
               format_percent(r.pass1) + " |\n";
      }
    }
  }
  return out;
}

std::string render_comparison_md(const PairedComparison& p) {
  std::string out = "**" + p.benchmark + "**: pass@1 " + format_percent(p.pass1_a) +
                    " (A) against " + format_percent(p.pass1_b) + " (B) on the " +
                    std::to_string(p.problems_common) + " problems both runs hold";
  if (p.only_a > 0 || p.only_b > 0) {
    out += " (left out: " + std::to_string(p.only_a) + " only in A, " + std::to_string(p.only_b) +
           " only in B)";
  }
  char se[32];
  std::snprintf(se, sizeof se, "%.1f", 100 * p.stderr_diff);
  out += "; B - A = " + points(p.diff) + " points (stderr " + se +
         "), 95% paired bootstrap interval [" + points(p.ci95_lo) + ", " + points(p.ci95_hi) +
         "] points, which ";
  if (p.ci95_lo > 0) {
    out += "excludes 0: B is better than A.";
  } else if (p.ci95_hi < 0) {
    out += "excludes 0: B is worse than A.";
  } else {
    out += "contains 0: no difference is shown at the 95% level.";
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3g", p.p_value);
  out += " B is higher on " + std::to_string(p.better) + " problems, lower on " +
         std::to_string(p.worse) + ", equal on " + std::to_string(p.same) +
         "; sign-flip permutation test p = " + buf + " (" +
         (p.p_value_method == "exact" ? std::string("exact") : std::string("Monte Carlo")) + ").\n";
  return out;
}

}  // namespace r1
