// Metrics of an evaluation run, their JSON and Markdown, paired comparisons (see metrics.h).
#include "evals/metrics.h"

#include <algorithm>  // std::sort, std::max
#include <cctype>     // std::isdigit
#include <cmath>      // std::sqrt, std::floor, std::fabs
#include <cstdio>     // std::snprintf
#include <limits>     // std::numeric_limits
#include <random>     // std::mt19937_64
#include <set>        // std::set
#include <tuple>      // std::tie

#include "toolkit/error.h"  // r1::Error, r1::check

namespace r1 {
namespace {

// A uniform draw in [0, n) by rejection, so the sequence for a seed is the same under any standard
// library (std::uniform_int_distribution's is unspecified).
uint64_t draw_below(std::mt19937_64& rng, uint64_t n) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  const uint64_t limit = kMax - kMax % n;  // a multiple of n
  for (;;) {
    const uint64_t x = rng();
    if (x < limit) return x % n;
  }
}

double mean(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return v.empty() ? 0 : sum / static_cast<double>(v.size());
}

// Sample standard deviation over sqrt(size): the standard error of the mean; 0 below 2 values.
double stderr_of_mean(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double m = mean(v);
  double ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  const double n = static_cast<double>(v.size());
  return std::sqrt(ss / (n - 1)) / std::sqrt(n);
}

}  // namespace

double quantile_sorted(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  if (lo + 1 >= sorted.size()) return sorted.back();
  return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[lo + 1] - sorted[lo]);
}

std::vector<double> bootstrap_means(const std::vector<double>& values, int reps, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const uint64_t n = values.size();
  std::vector<double> means(static_cast<size_t>(reps));
  for (double& m : means) {
    double sum = 0;
    for (uint64_t i = 0; i < n; ++i) sum += values[draw_below(rng, n)];
    m = sum / static_cast<double>(n);
  }
  std::sort(means.begin(), means.end());
  return means;
}

