// SVG line and bar charts (see svg.h). Text widths are estimated (0.6 em a character), so layout
// needs no font metrics: labels that would not fit are shortened with an ellipsis or slanted.
#include "reports/svg.h"

#include <algorithm>  // std::min, std::max, std::clamp, std::max_element
#include <cmath>      // std::isfinite, std::floor, std::ceil, std::log2, std::pow, std::fabs
#include <cstdio>     // std::snprintf
#include <iterator>   // std::size

#include "toolkit/tokenizer.h"  // r1::utf8_lossy

namespace r1 {
namespace {

constexpr const char* kPalette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
constexpr const char* kFont =
    "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";
constexpr double kTickFont = 11, kLabelFont = 12, kTitleFont = 14;
constexpr size_t kMaxLabelChars = 24;  // legend entries and group labels are shortened past this
constexpr size_t kMaxPoints = 400, kMaxMarkedPoints = 40;

const char* color(size_t i) { return kPalette[i % std::size(kPalette)]; }

std::string num(double v) { return format_double("%.1f", v); }  // a coordinate

size_t utf8_length(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

double text_width(const std::string& s, double font_size) {
  return static_cast<double>(utf8_length(s)) * font_size * 0.6;
}

// At most `max_chars` characters, the last one an ellipsis when cut (on a character boundary).
std::string shorten(const std::string& s, size_t max_chars) {
  if (utf8_length(s) <= max_chars) return s;
  size_t chars = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && ++chars == max_chars) break;
  }
  return s.substr(0, i) + "…";
}

std::string text(double x, double y, const std::string& content, double size,
                 const std::string& extra = "") {
  return "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\" font-size=\"" + num(size) + "\"" + extra +
         ">" + xml_escape(content) + "</text>\n";
}

std::string line(double x1, double y1, double x2, double y2, const std::string& stroke,
                 double width = 1) {
  return "<line x1=\"" + num(x1) + "\" y1=\"" + num(y1) + "\" x2=\"" + num(x2) + "\" y2=\"" +
         num(y2) + "\" stroke=\"" + stroke + "\" stroke-width=\"" + num(width) + "\"/>\n";
}

// A value as hover text shows it.
std::string value_text(double v, bool percent) {
  return percent ? format_double("%.1f%%", v * 100) : format_double("%.4g", v);
}

// One axis: its domain (a log2 axis in log2 units) and tick positions in the same units.
struct Axis {
  double lo = 0, hi = 1;
  std::vector<double> ticks;
  int decimals = 0;  // of tick labels
  bool log2 = false, percent = false;

