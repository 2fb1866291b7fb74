// Attribute and item access with Jinja2's sandbox rules, the Python str/dict/list methods chat
// templates call, and the globals (see jinja_builtins.h).
#include <utf8proc.h>  // utf8proc_toupper, utf8proc_tolower

#include <algorithm>  // std::min
#include <ctime>      // std::strftime
#include <optional>   // std::optional

#include "toolkit/error.h"           // r1::Error
#include "toolkit/jinja_builtins.h"  // r1::jinja::get_attr

namespace r1::jinja {
namespace {

bool py_space(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

std::string encode(uint32_t cp) {
  utf8proc_uint8_t buf[4];
  const auto n = utf8proc_encode_char(static_cast<utf8proc_int32_t>(cp), buf);
  return std::string(reinterpret_cast<char*>(buf), static_cast<size_t>(n));
}

std::string map_case(const std::string& s, bool upper) {
  std::string out;
  for (const auto& ch : utf8_chars(s)) {
    const uint32_t cp = utf8_code_point(ch);
    const auto m =
        static_cast<uint32_t>(upper ? utf8proc_toupper(static_cast<utf8proc_int32_t>(cp))
                                    : utf8proc_tolower(static_cast<utf8proc_int32_t>(cp)));
    out += m == cp ? ch : encode(m);
  }
  return out;
}

bool is_cased_letter(uint32_t cp) {
  return utf8proc_toupper(static_cast<utf8proc_int32_t>(cp)) != static_cast<utf8proc_int32_t>(cp) ||
         utf8proc_tolower(static_cast<utf8proc_int32_t>(cp)) != static_cast<utf8proc_int32_t>(cp);
}

const std::string& arg_str(const CallArgs& a, size_t pos, const char* name, const Value& v) {
  if (!v.is_string())
    throw Error(a.callee + "() argument " + std::to_string(pos + 1) + " (" + name +
                ") must be str, not " + v.type_name());
  return v.str_ref();
}

std::vector<Value> split(const std::string& s, const Value& sep, int64_t maxsplit) {
  std::vector<Value> out;
  if (sep.is_none() || sep.is_undefined()) {
    const auto chars = utf8_chars(s);
    size_t i = 0;
    while (i < chars.size()) {
      while (i < chars.size() && py_space(utf8_code_point(chars[i]))) ++i;
      if (i >= chars.size()) break;
      std::string word;
      if (maxsplit >= 0 && static_cast<int64_t>(out.size()) >= maxsplit) {
        for (; i < chars.size(); ++i) word += chars[i];
        out.emplace_back(std::move(word));  // the rest, trailing whitespace and all
        break;
      }
      while (i < chars.size() && !py_space(utf8_code_point(chars[i]))) word += chars[i++];
      out.emplace_back(std::move(word));
    }
    return out;
  }
  const std::string& d = sep.str_ref();
  if (d.empty()) throw Error("empty separator");
  size_t start = 0;
  while (true) {
    if (maxsplit >= 0 && static_cast<int64_t>(out.size()) >= maxsplit) break;
    const size_t k = s.find(d, start);
    if (k == std::string::npos) break;
    out.emplace_back(s.substr(start, k - start));
    start = k + d.size();
  }
  out.emplace_back(s.substr(start));
  return out;
}

std::vector<Value> rsplit(const std::string& s, const Value& sep, int64_t maxsplit) {
  if (sep.is_none() || sep.is_undefined() || maxsplit < 0) return split(s, sep, maxsplit);
  const std::string& d = sep.str_ref();
  if (d.empty()) throw Error("empty separator");
  std::vector<Value> out;
  size_t end = s.size();
  while (static_cast<int64_t>(out.size()) < maxsplit) {
    if (end < d.size()) break;
    const size_t k = s.rfind(d, end - d.size());
    if (k == std::string::npos) break;
    out.insert(out.begin(), Value(s.substr(k + d.size(), end - k - d.size())));
    end = k;
  }
  out.insert(out.begin(), Value(s.substr(0, end)));
  return out;
}

std::vector<Value> splitlines(const std::string& s, bool keepends) {
  std::vector<Value> out;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    size_t len = 0;
    if (s[i] == '\n' || s[i] == '\v' || s[i] == '\f' || s[i] == '\x1c' || s[i] == '\x1d' ||
        s[i] == '\x1e')
      len = 1;
    else if (s[i] == '\r')
      len = i + 1 < s.size() && s[i + 1] == '\n' ? 2 : 1;
    else if (s.compare(i, 2, "\xc2\x85") == 0)
      len = 2;
    else if (s.compare(i, 3, "\xe2\x80\xa8") == 0 || s.compare(i, 3, "\xe2\x80\xa9") == 0)
      len = 3;
    if (!len) continue;
    out.emplace_back(s.substr(start, (keepends ? i + len : i) - start));
    i += len - 1;
    start = i + 1;
  }
  if (start < s.size()) out.emplace_back(s.substr(start));
  return out;
}

bool affix_match(const std::string& s, const Value& affix, bool prefix, const CallArgs& a) {
  auto one = [&](const Value& v) {
    const std::string& x = arg_str(a, 0, prefix ? "prefix" : "suffix", v);
    if (x.size() > s.size()) return false;
    return prefix ? s.compare(0, x.size(), x) == 0
                  : s.compare(s.size() - x.size(), x.size(), x) == 0;
  };
  if (affix.kind() == Value::Kind::kTuple) {
    for (const auto& v : affix.items())
      if (one(v)) return true;
    return false;
  }
  return one(affix);
}

std::string replace(const std::string& s, const std::string& old, const std::string& with,
                    int64_t count) {
  std::string out;
  if (old.empty()) {
    const auto chars = utf8_chars(s);
    int64_t n = 0;
    for (size_t i = 0; i <= chars.size(); ++i) {
      if (count < 0 || n < count) {
        out += with;
        ++n;
      }
      if (i < chars.size()) out += chars[i];
    }
    return out;
  }
  size_t start = 0;
  int64_t n = 0;
  while (count < 0 || n < count) {
    const size_t k = s.find(old, start);
    if (k == std::string::npos) break;
    out.append(s, start, k - start);
    out += with;
    start = k + old.size();
    ++n;
  }
  out.append(s, start, std::string::npos);
  return out;
}

// Python's str.title(): a cased letter after an uncased character is upper-cased, others lowered.
std::string title(const std::string& s) {
  std::string out;
  bool prev_cased = false;
  for (const auto& ch : utf8_chars(s)) {
    const uint32_t cp = utf8_code_point(ch);
    out += map_case(ch, !prev_cased);
    prev_cased = is_cased_letter(cp);
  }
  return out;
}

std::string capitalize(const std::string& s) {
  const auto chars = utf8_chars(s);
  std::string out;
  for (size_t i = 0; i < chars.size(); ++i) out += map_case(chars[i], i == 0);
  return out;
}

// str.format with {} / {0} / {name} fields (no format specs or conversions beyond plain str()).
std::string str_format(const std::string& fmt, const CallArgs& a) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] == '{' && i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out += '{';
      ++i;
    } else if (fmt[i] == '}' && i + 1 < fmt.size() && fmt[i + 1] == '}') {
      out += '}';
      ++i;
    } else if (fmt[i] == '{') {
      const size_t close = fmt.find('}', i);
      if (close == std::string::npos) throw Error("Single '{' encountered in format string");
      const std::string field = fmt.substr(i + 1, close - i - 1);
      if (field.find_first_of(":!") != std::string::npos)
        throw Error("str.format: format specs are not supported");
      Value v;
      if (field.empty()) {
        v = a.get(auto_index++, "\x01");
      } else if (std::isdigit(static_cast<unsigned char>(field[0]))) {
        v = a.get(static_cast<size_t>(std::stoul(field)), "\x01");
      } else {
        v = a.get(static_cast<size_t>(-1), field);
      }
      if (v.is_undefined()) throw Error("str.format: no argument for {" + field + "}");
      out += v.to_str();
      i = close;
    } else {
      out += fmt[i];
    }
  }
  return out;
}

