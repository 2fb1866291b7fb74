#include "toolkit/yaml.h"

#include <yaml-cpp/depthguard.h>  // YAML::DeepRecursion
#include <yaml-cpp/yaml.h>        // YAML::Load, YAML::Node

#include <cerrno>   // errno
#include <cstdint>  // int64_t
#include <cstdlib>  // std::strtod, std::strtoll
#include <limits>   // std::numeric_limits
#include <regex>    // std::regex

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

json to_json(const YAML::Node& n, const std::string& origin, int depth, int64_t& values) {
  check(depth < kMaxDepth, where(origin, n.Mark()) + ": nested more than " +
                               std::to_string(kMaxDepth) + " levels deep");
  check(++values <= kMaxValues, origin + ": expands to more than " + std::to_string(kMaxValues) +
                                    " values (aliases repeated too often?)");
  switch (n.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return nullptr;
    case YAML::NodeType::Scalar:
      if (n.Tag() == "!") return n.Scalar();  // quoted: a string whatever it reads like
      return plain_scalar(n.Scalar());
    case YAML::NodeType::Sequence: {
      json a = json::array();
      for (const auto& item : n) a.push_back(to_json(item, origin, depth + 1, values));
      return a;
    }
    case YAML::NodeType::Map: {
      json o = json::object();
      for (const auto& kv : n) {
        check(kv.first.IsScalar(), where(origin, kv.first.Mark()) + ": a key must be a string");
        const std::string key = kv.first.Scalar();
        check(!o.contains(key), where(origin, kv.first.Mark()) + ": key '" + key + "' repeated");
        o[key] = to_json(kv.second, origin, depth + 1, values);
      }
      return o;
    }
  }
  return nullptr;
}

}  // namespace

nlohmann::json parse_yaml(const std::string& text, const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::DeepRecursion& e) {
    throw Error(where(origin, e.mark) + ": nested more than " + std::to_string(kMaxDepth) +
                " levels deep");
  } catch (const YAML::Exception& e) {
    throw Error(where(origin, e.mark) + ": not valid YAML (" + e.msg + ")");
  }
  int64_t values = 0;
  return to_json(root, origin, 0, values);
}

nlohmann::json read_yaml_file(const std::string& path) { return parse_yaml(read_file(path), path); }

}  // namespace r1
