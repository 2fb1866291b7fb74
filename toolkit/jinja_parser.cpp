// Jinja2's grammar (see jinja_parser.h): statements by recursive descent, expressions by
// precedence climbing in Jinja2's order (condition, or, and, not, comparison, + -, ~, * / // %, **,
// unary, postfix, filters and tests).
#include "toolkit/jinja_parser.h"

#include <initializer_list>  // std::initializer_list

#include "toolkit/error.h"        // r1::Error
#include "toolkit/jinja_lexer.h"  // r1::jinja::lex_template

namespace r1::jinja {
namespace {

using TK = Token::Kind;

bool expr_reads(const Expr* e, const std::string& name) {
  if (!e) return false;
  if (e->kind == Expr::Kind::kName && e->name == name) return true;
  for (const auto& c : e->items)
    if (expr_reads(c.get(), name)) return true;
  return false;
}

// Whether any expression in `body` (nested blocks included) reads the variable `name`.
bool body_reads(const Body& body, const std::string& name) {
  for (const auto& n : body) {
    if (expr_reads(n->expr.get(), name) || expr_reads(n->cond.get(), name)) return true;
    for (const auto& c : n->conds)
      if (expr_reads(c.get(), name)) return true;
    for (const auto& d : n->defaults)
      if (expr_reads(d.get(), name)) return true;
    for (const auto& f : n->filters)
      if (expr_reads(f.get(), name)) return true;
    for (const auto& w : n->with_vars)
      if (expr_reads(w.second.get(), name)) return true;
    for (const auto& b : n->bodies)
      if (body_reads(b, name)) return true;
    if (body_reads(n->else_body, name)) return true;
  }
  return false;
}

ExprPtr make_expr(Expr::Kind k, int line) {
  auto e = std::make_unique<Expr>();
  e->kind = k;
  e->line = line;
  return e;
}

NodePtr make_node(Node::Kind k, int line) {
  auto n = std::make_unique<Node>();
  n->kind = k;
  n->line = line;
  return n;
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, const std::string& origin)
      : t_(std::move(tokens)), origin_(origin) {}

  Body parse_all() {
    std::string end;
    Body body = parse_body({}, &end);
    return body;
  }

 private:
  [[noreturn]] void fail(const std::string& msg, int line = -1) const {
    throw Error("chat template " + origin_ + " line " +
                std::to_string(line < 0 ? cur().line : line) + ": " + msg);
  }

  const Token& cur() const { return t_[i_]; }
  const Token& peek(size_t k = 1) const { return t_[std::min(i_ + k, t_.size() - 1)]; }
  bool is_op(const char* op) const { return cur().kind == TK::kOp && cur().text == op; }
  bool is_name(const char* n) const { return cur().kind == TK::kName && cur().text == n; }
  bool accept_op(const char* op) {
    if (!is_op(op)) return false;
    ++i_;
    return true;
  }
  bool accept_name(const char* n) {
    if (!is_name(n)) return false;
    ++i_;
    return true;
  }
  std::string describe(const Token& t) const {
    switch (t.kind) {
      case TK::kEof:
        return "end of template";
      case TK::kBlockEnd:
        return "end of statement block (%})";
      case TK::kVarEnd:
        return "end of print statement (}})";
      case TK::kText:
        return "template text";
      case TK::kString:
        return "string literal";
      default:
        return "'" + t.text + "'";
    }
  }
  void expect_op(const char* op) {
    if (!accept_op(op)) fail(std::string("expected '") + op + "', got " + describe(cur()));
  }
  std::string expect_name() {
    if (cur().kind != TK::kName) fail("expected a name, got " + describe(cur()));
    return t_[i_++].text;
  }
  void expect(TK k, const char* what) {
    if (cur().kind != k) fail(std::string("expected ") + what + ", got " + describe(cur()));
    ++i_;
  }

  // ---- statements -------------------------------------------------------------------------

  // Parses until `{% <one of ends>`; leaves the position after the end tag's name, which goes to
  // *end.
  Body parse_body(std::initializer_list<const char*> ends, std::string* end, int open_line = 0) {
    Body body;
    while (true) {
      const Token& tok = cur();
      if (tok.kind == TK::kEof) {
        if (ends.size() == 0) return body;
        std::string closer;
        for (const char* e : ends)
          if (std::string(e).rfind("end", 0) == 0) closer = e;
        fail("missing {% " + closer + " %} for the block opened at line " +
             std::to_string(open_line));
      }
      if (tok.kind == TK::kText) {
        auto n = make_node(Node::Kind::kText, tok.line);
        n->text = tok.text;
        body.push_back(std::move(n));
        ++i_;
      } else if (tok.kind == TK::kVarBegin) {
        ++i_;
        auto n = make_node(Node::Kind::kOutput, tok.line);
        n->expr = parse_tuple(true);
        expect(TK::kVarEnd, "'}}'");
        body.push_back(std::move(n));
      } else if (tok.kind == TK::kBlockBegin) {
        const Token& kw = peek();
        for (const char* e : ends)
          if (kw.kind == TK::kName && kw.text == e) {
            i_ += 2;
            *end = e;
            return body;
          }
        ++i_;
        body.push_back(parse_statement());
      } else {
        fail("unexpected " + describe(tok));
      }
    }
  }

