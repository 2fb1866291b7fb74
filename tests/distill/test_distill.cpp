// r1distill's pipeline (distill/distill.h): model presets and their errors; the three stages and
// the report end to end with a scripted OpenAI-compatible teacher (reasoning returned apart, as
// DeepSeek's API does) and a random-init student; rerunning generates nothing; the teacher served
// by r1serve gives the traces the local checkpoint gives; a process killed in each stage resumes
// without losing or duplicating a trace, and its student equals an uninterrupted run's.
#include <fcntl.h>     // open
#include <signal.h>    // kill, SIGKILL
#include <sys/wait.h>  // waitpid
#include <unistd.h>    // fork, execv, dup2, _exit

#include <gtest/gtest.h>

#include <atomic>      // std::atomic
#include <chrono>      // std::chrono
#include <filesystem>  // std::filesystem
#include <fstream>     // std::ofstream
#include <functional>  // std::function
#include <map>         // std::map
#include <set>         // std::set
#include <string>      // std::string
#include <thread>      // std::this_thread
#include <vector>      // std::vector

#include "distill/distill.h"    // r1::resolve_model, r1::run_distill
#include "rl/zero_task.h"       // r1::write_zero_assets
#include "rl/zero_tokenizer.h"  // r1::zero_chat_template
#include "tests/test_util.h"    // r1::test::TempDir, bin, read_jsonl, error_of, R1serve
#include "toolkit/fs.h"         // r1::read_file
#include "toolkit/http.h"       // r1::HttpServer

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using r1::test::error_of;
using r1::test::read_jsonl;
using r1::test::TempDir;

// A fake checkpoint directory (only config.json: resolve_model looks no further).
std::string fake_checkpoint(const fs::path& dir) {
  fs::create_directories(dir);
  std::ofstream(dir / "config.json") << "{}";
  return dir.string();
}

TEST(ResolveModel, UrlsDirectoriesAndPresets) {
  TempDir dir;
  const std::string none = dir / "no-models.json";
  auto m = r1::resolve_model("http://127.0.0.1:9/v1", "teacher", none, dir.path());
  EXPECT_EQ(m.endpoint, "http://127.0.0.1:9/v1");
  EXPECT_FALSE(m.local());
  const std::string ckpt = fake_checkpoint(dir / "ckpt");
  m = r1::resolve_model(ckpt, "student", none, dir.path());
  EXPECT_EQ(m.dir, ckpt);
  // A preset's relative dir lives under the models dir.
  fake_checkpoint(fs::path(dir.path()) / "models" / "Qwen2.5-Math-7B");
  m = r1::resolve_model("qwen-7b", "student", "", dir / "models");
  EXPECT_EQ(m.preset, "qwen-7b");
  EXPECT_EQ(fs::path(m.dir), fs::path(dir.path()) / "models" / "Qwen2.5-Math-7B");
  // The models file adds presets and overrides built-in ones.
  const std::string file = dir / "models.json";
  std::ofstream(file) << json({{"models",
                                {{"mine", {{"dir", ckpt}}},
                                 {"r1",
                                  {{"endpoint", "http://10.0.0.1:8000/v1"},
                                   {"served_model", "deepseek-ai/DeepSeek-R1"}}}}}})
                             .dump();
  EXPECT_EQ(r1::resolve_model("mine", "student", file, dir.path()).dir, ckpt);
  m = r1::resolve_model("r1", "teacher", file, dir.path());
  EXPECT_EQ(m.endpoint, "http://10.0.0.1:8000/v1");
  EXPECT_EQ(m.served_model, "deepseek-ai/DeepSeek-R1");
  EXPECT_EQ(m.api_key_env, "");  // the override needs no key
}

