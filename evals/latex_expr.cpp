// LaTeX expression parser (see latex_expr.h): a recursive-descent parser over the raw text.
// Grammar: sum := term (('+'|'-') term)*; term := power ((op | implicit) power)*;
// power := unary ('^' unary)*; unary := ('-'|'+')* atom. Depth and length are bounded, so hostile
// input (10,000 nested braces) fails cleanly instead of overflowing the stack.
#include "evals/latex_expr.h"

#include <ginac/ginac.h>  // GiNaC

#include <algorithm>  // std::max
#include <cctype>     // std::isalpha
#include <cmath>      // std::abs
#include <map>        // std::map
#include <mutex>      // std::mutex

#include "evals/math_number.h"  // r1::parse_number

namespace r1 {
namespace {

constexpr int kMaxDepth = 200;
constexpr size_t kMaxLength = 20000;

// One GiNaC symbol per name for the whole process (GiNaC compares symbols by identity).
GiNaC::symbol symbol_named(const std::string& name) {
  static std::mutex mu;
  static std::map<std::string, GiNaC::symbol> table;
  std::lock_guard<std::mutex> lock(mu);
  auto it = table.find(name);
  if (it == table.end()) it = table.emplace(name, GiNaC::symbol(name)).first;
  return it->second;
}

class Parser {
 public:
  explicit Parser(const std::string& s) : s_(s) {}

  std::optional<GiNaC::ex> parse() {
    auto e = sum();
    skip();
    if (!e || i_ != s_.size()) return std::nullopt;
    return e;
  }

 private:
  void skip() {
    for (;;) {
      while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t')) ++i_;
      bool again = false;
      for (const char* w :
           {"\\left", "\\right", "\\,", "\\;", "\\:", "\\!", "\\ ", "\\displaystyle"}) {
        const size_t n = std::char_traits<char>::length(w);
        if (s_.compare(i_, n, w) == 0 && !(n > 2 && i_ + n < s_.size() &&
                                           std::isalpha(static_cast<unsigned char>(s_[i_ + n])))) {
          i_ += n;
          again = true;
        }
      }
      if (!again) return;
    }
  }
  bool eat(const char* w) {
    skip();
    const size_t n = std::char_traits<char>::length(w);
    if (s_.compare(i_, n, w) != 0) return false;
    // A command must not continue with a letter ("\pi" is not the start of "\pin").
    if (w[0] == '\\' && n > 1 && std::isalpha(static_cast<unsigned char>(w[n - 1])) &&
        i_ + n < s_.size() && std::isalpha(static_cast<unsigned char>(s_[i_ + n])))
      return false;
    i_ += n;
    return true;
  }

  std::optional<GiNaC::ex> sum() {
    if (++depth_ > kMaxDepth) return std::nullopt;
    auto e = term();
    while (e) {
      if (eat("+")) {
        auto r = term();
        if (!r) return std::nullopt;
        e = *e + *r;
      } else if (eat("-")) {
        auto r = term();
        if (!r) return std::nullopt;
        e = *e - *r;
      } else {
        break;
      }
    }
    --depth_;
    return e;
  }

  bool at_atom_start() {
    skip();
    if (i_ >= s_.size()) return false;
    const char c = s_[i_];
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '(' || c == '[' || c == '{' || c == '.')
      return true;
    if (c == '\\') {
      for (const char* op : {"\\cdot", "\\times", "\\div", "\\right", "\\}"})
        if (s_.compare(i_, std::char_traits<char>::length(op), op) == 0) return false;
      return true;
    }
    return false;
  }

  std::optional<GiNaC::ex> term() {
    auto e = power();
    while (e) {
      if (eat("\\cdot") || eat("\\times") || eat("*")) {
        auto r = power();
        if (!r) return std::nullopt;
        e = *e * *r;
      } else if (eat("\\div") || eat("/")) {
        auto r = power();
        if (!r || r->is_zero()) return std::nullopt;
        e = *e / *r;
      } else if (at_atom_start()) {  // implicit multiplication: 2x, 2\pi, x(y+1)
        auto r = power();
        if (!r) return std::nullopt;
        e = *e * *r;
      } else {
        break;
      }
    }
    return e;
  }

