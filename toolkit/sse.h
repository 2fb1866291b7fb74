// Server-Sent Events (the WHATWG EventSource format) as OpenAI-compatible servers stream
// completions: the body is cut into events at blank lines, and an event's `data:` lines are its
// payload. Fed piece by piece as the body arrives, in pieces cut anywhere (inside a line or a
// UTF-8 character). Leaves out `event:`, `id:` and `retry:` (read and ignored: completion
// streams carry everything in `data:`).
#pragma once

#include <cstddef>      // size_t
#include <functional>   // std::function
#include <string>       // std::string
#include <string_view>  // std::string_view

namespace r1 {

class SseReader {
 public:
  // on_data gets each event's data (its data lines joined by "\n") as soon as the blank line
  // that ends the event has arrived. An event whose lines exceed `max_event_bytes` throws
  // r1::Error naming the limit (a server that never ends its event cannot fill the memory).
  using OnData = std::function<void(const std::string& data)>;
  explicit SseReader(OnData on_data, size_t max_event_bytes = size_t{1} << 20);

  void feed(std::string_view piece);
  // The bytes of an event begun but not ended (a body that stopped mid-event).
  size_t pending() const { return line_.size() + data_.size(); }

 private:
  void line(std::string_view l);

  OnData on_data_;
  size_t max_event_bytes_;
  std::string line_;  // the current line, not yet ended
  std::string data_;  // the current event's data so far
  bool has_data_ = false;
  bool after_cr_ = false;  // the last piece ended with '\r' (a "\r\n" may be cut in two)
};

}  // namespace r1