TEST(ResolveModel, ErrorsSayWhatToPutWhere) {
  TempDir dir;
  const std::string none = dir / "no-models.json";
  ::setenv("R1_MODELS_FILE", none.c_str(), 1);  // the default file, absent: built-in presets only
  auto e = error_of([&] { r1::resolve_model("qwen-9b", "student", "", dir.path()); });
  EXPECT_NE(e.find("qwen-9b is not a directory, a URL or a preset"), std::string::npos) << e;
  EXPECT_NE(e.find("qwen-7b"), std::string::npos) << e;  // the presets are listed
  EXPECT_NE(e.find(none), std::string::npos) << e;       // and the file to add it to
  e = error_of([&] { r1::resolve_model("llama-8b", "student", "", dir / "models"); });
  EXPECT_NE(e.find((fs::path(dir.path()) / "models" / "Llama-3.1-8B").string()), std::string::npos)
      << e;
  EXPECT_NE(e.find("does not exist"), std::string::npos) << e;
  ::unsetenv("DEEPSEEK_API_KEY");
  e = error_of([&] { r1::resolve_model("r1", "teacher", "", dir.path()); });
  EXPECT_NE(e.find("$DEEPSEEK_API_KEY"), std::string::npos) << e;
  ::setenv("DEEPSEEK_API_KEY", "sk-test", 1);
  EXPECT_EQ(r1::resolve_model("r1", "teacher", "", dir.path()).served_model, "deepseek-reasoner");
  ::unsetenv("DEEPSEEK_API_KEY");
  fs::create_directories(dir / "empty");
  e = error_of([&] { r1::resolve_model(dir / "empty", "student", "", dir.path()); });
  EXPECT_NE(e.find("without config.json"), std::string::npos) << e;
  const std::string bad = dir / "bad.json";
  std::ofstream(bad) << "{\"models\": [1, 2]}";
  e = error_of([&] { r1::resolve_model("x", "student", bad, dir.path()); });
  EXPECT_NE(e.find(bad + ": not a models file"), std::string::npos) << e;
  e = error_of([&] { r1::resolve_model("x", "student", dir / "missing.json", dir.path()); });
  EXPECT_NE(e.find("missing.json does not exist"), std::string::npos) << e;  // named: must exist
  ::unsetenv("R1_MODELS_FILE");
}

// The value of "What is 7-13+5?" (integers joined by + and -).
int arithmetic(const std::string& question) {
  const auto a = question.find("What is ") + 8, b = question.find('?', a);
  const std::string expr = question.substr(a, b - a);
  int value = 0, sign = 1;
  size_t i = 0;
  while (i < expr.size()) {
    size_t used = 0;
    value += sign * std::stoi(expr.substr(i), &used);
    i += used;
    if (i < expr.size()) sign = expr[i++] == '+' ? 1 : -1;
  }
  return value;
}

// The teacher's reply to a user turn: {content, reasoning_content}.
using Answer = std::function<std::pair<std::string, std::string>(const std::string&)>;

std::pair<std::string, std::string> arithmetic_answer(const std::string& q) {
  const int v = arithmetic(q);
  return {"\\boxed{" + std::to_string(v) + "}", "Adding up: it is " + std::to_string(v) + "."};
}

// An OpenAI-compatible chat server that answers every arithmetic question right (or as `answer`
// says), its working in reasoning_content; counts the completions it served and waits delay_ms
// before each.
struct ScriptedTeacher {
  std::atomic<int> completions{0};
  std::atomic<int> with_kwargs{0};  // requests whose chat_template_kwargs were {"effort": "high"}
  int delay_ms = 0;
  Answer answer = arithmetic_answer;
  r1::HttpServer server{
      "127.0.0.1", 0, [this](const r1::HttpRequest& req) {
        r1::HttpReply reply;
        if (req.method == "GET") {
          reply.body = R"({"object":"list","data":[{"id":"scripted"}]})";
          return reply;
        }
        if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
        ++completions;
        const auto body = json::parse(req.body);
        if (body.contains("chat_template_kwargs") &&
            body["chat_template_kwargs"] == json{{"effort", "high"}})
          ++with_kwargs;
        const auto [content, reasoning] = answer(body["messages"].back()["content"]);
        const json message = {
            {"role", "assistant"}, {"content", content}, {"reasoning_content", reasoning}};
        reply.body = json({{"choices", {{{"message", message}, {"finish_reason", "stop"}}}},
                           {"usage", {{"prompt_tokens", 9}, {"completion_tokens", 8}}}})
                         .dump();
        return reply;
      }};
  ScriptedTeacher() { server.start(); }
  ~ScriptedTeacher() { server.stop(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server.port()) + "/v1"; }
};

// The tiny R1-Zero task's files and a random-init micro student.
r1::ZeroAssets assets(const fs::path& dir) {
  r1::ZeroTaskConfig t;
  t.model_size = "micro";
  t.heldout_problems = 16;
  return r1::write_zero_assets(dir.string(), t);
}

