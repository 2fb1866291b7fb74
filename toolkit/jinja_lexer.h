// Splits a Jinja template into text and tag tokens the way Jinja2's lexer does with transformers'
// settings: trim_blocks and lstrip_blocks on, `{%-`/`-%}` whitespace control, `+` to opt out,
// \r\n and \r read as \n, one trailing newline dropped (keep_trailing_newline off), {# comments #}
// and {% raw %} blocks.
#pragma once

#include <string>  // std::string
#include <vector>  // std::vector

namespace r1::jinja {

struct Token {
  enum class Kind {
    kText,
    kVarBegin,
    kVarEnd,
    kBlockBegin,
    kBlockEnd,
    kName,
    kString,
    kInt,
    kFloat,
    kOp,
    kEof
  };
  Kind kind;
  std::string text;  // text, name, operator, or a string literal's unescaped value
  int line = 1;
};

// Throws r1::Error naming `origin` and the line for an unclosed tag, comment or string.
std::vector<Token> lex_template(const std::string& source, const std::string& origin);

}  // namespace r1::jinja