namespace {

// Percentile 95% interval of the mean of `values` over `reps` resamples with replacement.
std::pair<double, double> bootstrap_ci95(const std::vector<double>& values, int reps,
                                         uint64_t seed) {
  const std::vector<double> means = bootstrap_means(values, reps, seed);
  return {quantile_sorted(means, 0.025), quantile_sorted(means, 0.975)};
}

bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

// Numeric-aware order: runs of digits compare as numbers ("9" < "10"), the rest byte by byte;
// strings equal that way ("01", "1") fall back to plain order.
bool natural_less(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (is_digit(a[i]) && is_digit(b[j])) {
      size_t ie = i, je = j;
      while (ie < a.size() && is_digit(a[ie])) ++ie;
      while (je < b.size() && is_digit(b[je])) ++je;
      size_t is = i, js = j;  // past leading zeros
      while (is + 1 < ie && a[is] == '0') ++is;
      while (js + 1 < je && b[js] == '0') ++js;
      if (ie - is != je - js) return ie - is < je - js;
      const int cmp = a.compare(is, ie - is, b, js, je - js);
      if (cmp != 0) return cmp < 0;
      i = ie;
      j = je;
    } else {
      if (a[i] != b[j]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
      ++i;
      ++j;
    }
  }
  if (i < a.size() || j < b.size()) return j < b.size();
  return a < b;
}

bool has_answer(const SampleRecord& s) { return s.extracted && !s.extracted->empty(); }

// maj@n for one problem's samples (in sample order): fills the row's majority fields.
void majority_vote(const std::vector<const SampleRecord*>& samples, const MetricsOptions& options,
                   ProblemMetrics& row) {
  struct Cluster {
    std::string rep;
    bool correct = false;
    int64_t votes = 0;
  };
  std::vector<Cluster> clusters;
  // Answer -> its cluster (-1: left out at the cap). Exact: clusters are only appended and their
  // representatives never change, so a string's first matching cluster never changes either.
  std::map<std::string, int> memo;
  for (const SampleRecord* s : samples) {
    if (!has_answer(*s)) continue;
    const std::string& answer = *s->extracted;
    int k = -1;
    if (auto it = memo.find(answer); it != memo.end()) {
      k = it->second;
    } else {
      for (size_t c = 0; c < clusters.size() && k < 0; ++c) {
        if (clusters[c].rep == answer ||
            compare_answers(clusters[c].rep, answer, options.compare).equal) {
          k = static_cast<int>(c);
        }
      }
      if (k < 0 && clusters.size() < static_cast<size_t>(options.max_clusters)) {
        clusters.push_back({answer, s->correct, 0});
        k = static_cast<int>(clusters.size()) - 1;
      }
      memo.emplace(answer, k);
    }
    if (k >= 0) ++clusters[static_cast<size_t>(k)].votes;
  }
  const Cluster* best = nullptr;  // clusters are in first-sample order: ties go to the earliest
  for (const Cluster& c : clusters) {
    if (!best || c.votes > best->votes) best = &c;
  }
  if (best) {
    row.maj_correct = best->correct;
    row.majority_answer = best->rep;
    row.majority_votes = best->votes;
  }
}

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

// --- JSON reading: each accessor names `where` and the field.

const nlohmann::json& field(const nlohmann::json& j, const std::string& key,
                            const std::string& where) {
  if (!j.is_object()) throw Error(where + ": expected a JSON object");
  auto it = j.find(key);
  if (it == j.end()) throw Error(where + ": field '" + key + "' is missing");
  return *it;
}

double get_double(const nlohmann::json& j, const std::string& key, const std::string& where) {
  const auto& v = field(j, key, where);
  if (!v.is_number()) throw Error(where + ": field '" + key + "' must be a number");
  return v.get<double>();
}

int64_t get_int(const nlohmann::json& j, const std::string& key, const std::string& where) {
  const auto& v = field(j, key, where);
  if (!v.is_number_integer()) throw Error(where + ": field '" + key + "' must be an integer");
  return v.get<int64_t>();
}

uint64_t get_uint(const nlohmann::json& j, const std::string& key, const std::string& where) {
  const auto& v = field(j, key, where);
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0)) {
    throw Error(where + ": field '" + key + "' must be a non-negative integer");
  }
  return v.get<uint64_t>();
}

bool get_bool(const nlohmann::json& j, const std::string& key, const std::string& where) {
  const auto& v = field(j, key, where);
  if (!v.is_boolean()) throw Error(where + ": field '" + key + "' must be true or false");
  return v.get<bool>();
}

std::string get_string(const nlohmann::json& j, const std::string& key, const std::string& where) {
  const auto& v = field(j, key, where);
  if (!v.is_string()) throw Error(where + ": field '" + key + "' must be a string");
  return v.get<std::string>();
}

const nlohmann::json& get_object(const nlohmann::json& j, const std::string& key,
                                 const std::string& where) {
  const auto& v = field(j, key, where);
  if (!v.is_object()) throw Error(where + ": field '" + key + "' must be an object");
  return v;
}

void check_counts(const std::string& what, const std::string& id, int64_t n, int64_t c) {
  check(n >= 1 && c >= 0 && c <= n, what + ": problem '" + id + "' has n = " + std::to_string(n) +
                                        ", c = " + std::to_string(c) +
                                        " (need n >= 1 and 0 <= c <= n)");
}

}  // namespace

std::string format_percent(double rate) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100 * rate);
  return buf;
}

double pass_at_k(int64_t n, int64_t c, int64_t k) {
  check(c >= 0 && c <= n && k >= 1 && k <= n,
        "pass_at_k: need 0 <= c <= n and 1 <= k <= n, got n = " + std::to_string(n) +
            ", c = " + std::to_string(c) + ", k = " + std::to_string(k));
  if (n - c < k) return 1.0;  // every k-subset holds a correct sample
  double fail = 1.0;          // C(n-c, k) / C(n, k)
  for (int64_t i = n - c + 1; i <= n; ++i) {
    fail *= 1.0 - static_cast<double>(k) / static_cast<double>(i);
  }
  return 1.0 - fail;
}

