// Jinja2's filters and tests (see jinja_builtins.h), with transformers' tojson override
// (json.dumps with ensure_ascii=False, indent, separators, sort_keys).
#include <algorithm>  // std::stable_sort, std::reverse
#include <cmath>      // std::round, std::trunc
#include <map>        // std::map

#include "toolkit/error.h"           // r1::Error
#include "toolkit/jinja_builtins.h"  // r1::jinja::call_filter

namespace r1::jinja {
namespace {

using FilterFn = Value (*)(const Value& v, CallArgs& a);
using TestFn = bool (*)(const Value& v, CallArgs& a);

size_t length_of(const Value& v) {
  if (v.is_undefined()) return 0;
  if (v.is_string()) return utf8_length(v.str_ref());
  if (v.is_sequence()) return v.items().size();
  if (v.is_mapping()) return v.dict_ref().items.size();
  throw Error("object of type '" + v.type_name() + "' has no len()");
}

// environment.getitem along a dotted path ("a.b" or "0"), as make_attrgetter does: with a
// `fallback`, an undefined step becomes the fallback before the next step.
Value attribute_path(const Value& v, const std::string& path, const Value* fallback = nullptr) {
  Value cur = v;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string part =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    const bool digits = !part.empty() && part.find_first_not_of("0123456789") == std::string::npos;
    cur = digits ? get_item(cur, Value(static_cast<int64_t>(std::stoll(part))))
                 : get_item(cur, Value(part));
    if (fallback && cur.is_undefined()) cur = *fallback;
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
}

std::string str_arg(const CallArgs& a, size_t pos, const char* name, const std::string& fallback) {
  const Value v = a.get(pos, name);
  if (v.is_undefined() || v.is_none()) return fallback;
  return v.to_str();
}

// The rest of a filter's positional arguments after `skip`, for select/map style calls.
CallArgs rest_args(const CallArgs& a, size_t skip, const std::string& callee) {
  CallArgs r;
  r.callee = callee;
  for (size_t i = skip; i < a.args.size(); ++i) r.args.push_back(a.args[i]);
  r.kwargs = a.kwargs;
  return r;
}

Value f_tojson(const Value& v, CallArgs& a) {
  const Value indent = a.get(1, "indent", Value::none());
  const Value seps = a.get(2, "separators", Value::none());
  const bool sort_keys = a.get(3, "sort_keys", Value(false)).truthy();
  const bool ensure_ascii = a.get(0, "ensure_ascii", Value(false)).truthy();
  int ind = -1;
  if (indent.is_int())
    ind = static_cast<int>(std::max<int64_t>(0, indent.integer()));
  else if (!indent.is_none())
    throw Error("tojson: indent must be an integer");
  std::string item_sep, key_sep;
  const std::string* is = nullptr;
  const std::string* ks = nullptr;
  if (!seps.is_none()) {
    if (!seps.is_sequence() || seps.items().size() != 2)
      throw Error("tojson: separators must be a pair of strings");
    item_sep = seps.items()[0].to_str();
    key_sep = seps.items()[1].to_str();
    is = &item_sep;
    ks = &key_sep;
  }
  std::string out = v.to_json(ind, is, ks, sort_keys);
  if (!ensure_ascii) return Value(std::move(out));
  std::string esc;
  for (const auto& ch : utf8_chars(out)) {
    if (static_cast<unsigned char>(ch[0]) < 0x80) {
      esc += ch;
      continue;
    }
    uint32_t cp = utf8_code_point(ch);
    char b[16];
    if (cp >= 0x10000) {
      cp -= 0x10000;
      std::snprintf(b, sizeof b, "\\u%04x\\u%04x", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF));
    } else {
      std::snprintf(b, sizeof b, "\\u%04x", cp);
    }
    esc += b;
  }
  return Value(std::move(esc));
}

Value f_indent(const Value& v, CallArgs& a) {
  const Value w = a.get(0, "width", Value(4));
  const std::string ind =
      w.is_string() ? w.str_ref()
                    : std::string(static_cast<size_t>(std::max<int64_t>(0, w.integer())), ' ');
  const bool first = a.get(1, "first", Value(false)).truthy();
  const bool blank = a.get(2, "blank", Value(false)).truthy();
  CallArgs none;
  const Value lines_v = get_attr(Value(v.to_str() + "\n"), "splitlines").call(none);
  const auto& lines = lines_v.items();
  std::string rv;
  if (blank) {
    for (size_t i = 0; i < lines.size(); ++i) rv += (i ? "\n" + ind : "") + lines[i].str_ref();
  } else {
    rv = lines.empty() ? "" : lines[0].str_ref();
    for (size_t i = 1; i < lines.size(); ++i)
      rv += "\n" + (lines[i].str_ref().empty() ? "" : ind) + lines[i].str_ref();
  }
  return Value(first ? ind + rv : rv);
}

Value f_default(const Value& v, CallArgs& a) {
  const bool boolean = a.get(1, "boolean", Value(false)).truthy();
  if (v.is_undefined() || (boolean && !v.truthy())) return a.get(0, "default_value", Value(""));
  return v;
}

Value f_join(const Value& v, CallArgs& a) {
  const std::string sep = str_arg(a, 0, "d", "");
  const Value attr = a.get(1, "attribute");
  std::string out;
  bool first = true;
  for (const auto& e : v.iterate()) {
    if (!first) out += sep;
    first = false;
    out += (attr.is_undefined() || attr.is_none() ? e : attribute_path(e, attr.to_str())).to_str();
  }
  return Value(std::move(out));
}

Value f_first(const Value& v, CallArgs&) {
  const auto items = v.iterate();
  if (items.empty()) return Value::undefined("No first item, sequence was empty.");
  return items.front();
}

Value f_last(const Value& v, CallArgs&) {
  const auto items = v.iterate();
  if (items.empty()) return Value::undefined("No last item, sequence was empty.");
  return items.back();
}

Value f_int(const Value& v, CallArgs& a) {
  const Value dflt = a.get(0, "default", Value(0));
  if (v.is_int()) return Value(v.integer());
  if (v.kind() == Value::Kind::kFloat) return Value(static_cast<int64_t>(std::trunc(v.number())));
  if (v.is_string()) {
    const std::string s = py_strip_chars(v.str_ref(), nullptr, true, true);
    try {
      size_t used = 0;
      const int64_t base = a.get(1, "base", Value(10)).integer();
      const long long n = std::stoll(s, &used, static_cast<int>(base));
      if (used == s.size()) return Value(static_cast<int64_t>(n));
    } catch (const std::exception&) {
    }
    try {
      size_t used = 0;
      const double d = std::stod(s, &used);
      if (used == s.size()) return Value(static_cast<int64_t>(std::trunc(d)));
    } catch (const std::exception&) {
    }
  }
  return dflt;
}

Value f_float(const Value& v, CallArgs& a) {
  const Value dflt = a.get(0, "default", Value(0.0));
  if (v.is_number()) return Value(v.number());
  if (v.is_string()) {
    try {
      size_t used = 0;
      const std::string s = py_strip_chars(v.str_ref(), nullptr, true, true);
      const double d = std::stod(s, &used);
      if (used == s.size()) return Value(d);
    } catch (const std::exception&) {
    }
  }
  return dflt;
}

Value f_items(const Value& v, CallArgs&) {
  if (v.is_undefined()) return Value::list();
  if (!v.is_mapping())
    throw Error("items filter: can only get item pairs from a mapping, not " + v.type_name());
  std::vector<Value> out;
  for (const auto& [k, x] : v.dict_ref().items) out.push_back(Value::tuple({k, x}));
  return Value::list(std::move(out));
}

Value f_list(const Value& v, CallArgs&) { return Value::list(v.iterate()); }
Value f_string(const Value& v, CallArgs&) { return Value(v.to_str()); }
Value f_length(const Value& v, CallArgs&) { return Value(static_cast<int64_t>(length_of(v))); }
Value f_safe(const Value& v, CallArgs&) {
  return v.is_string() ? Value::markup(v.str_ref()) : Value::markup(v.to_str());
}

Value method_on_str(const Value& v, const char* method, CallArgs& a) {
  return get_attr(Value(v.to_str()), method).call(a);
}
Value f_upper(const Value& v, CallArgs& a) { return method_on_str(v, "upper", a); }
Value f_lower(const Value& v, CallArgs& a) { return method_on_str(v, "lower", a); }
Value f_trim(const Value& v, CallArgs& a) { return method_on_str(v, "strip", a); }
Value f_replace(const Value& v, CallArgs& a) { return method_on_str(v, "replace", a); }

Value f_capitalize(const Value& v, CallArgs&) {
  CallArgs none;
  const std::string s = v.to_str();
  return get_attr(Value(s), "capitalize").call(none);
}

// Jinja's title: words split at runs of "-", whitespace and opening brackets.
Value f_title(const Value& v, CallArgs&) {
  const auto chars = utf8_chars(v.to_str());
  std::string out;
  bool word_start = true;
  CallArgs none;
  for (const auto& ch : chars) {
    const bool sep = ch == "-" || ch == "(" || ch == "{" || ch == "[" || ch == "<" ||
                     py_strip_chars(ch, nullptr, true, true).empty();
    if (sep) {
      out += ch;
      word_start = true;
      continue;
    }
    out += get_attr(Value(ch), word_start ? "upper" : "lower").call(none).str_ref();
    word_start = false;
  }
  return Value(std::move(out));
}

Value f_escape(const Value& v, CallArgs&) {
  return v.is_markup() ? v : Value::markup(escape_html(v.to_str()));
}

Value f_reverse(const Value& v, CallArgs&) {
  if (v.is_string()) {
    auto chars = utf8_chars(v.str_ref());
    std::reverse(chars.begin(), chars.end());
    std::string out;
    for (const auto& c : chars) out += c;
    return Value(std::move(out));
  }
  auto items = v.iterate();
  std::reverse(items.begin(), items.end());
  return Value::list(std::move(items));
}

Value sort_key(const Value& v, const Value& attr, bool case_sensitive) {
  Value k = attr.is_undefined() || attr.is_none() ? v : attribute_path(v, attr.to_str());
  if (!case_sensitive && k.is_string()) {
    CallArgs none;
    return get_attr(k, "lower").call(none);
  }
  return k;
}

Value f_sort(const Value& v, CallArgs& a) {
  const bool rev = a.get(0, "reverse", Value(false)).truthy();
  const bool cs = a.get(1, "case_sensitive", Value(false)).truthy();
  const Value attr = a.get(2, "attribute");
  auto items = v.iterate();
  std::vector<std::pair<Value, Value>> keyed;
  for (auto& e : items) keyed.emplace_back(sort_key(e, attr, cs), e);
  std::stable_sort(keyed.begin(), keyed.end(), [rev](const auto& x, const auto& y) {
    return rev ? less(y.first, x.first) : less(x.first, y.first);
  });
  std::vector<Value> out;
  for (auto& kv : keyed) out.push_back(kv.second);
  return Value::list(std::move(out));
}

Value f_dictsort(const Value& v, CallArgs& a) {
  const bool cs = a.get(0, "case_sensitive", Value(false)).truthy();
  const std::string by = str_arg(a, 1, "by", "key");
  const bool rev = a.get(2, "reverse", Value(false)).truthy();
  if (!v.is_mapping()) throw Error("dictsort: a mapping is required, not " + v.type_name());
  std::vector<Value> pairs;
  for (const auto& [k, x] : v.dict_ref().items) pairs.push_back(Value::tuple({k, x}));
  const size_t pos = by == "value" ? 1 : 0;
  std::stable_sort(pairs.begin(), pairs.end(), [&](const Value& x, const Value& y) {
    const Value kx = sort_key(x.items()[pos], Value(), cs),
                ky = sort_key(y.items()[pos], Value(), cs);
    return rev ? less(ky, kx) : less(kx, ky);
  });
  return Value::list(std::move(pairs));
}

Value f_unique(const Value& v, CallArgs& a) {
  const bool cs = a.get(0, "case_sensitive", Value(false)).truthy();
  const Value attr = a.get(1, "attribute");
  std::vector<Value> seen, out;
  for (const auto& e : v.iterate()) {
    const Value k = sort_key(e, attr, cs);
    bool dup = false;
    for (const auto& s : seen) dup = dup || equal(s, k);
    if (dup) continue;
    seen.push_back(k);
    out.push_back(e);
  }
  return Value::list(std::move(out));
}

Value f_min_max(const Value& v, CallArgs& a, bool want_max) {
  const bool cs = a.get(0, "case_sensitive", Value(false)).truthy();
  const Value attr = a.get(1, "attribute");
  const auto items = v.iterate();
  if (items.empty())
    return Value::undefined(std::string("No aggregated item, sequence was empty."));
  size_t best = 0;
  for (size_t i = 1; i < items.size(); ++i) {
    const Value ki = sort_key(items[i], attr, cs), kb = sort_key(items[best], attr, cs);
    if (want_max ? less(kb, ki) : less(ki, kb)) best = i;
  }
  return items[best];
}
Value f_min(const Value& v, CallArgs& a) { return f_min_max(v, a, false); }
Value f_max(const Value& v, CallArgs& a) { return f_min_max(v, a, true); }

Value f_sum(const Value& v, CallArgs& a) {
  const Value attr = a.get(0, "attribute");
  Value total = a.get(1, "start", Value(0));
  for (const auto& e : v.iterate())
    total = binary_op("+", total,
                      attr.is_undefined() || attr.is_none() ? e : attribute_path(e, attr.to_str()));
  return total;
}

Value f_abs(const Value& v, CallArgs&) {
  if (v.kind() == Value::Kind::kFloat) return Value(std::fabs(v.number()));
  if (v.is_int()) return Value(v.integer() < 0 ? -v.integer() : v.integer());
  throw Error("bad operand type for abs(): '" + v.type_name() + "'");
}

Value f_round(const Value& v, CallArgs& a) {
  const int64_t prec = a.get(0, "precision", Value(0)).integer();
  const std::string method = str_arg(a, 1, "method", "common");
  if (!v.is_number()) throw Error("round: a number is required, not " + v.type_name());
  const double scale = std::pow(10.0, static_cast<double>(prec));
  const double x = v.number() * scale;
  double r;
  if (method == "ceil")
    r = std::ceil(x);
  else if (method == "floor")
    r = std::floor(x);
  else if (method == "common")
    r = std::nearbyint(x);  // Python's round: half to even
  else
    throw Error("round: method must be common, ceil or floor");
  return Value(r / scale);
}

Value f_wordcount(const Value& v, CallArgs&) {
  int64_t n = 0;
  bool in_word = false;
  for (const auto& ch : utf8_chars(v.to_str())) {
    const bool w = ch.size() > 1 || std::isalnum(static_cast<unsigned char>(ch[0])) || ch == "_";
    if (w && !in_word) ++n;
    in_word = w;
  }
  return Value(n);
}

Value f_center(const Value& v, CallArgs& a) {
  const std::string s = v.to_str();
  const auto width =
      static_cast<size_t>(std::max<int64_t>(0, a.get(0, "width", Value(80)).integer()));
  const size_t len = utf8_length(s);
  if (len >= width) return Value(s);
  const size_t pad = width - len, left = pad / 2 + (pad & width & 1);
  return Value(std::string(left, ' ') + s + std::string(pad - left, ' '));
}

Value f_format(const Value& v, CallArgs& a) {
  if (!a.kwargs.empty()) {
    Value d = Value::dict();
    for (const auto& [k, x] : a.kwargs) d.dict_ref().set(Value(k), x);
    return binary_op("%", Value(v.to_str()), d);
  }
  return binary_op("%", Value(v.to_str()), Value::tuple(a.args));
}

Value f_attr(const Value& v, CallArgs& a) { return get_attr(v, str_arg(a, 0, "name", "")); }

Value f_batch(const Value& v, CallArgs& a) {
  const int64_t n = a.get(0, "linecount").integer();
  if (n <= 0) throw Error("batch: linecount must be positive");
  const Value fill = a.get(1, "fill_with", Value::none());
  std::vector<Value> out, cur;
  for (const auto& e : v.iterate()) {
    cur.push_back(e);
    if (static_cast<int64_t>(cur.size()) == n) {
      out.push_back(Value::list(std::move(cur)));
      cur.clear();
    }
  }
  if (!cur.empty()) {
    if (!fill.is_none())
      while (static_cast<int64_t>(cur.size()) < n) cur.push_back(fill);
    out.push_back(Value::list(std::move(cur)));
  }
  return Value::list(std::move(out));
}

Value f_truncate(const Value& v, CallArgs& a) {
  const auto chars = utf8_chars(v.to_str());
  const auto length = static_cast<size_t>(a.get(0, "length", Value(255)).integer());
  const bool killwords = a.get(1, "killwords", Value(false)).truthy();
  const std::string end = str_arg(a, 2, "end", "...");
  const Value lw = a.get(3, "leeway", Value::none());
  const size_t leeway = lw.is_int() ? static_cast<size_t>(lw.integer()) : 5;
  if (chars.size() <= length + leeway) return Value(v.to_str());
  const size_t keep = length >= utf8_length(end) ? length - utf8_length(end) : 0;
  std::string out;
  for (size_t i = 0; i < keep; ++i) out += chars[i];
  if (!killwords) {
    const size_t sp = out.rfind(' ');
    if (sp != std::string::npos) out.resize(sp);
  }
  return Value(out + end);
}

// select / reject / selectattr / rejectattr.
Value select_impl(const Value& v, CallArgs& a, bool with_attr, bool keep) {
  const size_t skip = with_attr ? 1 : 0;
  const std::string attr = with_attr ? str_arg(a, 0, "attribute", "") : "";
  const bool has_test = a.args.size() > skip;
  const std::string test = has_test ? a.args[skip].to_str() : "";
  if (has_test && !is_test(test)) throw Error("No test named '" + test + "'.");
  std::vector<Value> out;
  if (!v.truthy()) return Value::list();  // Jinja: `if value:` before iterating
  for (const auto& e : v.iterate()) {
    const Value x = with_attr ? attribute_path(e, attr) : e;
    CallArgs ta = rest_args(a, skip + 1, test);
    ta.kwargs.clear();
    const bool pass = has_test ? call_test(test, x, ta) : x.truthy();
    if (pass == keep) out.push_back(e);
  }
  return Value::list(std::move(out));
}
Value f_select(const Value& v, CallArgs& a) { return select_impl(v, a, false, true); }
Value f_reject(const Value& v, CallArgs& a) { return select_impl(v, a, false, false); }
Value f_selectattr(const Value& v, CallArgs& a) { return select_impl(v, a, true, true); }
Value f_rejectattr(const Value& v, CallArgs& a) { return select_impl(v, a, true, false); }

Value f_map(const Value& v, CallArgs& a) {
  std::vector<Value> out;
  if (!v.truthy()) return Value::list();  // Jinja: `if value:` before iterating
  const Value attr = a.get(static_cast<size_t>(-1), "attribute");
  if (!attr.is_undefined()) {
    const Value dflt = a.get(static_cast<size_t>(-1), "default");
    const bool has_default = !dflt.is_undefined() && !dflt.is_none();
    for (const auto& e : v.iterate())
      out.push_back(attribute_path(e, attr.to_str(), has_default ? &dflt : nullptr));
    return Value::list(std::move(out));
  }
  if (a.args.empty()) throw Error("map requires a filter argument");
  const std::string filter = a.args[0].to_str();
  if (!is_filter(filter)) throw Error("No filter named '" + filter + "'.");
  for (const auto& e : v.iterate()) {
    CallArgs fa = rest_args(a, 1, filter);
    out.push_back(call_filter(filter, e, fa));
  }
  return Value::list(std::move(out));
}

const std::map<std::string, FilterFn>& filters() {
  static const std::map<std::string, FilterFn> m = {
      {"abs", f_abs},
      {"attr", f_attr},
      {"batch", f_batch},
      {"capitalize", f_capitalize},
      {"center", f_center},
      {"count", f_length},
      {"d", f_default},
      {"default", f_default},
      {"dictsort", f_dictsort},
      {"e", f_escape},
      {"escape", f_escape},
      {"first", f_first},
      {"float", f_float},
      {"format", f_format},
      {"indent", f_indent},
      {"int", f_int},
      {"items", f_items},
      {"join", f_join},
      {"last", f_last},
      {"length", f_length},
      {"list", f_list},
      {"lower", f_lower},
      {"map", f_map},
      {"max", f_max},
      {"min", f_min},
      {"reject", f_reject},
      {"rejectattr", f_rejectattr},
      {"replace", f_replace},
      {"reverse", f_reverse},
      {"round", f_round},
      {"safe", f_safe},
      {"select", f_select},
      {"selectattr", f_selectattr},
      {"sort", f_sort},
      {"string", f_string},
      {"sum", f_sum},
      {"title", f_title},
      {"tojson", f_tojson},
      {"trim", f_trim},
      {"truncate", f_truncate},
      {"unique", f_unique},
      {"upper", f_upper},
      {"wordcount", f_wordcount},
  };
  return m;
}

// ---- tests ----------------------------------------------------------------------------------

bool t_defined(const Value& v, CallArgs&) { return !v.is_undefined(); }
bool t_undefined(const Value& v, CallArgs&) { return v.is_undefined(); }
bool t_none(const Value& v, CallArgs&) { return v.is_none(); }
bool t_boolean(const Value& v, CallArgs&) { return v.kind() == Value::Kind::kBool; }
bool t_true(const Value& v, CallArgs&) { return v.kind() == Value::Kind::kBool && v.boolean(); }
bool t_false(const Value& v, CallArgs&) { return v.kind() == Value::Kind::kBool && !v.boolean(); }
bool t_integer(const Value& v, CallArgs&) { return v.kind() == Value::Kind::kInt; }
bool t_float(const Value& v, CallArgs&) { return v.kind() == Value::Kind::kFloat; }
bool t_number(const Value& v, CallArgs&) { return v.is_number(); }
bool t_string(const Value& v, CallArgs&) { return v.is_string(); }
bool t_mapping(const Value& v, CallArgs&) { return v.kind() == Value::Kind::kDict; }
bool t_iterable(const Value& v, CallArgs&) {
  return v.is_undefined() || v.is_string() || v.is_sequence() || v.is_mapping();
}
bool t_sequence(const Value& v, CallArgs&) {
  return v.is_string() || v.is_sequence() || v.is_mapping();
}
bool t_callable(const Value& v, CallArgs&) { return v.is_callable(); }
bool t_escaped(const Value&, CallArgs&) { return false; }
bool t_eq(const Value& v, CallArgs& a) { return equal(v, a.get(0, "other")); }
bool t_ne(const Value& v, CallArgs& a) { return !equal(v, a.get(0, "other")); }
bool t_lt(const Value& v, CallArgs& a) { return compare_op("<", v, a.get(0, "other")); }
bool t_le(const Value& v, CallArgs& a) { return compare_op("<=", v, a.get(0, "other")); }
bool t_gt(const Value& v, CallArgs& a) { return compare_op(">", v, a.get(0, "other")); }
bool t_ge(const Value& v, CallArgs& a) { return compare_op(">=", v, a.get(0, "other")); }
bool t_in(const Value& v, CallArgs& a) { return compare_op("in", v, a.get(0, "seq")); }
bool t_sameas(const Value& v, CallArgs& a) {
  const Value o = a.get(0, "other");
  if (v.is_mapping() || v.is_sequence() || o.is_mapping() || o.is_sequence())
    return v.kind() == o.kind() &&
           (v.is_sequence() ? &v.items() == &o.items() : &v.dict_ref() == &o.dict_ref());
  return v.kind() == o.kind() && equal(v, o);
}
int64_t int_subject(const Value& v, const char* test) {
  if (!v.is_int())
    throw Error(std::string("test '") + test + "' needs an integer, not " + v.type_name());
  return v.integer();
}
bool t_odd(const Value& v, CallArgs&) { return int_subject(v, "odd") % 2 != 0; }
bool t_even(const Value& v, CallArgs&) { return int_subject(v, "even") % 2 == 0; }
bool t_divisibleby(const Value& v, CallArgs& a) {
  const int64_t n = a.get(0, "num").integer();
  if (n == 0) throw Error("integer division or modulo by zero");
  return int_subject(v, "divisibleby") % n == 0;
}
bool t_lower(const Value& v, CallArgs&) {
  CallArgs none;
  return get_attr(Value(v.to_str()), "islower").call(none).truthy();
}
bool t_upper(const Value& v, CallArgs&) {
  CallArgs none;
  return get_attr(Value(v.to_str()), "isupper").call(none).truthy();
}
bool t_filter(const Value& v, CallArgs&) { return v.is_string() && is_filter(v.str_ref()); }
bool t_test(const Value& v, CallArgs&) { return v.is_string() && is_test(v.str_ref()); }

const std::map<std::string, TestFn>& tests() {
  static const std::map<std::string, TestFn> m = {
      {"!=", t_ne},
      {"<", t_lt},
      {"<=", t_le},
      {"==", t_eq},
      {">", t_gt},
      {">=", t_ge},
      {"boolean", t_boolean},
      {"callable", t_callable},
      {"defined", t_defined},
      {"divisibleby", t_divisibleby},
      {"eq", t_eq},
      {"equalto", t_eq},
      {"escaped", t_escaped},
      {"even", t_even},
      {"false", t_false},
      {"filter", t_filter},
      {"float", t_float},
      {"ge", t_ge},
      {"greaterthan", t_gt},
      {"gt", t_gt},
      {"in", t_in},
      {"integer", t_integer},
      {"iterable", t_iterable},
      {"le", t_le},
      {"lessthan", t_lt},
      {"lower", t_lower},
      {"lt", t_lt},
      {"mapping", t_mapping},
      {"ne", t_ne},
      {"none", t_none},
      {"number", t_number},
      {"odd", t_odd},
      {"sameas", t_sameas},
      {"sequence", t_sequence},
      {"string", t_string},
      {"test", t_test},
      {"true", t_true},
      {"undefined", t_undefined},
      {"upper", t_upper},
  };
  return m;
}

}  // namespace

bool is_filter(const std::string& name) { return filters().count(name) > 0; }
bool is_test(const std::string& name) { return tests().count(name) > 0; }

Value call_filter(const std::string& name, const Value& subject, CallArgs& args) {
  const auto it = filters().find(name);
  if (it == filters().end()) throw Error("No filter named '" + name + "'.");
  args.callee = name;
  return it->second(subject, args);
}

bool call_test(const std::string& name, const Value& subject, CallArgs& args) {
  const auto it = tests().find(name);
  if (it == tests().end()) throw Error("No test named '" + name + "'.");
  args.callee = name;
  return it->second(subject, args);
}

}  // namespace r1::jinja