r1::DistillConfig small_run(const r1::ZeroAssets& a, const std::string& teacher,
                            const std::string& out) {
  r1::DistillConfig c;
  c.teacher = teacher;
  c.student = a.model;
  c.prompts = a.grpo;
  c.out = out;
  c.models_file = "";
  c.question_field = "prompt";
  c.protocol = "grpo";
  c.limit = 6;
  c.samples = 2;
  c.max_new_tokens = 24;
  c.epochs = 2;
  c.batch_size = 4;
  c.lr = 1e-3;
  c.eval_data = a.heldout;
  c.eval_samples = 2;
  c.eval_temperature = 1.0;
  c.threads = 2;
  return c;
}

TEST(Distill, ScriptedHttpTeacherThreeStagesAndReportThenRerunGeneratesNothing) {
  TempDir dir;
  const auto a = assets(dir / "assets");
  ScriptedTeacher teacher;
  const auto c = small_run(a, teacher.url(), dir / "run");
  const auto r = r1::run_distill(c);
  // Stage 1: 6 prompts x 2 traces, the reasoning kept apart, every one graded right.
  const auto traces = read_jsonl(dir / "run/traces/samples.jsonl");
  ASSERT_EQ(traces.size(), 12u);
  for (const auto& t : traces) {
    EXPECT_TRUE(t["correct"].get<bool>()) << t.dump();
    EXPECT_NE(t["reasoning"].get<std::string>().find("Adding up"), std::string::npos);
  }
  // Stage 2: both traces of a prompt are the same text: one kept per prompt.
  const auto sft = read_jsonl(dir / "run/filter/sft.jsonl");
  ASSERT_EQ(sft.size(), 6u);
  for (const auto& row : sft) {
    const std::string resp = row["response"];
    EXPECT_EQ(resp.rfind("<think>\nAdding up: it is ", 0), 0u) << resp;
    EXPECT_NE(resp.find("\n</think>\n\n\\boxed{"), std::string::npos) << resp;
    EXPECT_EQ(row["prompt"].get<std::string>().rfind("What is ", 0), 0u);
  }
  const auto card = json::parse(r1::read_file(dir / "run/filter/card.json"));
  EXPECT_EQ(card["dropped"]["duplicate"].get<int>(), 6);
  EXPECT_TRUE(fs::exists(dir / "run/filter/card.md"));
  // Stage 3 and the report: teacher, student before, student after side by side.
  ASSERT_FALSE(r.student.empty());
  EXPECT_TRUE(fs::exists(fs::path(r.student) / "model.safetensors"));
  const auto report = json::parse(r1::read_file(dir / "run/report.json"));
  const auto& heldout = report["eval"]["benchmarks"]["heldout"];
  EXPECT_EQ(heldout["teacher"]["pass@1"].get<double>(), 1.0);
  EXPECT_EQ(heldout["problems"].get<int>(), 16);
  for (const char* who : {"student_before", "student_after"})
    EXPECT_TRUE(heldout[who].contains("pass@1")) << who;
  // The student after against before, paired per problem (r1eval compare).
  EXPECT_EQ(heldout["after_minus_before"]["problems_common"].get<int>(), 16);
  EXPECT_EQ(heldout["after_minus_before"]["ci95"].size(), 2u);
  EXPECT_EQ(report["sft"]["steps"].get<int>(), 3);  // ceil(2 epochs x 6 rows / 4)
  const std::string md = r1::read_file(dir / "run/report.md");
  for (const char* row : {"| teacher | 100.0%", "| student_before |", "| student_after |",
                          "Student after - before: "})
    EXPECT_NE(md.find(row), std::string::npos) << md;
  // Rerun: every stage resumes finished; the teacher is asked nothing more.
  const int asked = teacher.completions.load();
  EXPECT_EQ(asked, 12 + 16 * 2);
  auto again = r1::run_distill(c).report;
  EXPECT_EQ(teacher.completions.load(), asked);
  auto want = report;
  again["eval"].erase("seconds");
  want["eval"].erase("seconds");
  EXPECT_EQ(again["eval"], want["eval"]);
  EXPECT_EQ(read_jsonl(dir / "run/traces/samples.jsonl").size(), 12u);
}

