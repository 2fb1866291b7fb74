// The Jinja interpreter (see jinja.h): walks the Program that jinja_parser built, with Jinja2's
// scoping (a for-loop iteration, a macro call and a with-block each get their own scope; if-blocks
// do not), loop variables, macros and call blocks, and a budget that stops runaway templates.
#include "toolkit/jinja.h"

#include <ctime>    // std::time, localtime_r
#include <utility>  // std::exchange

#include "toolkit/error.h"           // r1::Error
#include "toolkit/jinja_ast.h"       // r1::jinja::Program
#include "toolkit/jinja_builtins.h"  // r1::jinja::call_filter
#include "toolkit/jinja_parser.h"    // r1::jinja::parse_template

namespace r1::jinja {
namespace {

constexpr int64_t kMaxSteps = 10'000'000;  // loop iterations and macro calls per render
constexpr size_t kMaxOutput = 256u << 20;  // bytes a render may produce
constexpr int kMaxDepth = 200;             // nested macro calls

// An r1::Error that already names the template and line.
class LocatedError : public Error {
 public:
  using Error::Error;
};

struct Scope {
  std::vector<std::pair<std::string, Value>> vars;
  std::shared_ptr<Scope> parent;

  const Value* find(const std::string& name) const {
    for (const Scope* s = this; s; s = s->parent.get())
      for (const auto& [k, v] : s->vars)
        if (k == name) return &v;
    return nullptr;
  }
  void set(const std::string& name, Value v) {
    for (auto& [k, old] : vars)
      if (k == name) {
        old = std::move(v);
        return;
      }
    vars.emplace_back(name, std::move(v));
  }
};
using ScopePtr = std::shared_ptr<Scope>;

ScopePtr child(const ScopePtr& parent) {
  auto s = std::make_shared<Scope>();
  s->parent = parent;
  return s;
}

enum class Flow { kNormal, kBreak, kContinue };

class Interp {
 public:
  Interp(const Program& p, const std::tm& now) : p_(p), now_(now) {}

  Flow exec(const Body& body, const ScopePtr& scope, std::string& out) {
    for (const auto& n : body) {
      const Flow f = exec_located(*n, scope, out);
      if (f != Flow::kNormal) return f;
    }
    return Flow::kNormal;
  }

 private:
  [[noreturn]] void fail(int line, const std::string& msg) const {
    throw LocatedError("chat template " + p_.origin + " line " + std::to_string(line) + ": " + msg);
  }

  Flow exec_located(const Node& n, const ScopePtr& scope, std::string& out) {
    try {
      return exec_node(n, scope, out);
    } catch (const LocatedError&) {
      throw;
    } catch (const TemplateRaised&) {
      throw;
    } catch (const Error& e) {
      fail(n.line, e.what());
    }
  }

  void step(int line) {
    if (++steps_ > kMaxSteps)
      fail(line, "the template ran more than 10000000 loop iterations and macro calls; stopped");
  }

  Flow exec_node(const Node& n, const ScopePtr& scope, std::string& out) {
    switch (n.kind) {
      case Node::Kind::kText:
        out += n.text;
        break;
      case Node::Kind::kOutput:
        out += eval(*n.expr, scope).to_str();
        break;
      case Node::Kind::kIf:
        for (size_t i = 0; i < n.bodies.size(); ++i)
          if (i >= n.conds.size() || eval(*n.conds[i], scope).truthy())
            return exec(n.bodies[i], scope, out);
        break;
      case Node::Kind::kFor:
        exec_for(n, scope, out);
        break;
      case Node::Kind::kSet:
        exec_set(n, eval(*n.expr, scope), scope);
        break;
      case Node::Kind::kSetBlock: {
        std::string text;
        exec(n.bodies[0], scope, text);
        scope->set(n.targets[0], apply_filters(n, Value(std::move(text)), scope));
        break;
      }
      case Node::Kind::kMacro:
        scope->set(n.text, make_macro(n, scope));
        break;
      case Node::Kind::kCallBlock:
        out += call_block(n, scope);
        break;
      case Node::Kind::kFilterBlock: {
        std::string text;
        exec(n.bodies[0], scope, text);
        out += apply_filters(n, Value(std::move(text)), scope).to_str();
        break;
      }
      case Node::Kind::kBreak:
        return Flow::kBreak;
      case Node::Kind::kContinue:
        return Flow::kContinue;
      case Node::Kind::kScope: {
        if (!n.new_scope) return exec(n.bodies[0], scope, out);
        ScopePtr inner = child(scope);
        for (const auto& [name, e] : n.with_vars) inner->set(name, eval(*e, scope));
        return exec(n.bodies[0], inner, out);
      }
    }
    if (out.size() > kMaxOutput) fail(n.line, "the template's output passed 256 MiB; stopped");
    return Flow::kNormal;
  }

