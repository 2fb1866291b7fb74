#include "evals/streamed_text.h"

#include <algorithm>  // std::min, std::max
#include <utility>    // std::move

namespace r1 {
namespace {

constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD, what a partial character decodes to

// `text` without a trailing run of U+FFFD (bytes of a character not yet whole).
size_t whole_prefix(const std::string& text) {
  size_t end = text.size();
  while (end >= 3 && text.compare(end - 3, 3, kReplacement) == 0) end -= 3;
  return end;
}

}  // namespace

StreamedText::StreamedText(Decode decode, std::vector<std::string> stop_strings)
    : decode_(std::move(decode)), stops_(std::move(stop_strings)) {
  for (const auto& s : stops_) hold_back_ = std::max(hold_back_, s.empty() ? 0 : s.size() - 1);
}

std::string StreamedText::next(const std::vector<int64_t>& ids) {
  const std::string text = decode_(ids);
  size_t end = whole_prefix(text);
  size_t stop_at = std::string::npos;  // the first stop string: the text ends there
  for (const auto& s : stops_)
    if (!s.empty()) stop_at = std::min(stop_at, text.find(s));
  end = stop_at != std::string::npos ? std::min(end, stop_at)
        : end > hold_back_           ? end - hold_back_
                                     : 0;
  // A tokenizer may respell earlier text as tokens arrive (rare): only a continuation of what
  // was sent can be sent.
  if (end <= sent_.size() || text.compare(0, sent_.size(), sent_) != 0) return "";
  // Never cut inside a UTF-8 character: step back to the start of the one at `end`.
  while (end > sent_.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  std::string delta = text.substr(sent_.size(), end - sent_.size());
  sent_ += delta;
  return delta;
}

std::string StreamedText::finish(const std::string& final_text) {
  if (final_text.size() <= sent_.size() || final_text.compare(0, sent_.size(), sent_) != 0)
    return "";
  std::string rest = final_text.substr(sent_.size());
  sent_ = final_text;
  return rest;
}

}  // namespace r1
