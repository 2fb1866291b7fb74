// The syntax tree of a parsed Jinja template: expressions and statements, each with the line it
// came from (for error messages). Built by jinja_parser, walked by the interpreter in jinja.cpp.
#pragma once

#include <memory>  // std::unique_ptr
#include <string>  // std::string
#include <vector>  // std::vector

#include "toolkit/jinja_value.h"  // r1::jinja::Value

namespace r1::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    kLiteral,   // value
    kName,      // name
    kList,      // items
    kTuple,     // items
    kDict,      // items: key, value, key, value...
    kAttr,      // items[0].name
    kItem,      // items[0][items[1]]
    kSlice,     // items[0][items[1]:items[2]:items[3]] (null parts allowed)
    kCall,      // items[0](items[1..]); the last kwarg_names.size() arguments are keyword ones
    kFilter,    // items[0] | name(items[1..]) (items[0] null inside a `filter` block or map())
    kTest,      // items[0] is [not] name(items[1..])
    kUnary,     // op items[0]: "-", "+", "not"
    kBinary,    // items[0] op items[1]: + - * / // % ** ~ and or in "not in" == != < <= > >=
    kCompare,   // items[0] ops[0] items[1] ops[1] items[2]...: chained comparisons
    kCondition  // items[1] if items[0] else items[2] (items[2] null: undefined)
  };
  Kind kind;
  int line = 0;
  std::string name;  // names, attributes, filters, tests, operators
  Value value;       // literals
  bool negated = false;
  std::vector<ExprPtr> items;
  std::vector<std::string>
      kwarg_names;  // keyword argument names of calls, filters and tests ("*"/"**": spread)
  std::vector<std::string> ops;  // comparison operators of kCompare
};

struct Node;
using NodePtr = std::unique_ptr<Node>;
using Body = std::vector<NodePtr>;

struct Node {
  enum class Kind {
    kText,    // text
    kOutput,  // {{ expr }}
    kIf,  // conds[i] -> bodies[i]; bodies.back() is the else body when conds.size() < bodies.size()
    kFor,          // for targets in expr [if cond] body [else else_body]
    kSet,          // targets = expr  (a single target "ns.attr" sets a namespace attribute)
    kSetBlock,     // {% set target %}body{% endset %}, filters applied
    kMacro,        // macro name(params=defaults) body
    kCallBlock,    // {% call(params) expr %}body{% endcall %}
    kFilterBlock,  // {% filter f %}body{% endfilter %}
    kBreak,
    kContinue,
    kScope  // generation / with blocks: just their body (with: in a new scope, after sets)
  };
  Kind kind;
  int line = 0;
  std::string text;
  std::vector<std::string> targets;  // for/set targets; macro and call-block parameter names
  std::vector<ExprPtr> defaults;     // macro/call parameter defaults (null: none)
  ExprPtr expr;                      // output, for iterable, set value, call expression
  ExprPtr cond;                      // for ... if cond
  std::vector<ExprPtr> conds;        // if/elif conditions
  std::vector<Body> bodies;          // if branches; [0] is the body of the other kinds
  Body else_body;                    // for ... else
  std::vector<ExprPtr> filters;      // set-block / filter-block filters (kFilter with null subject)
  std::vector<std::pair<std::string, ExprPtr>> with_vars;  // with a=1, b=2
  bool new_scope = false;                                  // kScope: with-block
  bool uses_loop = true;  // kFor: the body reads `loop` (else no loop object is made)
};

struct Program {
  Body body;
  std::string origin;  // where the template came from, for error messages
};

}  // namespace r1::jinja
