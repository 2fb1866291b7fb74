#include "toolkit/sse.h"

#include <string>   // std::to_string
#include <utility>  // std::move

#include "toolkit/error.h"  // r1::Error

namespace r1 {

SseReader::SseReader(OnData on_data, size_t max_event_bytes)
    : on_data_(std::move(on_data)), max_event_bytes_(max_event_bytes) {}

void SseReader::feed(std::string_view piece) {
  for (char ch : piece) {
    const bool lf_of_crlf = after_cr_ && ch == '\n';
    after_cr_ = ch == '\r';
    if (lf_of_crlf) continue;  // "\r\n" ends one line, not two
    if (ch == '\r' || ch == '\n') {
      line(line_);
      line_.clear();
      continue;
    }
    line_.push_back(ch);
    if (pending() > max_event_bytes_)
      throw Error("server-sent event longer than " + std::to_string(max_event_bytes_) +
                  " bytes (the stream is not a completion stream)");
  }
}

void SseReader::line(std::string_view l) {
  if (l.empty()) {  // a blank line dispatches the event
    if (has_data_) on_data_(data_);
    data_.clear();
    has_data_ = false;
    return;
  }
  if (l.front() == ':') return;  // a comment (keep-alive)
  const size_t colon = l.find(':');
  const std::string_view field = l.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? "" : l.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (field != "data") return;
  if (has_data_) data_.push_back('\n');
  data_.append(value);
  has_data_ = true;
}

}  // namespace r1
