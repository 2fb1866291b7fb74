// r1tok: Hugging Face tokenizer.json files from the command line.
//   r1tok encode --tokenizer FILE|DIR [--special] [--jsonl]   stdin text -> JSON array of ids
//   r1tok decode --tokenizer FILE|DIR [--skip-special] [--jsonl]   JSON array of ids -> text
//   r1tok chat --tokenizer DIR [--chat-template NAME|FILE] [--no-generation-prompt]
//                                                  messages JSON on stdin -> the prompt text
// With --jsonl each input line is one JSON string (encode) or one JSON array (decode), and each
// output line one JSON array (encode) or one JSON string (decode).
#include <CLI/CLI.hpp>        // CLI::App
#include <nlohmann/json.hpp>  // nlohmann::json

#include <cstdio>    // std::fprintf
#include <iostream>  // std::cin
#include <iterator>  // std::istreambuf_iterator

#include "toolkit/chat_template.h"  // r1::render_chat
#include "toolkit/cli_flags.h"      // r1::parse_flags
#include "toolkit/cli_main.h"       // r1::guarded_main
#include "toolkit/error.h"          // r1::Error
#include "toolkit/hf_hub.h"         // r1::resolve_tokenizer_path
#include "toolkit/json.h"           // r1::dump_json
#include "toolkit/tokenizer.h"      // r1::Tokenizer

namespace {

std::string read_stdin() {
  return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
}

// Each line of stdin parsed as JSON; errors name the line.
std::vector<nlohmann::json> read_jsonl() {
  std::vector<nlohmann::json> rows;
  std::string line;
  for (size_t n = 1; std::getline(std::cin, line); ++n) {
    if (line.empty()) continue;
    try {
      rows.push_back(nlohmann::json::parse(line));
    } catch (const nlohmann::json::exception&) {
      throw r1::Error("stdin line " + std::to_string(n) + ": not valid JSON");
    }
  }
  return rows;
}

std::vector<int64_t> ids_of(const nlohmann::json& j, const std::string& where) {
  r1::check(j.is_array(), where + ": expected a JSON array of ids");
  std::vector<int64_t> ids;
  for (const auto& x : j) {
    r1::check(x.is_number_integer() && !(x.is_number_unsigned() && x.get<uint64_t>() > INT64_MAX),
              where + ": ids must be integers that fit 64 bits (got " + x.dump() + ")");
    ids.push_back(x.get<int64_t>());
  }
  return ids;
}

int run(int argc, char** argv) {
  CLI::App app{"r1tok: encode and decode with a Hugging Face tokenizer.json"};
  app.require_subcommand(1);
  std::string path;
  bool special = false, skip_special = false, jsonl = false;
  int threads = 0;
  auto* enc = app.add_subcommand("encode", "stdin text -> JSON array of ids");
  enc->add_option("--tokenizer", path, "tokenizer.json or a checkpoint directory")->required();
  enc->add_flag("--special", special, "add the post-processor's special tokens (e.g. BOS)");
  enc->add_flag("--jsonl", jsonl, "one JSON string per input line, one JSON array per output line");
  enc->add_option("--threads", threads, "threads for --jsonl (default: all cores)");
  auto* dec = app.add_subcommand("decode", "JSON array of ids -> text");
  dec->add_option("--tokenizer", path, "tokenizer.json or a checkpoint directory")->required();
  dec->add_flag("--skip-special", skip_special, "drop special tokens");
  dec->add_flag("--jsonl", jsonl, "one JSON array per input line, one JSON string per output line");
  auto* chat =
      app.add_subcommand("chat", "messages JSON (stdin) -> prompt text with the chat template");
  std::string chat_template, tools_file, template_kwargs;
  bool no_gen = false;
  chat->add_option("--tokenizer", path, "checkpoint or tokenizer directory, or a GGUF file")
      ->required();
  chat->add_option(
      "--chat-template", chat_template,
      "deepseek-r1, deepseek-r1-nothink, qwen2.5, llama3, llama3.1, a .jinja file, or the name of "
      "one of the model's templates");
  chat->add_option("--tools", tools_file,
                   "JSON file: a list of tools (JSON-schema functions) for the template");
  chat->add_option("--template-kwargs", template_kwargs,
                   "JSON object of extra template variables, e.g. '{\"enable_thinking\": false}'");
  chat->add_flag("--no-generation-prompt", no_gen, "do not open the assistant turn");
  if (const auto code = r1::parse_flags(app, argc, argv)) return *code;
  path = r1::resolve_tokenizer_path(path);  // a hub id: its tokenizer files in the hub cache
  if (chat->parsed()) {
    r1::ChatInput in;
    in.kwargs = r1::parse_template_kwargs(template_kwargs);
    if (!tools_file.empty()) in.tools = r1::read_tools_file(tools_file);
    const auto tmpl = r1::load_chat_template(path, chat_template);
    const auto j = nlohmann::ordered_json::parse(read_stdin(), nullptr, false);
    r1::check(!j.is_discarded(),
              "stdin: not valid JSON (expected [{\"role\": ..., \"content\": ...}, ...])");
    r1::check(j.is_array(), "stdin: expected a JSON array of messages");
    for (size_t i = 0; i < j.size(); ++i)
      r1::check(j[i].is_object() && j[i].contains("role") && j[i]["role"].is_string(),
                "stdin: message " + std::to_string(i) + " needs a string field role");
    std::cout << r1::render_chat_json(tmpl, j, !no_gen, in);
    return 0;
  }
  const r1::Tokenizer tok = r1::Tokenizer::load(path);
  if (enc->parsed()) {
    if (!jsonl) {
      std::cout << nlohmann::json(tok.encode(read_stdin(), special)).dump() << "\n";
      return 0;
    }
    std::vector<std::string> texts;
    size_t n = 0;
    for (const auto& row : read_jsonl()) {
      ++n;
      r1::check(row.is_string(), "stdin line " + std::to_string(n) + ": expected a JSON string");
      texts.push_back(row.get<std::string>());
    }
    for (const auto& ids : tok.encode_batch(texts, special, threads))
      std::cout << nlohmann::json(ids).dump() << "\n";
    return 0;
  }
  if (!jsonl) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(read_stdin());
    } catch (const nlohmann::json::exception&) {
      throw r1::Error("stdin: not valid JSON (expected an array of ids)");
    }
    std::cout << tok.decode(ids_of(j, "stdin"), skip_special);
    return 0;
  }
  size_t n = 0;
  for (const auto& row : read_jsonl()) {
    ++n;
    std::cout << r1::dump_json(
                     tok.decode(ids_of(row, "stdin line " + std::to_string(n)), skip_special))
              << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  return r1::guarded_main("r1tok", [&] { return run(argc, argv); });
}
