// Exact number parsing (see math_number.h): the text is normalised (math delimiters, LaTeX
// spacing, percent words), then read by a small recursive scanner into a CLN rational.
#include "evals/math_number.h"

#include "toolkit/text.h"  // r1::trim_space

#include <cctype>  // std::isdigit
#include <vector>  // std::vector

namespace r1 {
namespace {

mpz_class pow10(long n) {
  mpz_class p;
  mpz_ui_pow_ui(p.get_mpz_t(), 10, static_cast<unsigned long>(n));
  return p;
}

// v * 10^e, exactly.
mpq_class scale10(const mpq_class& v, long e) {
  return e >= 0 ? mpq_class(v * pow10(e)) : mpq_class(v / mpq_class(pow10(-e)));
}

bool starts(const std::string& s, size_t i, const char* p) {
  return s.compare(i, std::char_traits<char>::length(p), p) == 0;
}

void erase_all(std::string& s, const std::string& what, const std::string& with = "") {
  for (size_t p = 0; (p = s.find(what, p)) != std::string::npos;) {
    s.replace(p, what.size(), with);
    p += with.size();
  }
}

// Digits with optional thousands separators and a decimal point or comma -> exact rational.
std::optional<mpq_class> read_decimal(const std::string& s, size_t& i) {
  std::string digits, frac;
  const size_t start = i;
  std::vector<size_t> group_sizes;  // digits between separators, to tell thousands from decimals
  size_t run = 0;
  bool seen_point = false;
  while (i < s.size()) {
    const char c = s[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      (seen_point ? frac : digits) += c;
      ++run;
      ++i;
    } else if ((c == ',' || c == ' ') && !seen_point && i + 1 < s.size() &&
               std::isdigit(static_cast<unsigned char>(s[i + 1])) && run > 0) {
      group_sizes.push_back(run);
      run = 0;
      ++i;
      if (c == ',') {
        // A comma not followed by exactly three digits is a decimal comma ("1000,99", "0,111"
        // is ambiguous and read as a decimal when the integer part is 0).
        size_t k = i;
        while (k < s.size() && std::isdigit(static_cast<unsigned char>(s[k]))) ++k;
        // "1,5" and "-2,1" stay lists of two numbers: a single decimal digit after a comma is
        // read as a separator between answers.
        if ((k - i != 3 && (k - i >= 2 || digits.size() >= 4)) || digits == "0") {
          if (group_sizes.size() > 1) return std::nullopt;  // "1,000,99"
          seen_point = true;
          run = 0;
        } else {
          group_sizes.back() = group_sizes.back();  // thousands group
        }
      }
    } else if (c == '.' && !seen_point && i + 1 < s.size() &&
               std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
      seen_point = true;
      run = 0;
      ++i;
    } else {
      break;
    }
  }
  if (i == start || (digits.empty() && frac.empty())) return std::nullopt;
  // Thousands groups after the first must hold exactly three digits.
  for (size_t g = 1; g < group_sizes.size(); ++g)
    if (group_sizes[g] != 3) return std::nullopt;
  if (!group_sizes.empty() && !seen_point && run != 3) return std::nullopt;
  mpq_class v(mpz_class(digits.empty() ? std::string("0") : digits, 10));
  if (!frac.empty()) {
    mpq_class f(mpz_class(frac, 10), pow10(static_cast<long>(frac.size())));
    f.canonicalize();
    v += f;
  }
  return v;
}

// A braced group {...} or a single character (as \frac12); returns its text.
std::optional<std::string> read_arg(const std::string& s, size_t& i) {
  while (i < s.size() && s[i] == ' ') ++i;
  if (i >= s.size()) return std::nullopt;
  if (s[i] != '{') return std::string(1, s[i++]);
  int depth = 0;
  const size_t b = i;
  for (; i < s.size(); ++i) {
    if (s[i] == '{')
      ++depth;
    else if (s[i] == '}' && --depth == 0)
      return s.substr(b + 1, i++ - b - 1);
  }
  return std::nullopt;
}

std::optional<mpq_class> read_value(const std::string& s, size_t& i, int depth);

// Parses the whole of s as one value.
std::optional<mpq_class> whole(const std::string& s, int depth) {
  size_t i = 0;
  const std::string t = trim_space(s);
  auto v = read_value(t, i, depth);
  if (!v || i != t.size()) return std::nullopt;
  return v;
}

std::optional<mpq_class> read_fraction(const std::string& s, size_t& i, int depth) {
  for (const char* f : {"\\dfrac", "\\tfrac", "\\frac"}) {
    if (!starts(s, i, f)) continue;
    i += std::char_traits<char>::length(f);
    auto a = read_arg(s, i), b = read_arg(s, i);
    if (!a || !b) return std::nullopt;
    auto x = whole(*a, depth + 1), y = whole(*b, depth + 1);
    if (!x || !y || *y == 0) return std::nullopt;
    return mpq_class(*x / *y);
  }
  return std::nullopt;
}

// sign? (fraction | decimal [fraction (mixed)] [exponent]) [/ decimal]
std::optional<mpq_class> read_value(const std::string& s, size_t& i, int depth) {
  if (depth > 8) return std::nullopt;
  bool negative = false;
  while (i < s.size() && (s[i] == '-' || s[i] == '+' || s[i] == ' ')) {
    if (s[i] == '-') negative = !negative;
    ++i;
  }
  std::optional<mpq_class> v;
  if (s.compare(i, 5, "\\frac") == 0 || s.compare(i, 6, "\\dfrac") == 0 ||
      s.compare(i, 6, "\\tfrac") == 0) {
    v = read_fraction(s, i, depth);
  } else {
    v = read_decimal(s, i);
    if (!v) return std::nullopt;
    size_t j = i;
    while (j < s.size() && s[j] == ' ') ++j;
    // Mixed number: an integer directly followed by a fraction.
    if (v->get_den() == 1 && j < s.size() && s[j] == '\\') {
      size_t k = j;
      if (auto f = read_fraction(s, k, depth); f && *f > 0 && *f < 1) {
        v = mpq_class(*v + *f);
        i = k;
      }
    }
    // Scientific notation: e/E, or \times / \cdot 10^{n}.
    j = i;
    if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
      size_t k = j + 1;
      bool neg = false;
      if (k < s.size() && (s[k] == '-' || s[k] == '+')) neg = s[k++] == '-';
      size_t e0 = k;
      while (k < s.size() && std::isdigit(static_cast<unsigned char>(s[k]))) ++k;
      if (k > e0 && k - e0 < 6) {
        const int e = std::stoi(s.substr(e0, k - e0));
        v = scale10(*v, neg ? -e : e);
        i = k;
      }
    } else {
      size_t k = j;
      while (k < s.size() && s[k] == ' ') ++k;
      for (const char* op : {"\\times", "\\cdot", "*"}) {
        if (!starts(s, k, op)) continue;
        size_t m = k + std::char_traits<char>::length(op);
        while (m < s.size() && s[m] == ' ') ++m;
        if (!starts(s, m, "10^")) break;
        m += 3;
        auto ex = read_arg(s, m);
        if (!ex) break;
        auto e = whole(*ex, depth + 1);
        if (!e || e->get_den() != 1 || abs(*e) > 100000) break;
        v = scale10(*v, e->get_num().get_si());
        i = m;
        break;
      }
    }
  }
  if (!v) return std::nullopt;
  // a/b with plain numbers.
  size_t j = i;
  while (j < s.size() && s[j] == ' ') ++j;
  if (j < s.size() && s[j] == '/') {
    ++j;
    while (j < s.size() && s[j] == ' ') ++j;
    auto d = read_decimal(s, j);
    if (!d || *d == 0) return std::nullopt;
    v = mpq_class(*v / *d);
    i = j;
  }
  return negative ? mpq_class(-*v) : *v;
}

}  // namespace