// Issue 19: teacher_template_kwargs reach an endpoint teacher as chat_template_kwargs, and
// student_template_kwargs the student's own template in SFT and in its evaluations (this one
// raises unless `flag` is set).
TEST(Distill, TemplateKwargsReachTheTeacherAndTheStudent) {
  TempDir dir;
  const auto a = assets(dir / "assets");
  const fs::path student = dir / "strict-student";
  fs::copy(a.model, student, fs::copy_options::recursive);
  std::ofstream(student / "chat_template.jinja")
      << "{% if not flag %}{{ raise_exception('flag missing') }}{% endif %}" +
             r1::zero_chat_template();
  ScriptedTeacher teacher;
  auto c = small_run(a, teacher.url(), dir / "run");
  c.student = student.string();
  c.teacher_template_kwargs = R"({"effort": "high"})";
  const auto e = error_of([&] { r1::run_distill(c); });
  EXPECT_NE(e.find("flag missing"), std::string::npos) << e;
  EXPECT_EQ(teacher.with_kwargs.load(), teacher.completions.load());
  EXPECT_GT(teacher.with_kwargs.load(), 0);
  c.student_template_kwargs = R"({"flag": true})";
  c.out = dir / "run2";
  const auto r = r1::run_distill(c);
  EXPECT_TRUE(fs::exists(fs::path(r.student) / "model.safetensors"));
  const auto report = json::parse(r1::read_file(dir / "run2/report.json"));
  EXPECT_TRUE(report["eval"]["benchmarks"]["heldout"]["student_after"].contains("pass@1"))
      << report.dump();
  EXPECT_EQ(teacher.with_kwargs.load(), teacher.completions.load());
}

// --no-think: a teacher that answers in plain text (no reasoning, no </think>) gives SFT rows
// without "<think>", and no prompt of traces or evaluations opens one. Under R1's format the same
// teacher's traces are all rejected.
TEST(Distill, NoThinkDistilsPlainReplies) {
  TempDir dir;
  const auto a = assets(dir / "assets");
  ScriptedTeacher teacher;
  teacher.answer = [](const std::string& q) {
    return std::pair<std::string, std::string>{"It is " + std::to_string(arithmetic(q)) +
                                                   ", so \\boxed{" + std::to_string(arithmetic(q)) +
                                                   "}",
                                               ""};
  };
  auto c = small_run(a, teacher.url(), dir / "r1-format");
  c.eval_data = "";
  const auto e = error_of([&] { r1::run_distill(c); });
  EXPECT_NE(e.find("no trace survived rejection sampling"), std::string::npos) << e;
  c.out = dir / "plain";
  c.rejection.no_think = true;
  c.eval_data = a.heldout;
  c.eval_teacher = false;
  const auto r = r1::run_distill(c);
  const auto sft = read_jsonl(dir / "plain/filter/sft.jsonl");
  ASSERT_EQ(sft.size(), 6u);
  for (const auto& row : sft) {
    const std::string resp = row["response"];
    EXPECT_EQ(resp.rfind("It is ", 0), 0u) << resp;
    EXPECT_EQ(resp.find("think>"), std::string::npos) << resp;
  }
  EXPECT_EQ(r.report["protocol"]["force_think"], false);
  for (const char* run : {"traces", "evals/student-before", "evals/student-after"}) {
    const auto j = json::parse(r1::read_file(fs::path(dir / "plain") / run / "run.json"));
    EXPECT_EQ(j["protocol"]["force_think"], false) << run;
  }
  const auto card = json::parse(r1::read_file(dir / "plain/filter/card.json"));
  EXPECT_EQ(card["config"]["no_think"], true);
}

