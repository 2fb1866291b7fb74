// YAML read as JSON: core-schema scalar types, quoting, nesting, and errors naming file and line.
#include <gtest/gtest.h>

#include <cmath>   // std::isinf
#include <string>  // std::string

#include "toolkit/error.h"  // r1::Error
#include "toolkit/yaml.h"

TEST(Yaml, ScalarsAndNesting) {
  const auto j = r1::parse_yaml(
      "name: tiny-r1\n"
      "steps: 200\nlr: 1e-3\nhalf: .5\nneg: -3\nhex: 0x1f\nbig: 99999999999999999999\n"
      "on: true\noff: False\nnothing: ~\nempty:\nquoted: \"200\"\nsingle: 'true'\n"
      "inf: .inf\nversion: 1.10\n"
      "stages:\n  - type: sft\n    gates: [\"pass@1 >= 0.5\", truncated_rate <= 0.05]\n"
      "  - {type: grpo, steps: 10}\n",
      "r.yaml");
  EXPECT_EQ(j["name"], "tiny-r1");
  EXPECT_EQ(j["steps"], 200);
  EXPECT_TRUE(j["steps"].is_number_integer());
  EXPECT_DOUBLE_EQ(j["lr"].get<double>(), 1e-3);
  EXPECT_DOUBLE_EQ(j["half"].get<double>(), 0.5);
  EXPECT_EQ(j["neg"], -3);
  EXPECT_EQ(j["hex"], 31);
  EXPECT_TRUE(j["big"].is_number_float());
  EXPECT_EQ(j["on"], true);
  EXPECT_EQ(j["off"], false);
  EXPECT_TRUE(j["nothing"].is_null());
  EXPECT_TRUE(j["empty"].is_null());
  EXPECT_EQ(j["quoted"], "200");
  EXPECT_EQ(j["single"], "true");
  EXPECT_TRUE(std::isinf(j["inf"].get<double>()));
  EXPECT_DOUBLE_EQ(j["version"].get<double>(), 1.1);
  ASSERT_EQ(j["stages"].size(), 2u);
  EXPECT_EQ(j["stages"][0]["gates"][1], "truncated_rate <= 0.05");
  EXPECT_EQ(j["stages"][1]["steps"], 10);
}

namespace {

// Parsing `text` as r.yaml fails with a message that contains `want`.
void expect_error(const std::string& text, const std::string& want) {
  try {
    r1::parse_yaml(text, "r.yaml");
    ADD_FAILURE() << "accepted: " << text;
  } catch (const r1::Error& e) {
    EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(Yaml, ErrorsNameFileAndLine) {
  for (const auto& [text, want] : std::vector<std::pair<std::string, std::string>>{
           {"a: 1\nb: [1, 2\n", "r.yaml:"},
           {"a: 1\na: 2\n", "r.yaml:2:1: key 'a' repeated"},
           {"? [1, 2]\n: x\n", "a key must be a string"},
           {"a: 1\n  b: 2\n", "r.yaml:2:"}}) {
    expect_error(text, want);
  }
  EXPECT_THROW(r1::read_yaml_file("/nonexistent/r.yaml"), r1::Error);
}

// Issue 17, D12: a non-UTF-8 byte gave the JSON library's message with no file, and an
// unterminated quote swallowed the rest of the file, so the error was a later "model: missing".
TEST(Yaml, NonUtf8AndUnterminatedQuotesAreNamedWhereTheyAre) {
  for (const auto& [text, want] : std::vector<std::pair<std::string, std::string>>{
           {"name: x\nconfig: {data: \"caf\xe9.jsonl\"}\n",
            "r.yaml:2:20: not UTF-8 (byte 0xE9); save the file as UTF-8"},
           {"a: \"\xc3\x28\"\n", "r.yaml:1:5: not UTF-8 (byte 0xC3)"},  // bad continuation
           {"a: \"\xc0\xaf\"\n", "r.yaml:1:5: not UTF-8 (byte 0xC0)"},  // overlong form
           {"a: \"\xe2\x82\"\n", "r.yaml:1:5: not UTF-8 (byte 0xE2)"},  // cut short
           {"name: \"x\nmodel: {builtin: zero}\n",
            "r.yaml:1:7: the quote opened here is never closed"},
           {"a: 1\nb: 'it''s\n", "r.yaml:2:4: the quote opened here is never closed"},
           {"a: \"esc \\\"\n", "r.yaml:1:4: the quote opened here is never closed"}}) {
    expect_error(text, want);
  }
  // Closed quotes, escapes, UTF-8 and a quoted scalar over two lines still read.
  const auto j = r1::parse_yaml(
      "a: \"caf\xc3\xa9 \\\" x\"\nb: 'it''s'\nc: \"two\n  lines\"\nd: \xe2\x88\x9e\n", "ok.yaml");
  EXPECT_EQ(j["a"], "caf\xc3\xa9 \" x");
  EXPECT_EQ(j["b"], "it's");
  EXPECT_EQ(j["c"], "two lines");
  EXPECT_EQ(j["d"], "\xe2\x88\x9e");
  // Three megabytes of digits in one plain scalar crashed the reader (std::regex's recursion).
  const auto big = r1::parse_yaml("a: " + std::string(3000000, '9') + "\n", "big.yaml");
  EXPECT_EQ(big["a"].get<std::string>().size(), 3000000u);
}

// Issue 17, D4: 460 bytes of nested aliases ("billion laughs") expand to billions of
// values; reading one stops at the value budget with the file named, in milliseconds, instead of
// growing memory without end. Deep nesting names the file too (yaml-cpp's own message is
// "bad file").
TEST(Yaml, AliasBombAndDeepNestingFailWithTheFileNamed) {
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'j'; ++c) {
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) bomb += std::string(i ? ", *" : "*") + char(c - 1);
    bomb += "]\n";
  }
  EXPECT_LT(bomb.size(), 500u);  // 10^10 values once expanded
  try {
    r1::parse_yaml(bomb, "bomb.yaml");
    ADD_FAILURE() << "the alias bomb was expanded";
  } catch (const r1::Error& e) {
    EXPECT_NE(std::string(e.what()).find("bomb.yaml: expands to more than 100000 values"),
              std::string::npos)
        << e.what();
  }
  // A modest use of aliases (a shared eval block) still reads.
  const auto j = r1::parse_yaml("e: &e {samples: 4}\na: *e\nb: *e\n", "ok.yaml");
  EXPECT_EQ(j["b"]["samples"], 4);
  for (const std::string& deep : {"a: " + std::string(3000, '[') + std::string(3000, ']') + "\n",
                                  "a: " + std::string(250, '[') + std::string(250, ']') + "\n"}) {
    try {
      r1::parse_yaml(deep, "deep.yaml");
      ADD_FAILURE() << "accepted " << deep.size() << " bytes of nesting";
    } catch (const r1::Error& e) {
      EXPECT_NE(std::string(e.what()).find("deep.yaml"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("levels deep"), std::string::npos) << e.what();
    }
  }
}