  void end_tag() { expect(TK::kBlockEnd, "'%}'"); }

  NodePtr parse_statement() {
    const Token& kw = cur();
    if (kw.kind != TK::kName) fail("expected a statement name after {%, got " + describe(kw));
    const std::string name = kw.text;
    ++i_;
    if (name == "if") return parse_if(kw.line);
    if (name == "for") return parse_for(kw.line);
    if (name == "set") return parse_set(kw.line);
    if (name == "macro") return parse_macro(kw.line);
    if (name == "call") return parse_call_block(kw.line);
    if (name == "filter") return parse_filter_block(kw.line);
    if (name == "with") return parse_with(kw.line);
    if (name == "generation") return parse_generation(kw.line);
    if (name == "break" || name == "continue") {
      end_tag();
      return make_node(name == "break" ? Node::Kind::kBreak : Node::Kind::kContinue, kw.line);
    }
    if (name == "extends" || name == "block" || name == "include" || name == "import" ||
        name == "from")
      fail("{% " + name + " %} is not supported in chat templates (a template is one file)",
           kw.line);
    if (name.rfind("end", 0) == 0 || name == "elif" || name == "else")
      fail("unexpected {% " + name + " %} (no open block it closes)", kw.line);
    fail("unknown tag {% " + name + " %}", kw.line);
  }

  NodePtr parse_if(int line) {
    auto n = make_node(Node::Kind::kIf, line);
    n->conds.push_back(parse_tuple(false));
    end_tag();
    while (true) {
      std::string end;
      n->bodies.push_back(parse_body({"elif", "else", "endif"}, &end, line));
      if (end == "elif") {
        n->conds.push_back(parse_tuple(false));
        end_tag();
      } else if (end == "else") {
        end_tag();
        n->bodies.push_back(parse_body({"endif"}, &end, line));
        end_tag();
        return n;
      } else {
        end_tag();
        return n;
      }
    }
  }

  std::vector<std::string> parse_targets() {
    std::vector<std::string> names;
    const bool paren = accept_op("(");
    do {
      if (paren && is_op(")")) break;
      names.push_back(expect_name());
    } while (accept_op(","));
    if (paren) expect_op(")");
    return names;
  }

  NodePtr parse_for(int line) {
    auto n = make_node(Node::Kind::kFor, line);
    n->targets = parse_targets();
    if (!accept_name("in")) fail("expected 'in' in the for loop, got " + describe(cur()));
    n->expr = parse_tuple(false, /*with_condexpr=*/false);
    if (accept_name("if")) n->cond = parse_tuple(false);
    if (accept_name("recursive")) fail("recursive for loops are not supported", line);
    end_tag();
    std::string end;
    n->bodies.push_back(parse_body({"endfor", "else"}, &end, line));
    n->uses_loop = body_reads(n->bodies[0], "loop");
    if (end == "else") {
      end_tag();
      n->else_body = parse_body({"endfor"}, &end, line);
    }
    end_tag();
    return n;
  }

  NodePtr parse_set(int line) {
    std::vector<std::string> targets;
    targets.push_back(expect_name());
    if (accept_op(".")) {
      targets[0] += "." + expect_name();
    } else {
      while (accept_op(",")) targets.push_back(expect_name());
    }
    if (accept_op("=")) {
      auto n = make_node(Node::Kind::kSet, line);
      n->targets = std::move(targets);
      n->expr = parse_tuple(false);
      end_tag();
      return n;
    }
    if (targets.size() != 1 || targets[0].find('.') != std::string::npos)
      fail("a block {% set %} takes one plain name", line);
    auto n = make_node(Node::Kind::kSetBlock, line);
    n->targets = std::move(targets);
    while (accept_op("|")) n->filters.push_back(parse_filter(nullptr));
    end_tag();
    std::string end;
    n->bodies.push_back(parse_body({"endset"}, &end, line));
    end_tag();
    return n;
  }