  double frac(double v) const {  // 0 at lo, 1 at hi; a data value, clamped to the domain
    const double u = log2 ? std::log2(v) : v;
    return std::clamp((u - lo) / (hi - lo), 0.0, 1.0);
  }
  std::string label(double t) const {
    if (log2) return format_double("%.4g", std::pow(2.0, t));
    if (std::fabs(t) < 1e-12) t = 0;  // no "-0"
    if (percent) return format_double(("%." + std::to_string(decimals) + "f%%").c_str(), t * 100);
    if (decimals == 0 && std::fabs(t) >= 10000 && std::fmod(t, 1000) == 0)
      return format_double("%.0fk", t / 1000);
    return format_double(("%." + std::to_string(decimals) + "f").c_str(), t);
  }
  double widest_label() const {
    double w = 0;
    for (double t : ticks) w = std::max(w, text_width(label(t), kTickFont));
    return w;
  }
};

// Ticks at a round step (1, 2 or 5 times a power of ten), about five intervals; the domain is
// widened to the outer ticks unless `fixed`.
Axis linear_axis(double lo, double hi, bool fixed, bool percent) {
  if (!(hi > lo)) {  // one value: a band around it
    const double pad = lo == 0 ? 1 : std::fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const double raw = (hi - lo) / 5, p = std::pow(10.0, std::floor(std::log10(raw))), f = raw / p;
  const double step = (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
  Axis a;
  a.percent = percent;
  a.lo = fixed ? lo : std::floor(lo / step + 1e-9) * step;
  a.hi = fixed ? hi : std::ceil(hi / step - 1e-9) * step;
  const double first = std::ceil(a.lo / step - 1e-9) * step;
  for (int i = 0; first + i * step <= a.hi + step * 1e-9; ++i) a.ticks.push_back(first + i * step);
  const double unit = percent ? step * 100 : step;
  while (a.decimals < 6 && std::fabs(unit * std::pow(10.0, a.decimals) -
                                     std::round(unit * std::pow(10.0, a.decimals))) > 1e-6)
    ++a.decimals;
  return a;
}

// Powers of two from below `lo` to above `hi` (both > 0), at most about eight labelled.
Axis log2_axis(double lo, double hi) {
  Axis a;
  a.log2 = true;
  a.lo = std::floor(std::log2(lo) + 1e-9);
  a.hi = std::max(std::ceil(std::log2(hi) - 1e-9), a.lo + 1);
  const int stride = static_cast<int>(std::ceil((a.hi - a.lo) / 8));
  for (double t = a.lo; t <= a.hi + 1e-9; t += stride) a.ticks.push_back(t);
  return a;
}

// The plot box and its surroundings, in pixels, and where each legend entry goes.
struct Frame {
  double width = 0, height = 0;
  double left = 0, top = 0, plot_w = 0, plot_h = 0;
  double inset = 0;  // x data keeps this far from the plot's sides (line charts: whole markers)
  std::vector<std::pair<double, double>> legend_at;  // swatch positions, one per entry shown
  size_t legend_more = 0;                            // entries that did not fit ("+N more")
  double x(double frac) const { return left + inset + frac * (plot_w - 2 * inset); }
  double y(double frac) const { return top + (1 - frac) * plot_h; }
};

std::string open_svg(const ChartOptions& o, double width, double height) {
  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(width) +
                  "\" height=\"" + num(height) + "\" viewBox=\"0 0 " + num(width) + " " +
                  num(height) + "\" role=\"img\" font-family=\"" + kFont + "\" fill=\"#374151\">\n";
  if (!o.title.empty()) s += "<title>" + xml_escape(o.title) + "</title>\n";
  s += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  if (!o.title.empty())
    s += text(12, 20, shorten(o.title, static_cast<size_t>(width / (kTitleFont * 0.6)) - 2),
              kTitleFont, " font-weight=\"600\" fill=\"#111827\"");
  return s;
}

std::string no_data(const ChartOptions& o) {
  const double w = o.width, h = o.height, top = o.title.empty() ? 12 : 32;
  return open_svg(o, w, h) + "<rect x=\"12\" y=\"" + num(top) + "\" width=\"" + num(w - 24) +
         "\" height=\"" + num(h - top - 12) +
         "\" fill=\"#f9fafb\" stroke=\"#d1d5db\" stroke-dasharray=\"4 3\"/>\n" +
         text(w / 2, (top + h - 12) / 2 + 5, "no data", kLabelFont,
              " text-anchor=\"middle\" fill=\"#6b7280\"") +
         "</svg>\n";
}

// Margins for the axes and the legend: a column right of the plot, or rows under the title on
// charts narrower than 480 px. `bottom_extra` and `left_min` make room for slanted labels; the svg
// grows by `bottom_extra` so the plot keeps its height.
Frame layout(const ChartOptions& o, const Axis& y, const std::vector<std::string>& legend,
             double bottom_extra = 0, double left_min = 0) {
  Frame f;
  f.width = o.width;
  f.height = o.height + bottom_extra;
  f.top = o.title.empty() ? 14 : 38;
  f.left = std::max(left_min, y.widest_label() + 10 + (o.y_label.empty() ? 0 : 20) + 6);
  std::vector<double> entry_w;  // swatch, gap and text
  for (const auto& name : legend)
    entry_w.push_back(text_width(shorten(name, kMaxLabelChars), kLabelFont) + 26);
  double right = 16;
  if (!legend.empty() && o.width < 480) {
    double x = 12, y = f.top;
    for (double w : entry_w) {
      if (x > 12 && x + w > f.width - 12) x = 12, y += 20;
      f.legend_at.push_back({x, y});
      x += w + 14;
    }
    f.top = y + 24;
  } else if (!legend.empty()) {
    const double column_w = *std::max_element(entry_w.begin(), entry_w.end());
    right = column_w + 24;
    const size_t fit = static_cast<size_t>(std::max(1.0, (f.height - f.top - 40) / 20));
    for (size_t i = 0; i < legend.size() && i < fit; ++i)
      f.legend_at.push_back({f.width - right + 12, f.top + 8 + 20 * static_cast<double>(i)});
    if (legend.size() > fit) {  // the last row says how many are left out
      f.legend_at.pop_back();
      f.legend_more = legend.size() - f.legend_at.size();
    }
  }
  const double bottom = 22 + bottom_extra + (o.x_label.empty() ? 0 : 18) + 8;
  f.plot_w = std::max(40.0, f.width - f.left - right);
  f.plot_h = std::max(40.0, f.height - f.top - bottom);
  return f;
}

// Grid lines and labels of the y axis, the x axis line, axis titles.
std::string axes(const ChartOptions& o, const Frame& f, const Axis& y, double x_title_y) {
  std::string s;
  for (double t : y.ticks) {
    const double py = f.y((t - y.lo) / (y.hi - y.lo));
    s += line(f.left, py, f.left + f.plot_w, py, "#e5e7eb");
    s += text(f.left - 8, py + 4, y.label(t), kTickFont, " text-anchor=\"end\" fill=\"#6b7280\"");
  }
  const double zero = y.lo <= 0 && y.hi >= 0 && !y.log2 ? y.frac(0) : 0;  // the baseline
  s += line(f.left, f.y(zero), f.left + f.plot_w, f.y(zero), "#9ca3af");
  if (!o.x_label.empty())
    s += text(f.left + f.plot_w / 2, x_title_y, o.x_label, kLabelFont, " text-anchor=\"middle\"");
  if (!o.y_label.empty()) {
    const double cy = f.top + f.plot_h / 2;
    s += text(16, cy, o.y_label, kLabelFont,
              " text-anchor=\"middle\" transform=\"rotate(-90 16 " + num(cy) + ")\"");
  }
  return s;
}

// The legend at the frame's positions: a line with a dot (lines) or a square (bars), the name.
std::string legend(const Frame& f, const std::vector<std::string>& names, bool bars) {
  std::string s;
  for (size_t i = 0; i < f.legend_at.size(); ++i) {
    const auto [x, y] = f.legend_at[i];
    if (bars)
      s += "<rect x=\"" + num(x) + "\" y=\"" + num(y - 6) +
           "\" width=\"12\" height=\"12\" rx=\"2\"" + " fill=\"" + color(i) + "\"/>\n";
    else
      s += line(x, y, x + 18, y, color(i), 2.5) + "<circle cx=\"" + num(x + 9) + "\" cy=\"" +
           num(y) + "\" r=\"3\" fill=\"" + color(i) + "\"/>\n";
    s += "<g><title>" + xml_escape(names[i]) + "</title>" +
         text(x + (bars ? 18 : 24), y + 4, shorten(names[i], kMaxLabelChars), kLabelFont) +
         "</g>\n";
  }
  if (f.legend_more > 0) {
    const double y = f.legend_at.empty() ? f.top + 8 : f.legend_at.back().second + 20;
    s += text(f.width - 12, y + 4, "+" + std::to_string(f.legend_more) + " more", kLabelFont,
              " text-anchor=\"end\" fill=\"#6b7280\"");
  }
  return s;
}

bool finite(double v) { return std::isfinite(v); }

}  // namespace

std::string line_chart(const std::vector<LineSeries>& series, const ChartOptions& o) {
  // Finite points per series (x > 0 on a log axis), thinned to about kMaxPoints.
  std::vector<std::vector<std::pair<double, double>>> kept(series.size());
  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
  for (size_t i = 0; i < series.size(); ++i) {
    const auto& pts = series[i].points;
    const size_t stride = (pts.size() + kMaxPoints - 1) / kMaxPoints;
    for (size_t j = 0; j < pts.size(); ++j) {
      const auto [x, y] = pts[j];
      if (!finite(x) || !finite(y) || (o.x_log2 && x <= 0)) continue;
      if (stride > 1 && j % stride != 0 && j + 1 != pts.size()) continue;
      kept[i].push_back(pts[j]);
      x_lo = std::min(x_lo, x), x_hi = std::max(x_hi, x);
      y_lo = std::min(y_lo, y), y_hi = std::max(y_hi, y);
    }
  }
  if (!(x_lo <= x_hi)) return no_data(o);
  const Axis x_axis = o.x_log2 ? log2_axis(x_lo, x_hi) : linear_axis(x_lo, x_hi, false, false);
  const Axis y_axis = o.y_range
                          ? linear_axis(o.y_range->first, o.y_range->second, true, o.y_percent)
                          : linear_axis(y_lo, y_hi, false, o.y_percent);
  std::vector<std::string> names;
  for (const auto& s : series) names.push_back(s.name);
  Frame f = layout(o, y_axis, names);
  f.inset = 6;
  std::string s = open_svg(o, f.width, f.height);
  s += axes(o, f, y_axis, f.top + f.plot_h + 38);
  for (double t : x_axis.ticks) {
    const double px = f.x((t - x_axis.lo) / (x_axis.hi - x_axis.lo));
    s += line(px, f.top + f.plot_h, px, f.top + f.plot_h + 4, "#9ca3af");
    s += text(px, f.top + f.plot_h + 17, x_axis.label(t), kTickFont,
              " text-anchor=\"middle\" fill=\"#6b7280\"");
  }
  s += line(f.left, f.top, f.left, f.top + f.plot_h, "#9ca3af");
  for (size_t i = 0; i < kept.size(); ++i) {
    if (kept[i].empty()) continue;
    std::string d, marks;
    for (const auto& [x, y] : kept[i]) {
      const double px = f.x(x_axis.frac(x)), py = f.y(y_axis.frac(y));
      d += (d.empty() ? "M" : " L") + num(px) + "," + num(py);
      if (kept[i].size() <= kMaxMarkedPoints)
        marks += "<circle cx=\"" + num(px) + "\" cy=\"" + num(py) + "\" r=\"3.5\" fill=\"" +
                 color(i) + "\" stroke=\"#ffffff\" stroke-width=\"1.5\"><title>" +
                 xml_escape(series[i].name) + ": " + format_double("%.6g", x) + " → " +
                 value_text(y, o.y_percent) + "</title></circle>\n";
    }
    s += "<path d=\"" + d + "\" fill=\"none\" stroke=\"" + color(i) +
         "\" stroke-width=\"2\" stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\n" + marks;
  }
  return s + legend(f, names, false) + "</svg>\n";
}

std::string bar_chart(const std::vector<std::string>& groups, const std::vector<BarSeries>& series,
                      const ChartOptions& o) {
  double lo = 0, hi = 0;  // bars start at 0
  bool any = false;
  for (const auto& s : series) {
    for (size_t g = 0; g < s.bars.size() && g < groups.size(); ++g) {
      const Bar& b = s.bars[g];
      if (!finite(b.value)) continue;
      any = true;
      lo = std::min(lo, b.value), hi = std::max(hi, b.value);
      if (b.error && finite(b.error->first) && finite(b.error->second))
        lo = std::min(lo, b.error->first), hi = std::max(hi, b.error->second);
    }
  }
  if (!any) return no_data(o);
  const Axis y_axis = o.y_range
                          ? linear_axis(o.y_range->first, o.y_range->second, true, o.y_percent)
                          : linear_axis(lo, hi, false, o.y_percent);
  std::vector<std::string> names;
  for (const auto& s : series) names.push_back(s.name);
  // Group labels slant (35 degrees) when the widest does not fit its group's width.
  double widest = 0;
  for (const auto& g : groups)
    widest = std::max(widest, text_width(shorten(g, kMaxLabelChars), kTickFont));
  Frame f = layout(o, y_axis, names);
  double group_w = f.plot_w / static_cast<double>(groups.size());
  const bool slant = widest > group_w - 6;
  if (slant) {
    const double first_w = text_width(shorten(groups[0], kMaxLabelChars), kTickFont);
    f = layout(o, y_axis, names, widest * 0.574, first_w * 0.82 - group_w / 2 + 8);
    group_w = f.plot_w / static_cast<double>(groups.size());
  }
  std::string s = open_svg(o, f.width, f.height);
  s += axes(o, f, y_axis, f.height - 12);
  s += line(f.left, f.top, f.left, f.top + f.plot_h, "#9ca3af");
  const double bar_w =
      std::min(40.0, group_w * 0.8 / static_cast<double>(std::max<size_t>(1, series.size())));
  const double base = f.y(y_axis.frac(0));
  for (size_t g = 0; g < groups.size(); ++g) {
    const double cx = f.left + group_w * (static_cast<double>(g) + 0.5);
    const std::string label = shorten(groups[g], kMaxLabelChars);
    const double ly = f.top + f.plot_h + 16;
    s += "<g><title>" + xml_escape(groups[g]) + "</title>" +
         (slant ? text(cx, ly, label, kTickFont,
                       " text-anchor=\"end\" transform=\"rotate(-35 " + num(cx) + " " + num(ly) +
                           ")\"")
                : text(cx, ly, label, kTickFont, " text-anchor=\"middle\"")) +
         "</g>\n";
    for (size_t i = 0; i < series.size(); ++i) {
      if (g >= series[i].bars.size() || !finite(series[i].bars[g].value)) continue;
      const Bar& b = series[i].bars[g];
      const double x = cx + bar_w * (static_cast<double>(i) - series.size() / 2.0);
      const double top = f.y(y_axis.frac(b.value));
      std::string hover =
          series[i].name + " · " + groups[g] + ": " + value_text(b.value, o.y_percent);
      const bool err = b.error && finite(b.error->first) && finite(b.error->second);
      if (err)
        hover += " [" + value_text(b.error->first, o.y_percent) + ", " +
                 value_text(b.error->second, o.y_percent) + "]";
      s += "<rect x=\"" + num(x + 1) + "\" y=\"" + num(std::min(top, base)) + "\" width=\"" +
           num(std::max(1.0, bar_w - 2)) + "\" height=\"" + num(std::fabs(base - top)) +
           "\" rx=\"1.5\" fill=\"" + color(i) + "\"><title>" + xml_escape(hover) +
           "</title></rect>\n";
      if (err) {
        const double mx = x + bar_w / 2, y1 = f.y(y_axis.frac(b.error->first)),
                     y2 = f.y(y_axis.frac(b.error->second)), cap = std::min(8.0, bar_w * 0.4);
        s += line(mx, y1, mx, y2, "#1f2937", 1.2) +
             line(mx - cap / 2, y1, mx + cap / 2, y1, "#1f2937", 1.2) +
             line(mx - cap / 2, y2, mx + cap / 2, y2, "#1f2937", 1.2);
      }
    }
  }
  return s + legend(f, names, true) + "</svg>\n";
}

std::string xml_escape(const std::string& raw) {
  const std::string valid = utf8_lossy(raw);
  std::string out;
  out.reserve(valid.size());
  for (char c : valid) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n' || c == '\r') out += c;
    }
  }
  return out;
}

std::string format_double(const char* printf_format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, printf_format, v);
  return buf;
}

}  // namespace r1