BenchmarkMetrics compute_metrics(const std::string& benchmark,
                                 const std::vector<ProblemInfo>& problems,
                                 const std::vector<SampleRecord>& samples,
                                 const MetricsOptions& options) {
  const std::string what = "metrics of " + benchmark;
  check(options.bootstrap >= 0,
        what + ": bootstrap must be >= 0, got " + std::to_string(options.bootstrap));
  check(options.max_clusters >= 1,
        what + ": max_clusters must be >= 1, got " + std::to_string(options.max_clusters));
  std::map<std::string, size_t> position;
  for (size_t i = 0; i < problems.size(); ++i) {
    check(position.emplace(problems[i].id, i).second,
          what + ": problem id '" + problems[i].id + "' is listed twice");
  }
  std::vector<std::vector<const SampleRecord*>> by_problem(problems.size());
  for (const SampleRecord& s : samples) {
    const std::string name =
        "sample " + std::to_string(s.sample_index) + " of problem '" + s.problem_id + "'";
    check(s.benchmark == benchmark, what + ": " + name + " belongs to benchmark '" + s.benchmark +
                                        "'; pass one benchmark's samples");
    auto it = position.find(s.problem_id);
    check(it != position.end(), what + ": " + name + ": no such problem among the " +
                                    std::to_string(problems.size()) +
                                    " given (a different dataset version?)");
    by_problem[it->second].push_back(&s);
  }

  BenchmarkMetrics m;
  m.benchmark = benchmark;
  m.samples = static_cast<int64_t>(samples.size());
  m.bootstrap = options.bootstrap;
  m.seed = options.seed;
  std::vector<double> rates;
  double sampling_var = 0;  // sum p_i (1 - p_i) / n_i
  double maj_correct = 0;
  std::map<std::string, std::map<std::string, std::vector<double>>> tag_rates;
  for (size_t i = 0; i < problems.size(); ++i) {
    auto& group = by_problem[i];
    if (group.empty()) {
      ++m.problems_missing;
      continue;
    }
    std::sort(group.begin(), group.end(), [](const SampleRecord* x, const SampleRecord* y) {
      return x->sample_index < y->sample_index;
    });
    ProblemMetrics row;
    row.id = problems[i].id;
    row.gold = problems[i].gold;
    for (size_t s = 0; s < group.size(); ++s) {
      check(s == 0 || group[s]->sample_index != group[s - 1]->sample_index,
            what + ": sample " + std::to_string(group[s]->sample_index) + " of problem '" + row.id +
                "' is given twice");
      if (group[s]->correct) ++row.c;
    }
    row.n = static_cast<int64_t>(group.size());
    row.pass_rate = static_cast<double>(row.c) / static_cast<double>(row.n);
    majority_vote(group, options, row);

    const double p = row.pass_rate;
    rates.push_back(p);
    sampling_var += p * (1 - p) / static_cast<double>(row.n);
    if (row.maj_correct) maj_correct += 1;
    m.n_min = m.problems == 0 ? row.n : std::min(m.n_min, row.n);
    m.n_max = std::max(m.n_max, row.n);
    ++m.problems;
    std::set<std::pair<std::string, std::string>> seen;  // a repeated (name, value) counts once
    for (const auto& tag : problems[i].tags) {
      if (seen.insert(tag).second) tag_rates[tag.first][tag.second].push_back(p);
    }
    m.per_problem.push_back(std::move(row));
  }

  int64_t truncated = 0, no_answer = 0;
  std::vector<double> tokens;
  for (const SampleRecord& s : samples) {
    if (s.finish_reason == "length") ++truncated;
    if (!has_answer(s)) ++no_answer;
    if (s.completion_tokens >= 0) tokens.push_back(static_cast<double>(s.completion_tokens));
  }
  if (m.samples > 0) {
    m.truncated_rate = static_cast<double>(truncated) / static_cast<double>(m.samples);
    m.no_answer_rate = static_cast<double>(no_answer) / static_cast<double>(m.samples);
  }
  if (!tokens.empty()) {
    std::sort(tokens.begin(), tokens.end());
    m.tokens_mean = mean(tokens);
    m.tokens_median = quantile_sorted(tokens, 0.5);
  }
  if (m.problems == 0) return m;

  const double problems_d = static_cast<double>(m.problems);
  m.pass1 = mean(rates);
  m.maj = maj_correct / problems_d;
  m.pass1_stderr = stderr_of_mean(rates);
  m.pass1_sampling_stderr = std::sqrt(sampling_var) / problems_d;
  if (options.bootstrap > 0) m.ci95 = bootstrap_ci95(rates, options.bootstrap, options.seed);

  std::vector<int64_t> ks;
  for (int64_t k = 1; k <= m.n_min; k *= 2) ks.push_back(k);
  if (ks.back() != m.n_min) ks.push_back(m.n_min);
  for (int64_t k : ks) {
    double sum = 0;
    for (const ProblemMetrics& row : m.per_problem) sum += pass_at_k(row.n, row.c, k);
    m.pass_at_k[k] = sum / problems_d;
  }

  for (const auto& [tag, values] : tag_rates) {
    Breakdown b;
    b.tag = tag;
    for (const auto& [value, rs] : values) {
      b.rows.push_back({value, static_cast<int64_t>(rs.size()), mean(rs)});
    }
    std::sort(b.rows.begin(), b.rows.end(), [](const BreakdownRow& x, const BreakdownRow& y) {
      return natural_less(x.value, y.value);
    });
    m.breakdowns.push_back(std::move(b));
  }
  return m;
}

