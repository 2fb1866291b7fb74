// Python semantics of Jinja values (see jinja_value.h).
#include "toolkit/jinja_value.h"

#include <algorithm>     // std::sort
#include <charconv>      // std::to_chars
#include <cmath>         // std::isnan, std::isinf
#include <system_error>  // std::errc

#include "toolkit/error.h"  // r1::Error
#include "toolkit/utf8.h"   // r1::utf8_step_lenient

namespace r1::jinja {

const Value* Dict::find(const Value& key) const {
  for (const auto& [k, v] : items)
    if (equal(k, key)) return &v;
  return nullptr;
}

const Value* Dict::find(const std::string& key) const {
  for (const auto& [k, v] : items)
    if (k.is_string() && k.str_ref() == key) return &v;
  return nullptr;
}

void Dict::set(const Value& key, Value v) {
  for (auto& [k, old] : items)
    if (equal(k, key)) {
      old = std::move(v);
      return;
    }
  items.emplace_back(key, std::move(v));
}

Value Value::list(std::vector<Value> items) {
  Value v(Kind::kList);
  v.list_ = std::make_shared<std::vector<Value>>(std::move(items));
  return v;
}

Value Value::tuple(std::vector<Value> items) {
  Value v = list(std::move(items));
  v.kind_ = Kind::kTuple;
  return v;
}

Value Value::dict() {
  Value v(Kind::kDict);
  v.dict_ = std::make_shared<Dict>();
  return v;
}

Value Value::ns() {
  Value v = dict();
  v.kind_ = Kind::kNamespace;
  return v;
}

Value Value::callable(std::string name, Function f) {
  Value v(Kind::kCallable);
  v.s_ = std::move(name);
  v.fn_ = std::make_shared<Function>(std::move(f));
  return v;
}

Value Value::from_json(const nlohmann::ordered_json& j) {
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null:
      return none();
    case nlohmann::ordered_json::value_t::boolean:
      return Value(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer:
      return Value(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned:
      return Value(static_cast<int64_t>(j.get<uint64_t>()));
    case nlohmann::ordered_json::value_t::number_float:
      return Value(j.get<double>());
    case nlohmann::ordered_json::value_t::string:
      return Value(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      std::vector<Value> items;
      items.reserve(j.size());
      for (const auto& e : j) items.push_back(from_json(e));
      return list(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      Value d = dict();
      for (auto it = j.begin(); it != j.end(); ++it)
        d.dict_->items.emplace_back(Value(it.key()), from_json(it.value()));
      return d;
    }
    default:
      throw Error("chat template input: a JSON value of an unsupported type");
  }
}

bool Value::truthy() const {
  switch (kind_) {
    case Kind::kUndefined:
    case Kind::kNone:
      return false;
    case Kind::kBool:
    case Kind::kInt:
      return i_ != 0;
    case Kind::kFloat:
      return f_ != 0;
    case Kind::kString:
      return !s_.empty();
    case Kind::kList:
    case Kind::kTuple:
      return !list_->empty();
    case Kind::kDict:
    case Kind::kNamespace:
      return kind_ == Kind::kNamespace || !dict_->items.empty();
    case Kind::kCallable:
      return true;
  }
  return false;
}

std::string Value::type_name() const {
  switch (kind_) {
    case Kind::kUndefined:
      return "Undefined";
    case Kind::kNone:
      return "NoneType";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kFloat:
      return "float";
    case Kind::kString:
      return "str";
    case Kind::kList:
      return "list";
    case Kind::kTuple:
      return "tuple";
    case Kind::kDict:
      return "dict";
    case Kind::kNamespace:
      return "Namespace";
    case Kind::kCallable:
      return "function";
  }
  return "object";
}

std::string py_float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);  // e.g. "-1.2345e+17", shortest round-trip digits
  const size_t e = sci.find('e');
  const int exp = std::stoi(sci.substr(e + 1));
  std::string mant = sci.substr(0, e);
  const bool neg = mant[0] == '-';
  if (neg) mant.erase(0, 1);
  std::string digits;
  for (char c : mant)
    if (c != '.') digits += c;
  std::string out;
  if (exp < -4 || exp >= 16) {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    out += eb;
  } else if (exp < 0) {
    out = "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
  } else {
    const size_t int_len = static_cast<size_t>(exp) + 1;
    if (digits.size() <= int_len) {
      out = digits + std::string(int_len - digits.size(), '0') + ".0";
    } else {
      out = digits.substr(0, int_len) + "." + digits.substr(int_len);
    }
  }
  return neg ? "-" + out : out;
}

namespace {

void json_string(const std::string& s, std::string& out) {
  out += '"';
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          char b[8];
          std::snprintf(b, sizeof b, "\\u%04x", c);
          out += b;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

std::string json_float(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  return py_float_repr(d);
}

std::string json_key(const Value& k) {
  switch (k.kind()) {
    case Value::Kind::kString:
      return k.str_ref();
    case Value::Kind::kBool:
      return k.boolean() ? "true" : "false";
    case Value::Kind::kInt:
      return std::to_string(k.integer());
    case Value::Kind::kFloat:
      return json_float(k.number());
    case Value::Kind::kNone:
      return "null";
    default:
      throw Error("tojson: keys must be str, int, float, bool or None, not " + k.type_name());
  }
}

struct JsonStyle {
  int indent;
  std::string item_sep, key_sep;
  bool sort_keys;
};

void to_json_into(const Value& v, const JsonStyle& st, int depth, std::string& out) {
  auto newline = [&](int d) {
    if (st.indent < 0) return;
    out += '\n';
    out.append(static_cast<size_t>(st.indent * d), ' ');
  };
  switch (v.kind()) {
    case Value::Kind::kNone:
      out += "null";
      return;
    case Value::Kind::kBool:
      out += v.boolean() ? "true" : "false";
      return;
    case Value::Kind::kInt:
      out += std::to_string(v.integer());
      return;
    case Value::Kind::kFloat:
      out += json_float(v.number());
      return;
    case Value::Kind::kString:
      json_string(v.str_ref(), out);
      return;
    case Value::Kind::kList:
    case Value::Kind::kTuple: {
      if (v.items().empty()) {
        out += "[]";
        return;
      }
      out += '[';
      bool first = true;
      for (const auto& e : v.items()) {
        if (!first) out += st.item_sep;
        first = false;
        newline(depth + 1);
        to_json_into(e, st, depth + 1, out);
      }
      newline(depth);
      out += ']';
      return;
    }
    case Value::Kind::kDict: {
      if (v.dict_ref().items.empty()) {
        out += "{}";
        return;
      }
      std::vector<std::pair<std::string, const Value*>> kv;
      for (const auto& [k, e] : v.dict_ref().items) kv.emplace_back(json_key(k), &e);
      if (st.sort_keys)
        std::stable_sort(kv.begin(), kv.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
      out += '{';
      bool first = true;
      for (const auto& [k, e] : kv) {
        if (!first) out += st.item_sep;
        first = false;
        newline(depth + 1);
        json_string(k, out);
        out += st.key_sep;
        to_json_into(*e, st, depth + 1, out);
      }
      newline(depth);
      out += '}';
      return;
    }
    default:
      throw Error("tojson: Object of type " + v.type_name() + " is not JSON serializable");
  }
}

}  // namespace

std::string py_str_repr(const std::string& s) {
  const bool has_single = s.find('\'') != std::string::npos;
  const bool has_double = s.find('"') != std::string::npos;
  const char q = has_single && !has_double ? '"' : '\'';
  std::string out(1, q);
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    const size_t n = utf8_step_lenient(s, i, &cp);
    if (cp == static_cast<uint32_t>(q) || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp < 0x20 || (cp >= 0x7F && cp < 0xA1) || cp == 0xAD) {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", cp);
      out += b;
    } else {
      out.append(s, i, n);
    }
    i += n;
  }
  out += q;
  return out;
}

std::string Value::to_str() const {
  switch (kind_) {
    case Kind::kUndefined:
      return "";
    case Kind::kString:
      return s_;
    default:
      return repr();
  }
}

std::string Value::repr() const {
  switch (kind_) {
    case Kind::kUndefined:
      return "";
    case Kind::kNone:
      return "None";
    case Kind::kBool:
      return i_ ? "True" : "False";
    case Kind::kInt:
      return std::to_string(i_);
    case Kind::kFloat:
      return py_float_repr(f_);
    case Kind::kString:
      return py_str_repr(s_);
    case Kind::kList:
    case Kind::kTuple: {
      std::string out = kind_ == Kind::kList ? "[" : "(";
      for (size_t i = 0; i < list_->size(); ++i) out += (i ? ", " : "") + (*list_)[i].repr();
      if (kind_ == Kind::kTuple && list_->size() == 1) out += ",";
      return out + (kind_ == Kind::kList ? "]" : ")");
    }
    case Kind::kDict:
    case Kind::kNamespace: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, v] : dict_->items) {
        out += (first ? "" : ", ") + k.repr() + ": " + v.repr();
        first = false;
      }
      out += "}";
      return kind_ == Kind::kDict ? out : "<Namespace " + out + ">";
    }
    case Kind::kCallable:
      return "<function " + s_ + ">";
  }
  return "";
}

