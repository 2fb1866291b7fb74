// r1gen as a user runs it: JSON output, determinism by seed, and one clear error line with a
// non-zero exit for bad flags and bad checkpoints (missing, truncated, corrupt, mismatched).
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/test_util.h"
#include "toolkit/fs.h"
#include "toolkit/safetensors.h"

namespace r1 {
namespace {

namespace fs = std::filesystem;
const std::string kModel = "tests/data/models/qwen2-gqa-fp32";

test::CommandResult r1gen(const std::string& args) {
  return test::run_command(test::bin("r1gen") + " " + args);
}

// One line on stderr, starting "r1gen: error:", containing `needle`; exit code non-zero.
void expect_clean_error(const test::CommandResult& r, const std::string& needle) {
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_LT(r.exit_code, 128) << "crashed: " << r.out;
  EXPECT_NE(r.out.find(needle), std::string::npos) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
}

TEST(R1gen, JsonSamplesAreDeterministicBySeed) {
  const std::string args =
      "--model " + kModel +
      " --prompt-ids 5,6,7 --n 3 --temperature 0.7 --top-p 0.95 --max-new-tokens 8 --seed 4 --json";
  auto a = r1gen(args), b = r1gen(args);
  ASSERT_EQ(a.exit_code, 0) << a.out;
  EXPECT_EQ(a.out, b.out);
  std::istringstream lines(a.out);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line);
    EXPECT_TRUE(j["ids"].is_array());
    EXPECT_EQ(j["ids"].size(), j["logprobs"].size());
    EXPECT_TRUE(j["finish_reason"] == "length" || j["finish_reason"] == "stop");
    ++n;
  }
  EXPECT_EQ(n, 3);
  auto other = r1gen("--model " + kModel +
                     " --prompt-ids 5,6,7 --n 3 --temperature 0.7 --top-p 0.95 --max-new-tokens 8 "
                     "--seed 5 --json");
  EXPECT_NE(a.out, other.out);
}

TEST(R1gen, BadFlagsAndInputs) {
  expect_clean_error(r1gen("--model /nonexistent --prompt-ids 1"), "/nonexistent");
  expect_clean_error(r1gen("--model " + kModel + " --prompt-ids 1,x"), "\"x\" is not an integer");
  expect_clean_error(r1gen("--model " + kModel + " --prompt-ids 1,99999"),
                     "outside the vocabulary");
  expect_clean_error(r1gen("--model " + kModel + " --prompt hello"), "no tokenizer.json");
  expect_clean_error(r1gen("--model " + kModel + " --prompt-ids 1 --dtype int3"), "int3");
  expect_clean_error(r1gen("--model " + kModel + " --prompt-ids 1 --device tpu"), "tpu");
  std::string long_prompt = "1";
  for (int i = 0; i < 300; ++i) long_prompt += ",1";
  expect_clean_error(r1gen("--model " + kModel + " --prompt-ids " + long_prompt),
                     "does not fit the context");
  expect_clean_error(r1gen("--model " + kModel + " --prompt-ids 3,4,"), "is not a list");
  expect_clean_error(r1gen("--model " + kModel + " --prompt-ids 3 --max-context -5"),
                     "--max-context");
  expect_clean_error(r1gen("--model " + kModel + " --prompt-ids 3 --n 99999999999"),
                     "--n 99999999999");
  expect_clean_error(r1gen("--model " + kModel + " --prompt-ids 3 --temperature 1e-300 --top-k 5"),
                     "not finite");
  // A huge --max-batch allocates rows only for the samples asked for.
  EXPECT_EQ(r1gen("--model " + kModel + " --prompt-ids 3 --max-batch 1000000000 --max-new-tokens 4")
                .exit_code,
            0);
  auto r = r1gen("--model " + kModel + " --prompt-ids 1 --n 0");
  EXPECT_NE(r.exit_code, 0);
}

// Issue 19: --template-kwargs reaches the chat template (this one raises unless `flag` is set),
// and bad JSON there is one clear line before the model loads.
TEST(R1gen, TemplateKwargsReachTheChatTemplate) {
  test::TempDir dir;
  const std::string tpl = dir / "strict.jinja";
  write_file_atomic(tpl,
                    "{% if not flag %}{{ raise_exception('flag missing') }}{% endif %}"
                    "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}"
                    "{% if add_generation_prompt %}<|assistant|>{% endif %}");
  const std::string base =
      "--model tests/data/models/tiny-r1 --prompt hi --chat --max-new-tokens 2 --chat-template " +
      tpl;
  auto ok = r1gen(base + " --template-kwargs '{\"flag\": true}' --json");
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  expect_clean_error(r1gen(base), "flag missing");
  expect_clean_error(r1gen(base + " --template-kwargs '{\"flag\": false}'"), "flag missing");
  expect_clean_error(r1gen(base + " --template-kwargs '[true]'"),
                     "--template-kwargs must be a JSON object");
}

