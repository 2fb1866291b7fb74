// The values a Jinja template computes with, with Python's semantics (Jinja2 runs on Python):
// undefined, None, bool, int, float, str (UTF-8, indexed by code point), list, tuple, dict (ordered
// by insertion, like Python's), namespace and callables. Lists, dicts and namespaces are shared by
// reference, as Python objects are. str()/repr() and json.dumps follow CPython byte for byte for
// the values chat templates print.
#pragma once

#include <cstdint>     // int64_t
#include <functional>  // std::function
#include <memory>      // std::shared_ptr
#include <string>      // std::string
#include <utility>     // std::pair
#include <vector>      // std::vector

#include <nlohmann/json.hpp>  // nlohmann::ordered_json

namespace r1::jinja {

class Value;
struct CallArgs;

using Function = std::function<Value(CallArgs&)>;

struct Dict {
  std::vector<std::pair<Value, Value>> items;  // insertion order
  const Value* find(const Value& key) const;
  const Value* find(const std::string& key) const;
  void set(const Value& key, Value v);
};

class Value {
 public:
  enum class Kind {
    kUndefined,
    kNone,
    kBool,
    kInt,
    kFloat,
    kString,
    kList,
    kTuple,
    kDict,
    kNamespace,
    kCallable
  };

  Value() = default;  // undefined
  static Value undefined(std::string hint) {
    Value v;
    v.s_ = std::move(hint);
    return v;
  }
  static Value none() { return Value(Kind::kNone); }
  // A Markup string (Jinja's `|safe` / `|e`): `markup + str` HTML-escapes the plain side.
  static Value markup(std::string s) {
    Value v(std::move(s));
    v.i_ = 1;
    return v;
  }
  bool is_markup() const { return kind_ == Kind::kString && i_ == 1; }
  Value(bool b) : kind_(Kind::kBool), i_(b) {}     // NOLINT: implicit like Python's
  Value(int v) : kind_(Kind::kInt), i_(v) {}       // NOLINT
  Value(int64_t v) : kind_(Kind::kInt), i_(v) {}   // NOLINT
  Value(double v) : kind_(Kind::kFloat), f_(v) {}  // NOLINT
  Value(std::string s) : kind_(Kind::kString), s_(std::move(s)) {}  // NOLINT
  Value(const char* s) : kind_(Kind::kString), s_(s) {}             // NOLINT
  static Value list(std::vector<Value> items = {});
  static Value tuple(std::vector<Value> items);
  static Value dict();
  static Value ns();
  static Value callable(std::string name, Function f);
  static Value from_json(const nlohmann::ordered_json& j);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_int() const { return kind_ == Kind::kInt || kind_ == Kind::kBool; }
  bool is_number() const { return is_int() || kind_ == Kind::kFloat; }
  bool is_sequence() const { return kind_ == Kind::kList || kind_ == Kind::kTuple; }
  bool is_mapping() const { return kind_ == Kind::kDict || kind_ == Kind::kNamespace; }
  bool is_callable() const { return kind_ == Kind::kCallable; }

  bool boolean() const { return i_ != 0; }
  int64_t integer() const { return i_; }
  double number() const { return kind_ == Kind::kFloat ? f_ : static_cast<double>(i_); }
  const std::string& str_ref() const { return s_; }  // the text of a string; an undefined's hint
  std::vector<Value>& items() const { return *list_; }
  Dict& dict_ref() const { return *dict_; }
  const std::string& callable_name() const { return s_; }
  Value call(CallArgs& args) const { return (*fn_)(args); }

  bool truthy() const;
  std::string type_name() const;  // Python's: 'str', 'dict object' style names come from callers
  std::string to_str() const;     // Python str()
  std::string repr() const;       // Python repr()
  // json.dumps(v, ensure_ascii=False, indent, separators, sort_keys).
  std::string to_json(int indent = -1, const std::string* item_sep = nullptr,
                      const std::string* key_sep = nullptr, bool sort_keys = false) const;
  nlohmann::ordered_json to_json_value() const;
  // The elements a `for` loop or list() sees: a list's items, a dict's keys, a string's characters.
  std::vector<Value> iterate() const;

 private:
  explicit Value(Kind k) : kind_(k) {}
  Kind kind_ = Kind::kUndefined;
  int64_t i_ = 0;
  double f_ = 0;
  std::string s_;
  std::shared_ptr<std::vector<Value>> list_;
  std::shared_ptr<Dict> dict_;
  std::shared_ptr<Function> fn_;
};

// Positional and keyword arguments of a call.
struct CallArgs {
  std::vector<Value> args;
  std::vector<std::pair<std::string, Value>> kwargs;
  std::string callee;  // for error messages
  // The argument by position or name, or `fallback` when neither was passed.
  Value get(size_t pos, const std::string& name, Value fallback = Value()) const;
  bool has(size_t pos, const std::string& name) const;
};

bool equal(const Value& a, const Value& b);
// a < b, Python's ordering for numbers, strings and sequences; throws r1::Error on other types.
bool less(const Value& a, const Value& b);

// Python's float repr: the shortest string that reads back to the same double.
std::string py_float_repr(double d);
// Python's repr of a str.
std::string py_str_repr(const std::string& s);

// UTF-8 code points of `s` (invalid bytes pass as single code points of their byte value).
std::vector<std::string> utf8_chars(const std::string& s);
size_t utf8_length(const std::string& s);
// The code point of the first character of `ch` (an invalid byte: its value).
uint32_t utf8_code_point(const std::string& ch);

}  // namespace r1::jinja
