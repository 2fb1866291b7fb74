// r1pipeline end to end on a CPU-sized recipe (the built-in tiny R1-Zero at nano size, a few steps
// per stage): every stage type runs and is gated; a failed gate stops the run with exit status 3
// and keeps the last promoted checkpoint; --resume continues at the failed stage (with new gates,
// or a new config in a fresh attempt folder) and after an interruption (SIGKILL); passed stages are
// not redone and cannot be changed; recipes with errors are refused naming file and field.
#include <gtest/gtest.h>

#include <fcntl.h>     // open, O_WRONLY
#include <signal.h>    // kill, SIGKILL
#include <sys/wait.h>  // waitpid
#include <unistd.h>    // fork, execl

#include <chrono>      // std::chrono
#include <filesystem>  // std::filesystem
#include <fstream>     // std::ofstream
#include <regex>       // std::regex_replace
#include <set>         // std::set
#include <string>      // std::string
#include <thread>      // std::this_thread

#include "pipeline/pipeline.h"
#include "pipeline/recipe.h"
#include "tests/test_util.h"  // r1::test::TempDir, bin, run_command, error_of
#include "toolkit/fs.h"       // r1::read_file
#include "toolkit/json.h"     // r1::read_json_file

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using r1::test::TempDir;

// Every stage type at toy size; GATE2 is the grpo stage's pass@1 gate (a test sets it).
std::string recipe_text(const std::string& gate2, int grpo_steps = 2) {
  return R"(name: mini
model: {builtin: zero, size: nano, base_steps: 40}
threads: 2
eval:
  dataset: ${assets}/heldout.jsonl
  question_field: prompt
  answer_field: answer
  id_field: id
  prompt_template: "{problem}"
  limit: 12
  samples: 2
  temperature: 1.0
  top_p: 1.0
  max_new_tokens: 24
  bootstrap: 200
stages:
  - name: cold
    type: sft
    config: {data: "${assets}/sft.jsonl", steps: 2, batch_size: 4, lr: 1.0e-3}
    gates: ["heldout.pass@1 >= prev - 1", "truncated_rate <= 1"]
  - name: rl
    type: grpo
    config: {prompts: "${assets}/grpo.jsonl", steps: )" +
         std::to_string(grpo_steps) + R"(, num_generations: 2, prompts_per_step: 2,
             max_new_tokens: 24, lr: 1.0e-3}
    gates: [")" +
         gate2 + R"("]
  - name: rs
    type: rejection_sampling
    config: {prompts: "${assets}/grpo.jsonl", question_field: prompt, protocol: grpo, limit: 8,
             samples: 2, temperature: 1.0, top_p: 1.0, max_new_tokens: 24, require_correct: false}
    gates: ["rows >= 16"]
  - name: sft2
    type: sft
    from: input
    config: {steps: 1, batch_size: 4, lr: 1.0e-3}
    gates: ["heldout.pass@1 >= 0"]
)";
}

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

r1::PipelineOptions opts(const std::string& recipe, const std::string& out) {
  r1::PipelineOptions o;
  o.recipe = recipe;
  o.out = out;
  return o;
}

json state_of(const std::string& run) { return r1::read_json_file(run + "/pipeline.json"); }

json stage(const json& state, const std::string& name) {
  for (const auto& s : state.at("stages"))
    if (s.at("name") == name) return s;
  return json();
}