std::string Value::to_json(int indent, const std::string* item_sep, const std::string* key_sep,
                           bool sort_keys) const {
  JsonStyle st{indent, item_sep ? *item_sep : (indent < 0 ? ", " : ","), key_sep ? *key_sep : ": ",
               sort_keys};
  std::string out;
  to_json_into(*this, st, 0, out);
  return out;
}

nlohmann::ordered_json Value::to_json_value() const {
  switch (kind_) {
    case Kind::kNone:
    case Kind::kUndefined:
      return nullptr;
    case Kind::kBool:
      return i_ != 0;
    case Kind::kInt:
      return i_;
    case Kind::kFloat:
      return f_;
    case Kind::kString:
      return s_;
    case Kind::kList:
    case Kind::kTuple: {
      auto j = nlohmann::ordered_json::array();
      for (const auto& e : *list_) j.push_back(e.to_json_value());
      return j;
    }
    case Kind::kDict:
    case Kind::kNamespace: {
      auto j = nlohmann::ordered_json::object();
      for (const auto& [k, v] : dict_->items) j[k.to_str()] = v.to_json_value();
      return j;
    }
    case Kind::kCallable:
      return s_;
  }
  return nullptr;
}

std::vector<Value> Value::iterate() const {
  switch (kind_) {
    case Kind::kUndefined:
      return {};
    case Kind::kList:
    case Kind::kTuple:
      return *list_;
    case Kind::kDict:
    case Kind::kNamespace: {
      std::vector<Value> keys;
      for (const auto& kv : dict_->items) keys.push_back(kv.first);
      return keys;
    }
    case Kind::kString: {
      std::vector<Value> chars;
      for (auto& c : utf8_chars(s_)) chars.emplace_back(std::move(c));
      return chars;
    }
    default:
      throw Error("'" + type_name() + "' object is not iterable");
  }
}

