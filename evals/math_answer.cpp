// Answer structures and their comparison (see math_answer.h).
#include "evals/math_answer.h"

#include <ginac/ginac.h>  // GiNaC (relations: one side minus the other)

#include <algorithm>  // std::min
#include <cctype>     // std::isalpha
#include <cmath>      // std::round
#include <optional>   // std::optional
#include <vector>     // std::vector

#include "evals/latex_expr.h"   // r1::parse_latex_expr, r1::ginac_mutex
#include "evals/math_number.h"  // r1::parse_number
#include "toolkit/text.h"       // r1::trim_space

namespace r1 {
namespace {

constexpr size_t kMaxAnswer = 100000;  // longer answers are compared as text only
constexpr int kMaxSteps = 4096;        // leaf comparisons per answer pair
constexpr int kMaxNodeDepth = 64;
constexpr int kMaxPm = 4;  // "\pm" signs expanded into sets of both signs (2^4 branches at most)

bool alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

void replace_all(std::string& s, const std::string& what, const std::string& with) {
  if (what.empty()) return;
  std::string out;
  out.reserve(s.size());
  size_t p = 0;
  for (size_t q; (q = s.find(what, p)) != std::string::npos; p = q + what.size()) {
    // A command must not continue with a letter ("\le" is not the start of "\left").
    if (what[0] == '\\' && alpha(what.back()) && q + what.size() < s.size() &&
        alpha(s[q + what.size()])) {
      out.append(s, p, q + what.size() - p);
      continue;
    }
    out.append(s, p, q - p);
    out += with;
  }
  out.append(s, p, std::string::npos);
  s.swap(out);
}

// Replaces a whole word (letters not continuing on either side).
void replace_word(std::string& s, const std::string& word, const std::string& with) {
  std::string out;
  size_t p = 0;
  for (size_t q; (q = s.find(word, p)) != std::string::npos; p = q + word.size()) {
    const bool left = q == 0 || (!alpha(s[q - 1]) && s[q - 1] != '\\');
    const bool right = q + word.size() == s.size() || !alpha(s[q + word.size()]);
    out.append(s, p, q - p);
    out += left && right ? with : word;
  }
  out.append(s, p, std::string::npos);
  s.swap(out);
}

// Unwraps every \cmd{...} to its content (balanced braces).
void unwrap_command(std::string& s, const std::string& cmd) {
  for (size_t p = 0; (p = s.find(cmd + "{", p)) != std::string::npos;) {
    size_t i = p + cmd.size(), d = 0, e = std::string::npos;
    for (size_t j = i; j < s.size(); ++j) {
      if (s[j] == '{') ++d;
      if (s[j] == '}' && --d == 0) {
        e = j;
        break;
      }
    }
    if (e == std::string::npos) return;
    s = s.substr(0, p) + s.substr(i + 1, e - i - 1) + s.substr(e + 1);
  }
}

// ---------------------------------------------------------------------------------------------
// The tree.

enum class Kind { kScalar, kText, kChoice, kList, kSet, kTuple, kInterval, kUnion, kRelation };
enum class Rel { kEq, kLt, kLe, kGt, kGe, kNe, kIn };

struct Node {
  Kind kind = Kind::kScalar;
  std::string text;         // scalar / text / choice
  std::vector<Node> items;  // elements, union parts, relation operands, interval endpoints
  std::vector<Rel> ops;     // relation operators between items
  bool lo_closed = false, hi_closed = false;  // intervals
  bool maybe_interval = false;                // "(a, b)"
};

// Index one past the bracket matching s[i] (any of ( [ { against any of ) ] }), or npos.
size_t match_bracket(const std::string& s, size_t i) {
  int d = 0;
  for (size_t j = i; j < s.size(); ++j) {
    const char c = s[j];
    if (c == '\\' && j + 1 < s.size() && (s[j + 1] == '{' || s[j + 1] == '}')) {
      d += s[j + 1] == '{' ? 1 : -1;
      ++j;
      if (d == 0) return j + 1;
      continue;
    }
    if (c == '(' || c == '[' || c == '{') ++d;
    if (c == ')' || c == ']' || c == '}') {
      if (--d == 0) return j + 1;
    }
  }
  return std::string::npos;
}

// Splits s at top level (outside brackets and environments) on any of the separators.
std::vector<std::string> split_top(const std::string& s, const std::vector<std::string>& seps,
                                   std::vector<std::string>* found = nullptr) {
  std::vector<std::string> parts;
  int d = 0, env = 0;
  size_t start = 0;
  for (size_t j = 0; j < s.size(); ++j) {
    const char c = s[j];
    if (c == '\\') {
      if (s.compare(j, 7, "\\begin{") == 0) ++env;
      if (s.compare(j, 5, "\\end{") == 0) --env;
      if (j + 1 < s.size() && (s[j + 1] == '{' || s[j + 1] == '}')) {
        d += s[j + 1] == '{' ? 1 : -1;
        ++j;
        continue;
      }
    }
    if (c == '(' || c == '[' || c == '{') ++d;
    if (c == ')' || c == ']' || c == '}') --d;
    if (d != 0 || env != 0) continue;
    for (const auto& sep : seps) {
      if (s.compare(j, sep.size(), sep) != 0) continue;
      if (sep[0] == '\\' && alpha(sep.back()) && j + sep.size() < s.size() &&
          alpha(s[j + sep.size()]))
        continue;
      // "<" of "<=" and "!" of "!=": the longer separator is listed first by callers.
      parts.push_back(s.substr(start, j - start));
      if (found) found->push_back(sep);
      j += sep.size() - 1;
      start = j + 1;
      break;
    }
  }
  parts.push_back(s.substr(start));
  return parts;
}

Rel rel_of(const std::string& op) {
  if (op == "<=") return Rel::kLe;
  if (op == ">=") return Rel::kGe;
  if (op == "!=") return Rel::kNe;
  if (op == "<") return Rel::kLt;
  if (op == ">") return Rel::kGt;
  if (op == "\\in") return Rel::kIn;
  return Rel::kEq;
}

std::string lower_letters(const std::string& s) {
  std::string out;
  for (char c : s)
    if (std::isalnum(static_cast<unsigned char>(c)))
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Node parse_node(std::string s, int depth);

Node make_list(Kind kind, const std::vector<std::string>& parts, int depth) {
  Node n;
  n.kind = kind;
  for (const auto& p : parts) n.items.push_back(parse_node(p, depth + 1));
  return n;
}

// "\pm" as the set of both signs, recursively: 2^k branches for k signs, so an answer with more
// than kMaxPm of them is not expanded (it stays one scalar).
std::optional<Node> expand_pm(const std::string& s, int depth) {
  int signs = 0;
  for (size_t at = s.find('\\'); at != std::string::npos && signs <= kMaxPm;
       at = s.find('\\', at + 1))
    if (s.compare(at, 3, "\\pm") == 0 || s.compare(at, 3, "\\mp") == 0) ++signs;
  if (signs > kMaxPm) return std::nullopt;
  const size_t pm = s.find("\\pm"), mp = s.find("\\mp");
  const size_t at = std::min(pm, mp);
  if (at == std::string::npos) return std::nullopt;
  const bool is_pm = at == pm;
  const std::string a = s.substr(0, at) + (is_pm ? "+" : "-") + s.substr(at + 3);
  const std::string b = s.substr(0, at) + (is_pm ? "-" : "+") + s.substr(at + 3);
  Node n;
  n.kind = Kind::kSet;
  n.items.push_back(parse_node(a, depth + 1));
  n.items.push_back(parse_node(b, depth + 1));
  return n;
}

Node parse_node(std::string s, int depth) {
  s = trim_space(s);
  while (!s.empty() && (s.back() == '.' || s.back() == ',' || s.back() == ';') &&
         !(s.size() >= 2 && s[s.size() - 2] == '\\'))
    s = trim_space(s.substr(0, s.size() - 1));
  Node n;
  n.text = s;
  if (depth > kMaxNodeDepth || s.size() > kMaxAnswer) {
    n.kind = Kind::kText;
    return n;
  }
  if (s.empty()) return n;
  if (parse_number(s)) return n;  // 7,425,000 and 1,22 before lists

  std::vector<std::string> found;
  auto parts = split_top(s, {";"});
  if (parts.size() > 1) return make_list(Kind::kList, parts, depth);
  parts = split_top(s, {","});
  if (parts.size() > 1) return make_list(Kind::kList, parts, depth);
  parts = split_top(s, {"\\cup"});
  if (parts.size() > 1) return make_list(Kind::kUnion, parts, depth);
  parts = split_top(s, {"<=", ">=", "!=", "<", ">", "=", "\\in", "\\approx"}, &found);
  if (parts.size() > 1) {
    // "x = 1/3 \approx 0.33": the approximation is dropped; "x \approx 11" reads as "x = 11".
    while (found.size() > 1 && found.back() == "\\approx") {
      found.pop_back();
      parts.pop_back();
    }
    n.kind = Kind::kRelation;
    for (const auto& p : parts) n.items.push_back(parse_node(p, depth + 1));
    for (const auto& f : found) n.ops.push_back(rel_of(f));
    if (n.items.size() == 1) return n.items[0];
    return n;
  }
  if (auto pm = expand_pm(s, depth)) return *pm;

  // LaTeX grouping braces around everything: "{1,3}" is the list 1, 3.
  if (s.front() == '{' && match_bracket(s, 0) == s.size())
    return parse_node(s.substr(1, s.size() - 2), depth + 1);
  // One bracket pair around everything.
  const char f = s.front();
  if ((f == '(' || f == '[' || s.compare(0, 2, "\\{") == 0) && match_bracket(s, 0) == s.size()) {
    const bool set = f == '\\';
    const std::string inner = set ? s.substr(2, s.size() - 4) : s.substr(1, s.size() - 2);
    const char l = s.back();
    parts = split_top(inner, {",", ";"});
    if (set) return make_list(Kind::kSet, parts, depth);
    if (parts.size() == 1) {
      Node inner_node = parse_node(inner, depth + 1);
      if (inner_node.kind != Kind::kScalar) return inner_node;  // ((1, 2))
      return n;                                                 // (x + 1): a scalar
    }
    if (parts.size() == 2 && (f == '[' || l == ']' || f != '(' || l != ')')) {
      n.kind = Kind::kInterval;
      n.lo_closed = f == '[';
      n.hi_closed = l == ']';
      n.items.push_back(parse_node(parts[0], depth + 1));
      n.items.push_back(parse_node(parts[1], depth + 1));
      return n;
    }
    Node t = make_list(Kind::kTuple, parts, depth);
    t.maybe_interval = parts.size() == 2 && f == '(' && l == ')';
    t.text = s;
    return t;
  }
  // Text and choices.
  for (const char* cmd : {"\\text{", "\\textbf{", "\\mbox{", "\\textnormal{", "\\mathrm{"}) {
    const std::string c(cmd);
    if (s.compare(0, c.size(), c) == 0 && match_bracket(s, c.size() - 1) == s.size()) {
      std::string inner = trim_space(s.substr(c.size(), s.size() - c.size() - 1));
      if (c == "\\mathrm{" && inner.size() <= 1) return n;  // \mathrm{e}: a scalar
      Node in = parse_node(inner, depth + 1);
      if (in.kind == Kind::kChoice || (in.kind != Kind::kScalar && in.kind != Kind::kText))
        return in;
      if (parse_number(inner)) return in;
      n.kind = Kind::kText;
      n.text = inner;
      break;
    }
  }
  {
    std::string t = n.text;
    if (t.size() == 3 && t[0] == '(' && t[2] == ')') t = t.substr(1, 1);
    if (t.size() == 1 && t[0] >= 'A' && t[0] <= 'J') {
      n.kind = Kind::kChoice;
      n.text = t;
      return n;
    }
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// Comparison.

struct Ctx {
  const CompareOptions& opt;
  int steps = 0;
  bool budget = false;
  std::string leaf_reason;  // reason of the last equal leaf
};

bool cmp(const Node& g, const Node& p, Ctx& c);

// The scalar's value text with a unit (\text{ cm}, \mbox{...}^2) or percent mark removed.
std::string strip_unit(std::string s, bool* percent) {
  s = trim_space(s);
  for (const char* pc : {"\\%", "%", "percentage", "percent", "pct"}) {
    const std::string p(pc);
    if (s.size() > p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0) {
      s = trim_space(s.substr(0, s.size() - p.size()));
      *percent = true;
      break;
    }
  }
  for (const char* cmd : {"\\text{", "\\mbox{", "\\textnormal{", "\\mathrm{", "\\textbf{"}) {
    const size_t at = s.rfind(cmd);
    if (at == std::string::npos || at == 0) continue;
    const size_t e = match_bracket(s, at + std::char_traits<char>::length(cmd) - 1);
    if (e == std::string::npos) continue;
    std::string rest = trim_space(s.substr(e));
    if (!(rest.empty() || rest == "^2" || rest == "^3" || rest == "^{2}" || rest == "^{3}"))
      continue;
    const std::string value = trim_space(s.substr(0, at));
    if (parse_number(value) || value.find_first_of("0123456789") != std::string::npos) return value;
  }
  return s;
}

bool rounds_equal(double g, double p, int places) {
  const double k = std::pow(10.0, places);
  return std::round(g * k) == std::round(p * k);
}

bool cmp_scalar(const Node& gn, const Node& pn, Ctx& c) {
  if (++c.steps > kMaxSteps) {
    c.budget = true;
    return false;
  }
  bool gp = false, pp = false;
  const std::string g = strip_unit(gn.text, &gp), p = strip_unit(pn.text, &pp);
  if (g == p && !g.empty()) {
    c.leaf_reason = "equal_text";
    return true;
  }
  const auto a = parse_number(g), b = parse_number(p);
  const bool p_decimal = b && p.find('.') != std::string::npos;  // written as a decimal
  if (a && b) {
    const mpq_class x = a->value, y = b->value;
    bool eq = x == y || ((gp || pp || a->percent || b->percent) && (x == y / 100 || x / 100 == y));
    // Doubles resolve about 15 decimals: past that, both roundings must agree.
    const int places = c.opt.float_places;
    if (!eq && p_decimal)
      eq = rounds_equal(x.get_d(), y.get_d(), places) &&
           (places <= 15 || rounds_equal(x.get_d(), y.get_d(), 15));
    c.leaf_reason = "equal_number";
    return eq;
  }
  std::lock_guard<std::mutex> lock(ginac_mutex());
  const auto ea = parse_latex_expr(g), eb = parse_latex_expr(p);
  if (ea && eb) {
    const ExprVerdict v = expr_compare(*ea, *eb);
    if (v == ExprVerdict::kBudget) c.budget = true;
    if (v == ExprVerdict::kEqual) {
      c.leaf_reason = "equal_expr";
      return true;
    }
    if (p_decimal) {
      const auto x = expr_real_value(*ea), y = expr_real_value(*eb);
      if (x && y && rounds_equal(*x, *y, c.opt.float_places)) {
        c.leaf_reason = "equal_number";
        return true;
      }
    }
    return false;
  }
  // Words: "odd" against \text{odd}.
  const std::string x = lower_letters(g), y = lower_letters(p);
  if (!x.empty() && x == y && (!ea || !eb)) {
    c.leaf_reason = "equal_text";
    return true;
  }
  return false;
}

// Whether an equation's left side names the answer (x, f(x), |AB|, A:B, a_{3}, (p, q)) rather
// than being part of the mathematics (2x + z, 7).
bool is_label(const Node& n) {
  if (n.kind == Kind::kTuple) {
    for (const auto& i : n.items)
      if (!is_label(i)) return false;
    return true;
  }
  if (n.kind != Kind::kScalar) return false;
  const std::string& s = n.text;
  if (s.empty() || digit(s[0]) || s[0] == '-') return false;
  bool letter = false;
  int d = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '(' || s[i] == '{' || s[i] == '[') ++d;
    if (s[i] == ')' || s[i] == '}' || s[i] == ']') --d;
    if (d == 0 && (s[i] == '+' || s[i] == '-')) return false;
    if (alpha(s[i])) letter = true;
  }
  return letter;
}

// The value an answer states, looking through a label: "x = 5" -> 5, "x = 1 + 1 = 2" -> 2.
const Node* labeled_value(const Node& n) {
  if (n.kind != Kind::kRelation) return nullptr;
  for (Rel r : n.ops)
    if (r != Rel::kEq) return nullptr;
  if (n.items.size() >= 3 || is_label(n.items[0])) return &n.items.back();
  return nullptr;
}

bool is_interval_like(const Node& n) {
  return n.kind == Kind::kInterval || n.kind == Kind::kUnion ||
         (n.kind == Kind::kTuple && n.maybe_interval);
}

Node scalar(const std::string& t) {
  Node n;
  n.text = t;
  return n;
}

// An inequality on a label as an interval: "a < x \le b" -> (a, b]; "x \ge 5" -> [5, \infty).
std::optional<Node> relation_interval(const Node& r) {
  if (r.kind != Kind::kRelation) return std::nullopt;
  Node iv;
  iv.kind = Kind::kInterval;
  auto lower = [](Rel op) { return op == Rel::kLt || op == Rel::kLe; };
  auto upper = [](Rel op) { return op == Rel::kGt || op == Rel::kGe; };
  if (r.items.size() == 3 && is_label(r.items[1])) {
    const Rel a = r.ops[0], b = r.ops[1];
    if (lower(a) && lower(b)) {
      iv.items = {r.items[0], r.items[2]};
      iv.lo_closed = a == Rel::kLe;
      iv.hi_closed = b == Rel::kLe;
      return iv;
    }
    if (upper(a) && upper(b)) {
      iv.items = {r.items[2], r.items[0]};
      iv.lo_closed = b == Rel::kGe;
      iv.hi_closed = a == Rel::kGe;
      return iv;
    }
    return std::nullopt;
  }
  if (r.items.size() != 2) return std::nullopt;
  const bool left = is_label(r.items[0]);
  if (!left && !is_label(r.items[1])) return std::nullopt;
  const Node& v = left ? r.items[1] : r.items[0];
  Rel op = r.ops[0];
  if (!left)
    op = op == Rel::kLt   ? Rel::kGt
         : op == Rel::kLe ? Rel::kGe
         : op == Rel::kGt ? Rel::kLt
         : op == Rel::kGe ? Rel::kLe
                          : op;
  if (lower(op)) {
    iv.items = {scalar("-\\infty"), v};
    iv.hi_closed = op == Rel::kLe;
    return iv;
  }
  if (upper(op)) {
    iv.items = {v, scalar("\\infty")};
    iv.lo_closed = op == Rel::kGe;
    return iv;
  }
  return std::nullopt;
}

// Unordered, as sets: every element of g matches one of p and every element of p one of g
// (a repeated element counts once).
bool cmp_unordered(const std::vector<Node>& g, const std::vector<Node>& p, Ctx& c) {
  auto covered = [&](const std::vector<Node>& a, const std::vector<Node>& b, bool a_is_gold) {
    for (const auto& x : a) {
      bool hit = false;
      for (size_t k = 0; k < b.size() && !hit; ++k) {
        hit = a_is_gold ? cmp(x, b[k], c) : cmp(b[k], x, c);
        if (c.budget) return false;
      }
      if (!hit) return false;
    }
    return true;
  };
  return !g.empty() && !p.empty() && covered(g, p, true) && covered(p, g, false);
}

bool cmp_ordered(const std::vector<Node>& g, const std::vector<Node>& p, Ctx& c) {
  if (g.size() != p.size()) return false;
  for (size_t k = 0; k < g.size(); ++k)
    if (!cmp(g[k], p[k], c)) return false;
  return true;
}

// Elements of a list, with labels looked through ("x = -5, p = 14/3"; "a = 4, -8, -10").
std::vector<Node> unlabeled(const std::vector<Node>& items) {
  std::vector<Node> out;
  for (const auto& i : items) {
    const Node* v = labeled_value(i);
    out.push_back(v ? *v : i);
  }
  return out;
}

// Two relations of the same shape: one side minus the other, a constant multiple of each other
// (positive for inequalities).
bool cmp_relations(const Node& g, const Node& p, Ctx& c) {
  if (g.items.size() != 2 || p.items.size() != 2) return false;
  auto norm = [](Rel r, bool& flip) {
    flip = r == Rel::kGt || r == Rel::kGe;
    return r == Rel::kGt ? Rel::kLt : r == Rel::kGe ? Rel::kLe : r;
  };
  bool fg = false, fp = false;
  const Rel rg = norm(g.ops[0], fg), rp = norm(p.ops[0], fp);
  if (rg != rp || rg == Rel::kIn) return false;
  if (++c.steps > kMaxSteps) {
    c.budget = true;
    return false;
  }
  std::lock_guard<std::mutex> lock(ginac_mutex());
  auto gl = parse_latex_expr(g.items[0].text), gr = parse_latex_expr(g.items[1].text);
  auto pl = parse_latex_expr(p.items[0].text), pr = parse_latex_expr(p.items[1].text);
  if (!gl || !gr || !pl || !pr) return false;
  if (gl->oversized || gr->oversized || pl->oversized || pr->oversized) {
    c.budget = true;
    return false;
  }
  try {
    GiNaC::ex dg = fg ? gr->e - gl->e : gl->e - gr->e;
    GiNaC::ex dp = fp ? pr->e - pl->e : pl->e - pr->e;
    if (dg.is_zero() || dp.is_zero()) return dg.is_zero() && dp.is_zero();
    const GiNaC::ex q = (dg / dp).normal();
    if (!GiNaC::is_a<GiNaC::numeric>(q)) return false;
    const auto& n = GiNaC::ex_to<GiNaC::numeric>(q);
    if (!n.is_real() || n.is_zero()) return false;
    c.leaf_reason = "equal_relation";
    return (rg == Rel::kEq || rg == Rel::kNe) ? true : n.is_positive();
  } catch (const std::exception&) {
    return false;
  }
}

bool cmp(const Node& g, const Node& p, Ctx& c) {
  if (c.budget) return false;
  if (++c.steps > kMaxSteps) {
    c.budget = true;
    return false;
  }
  // Relations on one side only: look through labels, "x \in S" and inequalities as intervals.
  if (g.kind == Kind::kRelation || p.kind == Kind::kRelation) {
    if (g.kind == Kind::kRelation && p.kind == Kind::kRelation) {
      if (g.ops.size() == 1 && p.ops.size() == 1 && g.ops[0] == Rel::kIn && p.ops[0] == Rel::kIn)
        return cmp(g.items[0], p.items[0], c) && cmp(g.items[1], p.items[1], c);
      const Node* gv = labeled_value(g);
      const Node* pv = labeled_value(p);
      if (gv && pv && g.items.size() >= 2 && p.items.size() >= 2 &&
          cmp(g.items[0], p.items[0], c) && cmp(*gv, *pv, c))
        return true;
      if (g.ops.size() == 1 && p.ops.size() == 1 && g.ops[0] != Rel::kIn && p.ops[0] != Rel::kIn &&
          cmp_relations(g, p, c))
        return true;
      auto gi = relation_interval(g), pi = relation_interval(p);
      if (!gi && g.ops.size() == 1 && g.ops[0] == Rel::kIn) gi = g.items[1];
      if (!pi && p.ops.size() == 1 && p.ops[0] == Rel::kIn) pi = p.items[1];
      if (gi && pi) return cmp(*gi, *pi, c);
      return false;
    }
    if (g.kind == Kind::kRelation) {
      if (const Node* v = labeled_value(g)) return cmp(*v, p, c);
      if (g.ops.size() == 1 && g.ops[0] == Rel::kIn) return cmp(g.items[1], p, c);
      if (auto iv = relation_interval(g); iv && is_interval_like(p)) return cmp(*iv, p, c);
      return false;
    }
    // A predicted "... = v" states v, whatever its left side.
    bool all_eq = true;
    for (Rel r : p.ops) all_eq = all_eq && r == Rel::kEq;
    if (all_eq) return cmp(g, p.items.back(), c);
    if (p.ops.size() == 1 && p.ops[0] == Rel::kIn) return cmp(g, p.items[1], c);
    if (auto iv = relation_interval(p); iv && is_interval_like(g)) return cmp(g, *iv, c);
    return false;
  }
  const bool gl = g.kind == Kind::kList || g.kind == Kind::kSet;
  const bool pl = p.kind == Kind::kList || p.kind == Kind::kSet;
  if (gl && pl) {
    if (cmp_unordered(unlabeled(g.items), unlabeled(p.items), c)) {
      c.leaf_reason = g.kind == Kind::kSet ? "equal_set" : "equal_list";
      return true;
    }
    return false;
  }
  // A bare list against a tuple: the tuple written without its parentheses, in order.
  if ((g.kind == Kind::kList && p.kind == Kind::kTuple) ||
      (g.kind == Kind::kTuple && p.kind == Kind::kList)) {
    if (cmp_ordered(unlabeled(g.items), unlabeled(p.items), c)) {
      c.leaf_reason = "equal_tuple";
      return true;
    }
    return false;
  }
  if (gl && g.items.size() == 1) return cmp(g.items[0], p, c);
  if (pl && p.items.size() == 1) return cmp(g, p.items[0], c);
  if (g.kind == Kind::kTuple && p.kind == Kind::kTuple) {
    if (cmp_ordered(g.items, p.items, c)) {
      c.leaf_reason = "equal_tuple";
      return true;
    }
    return false;
  }
  if (is_interval_like(g) && is_interval_like(p)) {
    auto as_interval = [](const Node& n) {
      if (n.kind != Kind::kTuple) return n;
      Node iv = n;
      iv.kind = Kind::kInterval;
      return iv;
    };
    const Node a = as_interval(g), b = as_interval(p);
    if (a.kind == Kind::kUnion || b.kind == Kind::kUnion) {
      auto parts = [](const Node& n) {
        return n.kind == Kind::kUnion ? n.items : std::vector<Node>{n};
      };
      if (cmp_unordered(parts(a), parts(b), c)) {
        c.leaf_reason = "equal_interval";
        return true;
      }
      return false;
    }
    if (a.kind != Kind::kInterval || b.kind != Kind::kInterval) return false;
    if (a.lo_closed != b.lo_closed || a.hi_closed != b.hi_closed) return false;
    if (cmp_ordered(a.items, b.items, c)) {
      c.leaf_reason = "equal_interval";
      return true;
    }
    return false;
  }
  if (g.kind == Kind::kChoice || p.kind == Kind::kChoice) {
    const std::string x = lower_letters(g.text), y = lower_letters(p.text);
    c.leaf_reason = "equal_text";
    return x == y;
  }
  if (g.kind == Kind::kText || p.kind == Kind::kText) {
    const std::string x = lower_letters(g.text), y = lower_letters(p.text);
    c.leaf_reason = "equal_text";
    return !x.empty() && x == y;
  }
  if (g.kind == Kind::kScalar && p.kind == Kind::kScalar) return cmp_scalar(g, p, c);
  return false;
}

}  // namespace

std::string normalize_answer(const std::string& text) {
  std::string s = text;
  if (s.size() > kMaxAnswer) return s;
  // "\\frac" in text that was escaped twice.
  for (size_t p = 0; (p = s.find("\\\\", p)) != std::string::npos;) {
    if (p + 2 < s.size() && alpha(s[p + 2]) && s.compare(p + 2, 3, "end") != 0 &&
        s.compare(p + 2, 5, "begin") != 0 && s.compare(p + 2, 4, "hline") != 0)
      s.erase(p, 1);
    else
      p += 2;
  }
  replace_all(s, "\\\\", "\x01");  // row breaks "\\" stay whole while commands go
  unwrap_command(s, "\\boxed");
  unwrap_command(s, "\\fbox");
  for (const char* t : {"\\text{ and }", "\\text{and}", "\\text{ or }", "\\text{or}",
                        "\\text{ and}", "\\text{and }", "\\mbox{ and }"})
    replace_all(s, t, ", ");
  replace_all(s, ",\\! ", ",");
  replace_all(s, ",\\!", ",");
  for (const char* d :
       {"\\displaystyle", "\\left.", "\\right.", "\\left", "\\right", "\\!", "\\bigl", "\\bigr",
        "\\Bigl", "\\Bigr", "\\$", "$", "\\(", "\\)", "\\[", "\\]"})
    replace_all(s, d, "");
  for (const char* d : {"\\qquad", "\\quad", "\\,", "\\;", "\\:", "\\ ", "~", "\n", "\t", "\r"})
    replace_all(s, d, " ");
  for (const char* d : {"\\dfrac", "\\tfrac", "\\cfrac"}) replace_all(s, d, "\\frac");
  replace_all(s, "{,}", ",");
  for (const char* d : {"^{\\circ}", "^\\circ", "\\circ", "\xC2\xB0", "\\degree"})
    replace_all(s, d, "");
  for (const char* d : {"\\leqslant", "\\leq", "\\le", "\\geqslant", "\\geq", "\\ge", "\\neq",
                        "\\ne", "\\lt", "\\gt", "\xE2\x89\xA4", "\xE2\x89\xA5", "\xE2\x89\xA0"}) {
    const std::string w(d);
    const char* to = w.find("le") != std::string::npos || w == "\xE2\x89\xA4"   ? "<="
                     : w.find("ge") != std::string::npos || w == "\xE2\x89\xA5" ? ">="
                     : w == "\\lt"                                              ? "<"
                     : w == "\\gt"                                              ? ">"
                                                                                : "!=";
    replace_all(s, w, to);
  }
  replace_all(s, "=<", "<=");
  replace_all(s, "=>", ">=");
  replace_all(s, "\\dots", "");
  replace_word(s, "and", ", ");
  replace_word(s, "or", ", ");
  replace_all(s, "\x01", "\\\\");
  return trim_space(s);
}

Verdict compare_answers(const std::string& gold, const std::string& pred,
                        const CompareOptions& options) {
  Verdict v;
  if (gold.size() > kMaxAnswer || pred.size() > kMaxAnswer) {
    v.equal = gold == pred;
    v.reason = v.equal ? "equal_text" : "budget";
    return v;
  }
  const std::string g = normalize_answer(gold), p = normalize_answer(pred);
  if (g == p && !g.empty()) {
    v.equal = true;
    v.reason = "equal_text";
    return v;
  }
  const Node gn = parse_node(g, 0), pn = parse_node(p, 0);
  Ctx c{options, 0, false, {}};
  v.equal = cmp(gn, pn, c);
  if (v.equal)
    v.reason = c.leaf_reason.empty() ? "equal_expr" : c.leaf_reason;
  else
    v.reason = c.budget ? "budget" : "different";
  if (!v.equal && !c.budget && gn.kind == Kind::kScalar && pn.kind == Kind::kScalar) {
    std::lock_guard<std::mutex> lock(ginac_mutex());
    if (!parse_number(g) && !parse_latex_expr(g)) v.reason = "unparsed";
  }
  return v;
}

}  // namespace r1