TEST(Pipeline, GateStopsThenResumeContinues) {
  TempDir dir;
  const std::string recipe = dir / "mini.yaml", run = dir / "run";
  write(recipe, recipe_text("heldout.pass@1 >= 1.01"));  // cannot hold
  // Through the command: a failed gate is exit status 3 and names the stage.
  const auto cmd =
      r1::test::run_command(r1::test::bin("r1pipeline") + " run " + recipe + " --out " + run);
  ASSERT_EQ(cmd.exit_code, r1::kExitGateFailed) << cmd.out;
  EXPECT_NE(cmd.out.find("stage rl failed its gates"), std::string::npos) << cmd.out;
  json s = state_of(run);
  EXPECT_EQ(s["status"], "failed");
  EXPECT_EQ(s["failed_stage"], "rl");
  EXPECT_EQ(s["promoted"]["stage"], "cold");  // the last promoted checkpoint stays
  EXPECT_EQ(s["promoted"]["checkpoint"], stage(s, "cold")["checkpoint"]);
  EXPECT_TRUE(fs::is_regular_file(run + "/" + s["promoted"]["checkpoint"].get<std::string>() +
                                  "/config.json"));
  EXPECT_EQ(stage(s, "input")["status"], "passed");
  EXPECT_EQ(stage(s, "cold")["status"], "passed");
  EXPECT_EQ(stage(s, "rl")["status"], "failed");
  EXPECT_EQ(stage(s, "rs")["status"], "pending");
  EXPECT_EQ(stage(s, "sft2")["status"], "pending");
  const json g = stage(s, "rl")["gates"][0];
  EXPECT_EQ(g["status"], "failed");
  EXPECT_LT(g["slack"].get<double>(), 0);
  EXPECT_NE(r1::read_file(run + "/report.md").find("heldout.pass@1 >= 1.01"), std::string::npos);
  EXPECT_TRUE(fs::exists(run + "/report.html"));
  const std::string cold_ckpt = run + "/" + stage(s, "cold")["checkpoint"].get<std::string>();
  const auto cold_time = fs::last_write_time(cold_ckpt + "/model.safetensors");

  // Rerunning without --resume is refused; a passed stage's config cannot change.
  EXPECT_NE(r1::test::error_of([&] { r1::run_pipeline(opts(recipe, run)); }).find("--resume"),
            std::string::npos);
  {
    std::string changed = std::regex_replace(recipe_text("heldout.pass@1 >= 0"),
                                             std::regex("steps: 2, batch_size: 4, lr: 1.0e-3"),
                                             "steps: 3, batch_size: 4, lr: 1.0e-3");
    write(dir / "changed.yaml", changed);
    auto o = opts(dir / "changed.yaml", run);
    o.resume = true;
    EXPECT_NE(r1::test::error_of([&] { r1::run_pipeline(o); }).find("stage cold passed"),
              std::string::npos);
  }

  // --resume with gates that hold: the failed stage is judged again on its stored training and
  // evaluation, and the run goes on to the end; the passed stage is not redone.
  write(recipe, recipe_text("heldout.pass@1 >= prev - 1"));
  auto o = opts(recipe, run);
  o.resume = true;
  const auto r = r1::run_pipeline(o);
  EXPECT_EQ(r.status, "passed");
  s = state_of(run);
  EXPECT_EQ(s["status"], "passed");
  for (const char* name : {"input", "cold", "rl", "rs", "sft2"})
    EXPECT_EQ(stage(s, name)["status"], "passed") << name;
  EXPECT_EQ(stage(s, "rl")["attempt"], 1);
  EXPECT_EQ(fs::last_write_time(cold_ckpt + "/model.safetensors"), cold_time);
  EXPECT_EQ(s["promoted"]["stage"], "sft2");
  EXPECT_EQ(r.promoted, fs::path(run + "/" + stage(s, "sft2")["checkpoint"].get<std::string>())
                            .lexically_normal()
                            .string());
  // Rejection sampling's data feeds sft2, which started from the input model.
  const json data = stage(s, "rs")["data"];
  EXPECT_GE(data["rows"].get<int64_t>(), 16);
  EXPECT_EQ(data["rows"], 16);  // 8 prompts x 2 samples
  const json sft_cfg = r1::read_json_file(run + "/stages/04-sft2/train/sft_config.json");
  EXPECT_EQ(fs::path(sft_cfg["data"].get<std::string>()).lexically_normal(),
            fs::path(run + "/stages/03-rs/train/filter/sft.jsonl").lexically_normal());
  EXPECT_EQ(
      fs::path(sft_cfg["model"].get<std::string>()).lexically_normal(),
      fs::path(run + "/" + stage(s, "input")["checkpoint"].get<std::string>()).lexically_normal());
  // "prev" of sft2 is rl (rejection sampling promotes nothing).
  EXPECT_EQ(stage(s, "rl")["gates"][0]["reference_label"], "stage cold");
  EXPECT_EQ(stage(s, "sft2")["gates"][0]["kind"], "absolute");
}

