// Jinja2's lexer, as transformers configures it (see jinja_lexer.h).
#include "toolkit/jinja_lexer.h"

#include <cctype>  // std::isdigit, std::isalpha

#include "toolkit/error.h"  // r1::Error

namespace r1::jinja {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string normalize_newlines(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out += '\n';
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

void append_utf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class Lexer {
 public:
  Lexer(const std::string& source, const std::string& origin)
      : src_(normalize_newlines(source)), origin_(origin) {
    if (!src_.empty() && src_.back() == '\n') src_.pop_back();  // keep_trailing_newline=False
  }

  std::vector<Token> run() {
    while (pos_ < src_.size()) {
      const size_t start = find_tag(pos_);
      std::string text = src_.substr(pos_, start - pos_);
      if (start == src_.size()) {
        emit_text(text);
        break;
      }
      const char type = src_[start + 1];
      const char sign =
          start + 2 < src_.size() && (src_[start + 2] == '-' || src_[start + 2] == '+')
              ? src_[start + 2]
              : 0;
      strip_before(text, type, sign);
      emit_text(text);
      advance_lines(src_.substr(pos_, start - pos_));
      pos_ = start + 2 + (sign ? 1 : 0);
      if (type == '#')
        skip_comment();
      else if (type == '%' && raw_begins())
        read_raw();
      else
        read_tag(type);
    }
    tokens_.push_back({Token::Kind::kEof, "", line_});
    return std::move(tokens_);
  }

 private:
  [[noreturn]] void fail(const std::string& msg) const {
    throw Error("chat template " + origin_ + " line " + std::to_string(line_) + ": " + msg);
  }

  size_t find_tag(size_t from) const {
    for (size_t i = from; i + 1 < src_.size(); ++i)
      if (src_[i] == '{' && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#'))
        return i;
    return src_.size();
  }

  // `{%-` strips all whitespace before the tag; with lstrip_blocks a block or comment tag alone on
  // its line also takes the spaces and tabs before it (unless `{%+`).
  void strip_before(std::string& text, char type, char sign) const {
    if (sign == '-') {
      size_t end = text.size();
      while (end > 0 && is_space(text[end - 1])) --end;
      text.resize(end);
    } else if (sign != '+' && type != '{') {
      const size_t nl = text.rfind('\n');
      const size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
      if (l_pos > 0 || line_starting_) {
        bool only_ws = l_pos < text.size();
        for (size_t i = l_pos; i < text.size(); ++i)
          if (!is_space(text[i])) only_ws = false;
        if (only_ws) text.resize(l_pos);
      }
    }
  }

  void emit_text(const std::string& text) {
    if (!text.empty()) tokens_.push_back({Token::Kind::kText, text, line_});
  }

  void advance_lines(const std::string& s) {
    for (char c : s)
      if (c == '\n') ++line_;
  }

  // After `-%}` every following whitespace character goes; after a plain `%}` (trim_blocks) one
  // newline; after `+%}` nothing.
  void skip_after_end(char sign, bool trim) {
    const size_t from = pos_;
    if (sign == '-') {
      while (pos_ < src_.size() && is_space(src_[pos_])) ++pos_;
    } else if (sign != '+' && trim && pos_ < src_.size() && src_[pos_] == '\n') {
      ++pos_;
    }
    advance_lines(src_.substr(from, pos_ - from));
    line_starting_ = pos_ > 0 && src_[pos_ - 1] == '\n';
  }

  void skip_comment() {
    const size_t end = src_.find("#}", pos_);
    if (end == std::string::npos) fail("unclosed comment ({# without #})");
    const char sign =
        end > pos_ && (src_[end - 1] == '-' || src_[end - 1] == '+') ? src_[end - 1] : 0;
    advance_lines(src_.substr(pos_, end - pos_));
    pos_ = end + 2;
    skip_after_end(sign, true);
  }

  bool raw_begins() const {
    size_t i = pos_;
    while (i < src_.size() && is_space(src_[i])) ++i;
    if (src_.compare(i, 3, "raw") != 0) return false;
    i += 3;
    while (i < src_.size() && is_space(src_[i])) ++i;
    if (i < src_.size() && (src_[i] == '-' || src_[i] == '+')) ++i;
    return src_.compare(i, 2, "%}") == 0;
  }

  void read_raw() {
    const size_t close = src_.find("%}", pos_);
    const char open_sign = src_[close - 1] == '-' ? '-' : 0;
    pos_ = close + 2;
    skip_after_end(open_sign, false);
    for (size_t i = src_.find("{%", pos_); i != std::string::npos; i = src_.find("{%", i + 2)) {
      size_t j = i + 2;
      const char sign = j < src_.size() && (src_[j] == '-' || src_[j] == '+') ? src_[j] : 0;
      if (sign) ++j;
      while (j < src_.size() && is_space(src_[j])) ++j;
      if (src_.compare(j, 6, "endraw") != 0) continue;
      j += 6;
      while (j < src_.size() && is_space(src_[j])) ++j;
      const char end_sign = j < src_.size() && (src_[j] == '-' || src_[j] == '+') ? src_[j] : 0;
      if (end_sign) ++j;
      if (src_.compare(j, 2, "%}") != 0) continue;
      std::string text = src_.substr(pos_, i - pos_);
      if (sign == '-') {
        while (!text.empty() && is_space(text.back())) text.pop_back();
      }
      emit_text(text);
      advance_lines(src_.substr(pos_, j + 2 - pos_));
      pos_ = j + 2;
      skip_after_end(end_sign, true);
      return;
    }
    fail("{% raw %} without {% endraw %}");
  }

  void read_tag(char type) {
    const int open_line = line_;
    tokens_.push_back({type == '{' ? Token::Kind::kVarBegin : Token::Kind::kBlockBegin, "", line_});
    const char close = type == '{' ? '}' : '%';
    std::vector<char> balance;
    while (true) {
      while (pos_ < src_.size() && is_space(src_[pos_])) {
        if (src_[pos_] == '\n') ++line_;
        ++pos_;
      }
      if (pos_ >= src_.size()) {
        line_ = open_line;
        fail(std::string("unclosed tag (") + (type == '{' ? "{{ without }}" : "{% without %}") +
             ")");
      }
      if (balance.empty() && end_of_tag(close)) return;
      read_token(balance);
    }
  }

  bool end_of_tag(char close) {
    char sign = 0;
    size_t i = pos_;
    if (src_[i] == '-' || src_[i] == '+') sign = src_[i++];
    if (sign == '+' && close == '}') return false;
    if (src_.compare(i, 2, std::string(1, close) + "}") != 0) return false;
    tokens_.push_back({close == '}' ? Token::Kind::kVarEnd : Token::Kind::kBlockEnd, "", line_});
    pos_ = i + 2;
    skip_after_end(sign, close == '%');
    return true;
  }

  void read_token(std::vector<char>& balance) {
    const char c = src_[pos_];
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t e = pos_;
      while (e < src_.size() &&
             (std::isalnum(static_cast<unsigned char>(src_[e])) || src_[e] == '_'))
        ++e;
      tokens_.push_back({Token::Kind::kName, src_.substr(pos_, e - pos_), line_});
      pos_ = e;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      read_number();
    } else if (c == '\'' || c == '"') {
      read_string(c);
    } else {
      read_operator(balance);
    }
  }

  void read_number() {
    size_t e = pos_;
    auto digits = [&] {
      while (e < src_.size() &&
             (std::isdigit(static_cast<unsigned char>(src_[e])) || src_[e] == '_'))
        ++e;
    };
    digits();
    bool is_float = false;
    if (e + 1 < src_.size() && src_[e] == '.' &&
        std::isdigit(static_cast<unsigned char>(src_[e + 1]))) {
      is_float = true;
      ++e;
      digits();
    }
    if (e < src_.size() && (src_[e] == 'e' || src_[e] == 'E')) {
      size_t k = e + 1;
      if (k < src_.size() && (src_[k] == '+' || src_[k] == '-')) ++k;
      if (k < src_.size() && std::isdigit(static_cast<unsigned char>(src_[k]))) {
        is_float = true;
        e = k;
        digits();
      }
    }
    std::string num;
    for (size_t i = pos_; i < e; ++i)
      if (src_[i] != '_') num += src_[i];
    tokens_.push_back({is_float ? Token::Kind::kFloat : Token::Kind::kInt, num, line_});
    pos_ = e;
  }

  // Python's unicode-escape decoding of a string literal's body, as Jinja2 does.
  void read_string(char quote) {
    const int line = line_;
    std::string out;
    size_t i = pos_ + 1;
    for (;; ++i) {
      if (i >= src_.size()) fail("unclosed string literal");
      const char c = src_[i];
      if (c == quote) break;
      if (c == '\n') ++line_;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (++i >= src_.size()) fail("unclosed string literal");
      i = read_escape(i, out);
    }
    tokens_.push_back({Token::Kind::kString, out, line});
    pos_ = i + 1;
  }

  size_t read_escape(size_t i, std::string& out) {
    const char e = src_[i];
    switch (e) {
      case 'n':
        out += '\n';
        return i;
      case 't':
        out += '\t';
        return i;
      case 'r':
        out += '\r';
        return i;
      case '\\':
        out += '\\';
        return i;
      case '\'':
        out += '\'';
        return i;
      case '"':
        out += '"';
        return i;
      case 'a':
        out += '\a';
        return i;
      case 'b':
        out += '\b';
        return i;
      case 'f':
        out += '\f';
        return i;
      case 'v':
        out += '\v';
        return i;
      case '\n':
        ++line_;
        return i;  // line continuation
      case 'x':
        return read_hex(i, 2, out);
      case 'u':
        return read_hex(i, 4, out);
      case 'U':
        return read_hex(i, 8, out);
      default:
        break;
    }
    if (e >= '0' && e <= '7') {
      uint32_t v = 0;
      size_t k = i;
      for (; k < i + 3 && k < src_.size() && src_[k] >= '0' && src_[k] <= '7'; ++k)
        v = v * 8 + (src_[k] - '0');
      append_utf8(v, out);
      return k - 1;
    }
    out += '\\';
    out += e;
    return i;
  }

  size_t read_hex(size_t i, size_t n, std::string& out) {
    uint32_t v = 0;
    for (size_t k = 1; k <= n; ++k) {
      const char h = i + k < src_.size() ? src_[i + k] : 0;
      if (!std::isxdigit(static_cast<unsigned char>(h)))
        fail(std::string("bad \\") + src_[i] + " escape in a string literal");
      v = v * 16 + static_cast<uint32_t>(std::isdigit(static_cast<unsigned char>(h))
                                             ? h - '0'
                                             : (std::tolower(h) - 'a' + 10));
    }
    if (v > 0x10FFFF) fail("bad \\U escape in a string literal");
    append_utf8(v, out);
    return i + n;
  }

  void read_operator(std::vector<char>& balance) {
    static const char* kTwo[] = {"//", "**", "==", "!=", "<=", ">="};
    for (const char* op : kTwo)
      if (src_.compare(pos_, 2, op) == 0) {
        tokens_.push_back({Token::Kind::kOp, op, line_});
        pos_ += 2;
        return;
      }
    const char c = src_[pos_];
    static const std::string kOne = "+-*/%~<>=()[]{}.,:|;!";
    if (kOne.find(c) == std::string::npos) fail(std::string("unexpected character '") + c + "'");
    if (c == '(' || c == '[' || c == '{') balance.push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
    if (c == ')' || c == ']' || c == '}') {
      if (balance.empty()) fail(std::string("unexpected '") + c + "'");
      if (balance.back() != c)
        fail(std::string("unexpected '") + c + "', expected '" + balance.back() + "'");
      balance.pop_back();
    }
    tokens_.push_back({Token::Kind::kOp, std::string(1, c), line_});
    ++pos_;
  }

  std::string src_;
  const std::string& origin_;
  size_t pos_ = 0;
  int line_ = 1;
  bool line_starting_ = true;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> lex_template(const std::string& source, const std::string& origin) {
  return Lexer(source, origin).run();
}

}  // namespace r1::jinja
