// r1eval run end to end on the tiny random R1-style checkpoint (tests/data/models/tiny-r1): the
// native backend, r1serve through the HTTP backend (chat and completions: the same samples as the
// native engine), kill -9 and resume, a faulty HTTP server (resets, 500, 429, stalls, malformed
// JSON) with no sample lost or duplicated, regrade of a hand-made store against the closed-form
// pass@k, and clear errors for bad input.
#include <arpa/inet.h>  // inet_pton
#include <fcntl.h>      // open
#include <gtest/gtest.h>
#include <netinet/in.h>    // sockaddr_in
#include <signal.h>        // kill
#include <sys/resource.h>  // rusage
#include <sys/socket.h>    // socket, connect, send
#include <sys/stat.h>      // mkfifo
#include <sys/wait.h>      // waitpid, wait4
#include <unistd.h>        // fork, execl, dup2

#include <algorithm>   // std::any_of
#include <atomic>      // std::atomic
#include <chrono>      // std::chrono
#include <filesystem>  // std::filesystem
#include <fstream>     // std::ofstream
#include <map>         // std::map
#include <set>         // std::set
#include <thread>      // std::this_thread

#include "evals/metrics.h"        // r1::pass_at_k
#include "evals/protocol.h"       // r1::sample_seed
#include "evals/runner.h"         // r1::run_eval
#include "evals/sample_store.h"   // r1::SampleStore
#include "tests/test_util.h"      // r1::test::TempDir
#include "toolkit/error.h"        // r1::Error
#include "toolkit/fs.h"           // r1::read_file
#include "toolkit/http.h"         // r1::HttpServer
#include "toolkit/json.h"         // r1::read_json_file
#include "toolkit/sse.h"          // r1::SseReader
#include "toolkit/transformer.h"  // r1::load_transformer

