// Code benchmarks (see code_benchmarks.h). The harnesses follow the reference graders: HumanEval's
// program is prompt + completion + test + check(entry_point) (openai/human-eval execution.py);
// LiveCodeBench's functional tests call Solution().<func_name>(*args) with each input line parsed
// as JSON and compare the result (a tuple as a list) with the parsed output
// (lcb_runner/evaluation/testing_util.py), after LiveCodeBench's import block.
#include "evals/code_benchmarks.h"

#include <cctype>   // std::isdigit
#include <set>      // std::set
#include <utility>  // std::move

#include "toolkit/error.h"  // r1::Error, r1::check
#include "toolkit/fs.h"     // r1::read_file
#include "toolkit/json.h"   // r1::parse_json, r1::dump_json, r1::for_each_jsonl_object

namespace r1 {
namespace {

using nlohmann::json;

// LiveCodeBench's import block (lcb_runner testing_util import_string), prepended to every
// Python program it judges.
constexpr const char* kLcbImports =
    "from string import *\nfrom re import *\nfrom datetime import *\nfrom collections import *\n"
    "from heapq import *\nfrom bisect import *\nfrom copy import *\nfrom math import *\n"
    "from random import *\nfrom statistics import *\nfrom itertools import *\n"
    "from functools import *\nfrom operator import *\nfrom io import *\nfrom sys import *\n"
    "from json import *\nfrom builtins import *\nfrom typing import *\nimport string\nimport re\n"
    "import datetime\nimport collections\nimport heapq\nimport bisect\nimport copy\nimport math\n"
    "import random\nimport statistics\nimport itertools\nimport functools\nimport operator\n"
    "import io\nimport sys\nimport json\nsys.setrecursionlimit(50000)\n";

// The start of a harnessed program: it reads its stdin (the test case) before the candidate can,
// keeps the real stdout for the verdict line and sends the candidate's prints to stderr, and
// names the module "solution" so that the candidate's `if __name__ == "__main__":` block does
// not run (the reference harnesses import or exec the code, never run it as a script).
constexpr const char* kHarnessPrelude =
    "import sys as _r1_sys\n"
    "_r1_stdin = _r1_sys.stdin.read()\n"
    "_r1_out = _r1_sys.stdout\n"
    "_r1_sys.stdout = _r1_sys.stderr\n"
    "_r1_sys.modules['solution'] = _r1_sys.modules[__name__]\n"
    "__name__ = 'solution'\n";

// A string as a Python literal (JSON string syntax is a subset of Python's).
std::string py_str(const std::string& s) { return dump_json(json(s)); }

// `from __future__ import ...` lines must open a Python file: moved to the front of the program.
std::pair<std::string, std::string> split_future_imports(const std::string& code) {
  std::string future, rest;
  size_t start = 0;
  while (start < code.size()) {
    size_t end = code.find('\n', start);
    if (end == std::string::npos) end = code.size();
    const std::string line = code.substr(start, end - start);
    (line.rfind("from __future__ import", 0) == 0 ? future : rest) += line + "\n";
    start = end + 1;
  }
  return {future, rest};
}

const json& field(const json& row, const std::string& key, const std::string& where) {
  check(row.contains(key), where + ": missing field '" + key + "'");
  return row[key];
}

std::string string_field(const json& row, const std::string& key, const std::string& where,
                         bool allow_empty = false) {
  const json& v = field(row, key, where);
  check(v.is_string(), where + ": field '" + key + "' must be a string");
  std::string s = v.get<std::string>();
  check(allow_empty || !s.empty(), where + ": field '" + key + "' is empty");
  return s;
}

// A string or a number as text (ids).
std::string id_field(const json& row, const std::string& key, const std::string& where) {
  const json& v = field(row, key, where);
  check(v.is_string() || v.is_number_integer(),
        where + ": field '" + key + "' must be a string or an integer");
  return v.is_string() ? v.get<std::string>() : v.dump();
}

// A field holding JSON text (LiveCodeBench's public_test_cases and metadata, SandboxFusion's
// labels and test), parsed; a JSON value in its place is taken as is.
json embedded_json(const json& row, const std::string& key, const std::string& where) {
  const json& v = field(row, key, where);
  if (!v.is_string()) return v;
  try {
    return json::parse(v.get<std::string>());
  } catch (const json::parse_error& e) {
    throw Error(where + ": field '" + key + "' is not valid JSON text (" + e.what() + ")");
  }
}

// A test value as text: a string, or a JSON scalar written as JSON (some datasets store numbers).
std::string test_text(const json& v, const std::string& what) {
  if (v.is_string()) return v.get<std::string>();
  check(v.is_number() || v.is_boolean(), what + " must be a string");
  return v.dump();
}

// The stated limits of a contest statement: "Time Limit: 2000 ms" / "Time Limit: 2 seconds" /
// "Time Limit: {'seconds': 2, 'nanos': 0}" and "Memory Limit: 256 MB" / "... 512000000 Bytes".
void stated_limits(const std::string& text, CodeTask& task) {
  auto number_after = [&](const std::string& key, std::string* unit) -> double {
    const size_t at = text.rfind(key);
    if (at == std::string::npos) return 0;
    size_t i = at + key.size();
    const std::string tail = text.substr(i, 64);
    size_t d = tail.find_first_of("0123456789");
    if (d == std::string::npos) return 0;
    size_t e = d;
    while (e < tail.size() && (std::isdigit(static_cast<unsigned char>(tail[e])) || tail[e] == '.'))
      ++e;
    double v = 0;
    try {
      v = std::stod(tail.substr(d, e - d));
    } catch (const std::exception&) {
      return 0;
    }
    const std::string before = tail.substr(0, d), after = tail.substr(e, 12);
    *unit = before.find("seconds") != std::string::npos ? "s" : after;
    return v;
  };
  std::string unit;
  if (const double t = number_after("Time Limit:", &unit); t > 0) {
    if (unit.rfind(" ms", 0) == 0 || unit.rfind("ms", 0) == 0)
      task.time_limit_s = t / 1000;
    else if (unit == "s" || unit.rfind(" s", 0) == 0 || unit.rfind(" second", 0) == 0)
      task.time_limit_s = t;
  }
  if (const double m = number_after("Memory Limit:", &unit); m > 0) {
    if (unit.rfind(" MB", 0) == 0 || unit.rfind(" megabyte", 0) == 0)
      task.memory_mb = static_cast<int64_t>(m);
    else if (unit.rfind(" Bytes", 0) == 0 || unit.rfind(" bytes", 0) == 0)
      task.memory_mb = static_cast<int64_t>(m / (1 << 20));
  }
}

CodeTask base_task(const BenchmarkSpec& spec) {
  CodeTask t;
  t.default_lang = sandbox::parse_lang(spec.language);
  t.time_limit_s = spec.time_limit_s;
  t.memory_mb = spec.memory_mb;
  return t;
}

Problem humaneval_problem(const json& row, const std::string& where, const BenchmarkSpec& spec) {
  CodeTask t = base_task(spec);
  t.kind = CodeTask::Kind::HumanEval;
  t.prompt = string_field(row, "prompt", where);
  t.entry_point = string_field(row, "entry_point", where);
  t.check_code = string_field(row, "test", where);
  check(t.check_code.find("def check(") != std::string::npos,
        where + ": field 'test' defines no check(candidate)");
  Problem p;
  p.id = id_field(row, spec.id_field.empty() ? "task_id" : spec.id_field, where);
  p.question = t.prompt;
  p.code = std::make_shared<const CodeTask>(std::move(t));
  return p;
}

Problem livecodebench_problem(const json& row, const std::string& where,
                              const BenchmarkSpec& spec) {
  CodeTask t = base_task(spec);
  t.lcb_imports = true;
  Problem p;
  p.id = id_field(row, "question_id", where);
  p.question = string_field(row, "question_content", where);
  const json cases = embedded_json(row, "public_test_cases", where);
  check(
      cases.is_array() && !cases.empty(),
      where + ": field 'public_test_cases' must be a non-empty list of {input, output, testtype}");
  std::set<std::string> types;
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string at = where + ": public_test_cases[" + std::to_string(i) + "]";
    check(cases[i].is_object(), at + " must be an object {input, output, testtype}");
    types.insert(string_field(cases[i], "testtype", at));
    t.tests.push_back(
        {string_field(cases[i], "input", at, true), string_field(cases[i], "output", at, true)});
  }
  check(types.size() == 1 && (*types.begin() == "stdin" || *types.begin() == "functional"),
        where + ": field 'public_test_cases' must hold tests of one testtype, stdin or functional");
  t.kind = *types.begin() == "stdin" ? CodeTask::Kind::Stdin : CodeTask::Kind::Functional;
  t.starter_code = string_field(row, "starter_code", where, true);
  if (t.kind == CodeTask::Kind::Functional) {
    const json meta = embedded_json(row, "metadata", where);
    check(meta.is_object() && meta.contains("func_name") && meta["func_name"].is_string() &&
              !meta["func_name"].get<std::string>().empty(),
          where + ": field 'metadata' needs a func_name for a functional problem");
    t.func_name = meta["func_name"].get<std::string>();
    for (const auto& test : t.tests)
      for (const std::string* s : {&test.input, &test.output})
        check(!s->empty(), where + ": a functional test has an empty input or output");
  }
  const std::string date = string_field(row, "contest_date", where);
  t.date = date.substr(0, 10);
  check_date(t.date, where + ": field 'contest_date' (" + date + ")");
  p.tags = {{"difficulty", string_field(row, "difficulty", where)},
            {"platform", string_field(row, "platform", where)},
            {"type", code_kind_name(t.kind)}};
  p.code = std::make_shared<const CodeTask>(std::move(t));
  return p;
}

// rllm/DeepCoder rows {problem, tests}: tests as {inputs: [...], outputs: [...]} (code_contests)
// or [{input, output}, ...] (codeforces).
Problem rllm_problem(const json& row, const std::string& where, const std::string& id,
                     const BenchmarkSpec& spec) {
  CodeTask t = base_task(spec);
  Problem p;
  p.id = spec.id_field.empty() ? id : id_field(row, spec.id_field, where);
  p.question =
      string_field(row, spec.question_field.empty() ? "problem" : spec.question_field, where);
  if (row.contains("language")) {  // a user's code rows: the language asked for
    const std::string lang = string_field(row, "language", where);
    try {
      t.default_lang = sandbox::parse_lang(lang);
    } catch (const Error&) {
      throw Error(where + ": field 'language' is '" + lang + "' (known: python, cpp)");
    }
    t.lang_asked = true;
  }
  const json& tests = field(row, "tests", where);
  if (tests.is_object()) {
    const json& in = field(tests, "inputs", where + ": tests");
    const json& out = field(tests, "outputs", where + ": tests");
    check(in.is_array() && out.is_array() && in.size() == out.size(),
          where + ": field 'tests' must hold lists 'inputs' and 'outputs' of one length");
    for (size_t i = 0; i < in.size(); ++i) {
      const std::string at = where + ": tests.inputs[" + std::to_string(i) + "]";
      t.tests.push_back({test_text(in[i], at), test_text(out[i], at + " (output)")});
    }
  } else {
    check(tests.is_array(), where +
                                ": field 'tests' must be a list of {input, output} or an "
                                "object {inputs, outputs}");
    for (size_t i = 0; i < tests.size(); ++i) {
      const std::string at = where + ": tests[" + std::to_string(i) + "]";
      check(tests[i].is_object(), at + " must be an object {input, output}");
      t.tests.push_back({test_text(field(tests[i], "input", at), at + ".input"),
                         test_text(field(tests[i], "output", at), at + ".output")});
    }
  }
  check(!t.tests.empty(), where + ": field 'tests' holds no test");
  stated_limits(p.question, t);
  p.code = std::make_shared<const CodeTask>(std::move(t));
  return p;
}

// SandboxFusion rows {content, id, labels (JSON text), test (JSON text: [{input: {stdin},
// output: {stdout}}])}.
Problem sandboxfusion_problem(const json& row, const std::string& where,
                              const BenchmarkSpec& spec) {
  CodeTask t = base_task(spec);
  Problem p;
  p.id = id_field(row, "id", where);
  p.question = string_field(row, "content", where);
  const json tests = embedded_json(row, "test", where);
  check(tests.is_array() && !tests.empty(),
        where + ": field 'test' must be a non-empty list of {input: {stdin}, output: {stdout}}");
  for (size_t i = 0; i < tests.size(); ++i) {
    const std::string at = where + ": test[" + std::to_string(i) + "]";
    const json& in = field(tests[i], "input", at);
    const json& out = field(tests[i], "output", at);
    check(in.is_object() && out.is_object(), at + " must be {input: {stdin}, output: {stdout}}");
    t.tests.push_back({string_field(in, "stdin", at + ".input", true),
                       string_field(out, "stdout", at + ".output", true)});
  }
  if (row.contains("labels")) {
    const json labels = embedded_json(row, "labels", where);
    check(labels.is_object(), where + ": field 'labels' must be a JSON object");
    for (const char* key : {"difficulty", "source"})
      if (labels.contains(key) && labels[key].is_string())
        p.tags.emplace_back(key, labels[key].get<std::string>());
  }
  stated_limits(p.question, t);
  p.code = std::make_shared<const CodeTask>(std::move(t));
  return p;
}

std::vector<Problem> load_code_contests(const std::string& path, const BenchmarkSpec& spec) {
  std::vector<Problem> problems;
  const std::string text = read_file(path);
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '[') {  // an rllm JSON list
    const json all = parse_json(text, path);
    for (size_t i = 0; i < all.size(); ++i) {
      const std::string where = path + ": [" + std::to_string(i) + "]";
      check(all[i].is_object(), where + ": an item must be a JSON object {problem, tests}");
      problems.push_back(rllm_problem(all[i], where, std::to_string(i + 1), spec));
    }
    return problems;
  }
  for_each_jsonl_object(path, [&](const json& row, const std::string& where) {
    if (row.contains("content") || row.contains("test"))
      problems.push_back(sandboxfusion_problem(row, where, spec));
    else
      problems.push_back(rllm_problem(row, where, where.substr(where.rfind(':') + 1), spec));
  });
  return problems;
}