nlohmann::json metrics_to_json(const BenchmarkMetrics& m) {
  nlohmann::json j;
  j["benchmark"] = m.benchmark;
  j["problems"] = m.problems;
  j["problems_missing"] = m.problems_missing;
  j["samples"] = m.samples;
  j["n"] = {{"min", m.n_min}, {"max", m.n_max}};
  j["pass@1"] = m.pass1;
  nlohmann::json pk = nlohmann::json::object();
  for (const auto& [k, v] : m.pass_at_k) pk[std::to_string(k)] = v;
  j["pass@k"] = pk;
  j["maj@n"] = m.maj;
  j["stderr"] = m.pass1_stderr;
  j["sampling_stderr"] = m.pass1_sampling_stderr;
  if (m.ci95) j["ci95"] = {m.ci95->first, m.ci95->second};
  j["bootstrap"] = {{"reps", m.bootstrap}, {"seed", m.seed}};
  j["truncated_rate"] = m.truncated_rate;
  j["no_answer_rate"] = m.no_answer_rate;
  if (m.tokens_mean && m.tokens_median) {
    j["completion_tokens"] = {{"mean", *m.tokens_mean}, {"median", *m.tokens_median}};
  }
  nlohmann::json bd = nlohmann::json::object();
  for (const Breakdown& b : m.breakdowns) {
    nlohmann::json values = nlohmann::json::object();
    for (const BreakdownRow& r : b.rows) {
      values[r.value] = {{"problems", r.problems}, {"pass@1", r.pass1}};
    }
    bd[b.tag] = values;
  }
  j["breakdown"] = bd;
  nlohmann::json rows = nlohmann::json::array();
  for (const ProblemMetrics& p : m.per_problem) {
    rows.push_back({{"id", p.id},
                    {"gold", p.gold},
                    {"n", p.n},
                    {"c", p.c},
                    {"pass_rate", p.pass_rate},
                    {"maj_correct", p.maj_correct},
                    {"majority_answer", p.majority_answer ? nlohmann::json(*p.majority_answer)
                                                          : nlohmann::json(nullptr)},
                    {"majority_votes", p.majority_votes}});
  }
  j["per_problem"] = rows;
  return j;
}