namespace {

using r1::test::bin;
using r1::test::R1serve;
using r1::test::run_command;

const std::string kModel = "tests/data/models/tiny-r1";
const std::string kData = r1::test::shared_data("benchmarks");

std::string eval_cmd(const std::string& out, const std::string& extra) {
  return bin("r1eval") + " run aime2024 --data-dir " + kData + " --out " + out +
         " --no-progress --bootstrap 200 " + extra;
}

// (problem, index) -> the stored sample; fails the test on a duplicate.
std::map<std::pair<std::string, int64_t>, r1::SampleRecord> stored(const std::string& dir) {
  std::map<std::pair<std::string, int64_t>, r1::SampleRecord> out;
  r1::SampleStore store(dir + "/samples.jsonl");
  for (const auto& s : store.samples()) {
    EXPECT_TRUE(out.emplace(std::make_pair(s.problem_id, s.sample_index), s).second);
    EXPECT_EQ(s.seed, r1::sample_seed(0, s.benchmark, s.problem_id, s.sample_index));
  }
  return out;
}

void expect_same_samples(const std::string& a, const std::string& b) {
  const auto sa = stored(a), sb = stored(b);
  ASSERT_EQ(sa.size(), sb.size());
  for (const auto& [key, s] : sa) {
    ASSERT_TRUE(sb.count(key)) << key.first << " " << key.second;
    const auto& t = sb.at(key);
    EXPECT_EQ(s.response, t.response) << key.first << " " << key.second;
    EXPECT_EQ(s.finish_reason, t.finish_reason);
    EXPECT_EQ(s.completion_tokens, t.completion_tokens);
    EXPECT_EQ(s.prompt_hash.empty(), false);
  }
}

TEST(R1evalRun, NativeBackendStoresGradesAndResumes) {
  r1::test::TempDir dir;
  const std::string out = dir / "run";
  auto r = run_command(
      eval_cmd(out, "--model " + kModel + " --limit 3 --samples 4 --max-new-tokens 24"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("3 problems x 4 samples; 0 stored, 12 to generate"), std::string::npos);
  EXPECT_NE(r.out.find("| aime2024 | 3 | 4 |"), std::string::npos) << r.out;
  const auto samples = stored(out);
  EXPECT_EQ(samples.size(), 12u);
  for (const auto& [key, s] : samples) {
    EXPECT_EQ(s.prompt_tokens > 0, true);
    EXPECT_LE(s.completion_tokens, 24);
    // A random model never closes its reasoning: no answer, never "correct".
    EXPECT_FALSE(s.correct);
    EXPECT_TRUE(s.reason == "truncated" || s.reason == "unclosed_think") << s.reason;
  }
  const auto results = r1::read_json_file(out + "/results.json");
  const auto& m = results["benchmarks"]["aime2024"];
  EXPECT_EQ(m["problems"], 3);
  EXPECT_EQ(m["samples"], 12);
  EXPECT_EQ(m["no_answer_rate"], 1.0);
  EXPECT_EQ(results["run"]["protocol"]["temperature"], 0.6);
  EXPECT_EQ(results["run"]["benchmarks"]["aime2024"]["checksum"], "matches");
  EXPECT_TRUE(std::filesystem::exists(out + "/summary.md"));
  // Issue 20, point 3: the speed is recorded with the accuracy.
  const auto& speed = results["speed"];
  EXPECT_EQ(speed["samples"], 12);
  EXPECT_GT(speed["generated_tok_s"].get<double>(), 0);
  EXPECT_EQ(speed["ttft_s"]["samples"], 12);
  EXPECT_EQ(speed["tpot_s"]["samples"], 12);
  EXPECT_GT(speed["batch_fill"].get<double>(), 0);
  EXPECT_LE(speed["batch_fill"].get<double>(), 1);
  EXPECT_NE(r1::read_file(out + "/summary.md").find("speed: "), std::string::npos);

  // Resume: nothing to do, nothing rewritten.
  const std::string before = r1::read_file(out + "/samples.jsonl");
  r = run_command(
      eval_cmd(out, "--model " + kModel + " --limit 3 --samples 4 --max-new-tokens 24"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("12 stored, 0 to generate"), std::string::npos) << r.out;
  EXPECT_EQ(r1::read_file(out + "/samples.jsonl"), before);
  // More samples extend the run; the first four stay as they were.
  r = run_command(
      eval_cmd(out, "--model " + kModel + " --limit 3 --samples 6 --max-new-tokens 24"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("12 stored, 6 to generate"), std::string::npos) << r.out;
  EXPECT_EQ(r1::read_file(out + "/samples.jsonl").substr(0, before.size()), before);
  EXPECT_EQ(r1::read_json_file(out + "/run.json")["generations"].size(),
            2u);  // the resume generated nothing
  EXPECT_EQ(r1::read_json_file(out + "/results.json")["speed"]["samples"], 18);
  // Another temperature is another run: refused, store untouched.
  r = run_command(eval_cmd(
      out, "--model " + kModel + " --limit 3 --samples 6 --max-new-tokens 24 --temperature 1"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("another temperature"), std::string::npos) << r.out;
  EXPECT_EQ(stored(out).size(), 18u);

  // Samples do not depend on batching: one sequence at a time gives the same text.
  const std::string solo = dir / "solo";
  r = run_command(eval_cmd(
      solo, "--model " + kModel + " --limit 3 --samples 6 --max-new-tokens 24 --max-batch 1"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  expect_same_samples(out, solo);
}

// tiny-r1 with its output layer scaled up, so its next-token distributions are peaked like a
// trained model's rather than almost uniform (where float rounding decides between near-ties).
std::string sharpened_model(const std::string& dir) {
  auto model = r1::load_transformer(kModel);
  {
    torch::NoGradGuard no_grad;
    for (auto& [name, t] : model->hf_parameters())
      if (name == "lm_head.weight") t.mul_(40);
  }
  r1::save_transformer(*model, dir);
  for (const char* f : {"tokenizer.json", "tokenizer_config.json", "generation_config.json"})
    std::filesystem::copy_file(kModel + "/" + f, dir + "/" + f,
                               std::filesystem::copy_options::overwrite_existing);
  return dir;
}

TEST(R1evalRun, ThroughR1serveTheSamplesEqualTheNativeOnes) {
  r1::test::TempDir dir;
  const std::string model = sharpened_model(dir / "tiny-r1");
  R1serve server(dir / "port", model);
  ASSERT_GT(server.port(), 0) << "r1serve did not start";
  const std::string args = " --limit 2 --samples 3 --max-new-tokens 20";
  auto r = run_command(eval_cmd(dir / "native", "--model " + model + args));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = run_command(eval_cmd(dir / "chat", "--endpoint " + server.url() + " --concurrency 4" + args));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  expect_same_samples(dir / "native", dir / "chat");
  r = run_command(eval_cmd(dir / "completions", "--endpoint " + server.url() +
                                                    " --api completions --tokenizer " + model +
                                                    " --concurrency 3" + args));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  expect_same_samples(dir / "native", dir / "completions");
  const auto run = r1::read_json_file(dir / "chat/run.json");
  EXPECT_EQ(run["backend"]["served_model"], "tiny-r1");  // from GET /models
  EXPECT_EQ(run["backend"]["stream"], true);
  // Streamed (the default), each sample's first token is timed; the fill is requests in flight.
  const auto speed = r1::read_json_file(dir / "chat/results.json")["speed"];
  EXPECT_GT(speed["ttft_s"]["mean"].get<double>(), 0) << speed;
  EXPECT_GT(speed["tpot_s"]["mean"].get<double>(), 0) << speed;
  EXPECT_GT(speed["batch_fill"].get<double>(), 0) << speed;
  EXPECT_LE(speed["batch_fill"].get<double>(), 1.0 + 1e-9) << speed;
  // Without streaming: the same samples, and no first token to time.
  r = run_command(eval_cmd(dir / "plain", "--endpoint " + server.url() + " --no-stream" + args));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  expect_same_samples(dir / "native", dir / "plain");
  EXPECT_TRUE(r1::read_json_file(dir / "plain/results.json")["speed"]["ttft_s"].is_null());
}

// "stream": true: r1serve sends the sample as Server-Sent Events while it is generated, in
// OpenAI's chunk format: the text pieces join into the text the same request gets without
// streaming (stop strings left out, never sent), then the finish reason, the usage when asked
// for, and [DONE]. The first piece arrives before the last token is generated.
TEST(R1serve, StreamsOneSampleAsServerSentEvents) {
  r1::test::TempDir dir;
  R1serve server(dir / "port", kModel);
  ASSERT_GT(server.port(), 0) << "r1serve did not start";
  r1::HttpClient client(r1::parse_url(server.url()), 30);
  // The events' data, in order, and when each piece of the body arrived (seconds from the send).
  auto stream = [&](const std::string& path, nlohmann::json body) {
    body["stream"] = true;
    std::vector<std::string> events;
    std::vector<double> arrived;
    std::string type;
    r1::SseReader reader([&](const std::string& data) { events.push_back(data); });
    const auto start = std::chrono::steady_clock::now();
    const auto head = client.stream(
        "POST", path, {},
        [&](const r1::HttpResponse& h, std::string_view piece) {
          type = h.header("Content-Type");
          arrived.push_back(
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
          reader.feed(piece);
        },
        body.dump());
    EXPECT_EQ(head.status, 200);
    EXPECT_EQ(type, "text/event-stream");
    return std::make_pair(events, arrived);
  };
  const nlohmann::json req = {{"prompt", {997, 10, 20, 30}},
                              {"max_tokens", 40},
                              {"temperature", 0.7},
                              {"seed", 11},
                              {"ignore_eos", true}};
  const auto plain = nlohmann::json::parse(client.request("POST", "/completions", req.dump()).body);
  const std::string want = plain["choices"][0]["text"];
  ASSERT_GT(want.size(), 4u);

  nlohmann::json with_usage = req;
  with_usage["stream_options"] = {{"include_usage", true}};
  const auto [events, arrived] = stream("/completions", with_usage);
  ASSERT_GE(events.size(), 4u);
  EXPECT_EQ(events.back(), "[DONE]");
  std::string text;
  for (size_t i = 0; i + 3 < events.size(); ++i) {
    const auto j = nlohmann::json::parse(events[i]);
    EXPECT_EQ(j["object"], "text_completion");
    EXPECT_TRUE(j["choices"][0]["finish_reason"].is_null()) << events[i];
    text += j["choices"][0]["text"].get<std::string>();
  }
  EXPECT_EQ(text, want);
  const auto last = nlohmann::json::parse(events[events.size() - 3]);
  EXPECT_EQ(last["choices"][0]["finish_reason"], "length");
  const auto usage = nlohmann::json::parse(events[events.size() - 2]);
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["completion_tokens"], 40);
  EXPECT_EQ(usage["usage"]["prompt_tokens"], 4);
  // Streamed as generated: the body came in several pieces, the first well before the last.
  ASSERT_GE(arrived.size(), 3u);
  EXPECT_LT(arrived.front(), arrived.back());

  // A stop string: the text ends before it, and no piece of it was ever sent.
  nlohmann::json stop_req = req;
  size_t at = want.size() / 2;  // two ASCII characters from the second half
  while (at + 2 < want.size() && (static_cast<unsigned char>(want[at]) >= 0x80 ||
                                  static_cast<unsigned char>(want[at + 1]) >= 0x80))
    ++at;
  ASSERT_LT(at + 2, want.size()) << want;
  const std::string stop = want.substr(at, 2);
  stop_req["stop"] = {stop};
  const std::string cut = nlohmann::json::parse(
      client.request("POST", "/completions", stop_req.dump()).body)["choices"][0]["text"];
  const auto [stop_events, stop_arrived] = stream("/completions", stop_req);
  std::string stop_text;
  for (const auto& e : stop_events)
    if (e != "[DONE]")
      stop_text += nlohmann::json::parse(e)["choices"][0]["text"].get<std::string>();
  EXPECT_EQ(stop_text, cut);
  EXPECT_EQ(
      nlohmann::json::parse(stop_events[stop_events.size() - 2])["choices"][0]["finish_reason"],
      "stop");

  // Chat: the first chunk names the role, the deltas join into the message.
  const nlohmann::json chat_req = {
      {"messages", {{{"role", "user"}, {"content", "1+1?"}}}}, {"max_tokens", 12}, {"seed", 1}};
  const auto chat_plain =
      nlohmann::json::parse(client.request("POST", "/chat/completions", chat_req.dump()).body);
  const auto [chat_events, chat_arrived] = stream("/chat/completions", chat_req);
  ASSERT_GE(chat_events.size(), 3u);
  const auto first = nlohmann::json::parse(chat_events.front());
  EXPECT_EQ(first["object"], "chat.completion.chunk");
  EXPECT_EQ(first["choices"][0]["delta"]["role"], "assistant");
  std::string content;
  for (const auto& e : chat_events) {
    if (e == "[DONE]") continue;
    const auto d = nlohmann::json::parse(e)["choices"][0]["delta"];
    if (d.contains("content")) content += d["content"].get<std::string>();
  }
  EXPECT_EQ(content, chat_plain["choices"][0]["message"]["content"]);
}

// Issue 19: --template-kwargs reaches the template in every backend: the native engine, the
// completions API (rendered here with --tokenizer's template) and the chat API (sent as
// chat_template_kwargs to r1serve, which renders). The template raises unless `flag` is set.
TEST(R1evalRun, TemplateKwargsReachTheTemplateInEveryBackend) {
  r1::test::TempDir dir;
  const std::string tpl = dir / "strict.jinja";
  r1::write_file_atomic(
      tpl,
      "{% if not flag %}{{ raise_exception('flag missing') }}{% endif %}{{ bos_token }}"
      "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}"
      "{% if add_generation_prompt %}<|assistant|><think>\n{% endif %}");
  const std::string args = " --limit 1 --samples 1 --max-new-tokens 4";
  const std::string kwargs = " --template-kwargs '{\"flag\": true}'";
  R1serve server(dir / "port", kModel, {"--chat-template", tpl});
  ASSERT_GT(server.port(), 0) << "r1serve did not start";
  const std::vector<std::pair<std::string, std::string>> backends = {
      {"native", "--model " + kModel + " --chat-template " + tpl},
      {"completions", "--endpoint " + server.url() + " --api completions --tokenizer " + kModel +
                          " --chat-template " + tpl},
      {"chat", "--endpoint " + server.url()}};
  for (const auto& [name, backend] : backends) {
    auto r = run_command(eval_cmd(dir / (name + "-ok"), backend + args + kwargs));
    ASSERT_EQ(r.exit_code, 0) << name << ": " << r.out;
    EXPECT_EQ(stored(dir / (name + "-ok")).size(), 1u) << name;
    const auto run = r1::read_json_file(dir / (name + "-ok/run.json"));
    EXPECT_EQ(run["backend"]["template_kwargs"], nlohmann::json({{"flag", true}}))
        << name << run.dump();
    r = run_command(eval_cmd(dir / (name + "-bare"), backend + args));
    EXPECT_EQ(r.exit_code, 1) << name << ": " << r.out;
    EXPECT_NE(r.out.find("flag missing"), std::string::npos) << name << ": " << r.out;
  }
  // With the chat API the server renders: a local --chat-template would be ignored, so it is
  // refused.
  const auto r = run_command(
      eval_cmd(dir / "refused", "--endpoint " + server.url() + args + " --chat-template " + tpl));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("the chat API renders the server's own template"), std::string::npos)
      << r.out;
}

// The checkpoint as a GGUF file (r1convert to-gguf, F32): r1eval from the file and through r1serve
// serving it store the samples r1eval stores from the directory.
TEST(R1evalRun, AGgufFileGivesTheSamplesOfItsCheckpoint) {
  r1::test::TempDir dir;
  const std::string model = sharpened_model(dir / "tiny-r1");
  const std::string gguf = dir / "tiny-r1.gguf";
  auto r = run_command(bin("r1convert") + " to-gguf " + model + " --out " + gguf + " --type f32");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const std::string args = " --limit 2 --samples 3 --max-new-tokens 20";
  r = run_command(eval_cmd(dir / "native", "--model " + model + args));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = run_command(eval_cmd(dir / "gguf", "--model " + gguf + args));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  expect_same_samples(dir / "native", dir / "gguf");
  R1serve server(dir / "port", gguf);
  ASSERT_GT(server.port(), 0) << "r1serve did not start on the GGUF file";
  r = run_command(eval_cmd(dir / "served", "--endpoint " + server.url() + args));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  expect_same_samples(dir / "native", dir / "served");
}

TEST(R1serve, ServesTheOpenAiEndpoints) {
  r1::test::TempDir dir;
  R1serve server(dir / "port", kModel);
  ASSERT_GT(server.port(), 0) << "r1serve did not start";
  r1::HttpClient client(r1::parse_url(server.url()), 30);
  auto get = [&](const std::string& path) { return client.request("GET", path, ""); };
  auto post = [&](const std::string& path, const nlohmann::json& body) {
    const auto r = client.request("POST", path, body.dump());
    return std::make_pair(r.status, nlohmann::json::parse(r.body));
  };
  r1::HttpClient root(r1::parse_url("http://127.0.0.1:" + std::to_string(server.port())), 30);
  EXPECT_EQ(root.request("GET", "/health", "").status, 200);
  const auto models = nlohmann::json::parse(get("/models").body);
  EXPECT_EQ(models["data"][0]["id"], "tiny-r1");

  // Token ids in, n samples with log-probs out; the same seed gives the same samples.
  const nlohmann::json req = {{"prompt", {997, 10, 20, 30}}, {"n", 3},     {"max_tokens", 5},
                              {"temperature", 0.7},          {"seed", 11}, {"logprobs", 1},
                              {"ignore_eos", true}};
  auto [status, out] = post("/completions", req);
  ASSERT_EQ(status, 200) << out.dump();
  ASSERT_EQ(out["choices"].size(), 3u);
  for (const auto& c : out["choices"]) {
    EXPECT_EQ(c["finish_reason"], "length");
    EXPECT_EQ(c["logprobs"]["token_logprobs"].size(), 5u);
    for (const auto& lp : c["logprobs"]["token_logprobs"]) EXPECT_LE(lp.get<double>(), 0.0);
  }
  EXPECT_EQ(out["usage"]["prompt_tokens"], 4);
  EXPECT_EQ(out["usage"]["completion_tokens"], 15);
  EXPECT_EQ(post("/completions", req).second["choices"], out["choices"]);

  // A stop string ends the sample and is left out of the text.
  const std::string first = out["choices"][0]["text"].get<std::string>();
  ASSERT_FALSE(first.empty());
  nlohmann::json stop_req = req;
  stop_req["n"] = 1;
  const auto one = post("/completions", stop_req).second["choices"][0]["text"].get<std::string>();
  ASSERT_GE(one.size(), 2u);
  stop_req["stop"] = {one.substr(1, 1)};
  const auto stopped = post("/completions", stop_req).second["choices"][0];
  EXPECT_EQ(stopped["finish_reason"], "stop");
  EXPECT_EQ(stopped["text"], one.substr(0, one.find(one.substr(1, 1))));

  // Chat: the checkpoint's template (R1: the reply continues after "<think>\n").
  auto [chat_status, chat] = post(
      "/chat/completions",
      {{"messages", {{{"role", "user"}, {"content", "1+1?"}}}}, {"max_tokens", 4}, {"seed", 1}});
  ASSERT_EQ(chat_status, 200) << chat.dump();
  EXPECT_EQ(chat["choices"][0]["message"]["role"], "assistant");
  EXPECT_TRUE(chat["choices"][0]["message"]["content"].is_string());
  EXPECT_EQ(chat["object"], "chat.completion");

  // Bad requests: 400 with a message naming the field; unknown paths 404.
  const auto bad = client.request("POST", "/completions", "{not json");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("not valid JSON"), std::string::npos);
  EXPECT_EQ(post("/completions", {{"prompt", {5000000}}}).first, 400);
  auto [n_status, n_err] = post("/completions", {{"prompt", "x"}, {"n", 0}});
  EXPECT_EQ(n_status, 400);
  EXPECT_NE(n_err["error"]["message"].get<std::string>().find("'n'"), std::string::npos);
  EXPECT_EQ(post("/completions", {{"prompt", "x"}, {"stream", true}, {"n", 2}}).first, 400);
  EXPECT_EQ(
      post("/completions", {{"prompt", "x"}, {"stream_options", {{"include_usage", true}}}}).first,
      400);
  EXPECT_EQ(post("/chat/completions", {{"messages", "hi"}}).first, 400);
  EXPECT_EQ(get("/nope").status, 404);
  // Issue 17, D16: what vLLM refuses is refused: a method a path does not take (405 with Allow),
  // a fractional or huge count, a negative top_k or logprobs (400 naming the field), a model this
  // server does not serve (404).
  for (const char* method : {"DELETE", "PUT", "POST"}) {
    const auto r = root.request(method, "/health", "");
    EXPECT_EQ(r.status, 405) << method << " " << r.body;
  }
  EXPECT_EQ(client.request("GET", "/completions", "").status, 405);
  const std::vector<std::pair<nlohmann::json, std::string>> refused = {
      {{{"prompt", "x"}, {"max_tokens", 5.7}}, "'max_tokens' must be an integer"},
      {{{"prompt", "x"}, {"max_tokens", 1e20}}, "'max_tokens' must be an integer"},
      {{{"prompt", "x"}, {"top_k", -3}}, "'top_k'"},
      {{{"prompt", "x"}, {"logprobs", -1}}, "'logprobs'"},
      {{{"prompt", "x"}, {"model", 7}}, "'model'"}};
  for (const auto& [body, message] : refused) {
    auto [st, err] = post("/completions", body);
    EXPECT_EQ(st, 400) << body.dump() << " " << err.dump();
    EXPECT_NE(err.dump().find(message), std::string::npos) << body.dump() << " " << err.dump();
  }
  EXPECT_EQ(post("/completions", {{"prompt", "x"}, {"model", "gpt-4"}}).first, 404);
  EXPECT_EQ(post("/completions",
                 {{"prompt", "x"}, {"model", "tiny-r1"}, {"max_tokens", 2.0}, {"top_k", -1}})
                .first,
            200);
  const auto metrics = nlohmann::json::parse(root.request("GET", "/metrics", "").body);
  EXPECT_GE(metrics["requests"].get<int64_t>(), 4);
}

// Issue 19: a model without a chat template is still served (/v1/completions), and chat
// requests get a 400 saying so, as vLLM does; a chat request's tools, chat_template_kwargs and
// OpenAI-style tool-call messages (content null) reach the template.
TEST(R1serve, ChatTemplateInputsAndAModelWithoutOne) {
  r1::test::TempDir dir;
  const std::filesystem::path bare = dir / "bare";
  std::filesystem::create_directories(bare);
  for (const char* f :
       {"config.json", "generation_config.json", "model.safetensors", "tokenizer.json"})
    std::filesystem::create_symlink(std::filesystem::absolute(kModel + "/" + f), bare / f);
  r1::write_file_atomic((bare / "tokenizer_config.json").string(), R"({"bos_token": "<s>"})");
  auto post = [](r1::HttpClient& c, const std::string& path, const nlohmann::json& body) {
    const auto r = c.request("POST", path, body.dump());
    return std::make_pair(r.status, r.body);
  };
  const nlohmann::json user = {{"role", "user"}, {"content", "1+1?"}};
  {
    R1serve server(dir / "port1", bare.string());
    ASSERT_GT(server.port(), 0) << "r1serve did not start without a chat template";
    r1::HttpClient client(r1::parse_url(server.url()), 30);
    EXPECT_EQ(post(client, "/completions", {{"prompt", "x"}, {"max_tokens", 2}}).first, 200);
    const auto [status, body] =
        post(client, "/chat/completions", {{"messages", {user}}, {"max_tokens", 2}});
    EXPECT_EQ(status, 400);
    EXPECT_NE(body.find("no chat template"), std::string::npos) << body;
  }
  const std::string tpl = dir / "strict.jinja";
  r1::write_file_atomic(
      tpl,
      "{% if not flag %}{{ raise_exception('flag missing') }}{% endif %}"
      "{% if tools is none %}{{ raise_exception('no tools') }}{% endif %}"
      "{% if messages[1].tool_calls[0].function.name != 'f' or messages[1].content is defined %}"
      "{{ raise_exception('tool call lost') }}{% endif %}"
      "{{ bos_token }}{% for m in messages %}{{ m.role }}{% endfor %}");
  R1serve server(dir / "port2", bare.string(),
                 {"--chat-template", tpl, "--template-kwargs", R"({"flag": false})"});
  ASSERT_GT(server.port(), 0);
  r1::HttpClient client(r1::parse_url(server.url()), 30);
  const nlohmann::json call = {
      {"role", "assistant"},
      {"content", nullptr},
      {"tool_calls", {{{"type", "function"}, {"function", {{"name", "f"}, {"arguments", "{}"}}}}}}};
  const nlohmann::json tools = {{{"type", "function"}, {"function", {{"name", "f"}}}}};
  nlohmann::json req = {{"messages", {user, call}}, {"max_tokens", 2}, {"tools", tools}};
  auto [s1, b1] = post(client, "/chat/completions", req);
  EXPECT_EQ(s1, 400);  // the server's default kwargs say flag = false
  EXPECT_NE(b1.find("flag missing"), std::string::npos) << b1;
  req["chat_template_kwargs"] = {{"flag", true}};
  auto [s2, b2] = post(client, "/chat/completions", req);
  EXPECT_EQ(s2, 200) << b2;
  req.erase("tools");
  auto [s3, b3] = post(client, "/chat/completions", req);
  EXPECT_EQ(s3, 400);
  EXPECT_NE(b3.find("no tools"), std::string::npos) << b3;
  EXPECT_EQ(post(client, "/chat/completions", {{"messages", {user}}, {"chat_template_kwargs", "x"}})
                .first,
            400);
}

// Issue 17, D2: a client that disconnected did not cancel its generation, so ten abandoned
// n=64, max_tokens=4000 requests made a 3-token request wait a minute. r1serve now sees the
// closed connection, cancels the request, and the engine frees its rows at the next step.
TEST(R1serve, AClientThatDisconnectsCancelsItsGeneration) {
  r1::test::TempDir dir;
  R1serve server(dir / "port", kModel);
  ASSERT_GT(server.port(), 0);
  // 64 samples of up to 4000 tokens with the end token ignored: minutes of decoding.
  const std::string body =
      R"({"prompt": "hello", "n": 64, "max_tokens": 4000, "ignore_eos": true, "seed": 1})";
  const std::string request =
      "POST /v1/completions HTTP/1.1\r\nHost: h\r\nContent-Type: "
      "application/json\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(server.port()));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ::close(fd);  // the client gives up
  r1::HttpClient root(r1::parse_url("http://127.0.0.1:" + std::to_string(server.port())), 30);
  nlohmann::json metrics;
  for (int i = 0; i < 600; ++i) {  // the engine says so at its next step (within 60 s here)
    metrics = nlohmann::json::parse(root.request("GET", "/metrics", "").body);
    if (metrics.value("cancelled", 0) >= 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(metrics.value("cancelled", 0), 1) << metrics.dump();
  // Its rows are free: a short request is answered.
  r1::HttpClient client(r1::parse_url(server.url()), 30);
  const auto r = client.request("POST", "/completions", R"({"prompt": "hi", "max_tokens": 3})");
  EXPECT_EQ(r.status, 200) << r.body;
}

// Issue 17, D3: r1serve tokenized a prompt in full before the context check (four concurrent
// 16 MB prompts took it from 133 MB to 3.2 GB). A prompt is now refused by its byte length, and
// the bytes tokenized at once are bounded.
TEST(R1serve, PromptsAreBoundedByBytesBeforeTokenizing) {
  r1::test::TempDir dir;
  const std::string big(1 << 20, 'x');
  {
    R1serve server(dir / "port1", kModel, {"--max-context", "96"});
    r1::HttpClient client(r1::parse_url(server.url()), 30);
    for (const auto& [path, body] :
         {std::pair{"/completions", nlohmann::json{{"prompt", big}}},
          std::pair{"/chat/completions",
                    nlohmann::json{{"messages", {{{"role", "user"}, {"content", big}}}}}}}) {
      const auto r = client.request("POST", path, body.dump());
      EXPECT_EQ(r.status, 400) << r.body;
      EXPECT_NE(r.body.find("bytes cannot fit the context of 96 tokens"), std::string::npos)
          << r.body;
    }
  }
  R1serve server(dir / "port2", kModel, {"--max-bytes-in-flight", "4096"});
  r1::HttpClient client(r1::parse_url(server.url()), 30);
  auto r =
      client.request("POST", "/completions",
                     nlohmann::json{{"prompt", std::string(5000, 'x')}, {"max_tokens", 1}}.dump());
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_NE(r.body.find("--max-bytes-in-flight"), std::string::npos) << r.body;
  r = client.request("POST", "/completions",
                     nlohmann::json{{"prompt", std::string(3000, 'x')}, {"max_tokens", 1}}.dump());
  EXPECT_EQ(r.status, 200) << r.body;  // within the budget
}

TEST(R1evalRun, KillNineAndResumeLosesNothingAndDuplicatesNothing) {
  r1::test::TempDir dir;
  const std::string args =
      " --model " + kModel + " --limit 6 --samples 4 --max-new-tokens 48 --max-batch 2";
  const std::string out = dir / "killed";
  for (int round = 0; round < 3; ++round) {
    const pid_t pid = fork();
    if (pid == 0) {
      const int null = open("/dev/null", O_WRONLY);
      dup2(null, 1);
      dup2(null, 2);
      const std::string b = bin("r1eval");
      execl(b.c_str(), b.c_str(), "run", "aime2024", "--data-dir", kData.c_str(), "--out",
            out.c_str(), "--no-progress", "--bootstrap", "200", "--model", kModel.c_str(),
            "--limit", "6", "--samples", "4", "--max-new-tokens", "48", "--max-batch", "2",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    // Kill it once a few more samples are stored (or after a while).
    const size_t before = std::filesystem::exists(out + "/samples.jsonl") ? stored(out).size() : 0;
    for (int i = 0; i < 400; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
      if (std::filesystem::exists(out + "/samples.jsonl") &&
          r1::read_file(out + "/samples.jsonl").size() > 0 &&
          std::count(std::istreambuf_iterator<char>(std::ifstream(out + "/samples.jsonl").rdbuf()),
                     {}, '\n') >= static_cast<long>(before + 3))
        break;
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
  }
  auto r = run_command(eval_cmd(out, args));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = run_command(eval_cmd(dir / "clean", args));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(stored(out).size(), 24u);
  expect_same_samples(out, dir / "clean");
}

// A server that misbehaves on a fixed schedule and otherwise answers a boxed value that is right
// for even seeds and wrong for odd ones.
TEST(R1evalRun, FaultyServerLosesAndDuplicatesNoSample) {
  r1::test::TempDir dir;
  const std::string data = dir / "mine.jsonl";
  {
    std::ofstream f(data);
    for (int i = 0; i < 8; ++i)
      f << "{\"id\": \"p" << i << "\", \"question\": \"What is " << i << "+" << i
        << "?\", \"gold\": \"" << 2 * i << "\"}\n";
  }
  std::atomic<int> calls{0};
  std::mutex mu;
  std::map<uint64_t, int> answered;  // seed -> good answers sent
  r1::HttpServer server("127.0.0.1", 0, [&](const r1::HttpRequest& req) {
    r1::HttpReply reply;
    if (req.method == "GET") {
      reply.body = R"({"object":"list","data":[{"id":"fake","object":"model"}]})";
      return reply;
    }
    const int k = calls++;
    switch (k % 7) {
      case 1:
        reply.reset = true;
        return reply;
      case 2:
        reply.status = 500;
        reply.body = R"({"error":{"message":"boom"}})";
        return reply;
      case 3:
        reply.status = 429;
        reply.headers = {{"Retry-After", "0"}};
        reply.body = R"({"error":{"message":"slow down"}})";
        return reply;
      case 4:
        reply.body = "{\"choices\": [{\"message\"";
        return reply;  // malformed JSON
      case 5:
        std::this_thread::sleep_for(std::chrono::milliseconds(600));
        break;  // stall past 0.5 s
      default:
        break;
    }
    const auto body = nlohmann::json::parse(req.body);
    const uint64_t seed = body["seed"].get<uint64_t>();
    const std::string q = body["messages"][0]["content"].get<std::string>();
    const int i = std::stoi(q.substr(q.find("What is ") + 8));
    const int answer = seed % 2 == 0 ? 2 * i : 2 * i + 1;
    {
      std::lock_guard<std::mutex> lock(mu);
      answered[seed] += 1;
    }
    reply.body =
        nlohmann::json({{"choices",
                         {{{"message",
                            {{"role", "assistant"},
                             {"content", "</think>\nSo \\boxed{" + std::to_string(answer) + "}"},
                             {"reasoning_content", "adding"}}},
                           {"finish_reason", "stop"}}}},
                        {"usage", {{"prompt_tokens", 11}, {"completion_tokens", 7}}}})
            .dump();
    return reply;
  });
  server.start();
  r1::HttpOptions h;
  h.endpoints = {"http://127.0.0.1:" + std::to_string(server.port()) + "/v1"};
  h.concurrency = 6;
  h.timeout_s = 0.5;
  h.max_retries = 30;
  h.retry_base_s = 0.001;  // the last samples can meet many faults in a row: 2^12 x 1 ms, not 41 s
  auto backend = r1::make_http_backend(h);
  r1::RunOptions o;
  o.dataset = data;
  o.question_field = "question";
  o.answer_field = "gold";
  o.id_field = "id";
  o.protocol = r1::protocol_preset("r1");
  o.protocol.samples = 5;
  o.out_dir = dir / "run";
  o.progress = false;
  o.bootstrap = 100;
  const auto results = r1::run_eval(o, *backend);
  server.stop();

  EXPECT_GT(calls.load(), 40 + 5);  // the faults happened
  const auto samples = stored(o.out_dir);
  ASSERT_EQ(samples.size(), 40u);
  double expected = 0;
  std::map<std::string, int> correct;
  for (const auto& [key, s] : samples) {
    EXPECT_EQ(s.correct, s.seed % 2 == 0) << key.first << " " << key.second;
    EXPECT_EQ(s.reasoning, "adding");
    EXPECT_EQ(s.completion_tokens, 7);
    correct[key.first] += s.correct;
  }
  for (const auto& [id, c] : correct) expected += c / 5.0 / correct.size();
  const auto& m = results["benchmarks"]["mine"];
  EXPECT_NEAR(m["pass@1"].get<double>(), expected, 1e-12);
  // Stalled requests were answered after the client gave up and asked again: those samples
  // were answered twice by the server and are stored once (checked by stored() above).
  EXPECT_TRUE(
      std::any_of(answered.begin(), answered.end(), [](const auto& a) { return a.second >= 2; }));
  EXPECT_EQ(answered.size(), 40u);
}

// Issue 17, D9: a second invocation on the same --out with another dataset and fewer samples kept
// only the new benchmark's results and lowered the run's sample count, so a later regrade scored
// the first benchmark with n = 1. Each benchmark keeps its results and its own sample count.
TEST(R1evalRun, AddingADatasetKeepsTheEarlierBenchmarkAndItsSamples) {
  r1::test::TempDir dir;
  const std::string out = dir / "run", data = dir / "mine.jsonl";
  std::ofstream(data) << "{\"problem\": \"a\", \"answer\": \"1\"}\n"
                      << "{\"problem\": \"b\", \"answer\": \"2\"}\n";
  const std::string gen = " --model " + kModel + " --max-new-tokens 8";
  auto r = run_command(eval_cmd(out, gen + " --limit 2 --samples 3"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = run_command(bin("r1eval") + " run --dataset " + data + " --out " + out + gen +
                  " --samples 1 --no-progress --bootstrap 200");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto check = [&](const std::string& when) {
    const auto results = r1::read_json_file(out + "/results.json");
    ASSERT_TRUE(results["benchmarks"].contains("aime2024")) << when << ": " << results.dump();
    EXPECT_EQ(results["benchmarks"]["aime2024"]["samples"], 6) << when;  // 2 problems x 3
    EXPECT_EQ(results["benchmarks"]["mine"]["samples"], 2) << when;      // 2 problems x 1
    const auto run = r1::read_json_file(out + "/run.json");
    EXPECT_EQ(run["benchmarks"]["aime2024"]["samples"], 3) << when;
    EXPECT_EQ(run["benchmarks"]["mine"]["samples"], 1) << when;
    const std::string summary = r1::read_file(out + "/summary.md");
    EXPECT_NE(summary.find("| aime2024 | 2 | 3 |"), std::string::npos) << when << summary;
    EXPECT_NE(summary.find("| mine | 2 | 1 |"), std::string::npos) << when << summary;
  };
  check("after adding mine");
  r = run_command(bin("r1eval") + " regrade " + out);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  check("after regrade");
  EXPECT_EQ(stored(out).size(), 8u);  // 6 + 2: nothing generated twice, nothing lost
}

// Issue 17, D11: one prompt longer than the context aborted the whole run ("request 2: prompt of
// ... tokens does not fit"), with no sample stored. It is now a per-sample outcome, counted apart
// and named by problem, and the other problems are generated as usual.
TEST(R1evalRun, APromptLongerThanTheContextIsAnOutcomeNotTheRunsEnd) {
  r1::test::TempDir dir;
  const std::string out = dir / "run", data = dir / "mine.jsonl";
  std::string words;
  for (int i = 0; i < 200; ++i) words += " and then";
  std::ofstream(data) << "{\"problem\": \"1+1\", \"answer\": \"2\"}\n"
                      << "{\"problem\": \"" << words << "\", \"answer\": \"3\"}\n"
                      << "{\"problem\": \"2+2\", \"answer\": \"4\"}\n";
  const auto r = run_command(bin("r1eval") + " run --dataset " + data + " --out " + out +
                             " --model " + kModel + " --max-context 96 --max-new-tokens 8" +
                             " --samples 2 --no-progress --bootstrap 200");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("mine: the prompt of 1 problem(s) is longer than the model's context (2)"),
            std::string::npos)
      << r.out;
  const auto samples = stored(out);
  ASSERT_EQ(samples.size(), 6u);
  for (const auto& [key, s] : samples) {
    const bool long_one = key.first == "2";
    EXPECT_EQ(s.finish_reason == "prompt_too_long", long_one)
        << key.first << " " << s.finish_reason;
    EXPECT_EQ(s.reason == "prompt_too_long", long_one) << key.first << " " << s.reason;
    EXPECT_FALSE(long_one && s.correct);
    EXPECT_EQ(s.completion_tokens > 0, !long_one) << key.first;
  }
  const auto m = r1::read_json_file(out + "/results.json")["benchmarks"]["mine"];
  EXPECT_EQ(m["samples"], 6);
  EXPECT_EQ(m["prompt_too_long"], 2);
  EXPECT_NE(r1::read_file(out + "/summary.md").find("prompt too long mine: 2 samples"),
            std::string::npos);

  // Through a server: its 400 "does not fit the context" is the same outcome.
  R1serve server(dir / "port", kModel, {"--max-context", "96"});
  ASSERT_GT(server.port(), 0);
  const std::string http = dir / "http";
  const auto h = run_command(bin("r1eval") + " run --dataset " + data + " --out " + http +
                             " --endpoint " + server.url() + " --max-new-tokens 8" +
                             " --samples 2 --no-progress --bootstrap 200");
  ASSERT_EQ(h.exit_code, 0) << h.out;
  EXPECT_NE(h.out.find("the prompt of 1 problem(s) is longer than the model's context (2)"),
            std::string::npos)
      << h.out;
  EXPECT_EQ(r1::read_json_file(http + "/results.json")["benchmarks"]["mine"]["prompt_too_long"], 2);
}

// r1eval run of a one-problem dataset (in `dir`) against a fake endpoint on `port`, 8 tokens:
// the command's result and the one sample it stored (a test failure if not exactly one).
std::pair<r1::test::CommandResult, r1::SampleRecord> one_sample_run(const r1::test::TempDir& dir,
                                                                    int port) {
  const std::string data = dir / "mine.jsonl";
  std::ofstream(data) << "{\"problem\": \"1+1\", \"answer\": \"2\"}\n";
  const auto r = run_command(bin("r1eval") + " run --dataset " + data + " --out " + dir / "run" +
                             " --endpoint http://127.0.0.1:" + std::to_string(port) +
                             "/v1 --max-new-tokens 8 --samples 1 --no-progress --bootstrap 200");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  const auto samples = stored(dir / "run");
  EXPECT_EQ(samples.size(), 1u);
  return {r, samples.empty() ? r1::SampleRecord{} : samples.begin()->second};
}

// Issue 17: an endpoint's 50 MB content was stored whole. What r1eval stores is bounded by what
// max_new_tokens could spell (at least 1 MiB), the sample counted as truncated.
TEST(R1evalRun, AnOversizedEndpointAnswerIsCutAndCountedTruncated) {
  r1::test::TempDir dir;
  const std::string huge(3 << 20, 'a');
  r1::HttpServer server("127.0.0.1", 0, [&](const r1::HttpRequest& req) {
    r1::HttpReply reply;
    if (req.method == "GET") {
      reply.body = R"({"object":"list","data":[{"id":"fake","object":"model"}]})";
      return reply;
    }
    reply.body = nlohmann::json({{"choices",
                                  {{{"message", {{"role", "assistant"}, {"content", huge}}},
                                    {"finish_reason", "stop"}}}}})
                     .dump();
    return reply;
  });
  server.start();
  const auto [r, s] = one_sample_run(dir, server.port());
  EXPECT_NE(r.out.find("the endpoint sent 3145728 bytes for at most 8 tokens"), std::string::npos)
      << r.out;
  EXPECT_EQ(s.response.size(), size_t{1} << 20);
  EXPECT_EQ(s.finish_reason, "length");
  EXPECT_LT(std::filesystem::file_size(dir / "run/samples.jsonl"), size_t{2} << 20);
}

// A streaming server that never stops sending text: the stream is cut at the stored bound, the
// sample counted truncated, and the run ends (the server's writes then fail, and it stops too).
TEST(R1evalRun, AnEndlessStreamIsCutAndCountedTruncated) {
  r1::test::TempDir dir;
  std::atomic<bool> stopped{false};
  r1::HttpServer server("127.0.0.1", 0, [&](const r1::HttpRequest& req) {
    r1::HttpReply reply;
    if (req.method == "GET") {
      reply.body = R"({"object":"list","data":[{"id":"fake","object":"model"}]})";
      return reply;
    }
    reply.content_type = "text/event-stream";
    reply.stream = [&](const r1::HttpReply::ChunkWriter& write) {
      const std::string event =
          "data: " +
          nlohmann::json({{"choices", {{{"delta", {{"content", std::string(4096, 'a')}}}}}}})
              .dump() +
          "\n\n";
      while (write(event)) {
      }
      stopped = true;
    };
    return reply;
  });
  server.start();
  const auto [r, s] = one_sample_run(dir, server.port());
  EXPECT_EQ(s.response.size(), size_t{1} << 20);
  EXPECT_EQ(s.finish_reason, "length");
  for (int i = 0; i < 100 && !stopped; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(stopped);
}

TEST(R1evalRun, RegradeAHandMadeStoreGivesTheClosedFormPassAtK) {
  r1::test::TempDir dir;
  const std::string data = dir / "mine.jsonl", out = dir / "run";
  std::ofstream(data) << "{\"problem\": \"a\", \"answer\": \"1/2\"}\n"
                      << "{\"problem\": \"b\", \"answer\": \"7\"}\n"
                      << "{\"problem\": \"c\", \"answer\": \"x+1\"}\n";
  // 8 samples per problem: 3, 8 and 0 correct (answers written, verdicts left wrong on purpose).
  const std::vector<std::pair<std::string, std::vector<std::string>>> answers = {
      {"1", {"0.5", "\\frac{1}{2}", "1/2", "2", "3", "4", "5", "6"}},
      {"2", {"7", "7", "7.0", "7", "7", "7", "7", "7"}},
      {"3", {"x", "x", "x", "x", "x", "x+2", "y", "z"}}};
  std::filesystem::create_directories(out);
  {
    r1::SampleStore store(out + "/samples.jsonl");
    for (const auto& [id, list] : answers)
      for (size_t i = 0; i < list.size(); ++i) {
        r1::SampleRecord s;
        s.benchmark = "mine";
        s.problem_id = id;
        s.sample_index = static_cast<int64_t>(i);
        s.prompt_hash = "h";
        s.response = "thinking\n</think>\n\\boxed{" + list[i] + "}";
        s.finish_reason = "stop";
        s.reason = "different";
        store.append(s);
      }
  }
  auto protocol = r1::protocol_to_json(r1::protocol_preset("r1"));
  protocol["samples"] = 8;
  const nlohmann::json run = {{"backend", {{"kind", "native"}, {"model", "hand-made"}}},
                              {"protocol", protocol},
                              {"benchmarks",
                               {{"mine",
                                 {{"file", data},
                                  {"path", data},
                                  {"id_field", ""},
                                  {"question_field", "problem"},
                                  {"answer_field", "answer"},
                                  {"tag_fields", nlohmann::json::array()},
                                  {"problems", 3}}}}}};
  std::ofstream(out + "/run.json") << run.dump();
  const auto r = run_command(bin("r1eval") + " regrade " + out);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto m = r1::read_json_file(out + "/results.json")["benchmarks"]["mine"];
  const int c[3] = {3, 8, 0};
  for (int k : {1, 2, 4, 8}) {
    // Closed form: 1 - C(n-c, k) / C(n, k), n = 8.
    auto choose = [](int n, int r) {
      double v = 1;
      for (int i = 0; i < r; ++i) v = v * (n - i) / (i + 1);
      return r < 0 || r > n ? 0.0 : v;
    };
    double want = 0;
    for (int ci : c) want += (1 - choose(8 - ci, k) / choose(8, k)) / 3;
    EXPECT_NEAR(m["pass@k"][std::to_string(k)].get<double>(), want, 1e-12) << "k=" << k;
  }
  EXPECT_NEAR(m["pass@1"].get<double>(), (3.0 / 8 + 1 + 0) / 3, 1e-12);
  // maj@8: a's majority is 1/2 (3 equal forms), b's 7, c's x (wrong): 2 of 3.
  EXPECT_NEAR(m["maj@n"].get<double>(), 2.0 / 3, 1e-12);
}

// Runs bin(program) with `args` (no shell, so the numbers are r1eval's own); returns its exit code
// and peak resident memory in MB.
std::pair<int, long> run_measured(const std::string& program, std::vector<std::string> args) {
  args.insert(args.begin(), bin(program));
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  rusage ru{};
  wait4(pid, &status, 0, &ru);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128, ru.ru_maxrss / 1024};
}

// Issue 17, D5: a run's text stays on disk. Resuming a finished run and regrading it read the
// store one sample at a time: with 120 samples of 2 MB each (240 MB of text) neither grows
// much past what it needs for a store of short samples.
TEST(R1evalRun, AStoreOfLongSamplesIsStreamedNotHeld) {
  r1::test::TempDir dir;
  const std::string out = dir / "run";
  const std::vector<std::string> run_args = {
      "run",     "aime2024", "--data-dir", kData, "--out",     out, "--no-progress",
      "--model", kModel,     "--limit",    "30",  "--samples", "4", "--max-new-tokens",
      "2"};
  ASSERT_EQ(run_measured("r1eval", run_args).first, 0);
  const auto [resume_code, small_resume_mb] = run_measured("r1eval", run_args);
  ASSERT_EQ(resume_code, 0);
  const auto [regrade_code, small_regrade_mb] =
      run_measured("r1eval", {"regrade", out, "--no-progress"});
  ASSERT_EQ(regrade_code, 0);
  const auto before = r1::read_json_file(out + "/results.json")["benchmarks"]["aime2024"];
  {  // Each response becomes 1 MB of thinking that never closes (the same verdict: no answer).
    std::vector<r1::SampleRecord> all;
    {
      r1::SampleStore store(out + "/samples.jsonl");
      all = store.samples();
    }
    std::ofstream f(out + "/samples.jsonl", std::ios::trunc);
    for (auto& s : all) {
      s.response += std::string(1 << 20, 'x');
      f << r1::sample_to_json(s).dump() << "\n";
    }
  }
  ASSERT_GT(std::filesystem::file_size(out + "/samples.jsonl"), 120u << 20);  // held: +120 MB
  const auto [code1, resume_mb] = run_measured("r1eval", run_args);
  ASSERT_EQ(code1, 0);
  const auto [code2, regrade_mb] = run_measured("r1eval", {"regrade", out, "--no-progress"});
  ASSERT_EQ(code2, 0);
  EXPECT_LT(resume_mb, small_resume_mb + 60)
      << "resume held the text: " << small_resume_mb << " MB before";
  EXPECT_LT(regrade_mb, small_regrade_mb + 60)
      << "regrade held the text: " << small_regrade_mb << " MB before";
  auto after = r1::read_json_file(out + "/results.json")["benchmarks"]["aime2024"];
  EXPECT_EQ(after["samples"], 120);
  EXPECT_EQ(after["pass@1"], before["pass@1"]);
  EXPECT_EQ(after["no_answer_rate"], before["no_answer_rate"]);
}

// D5: problems x samples beyond the memory this process may use is refused before anything is
// allocated (here an address-space limit: 500 problems x 30000 samples need about 7.2 GB).
TEST(R1evalRun, MoreSamplesThanMemoryHoldsAreRefusedFirst) {
  r1::test::TempDir dir;
  const auto r = run_command("ulimit -v 4000000 && " + bin("r1eval") + " run math500 --data-dir " +
                             kData + " --no-progress --out " + dir / "run" + " --model " + kModel +
                             " --samples 30000");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("500 problems x 30000 samples need about 7.2 GB of memory and "),
            std::string::npos)
      << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir / "run/samples.jsonl"));
}

TEST(R1evalRun, BadInputGivesOneClearLine) {
  r1::test::TempDir dir;
  struct Case {
    std::string args, message;
  };
  std::ofstream(dir / "bad.jsonl") << "{\"problem\": \"x\", \"answer\": \"1\"}\n{\"problem\": 3\n";
  {
    std::ofstream many(dir / "many.jsonl");
    for (int i = 0; i < 300; ++i) many << "{\"problem\": \"" << i << "\", \"answer\": \"1\"}\n";
  }
  ASSERT_EQ(mkfifo((dir / "pipe").c_str(), 0600), 0);
  std::filesystem::create_directories(dir / "mine");  // a user's folder, not an r1eval run (D8)
  std::ofstream(dir / "mine/results.json") << "{\"mine\": 1}\n";
  const std::vector<Case> cases = {
      {"run aime2023 --model " + kModel, "unknown benchmark 'aime2023' (known: aime2024"},
      {"run aime2024 --data-dir " + dir.path() + " --model " + kModel,
       "aime24.jsonl not found in " + dir.path()},
      {"run --dataset " + (dir / "bad.jsonl") + " --model " + kModel,
       "bad.jsonl:2: not valid JSON"},
      {"run --dataset " + dir.path() + " --model " + kModel,
       dir.path() + ": is a directory, not a JSONL dataset file"},
      // Refused at once (it read /dev/zero for 52 s, and a FIFO would wait for a writer).
      {"run --dataset /dev/zero --model " + kModel, "/dev/zero: not a regular file"},
      {"run --dataset " + (dir / "pipe") + " --model " + kModel, "pipe: not a regular file"},
      {"run aime2024 --data-dir " + kData, "give exactly one of --model DIR"},
      {"run aime2024 --data-dir " + kData + " --endpoint http://127.0.0.1:9/v1 --out " +
           (dir / "dead"),
       "endpoint http://127.0.0.1:9/v1 is unreachable"},
      {"run aime2024 --data-dir " + kData + " --endpoint ftp://x/v1", "endpoint URL 'ftp://x/v1'"},
      {"run aime2024 --data-dir " + kData + " --model /nonexistent",
       "--model /nonexistent does not exist"},
      {"run aime2024 --data-dir " + kData + " --model " + kModel + " --extract nope", "nope"},
      {"regrade " + dir.path(), "not an r1eval run directory"},
      // Issue 17, D5: more samples than a run holds are refused before anything is allocated.
      {"run --dataset " + (dir / "many.jsonl") + " --model " + kModel + " --samples 65536",
       "300 problems x 65536 samples is more than one run holds (16777216 samples)"},
      {"run aime2024 --data-dir " + kData + " --model " + kModel + " --out " + (dir / "mine"),
       "mine: not empty and not a run of r1eval (no run.json)"},
  };
  for (const auto& c : cases) {
    const bool is_run = c.args.rfind("run ", 0) == 0;
    const auto r = run_command(bin("r1eval") + " " + c.args + (is_run ? " --no-progress" : ""));
    EXPECT_EQ(r.exit_code, 1) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.message), std::string::npos) << c.args << "\n" << r.out;
    // One error line, no usage dump or backtrace after it.
    const size_t at = r.out.find("r1eval: error: ");
    ASSERT_NE(at, std::string::npos) << r.out;
    EXPECT_EQ(r.out.find('\n', at), r.out.size() - 1) << c.args << "\n" << r.out;
  }
  EXPECT_EQ(r1::read_file(dir / "mine/results.json"), "{\"mine\": 1}\n");  // left as it was
  // Issue 17, D5/D12: counts out of range are flag errors (exit 2) that say the range, before
  // anything is read or allocated: --samples 0 used to print a 309-digit bound, and
  // --samples 99999999999999 was accepted and allocated without end.
  for (const std::string flag : {"--samples 0", "--samples 99999999999999", "--max-new-tokens 0",
                                 "--max-batch 1000000000", "--top-k -3"}) {
    const auto r = run_command(bin("r1eval") + " run aime2024 --model " + kModel + " " + flag);
    EXPECT_EQ(r.exit_code, 2) << flag << "\n" << r.out;
    EXPECT_NE(r.out.find(flag.substr(0, flag.find(' '))), std::string::npos) << r.out;
    EXPECT_LT(r.out.size(), 160u) << r.out;
  }
}

}  // namespace