TEST(Pipeline, ChangedConfigOfAFailedStageStartsAFreshAttempt) {
  TempDir dir;
  const std::string recipe = dir / "mini.yaml", run = dir / "run";
  write(recipe, recipe_text("heldout.pass@1 >= 1.01"));
  auto o = opts(recipe, run);
  o.until = "rl";
  EXPECT_EQ(r1::run_pipeline(o).status, "failed");
  write(recipe, recipe_text("heldout.pass@1 >= 0", 3));  // 3 GRPO steps now
  o.resume = true;
  const auto r = r1::run_pipeline(o);
  EXPECT_EQ(r.status, "stopped");  // --until rl
  const json s = state_of(run);
  EXPECT_EQ(stage(s, "rl")["status"], "passed");
  EXPECT_EQ(stage(s, "rl")["attempt"], 2);
  EXPECT_TRUE(fs::is_directory(run + "/stages/02-rl.attempt-1/train"));
  const json cfg = r1::read_json_file(run + "/stages/02-rl/train/grpo_config.json");
  EXPECT_EQ(cfg["steps"], 3);
  EXPECT_EQ(stage(s, "rs")["status"], "pending");
}

// Resuming with new gates for a passed rejection-sampling stage and for the failed SFT after it:
// the rejection stage is judged again on its stored data and still feeds the SFT its rows.
TEST(Pipeline, RejudgedRejectionStageStillFeedsTheNextSft) {
  TempDir dir;
  const std::string recipe = dir / "mini.yaml", run = dir / "run";
  const std::string good = recipe_text("heldout.pass@1 >= 0");
  write(recipe, std::regex_replace(good, std::regex("gates: \\[\"heldout.pass@1 >= 0\"\\]\n$"),
                                   "gates: [\"heldout.pass@1 >= 1.01\"]\n"));
  EXPECT_EQ(r1::run_pipeline(opts(recipe, run)).status, "failed");
  EXPECT_EQ(state_of(run)["failed_stage"], "sft2");
  write(recipe, std::regex_replace(good, std::regex("rows >= 16"), "rows >= 8"));
  auto o = opts(recipe, run);
  o.resume = true;
  EXPECT_EQ(r1::run_pipeline(o).status, "passed");
  const json s = state_of(run);
  EXPECT_EQ(stage(s, "rs")["gates"][0]["expr"], "rows >= 8");
  EXPECT_EQ(stage(s, "sft2")["status"], "passed");
}

