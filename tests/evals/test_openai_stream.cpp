// The client and server halves of streamed completions, without a model: CompletionStream
// gathers OpenAI-style chunks (completions and chat, reasoning deltas, the usage chunk, error
// events, broken chunks, a text bound) and times the first text; StreamedText sends only text
// that can no longer change (whole UTF-8 characters, nothing that may begin a stop string).
#include <gtest/gtest.h>

#include <map>     // std::map
#include <string>  // std::string
#include <vector>  // std::vector

#include "evals/openai_stream.h"  // r1::CompletionStream
#include "evals/streamed_text.h"  // r1::StreamedText

namespace r1 {
namespace {

std::string event(const std::string& data) { return "data: " + data + "\n\n"; }

TEST(CompletionStream, GathersCompletionChunksAndTimesTheFirstText) {
  CompletionStream s(/*chat=*/false, 1 << 20);
  s.feed(event(R"({"choices":[{"index":0,"text":"","finish_reason":null}]})"), 0.1);
  s.feed(event(R"({"choices":[{"index":0,"text":"Hel","finish_reason":null}]})"), 0.5);
  s.feed(event(R"({"choices":[{"index":0,"text":"lo","finish_reason":null}]})") + "data: {\"choi",
         0.7);
  s.feed("ces\":[{\"index\":0,\"text\":\"\",\"finish_reason\":\"length\"}]}\n\n", 0.9);
  s.feed(event(R"({"choices":[],"usage":{"prompt_tokens":4,"completion_tokens":5}})"), 1.0);
  EXPECT_FALSE(s.done());
  s.feed(event("[DONE]"), 1.0);
  EXPECT_TRUE(s.done());
  const Completion c = s.result(1.3);
  EXPECT_EQ(c.text, "Hello");
  EXPECT_EQ(c.finish_reason, "length");
  EXPECT_EQ(c.prompt_tokens, 4);
  EXPECT_EQ(c.completion_tokens, 5);
  EXPECT_DOUBLE_EQ(c.ttft_s, 0.5);  // the first chunk with text, not the first chunk
  EXPECT_DOUBLE_EQ(c.tpot_s, (1.3 - 0.5) / 4);
  EXPECT_DOUBLE_EQ(c.latency_s, 1.3);
}

TEST(CompletionStream, GathersChatDeltasWithReasoning) {
  CompletionStream s(/*chat=*/true, 1 << 20);
  s.feed(event(R"({"choices":[{"delta":{"role":"assistant","content":""}}]})"), 0.1);
  s.feed(event(R"({"choices":[{"delta":{"reasoning_content":"think"}}]})"), 0.2);
  s.feed(event(R"({"choices":[{"delta":{"content":"4"}}]})"), 0.3);
  s.feed(event(R"({"choices":[{"delta":{},"finish_reason":"stop"}]})"), 0.4);
  const Completion c = s.result(0.5);  // no [DONE], no usage: still a finished reply
  EXPECT_EQ(c.reasoning, "think");
  EXPECT_EQ(c.text, "4");
  EXPECT_EQ(c.finish_reason, "stop");
  EXPECT_DOUBLE_EQ(c.ttft_s, 0.2);
  EXPECT_EQ(c.completion_tokens, -1);
  EXPECT_EQ(c.tpot_s, -1);  // unknown without the token count
}

TEST(CompletionStream, ErrorsAndBrokenChunksAreStreamErrors) {
  auto error_of = [](const std::string& body) -> std::string {
    CompletionStream s(true, 1 << 20);
    try {
      s.feed(body, 0);
    } catch (const StreamError& e) {
      return e.what;
    }
    return "";
  };
  EXPECT_NE(error_of(event(R"({"error":{"message":"out of memory"}})")).find("out of memory"),
            std::string::npos);
  EXPECT_NE(error_of(event("{not json")).find("not valid JSON"), std::string::npos);
  EXPECT_NE(error_of(event(R"({"id":1})")).find("no choices"), std::string::npos);
  EXPECT_EQ(error_of(": only a comment\n\n"), "");
}

TEST(CompletionStream, TextBeyondTheBoundCutsTheStream) {
  CompletionStream s(false, 8);
  s.feed(event(R"({"choices":[{"text":"12345"}]})"), 0);
  EXPECT_THROW(s.feed(event(R"({"choices":[{"text":"6789"}]})"), 0), CompletionStream::Cut);
  EXPECT_EQ(s.result(1).text, "123456789");  // the caller cuts to its stored size
}

// A toy tokenizer: each id decodes to a fixed byte string; bytes that end inside a UTF-8
// character decode to U+FFFD, as byte-level BPE tokenizers do.
std::string toy_decode(const std::vector<int64_t>& ids) {
  static const std::map<int64_t, std::string> pieces = {{1, "ab"}, {2, "\xC3"}, {3, "\xA9"},
                                                        {4, "c"},  {5, "ST"},   {6, "OP"}};
  std::string bytes;
  for (int64_t id : ids) bytes += pieces.at(id);
  std::string out;
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    if (b == 0xC3 && i + 1 < bytes.size()) {
      out += bytes.substr(i, 2);
      ++i;
    } else if (b >= 0x80) {
      out += "\xEF\xBF\xBD";
    } else {
      out += bytes[i];
    }
  }
  return out;
}

TEST(StreamedText, SendsOnlyWholeCharactersAndNothingThatMayBeginAStop) {
  StreamedText plain(toy_decode, {});
  EXPECT_EQ(plain.next({1}), "ab");
  EXPECT_EQ(plain.next({1, 2}), "");  // half of "é"
  EXPECT_EQ(plain.next({1, 2, 3}), "\xC3\xA9");
  EXPECT_EQ(plain.next({1, 2, 3, 4}), "c");
  EXPECT_EQ(plain.finish("ab\xC3\xA9"
                         "c"),
            "");
  EXPECT_EQ(plain.sent(),
            "ab\xC3\xA9"
            "c");

  // Stop string "STOP" (3 bytes held back): none of it is ever sent, even once it is whole in the
  // decoded text; the final text (cut at the stop string) completes what was sent.
  StreamedText stopped(toy_decode, {"STOP"});
  EXPECT_EQ(stopped.next({1}), "");
  EXPECT_EQ(stopped.next({1, 4}), "");
  EXPECT_EQ(stopped.next({1, 4, 1}), "ab");       // "abcab" less its last 3 bytes
  EXPECT_EQ(stopped.next({1, 4, 1, 5}), "ca");    // "abcabST" less 3
  EXPECT_EQ(stopped.next({1, 4, 1, 5, 6}), "b");  // "abcabSTOP": up to the stop string
  EXPECT_EQ(stopped.finish("abcab"), "");
  EXPECT_EQ(stopped.sent(), "abcab");
  // Held-back text that was not a stop after all goes out with the final text.
  StreamedText held(toy_decode, {"STOP"});
  EXPECT_EQ(held.next({1, 5}), "a");  // "abST" less 3
  EXPECT_EQ(held.finish("abST"), "bST");
}

}  // namespace
}  // namespace r1