int64_t int_arg(const CallArgs& a, size_t pos, const char* name, int64_t fallback) {
  const Value v = a.get(pos, name);
  if (v.is_undefined() || v.is_none()) return fallback;
  if (!v.is_int()) throw Error(a.callee + "(): " + name + " must be an integer");
  return v.integer();
}

using Method = Value (*)(const Value& self, CallArgs& a);

Value str_method(const std::string& name, const Value& self, CallArgs& a) {
  const std::string& s = self.str_ref();
  auto chars_arg = [&](size_t pos) -> const std::string* {
    static thread_local std::string held;
    const Value v = a.get(pos, "chars");
    if (v.is_undefined() || v.is_none()) return nullptr;
    held = arg_str(a, pos, "chars", v);
    return &held;
  };
  if (name == "strip") return Value(py_strip_chars(s, chars_arg(0), true, true));
  if (name == "lstrip") return Value(py_strip_chars(s, chars_arg(0), true, false));
  if (name == "rstrip") return Value(py_strip_chars(s, chars_arg(0), false, true));
  if (name == "split")
    return Value::list(split(s, a.get(0, "sep", Value::none()), int_arg(a, 1, "maxsplit", -1)));
  if (name == "rsplit")
    return Value::list(rsplit(s, a.get(0, "sep", Value::none()), int_arg(a, 1, "maxsplit", -1)));
  if (name == "splitlines")
    return Value::list(splitlines(s, a.get(0, "keepends", Value(false)).truthy()));
  if (name == "startswith") return Value(affix_match(s, a.get(0, "prefix"), true, a));
  if (name == "endswith") return Value(affix_match(s, a.get(0, "suffix"), false, a));
  if (name == "replace")
    return Value(replace(s, arg_str(a, 0, "old", a.get(0, "old")),
                         arg_str(a, 1, "new", a.get(1, "new")), int_arg(a, 2, "count", -1)));
  if (name == "upper") return Value(map_case(s, true));
  if (name == "lower") return Value(map_case(s, false));
  if (name == "title") return Value(title(s));
  if (name == "capitalize") return Value(capitalize(s));
  if (name == "format") return Value(str_format(s, a));
  if (name == "join") {
    std::string out;
    bool first = true;
    for (const auto& v : a.get(0, "iterable").iterate()) {
      if (!first) out += s;
      first = false;
      out += arg_str(a, 0, "iterable item", v);
    }
    return Value(std::move(out));
  }
  if (name == "find" || name == "rfind" || name == "index" || name == "rindex" || name == "count") {
    const std::string& sub = arg_str(a, 0, "sub", a.get(0, "sub"));
    if (name == "count") {
      if (sub.empty()) return Value(static_cast<int64_t>(utf8_length(s) + 1));
      int64_t n = 0;
      for (size_t k = s.find(sub); k != std::string::npos; k = s.find(sub, k + sub.size())) ++n;
      return Value(n);
    }
    const size_t k = name[0] == 'r' ? s.rfind(sub) : s.find(sub);
    if (k == std::string::npos) {
      if (name == "index" || name == "rindex") throw Error("substring not found");
      return Value(static_cast<int64_t>(-1));
    }
    return Value(static_cast<int64_t>(utf8_length(s.substr(0, k))));
  }
  if (name == "removeprefix" || name == "removesuffix") {
    const std::string& x = arg_str(a, 0, "affix", a.get(0, "affix"));
    if (name == "removeprefix" && s.compare(0, x.size(), x) == 0) return Value(s.substr(x.size()));
    if (name == "removesuffix" && !x.empty() && s.size() >= x.size() &&
        s.compare(s.size() - x.size(), x.size(), x) == 0)
      return Value(s.substr(0, s.size() - x.size()));
    return self;
  }
  if (name == "isdigit" || name == "isalpha" || name == "isalnum" || name == "isspace" ||
      name == "isupper" || name == "islower" || name == "isnumeric" || name == "isdecimal") {
    if (s.empty()) return Value(false);
    bool cased = false;
    for (const auto& ch : utf8_chars(s)) {
      const uint32_t cp = utf8_code_point(ch);
      const auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
      const bool digit = cat == UTF8PROC_CATEGORY_ND;
      const bool alpha = cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO;
      if ((name == "isdigit" || name == "isnumeric" || name == "isdecimal") && !digit)
        return Value(false);
      if (name == "isalpha" && !alpha) return Value(false);
      if (name == "isalnum" && !alpha && !digit) return Value(false);
      if (name == "isspace" && !py_space(cp)) return Value(false);
      if (name == "isupper" && cat == UTF8PROC_CATEGORY_LL) return Value(false);
      if (name == "islower" && cat == UTF8PROC_CATEGORY_LU) return Value(false);
      cased = cased || cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL;
    }
    return Value(name == "isupper" || name == "islower" ? cased : true);
  }
  if (name == "zfill") {
    const int64_t w = int_arg(a, 0, "width", 0);
    const auto len = static_cast<int64_t>(utf8_length(s));
    if (len >= w) return self;
    const size_t sign = !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
    return Value(s.substr(0, sign) + std::string(static_cast<size_t>(w - len), '0') +
                 s.substr(sign));
  }
  throw Error("'str' object has no attribute '" + name + "'");
}