// A SIGKILLed run resumes: the stage that was running finishes, nothing is lost or done twice.
TEST(Pipeline, ResumeAfterSigkill) {
  TempDir dir;
  const std::string recipe = dir / "mini.yaml", run = dir / "run";
  write(recipe, recipe_text("heldout.pass@1 >= 0", 30));
  const pid_t pid = fork();
  if (pid == 0) {
    const std::string b = r1::test::bin("r1pipeline");
    const int devnull = ::open("/dev/null", O_WRONLY);
    dup2(devnull, 2);
    execl(b.c_str(), b.c_str(), "run", recipe.c_str(), "--out", run.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  // Kill it while GRPO trains (its metrics log has lines).
  const std::string metrics = run + "/stages/02-rl/train/metrics.jsonl";
  bool seen = false;
  for (int i = 0; i < 3000 && !seen; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    seen = fs::exists(metrics) && fs::file_size(metrics) > 0;
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(seen) << "GRPO never started";
  json s = state_of(run);
  EXPECT_EQ(s["status"], "running");
  EXPECT_EQ(stage(s, "rl")["status"], "running");
  auto o = opts(recipe, run);
  o.resume = true;
  EXPECT_EQ(r1::run_pipeline(o).status, "passed");
  s = state_of(run);
  EXPECT_EQ(s["resumed"], 1);
  EXPECT_EQ(stage(s, "rl")["status"], "passed");
  // GRPO logged each of its 30 steps once.
  std::set<int64_t> steps;
  int64_t lines = 0;
  for (const auto& row : r1::test::read_jsonl(metrics))
    if (row.contains("reward")) {
      steps.insert(row["step"].get<int64_t>());
      ++lines;
    }
  EXPECT_EQ(steps.size(), 30u);
  EXPECT_EQ(lines, 30);
}

// "baseline" is the same stage of another run: the paired difference against it.
TEST(Pipeline, BaselineGates) {
  TempDir dir;
  const std::string good = recipe_text("heldout.pass@1 >= 0");
  write(dir / "a.yaml", good);
  auto a = opts(dir / "a.yaml", dir / "a");
  a.until = "cold";
  ASSERT_EQ(r1::run_pipeline(a).status, "stopped");
  write(dir / "b.yaml",
        std::regex_replace(
            good, std::regex("\\[\"heldout.pass@1 >= prev - 1\", \"truncated_rate <= 1\"\\]"),
            "[\"heldout.pass@1 >= baseline - 1\", \"heldout.pass@1 >= baseline + 1\"]"));
  auto b = opts(dir / "b.yaml", dir / "b");
  b.until = "cold";
  b.baseline = dir / "a";
  const auto r = r1::run_pipeline(b);
  EXPECT_EQ(r.status, "failed");
  const json gates = stage(state_of(dir / "b"), "cold")["gates"];
  ASSERT_EQ(gates.size(), 2u);
  EXPECT_EQ(gates[0]["status"], "passed");
  EXPECT_EQ(gates[1]["status"], "failed");
  EXPECT_EQ(gates[0]["reference_label"], (dir / "a") + " stage cold");
  // Same model, data and seeds: the same samples, so the paired difference is exactly 0.
  EXPECT_DOUBLE_EQ(gates[0]["estimate"].get<double>(), 0.0);
  // Without a baseline the gate cannot be judged, and does not pass.
  auto c = opts(dir / "b.yaml", dir / "c");
  c.until = "cold";
  EXPECT_EQ(r1::run_pipeline(c).status, "failed");
  EXPECT_EQ(stage(state_of(dir / "c"), "cold")["gates"][0]["status"], "missing");
}

TEST(Recipe, ErrorsNameFileAndField) {
  TempDir dir;
  const std::string good = recipe_text("heldout.pass@1 >= 0");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {std::regex_replace(good,
                          std::regex("lr: 1.0e-3\\}\n    gates: \\[\"heldout.pass@1 >= "
                                     "prev - 1\""),
                          "lrr: 1.0e-3}\n    gates: [\"heldout.pass@1 >= prev - 1\""),
       "stages[0].config.lrr: no such field"},
      {std::regex_replace(good, std::regex("type: grpo"), "type: ppo"),
       "stages[1].type: 'ppo' is not a stage type"},
      {std::regex_replace(good, std::regex("name: rs"), "name: cold"),
       "stages[2].name: 'cold' is used twice"},
      {std::regex_replace(good, std::regex("from: input"), "from: later"),
       "stages[3].from: 'later'"},
      {std::regex_replace(good, std::regex("heldout.pass@1 >= 0\"\\]\n  - name: rs"),
                          "heldout.pass@1 => 0\"]\n  - name: rs"),
       "stages[1].gates[0]"},
      {std::regex_replace(good, std::regex("samples: 2\n  temperature"),
                          "sample: 2\n  temperature"),
       "mini.yaml.eval.sample: unknown key"},
      {std::regex_replace(good, std::regex("\\$\\{assets\\}/sft"), "${asset}/sft"),
       "unknown variable ${asset}"},
      {std::regex_replace(good, std::regex("config: \\{steps: 1, batch_size: 4"),
                          "config: {model: x, steps: 1, batch_size: 4"),
       "stages[3].config.model: set by the pipeline"},
      {good + "  - {name: d, type: distill, config: {prompts: x}}\n",
       "stages[4].config.student: missing"},
      {"name: x\nstages: []\nmodel: m\n", "stages: a list of at least one stage"},
      {"name: [x\n", "mini.yaml:"},
  };
  for (const auto& [text, want] : cases) {
    write(dir / "mini.yaml", text);
    const std::string err =
        r1::test::error_of([&] { r1::load_recipe(dir / "mini.yaml", dir / "run"); });
    EXPECT_NE(err.find(want), std::string::npos) << "want: " << want << "\ngot: " << err;
  }
  write(dir / "mini.yaml", good);
  const r1::Recipe r = r1::load_recipe(dir / "mini.yaml", dir / "run");
  ASSERT_EQ(r.stages.size(), 4u);
  EXPECT_EQ(r.stages[1].eval.protocol.samples, 2);
  EXPECT_EQ(r.stages[0].config["data"], (dir / "run") + "/input/assets/sft.jsonl");
  // The shipped recipes parse (the 7B one names its folders by environment variables).
  setenv("R1_MODELS_DIR", "/models", 1);
  setenv("R1_DATA", "/data", 1);
  for (const char* shipped :
       {"pipeline/recipes/tiny-r1.yaml", "pipeline/recipes/r1-distill-qwen-7b.yaml"})
    EXPECT_EQ(r1::test::error_of([&] { r1::load_recipe(shipped, dir / "r"); }), "") << shipped;
}

// Issue 17, D10: `r1pipeline check` passed a missing data file, steps: -3, a missing model
// directory and a gate on a benchmark the stage does not evaluate (which failed only after the
// stage had trained). check, and run before anything runs, refuse each, naming the field.
TEST(Recipe, CheckAndRunRefuseWhatOnlyTrainingWouldHaveShown) {
  TempDir dir;
  const std::string good = recipe_text("heldout.pass@1 >= 0");
  write(dir / "sft.jsonl", "{\"prompt\": \"1+1\", \"response\": \"2\"}\n");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {std::regex_replace(good, std::regex("\\$\\{assets\\}/sft.jsonl"), "/nonexistent/sft.jsonl"),
       "mini.yaml: stages[0].config.data: /nonexistent/sft.jsonl does not exist"},
      {std::regex_replace(good, std::regex("steps: 2, batch_size: 4"), "steps: -3, batch_size: 4"),
       "mini.yaml: stages[0].config: steps -3: must not be negative"},
      {"name: m\nmodel: /nonexistent/model\nstages:\n  - {name: a, type: sft, config: {data: " +
           (dir / "sft.jsonl") + "}}\n",
       "mini.yaml: model: /nonexistent/model does not exist"},
      {std::regex_replace(good, std::regex("heldout.pass@1 >= 0\"\\]\n  - name: rs"),
                          "aime2024.pass@1 >= 0\"]\n  - name: rs"),
       "mini.yaml: stages[1].gates: 'aime2024.pass@1 >= 0' is on benchmark aime2024, which the "
       "stage's evaluation does not run (it runs heldout)"},
      {std::regex_replace(good,
                          std::regex("prompts: \"\\$\\{assets\\}/grpo.jsonl\", question_field"),
                          "prompts: \"" + dir.path() + "\", question_field"),
       "stages[2].config.prompts: " + dir.path() + " is not a regular file"},
  };
  for (const auto& [text, want] : cases) {
    write(dir / "mini.yaml", text);
    ASSERT_NE(text, good) << want;
    auto r = r1::test::run_command(r1::test::bin("r1pipeline") + " check " + (dir / "mini.yaml"));
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_NE(r.out.find(want), std::string::npos) << "want: " << want << "\ngot: " << r.out;
    r = r1::test::run_command(r1::test::bin("r1pipeline") + " run " + (dir / "mini.yaml") +
                              " --out " + (dir / "run"));
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_NE(r.out.find(want), std::string::npos) << "want: " << want << "\ngot: " << r.out;
    EXPECT_FALSE(fs::exists(dir / "run")) << "run made " << (dir / "run") << " before refusing";
  }
  write(dir / "mini.yaml", good);
  EXPECT_EQ(r1::test::run_command(r1::test::bin("r1pipeline") + " check " + (dir / "mini.yaml"))
                .exit_code,
            0);
  // Issue 17, D8: --out naming a folder of the user's own files (a report.md) is refused, and the
  // file is left as it was.
  fs::create_directories(dir / "mine");
  write(dir / "mine/report.md", "my notes\n");
  const auto mine = r1::test::run_command(r1::test::bin("r1pipeline") + " run " +
                                          (dir / "mini.yaml") + " --out " + (dir / "mine"));
  EXPECT_EQ(mine.exit_code, 1) << mine.out;
  EXPECT_NE(mine.out.find("mine: not empty and not a run of r1pipeline"), std::string::npos)
      << mine.out;
  EXPECT_EQ(r1::read_file(dir / "mine/report.md"), "my notes\n");
  EXPECT_EQ(
      r1::test::run_command(r1::test::bin("r1pipeline") + " check pipeline/recipes/tiny-r1.yaml")
          .exit_code,
      0);
}

}  // namespace

