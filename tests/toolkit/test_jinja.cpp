// The Jinja engine against Jinja2 itself (transformers' chat-template environment): every snippet
// in tests/data/goldens/jinja_unit.json (from tests/reference/make_jinja_unit_goldens.py) renders
// byte-identically or raises in both; plus what the goldens cannot show: error lines, the run
// budget, strftime_now's clock, and thread-safe reuse of one parsed template.
#include <thread>  // std::thread

#include <nlohmann/json.hpp>

#include "tests/test_util.h"
#include "toolkit/error.h"
#include "toolkit/fs.h"
#include "toolkit/jinja.h"
#include "toolkit/jinja_builtins.h"

namespace r1::jinja {
namespace {

std::string render(const std::string& src,
                   const nlohmann::ordered_json& vars = nlohmann::ordered_json::object()) {
  return Template(src, "test").render(Value::from_json(vars));
}

TEST(Jinja, EqualsJinja2OnEveryUnitGolden) {
  const auto goldens =
      nlohmann::ordered_json::parse(read_file("tests/data/goldens/jinja_unit.json"));
  int rendered = 0, raised = 0;
  for (const auto& g : goldens) {
    const std::string name = g["name"].get<std::string>();
    const std::string src = g["template"].get<std::string>();
    if (g.contains("rendered")) {
      try {
        EXPECT_EQ(render(src, g["vars"]), g["rendered"].get<std::string>()) << name;
      } catch (const std::exception& e) {
        ADD_FAILURE() << name << ": threw " << e.what();
      }
      ++rendered;
      continue;
    }
    bool threw = false;
    try {
      render(src, g["vars"]);
    } catch (const TemplateRaised& e) {
      threw = true;
      EXPECT_EQ(g["error_type"], "TemplateError") << name;
      EXPECT_EQ(std::string(e.what()), g["error"].get<std::string>()) << name;
    } catch (const Error& e) {
      threw = true;
      EXPECT_NE(std::string(e.what()).find("chat template test"), std::string::npos)
          << name << ": " << e.what();
    }
    EXPECT_TRUE(threw) << name << ": Jinja2 raises " << g["error_type"] << ": " << g["error"];
    ++raised;
  }
  EXPECT_GE(rendered, 100);
  EXPECT_GE(raised, 20);
}

TEST(Jinja, ErrorsNameTheConstructAndLine) {
  auto err = [](const std::string& src) { return test::error_of([&] { render(src); }); };
  EXPECT_NE(err("a\n{% for x in [1] recursive %}{% endfor %}")
                .find("line 2: recursive for loops are not supported"),
            std::string::npos);
  EXPECT_NE(err("a\nb\n{{ x|nosuch }}").find("line 3: No filter named 'nosuch'."),
            std::string::npos);
  EXPECT_NE(err("{% if true %}\n\nx").find("missing {% endif %} for the block opened at line 1"),
            std::string::npos);
  EXPECT_NE(err("{% include 'x' %}").find("{% include %} is not supported"), std::string::npos);
  EXPECT_NE(err("{{ 'abc }}").find("line 1: unclosed string literal"), std::string::npos);
  EXPECT_NE(err("\n{{ messages[0].content }}").find("line 2: 'messages' is undefined"),
            std::string::npos);
}

TEST(Jinja, StopsRunawayTemplates) {
  const std::string e = test::error_of([] {
    render("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}");
  });
  EXPECT_NE(e.find("more than 10000000 loop iterations"), std::string::npos) << e;
  const std::string d =
      test::error_of([] { render("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}"); });
  EXPECT_NE(d.find("nested more than 200 deep"), std::string::npos) << d;
  const std::string r = test::error_of([] { render("{{ range(1000000) }}"); });
  EXPECT_NE(r.find("range too big"), std::string::npos) << r;
}

TEST(Jinja, StrftimeNowUsesTheGivenClock) {
  std::tm t{};
  t.tm_year = 2026 - 1900;
  t.tm_mon = 0;
  t.tm_mday = 5;
  t.tm_hour = 9;
  t.tm_wday = 1;
  const Template tpl(
      "{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%B %-d') if false else "
      "strftime_now('%H:%M') }}",
      "test");
  EXPECT_EQ(tpl.render(Value::dict(), &t), "05 Jan 2026|09:00");
}

TEST(Jinja, OneParsedTemplateRendersFromManyThreads) {
  const Template tpl(
      "{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{{ m.content "
      "}}{% endfor %}{{ ns.n }}",
      "test");
  std::vector<std::thread> threads;
  std::vector<std::string> outs(8);
  for (size_t i = 0; i < outs.size(); ++i)
    threads.emplace_back([&, i] {
      auto vars = nlohmann::ordered_json::object();
      vars["messages"] =
          nlohmann::ordered_json::array({{{"content", std::to_string(i)}}, {{"content", "x"}}});
      for (int k = 0; k < 200; ++k) outs[i] = tpl.render(Value::from_json(vars));
    });
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < outs.size(); ++i) EXPECT_EQ(outs[i], std::to_string(i) + "x2");
}

}  // namespace
}  // namespace r1::jinja