const char* const kStrMethods[] = {
    "strip",        "lstrip",    "rstrip",  "split",   "rsplit",  "splitlines", "startswith",
    "endswith",     "replace",   "upper",   "lower",   "title",   "capitalize", "format",
    "join",         "find",      "rfind",   "index",   "rindex",  "count",      "removeprefix",
    "removesuffix", "isdigit",   "isalpha", "isalnum", "isspace", "isupper",    "islower",
    "isnumeric",    "isdecimal", "zfill"};
const char* const kDictMethods[] = {"get", "items", "keys", "values", "copy"};
const char* const kDictUnsafe[] = {"update", "pop", "popitem", "setdefault", "clear"};
const char* const kListMethods[] = {"index", "count", "copy"};
const char* const kListUnsafe[] = {"append", "extend", "pop",     "insert",
                                   "remove", "sort",   "reverse", "clear"};

template <size_t N>
bool one_of(const std::string& name, const char* const (&names)[N]) {
  for (const char* n : names)
    if (name == n) return true;
  return false;
}

Value dict_method(const std::string& name, const Value& self, CallArgs& a) {
  const Dict& d = self.dict_ref();
  if (name == "get") {
    const Value* v = d.find(a.get(0, "key"));
    return v ? *v : a.get(1, "default", Value::none());
  }
  if (name == "copy") {
    Value c = Value::dict();
    c.dict_ref().items = d.items;
    return c;
  }
  std::vector<Value> out;
  for (const auto& [k, v] : d.items) {
    if (name == "items")
      out.push_back(Value::tuple({k, v}));
    else
      out.push_back(name == "keys" ? k : v);
  }
  return Value::list(std::move(out));
}