BenchmarkMetrics metrics_from_json(const nlohmann::json& j, const std::string& where) {
  BenchmarkMetrics m;
  m.benchmark = get_string(j, "benchmark", where);
  m.problems = get_int(j, "problems", where);
  m.problems_missing = get_int(j, "problems_missing", where);
  m.samples = get_int(j, "samples", where);
  const auto& n = get_object(j, "n", where);
  m.n_min = get_int(n, "min", where + ": n");
  m.n_max = get_int(n, "max", where + ": n");
  m.pass1 = get_double(j, "pass@1", where);
  for (const auto& [key, value] : get_object(j, "pass@k", where).items()) {
    const bool numeric =
        !key.empty() && key.size() < 10 && std::all_of(key.begin(), key.end(), is_digit);
    check(numeric && value.is_number(),
          where + ": field 'pass@k' must map k (\"1\", \"2\", ...) to numbers; found key '" + key +
              "'");
    m.pass_at_k[std::stoll(key)] = value.get<double>();
  }
  m.maj = get_double(j, "maj@n", where);
  m.pass1_stderr = get_double(j, "stderr", where);
  m.pass1_sampling_stderr = get_double(j, "sampling_stderr", where);
  if (j.contains("ci95")) {
    const auto& ci = j["ci95"];
    check(ci.is_array() && ci.size() == 2 && ci[0].is_number() && ci[1].is_number(),
          where + ": field 'ci95' must be [lo, hi]");
    m.ci95 = std::make_pair(ci[0].get<double>(), ci[1].get<double>());
  }
  const auto& bs = get_object(j, "bootstrap", where);
  m.bootstrap = static_cast<int>(get_int(bs, "reps", where + ": bootstrap"));
  m.seed = get_uint(bs, "seed", where + ": bootstrap");
  m.truncated_rate = get_double(j, "truncated_rate", where);
  m.no_answer_rate = get_double(j, "no_answer_rate", where);
  if (j.contains("completion_tokens")) {
    const auto& t = get_object(j, "completion_tokens", where);
    m.tokens_mean = get_double(t, "mean", where + ": completion_tokens");
    m.tokens_median = get_double(t, "median", where + ": completion_tokens");
  }
  for (const auto& [tag, values] : get_object(j, "breakdown", where).items()) {
    const std::string at = where + ": breakdown." + tag;
    check(values.is_object(), at + " must be an object");
    Breakdown b;
    b.tag = tag;
    for (const auto& [value, row] : values.items()) {
      const std::string row_at = at + "." + value;
      b.rows.push_back(
          {value, get_int(row, "problems", row_at), get_double(row, "pass@1", row_at)});
    }
    std::sort(b.rows.begin(), b.rows.end(), [](const BreakdownRow& x, const BreakdownRow& y) {
      return natural_less(x.value, y.value);
    });
    m.breakdowns.push_back(std::move(b));
  }
  const auto& rows = field(j, "per_problem", where);
  check(rows.is_array(), where + ": field 'per_problem' must be an array");
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string at = where + ": per_problem[" + std::to_string(i) + "]";
    const auto& r = rows[i];
    ProblemMetrics p;
    p.id = get_string(r, "id", at);
    p.gold = get_string(r, "gold", at);
    p.n = get_int(r, "n", at);
    p.c = get_int(r, "c", at);
    p.pass_rate = get_double(r, "pass_rate", at);
    p.maj_correct = get_bool(r, "maj_correct", at);
    const auto& answer = field(r, "majority_answer", at);
    check(answer.is_null() || answer.is_string(),
          at + ": field 'majority_answer' must be a string or null");
    if (answer.is_string()) p.majority_answer = answer.get<std::string>();
    p.majority_votes = get_int(r, "majority_votes", at);
    m.per_problem.push_back(std::move(p));
  }
  return m;
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

ProblemCounts problem_counts(const BenchmarkMetrics& m) {
  ProblemCounts counts;
  for (const ProblemMetrics& p : m.per_problem) counts[p.id] = {p.n, p.c};
  return counts;
}