  std::optional<GiNaC::ex> power() {
    auto base = unary();
    if (!base) return std::nullopt;
    if (eat("^")) {
      auto ex = unary();
      if (!ex) return std::nullopt;
      // Power towers are not expanded here: GiNaC keeps 9^{9^{9}} symbolic unless both sides are
      // small integers, and the grader bounds the work it asks GiNaC to do.
      if (GiNaC::is_a<GiNaC::numeric>(*ex) && GiNaC::abs(GiNaC::ex_to<GiNaC::numeric>(*ex)) > 10000)
        return GiNaC::ex(GiNaC::power(*base, *ex).hold());
      return GiNaC::pow(*base, *ex);
    }
    return base;
  }

  std::optional<GiNaC::ex> unary() {
    if (eat("-")) {
      auto e = unary();
      if (!e) return std::nullopt;
      return -*e;
    }
    if (eat("+")) return unary();
    return atom();
  }

  std::optional<GiNaC::ex> group(const char* open, const char* close) {
    auto e = sum();
    if (!e || !eat(close)) return std::nullopt;
    return e;
  }

  // {..} or a single character argument (\frac12).
  std::optional<GiNaC::ex> arg() {
    skip();
    if (eat("{")) return group("{", "}");
    if (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) {
      return GiNaC::ex(GiNaC::numeric(s_[i_++] - '0'));
    }
    if (i_ < s_.size() && std::isalpha(static_cast<unsigned char>(s_[i_]))) {
      return GiNaC::ex(symbol_named(std::string(1, s_[i_++])));
    }
    return atom();
  }

  std::optional<GiNaC::ex> atom() {
    if (++depth_ > kMaxDepth) return std::nullopt;
    std::optional<GiNaC::ex> e = atom_inner();
    --depth_;
    return e;
  }

  std::optional<GiNaC::ex> atom_inner() {
    skip();
    if (i_ >= s_.size()) return std::nullopt;
    if (eat("(")) return group("(", ")");
    if (eat("[")) return group("[", "]");
    if (eat("{")) return group("{", "}");
    for (const char* f : {"\\dfrac", "\\tfrac", "\\frac"}) {
      if (!eat(f)) continue;
      auto a = arg(), b = arg();
      if (!a || !b || b->is_zero()) return std::nullopt;
      return *a / *b;
    }
    if (eat("\\sqrt")) {
      GiNaC::ex index = 2;
      if (eat("[")) {
        auto n = sum();
        if (!n || !eat("]") || n->is_zero()) return std::nullopt;
        index = *n;
      }
      auto a = arg();
      if (!a) return std::nullopt;
      return GiNaC::pow(*a, 1 / index);
    }
    if (eat("\\pi")) return GiNaC::ex(GiNaC::Pi);
    if (eat("\\infty")) return std::nullopt;  // infinities belong to intervals: the grader's part
    for (auto [name, fn] : std::initializer_list<std::pair<const char*, int>>{
             {"\\sin", 0}, {"\\cos", 1}, {"\\tan", 2}, {"\\ln", 3}, {"\\log", 3}, {"\\exp", 4}}) {
      if (!eat(name)) continue;
      auto a = power();
      if (!a) return std::nullopt;
      switch (fn) {
        case 0:
          return GiNaC::sin(*a);
        case 1:
          return GiNaC::cos(*a);
        case 2:
          return GiNaC::tan(*a);
        case 3:
          return GiNaC::log(*a);
        default:
          return GiNaC::exp(*a);
      }
    }
    if (s_[i_] == '\\') {  // a Greek letter or another command name: a symbol
      size_t j = i_ + 1;
      while (j < s_.size() && std::isalpha(static_cast<unsigned char>(s_[j]))) ++j;
      if (j == i_ + 1) return std::nullopt;
      const std::string name = s_.substr(i_ + 1, j - i_ - 1);
      static const char* kGreek[] = {"alpha",  "beta", "gamma", "delta", "epsilon", "theta",
                                     "lambda", "mu",   "sigma", "phi",   "omega",   "rho",
                                     "tau",    "psi",  "eta",   "zeta"};
      for (const char* g : kGreek)
        if (name == g) {
          i_ = j;
          return GiNaC::ex(symbol_named(name));
        }
      return std::nullopt;  // unknown command
    }
    if (std::isdigit(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.') {
      size_t j = i_;
      while (j < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[j])) || s_[j] == '.'))
        ++j;
      auto n = parse_number(s_.substr(i_, j - i_));
      if (!n) return std::nullopt;
      i_ = j;
      return GiNaC::ex(n->value);
    }
    if (std::isalpha(static_cast<unsigned char>(s_[i_]))) {
      const char c = s_[i_++];
      if (c == 'e' && !(i_ < s_.size() && std::isalpha(static_cast<unsigned char>(s_[i_]))))
        return GiNaC::exp(GiNaC::ex(1));  // Euler's number
      return GiNaC::ex(symbol_named(std::string(1, c)));
    }
    return std::nullopt;
  }

  const std::string& s_;
  size_t i_ = 0;
  int depth_ = 0;
};

}  // namespace