// The languages a contest prompt offers: the row's own, else both.
std::string program_languages(const CodeTask& t) {
  if (!t.lang_asked) return "Python 3 (```python) or C++17 (```cpp)";
  return t.default_lang == sandbox::Lang::Cpp ? "C++17 (```cpp)" : "Python 3 (```python)";
}

}  // namespace

const char* code_kind_name(CodeTask::Kind kind) {
  switch (kind) {
    case CodeTask::Kind::Stdin:
      return "stdin";
    case CodeTask::Kind::Functional:
      return "functional";
    case CodeTask::Kind::HumanEval:
      return "humaneval";
  }
  return "?";
}

std::vector<Problem> load_code_dataset(const std::string& path, const BenchmarkSpec& spec) {
  std::vector<Problem> problems;
  if (spec.format == "humaneval") {
    for_each_jsonl_object(path, [&](const json& row, const std::string& where) {
      problems.push_back(humaneval_problem(row, where, spec));
    });
  } else if (spec.format == "livecodebench") {
    for_each_jsonl_object(path, [&](const json& row, const std::string& where) {
      problems.push_back(livecodebench_problem(row, where, spec));
    });
  } else if (spec.format == "codecontests") {
    problems = load_code_contests(path, spec);
  } else {
    throw Error(spec.name + ": unknown dataset format '" + spec.format +
                "' (known: jsonl, humaneval, livecodebench, codecontests)");
  }
  check(!problems.empty(), path + ": no problems in the file");
  std::set<std::string> ids;
  for (const auto& p : problems)
    check(ids.insert(p.id).second, path + ": problem id '" + p.id + "' appears twice");
  return problems;
}

