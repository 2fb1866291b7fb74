// The text of a sample being generated, sent as it grows (r1serve's "stream": true): after each
// new token, what can be sent is the decoded ids minus what may still change. That is a trailing
// incomplete UTF-8 character (the tokenizer decodes its bytes as U+FFFD until the character is
// whole) and, while the request has stop strings, the bytes that could be the start of one, or
// a stop string itself and what follows it (OpenAI leaves the matched stop string out of the
// text, so it must never have been sent).
#pragma once

#include <cstddef>     // size_t
#include <cstdint>     // int64_t
#include <functional>  // std::function
#include <string>      // std::string
#include <vector>      // std::vector

namespace r1 {

class StreamedText {
 public:
  using Decode = std::function<std::string(const std::vector<int64_t>&)>;
  StreamedText(Decode decode, std::vector<std::string> stop_strings);

  // The text to send now that the sample's tokens are `ids` (all of them so far); "" when nothing
  // new is certain yet.
  std::string next(const std::vector<int64_t>& ids);
  // The rest of the sample's final text (its stop string already cut), once it has finished.
  std::string finish(const std::string& final_text);
  const std::string& sent() const { return sent_; }

 private:
  Decode decode_;
  std::vector<std::string> stops_;
  size_t hold_back_ = 0;  // the longest stop string's length less one
  std::string sent_;
};

}  // namespace r1