std::optional<GiNaC::ex> parse_latex_expr(const std::string& text) {
  if (text.size() > kMaxLength) return std::nullopt;
  std::string s = text;
  for (const char* d : {"$"}) {
    for (size_t p; (p = s.find(d)) != std::string::npos;) s.erase(p, 1);
  }
  try {
    return Parser(s).parse();
  } catch (const std::exception&) {
    return std::nullopt;  // GiNaC throws on e.g. division by zero inside simplification
  }
}

bool expr_equivalent(const GiNaC::ex& a, const GiNaC::ex& b) {
  try {
    const GiNaC::ex d = (a - b).expand().normal();
    if (d.is_zero()) return true;
    // Exact numbers that differ are different, however close (1/2004! vs 1/2006!).
    if (GiNaC::is_a<GiNaC::numeric>(d)) return false;
    // Second opinion by numbers (GiNaC does not denest radicals: sqrt(8) vs 2 sqrt(2)): the
    // difference evaluated at three fixed points for the symbols must vanish relative to the
    // values' size within kNumericTolerance.
    constexpr double kNumericTolerance = 1e-12;
    GiNaC::exset symbols;
    for (auto it = d.preorder_begin(); it != d.preorder_end(); ++it)
      if (GiNaC::is_a<GiNaC::symbol>(*it)) symbols.insert(*it);
    const double points[3][4] = {{0.7316, 1.9187, -0.4421, 2.3307},
                                 {1.2893, -0.8712, 0.5518, 1.1071},
                                 {2.1754, 0.3343, 1.7209, -1.4467}};
    for (const auto& p : points) {
      GiNaC::exmap at;
      size_t k = 0;
      for (const auto& sym : symbols) {
        at[sym] = GiNaC::numeric(p[k % 4] + 0.001 * static_cast<double>(k / 4));
        ++k;
      }
      const GiNaC::ex va = a.subs(at).evalf(), vb = b.subs(at).evalf();
      if (!GiNaC::is_a<GiNaC::numeric>(va) || !GiNaC::is_a<GiNaC::numeric>(vb)) return false;
      const GiNaC::numeric x = GiNaC::ex_to<GiNaC::numeric>(va),
                           y = GiNaC::ex_to<GiNaC::numeric>(vb);
      // Relative to the values' size, in CLN floats (no overflow to inf or underflow to 0).
      const GiNaC::numeric scale = std::max(GiNaC::abs(x), GiNaC::abs(y));
      if (GiNaC::abs(x - y) > GiNaC::numeric(kNumericTolerance) * scale) return false;
    }
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace r1
