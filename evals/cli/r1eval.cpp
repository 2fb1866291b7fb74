// r1eval: the evaluation harness's command line. This version has `grade`:
//   r1eval grade [--preset boxed|boxed-or-phrase|lenient] < lines.jsonl
// Each input line is {"gold": ..., "pred": ...} (a bare answer) or {"gold": ..., "response": ...}
// (a full model response, extraction applied; optional "finish_reason"); each output line is
// {"correct": bool, "extracted": string|null, "reason": string}. Bad lines give an error naming
// the line; nothing is written for them.
#include <CLI/CLI.hpp>        // CLI::App
#include <nlohmann/json.hpp>  // nlohmann::json

#include <cstdio>    // std::fprintf
#include <iostream>  // std::cin

#include "evals/math_grader.h"  // r1::grade_answer
#include "toolkit/cli_main.h"   // r1::guarded_main
#include "toolkit/error.h"      // r1::Error
#include "toolkit/json.h"       // r1::parse_json

namespace {

int run(int argc, char** argv) {
  CLI::App app{"r1eval: evaluate reasoning models the way the R1 paper does"};
  app.require_subcommand(1);
  auto* grade = app.add_subcommand("grade", "grade JSONL lines {gold, pred|response} from stdin");
  std::string preset = "boxed";
  grade->add_option("--preset", preset,
                    "extraction preset for responses: boxed, boxed-or-phrase, lenient");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  const r1::ExtractConfig config = r1::extract_preset(preset);
  std::string line;
  for (size_t n = 1; std::getline(std::cin, line); ++n) {
    if (line.empty()) continue;
    const std::string where = "stdin line " + std::to_string(n);
    const nlohmann::json j = r1::parse_json(line, where);
    r1::check(j.is_object() && j.contains("gold"), where + ": needs a field gold");
    auto text = [&](const char* key) {
      const auto& v = j[key];
      r1::check(v.is_string() || v.is_number(),
                where + ": field " + key + " must be a string or a number");
      return v.is_string() ? v.get<std::string>() : v.dump();
    };
    r1::Grade g;
    if (j.contains("pred")) {
      g = r1::grade_answer(text("gold"), text("pred"));
      g.extracted = text("pred");
    } else {
      r1::check(j.contains("response"), where + ": needs a field pred or response");
      const std::string finish = j.value("finish_reason", std::string("stop"));
      g = r1::grade_response(text("gold"), text("response"), config, finish);
    }
    nlohmann::json out = {{"correct", g.correct}, {"reason", g.reason}};
    out["extracted"] = g.extracted ? nlohmann::json(*g.extracted) : nlohmann::json(nullptr);
    std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return r1::guarded_main("r1eval", [&] { return run(argc, argv); });
}
