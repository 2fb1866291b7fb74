// Parses a Jinja template into a Program (jinja_ast.h), following Jinja2's grammar and operator
// precedence. Constructs chat templates do not use (extends, block, include, import) and unknown
// tags are errors naming the construct and its line.
#pragma once

#include <string>  // std::string

#include "toolkit/jinja_ast.h"  // r1::jinja::Program

namespace r1::jinja {

Program parse_template(const std::string& source, const std::string& origin);

}  // namespace r1::jinja
