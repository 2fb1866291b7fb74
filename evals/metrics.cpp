// Metrics of an evaluation run and their JSON (see metrics.h); their Markdown is
// metrics_markdown.cpp, paired comparisons paired_comparison.cpp, the statistics statistics.cpp.
#include "evals/metrics.h"

#include <algorithm>  // std::sort, std::max
#include <cctype>     // std::isdigit
#include <cmath>      // std::sqrt, std::floor, std::fabs
#include <cstdio>     // std::snprintf
#include <limits>     // std::numeric_limits
#include <random>     // std::mt19937_64
#include <set>        // std::set
#include <tuple>      // std::tie

#include "evals/statistics.h"  // r1::sample_mean, r1::standard_error, r1::bootstrap_ci95
#include "toolkit/error.h"     // r1::Error, r1::check

namespace r1 {
namespace {

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

}  // namespace

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
    m.tokens_mean = sample_mean(tokens);
    m.tokens_median = quantile_sorted(tokens, 0.5);
  }
  if (m.problems == 0) return m;

  const double problems_d = static_cast<double>(m.problems);
  m.pass1 = sample_mean(rates);
  m.maj = maj_correct / problems_d;
  m.pass1_stderr = standard_error(rates);
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
      b.rows.push_back({value, static_cast<int64_t>(rs.size()), sample_mean(rs)});
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

}  // namespace r1