Value CallArgs::get(size_t pos, const std::string& name, Value fallback) const {
  for (const auto& [k, v] : kwargs)
    if (k == name) return v;
  if (pos < args.size()) return args[pos];
  return fallback;
}

bool CallArgs::has(size_t pos, const std::string& name) const {
  for (const auto& kv : kwargs)
    if (kv.first == name) return true;
  return pos < args.size();
}

bool equal(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.kind() == Value::Kind::kFloat || b.kind() == Value::Kind::kFloat)
      return a.number() == b.number();
    return a.integer() == b.integer();
  }
  if (a.is_sequence() && b.is_sequence()) {
    if (a.kind() != b.kind() || a.items().size() != b.items().size()) return false;
    for (size_t i = 0; i < a.items().size(); ++i)
      if (!equal(a.items()[i], b.items()[i])) return false;
    return true;
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNone:
      return true;
    case Value::Kind::kString:
      return a.str_ref() == b.str_ref();
    case Value::Kind::kDict: {
      const auto& x = a.dict_ref().items;
      if (x.size() != b.dict_ref().items.size()) return false;
      for (const auto& [k, v] : x) {
        const Value* o = b.dict_ref().find(k);
        if (!o || !equal(v, *o)) return false;
      }
      return true;
    }
    case Value::Kind::kNamespace:
      return &a.dict_ref() == &b.dict_ref();
    default:
      return a.callable_name() == b.callable_name();
  }
}

bool less(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.kind() == Value::Kind::kFloat || b.kind() == Value::Kind::kFloat)
      return a.number() < b.number();
    return a.integer() < b.integer();
  }
  if (a.is_string() && b.is_string())
    return a.str_ref() < b.str_ref();  // UTF-8 byte order = code point order
  if (a.is_sequence() && b.is_sequence()) {
    const auto& x = a.items();
    const auto& y = b.items();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (less(x[i], y[i])) return true;
      if (less(y[i], x[i])) return false;
    }
    return x.size() < y.size();
  }
  throw Error("'<' not supported between instances of '" + a.type_name() + "' and '" +
              b.type_name() + "'");
}

std::vector<std::string> utf8_chars(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    const size_t n = utf8_step_lenient(s, i, &cp);
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

uint32_t utf8_code_point(const std::string& ch) {
  uint32_t cp = 0;
  if (!ch.empty()) utf8_step_lenient(ch, 0, &cp);
  return cp;
}

size_t utf8_length(const std::string& s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    i += utf8_step_lenient(s, i, &cp);
    ++n;
  }
  return n;
}

}  // namespace r1::jinja