Value list_method(const std::string& name, const Value& self, CallArgs& a) {
  const auto& items = self.items();
  if (name == "copy") return Value::list(items);
  const Value x = a.get(0, "value");
  int64_t n = 0;
  for (size_t i = 0; i < items.size(); ++i)
    if (equal(items[i], x)) {
      if (name == "index") return Value(static_cast<int64_t>(i));
      ++n;
    }
  if (name == "index") throw Error(x.repr() + " is not in list");
  return Value(n);
}

Value bound(const std::string& name, const Value& self,
            Value (*fn)(const std::string&, const Value&, CallArgs&)) {
  return Value::callable(name, [name, self, fn](CallArgs& a) {
    a.callee = name;
    return fn(name, self, a);
  });
}

std::string object_name(const Value& v) {
  if (v.is_none()) return "None";
  return "'" + v.type_name() + " object'";
}

int64_t index_of(const Value& key, size_t size, bool* ok) {
  int64_t i = key.integer();
  if (i < 0) i += static_cast<int64_t>(size);
  *ok = i >= 0 && i < static_cast<int64_t>(size);
  return i;
}

}  // namespace

std::string py_strip_chars(const std::string& s, const std::string* chars, bool left, bool right) {
  const auto cs = utf8_chars(s);
  std::vector<std::string> strip_set;
  if (chars) strip_set = utf8_chars(*chars);
  auto strip = [&](const std::string& ch) {
    if (!chars) return py_space(utf8_code_point(ch));
    return std::find(strip_set.begin(), strip_set.end(), ch) != strip_set.end();
  };
  size_t b = 0, e = cs.size();
  if (left)
    while (b < e && strip(cs[b])) ++b;
  if (right)
    while (e > b && strip(cs[e - 1])) --e;
  std::string out;
  for (size_t i = b; i < e; ++i) out += cs[i];
  return out;
}

