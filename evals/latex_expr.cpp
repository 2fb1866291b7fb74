// LaTeX expression parser (see latex_expr.h): a recursive-descent parser over the raw text.
// Grammar: sum := [+-] term (('+'|'-') term)*; term := power ((op | implicit) power)*;
// power := postfix ['^' exponent]; postfix := atom '!'*. Depth and length are bounded, so hostile
// input (10,000 nested braces) fails cleanly instead of overflowing the stack.
#include "evals/latex_expr.h"

#include <ginac/ginac.h>  // GiNaC

#include <algorithm>  // std::max
#include <cctype>     // std::isalpha
#include <cmath>      // std::abs
#include <map>        // std::map
#include <mutex>      // std::mutex
#include <sstream>    // std::ostringstream
#include <vector>     // std::vector

#include "evals/math_number.h"  // r1::parse_number

namespace r1 {
namespace {

constexpr int kMaxDepth = 200;
constexpr size_t kMaxLength = 20000;

// One GiNaC symbol per name (GiNaC compares symbols by identity). All GiNaC work happens under
// ginac_mutex() (GiNaC's reference counts are not atomic), which also guards this table.
GiNaC::symbol symbol_named(const std::string& name) {
  static std::map<std::string, GiNaC::symbol> table;
  auto it = table.find(name);
  if (it == table.end()) it = table.emplace(name, GiNaC::symbol(name)).first;
  return it->second;
}

GiNaC::numeric to_ginac(const mpq_class& q) {
  return GiNaC::numeric(q.get_num().get_str().c_str()) /
         GiNaC::numeric(q.get_den().get_str().c_str());
}

// Bits of |n| (numerator and denominator), to keep numbers GiNaC builds within the budget.
double numeric_bits(const GiNaC::numeric& n) {
  if (n.is_zero()) return 0;
  if (!n.is_rational()) return 64;
  return static_cast<double>(GiNaC::numer(n).int_length() + GiNaC::denom(n).int_length());
}

class Parser {
 public:
  explicit Parser(const std::string& s) : s_(s) {}

  std::optional<ParsedExpr> parse() {
    auto e = sum();
    skip();
    if (!e || i_ != s_.size()) return std::nullopt;
    // Infinity is no number: GiNaC, taking it as a symbol, would make \infty-\infty 0,
    // \frac{\infty}{\infty} and 1^\infty 1 (D7). An expression with it is +-\infty or unreadable.
    if (infinity_ && !plus_or_minus_infinity(*e)) return std::nullopt;
    return ParsedExpr{*e, oversized_};
  }

 private:
  static bool plus_or_minus_infinity(const GiNaC::ex& e) {
    for (const GiNaC::ex& x : {e, -e})
      if (GiNaC::is_a<GiNaC::symbol>(x) && GiNaC::ex_to<GiNaC::symbol>(x).get_name() == "\\infty")
        return true;
    return false;
  }
  static bool alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
  static bool digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

  void skip() {
    for (;;) {
      while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t')) ++i_;
      bool again = false;
      for (const char* w :
           {"\\left", "\\right", "\\bigl", "\\bigr", "\\Bigl", "\\Bigr", "\\big", "\\Big", "\\,",
            "\\;", "\\:", "\\!", "\\ ", "\\displaystyle", "\\qquad", "\\quad"}) {
        const size_t n = std::char_traits<char>::length(w);
        if (s_.compare(i_, n, w) == 0 &&
            !(n > 2 && w[n - 1] != 'd' && i_ + n < s_.size() && alpha(s_[i_ + n]))) {
          i_ += n;
          again = true;
          break;
        }
      }
      if (!again) return;
    }
  }
  bool peek(const char* w) {
    skip();
    const size_t n = std::char_traits<char>::length(w);
    if (s_.compare(i_, n, w) != 0) return false;
    // A command must not continue with a letter ("\pi" is not the start of "\pin").
    return !(w[0] == '\\' && n > 1 && alpha(w[n - 1]) && i_ + n < s_.size() && alpha(s_[i_ + n]));
  }
  bool eat(const char* w) {
    if (!peek(w)) return false;
    i_ += std::char_traits<char>::length(w);
    return true;
  }
  bool deeper() { return ++depth_ <= kMaxDepth; }