void check_date(const std::string& date, const std::string& flag) {
  bool ok = date.size() == 10 && date[4] == '-' && date[7] == '-';
  for (size_t i = 0; ok && i < date.size(); ++i)
    if (i != 4 && i != 7) ok = std::isdigit(static_cast<unsigned char>(date[i])) != 0;
  check(ok, flag + ": '" + date + "' is not a date YYYY-MM-DD");
}

std::vector<Problem> filter_by_date(std::vector<Problem> problems, const std::string& since,
                                    const std::string& until, const std::string& benchmark) {
  if (since.empty() && until.empty()) return problems;
  if (!since.empty()) check_date(since, "--since");
  if (!until.empty()) check_date(until, "--until");
  std::string lo, hi;  // the dates present, for the error message
  std::vector<Problem> kept;
  for (auto& p : problems) {
    check(p.code && !p.code->date.empty(),
          benchmark + ": its problems carry no date; --since/--until apply to livecodebench");
    const std::string& d = p.code->date;
    if (lo.empty() || d < lo) lo = d;
    if (hi.empty() || d > hi) hi = d;
    if ((since.empty() || d >= since) && (until.empty() || d <= until))
      kept.push_back(std::move(p));
  }
  check(!kept.empty(), benchmark + ": no problem between " + (since.empty() ? "..." : since) +
                           " and " + (until.empty() ? "..." : until) + " (its contest dates span " +
                           lo + " to " + hi + ")");
  return kept;
}