Value get_attr(const Value& obj, const std::string& name) {
  switch (obj.kind()) {
    case Value::Kind::kUndefined:
      throw Error(obj.str_ref().empty() ? "'" + name + "' of an undefined value" : obj.str_ref());
    case Value::Kind::kString:
      if (one_of(name, kStrMethods)) return bound(name, obj, str_method);
      break;
    case Value::Kind::kDict:
      if (one_of(name, kDictMethods)) return bound(name, obj, dict_method);
      if (one_of(name, kDictUnsafe))
        throw Error("access to attribute '" + name + "' of 'dict' object is unsafe.");
      if (const Value* v = obj.dict_ref().find(name)) return *v;
      break;
    case Value::Kind::kNamespace:
      if (const Value* v = obj.dict_ref().find(name)) return *v;
      break;
    case Value::Kind::kList:
    case Value::Kind::kTuple:
      if (one_of(name, kListMethods)) return bound(name, obj, list_method);
      if (obj.kind() == Value::Kind::kList && one_of(name, kListUnsafe))
        throw Error("access to attribute '" + name + "' of 'list' object is unsafe.");
      break;
    default:
      break;
  }
  return Value::undefined(object_name(obj) + " has no attribute '" + name + "'");
}

Value get_item(const Value& obj, const Value& key) {
  switch (obj.kind()) {
    case Value::Kind::kUndefined:
      throw Error(obj.str_ref().empty() ? "an undefined value has no items" : obj.str_ref());
    case Value::Kind::kDict:
      if (const Value* v = obj.dict_ref().find(key)) return *v;
      break;
    case Value::Kind::kList:
    case Value::Kind::kTuple:
      if (key.is_int()) {
        bool ok;
        const int64_t i = index_of(key, obj.items().size(), &ok);
        if (ok) return obj.items()[static_cast<size_t>(i)];
        return Value::undefined(object_name(obj) + " has no element " + key.repr());
      }
      break;
    case Value::Kind::kString:
      if (key.is_int()) {
        const auto chars = utf8_chars(obj.str_ref());
        bool ok;
        const int64_t i = index_of(key, chars.size(), &ok);
        if (ok) return Value(chars[static_cast<size_t>(i)]);
        return Value::undefined(object_name(obj) + " has no element " + key.repr());
      }
      break;
    default:
      break;
  }
  if (key.is_string()) return get_attr(obj, key.str_ref());
  return Value::undefined(object_name(obj) + " has no element " + key.repr());
}