PairedComparison compare_paired(const std::string& benchmark, const ProblemCounts& a,
                                const ProblemCounts& b, uint64_t seed, int bootstrap) {
  const std::string what = "paired comparison of " + benchmark;
  check(bootstrap >= 1, what + ": bootstrap must be >= 1, got " + std::to_string(bootstrap));
  for (const auto& [id, nc] : a) check_counts(what + ", run A", id, nc.first, nc.second);
  for (const auto& [id, nc] : b) check_counts(what + ", run B", id, nc.first, nc.second);
  PairedComparison p;
  p.benchmark = benchmark;
  p.bootstrap = bootstrap;
  p.seed = seed;
  std::vector<double> ra, rb, d;
  for (const auto& [id, nca] : a) {
    auto it = b.find(id);
    if (it == b.end()) {
      ++p.only_a;
      continue;
    }
    const auto [na, ca] = nca;
    const auto [nb, cb] = it->second;
    ra.push_back(static_cast<double>(ca) / static_cast<double>(na));
    rb.push_back(static_cast<double>(cb) / static_cast<double>(nb));
    d.push_back(rb.back() - ra.back());
    const int64_t lhs = cb * na, rhs = ca * nb;  // rates compared exactly
    if (lhs > rhs) {
      ++p.better;
    } else if (lhs < rhs) {
      ++p.worse;
    } else {
      ++p.same;
    }
  }
  p.problems_common = static_cast<int64_t>(d.size());
  p.only_b = static_cast<int64_t>(b.size()) - p.problems_common;
  check(p.problems_common > 0, what + ": the two runs share no problem id (different datasets?)");
  p.pass1_a = mean(ra);
  p.pass1_b = mean(rb);
  p.diff = p.pass1_b - p.pass1_a;
  p.stderr_diff = stderr_of_mean(d);
  std::tie(p.ci95_lo, p.ci95_hi) = bootstrap_ci95(d, bootstrap, seed);

  // Sign-flip test on the sum of the nonzero differences (zeros do not move it).
  std::vector<double> z;
  double observed = 0, scale = 0;
  for (double x : d) {
    if (x == 0) continue;
    z.push_back(x);
    observed += x;
    scale += std::fabs(x);
  }
  observed = std::fabs(observed);
  const double tol = 1e-9 * scale;  // sums equal up to rounding count as "as extreme"
  if (z.size() <= 20) {
    p.p_value_method = "exact";
    const uint64_t patterns = uint64_t{1} << z.size();
    uint64_t hits = 0;
    for (uint64_t mask = 0; mask < patterns; ++mask) {
      double s = 0;
      for (size_t i = 0; i < z.size(); ++i) s += ((mask >> i) & 1) ? -z[i] : z[i];
      if (std::fabs(s) >= observed - tol) ++hits;
    }
    p.p_value = static_cast<double>(hits) / static_cast<double>(patterns);
  } else {
    p.p_value_method = "monte_carlo";
    std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ULL);  // apart from the bootstrap's stream
    int64_t hits = 0;
    for (int r = 0; r < bootstrap; ++r) {
      double s = 0;
      uint64_t bits = 0;
      for (size_t i = 0; i < z.size(); ++i) {
        if (i % 64 == 0) bits = rng();
        s += ((bits >> (i % 64)) & 1) ? -z[i] : z[i];
      }
      if (std::fabs(s) >= observed - tol) ++hits;
    }
    p.p_value = static_cast<double>(1 + hits) / static_cast<double>(1 + bootstrap);
  }
  return p;
}

nlohmann::json comparison_to_json(const PairedComparison& p) {
  return {{"benchmark", p.benchmark},
          {"problems_common", p.problems_common},
          {"only_a", p.only_a},
          {"only_b", p.only_b},
          {"pass@1_a", p.pass1_a},
          {"pass@1_b", p.pass1_b},
          {"diff", p.diff},
          {"stderr_diff", p.stderr_diff},
          {"ci95", {p.ci95_lo, p.ci95_hi}},
          {"better", p.better},
          {"worse", p.worse},
          {"same", p.same},
          {"p_value", p.p_value},
          {"p_value_method", p.p_value_method},
          {"bootstrap", {{"reps", p.bootstrap}, {"seed", p.seed}}}};
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
