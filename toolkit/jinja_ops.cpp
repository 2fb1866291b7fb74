// Jinja operators with Python's semantics: arithmetic, concatenation, membership, comparisons,
// and printf-style `str % args` (see jinja_builtins.h).
#include <cmath>  // std::floor, std::fmod, std::pow

#include "toolkit/error.h"           // r1::Error
#include "toolkit/jinja_builtins.h"  // r1::jinja::binary_op

namespace r1::jinja {
namespace {

[[noreturn]] void unsupported(const std::string& op, const Value& a, const Value& b) {
  if (a.is_undefined()) throw Error(a.str_ref().empty() ? "undefined value" : a.str_ref());
  if (b.is_undefined()) throw Error(b.str_ref().empty() ? "undefined value" : b.str_ref());
  throw Error("unsupported operand type(s) for " + op + ": '" + a.type_name() + "' and '" +
              b.type_name() + "'");
}

bool is_float(const Value& v) { return v.kind() == Value::Kind::kFloat; }

Value repeat(const Value& seq, int64_t n) {
  if (seq.is_string()) {
    std::string out;
    for (int64_t i = 0; i < n; ++i) out += seq.str_ref();
    return Value(std::move(out));
  }
  std::vector<Value> out;
  for (int64_t i = 0; i < n; ++i) out.insert(out.end(), seq.items().begin(), seq.items().end());
  return seq.kind() == Value::Kind::kTuple ? Value::tuple(std::move(out))
                                           : Value::list(std::move(out));
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
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
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

Value add(const Value& a, const Value& b) {
  if (a.is_string() && b.is_string() &&
      (a.is_markup() || b.is_markup()))  // Markup.__add__ / __radd__
    return Value::markup((a.is_markup() ? a.str_ref() : html_escape(a.str_ref())) +
                         (b.is_markup() ? b.str_ref() : html_escape(b.str_ref())));
  if (a.is_number() && b.is_number()) {
    if (is_float(a) || is_float(b)) return Value(a.number() + b.number());
    return Value(a.integer() + b.integer());
  }
  if (a.is_string() && b.is_string()) return Value(a.str_ref() + b.str_ref());
  if (a.is_sequence() && a.kind() == b.kind()) {
    std::vector<Value> out = a.items();
    out.insert(out.end(), b.items().begin(), b.items().end());
    return a.kind() == Value::Kind::kTuple ? Value::tuple(std::move(out))
                                           : Value::list(std::move(out));
  }
  unsupported("+", a, b);
}

Value multiply(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (is_float(a) || is_float(b)) return Value(a.number() * b.number());
    return Value(a.integer() * b.integer());
  }
  if ((a.is_string() || a.is_sequence()) && b.is_int()) return repeat(a, b.integer());
  if ((b.is_string() || b.is_sequence()) && a.is_int()) return repeat(b, a.integer());
  unsupported("*", a, b);
}

Value floor_div_or_mod(const std::string& op, const Value& a, const Value& b) {
  if (!a.is_number() || !b.is_number()) unsupported(op, a, b);
  if (b.number() == 0)
    throw Error(op == "//" ? "integer division or modulo by zero" : "modulo by zero");
  if (is_float(a) || is_float(b)) {
    const double x = a.number(), y = b.number();
    if (op == "//") return Value(std::floor(x / y));
    double m = std::fmod(x, y);
    if (m != 0 && ((m < 0) != (y < 0))) m += y;
    return Value(m);
  }
  const int64_t x = a.integer(), y = b.integer();
  int64_t q = x / y, r = x % y;
  if (r != 0 && ((r < 0) != (y < 0))) {
    --q;
    r += y;
  }
  return Value(op == "//" ? q : r);
}

// One %-conversion of printf-style formatting: flags/width/precision already split off.
std::string format_one(char conv, const std::string& spec, const Value& v) {
  char buf[512];
  const std::string f = "%" + spec;
  switch (conv) {
    case 's': {
      std::string s = v.to_str();
      if (spec.empty()) return s;
      std::snprintf(buf, sizeof buf, (f + "s").c_str(), s.c_str());
      return buf;
    }
    case 'r':
      return v.repr();
    case 'd':
    case 'i':
    case 'u': {
      if (!v.is_number()) throw Error("%d format: a real number is required, not " + v.type_name());
      const auto n = static_cast<long long>(is_float(v) ? std::trunc(v.number()) : v.integer());
      std::snprintf(buf, sizeof buf, (f + "lld").c_str(), n);
      return buf;
    }
    case 'x':
    case 'X':
    case 'o': {
      if (!v.is_int())
        throw Error(std::string("%") + conv + " format: an integer is required, not " +
                    v.type_name());
      std::snprintf(buf, sizeof buf, (f + "ll" + conv).c_str(),
                    static_cast<long long>(v.integer()));
      return buf;
    }
    case 'f':
    case 'F':
    case 'e':
    case 'E':
    case 'g':
    case 'G': {
      if (!v.is_number())
        throw Error(std::string("%") + conv + " format: a real number is required, not " +
                    v.type_name());
      std::snprintf(buf, sizeof buf, (f + conv).c_str(), v.number());
      return buf;
    }
    default:
      throw Error(std::string("unsupported format character '") + conv + "'");
  }
}

Value percent_format(const std::string& fmt, const Value& args) {
  std::vector<Value> list =
      args.kind() == Value::Kind::kTuple ? args.items() : std::vector<Value>{args};
  const Value* mapping = args.is_mapping() ? &args : nullptr;
  std::string out;
  size_t next = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out += fmt[i];
      continue;
    }
    if (++i >= fmt.size()) throw Error("incomplete format");
    if (fmt[i] == '%') {
      out += '%';
      continue;
    }
    Value v;
    if (fmt[i] == '(' && mapping) {
      const size_t close = fmt.find(')', i);
      if (close == std::string::npos) throw Error("incomplete format key");
      v = get_item(*mapping, Value(fmt.substr(i + 1, close - i - 1)));
      i = close + 1;
    } else {
      if (next >= list.size()) throw Error("not enough arguments for format string");
      v = list[next++];
    }
    std::string spec;
    while (i < fmt.size() && std::string("-+ #0123456789.").find(fmt[i]) != std::string::npos)
      spec += fmt[i++];
    if (i >= fmt.size()) throw Error("incomplete format");
    out += format_one(fmt[i], spec, v);
  }
  if (!mapping && next < list.size())
    throw Error("not all arguments converted during string formatting");
  return Value(std::move(out));
}

