// A Jinja2 template engine of r1's own, for Hugging Face chat templates: a template is parsed
// once (parse errors name the construct and its line), then rendered any number of times, from
// any number of threads, with transformers' environment: trim_blocks, lstrip_blocks, loop
// controls, {% generation %}, the tojson override, raise_exception, strftime_now, namespace, dict.
// A template's raise_exception(msg) throws jinja::TemplateRaised carrying msg; every other failure
// is an r1::Error naming the template and line.
#pragma once

#include <ctime>   // std::tm
#include <memory>  // std::shared_ptr
#include <string>  // std::string

#include "toolkit/jinja_value.h"  // r1::jinja::Value

namespace r1::jinja {

struct Program;

class Template {
 public:
  // `origin` names the template in errors (a file path, or "<name> (built in)").
  Template(const std::string& source, const std::string& origin);

  // Renders with the entries of `vars` (a dict Value) as the template's variables. `now` is
  // strftime_now's local time (null: the current time).
  std::string render(const Value& vars, const std::tm* now = nullptr) const;

  const std::string& origin() const;

 private:
  std::shared_ptr<const Program> program_;
};

}  // namespace r1::jinja