  std::optional<GiNaC::ex> sum() {
    if (!deeper()) return std::nullopt;
    std::optional<GiNaC::ex> e;
    if (eat("-")) {
      auto t = term();
      if (t) e = -*t;
    } else {
      eat("+");
      e = term();
    }
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
    if (c == '|') return !in_abs_;
    if (c == '\\') {
      for (const char* op :
           {"\\cdot", "\\times", "\\div", "\\right", "\\}", "\\end", "\\\\", "\\pm", "\\mp"})
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
      } else if (eat("\\div") || eat("/") || eat(":")) {
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

  // base^exponent, keeping numeric powers whose result would exceed kMaxBits unevaluated.
  GiNaC::ex make_power(const GiNaC::ex& base, const GiNaC::ex& ex) {
    if (GiNaC::is_a<GiNaC::numeric>(base) && GiNaC::is_a<GiNaC::numeric>(ex)) {
      const auto& b = GiNaC::ex_to<GiNaC::numeric>(base);
      const auto& x = GiNaC::ex_to<GiNaC::numeric>(ex);
      // 0^0 and 0^-n are undefined: GiNaC throws from inside the power it is building, and
      // leaks it (found by the fuzzer: "0^{1x0000000}"). Kept opaque instead.
      if (b.is_zero() && !(x.is_real() && x > 0)) return opaque("pow", base, ex);
      const double bits = numeric_bits(b);
      if (x.is_rational() && bits > 1 && GiNaC::abs(x) > GiNaC::numeric(kMaxBits) / bits)
        return opaque("pow", base, ex);
    }
    // A number to a symbolic power with large numbers in it (10^{10^{17} A}), or with a number
    // to a symbolic power in it (a tower, 10^{10^{A}}: found by the fuzzer): evaluating it at a
    // sample point would build a float with a huge exponent. Kept opaque as well.
    if (GiNaC::is_a<GiNaC::numeric>(base) && !GiNaC::is_a<GiNaC::numeric>(ex))
      for (auto it = ex.preorder_begin(); it != ex.preorder_end(); ++it) {
        if (GiNaC::is_a<GiNaC::numeric>(*it) &&
            GiNaC::abs(GiNaC::ex_to<GiNaC::numeric>(*it)) > GiNaC::numeric(10000))
          return opaque("pow", base, ex);
        if (GiNaC::is_a<GiNaC::power>(*it) && GiNaC::is_a<GiNaC::numeric>(it->op(0)) &&
            !GiNaC::is_a<GiNaC::numeric>(it->op(1)))
          return opaque("pow", base, ex);
      }
    return GiNaC::pow(base, ex);
  }

  std::optional<GiNaC::ex> power() {
    if (eat("-")) {  // 2 \cdot -3
      if (!deeper()) return std::nullopt;
      auto p = power();
      --depth_;
      if (!p) return std::nullopt;
      return -*p;
    }
    auto base = postfix();
    if (!base) return std::nullopt;
    if (eat("^")) {
      auto ex = exponent();
      if (!ex) return std::nullopt;
      return make_power(*base, *ex);
    }
    return base;
  }
  // An exponent: {..}, a single digit or letter (2^10 is 2^1 0 in LaTeX, but "2^10" in plain
  // text means 1024: digits run on), or a signed atom.
  std::optional<GiNaC::ex> exponent() {
    skip();
    if (i_ < s_.size() && s_[i_] == '{') return arg();
    if (eat("-")) {
      auto e = exponent();
      if (!e) return std::nullopt;
      return -*e;
    }
    return postfix();
  }

  std::optional<GiNaC::ex> postfix() {
    auto e = atom();
    while (e && i_ < s_.size() && s_[i_] == '!' && !(i_ + 1 < s_.size() && s_[i_ + 1] == '=')) {
      ++i_;
      if (GiNaC::is_a<GiNaC::numeric>(*e)) {
        const auto& n = GiNaC::ex_to<GiNaC::numeric>(*e);
        if (!n.is_nonneg_integer()) return std::nullopt;
        if (n > kMaxFactorial) {
          e = opaque("factorial", *e, 0);
          continue;
        }
      }
      e = GiNaC::factorial(*e);
    }
    return e;
  }

  std::optional<GiNaC::ex> group(const char* close) {
    auto e = sum();
    if (!e || !eat(close)) return std::nullopt;
    return e;
  }

  // {..} or a single character argument (\frac12).
  std::optional<GiNaC::ex> arg() {
    skip();
    if (eat("{")) return group("}");
    if (i_ < s_.size() && digit(s_[i_])) return GiNaC::ex(GiNaC::numeric(s_[i_++] - '0'));
    if (i_ < s_.size() && alpha(s_[i_])) return GiNaC::ex(symbol_named(std::string(1, s_[i_++])));
    return atom();
  }

  // The raw text of a {...} group or one character (subscripts).
  std::optional<std::string> raw_arg() {
    if (i_ >= s_.size()) return std::nullopt;
    if (s_[i_] != '{') return std::string(1, s_[i_++]);
    int d = 0;
    const size_t b = i_;
    for (; i_ < s_.size(); ++i_) {
      if (s_[i_] == '{') ++d;
      if (s_[i_] == '}' && --d == 0) return s_.substr(b + 1, i_++ - b - 1);
    }
    return std::nullopt;
  }

  std::optional<GiNaC::ex> atom() {
    if (!deeper()) return std::nullopt;
    std::optional<GiNaC::ex> e = atom_inner();
    --depth_;
    return e;
  }

  std::optional<GiNaC::ex> matrix(const std::string& env) {
    if (env == "array") {  // column spec
      skip();
      if (i_ < s_.size() && s_[i_] == '{' && !raw_arg()) return std::nullopt;
    }
    std::vector<std::vector<GiNaC::ex>> rows(1);
    const std::string end = "\\end{" + env + "}";
    for (;;) {
      skip();
      if (s_.compare(i_, end.size(), end) == 0) {
        i_ += end.size();
        break;
      }
      auto cell = sum();
      if (!cell) return std::nullopt;
      rows.back().push_back(*cell);
      skip();
      if (eat("&")) continue;
      if (s_.compare(i_, 2, "\\\\") == 0) {
        i_ += 2;
        skip();
        if (s_.compare(i_, end.size(), end) == 0) continue;  // trailing \\ before \end
        rows.emplace_back();
        continue;
      }
      if (s_.compare(i_, end.size(), end) != 0) return std::nullopt;
    }
    if (rows.back().empty()) rows.pop_back();
    if (rows.empty()) return std::nullopt;
    const size_t cols = rows[0].size();
    for (const auto& r : rows)
      if (r.size() != cols) return std::nullopt;
    GiNaC::matrix m(static_cast<unsigned>(rows.size()), static_cast<unsigned>(cols));
    for (size_t r = 0; r < rows.size(); ++r)
      for (size_t c = 0; c < cols; ++c)
        m(static_cast<unsigned>(r), static_cast<unsigned>(c)) = rows[r][c];
    return GiNaC::ex(m);
  }

  std::optional<GiNaC::ex> function_call(int fn) {
    // \sin^2 x: a power written between the name and the argument.
    std::optional<GiNaC::ex> pw;
    if (eat("^")) {
      pw = exponent();
      if (!pw) return std::nullopt;
    }
    std::optional<GiNaC::ex> base;  // \log_b x
    if (fn == kLog && eat("_")) {
      base = arg();
      if (!base) return std::nullopt;
    }
    auto a = power();
    if (!a) return std::nullopt;
    GiNaC::ex v;
    switch (fn) {
      case kSin:
        v = GiNaC::sin(*a);
        break;
      case kCos:
        v = GiNaC::cos(*a);
        break;
      case kTan:
        v = GiNaC::tan(*a);
        break;
      case kSec:
        v = 1 / GiNaC::cos(*a);
        break;
      case kCsc:
        v = 1 / GiNaC::sin(*a);
        break;
      case kCot:
        v = GiNaC::cos(*a) / GiNaC::sin(*a);
        break;
      case kAsin:
        v = GiNaC::asin(*a);
        break;
      case kAcos:
        v = GiNaC::acos(*a);
        break;
      case kAtan:
        v = GiNaC::atan(*a);
        break;
      case kSinh:
        v = GiNaC::sinh(*a);
        break;
      case kCosh:
        v = GiNaC::cosh(*a);
        break;
      case kTanh:
        v = GiNaC::tanh(*a);
        break;
      case kLog:
        v = base ? GiNaC::log(*a) / GiNaC::log(*base) : GiNaC::log(*a);
        break;
      default:
        v = GiNaC::exp(*a);
        break;
    }
    return pw ? make_power(v, *pw) : v;
  }

  std::optional<GiNaC::ex> atom_inner() {
    skip();
    if (i_ >= s_.size()) return std::nullopt;
    if (eat("(")) return group(")");
    if (eat("[")) return group("]");
    if (eat("{")) return group("}");
    if (s_[i_] == '|' && !in_abs_) {
      ++i_;
      in_abs_ = true;
      auto e = sum();
      in_abs_ = false;
      if (!e || !eat("|")) return std::nullopt;
      return GiNaC::abs(*e);
    }
    for (const char* f : {"\\dfrac", "\\tfrac", "\\cfrac", "\\frac"}) {
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
      return make_power(*a, 1 / index);
    }
    if (eat("\\begin{")) {
      const size_t close = s_.find('}', i_);
      if (close == std::string::npos) return std::nullopt;
      const std::string env = s_.substr(i_, close - i_);
      i_ = close + 1;
      if (env == "pmatrix" || env == "bmatrix" || env == "matrix" || env == "array" ||
          env == "smallmatrix" || env == "Bmatrix")
        return matrix(env);
      return std::nullopt;
    }
    if (eat("\\pi")) return GiNaC::ex(GiNaC::Pi);
    if (eat("\\infty") || eat("\\inf")) {
      infinity_ = true;
      return GiNaC::ex(symbol_named("\\infty"));
    }
    for (const char* wrap :
         {"\\mathrm", "\\mathbf", "\\mathit", "\\operatorname", "\\boldsymbol"}) {
      if (!eat(wrap)) continue;
      skip();
      auto inner = raw_arg();
      if (!inner) return std::nullopt;
      if (*inner == "e") return GiNaC::exp(GiNaC::ex(1));
      if (*inner == "i") return GiNaC::ex(GiNaC::I);
      Parser sub(*inner);
      sub.depth_ = depth_;
      auto v = sub.parse();
      if (!v) return std::nullopt;
      oversized_ = oversized_ || v->oversized;
      infinity_ = infinity_ || sub.infinity_;
      return v->e;
    }
    static const std::pair<const char*, int> kFunctions[] = {
        {"\\arcsin", kAsin}, {"\\arccos", kAcos}, {"\\arctan", kAtan}, {"\\sinh", kSinh},
        {"\\cosh", kCosh},   {"\\tanh", kTanh},   {"\\sin", kSin},     {"\\cos", kCos},
        {"\\tan", kTan},     {"\\sec", kSec},     {"\\csc", kCsc},     {"\\cot", kCot},
        {"\\ln", kLog},      {"\\log", kLog},     {"\\exp", kExp}};
    for (const auto& [name, fn] : kFunctions)
      if (eat(name)) return function_call(fn);
    if (s_[i_] == '\\') {  // a Greek letter: a symbol; another command: unreadable
      size_t j = i_ + 1;
      while (j < s_.size() && alpha(s_[j])) ++j;
      if (j == i_ + 1) return std::nullopt;
      const std::string name = s_.substr(i_ + 1, j - i_ - 1);
      static const char* kGreek[] = {
          "alpha",  "beta",  "gamma",  "delta", "epsilon", "varepsilon", "theta",  "vartheta",
          "lambda", "mu",    "nu",     "xi",    "sigma",   "phi",        "varphi", "omega",
          "rho",    "tau",   "psi",    "eta",   "zeta",    "kappa",      "chi",    "Gamma",
          "Delta",  "Theta", "Lambda", "Sigma", "Phi",     "Omega",      "Psi"};
      for (const char* g : kGreek)
        if (name == g) {
          i_ = j;
          return subscripted(name);
        }
      return std::nullopt;
    }
    if (digit(s_[i_]) || s_[i_] == '.') {
      size_t j = i_;
      while (j < s_.size() && (digit(s_[j]) || s_[j] == '.')) ++j;
      const std::string digits = s_.substr(i_, j - i_);
      auto n = parse_number(digits);
      if (!n) return std::nullopt;
      i_ = j;
      if (i_ < s_.size() && s_[i_] == '_' && digits.find('.') == std::string::npos) {
        ++i_;  // a number in another base: 1011_2, 204_{5}
        auto b = raw_arg();
        if (!b) return std::nullopt;
        auto base = parse_number(*b);
        if (!base || base->value.get_den() != 1 || base->value < 2 || base->value > 36)
          return std::nullopt;
        mpz_class v;
        if (v.set_str(digits, static_cast<int>(base->value.get_num().get_si())) != 0)
          return std::nullopt;
        // Its digits, as written: the question asked for the answer in that base, so 52_8 equals
        // 52 and 52_{8}, not 42 (its decimal value), as math-verify and the MATH answers read it.
        return GiNaC::ex(to_ginac(n->value));
      }
      return GiNaC::ex(to_ginac(n->value));
    }
    if (alpha(s_[i_])) {
      const char c = s_[i_++];
      if (c == 'e' && !(i_ < s_.size() && (alpha(s_[i_]) || s_[i_] == '_')))
        return GiNaC::exp(GiNaC::ex(1));  // Euler's number
      if (c == 'i' && !(i_ < s_.size() && (alpha(s_[i_]) || s_[i_] == '_')))
        return GiNaC::ex(GiNaC::I);
      return subscripted(std::string(1, c));
    }
    return std::nullopt;
  }

  // A value too large to compute (9^{10^{10}}, 10^6!) as an opaque symbol named after it: GiNaC
  // re-evaluates held objects inside later arithmetic, but never a symbol. The same value written
  // twice is the same symbol, so it still cancels.
  GiNaC::ex opaque(const char* what, const GiNaC::ex& a, const GiNaC::ex& b) {
    oversized_ = true;
    std::ostringstream name;
    name << "\\oversized:" << what << "(" << a << "," << b << ")";
    return symbol_named(name.str());
  }

  // A symbol with an optional subscript (a_{37}, x_1): the subscript is part of its name.
  std::optional<GiNaC::ex> subscripted(std::string name) {
    if (i_ < s_.size() && s_[i_] == '_') {
      ++i_;
      auto sub = raw_arg();
      if (!sub) return std::nullopt;
      std::string clean;
      for (char c : *sub)
        if (c != ' ' && c != '{' && c != '}') clean += c;
      name += "_" + clean;
    }
    return GiNaC::ex(symbol_named(name));
  }

  enum { kSin, kCos, kTan, kSec, kCsc, kCot, kAsin, kAcos, kAtan, kSinh, kCosh, kTanh, kLog, kExp };
  static constexpr double kMaxBits = 1 << 17;  // numbers GiNaC may build: 131,072 bits
  static constexpr int kMaxFactorial = 5000;

  const std::string& s_;
  size_t i_ = 0;
  int depth_ = 0;
  bool oversized_ = false;
  bool infinity_ = false;  // \infty was read: the whole must be +-\infty
  bool in_abs_ = false;
};

// Terms expand() would make, estimated from the tree (capped).
double expanded_terms(const GiNaC::ex& e) {
  constexpr double kCap = 1e12;
  if (GiNaC::is_a<GiNaC::add>(e)) {
    double n = 0;
    for (size_t k = 0; k < e.nops(); ++k) n = std::min(kCap, n + expanded_terms(e.op(k)));
    return n;
  }
  if (GiNaC::is_a<GiNaC::mul>(e)) {
    double n = 1;
    for (size_t k = 0; k < e.nops(); ++k) n = std::min(kCap, n * expanded_terms(e.op(k)));
    return n;
  }
  if (GiNaC::is_a<GiNaC::power>(e)) {
    const double b = expanded_terms(e.op(0));
    const GiNaC::ex& x = e.op(1);
    if (b > 1 && GiNaC::is_a<GiNaC::numeric>(x) && GiNaC::ex_to<GiNaC::numeric>(x).is_integer()) {
      const double n = std::abs(GiNaC::ex_to<GiNaC::numeric>(x).to_double());
      return std::min(kCap, std::pow(b, std::min(n, 64.0)));
    }
    return b;
  }
  return 1;
}

bool is_infinity(const GiNaC::ex& s) {
  return GiNaC::is_a<GiNaC::symbol>(s) && GiNaC::ex_to<GiNaC::symbol>(s).get_name() == "\\infty";
}

ExprVerdict compare_scalar(const GiNaC::ex& a, const GiNaC::ex& b, bool oversized) {
  constexpr double kMaxExpandTerms = 5000;
  GiNaC::ex d = a - b;
  if (d.is_zero()) return ExprVerdict::kEqual;
  if (GiNaC::is_a<GiNaC::numeric>(d)) return ExprVerdict::kDifferent;  // 1/2004! vs 1/2006!
  if (oversized) return ExprVerdict::kBudget;
  if (expanded_terms(d) <= kMaxExpandTerms) {
    const GiNaC::ex n = d.expand().normal();
    if (n.is_zero()) return ExprVerdict::kEqual;
    if (GiNaC::is_a<GiNaC::numeric>(n)) return ExprVerdict::kDifferent;
  }
  // Second opinion by numbers (GiNaC does not denest radicals: sqrt(8) vs 2 sqrt(2)): the
  // difference evaluated at three fixed points for the symbols must vanish relative to the
  // values' size within kNumericTolerance. Infinity is never substituted. Every symbol takes
  // both signs over the three points, so equalities that hold only under a sign assumption
  // (\sqrt{x^2} = x, D7) do not pass.
  constexpr double kNumericTolerance = 1e-12;
  GiNaC::exset symbols;
  for (auto it = d.preorder_begin(); it != d.preorder_end(); ++it)
    if (GiNaC::is_a<GiNaC::symbol>(*it) && !is_infinity(*it)) symbols.insert(*it);
  const double points[3][4] = {{0.7316, 1.9187, -0.4421, 2.3307},
                               {1.2893, -0.8712, 0.5518, 1.1071},
                               {-2.1754, 0.3343, 1.7209, -1.4467}};
  for (const auto& p : points) {
    GiNaC::exmap at;
    size_t k = 0;
    for (const auto& sym : symbols) {
      at[sym] = GiNaC::numeric(p[k % 4] + 0.001 * static_cast<double>(k / 4));
      ++k;
    }
    const GiNaC::ex va = a.subs(at).evalf(), vb = b.subs(at).evalf();
    if (!GiNaC::is_a<GiNaC::numeric>(va) || !GiNaC::is_a<GiNaC::numeric>(vb))
      return ExprVerdict::kDifferent;
    const GiNaC::numeric x = GiNaC::ex_to<GiNaC::numeric>(va), y = GiNaC::ex_to<GiNaC::numeric>(vb);
    // Relative to the values' size, in CLN floats (no overflow to inf or underflow to 0).
    const GiNaC::numeric scale = std::max(GiNaC::abs(x), GiNaC::abs(y));
    if (GiNaC::abs(x - y) > GiNaC::numeric(kNumericTolerance) * scale)
      return ExprVerdict::kDifferent;
  }
  return ExprVerdict::kEqual;
}

}  // namespace

std::mutex& ginac_mutex() {
  static std::mutex mu;
  return mu;
}

std::optional<ParsedExpr> parse_latex_expr(const std::string& text) {
  if (text.size() > kMaxLength) return std::nullopt;
  std::string s = text;
  for (size_t p; (p = s.find('$')) != std::string::npos;) s.erase(p, 1);
  try {
    return Parser(s).parse();
  } catch (const std::exception&) {
    return std::nullopt;  // GiNaC throws on e.g. division by zero inside simplification
  }
}

ExprVerdict expr_compare(const ParsedExpr& pa, const ParsedExpr& pb) {
  try {
    const bool oversized = pa.oversized || pb.oversized;
    GiNaC::ex a = pa.e, b = pb.e;
    if (!oversized) {
      a = a.evalm();
      b = b.evalm();
    }
    const bool ma = GiNaC::is_a<GiNaC::matrix>(a), mb = GiNaC::is_a<GiNaC::matrix>(b);
    if (ma != mb) return ExprVerdict::kDifferent;
    if (ma) {
      const auto& x = GiNaC::ex_to<GiNaC::matrix>(a);
      const auto& y = GiNaC::ex_to<GiNaC::matrix>(b);
      if (x.rows() != y.rows() || x.cols() != y.cols()) return ExprVerdict::kDifferent;
      for (unsigned r = 0; r < x.rows(); ++r)
        for (unsigned c = 0; c < x.cols(); ++c) {
          const ExprVerdict v = compare_scalar(x(r, c), y(r, c), false);
          if (v != ExprVerdict::kEqual) return v;
        }
      return ExprVerdict::kEqual;
    }
    return compare_scalar(a, b, oversized);
  } catch (const std::exception&) {
    return ExprVerdict::kDifferent;
  }
}

std::optional<double> expr_real_value(const ParsedExpr& p) {
  if (p.oversized) return std::nullopt;
  try {
    const GiNaC::ex v = p.e.evalf();
    if (!GiNaC::is_a<GiNaC::numeric>(v)) return std::nullopt;
    const auto& n = GiNaC::ex_to<GiNaC::numeric>(v);
    if (!n.is_real()) return std::nullopt;
    return n.to_double();
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace r1
