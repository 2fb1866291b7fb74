// Small SVG charts for self-contained reports: line charts (named series of (x, y), linear or log2
// x) and grouped bar charts with error bars, each with axes, round ticks, axis labels, a legend and
// a title, styled by attributes only (no CSS classes, scripts or external fonts). Text is escaped;
// points that are not finite are skipped; a chart without any finite point is a "no data" box.
// Leaves out interactivity (hover text is SVG <title> only), stacked bars and second y axes.
#pragma once

#include <limits>    // std::numeric_limits
#include <optional>  // std::optional
#include <string>    // std::string
#include <utility>   // std::pair
#include <vector>    // std::vector

namespace r1 {

struct ChartOptions {
  std::string title;                                 // above the plot ("" for none)
  std::string x_label, y_label;                      // axis titles ("" for none)
  int width = 560, height = 300;                     // pixels
  std::optional<std::pair<double, double>> y_range;  // a fixed y axis; else the data's, widened
                                                     // to round ticks (bars: always from 0)
  bool y_percent = false;  // y values are rates: ticks and hover text as percentages
  bool x_log2 = false;     // line charts: x on a log2 axis, ticks at powers of two; x <= 0 skipped
};

struct LineSeries {
  std::string name;                               // legend text
  std::vector<std::pair<double, double>> points;  // (x, y), in drawing order
};
// Series over 400 points are thinned to every k-th point (and the last); series of at most 40
// points get markers with their values as hover text.
std::string line_chart(const std::vector<LineSeries>& series, const ChartOptions& options);

struct Bar {
  double value = std::numeric_limits<double>::quiet_NaN();  // not finite: no bar
  std::optional<std::pair<double, double>> error;           // [lo, hi]: an error bar
};
struct BarSeries {
  std::string name;       // legend text
  std::vector<Bar> bars;  // one per group, in group order (missing ones: no bar)
};
// Groups along x (labels slanted when they do not fit), one bar per series within a group.
std::string bar_chart(const std::vector<std::string>& groups, const std::vector<BarSeries>& series,
                      const ChartOptions& options);

// `text` safe in XML/HTML text and attribute values: & < > " ' escaped, invalid UTF-8 replaced by
// U+FFFD, control characters that XML 1.0 forbids (all below 0x20 but tab, LF, CR) left out.
std::string xml_escape(const std::string& text);
// `v` through a printf format that takes one double ("%.1f"): labels and table cells.
std::string format_double(const char* printf_format, double v);

}  // namespace r1