  Value apply_filters(const Node& n, Value v, const ScopePtr& scope) {
    for (const auto& f : n.filters) v = filter(*f, v, scope);
    return v;
  }

  void bind_targets(const std::vector<std::string>& targets, const Value& v, Scope& scope,
                    int line) {
    if (targets.size() == 1) {
      scope.set(targets[0], v);
      return;
    }
    const auto items = v.iterate();
    if (items.size() != targets.size())
      fail(line, "cannot unpack " + std::to_string(items.size()) + " values into " +
                     std::to_string(targets.size()) + " names");
    for (size_t i = 0; i < targets.size(); ++i) scope.set(targets[i], items[i]);
  }

  void exec_set(const Node& n, const Value& v, const ScopePtr& scope) {
    const std::string& t = n.targets[0];
    const size_t dot = t.find('.');
    if (dot == std::string::npos) return bind_targets(n.targets, v, *scope, n.line);
    const std::string ns_name = t.substr(0, dot), attr = t.substr(dot + 1);
    const Value* ns = scope->find(ns_name);
    if (!ns || ns->kind() != Value::Kind::kNamespace)
      fail(n.line, "cannot assign attribute on non-namespace object");
    if (!attr.empty() && attr[0] == '_')
      fail(n.line,
           "Chat templates cannot store underscore-prefixed attributes on a namespace, but got '" +
               attr + "'. Please rename the attribute.");
    ns->dict_ref().set(Value(attr), v);
  }

  Value loop_object(const std::vector<Value>& items, size_t i) {
    Value loop = Value::dict();
    Dict& d = loop.dict_ref();
    const auto n = static_cast<int64_t>(items.size()), k = static_cast<int64_t>(i);
    d.items.reserve(12);
    d.items.emplace_back(Value("index"), Value(k + 1));
    d.items.emplace_back(Value("index0"), Value(k));
    d.items.emplace_back(Value("revindex"), Value(n - k));
    d.items.emplace_back(Value("revindex0"), Value(n - k - 1));
    d.items.emplace_back(Value("first"), Value(k == 0));
    d.items.emplace_back(Value("last"), Value(k == n - 1));
    d.items.emplace_back(Value("length"), Value(n));
    d.items.emplace_back(Value("depth"), Value(1));
    d.items.emplace_back(Value("depth0"), Value(0));
    if (i > 0) d.items.emplace_back(Value("previtem"), items[i - 1]);
    if (i + 1 < items.size()) d.items.emplace_back(Value("nextitem"), items[i + 1]);
    d.items.emplace_back(Value("cycle"), Value::callable("cycle", [k](CallArgs& a) {
                           if (a.args.empty()) throw Error("no items for cycling given");
                           return a.args[static_cast<size_t>(k) % a.args.size()];
                         }));
    return loop;
  }

  void exec_for(const Node& n, const ScopePtr& scope, std::string& out) {
    std::vector<Value> items = eval(*n.expr, scope).iterate();
    if (n.cond) {
      std::vector<Value> kept;
      for (auto& v : items) {
        ScopePtr s = child(scope);
        bind_targets(n.targets, v, *s, n.line);
        if (eval(*n.cond, s).truthy()) kept.push_back(std::move(v));
      }
      items = std::move(kept);
    }
    if (items.empty()) {
      exec(n.else_body, child(scope), out);
      return;
    }
    for (size_t i = 0; i < items.size(); ++i) {
      step(n.line);
      ScopePtr s = child(scope);
      bind_targets(n.targets, items[i], *s, n.line);
      if (n.uses_loop) s->set("loop", loop_object(items, i));
      if (exec(n.bodies[0], s, out) == Flow::kBreak) break;
    }
  }

  Value make_macro(const Node& n, const ScopePtr& def_scope) {
    const Node* node = &n;
    return Value::callable(
        n.text, [this, node, def_scope](CallArgs& a) { return call_macro(*node, def_scope, a); });
  }