  void parse_params(Node& n) {
    expect_op("(");
    while (!is_op(")")) {
      if (!n.targets.empty()) expect_op(",");
      if (is_op(")")) break;
      n.targets.push_back(expect_name());
      n.defaults.push_back(accept_op("=") ? parse_expression() : nullptr);
    }
    expect_op(")");
  }

  NodePtr parse_macro(int line) {
    auto n = make_node(Node::Kind::kMacro, line);
    n->text = expect_name();
    parse_params(*n);
    end_tag();
    std::string end;
    n->bodies.push_back(parse_body({"endmacro"}, &end, line));
    end_tag();
    return n;
  }

  NodePtr parse_call_block(int line) {
    auto n = make_node(Node::Kind::kCallBlock, line);
    if (is_op("(")) parse_params(*n);
    n->expr = parse_expression();
    if (n->expr->kind != Expr::Kind::kCall) fail("expected a call after {% call %}", line);
    end_tag();
    std::string end;
    n->bodies.push_back(parse_body({"endcall"}, &end, line));
    end_tag();
    return n;
  }

  NodePtr parse_filter_block(int line) {
    auto n = make_node(Node::Kind::kFilterBlock, line);
    do {
      n->filters.push_back(parse_filter(nullptr));
    } while (accept_op("|"));
    end_tag();
    std::string end;
    n->bodies.push_back(parse_body({"endfilter"}, &end, line));
    end_tag();
    return n;
  }

  NodePtr parse_with(int line) {
    auto n = make_node(Node::Kind::kScope, line);
    n->new_scope = true;
    while (cur().kind != TK::kBlockEnd) {
      if (!n->with_vars.empty()) expect_op(",");
      std::string name = expect_name();
      expect_op("=");
      n->with_vars.emplace_back(std::move(name), parse_expression());
    }
    end_tag();
    std::string end;
    n->bodies.push_back(parse_body({"endwith"}, &end, line));
    end_tag();
    return n;
  }

  // transformers' {% generation %} marks assistant text for its token mask; it renders its body.
  NodePtr parse_generation(int line) {
    auto n = make_node(Node::Kind::kScope, line);
    end_tag();
    std::string end;
    n->bodies.push_back(parse_body({"endgeneration"}, &end, line));
    end_tag();
    return n;
  }

  // ---- expressions ------------------------------------------------------------------------

  ExprPtr parse_tuple(bool explicit_parens, bool with_condexpr = true) {
    const int line = cur().line;
    std::vector<ExprPtr> items;
    bool comma = false;
    while (true) {
      if (!items.empty()) {
        if (!accept_op(",")) break;
        comma = true;
      }
      if (tuple_ends(explicit_parens)) break;
      items.push_back(with_condexpr ? parse_condexpr() : parse_or());
    }
    if (!comma && items.size() == 1) return std::move(items[0]);
    if (items.empty() && !explicit_parens) fail("expected an expression, got " + describe(cur()));
    auto e = make_expr(Expr::Kind::kTuple, line);
    e->items = std::move(items);
    return e;
  }

  bool tuple_ends(bool explicit_parens) const {
    if (cur().kind == TK::kVarEnd || cur().kind == TK::kBlockEnd || cur().kind == TK::kEof)
      return true;
    if (explicit_parens && is_op(")")) return true;
    return is_name("in") && !explicit_parens;
  }

  ExprPtr parse_expression() { return parse_condexpr(); }

  ExprPtr parse_condexpr() {
    ExprPtr e = parse_or();
    while (is_name("if")) {
      const int line = cur().line;
      ++i_;
      auto c = make_expr(Expr::Kind::kCondition, line);
      c->items.push_back(parse_or());
      c->items.push_back(std::move(e));
      c->items.push_back(accept_name("else") ? parse_condexpr() : nullptr);
      e = std::move(c);
    }
    return e;
  }

  ExprPtr binary(const std::string& op, ExprPtr a, ExprPtr b, int line) {
    auto e = make_expr(Expr::Kind::kBinary, line);
    e->name = op;
    e->items.push_back(std::move(a));
    e->items.push_back(std::move(b));
    return e;
  }

  // One left-associative level of binary operators: operands by `next`, operators from `ops`
  // (names such as "or" or operator tokens such as "+").
  template <typename Next>
  ExprPtr left_assoc(std::initializer_list<const char*> ops, Next next) {
    ExprPtr e = (this->*next)();
    while (true) {
      const char* op = nullptr;
      for (const char* o : ops)
        if ((cur().kind == TK::kName || cur().kind == TK::kOp) && cur().text == o) op = o;
      if (!op) return e;
      const int line = cur().line;
      ++i_;
      e = binary(op, std::move(e), (this->*next)(), line);
    }
  }