std::optional<ParsedNumber> parse_number(const std::string& text) {
  if (text.size() > 10000) return std::nullopt;  // no real number answer is that long
  std::string s = text;
  for (const char* d : {"\\left", "\\right", "\\!", "\\;", "\\:", "\\ ", "\\,", "\\(", "\\)", "\\[",
                        "\\]", "$", "\\$", "~"})
    erase_all(s, d, std::string(d) == "\\," ? "," : "");
  erase_all(s, "{,}", ",");
  ParsedNumber out;
  s = trim_space(s);
  for (const char* p : {"\\%", "%", "percentage", "percent", "pct"}) {
    const std::string ps(p);
    if (s.size() >= ps.size() && s.compare(s.size() - ps.size(), ps.size(), ps) == 0) {
      s = trim_space(s.substr(0, s.size() - ps.size()));
      out.percent = true;
      break;
    }
  }
  // One pair of parentheses around the whole number: "(-3)"; with a comma inside it is a tuple
  // or an interval, not a number.
  if (s.size() >= 2 && s.front() == '(' && s.back() == ')') {
    if (s.find(',') != std::string::npos) return std::nullopt;
    s = trim_space(s.substr(1, s.size() - 2));
  }
  auto v = whole(s, 0);
  if (!v) return std::nullopt;
  out.value = *v;
  return out;
}

std::optional<bool> numbers_equal(const std::string& a, const std::string& b) {
  auto x = parse_number(a), y = parse_number(b);
  if (!x || !y) return std::nullopt;
  return x->value == y->value;
}

}  // namespace r1