  Value call_macro(const Node& n, const ScopePtr& def_scope, CallArgs& a) {
    const Value caller = std::exchange(pending_caller_, Value());
    step(n.line);
    if (++depth_ > kMaxDepth) fail(n.line, "macro calls nested more than 200 deep");
    ScopePtr s = child(def_scope);
    std::vector<Value> varargs;
    for (size_t i = 0; i < a.args.size(); ++i) {
      if (i < n.targets.size())
        s->set(n.targets[i], a.args[i]);
      else
        varargs.push_back(a.args[i]);
    }
    Value kwargs = Value::dict();
    for (const auto& [k, v] : a.kwargs) {
      bool is_param = false;
      for (const auto& t : n.targets) is_param = is_param || t == k;
      if (is_param)
        s->set(k, v);
      else
        kwargs.dict_ref().set(Value(k), v);
    }
    for (size_t i = 0; i < n.targets.size(); ++i) {
      bool given = i < a.args.size();
      for (const auto& kv : a.kwargs) given = given || kv.first == n.targets[i];
      if (given) continue;
      s->set(n.targets[i],
             n.defaults[i] ? eval(*n.defaults[i], s)
                           : Value::undefined("parameter '" + n.targets[i] + "' was not provided"));
    }
    s->set("varargs", Value::tuple(std::move(varargs)));
    s->set("kwargs", kwargs);
    if (!caller.is_undefined()) s->set("caller", caller);
    std::string text;
    exec(n.bodies[0], s, text);
    --depth_;
    return Value(std::move(text));
  }

  std::string call_block(const Node& n, const ScopePtr& scope) {
    const Node* node = &n;
    Value caller = Value::callable("caller", [this, node, scope](CallArgs& a) {
      ScopePtr s = child(scope);
      for (size_t i = 0; i < node->targets.size(); ++i) {
        Value v = a.get(i, node->targets[i]);
        if (v.is_undefined() && node->defaults[i]) v = eval(*node->defaults[i], s);
        s->set(node->targets[i], v);
      }
      std::string text;
      exec(node->bodies[0], s, text);
      return Value(std::move(text));
    });
    const Expr& call = *n.expr;
    const Value fn = eval(*call.items[0], scope);
    CallArgs a = eval_args(call, 1, scope);
    if (!fn.is_callable()) fail(n.line, "'" + fn.to_str() + "' is not callable");
    a.callee = fn.callable_name();
    pending_caller_ = caller;  // the macro takes it as its `caller` variable
    const Value r = fn.call(a);
    pending_caller_ = Value();
    return r.to_str();
  }

  CallArgs eval_args(const Expr& e, size_t first, const ScopePtr& scope) {
    CallArgs a;
    const size_t n_kw = e.kwarg_names.size();
    const size_t n_pos = e.items.size() - first - n_kw;
    for (size_t i = 0; i < n_pos; ++i) a.args.push_back(eval(*e.items[first + i], scope));
    for (size_t i = 0; i < n_kw; ++i) {
      const std::string& name = e.kwarg_names[i];
      Value v = eval(*e.items[first + n_pos + i], scope);
      if (name == "*") {
        for (auto& x : v.iterate()) a.args.push_back(std::move(x));
      } else if (name == "**") {
        if (!v.is_mapping())
          throw Error("argument after ** must be a mapping, not " + v.type_name());
        for (const auto& [k, x] : v.dict_ref().items) a.kwargs.emplace_back(k.to_str(), x);
      } else {
        a.kwargs.emplace_back(name, std::move(v));
      }
    }
    return a;
  }

  Value filter(const Expr& e, const Value& subject, const ScopePtr& scope) {
    CallArgs a = eval_args(e, 1, scope);
    return call_filter(e.name, subject, a);
  }