// A GGUF file as the recipe's model (tiny-r1, F32, via r1convert): check and run take it, the
// input model is evaluated from it and the SFT stage trains from it into a checkpoint of its own.
TEST(Pipeline, RunsFromAGgufModel) {
  TempDir dir;
  const std::string gguf = dir / "tiny-r1.gguf";
  auto r =
      r1::test::run_command(r1::test::bin("r1convert") +
                            " to-gguf tests/data/models/tiny-r1 --out " + gguf + " --type f32");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  write(dir / "sft.jsonl", "{\"prompt\": \"1+1\", \"response\": \"2\"}\n");
  write(dir / "heldout.jsonl",
        "{\"id\": \"a\", \"prompt\": \"1+1\", \"answer\": \"2\"}\n"
        "{\"id\": \"b\", \"prompt\": \"2+2\", \"answer\": \"4\"}\n");
  write(dir / "g.yaml", "name: g\nmodel: " + gguf +
                            "\nthreads: 2\neval:\n  dataset: " + (dir / "heldout.jsonl") +
                            "\n  question_field: prompt\n  answer_field: answer\n  id_field: id\n"
                            "  prompt_template: \"{problem}\"\n  samples: 1\n  max_new_tokens: 8\n"
                            "  bootstrap: 100\nstages:\n  - name: cold\n    type: sft\n"
                            "    config: {data: " +
                            (dir / "sft.jsonl") + ", steps: 1, batch_size: 1}\n");
  r = r1::test::run_command(r1::test::bin("r1pipeline") + " check " + (dir / "g.yaml"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = r1::test::run_command(r1::test::bin("r1pipeline") + " run " + (dir / "g.yaml") + " --out " +
                            (dir / "run"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(fs::exists(dir / "run/report.md")) << r.out;
  bool trained = false;
  for (const auto& e : fs::recursive_directory_iterator(dir / "run"))
    trained |= e.path().filename() == "tokenizer.json" &&
               fs::exists(e.path().parent_path() / "model.safetensors");
  EXPECT_TRUE(trained) << "no checkpoint with a tokenizer.json under " << (dir / "run");
}
