// Generation speed (see speed.h).
#include "evals/speed.h"

#include <algorithm>  // std::sort
#include <cmath>      // std::floor
#include <cstdio>     // std::snprintf

namespace r1 {
namespace {

// mean, p50, p90 (linear interpolation between closest ranks, as numpy's default) and the count.
nlohmann::json distribution(std::vector<double> v) {
  if (v.empty()) return nullptr;
  std::sort(v.begin(), v.end());
  auto quantile = [&](double q) {
    const double pos = q * double(v.size() - 1);
    const size_t lo = static_cast<size_t>(std::floor(pos));
    const size_t hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (v[hi] - v[lo]) * (pos - double(lo));
  };
  double sum = 0;
  for (double x : v) sum += x;
  return {{"mean", sum / double(v.size())},
          {"p50", quantile(0.5)},
          {"p90", quantile(0.9)},
          {"samples", v.size()}};
}

std::string format(const char* fmt, double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, x);
  return buf;
}

}  // namespace

nlohmann::json generation_record(double wall_s, int64_t samples, int64_t prompt_tokens,
                                 int64_t completion_tokens, const nlohmann::json& backend_stats) {
  return {{"wall_s", wall_s},
          {"samples", samples},
          {"prompt_tokens", prompt_tokens},
          {"completion_tokens", completion_tokens},
          {"backend", backend_stats}};
}

nlohmann::json speed_json(const nlohmann::json& run, const std::vector<SampleRecord>& samples) {
  double wall = 0, fill_time = 0;
  int64_t n = 0, prompt = 0, completion = 0;
  if (run.contains("generations") && run["generations"].is_array())
    for (const auto& g : run["generations"]) {
      const double w = g.value("wall_s", 0.0);
      wall += w;
      n += g.value("samples", int64_t{0});
      prompt += g.value("prompt_tokens", int64_t{0});
      completion += g.value("completion_tokens", int64_t{0});
      if (g.contains("backend") && g["backend"].is_object())
        fill_time += w * g["backend"].value("batch_fill", 0.0);
    }
  std::vector<double> ttft, tpot;
  for (const auto& s : samples) {
    if (s.ttft_s >= 0) ttft.push_back(s.ttft_s);
    if (s.tpot_s >= 0) tpot.push_back(s.tpot_s);
  }
  nlohmann::json out = {{"wall_s", wall},
                        {"samples", n},
                        {"prompt_tokens", prompt},
                        {"completion_tokens", completion}};
  out["prompt_tok_s"] = wall > 0 ? prompt / wall : 0.0;
  out["generated_tok_s"] = wall > 0 ? completion / wall : 0.0;
  out["ttft_s"] = distribution(std::move(ttft));
  out["tpot_s"] = distribution(std::move(tpot));
  out["batch_fill"] = wall > 0 ? fill_time / wall : 0.0;
  return out;
}

std::string speed_line(const nlohmann::json& speed) {
  if (speed.value("wall_s", 0.0) <= 0) return "";
  std::string line = "speed: " + format("%.1f", speed["prompt_tok_s"].get<double>()) +
                     " prompt tok/s, " + format("%.1f", speed["generated_tok_s"].get<double>()) +
                     " generated tok/s over " + format("%.3g", speed["wall_s"].get<double>()) +
                     " s";
  auto dist = [&](const char* key, const char* name, double scale, const char* unit) {
    const auto& d = speed[key];
    if (d.is_null()) return;
    line += std::string(", ") + name + " mean " + format("%.3g", d["mean"].get<double>() * scale) +
            unit + " (p50 " + format("%.3g", d["p50"].get<double>() * scale) + ", p90 " +
            format("%.3g", d["p90"].get<double>() * scale) + ")";
  };
  dist("ttft_s", "time to first token", 1, " s");
  dist("tpot_s", "time per output token", 1000, " ms");
  return line + ", batch fill " + format("%.0f", 100 * speed["batch_fill"].get<double>()) + "%";
}

}  // namespace r1