  Value eval(const Expr& e, const ScopePtr& scope) {
    switch (e.kind) {
      case Expr::Kind::kLiteral:
        return e.value;
      case Expr::Kind::kName:
        return lookup(e.name, scope);
      case Expr::Kind::kList:
      case Expr::Kind::kTuple: {
        std::vector<Value> items;
        items.reserve(e.items.size());
        for (const auto& c : e.items) items.push_back(eval(*c, scope));
        return e.kind == Expr::Kind::kList ? Value::list(std::move(items))
                                           : Value::tuple(std::move(items));
      }
      case Expr::Kind::kDict: {
        Value d = Value::dict();
        for (size_t i = 0; i + 1 < e.items.size(); i += 2)
          d.dict_ref().set(eval(*e.items[i], scope), eval(*e.items[i + 1], scope));
        return d;
      }
      case Expr::Kind::kAttr:
        return get_attr(eval(*e.items[0], scope), e.name);
      case Expr::Kind::kItem:
        return get_item(eval(*e.items[0], scope), eval(*e.items[1], scope));
      case Expr::Kind::kSlice: {
        auto part = [&](size_t i) { return e.items[i] ? eval(*e.items[i], scope) : Value::none(); };
        return get_slice(eval(*e.items[0], scope), part(1), part(2), part(3));
      }
      case Expr::Kind::kCall:
        return eval_call(e, scope);
      case Expr::Kind::kFilter: {
        const Value subject = e.items[0] ? eval(*e.items[0], scope) : Value();
        return filter(e, subject, scope);
      }
      case Expr::Kind::kTest: {
        const Value subject = eval(*e.items[0], scope);
        CallArgs a = eval_args(e, 1, scope);
        return Value(call_test(e.name, subject, a) != e.negated);
      }
      case Expr::Kind::kUnary:
        return eval_unary(e, scope);
      case Expr::Kind::kBinary:
        return eval_binary(e, scope);
      case Expr::Kind::kCompare: {
        Value left = eval(*e.items[0], scope);
        for (size_t i = 0; i < e.ops.size(); ++i) {
          Value right = eval(*e.items[i + 1], scope);
          if (!compare_op(e.ops[i], left, right)) return Value(false);
          left = std::move(right);
        }
        return Value(true);
      }
      case Expr::Kind::kCondition:
        if (eval(*e.items[0], scope).truthy()) return eval(*e.items[1], scope);
        return e.items[2] ? eval(*e.items[2], scope)
                          : Value::undefined(
                                "the inline if-expression evaluated to false and no else section "
                                "was defined.");
    }
    return Value();
  }

  Value lookup(const std::string& name, const ScopePtr& scope) {
    if (const Value* v = scope->find(name)) return *v;
    Value g = global_value(name, now_);
    if (!g.is_undefined()) return g;
    return Value::undefined("'" + name + "' is undefined");
  }

  Value eval_call(const Expr& e, const ScopePtr& scope) {
    const Value fn = eval(*e.items[0], scope);
    CallArgs a = eval_args(e, 1, scope);
    if (!fn.is_callable()) {
      if (fn.is_undefined())
        throw Error(fn.str_ref().empty() ? "an undefined value is not callable" : fn.str_ref());
      throw Error("'" + fn.type_name() + "' object is not callable");
    }
    a.callee = fn.callable_name();
    return fn.call(a);
  }

  Value eval_unary(const Expr& e, const ScopePtr& scope) {
    const Value v = eval(*e.items[0], scope);
    if (e.name == "not") return Value(!v.truthy());
    if (!v.is_number()) {
      if (v.is_undefined()) throw Error(v.str_ref());
      throw Error("bad operand type for unary " + e.name + ": '" + v.type_name() + "'");
    }
    if (e.name == "+") return v.kind() == Value::Kind::kBool ? Value(v.integer()) : v;
    return v.kind() == Value::Kind::kFloat ? Value(-v.number()) : Value(-v.integer());
  }

  Value eval_binary(const Expr& e, const ScopePtr& scope) {
    const Value a = eval(*e.items[0], scope);
    if (e.name == "and") return a.truthy() ? eval(*e.items[1], scope) : a;
    if (e.name == "or") return a.truthy() ? a : eval(*e.items[1], scope);
    return binary_op(e.name, a, eval(*e.items[1], scope));
  }

  const Program& p_;
  std::tm now_;
  int64_t steps_ = 0;
  int depth_ = 0;
  Value pending_caller_;
};

}  // namespace

Template::Template(const std::string& source, const std::string& origin) {
  program_ = std::make_shared<Program>(parse_template(source, origin));
}

const std::string& Template::origin() const { return program_->origin; }

std::string Template::render(const Value& vars, const std::tm* now) const {
  std::tm t{};
  if (now) {
    t = *now;
  } else {
    const std::time_t s = std::time(nullptr);
    localtime_r(&s, &t);
  }
  auto root = std::make_shared<Scope>();
  if (vars.is_mapping())
    for (const auto& [k, v] : vars.dict_ref().items) root->vars.emplace_back(k.to_str(), v);
  Interp interp(*program_, t);
  std::string out;
  try {
    interp.exec(program_->body, root, out);
  } catch (const LocatedError&) {
    throw;
  } catch (const TemplateRaised&) {
    throw;
  } catch (const Error& e) {
    throw Error("chat template " + program_->origin + ": " + e.what());
  }
  return out;
}

}  // namespace r1::jinja
