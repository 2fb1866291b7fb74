// The sample store (see sample_store.h).
#include "evals/sample_store.h"

#include <fcntl.h>     // open
#include <sys/file.h>  // flock
#include <unistd.h>  // write, fsync, ftruncate, close

#include <cerrno>   // errno
#include <cstring>  // std::strerror

#include "toolkit/error.h"  // r1::Error, r1::check
#include "toolkit/fs.h"     // r1::read_file, r1::write_file_atomic
#include "toolkit/json.h"   // r1::parse_json, r1::dump_json

namespace r1 {
namespace {

std::string key_name(const std::string& benchmark, const std::string& problem_id) {
  return benchmark + '\n' + problem_id;
}

// Writes all of `data` at the end of fd; false on any failure.
bool write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t w = ::write(fd, data.data() + done, data.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    done += static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

nlohmann::json sample_to_json(const SampleRecord& s) {
  nlohmann::json j = {{"benchmark", s.benchmark},
                      {"problem_id", s.problem_id},
                      {"sample_index", s.sample_index},
                      {"seed", s.seed},
                      {"prompt_hash", s.prompt_hash},
                      {"response", s.response}};
  if (!s.reasoning.empty()) j["reasoning"] = s.reasoning;
  j["finish_reason"] = s.finish_reason;
  j["prompt_tokens"] = s.prompt_tokens;
  j["completion_tokens"] = s.completion_tokens;
  j["latency_s"] = s.latency_s;
  j["extracted"] = s.extracted ? nlohmann::json(*s.extracted) : nlohmann::json(nullptr);
  j["correct"] = s.correct;
  j["reason"] = s.reason;
  return j;
}

SampleRecord sample_from_json(const nlohmann::json& j, const std::string& where) {
  check(j.is_object(), where + ": a sample must be a JSON object");
  auto field = [&](const char* key) -> const nlohmann::json& {
    check(j.contains(key), where + ": missing field " + key);
    return j.at(key);
  };
  auto str = [&](const char* key) {
    const auto& v = field(key);
    check(v.is_string(), where + ": field " + key + " must be a string");
    return v.get<std::string>();
  };
  auto integer = [&](const char* key) {
    const auto& v = field(key);
    check(v.is_number_integer(), where + ": field " + key + " must be an integer");
    return v.get<int64_t>();
  };
  SampleRecord s;
  s.benchmark = str("benchmark");
  s.problem_id = str("problem_id");
  s.sample_index = integer("sample_index");
  check(s.sample_index >= 0, where + ": field sample_index must be >= 0");
  check(field("seed").is_number_unsigned() || field("seed").is_number_integer(),
        where + ": field seed must be an integer");
  s.seed = field("seed").get<uint64_t>();
  s.prompt_hash = str("prompt_hash");
  s.response = str("response");
  if (j.contains("reasoning")) s.reasoning = str("reasoning");
  s.finish_reason = str("finish_reason");
  s.prompt_tokens = integer("prompt_tokens");
  s.completion_tokens = integer("completion_tokens");
  check(field("latency_s").is_number(), where + ": field latency_s must be a number");
  s.latency_s = field("latency_s").get<double>();
  const auto& e = field("extracted");
  check(e.is_null() || e.is_string(), where + ": field extracted must be a string or null");
  if (e.is_string()) s.extracted = e.get<std::string>();
  check(field("correct").is_boolean(), where + ": field correct must be true or false");
  s.correct = field("correct").get<bool>();
  s.reason = str("reason");
  return s;
}

SampleStore::SampleStore(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(path + ": cannot open (" + std::strerror(errno) + ")");
  // One writer per store: a second r1eval on the same run would duplicate samples.
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd_);
    throw Error(path + ": in use by another process (is another r1eval running on this run?)");
  }
  try {
    const std::string text = read_file(path);
    size_t start = 0, line_no = 0;
    while (start < text.size()) {
      const size_t end = text.find('\n', start);
      if (end == std::string::npos) break;  // a torn last line: cut below
      ++line_no;
      const std::string where = path + ":" + std::to_string(line_no);
      const std::string line = text.substr(start, end - start);
      start = end + 1;
      SampleRecord s = sample_from_json(parse_json(line, where), where);
      const Key key{key_name(s.benchmark, s.problem_id), s.sample_index};
      check(!index_.count(key), where + ": sample " + std::to_string(s.sample_index) +
                                    " of problem " + s.problem_id + " is stored twice");
      index_[key] = samples_.size();
      samples_.push_back(std::move(s));
    }
    torn_bytes_ = static_cast<int64_t>(text.size() - start);
    if (torn_bytes_ > 0) {
      check(::ftruncate(fd_, static_cast<off_t>(start)) == 0 && ::fsync(fd_) == 0,
            path + ": cannot cut the torn last line (" + std::strerror(errno) + ")");
    }
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

SampleStore::~SampleStore() {
  if (fd_ >= 0) ::close(fd_);
}

void SampleStore::append(const SampleRecord& s) {
  const std::string line = dump_json(sample_to_json(s)) + "\n";
  std::lock_guard<std::mutex> lock(mu_);
  const Key key{key_name(s.benchmark, s.problem_id), s.sample_index};
  check(!index_.count(key), path_ + ": sample " + std::to_string(s.sample_index) + " of problem " +
                                s.problem_id + " is already stored");
  const off_t before = ::lseek(fd_, 0, SEEK_END);
  if (!write_all(fd_, line) || ::fdatasync(fd_) != 0) {
    const std::string why = std::strerror(errno);
    if (before >= 0 && ::ftruncate(fd_, before) == 0) ::fsync(fd_);
    throw Error(path_ + ": cannot append a sample (" + why + ")");
  }
  index_[key] = samples_.size();
  samples_.push_back(s);
}

void SampleStore::rewrite(const std::vector<SampleRecord>& samples) {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<Key, size_t> index;
  for (size_t i = 0; i < samples.size(); ++i) {
    const Key key{key_name(samples[i].benchmark, samples[i].problem_id), samples[i].sample_index};
    check(!index.count(key), path_ + ": rewrite holds sample " +
                                 std::to_string(samples[i].sample_index) + " of problem " +
                                 samples[i].problem_id + " twice");
    index[key] = i;
  }
  std::string text;
  for (const auto& s : samples) text += dump_json(sample_to_json(s)) + "\n";
  write_file_atomic(path_, text);
  const int fd = ::open(path_.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
  if (fd < 0) throw Error(path_ + ": cannot reopen (" + std::strerror(errno) + ")");
  ::flock(fd, LOCK_EX | LOCK_NB);  // the new file is not visible to others before the rename
  ::close(fd_);
  fd_ = fd;
  samples_ = samples;
  index_ = std::move(index);
}

bool SampleStore::contains(const std::string& benchmark, const std::string& problem_id,
                           int64_t index) const {
  std::lock_guard<std::mutex> lock(mu_);
  return index_.count({key_name(benchmark, problem_id), index}) > 0;
}

std::vector<SampleRecord> SampleStore::samples() const {
  std::lock_guard<std::mutex> lock(mu_);
  return samples_;
}

size_t SampleStore::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return samples_.size();
}

}  // namespace r1