bool contains(const Value& container, const Value& item) {
  if (container.is_string()) {
    if (!item.is_string())
      throw Error("'in <string>' requires string as left operand, not " + item.type_name());
    return container.str_ref().find(item.str_ref()) != std::string::npos;
  }
  if (container.is_sequence()) {
    for (const auto& e : container.items())
      if (equal(e, item)) return true;
    return false;
  }
  if (container.is_mapping()) return container.dict_ref().find(item) != nullptr;
  if (container.is_undefined()) return false;
  throw Error("argument of type '" + container.type_name() + "' is not iterable");
}

}  // namespace

std::string escape_html(const std::string& s) { return html_escape(s); }

Value binary_op(const std::string& op, const Value& a, const Value& b) {
  if (op == "~") return Value(a.to_str() + b.to_str());
  if (op == "+") return add(a, b);
  if (op == "*") return multiply(a, b);
  if (op == "%" && a.is_string()) return percent_format(a.str_ref(), b);
  if (!a.is_number() || !b.is_number()) unsupported(op, a, b);
  if (op == "-") {
    if (is_float(a) || is_float(b)) return Value(a.number() - b.number());
    return Value(a.integer() - b.integer());
  }
  if (op == "/") {
    if (b.number() == 0) throw Error("division by zero");
    return Value(a.number() / b.number());
  }
  if (op == "//" || op == "%") return floor_div_or_mod(op, a, b);
  if (op == "**") {
    if (!is_float(a) && !is_float(b) && b.integer() >= 0) {
      int64_t r = 1;
      for (int64_t i = 0; i < b.integer(); ++i) r *= a.integer();
      return Value(r);
    }
    return Value(std::pow(a.number(), b.number()));
  }
  throw Error("unknown operator " + op);
}

bool compare_op(const std::string& op, const Value& a, const Value& b) {
  if (op == "==") return equal(a, b);
  if (op == "!=") return !equal(a, b);
  if (op == "in") return contains(b, a);
  if (op == "not in") return !contains(b, a);
  if (a.is_undefined() || b.is_undefined()) unsupported(op, a, b);
  if (op == "<") return less(a, b);
  if (op == ">") return less(b, a);
  if (op == "<=") return !less(b, a);
  if (op == ">=") return !less(a, b);
  throw Error("unknown comparison " + op);
}

}  // namespace r1::jinja