TEST(Distill, BadInputNamesTheFlag) {
  TempDir dir;
  const auto a = assets(dir / "assets");
  auto c = small_run(a, a.model, dir / "run");
  c.until = "everything";
  EXPECT_NE(error_of([&] { r1::run_distill(c); }).find("--until everything"), std::string::npos);
  c = small_run(a, a.model, dir / "run");
  c.samples = 0;
  EXPECT_NE(error_of([&] { r1::run_distill(c); }).find("--samples 0: must be greater than 0"),
            std::string::npos);
  c = small_run(a, a.model, dir / "run");
  c.student = "http://127.0.0.1:9/v1";
  EXPECT_NE(error_of([&] { r1::run_distill(c); }).find("must be a local checkpoint"),
            std::string::npos);
  c = small_run(a, "http://127.0.0.1:9/v1", dir / "run");
  c.train = "kd";  // refused before any trace is asked for
  EXPECT_NE(error_of([&] { r1::run_distill(c); }).find("--train kd needs a local teacher"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "run/traces"));
  c = small_run(a, a.model, dir / "run");
  c.prompts = dir / "nope.jsonl";
  EXPECT_NE(error_of([&] { r1::run_distill(c); }).find("nope.jsonl does not exist"),
            std::string::npos);
  // Issue 17, D8: a folder of the user's own files is not a run: refused, its files untouched.
  fs::create_directories(dir / "mine");
  std::ofstream(dir / "mine/report.md") << "my notes\n";
  c = small_run(a, a.model, dir / "mine");
  EXPECT_NE(
      error_of([&] { r1::run_distill(c); }).find("mine: not empty and not a run of r1distill"),
      std::string::npos);
  EXPECT_EQ(r1::read_file(dir / "mine/report.md"), "my notes\n");
  // A teacher whose traces are all wrong leaves nothing to train on: said, with the card's path.
  c = small_run(a, a.model, dir / "random-teacher");
  c.eval_data = "";
  const auto e = error_of([&] { r1::run_distill(c); });
  EXPECT_NE(e.find("no trace survived rejection sampling"), std::string::npos) << e;
  EXPECT_TRUE(fs::exists(dir / "random-teacher/filter/card.md"));
}

// Issue 20: code prompts ({prompt, tests, language} rows) have their traces judged in the sandbox;
// rejection sampling keeps only programs that pass.
TEST(Distill, CodePromptTracesAreJudgedInTheSandbox) {
  TempDir dir;
  const auto a = assets(dir / "assets");
  const fs::path prompts = dir / "code.jsonl";
  std::ofstream(prompts)
      << R"({"prompt": "Read two integers and print their sum.", "tests": [{"input": "1 2\n", "output": "3\n"}, {"input": "5 -7\n", "output": "-2\n"}], "language": "python"})"
      << "\n"
      << R"({"prompt": "Read two integers and print their product.", "tests": [{"input": "3 4\n", "output": "12\n"}], "language": "python"})"
      << "\n"
      << R"({"prompt": "Read a word and print it back.", "tests": {"inputs": ["abc\n"], "outputs": ["abc\n"]}})"
      << "\n";
  ScriptedTeacher teacher;
  std::atomic<int> asked_python{0};
  teacher.answer = [&](const std::string& q) -> std::pair<std::string, std::string> {
    if (q.find("in Python 3 (```python), in one fenced") != std::string::npos) ++asked_python;
    std::string code = "print(input())";  // right for the echo problem only
    if (q.find("sum") != std::string::npos) code = "a, b = map(int, input().split())\nprint(a + b)";
    if (q.find("product") != std::string::npos)
      code = "a, b = map(int, input().split())\nprint(a + b)";
    return {"```python\n" + code + "\n```", "I read the input and write the answer."};
  };
  auto c = small_run(a, teacher.url(), dir / "run");
  c.prompts = prompts;
  c.question_field = "prompt";
  c.protocol = "r1";
  c.until = "filter";
  c.eval_data = "";
  r1::run_distill(c);
  std::map<std::string, int> correct;
  for (const auto& t : read_jsonl(dir / "run/traces/samples.jsonl")) {
    EXPECT_NE(t["reason"].get<std::string>(), "pending") << t.dump();
    correct[t["problem_id"].get<std::string>()] += t["correct"].get<bool>();
  }
  EXPECT_EQ(correct, (std::map<std::string, int>{{"1", 2}, {"2", 0}, {"3", 2}}));
  EXPECT_EQ(asked_python.load(), 4);  // rows 1 and 2 name python; row 3 offers both languages
  const auto sft = read_jsonl(dir / "run/filter/sft.jsonl");
  ASSERT_EQ(sft.size(), 2u);  // one of the two identical traces per passing prompt
  for (const auto& row : sft)
    EXPECT_NE(row["prompt"].get<std::string>().find("Read"), std::string::npos) << row.dump();
  const auto card = json::parse(r1::read_file(dir / "run/filter/card.json"));
  EXPECT_EQ(card["dropped"]["incorrect"].get<int>(), 2);
  // A row naming an unknown language is refused with its line.
  std::ofstream(dir / "bad.jsonl")
      << R"({"prompt": "x", "tests": [{"input": "", "output": ""}], "language": "cobol"})"
      << "\n";
  c.prompts = dir / "bad.jsonl";
  c.out = dir / "run-bad";
  const auto e = error_of([&] { r1::run_distill(c); });
  EXPECT_NE(e.find("bad.jsonl:1: field 'language' is 'cobol' (known: python, cpp)"),
            std::string::npos)
      << e;
}

