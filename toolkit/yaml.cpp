#include "toolkit/yaml.h"

#include <yaml-cpp/depthguard.h>  // YAML::DeepRecursion
#include <yaml-cpp/yaml.h>        // YAML::Load, YAML::Node

#include <algorithm>      // std::count
#include <cerrno>         // errno
#include <cstdint>        // int64_t
#include <cstdio>         // std::snprintf
#include <cstdlib>        // std::strtod, std::strtoll
#include <limits>         // std::numeric_limits
#include <regex>          // std::regex
#include <unordered_set>  // std::unordered_set

#include "toolkit/error.h"  // r1::Error, r1::check
#include "toolkit/fs.h"     // r1::read_file

namespace r1 {
namespace {

using nlohmann::json;

std::string where(const std::string& origin, const YAML::Mark& m) {
  if (m.is_null()) return origin;
  return origin + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

// YAML 1.2 core schema resolution of a plain scalar.
json plain_scalar(const std::string& s) {
  static const std::regex null_re("~|null|Null|NULL|");
  static const std::regex true_re("true|True|TRUE");
  static const std::regex false_re("false|False|FALSE");
  static const std::regex int_re("[-+]?[0-9]+");
  static const std::regex hex_re("0x[0-9a-fA-F]+");
  static const std::regex float_re("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
  static const std::regex inf_re("[-+]?\\.(inf|Inf|INF)");
  static const std::regex nan_re("\\.(nan|NaN|NAN)");
  // libstdc++'s std::regex recurses per character: a megabyte of digits overflowed the stack. No
  // number or keyword is this long, so such a scalar is a string.
  if (s.size() > 400) return s;
  if (std::regex_match(s, null_re)) return nullptr;
  if (std::regex_match(s, true_re)) return true;
  if (std::regex_match(s, false_re)) return false;
  const bool dec = std::regex_match(s, int_re), hex = !dec && std::regex_match(s, hex_re);
  if (dec || hex) {
    errno = 0;
    const long long v = std::strtoll(s.c_str() + (hex ? 2 : 0), nullptr, hex ? 16 : 10);
    if (errno == 0) return v;
    if (dec) return std::strtod(s.c_str(), nullptr);  // beyond int64: a float, as YAML readers do
  }
  if (std::regex_match(s, float_re)) return std::strtod(s.c_str(), nullptr);
  if (std::regex_match(s, inf_re))
    return s[0] == '-' ? -std::numeric_limits<double>::infinity()
                       : std::numeric_limits<double>::infinity();
  if (std::regex_match(s, nan_re)) return std::numeric_limits<double>::quiet_NaN();
  return s;
}

// More values than any recipe or gates file holds: aliases can make a few hundred bytes expand
// to billions of values (a "billion laughs" file), so the expansion stops here.
constexpr int64_t kMaxValues = 100000;
constexpr int kMaxDepth = 200;

// The file being converted: its name, its text (for the quotes' ends) and the values so far.
struct Source {
  const std::string& origin;
  const std::string& text;
  int64_t values = 0;
  std::unordered_set<int> quotes_checked;  // aliases repeat a node: each quote is scanned once
};

// yaml-cpp takes the end of the stream as the end of a quoted scalar, so an unterminated quote
// swallowed the rest of the file and the error came later, about a missing key (D12). The quote
// must close: scan from its opening (YAML escapes: \x in double quotes, '' in single ones).
void check_quote_closes(const YAML::Node& n, Source& src) {
  const YAML::Mark m = n.Mark();
  if (m.is_null() || m.pos < 0 || static_cast<size_t>(m.pos) >= src.text.size()) return;
  if (!src.quotes_checked.insert(m.pos).second) return;
  const char q = src.text[m.pos];
  if (q != '"' && q != '\'') return;
  for (size_t i = m.pos + 1; i < src.text.size(); ++i) {
    if (q == '"' && src.text[i] == '\\') {
      ++i;
    } else if (src.text[i] == q) {
      if (q == '"' || i + 1 >= src.text.size() || src.text[i + 1] != '\'') return;
      ++i;  // '' inside single quotes
    }
  }
  throw Error(where(src.origin, m) + ": the quote opened here is never closed");
}

json to_json(const YAML::Node& n, Source& src, int depth) {
  const std::string& origin = src.origin;
  check(depth < kMaxDepth, where(origin, n.Mark()) + ": nested more than " +
                               std::to_string(kMaxDepth) + " levels deep");
  check(++src.values <= kMaxValues, origin + ": expands to more than " +
                                        std::to_string(kMaxValues) +
                                        " values (aliases repeated too often?)");
  switch (n.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return nullptr;
    case YAML::NodeType::Scalar:
      if (n.Tag() != "!") return plain_scalar(n.Scalar());
      check_quote_closes(n, src);
      return n.Scalar();  // quoted: a string whatever it reads like
    case YAML::NodeType::Sequence: {
      json a = json::array();
      for (const auto& item : n) a.push_back(to_json(item, src, depth + 1));
      return a;
    }
    case YAML::NodeType::Map: {
      json o = json::object();
      for (const auto& kv : n) {
        check(kv.first.IsScalar(), where(origin, kv.first.Mark()) + ": a key must be a string");
        const std::string key = kv.first.Scalar();
        check(!o.contains(key), where(origin, kv.first.Mark()) + ": key '" + key + "' repeated");
        o[key] = to_json(kv.second, src, depth + 1);
      }
      return o;
    }
  }
  return nullptr;
}

// The first byte of `text` that is not part of valid UTF-8, or npos.
size_t first_invalid_utf8(const std::string& text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    const size_t len = c < 0x80           ? 1
                       : (c >> 5) == 0x6  ? 2
                       : (c >> 4) == 0xE  ? 3
                       : (c >> 3) == 0x1E ? 4
                                          : 0;
    if (len == 0 || (len == 2 && c < 0xC2) || i + len > text.size()) return i;
    for (size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return i;
    i += len;
  }
  return std::string::npos;
}

// A file that is not UTF-8 fails here, naming the place, not later in the JSON library (D12).
void check_utf8(const std::string& text, const std::string& origin) {
  const size_t bad = first_invalid_utf8(text);
  if (bad == std::string::npos) return;
  const size_t line_start = text.rfind('\n', bad == 0 ? 0 : bad - 1);
  const size_t line = 1 + std::count(text.begin(), text.begin() + bad, '\n');
  const size_t column =
      bad - (line_start == std::string::npos || bad == 0 ? 0 : line_start + 1) + 1;
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02X",
                static_cast<unsigned>(static_cast<unsigned char>(text[bad])));
  throw Error(origin + ":" + std::to_string(line) + ":" + std::to_string(column) +
              ": not UTF-8 (byte " + hex + "); save the file as UTF-8");
}

}  // namespace

nlohmann::json parse_yaml(const std::string& text, const std::string& origin) {
  check_utf8(text, origin);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::DeepRecursion& e) {
    throw Error(where(origin, e.mark) + ": nested more than " + std::to_string(kMaxDepth) +
                " levels deep");
  } catch (const YAML::Exception& e) {
    throw Error(where(origin, e.mark) + ": not valid YAML (" + e.msg + ")");
  }
  Source src{origin, text, 0, {}};
  return to_json(root, src, 0);
}

nlohmann::json read_yaml_file(const std::string& path) { return parse_yaml(read_file(path), path); }

}  // namespace r1