Value get_slice(const Value& obj, const Value& start, const Value& stop, const Value& step) {
  std::vector<Value> seq;
  if (obj.is_string()) {
    for (auto& c : utf8_chars(obj.str_ref())) seq.emplace_back(std::move(c));
  } else if (obj.is_sequence()) {
    seq = obj.items();
  } else if (obj.is_undefined()) {
    throw Error(obj.str_ref().empty() ? "an undefined value cannot be sliced" : obj.str_ref());
  } else {
    throw Error("'" + obj.type_name() + "' object is not subscriptable");
  }
  const auto n = static_cast<int64_t>(seq.size());
  auto opt = [](const Value& v, const char* what) -> std::optional<int64_t> {
    if (v.is_undefined() || v.is_none()) return std::nullopt;
    if (!v.is_int()) throw Error(std::string("slice ") + what + " must be an integer or None");
    return v.integer();
  };
  const int64_t st = opt(step, "step").value_or(1);
  if (st == 0) throw Error("slice step cannot be zero");
  auto clamp = [&](std::optional<int64_t> v, int64_t dflt) {
    if (!v) return dflt;
    int64_t x = *v < 0 ? *v + n : *v;
    if (st > 0) return std::clamp<int64_t>(x, 0, n);
    return std::clamp<int64_t>(x, -1, n - 1);
  };
  const int64_t b = clamp(opt(start, "start"), st > 0 ? 0 : n - 1);
  const int64_t e = clamp(opt(stop, "stop"), st > 0 ? n : -1);
  std::vector<Value> out;
  for (int64_t i = b; st > 0 ? i < e : i > e; i += st) out.push_back(seq[static_cast<size_t>(i)]);
  if (obj.is_string()) {
    std::string s;
    for (const auto& v : out) s += v.str_ref();
    return Value(std::move(s));
  }
  return obj.kind() == Value::Kind::kTuple ? Value::tuple(std::move(out))
                                           : Value::list(std::move(out));
}

namespace {

Value range_fn(CallArgs& a) {
  for (const auto& v : a.args)
    if (!v.is_int()) throw Error("range() arguments must be integers, not " + v.type_name());
  int64_t start = 0, stop = 0, step = 1;
  if (a.args.size() == 1) {
    stop = a.args[0].integer();
  } else if (a.args.size() >= 2) {
    start = a.args[0].integer();
    stop = a.args[1].integer();
    if (a.args.size() >= 3) step = a.args[2].integer();
  } else {
    throw Error("range expected at least 1 argument, got 0");
  }
  if (step == 0) throw Error("range() arg 3 must not be zero");
  std::vector<Value> out;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
    out.emplace_back(i);
    if (out.size() > 100000) throw Error("range too big (more than 100000 items)");
  }
  return Value::list(std::move(out));
}

Value mapping_from_args(CallArgs& a, Value target, bool check_underscore) {
  for (const auto& v : a.args) {
    if (!v.is_mapping())
      throw Error("namespace()/dict() takes a mapping as its positional argument");
    for (const auto& [k, x] : v.dict_ref().items) target.dict_ref().set(k, x);
  }
  for (const auto& [k, v] : a.kwargs) {
    if (check_underscore && !k.empty() && k[0] == '_')
      throw Error(
          "Chat templates cannot store underscore-prefixed attributes on a namespace, but got '" +
          k + "'. Please rename the attribute.");
    target.dict_ref().set(Value(k), v);
  }
  return target;
}

}  // namespace

Value global_value(const std::string& name, const std::tm& now) {
  if (name == "range") return Value::callable("range", range_fn);
  if (name == "namespace")
    return Value::callable("namespace",
                           [](CallArgs& a) { return mapping_from_args(a, Value::ns(), true); });
  if (name == "dict")
    return Value::callable("dict",
                           [](CallArgs& a) { return mapping_from_args(a, Value::dict(), false); });
  if (name == "raise_exception")
    return Value::callable("raise_exception", [](CallArgs& a) -> Value {
      throw TemplateRaised(a.get(0, "message").to_str());
    });
  if (name == "strftime_now")
    return Value::callable("strftime_now", [now](CallArgs& a) {
      const Value f = a.get(0, "format");
      if (!f.is_string()) throw Error("strftime_now() takes a format string");
      char buf[512];
      const size_t n = std::strftime(buf, sizeof buf, f.str_ref().c_str(), &now);
      return Value(std::string(buf, n));
    });
  return Value();
}

}  // namespace r1::jinja