std::string code_prompt(const Problem& problem) {
  check(problem.code != nullptr, "problem " + problem.id + " is not a code problem");
  const CodeTask& t = *problem.code;
  switch (t.kind) {
    case CodeTask::Kind::HumanEval:
      return "Complete the following Python function. Reply with the whole function, and the "
             "imports it needs, in one ```python code block.\n\n```python\n" +
             t.prompt + (t.prompt.empty() || t.prompt.back() == '\n' ? "" : "\n") + "```";
    case CodeTask::Kind::Functional:
    case CodeTask::Kind::Stdin:
      if (t.lcb_imports) {
        // LiveCodeBench's generic prompt (lcb_runner/prompts/code_generation.py), its system
        // message first: R1's protocol has no system turn.
        std::string s =
            "You will be given a question (problem specification) and will generate a correct "
            "Python program that matches the specification and passes all tests.\n\n"
            "### Question:\n" +
            problem.question + "\n\n";
        if (!t.starter_code.empty())
          s += "### Format: You will use the following starter code to write the solution to the "
               "problem and enclose your code within delimiters.\n```python\n" +
               t.starter_code + "\n```\n\n";
        else
          s += "### Format: Read the inputs from stdin solve the problem and write the answer to "
               "stdout (do not directly test on the sample inputs). Enclose your code within "
               "delimiters as follows. Ensure that when the python program runs, it reads the "
               "inputs, runs the algorithm and writes output to STDOUT.\n```python\n# YOUR CODE "
               "HERE\n```\n\n";
        return s + "### Answer: (use the provided format with backticks)\n\n";
      }
      return "Solve the following competitive programming problem. Your program must read the "
             "input from standard input and write the answer to standard output. Give the complete "
             "program, in " +
             program_languages(t) +
             ", in one fenced code block at the end of "
             "your answer.\n\n" +
             problem.question;
  }
  return problem.question;
}