// Issue 20: registry benchmarks by name in the report stage (--eval-benchmarks), beside the
// held-out file, each with the student's paired difference; a wrong name is refused before any
// trace is asked for.
TEST(Distill, EvalBenchmarksByNameInTheReport) {
  TempDir dir;
  const auto a = assets(dir / "assets");
  ScriptedTeacher teacher;
  auto c = small_run(a, teacher.url(), dir / "run");
  c.eval_benchmarks = "humaneval, math500";
  c.data_dir = r1::test::shared_data("benchmarks");
  c.eval_limit = 3;
  c.eval_teacher = false;
  c.eval_samples = 1;
  c.eval_max_new_tokens = 8;
  r1::run_distill(c);
  const auto report = json::parse(r1::read_file(dir / "run/report.json"));
  for (const char* name : {"heldout", "humaneval", "math500"}) {
    const auto& b = report["eval"]["benchmarks"][name];
    EXPECT_EQ(b["problems"].get<int>(), 3) << name;
    EXPECT_TRUE(b["student_after"].contains("pass@1")) << name;
    EXPECT_EQ(b["after_minus_before"]["problems_common"].get<int>(), 3) << name;
  }
  const std::string md = r1::read_file(dir / "run/report.md");
  EXPECT_NE(md.find("**humaneval**: 3 problems x 1 samples."), std::string::npos) << md;
  c.eval_benchmarks = "humaneval,aime2099";
  c.out = dir / "run2";
  const auto e = error_of([&] { r1::run_distill(c); });
  EXPECT_NE(e.find("unknown benchmark 'aime2099'"), std::string::npos) << e;
  EXPECT_FALSE(fs::exists(dir / "run2/traces"));
}

// Issue 20: logit-level KD between models with different tokenizers is refused plainly before
// any trace is generated.
TEST(Distill, KdAcrossTokenizersIsRefusedUpFront) {
  TempDir dir;
  const auto a = assets(dir / "assets");
  const fs::path other = dir / "other-teacher";
  fs::copy(a.model, other, fs::copy_options::recursive);
  auto tok = json::parse(r1::read_file(other / "tokenizer.json"));
  tok["added_tokens"].push_back({{"id", 100000},
                                 {"content", "<extra>"},
                                 {"special", true},
                                 {"single_word", false},
                                 {"lstrip", false},
                                 {"rstrip", false},
                                 {"normalized", false}});
  std::ofstream(other / "tokenizer.json") << tok.dump();
  auto c = small_run(a, other.string(), dir / "run");
  c.train = "kd";
  const auto e = error_of([&] { r1::run_distill(c); });
  EXPECT_NE(e.find("logit-level KD cannot apply"), std::string::npos) << e;
  EXPECT_NE(e.find("--train sft"), std::string::npos) << e;
  EXPECT_FALSE(fs::exists(dir / "run/traces"));
}

TEST(Distill, R1serveTeacherGivesTheLocalCheckpointsTraces) {
  TempDir dir;
  const auto a = assets(dir / "assets");
  r1::test::R1serve server(dir / "port", a.model);
  ASSERT_GT(server.port(), 0) << "r1serve did not start";
  auto c = small_run(a, server.url(), dir / "served");
  c.until = "traces";
  r1::run_distill(c);
  c = small_run(a, a.model, dir / "local");
  c.until = "traces";
  r1::run_distill(c);
  auto texts = [&](const std::string& run) {
    std::map<std::pair<std::string, int64_t>, std::string> m;
    for (const auto& s : read_jsonl(dir / (run + "/traces/samples.jsonl")))
      m[{s["problem_id"].get<std::string>(), s["sample_index"].get<int64_t>()}] =
          s["response"].get<std::string>();
    return m;
  };
  const auto served = texts("served"), local = texts("local");
  EXPECT_EQ(served.size(), 12u);
  EXPECT_EQ(served, local);
}

