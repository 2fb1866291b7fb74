// Helpers shared by r1's C++ tests: temporary directories, paths, running r1's commands.
#pragma once

#include <gtest/gtest.h>  // testing

#include <signal.h>    // kill, SIGTERM
#include <sys/wait.h>  // waitpid
#include <unistd.h>    // fork, execv, _exit

#include <array>       // std::array
#include <chrono>      // std::chrono
#include <cstdio>      // popen
#include <cstdlib>     // std::getenv
#include <filesystem>  // std::filesystem
#include <fstream>     // std::ifstream
#include <random>      // std::random_device
#include <string>      // std::string
#include <thread>      // std::this_thread
#include <vector>      // std::vector

#include <nlohmann/json.hpp>  // nlohmann::json

#include "toolkit/error.h"  // r1::Error

namespace r1::test {

// A fresh directory under the system temp dir, removed with its content on destruction.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("r1-test-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string path() const { return path_.string(); }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Path of a file or folder of the shared data beside the checkout (../shared/data/REL, see
// ../shared/data/README.md). Throws r1::Error naming it when it is missing, so a test without its
// data fails with the path instead of a parse error further on.
inline std::string shared_data(const std::string& rel) {
  const std::string path = "../shared/data/" + rel;
  if (!std::filesystem::exists(path))
    throw Error(path +
                " is missing: tests read the shared data folder beside the checkout "
                "(../shared/data/README.md)");
  return path;
}

// Path of a built binary (tests get R1_BIN from CTest).
inline std::string bin(const std::string& name) {
  const char* dir = std::getenv("R1_BIN");
  return (dir ? std::string(dir) : std::string("build/bin")) + "/" + name;
}

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout and stderr together
};

// Runs a shell command line, capturing stdout+stderr.
inline CommandResult run_command(const std::string& cmd) {
  CommandResult r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

// A gtest parameter name from a string parameter ("qwen2-gqa" -> "qwen2_gqa").
struct ParamName {
  template <typename Info>
  std::string operator()(const Info& info) const {
    std::string s = info.param;
    for (auto& c : s)
      if (c == '-' || c == '.') c = '_';
    return s;
  }
};

// Every non-blank line of the JSONL file `path`, parsed (a line that does not parse throws).
inline std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::vector<nlohmann::json> rows;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

// The message of the r1::Error that f() throws, or "" when it throws none.
template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const r1::Error& e) {
    return e.what();
  }
  return "";
}

// Starts r1serve on a free port; stops it (SIGTERM) on destruction.
class R1serve {
 public:
  R1serve(const std::string& port_file, const std::string& model,
          std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {bin("r1serve"), "--model", model, "--port", "0",
                                     "--port-file",  port_file};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      execv(argv[0], argv.data());
      _exit(127);
    }
    for (int i = 0; i < 600 && !std::filesystem::exists(port_file); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (std::filesystem::exists(port_file)) {
      std::ifstream in(port_file);
      in >> port_;
    }
  }
  ~R1serve() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace r1::test