CodeProgram build_code_program(const CodeTask& task, const std::string& code, sandbox::Lang lang) {
  CodeProgram prog;
  prog.lang = lang;
  if (task.kind == CodeTask::Kind::Stdin) {
    prog.source = code;
    if (lang == sandbox::Lang::Python && task.lcb_imports) {
      const auto [future, rest] = split_future_imports(code);
      prog.source = future + kLcbImports + rest;
    }
    prog.tests = task.tests;
    prog.checker.kind = sandbox::Checker::Kind::Tokens;
    return prog;
  }
  check(lang == sandbox::Lang::Python,
        std::string("wrong_language: ") + sandbox::lang_name(lang) + " (judged in python)");
  const auto [future, rest] = split_future_imports(code);
  std::string src = future + kHarnessPrelude;
  prog.checker.kind = sandbox::Checker::Kind::Tokens;
  // clang-format off
  if (task.kind == CodeTask::Kind::HumanEval) {
    // The prompt first: its imports and helper functions, and the entry point's stub, which the
    // candidate's full function replaces (or which a body-only completion continues).
    src += task.prompt + "\n" + rest + "\n\n" + task.check_code + "\n\n" +
           "def _r1_check():\n"
           "    try:\n"
           "        check(" + task.entry_point + ")\n"
           "    except AssertionError:\n"
           "        import traceback\n"
           "        frames = traceback.extract_tb(_r1_sys.exc_info()[2])\n"
           "        line = (frames[-1].line or '') if frames else ''\n"
           "        _r1_out.write('R1_FAIL ' + ' '.join(line.split())[:300] + '\\n')\n"
           "    else:\n"
           "        _r1_out.write('" + kHarnessPass + "\\n')\n"
           "    _r1_out.flush()\n"
           "_r1_check()\n";
    prog.tests = {{"", kHarnessPass}};
  } else {
    src += std::string(kLcbImports) + rest + "\n\n" +
           "def _r1_call():\n"
           "    import json as _j\n"
           "    case = _j.loads(_r1_stdin)\n"
           "    args = [_j.loads(a) for a in case['input'].split('\\n') if a.strip()]\n"
           "    expected = _j.loads(case['output'])\n"
           "    name = " + py_str(task.func_name) + "\n"
           "    g = globals()\n"
           "    fn = getattr(g['Solution'](), name) if 'Solution' in g else g[name]\n"
           "    got = fn(*args)\n"
           "    if isinstance(got, tuple):\n"
           "        got = list(got)\n"
           "    if got == expected:\n"
           "        _r1_out.write('" + kHarnessPass + "\\n')\n"
           "    else:\n"
           "        _r1_out.write('R1_FAIL got ' + repr(got)[:200] + ' expected ' + "
           "repr(expected)[:200] + '\\n')\n"
           "    _r1_out.flush()\n"
           "_r1_call()\n";
    for (const auto& t : task.tests)
      prog.tests.push_back({dump_json(json{{"input", t.input}, {"output", t.output}}),
                            kHarnessPass});
  }
  // clang-format on
  prog.source = std::move(src);
  return prog;
}

}  // namespace r1
