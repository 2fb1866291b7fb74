// The chat templates r1 carries for --chat-template NAME (real published templates; see
// chat_templates_builtin.cpp).
#pragma once

#include <string>  // std::string
#include <vector>  // std::vector

namespace r1 {

struct BuiltinChatTemplate {
  const char* name;    // --chat-template NAME
  const char* file;    // tests/data/chat_templates/<file>.jinja holds the same bytes
  const char* model;   // the models that publish it
  const char* source;  // the Jinja text
};

const std::vector<BuiltinChatTemplate>& builtin_chat_templates();

}  // namespace r1