// Copies a checkpoint and lets `mutate` break it.
class BrokenCheckpoint : public ::testing::Test {
 protected:
  std::string make(const std::string& src = "tests/data/models/llama-tied-mha-fp32") {
    fs::copy(src, dir_.path() + "/m", fs::copy_options::recursive);
    return dir_.path() + "/m";
  }
  test::TempDir dir_;
};

TEST_F(BrokenCheckpoint, TruncatedWeights) {
  auto m = make();
  const auto file = m + "/model.safetensors";
  fs::resize_file(file, fs::file_size(file) / 2);
  expect_clean_error(r1gen("--model " + m + " --prompt-ids 1"), "past the end");
}

TEST_F(BrokenCheckpoint, CorruptHeader) {
  auto m = make();
  std::fstream f(m + "/model.safetensors", std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(8);
  f.write("#", 1);
  f.close();
  expect_clean_error(r1gen("--model " + m + " --prompt-ids 1"), "not valid JSON");
}

TEST_F(BrokenCheckpoint, MissingWeightsFileAndConfig) {
  auto m = make();
  fs::remove(m + "/model.safetensors");
  expect_clean_error(r1gen("--model " + m + " --prompt-ids 1"), "no model.safetensors");
  fs::remove(m + "/config.json");
  expect_clean_error(r1gen("--model " + m + " --prompt-ids 1"), "config.json");
}

TEST_F(BrokenCheckpoint, ShapeAndDtypeMismatchWithConfig) {
  auto m = make();
  SafetensorsFile orig(m + "/model.safetensors");
  std::vector<std::pair<std::string, torch::Tensor>> ts;
  for (const auto& e : orig.header().entries) ts.emplace_back(e.name, orig.tensor(e.name).clone());
  auto broken = ts;
  for (auto& [name, t] : broken)
    if (name == "model.norm.weight") t = torch::ones({63});
  safetensors_save(m + "/model.safetensors", broken);
  expect_clean_error(r1gen("--model " + m + " --prompt-ids 1"),
                     "\"model.norm.weight\" has shape [63]");
  broken = ts;
  for (auto& [name, t] : broken)
    if (name == "model.norm.weight") t = torch::ones({64}, torch::kLong);
  safetensors_save(m + "/model.safetensors", broken);
  expect_clean_error(r1gen("--model " + m + " --prompt-ids 1"), "dtype I64");
  broken.clear();
  for (auto& [name, t] : ts)
    if (name != "model.layers.1.mlp.up_proj.weight") broken.emplace_back(name, t);
  safetensors_save(m + "/model.safetensors", broken);
  expect_clean_error(r1gen("--model " + m + " --prompt-ids 1"),
                     "model.layers.1.mlp.up_proj.weight");
}

TEST_F(BrokenCheckpoint, UnknownModelType) {
  auto m = make();
  auto cfg = nlohmann::json::parse(read_file(m + "/config.json"));
  cfg["model_type"] = "mamba";
  std::ofstream(m + "/config.json") << cfg.dump();
  expect_clean_error(r1gen("--model " + m + " --prompt-ids 1"), "model_type \"mamba\"");
}

}  // namespace
}  // namespace r1

namespace r1 {
namespace {

// A GGUF file wherever a checkpoint goes: r1gen samples what it samples from the checkpoint the
// file was made from (tiny-r1, F32 and Q8_0), text prompt and chat; bad files get one line. GGUF
// keeps no sampling defaults (generation_config.json), so top-p is given.
TEST(R1gen, RunsAGgufFileAsItsCheckpoint) {
  test::TempDir dir;
  const std::string tiny = "tests/data/models/tiny-r1";
  for (const std::string type : {"f32", "q8_0"}) {
    const std::string gguf = dir / ("tiny-r1-" + type + ".gguf");
    auto c = test::run_command(test::bin("r1convert") + " to-gguf " + tiny + " --out " + gguf +
                               " --type " + type);
    ASSERT_EQ(c.exit_code, 0) << c.out;
    const std::string args =
        " --prompt 'What is 2 + 3?' --chat --n 2 --temperature 0.7 --top-p 0.95 --max-new-tokens "
        "12 --seed 3 --json";
    auto a = r1gen("--model " + tiny + args), b = r1gen("--model " + gguf + args);
    ASSERT_EQ(b.exit_code, 0) << b.out;
    if (type == "f32")
      EXPECT_EQ(a.out, b.out);
    else
      EXPECT_EQ(std::count(b.out.begin(), b.out.end(), '\n'), 2) << b.out;  // quantized: runs
  }
  std::ofstream(dir / "junk.gguf") << "GGUF\x03";
  expect_clean_error(r1gen("--model " + dir / "junk.gguf" + " --prompt-ids 1"), "junk.gguf");
}

}  // namespace
}  // namespace r1
