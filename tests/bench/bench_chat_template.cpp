// bench_chat_template: chat-template render speed of r1's Jinja engine for
// tests/bench/bench_chat_template.py, which times transformers (Python Jinja2) on the same cases in
// the same run. Reads the corpus goldens (tests/data/goldens/jinja_templates.json), keeps the
// cases that render, and prints JSON: the parse time of all templates, and the best-of-N time to
// render every case once (each template parsed once, as a server does).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <iostream>
#include <map>

#include "toolkit/chat_template.h"
#include "toolkit/fs.h"

namespace {

double seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_chat_template"};
  std::string goldens = "tests/data/goldens/jinja_templates.json",
              corpus = "tests/data/chat_templates/corpus";
  int repeats = 5;
  app.add_option("--goldens", goldens);
  app.add_option("--corpus", corpus);
  app.add_option("--repeats", repeats);
  CLI11_PARSE(app, argc, argv);
  const auto doc = nlohmann::ordered_json::parse(r1::read_file(goldens));
  std::map<std::string, std::string> sources;
  for (const auto& g : doc["cases"]) {
    const std::string name = g["template"].get<std::string>();
    if (!sources.count(name)) sources[name] = r1::read_file(corpus + "/" + name + ".jinja");
  }
  double parse_s = 1e30;
  std::map<std::string, r1::ChatTemplate> templates;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    for (const auto& [name, src] : sources)
      templates[name] = r1::chat_template_from_source(src, name);
    parse_s = std::min(parse_s, seconds(t0));
  }
  struct Case {
    r1::ChatTemplate t;
    nlohmann::ordered_json messages;
    bool gen;
    r1::ChatInput in;
  };
  std::vector<Case> cases;
  for (const auto& g : doc["cases"]) {
    if (!g.contains("rendered")) continue;
    Case c{templates[g["template"].get<std::string>()],
           g["messages"],
           g["add_generation_prompt"].get<bool>(),
           {}};
    c.t.special_tokens = g["special_tokens"];
    c.in.kwargs = g["kwargs"];
    c.in.tools = g.value("tools", nlohmann::ordered_json());
    c.in.documents = g.value("documents", nlohmann::ordered_json());
    std::tm now{};
    now.tm_year = 126;
    now.tm_mday = 15;
    c.in.now = now;
    cases.push_back(std::move(c));
  }
  double render_s = 1e30;
  size_t bytes = 0;
  for (int r = 0; r < repeats; ++r) {
    bytes = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (const auto& c : cases) bytes += r1::render_chat_json(c.t, c.messages, c.gen, c.in).size();
    render_s = std::min(render_s, seconds(t0));
  }
  const nlohmann::json j = {
      {"templates", sources.size()}, {"cases", cases.size()}, {"parse_s", parse_s},
      {"render_s", render_s},        {"bytes", bytes},        {"repeats", repeats}};
  std::cout << j.dump() << "\n";
}