// Runs r1distill (its stderr and stdout to /dev/null) and SIGKILLs it once `ready()` holds (or
// after 60 s); returns whether it was still running when killed.
bool run_and_kill(const std::vector<std::string>& args, const std::function<bool()>& ready) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    std::vector<char*> argv;
    const std::string b = r1::test::bin("r1distill");
    argv.push_back(const_cast<char*>(b.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(b.c_str(), argv.data());
    _exit(127);
  }
  bool running = true;
  for (int i = 0; i < 2400 && running; ++i) {
    if (ready()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    int status = 0;
    running = waitpid(pid, &status, WNOHANG) == 0;
  }
  if (running) ::kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  return running;
}

size_t lines_of(const std::string& path) {
  if (!fs::exists(path)) return 0;
  std::ifstream in(path);
  size_t n = 0;
  for (std::string line; std::getline(in, line);) n += !line.empty();
  return n;
}

TEST(Distill, KilledInEachStageResumesToTheUninterruptedResult) {
  TempDir dir;
  const auto a = assets(dir / "assets");
  ScriptedTeacher teacher;
  teacher.delay_ms = 40;
  auto flags = [&](const std::string& out) {
    return std::vector<std::string>{"--teacher",
                                    teacher.url(),
                                    "--student",
                                    a.model,
                                    "--prompts",
                                    a.grpo,
                                    "--out",
                                    out,
                                    "--question-field",
                                    "prompt",
                                    "--protocol",
                                    "grpo",
                                    "--limit",
                                    "6",
                                    "--samples",
                                    "2",
                                    "--max-new-tokens",
                                    "24",
                                    "--epochs",
                                    "40",
                                    "--batch-size",
                                    "2",
                                    "--lr",
                                    "1e-3",
                                    "--save-every",
                                    "5",
                                    "--eval-data",
                                    a.heldout,
                                    "--eval-samples",
                                    "2",
                                    "--eval-temperature",
                                    "1",
                                    "--concurrency",
                                    "1",
                                    "--threads",
                                    "2"};
  };
  const std::string out = dir / "killed";
  // Stage 1: killed after a few traces are stored.
  EXPECT_TRUE(
      run_and_kill(flags(out), [&] { return lines_of(out + "/traces/samples.jsonl") >= 3; }));
  const size_t stored = lines_of(out + "/traces/samples.jsonl");
  EXPECT_GE(stored, 3u);
  EXPECT_LT(stored, 12u);
  // Stage 3: killed once the SFT has written a checkpoint (stage 2 ran on the way).
  EXPECT_TRUE(run_and_kill(flags(out), [&] {
    return fs::exists(out + "/student/checkpoints") && !fs::is_empty(out + "/student/checkpoints");
  }));
  EXPECT_TRUE(fs::exists(out + "/filter/sft.jsonl"));
  EXPECT_FALSE(fs::exists(out + "/report.json"));
  // The report stage: killed while the student before SFT is being evaluated.
  run_and_kill(flags(out),
               [&] { return lines_of(out + "/evals/student-before/samples.jsonl") >= 2; });
  // Finish, and run the same job without interruption.
  auto cmd = [&](const std::string& o) {
    std::string s = r1::test::bin("r1distill");
    for (const auto& f : flags(o)) s += " '" + f + "'";
    return s;
  };
  auto r = r1::test::run_command(cmd(out));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const int asked = teacher.completions.load();
  r = r1::test::run_command(cmd(dir / "clean"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(teacher.completions.load() - asked, 12 + 16 * 2);  // a clean run's requests
  // Nothing lost or duplicated; the same traces, kept rows, student weights and report numbers.
  std::set<std::pair<std::string, int64_t>> keys;
  for (const auto& s : read_jsonl(out + "/traces/samples.jsonl"))
    EXPECT_TRUE(
        keys.insert({s["problem_id"].get<std::string>(), s["sample_index"].get<int64_t>()}).second)
        << s.dump();
  EXPECT_EQ(keys.size(), 12u);
  EXPECT_EQ(r1::read_file(out + "/filter/sft.jsonl"),
            r1::read_file(dir / "clean/filter/sft.jsonl"));
  auto ra = json::parse(r1::read_file(out + "/report.json"));
  auto rb = json::parse(r1::read_file(dir / "clean/report.json"));
  ra["eval"].erase("seconds");
  rb["eval"].erase("seconds");
  const std::string ckpt_a = out + "/" + ra["sft"]["checkpoint"].get<std::string>();
  const std::string ckpt_b = dir / ("clean/" + rb["sft"]["checkpoint"].get<std::string>());
  EXPECT_EQ(r1::read_file(ckpt_a + "/model.safetensors"),
            r1::read_file(ckpt_b + "/model.safetensors"));
  EXPECT_EQ(ra["eval"], rb["eval"]);
}

}  // namespace
