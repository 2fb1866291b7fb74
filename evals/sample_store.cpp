// The sample store (see sample_store.h).
#include "evals/sample_store.h"

#include <fcntl.h>     // open
#include <sys/file.h>  // flock
#include <unistd.h>    // write, fsync, ftruncate, close

#include <cerrno>   // errno
#include <cstring>  // std::strerror
#include <fstream>  // std::ifstream

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
  nlohmann::json j = {{"benchmark", s.benchmark},       {"problem_id", s.problem_id},
                      {"sample_index", s.sample_index}, {"seed", s.seed},
                      {"prompt_hash", s.prompt_hash},   {"response", s.response}};
  if (!s.reasoning.empty()) j["reasoning"] = s.reasoning;
  j["finish_reason"] = s.finish_reason;
  j["prompt_tokens"] = s.prompt_tokens;
  j["completion_tokens"] = s.completion_tokens;
  j["latency_s"] = s.latency_s;
  if (s.ttft_s >= 0) j["ttft_s"] = s.ttft_s;
  if (s.tpot_s >= 0) j["tpot_s"] = s.tpot_s;
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
  for (auto [key, value] : {std::pair{"ttft_s", &s.ttft_s}, std::pair{"tpot_s", &s.tpot_s}})
    if (j.contains(key)) {  // samples stored before speed was recorded have neither
      check(j[key].is_number(), where + ": field " + key + " must be a number");
      *value = j[key].get<double>();
    }
  const auto& e = field("extracted");
  check(e.is_null() || e.is_string(), where + ": field extracted must be a string or null");
  if (e.is_string()) s.extracted = e.get<std::string>();
  check(field("correct").is_boolean(), where + ": field correct must be true or false");
  s.correct = field("correct").get<bool>();
  s.reason = str("reason");
  return s;
}

namespace {

// Calls visit(line, where) for each complete line of `path`; returns the bytes of a last line that
// has no newline (a torn write), which is not visited.
int64_t read_lines(const std::string& path,
                   const std::function<void(const std::string&, const std::string&)>& visit) {
  std::ifstream in(path, std::ios::binary);
  check(static_cast<bool>(in), path + ": cannot read (" + std::strerror(errno) + ")");
  std::string line;
  for (int64_t line_no = 1; std::getline(in, line); ++line_no) {
    if (in.eof()) return static_cast<int64_t>(line.size());  // no newline after it
    visit(line, path + ":" + std::to_string(line_no));
  }
  check(in.eof(), path + ": read failed");
  return 0;
}

}  // namespace

SampleStore::SampleStore(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(path + ": cannot open (" + std::strerror(errno) + ")");
  // One writer per store: a second r1eval on the same run would duplicate samples.
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd_);
    throw Error(path + ": in use by another process (is another r1eval running on this run?)");
  }
  try {
    torn_bytes_ = read_lines(path, [&](const std::string& line, const std::string& where) {
      const SampleRecord s = sample_from_json(parse_json(line, where), where);
      check(keys_.insert({key_name(s.benchmark, s.problem_id), s.sample_index}).second,
            where + ": sample " + std::to_string(s.sample_index) + " of problem " + s.problem_id +
                " is stored twice");
    });
    if (torn_bytes_ > 0) {
      const off_t end = ::lseek(fd_, 0, SEEK_END);
      check(end >= torn_bytes_ && ::ftruncate(fd_, end - torn_bytes_) == 0 && ::fsync(fd_) == 0,
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
  check(!keys_.count(key), path_ + ": sample " + std::to_string(s.sample_index) + " of problem " +
                               s.problem_id + " is already stored");
  const off_t before = ::lseek(fd_, 0, SEEK_END);
  if (!write_all(fd_, line) || ::fdatasync(fd_) != 0) {
    const std::string why = std::strerror(errno);
    if (before >= 0 && ::ftruncate(fd_, before) == 0) ::fsync(fd_);
    throw Error(path_ + ": cannot append a sample (" + why + ")");
  }
  keys_.insert(key);
}

// Writes the new file beside the store and renames it over (write_file_atomic), then holds it.
// Called with mu_ held.
void SampleStore::replace_file(const std::function<bool(std::FILE*)>& write, std::set<Key> keys) {
  write_file_atomic(path_, write);
  const int fd = ::open(path_.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
  if (fd < 0) throw Error(path_ + ": cannot reopen (" + std::strerror(errno) + ")");
  ::flock(fd, LOCK_EX | LOCK_NB);  // the new file is not visible to others before the rename
  ::close(fd_);
  fd_ = fd;
  keys_ = std::move(keys);
}

namespace {

bool put_line(std::FILE* f, const SampleRecord& s) {
  const std::string line = dump_json(sample_to_json(s)) + "\n";
  return std::fwrite(line.data(), 1, line.size(), f) == line.size();
}

}  // namespace

void SampleStore::rewrite(const std::vector<SampleRecord>& samples) {
  std::lock_guard<std::mutex> lock(mu_);
  std::set<Key> keys;
  for (const auto& s : samples)
    check(keys.insert({key_name(s.benchmark, s.problem_id), s.sample_index}).second,
          path_ + ": rewrite holds sample " + std::to_string(s.sample_index) + " of problem " +
              s.problem_id + " twice");
  replace_file(
      [&](std::FILE* f) {
        for (const auto& s : samples)
          if (!put_line(f, s)) return false;
        return true;
      },
      std::move(keys));
}

void SampleStore::update(const std::function<void(SampleRecord&)>& edit) {
  std::lock_guard<std::mutex> lock(mu_);
  std::set<Key> keys = keys_;
  replace_file(
      [&](std::FILE* f) {
        bool ok = true;
        read_lines(path_, [&](const std::string& line, const std::string& where) {
          SampleRecord s = sample_from_json(parse_json(line, where), where);
          const Key key{key_name(s.benchmark, s.problem_id), s.sample_index};
          edit(s);
          check(key == Key{key_name(s.benchmark, s.problem_id), s.sample_index},
                where + ": an update changed the sample's key");
          ok = ok && put_line(f, s);
        });
        return ok;
      },
      std::move(keys));
}

bool SampleStore::contains(const std::string& benchmark, const std::string& problem_id,
                           int64_t index) const {
  std::lock_guard<std::mutex> lock(mu_);
  return keys_.count({key_name(benchmark, problem_id), index}) > 0;
}

void SampleStore::for_each(const std::function<void(SampleRecord&&)>& visit) const {
  std::lock_guard<std::mutex> lock(mu_);
  read_lines(path_, [&](const std::string& line, const std::string& where) {
    visit(sample_from_json(parse_json(line, where), where));
  });
}

std::vector<SampleRecord> SampleStore::samples() const {
  std::vector<SampleRecord> out;
  for_each([&](SampleRecord&& s) { out.push_back(std::move(s)); });
  return out;
}

std::vector<SampleRecord> SampleStore::summaries() const {
  std::vector<SampleRecord> out;
  for_each([&](SampleRecord&& s) {
    for (std::string* text : {&s.response, &s.reasoning, &s.prompt_hash}) {
      text->clear();
      text->shrink_to_fit();  // frees it (clear alone, or assigning "", keeps the capacity)
    }
    out.push_back(std::move(s));
  });
  return out;
}

size_t SampleStore::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return keys_.size();
}

}  // namespace r1