  ExprPtr parse_or() { return left_assoc({"or"}, &Parser::parse_and); }
  ExprPtr parse_and() { return left_assoc({"and"}, &Parser::parse_not); }

  ExprPtr parse_not() {
    if (is_name("not")) {
      auto e = make_expr(Expr::Kind::kUnary, cur().line);
      ++i_;
      e->name = "not";
      e->items.push_back(parse_not());
      return e;
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    const int line = cur().line;
    ExprPtr first = parse_math1();
    auto e = make_expr(Expr::Kind::kCompare, line);
    e->items.push_back(std::move(first));
    while (true) {
      std::string op;
      if (cur().kind == TK::kOp &&
          (cur().text == "==" || cur().text == "!=" || cur().text == "<" || cur().text == "<=" ||
           cur().text == ">" || cur().text == ">=")) {
        op = cur().text;
        ++i_;
      } else if (is_name("in")) {
        op = "in";
        ++i_;
      } else if (is_name("not") && peek().kind == TK::kName && peek().text == "in") {
        op = "not in";
        i_ += 2;
      } else {
        break;
      }
      e->ops.push_back(op);
      e->items.push_back(parse_math1());
    }
    if (e->ops.empty()) return std::move(e->items[0]);
    return e;
  }

  ExprPtr parse_math1() { return left_assoc({"+", "-"}, &Parser::parse_concat); }
  ExprPtr parse_concat() { return left_assoc({"~"}, &Parser::parse_math2); }
  ExprPtr parse_math2() { return left_assoc({"*", "/", "//", "%"}, &Parser::parse_pow); }
  ExprPtr parse_pow() { return left_assoc({"**"}, &Parser::parse_unary_filtered); }
  ExprPtr parse_unary_filtered() { return parse_unary(true); }

  ExprPtr parse_unary(bool with_filter) {
    ExprPtr e;
    if (is_op("-") || is_op("+")) {
      e = make_expr(Expr::Kind::kUnary, cur().line);
      e->name = cur().text;
      ++i_;
      e->items.push_back(parse_unary(false));
    } else {
      e = parse_primary();
    }
    e = parse_postfix(std::move(e));
    if (with_filter) e = parse_filter_expr(std::move(e));
    return e;
  }

  ExprPtr parse_primary() {
    const Token& tok = cur();
    const int line = tok.line;
    switch (tok.kind) {
      case TK::kName: {
        ++i_;
        auto e = make_expr(Expr::Kind::kLiteral, line);
        if (tok.text == "true" || tok.text == "True")
          e->value = Value(true);
        else if (tok.text == "false" || tok.text == "False")
          e->value = Value(false);
        else if (tok.text == "none" || tok.text == "None")
          e->value = Value::none();
        else {
          e->kind = Expr::Kind::kName;
          e->name = tok.text;
        }
        return e;
      }
      case TK::kString: {
        std::string s;
        while (cur().kind == TK::kString) s += t_[i_++].text;  // adjacent literals join
        auto e = make_expr(Expr::Kind::kLiteral, line);
        e->value = Value(std::move(s));
        return e;
      }
      case TK::kInt:
      case TK::kFloat: {
        ++i_;
        auto e = make_expr(Expr::Kind::kLiteral, line);
        try {
          e->value = tok.kind == TK::kInt ? Value(static_cast<int64_t>(std::stoll(tok.text)))
                                          : Value(std::stod(tok.text));
        } catch (const std::exception&) {
          fail("number out of range: " + tok.text, line);
        }
        return e;
      }
      case TK::kOp:
        if (accept_op("(")) {
          ExprPtr e = parse_tuple(true);
          expect_op(")");
          return e;
        }
        if (is_op("[")) return parse_list();
        if (is_op("{")) return parse_dict();
        break;
      default:
        break;
    }
    fail("unexpected " + describe(tok));
  }

  ExprPtr parse_list() {
    auto e = make_expr(Expr::Kind::kList, cur().line);
    expect_op("[");
    while (!is_op("]")) {
      if (!e->items.empty()) expect_op(",");
      if (is_op("]")) break;
      e->items.push_back(parse_expression());
    }
    expect_op("]");
    return e;
  }

  ExprPtr parse_dict() {
    auto e = make_expr(Expr::Kind::kDict, cur().line);
    expect_op("{");
    while (!is_op("}")) {
      if (!e->items.empty()) expect_op(",");
      if (is_op("}")) break;
      e->items.push_back(parse_expression());
      expect_op(":");
      e->items.push_back(parse_expression());
    }
    expect_op("}");
    return e;
  }

  ExprPtr parse_postfix(ExprPtr e) {
    while (true) {
      if (is_op(".") || is_op("[")) {
        e = parse_subscript(std::move(e));
      } else if (is_op("(")) {
        e = parse_call(std::move(e));
      } else {
        return e;
      }
    }
  }

  ExprPtr parse_filter_expr(ExprPtr e) {
    while (true) {
      if (accept_op("|")) {
        e = parse_filter(std::move(e));
      } else if (is_name("is")) {
        ++i_;
        e = parse_test(std::move(e));
      } else if (is_op("(")) {
        e = parse_call(std::move(e));
      } else {
        return e;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr obj) {
    const int line = cur().line;
    if (accept_op(".")) {
      if (cur().kind == TK::kInt) {
        auto e = make_expr(Expr::Kind::kItem, line);
        e->items.push_back(std::move(obj));
        auto idx = make_expr(Expr::Kind::kLiteral, line);
        idx->value = Value(static_cast<int64_t>(std::stoll(t_[i_++].text)));
        e->items.push_back(std::move(idx));
        return e;
      }
      auto e = make_expr(Expr::Kind::kAttr, line);
      e->name = expect_name();
      e->items.push_back(std::move(obj));
      return e;
    }
    expect_op("[");
    ExprPtr parts[3];
    bool slice = false;
    for (int k = 0; k < 3; ++k) {
      if (!is_op(":") && !is_op("]")) parts[k] = parse_expression();
      if (k < 2 && accept_op(":")) {
        slice = true;
        continue;
      }
      break;
    }
    expect_op("]");
    auto e = make_expr(slice ? Expr::Kind::kSlice : Expr::Kind::kItem, line);
    e->items.push_back(std::move(obj));
    if (!slice && !parts[0]) fail("expected an index in []", line);
    for (int k = 0; k < (slice ? 3 : 1); ++k) e->items.push_back(std::move(parts[k]));
    return e;
  }

  // Arguments into e->items (after whatever is already there) and e->kwarg_names.
  void parse_args(Expr& e) {
    expect_op("(");
    bool first = true;
    while (!is_op(")")) {
      if (!first) expect_op(",");
      first = false;
      if (is_op(")")) break;
      if (is_op("*") || is_op("**")) {  // *args / **kwargs: spread when the call is made
        e.kwarg_names.push_back(cur().text);
        ++i_;
        e.items.push_back(parse_expression());
        continue;
      }
      if (cur().kind == TK::kName && peek().kind == TK::kOp && peek().text == "=") {
        e.kwarg_names.push_back(cur().text);
        i_ += 2;
        e.items.push_back(parse_expression());
      } else {
        if (!e.kwarg_names.empty())
          fail("a positional argument follows a keyword argument or *args");
        e.items.push_back(parse_expression());
      }
    }
    expect_op(")");
  }

  ExprPtr parse_call(ExprPtr fn) {
    auto e = make_expr(Expr::Kind::kCall, cur().line);
    e->items.push_back(std::move(fn));
    parse_args(*e);
    return e;
  }

  ExprPtr parse_filter(ExprPtr subject) {
    auto e = make_expr(Expr::Kind::kFilter, cur().line);
    e->name = expect_name();
    while (accept_op(".")) e->name += "." + expect_name();
    e->items.push_back(std::move(subject));
    if (is_op("(")) parse_args(*e);
    return e;
  }

  ExprPtr parse_test(ExprPtr subject) {
    auto e = make_expr(Expr::Kind::kTest, cur().line);
    e->negated = accept_name("not");
    e->name = expect_name();
    while (accept_op(".")) e->name += "." + expect_name();
    e->items.push_back(std::move(subject));
    if (is_op("(")) {
      parse_args(*e);
    } else if ((cur().kind == TK::kName || cur().kind == TK::kString || cur().kind == TK::kInt ||
                cur().kind == TK::kFloat || is_op("[") || is_op("{")) &&
               !is_name("else") && !is_name("or") && !is_name("and")) {
      if (is_name("is")) fail("you cannot chain multiple tests with is");
      e->items.push_back(parse_postfix(parse_primary()));
    }
    return e;
  }

  std::vector<Token> t_;
  const std::string& origin_;
  size_t i_ = 0;
};

}  // namespace

Program parse_template(const std::string& source, const std::string& origin) {
  Program p;
  p.origin = origin;
  p.body = Parser(lex_template(source, origin), origin).parse_all();
  return p;
}

}  // namespace r1::jinja
