// Code extraction from a model response: the last fenced (```) block of the answer region (after
// the last "</think>", as for math), and its language from the fence's tag or the benchmark's
// default. Leaves out running the code (code_grader.h) and indented (unfenced) code blocks.
#pragma once

#include <optional>  // std::optional
#include <string>    // std::string
#include <vector>    // std::vector

#include "sandbox/sandbox.h"  // r1::sandbox::Lang

namespace r1 {

// One fenced block: a line of three or more backticks (indented by up to three spaces) with an
// optional info string, up to a line of at least as many backticks and nothing else.
struct FencedBlock {
  std::string tag;   // first word of the info string, lower-cased ("python", "cpp", "")
  std::string code;  // the lines between the fences, each ending in '\n'
};

// Every closed fenced block of `text`, in order. An unclosed last fence yields nothing.
std::vector<FencedBlock> fenced_blocks(const std::string& text);

// The language a fence tag names: "python"/"py"/"python3" -> Python; "cpp"/"c++"/"cc"/"cxx" ->
// Cpp (case-insensitive); "" -> `default_lang`; any other tag (java, text, bash...) -> nullopt.
std::optional<sandbox::Lang> lang_from_tag(const std::string& tag, sandbox::Lang default_lang);

struct CodeExtraction {
  std::optional<std::string> code;  // set when a block was found
  sandbox::Lang lang = sandbox::Lang::Python;
  // "ok", or why there is no code: "truncated" (finish_reason "length"), "unclosed_think",
  // "no_code_block", "unsupported_language" (only blocks tagged with languages r1 cannot run).
  std::string status = "no_code_block";
  std::string tag;  // the chosen block's tag, or the last unsupported tag seen
};

// The code of a full response: the last fenced block, in the answer region, whose tag names a
// language r1 runs or is empty (blocks tagged "text", "bash", ... are output or shell, skipped).
// require_think: a response without "</think>" has no answer region (as extract.h's).
CodeExtraction extract_code(const std::string& response, sandbox::Lang default_lang,
                            bool require_think, const std::string& finish_reason = "stop");

}  // namespace r1
