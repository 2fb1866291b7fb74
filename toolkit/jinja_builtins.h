// What a Jinja template can call besides its own macros: Jinja2's filters and tests, the Python
// str/dict/list methods its sandbox allows, the operators, and transformers' globals
// (raise_exception, strftime_now, namespace, dict) next to Jinja's (range, cycler, joiner).
// Errors are r1::Error with Jinja2's / Python's wording; the interpreter adds the line.
#pragma once

#include <ctime>   // std::tm
#include <string>  // std::string

#include "toolkit/jinja_value.h"  // r1::jinja::Value, CallArgs

namespace r1::jinja {

// A template's {{ raise_exception(message) }}: what() is the template's own message.
class TemplateRaised : public std::runtime_error {
 public:
  explicit TemplateRaised(const std::string& message) : std::runtime_error(message) {}
};

bool is_filter(const std::string& name);
bool is_test(const std::string& name);
Value call_filter(const std::string& name, const Value& subject, CallArgs& args);
bool call_test(const std::string& name, const Value& subject, CallArgs& args);

Value get_attr(const Value& obj, const std::string& name);  // obj.name: methods first, then items
Value get_item(const Value& obj, const Value& key);         // obj[key]: items first, then methods
Value get_slice(const Value& obj, const Value& start, const Value& stop, const Value& step);

// + - * / // % ** and ~ ; `in`; comparisons (==, !=, <, <=, >, >=).
Value binary_op(const std::string& op, const Value& a, const Value& b);
bool compare_op(const std::string& op, const Value& a, const Value& b);

// The global `name` (undefined when there is none). `now` is strftime_now's clock.
Value global_value(const std::string& name, const std::tm& now);

// markupsafe's escape: & < > " ' as HTML entities.
std::string escape_html(const std::string& s);

// Python's str.strip()/lstrip()/rstrip(): `chars` (null: Unicode whitespace) removed.
std::string py_strip_chars(const std::string& s, const std::string* chars, bool left, bool right);

}  // namespace r1::jinja
