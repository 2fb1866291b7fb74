// `r1eval get` (evals/dataset_download.h) against a local server holding the real benchmark files
// of ../shared/data/benchmarks: the file lands in the data dir with the registry's sha256,
// a .gz source is decompressed, redirects are followed, a wrong hash or a 404 leaves nothing,
// an existing file is kept or refused; the registry's URLs are pinned and its hashes are those of
// the real files; the missing-file message points at `r1eval get`.
#include "evals/dataset_download.h"

#include <filesystem>  // std::filesystem
#include <map>         // std::map
#include <mutex>       // std::mutex
#include <string>      // std::string

#include "tests/test_util.h"  // test::TempDir, test::run_command, test::bin
#include "toolkit/fs.h"       // r1::read_file
#include "toolkit/http.h"     // r1::HttpServer
#include "toolkit/sha256.h"   // r1::sha256_file, r1::sha256_hex

namespace r1 {
namespace {

namespace fs = std::filesystem;

const std::string kShared = r1::test::shared_data("benchmarks/");

#define EXPECT_HAS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

// Serves files by path ("/NAME"), "/moved/NAME" as a 302 to "/NAME", anything else as 404.
class FileServer {
 public:
  FileServer() : server_("127.0.0.1", 0, [this](const HttpRequest& r) { return handle(r); }) {
    server_.start();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server_.port()) + path;
  }
  void put(const std::string& path, std::string bytes) {
    std::lock_guard lock(mu_);
    files_[path] = std::move(bytes);
  }
  size_t requests() const { return requests_; }

 private:
  HttpReply handle(const HttpRequest& req) {
    ++requests_;
    HttpReply reply;
    if (req.target.rfind("/moved/", 0) == 0) {
      reply.status = 302;
      reply.headers.emplace_back("Location", req.target.substr(6));
      return reply;
    }
    std::lock_guard lock(mu_);
    const auto it = files_.find(req.target);
    reply.status = it == files_.end() ? 404 : 200;
    reply.body = it == files_.end() ? "404: Not Found" : it->second;
    reply.content_type = "text/plain";
    return reply;
  }

  std::mutex mu_;
  std::map<std::string, std::string> files_;
  std::atomic<size_t> requests_{0};
  HttpServer server_;  // last: stopped first
};

FetchOptions quiet() {
  FetchOptions o;
  o.progress = false;
  o.timeout_s = 10;
  return o;
}

// The message of the r1::Error `f` throws ("" when none: the EXPECT on it fails).
using test::error_of;

TEST(DatasetDownload, RegistryUrlsArePinnedAndHashesAreThoseOfTheRealFiles) {
  for (const auto& spec : benchmark_registry()) {
    EXPECT_EQ(sha256_file(kShared + spec.file), spec.sha256) << spec.name;
    if (spec.url.empty()) continue;
    EXPECT_EQ(spec.url.rfind("https://", 0), 0u) << spec.url;
    // A 40-hex commit in the path: the bytes cannot move under the hash.
    bool pinned = false;
    for (size_t i = 0; i + 42 <= spec.url.size(); ++i) {
      pinned |=
          spec.url[i] == '/' && spec.url[i + 41] == '/' &&
          spec.url.substr(i + 1, 40).find_first_not_of("0123456789abcdef") == std::string::npos;
    }
    EXPECT_TRUE(pinned) << spec.url;
  }
  EXPECT_TRUE(find_benchmark("aime2025").url.empty());  // assembled: no single public file
}

TEST(DatasetDownload, FetchesIntoTheDataDirWithTheRegistrysHash) {
  FileServer server;
  server.put("/aime24.jsonl", read_file(kShared + "aime24.jsonl"));
  test::TempDir dir;
  const auto& spec = find_benchmark("aime2024");
  const std::string path =
      download_dataset(spec, dir / "data", server.url("/moved/aime24.jsonl"), quiet());
  EXPECT_EQ(path, dir / "data/aime24.jsonl");
  EXPECT_EQ(sha256_file(path), spec.sha256);
  EXPECT_FALSE(fs::exists(path + ".incomplete"));
  // Already there with the right hash: kept, nothing fetched.
  const size_t before = server.requests();
  EXPECT_EQ(download_dataset(spec, dir / "data", server.url("/aime24.jsonl"), quiet()), path);
  EXPECT_EQ(server.requests(), before);
}

TEST(DatasetDownload, AGzipSourceIsDecompressedBeforeItsHashIsChecked) {
  if (test::run_command("command -v gzip").exit_code != 0) GTEST_SKIP() << "needs gzip";
  test::TempDir dir;
  const auto packed =
      test::run_command("gzip -c " + kShared + "humaneval.jsonl > " + (dir / "HumanEval.jsonl.gz"));
  ASSERT_EQ(packed.exit_code, 0) << packed.out;
  FileServer server;
  server.put("/HumanEval.jsonl.gz", read_file(dir / "HumanEval.jsonl.gz"));
  const auto& spec = find_benchmark("humaneval");
  const std::string path =
      download_dataset(spec, dir / "data", server.url("/HumanEval.jsonl.gz"), quiet());
  EXPECT_EQ(sha256_file(path), spec.sha256);
  EXPECT_FALSE(fs::exists(path + ".gz"));
}

TEST(DatasetDownload, AWrongHashOrA404LeavesNothingAndAnEditedFileIsNotOverwritten) {
  FileServer server;
  server.put("/aime24.jsonl", read_file(kShared + "aime24.jsonl") + "\n");
  test::TempDir dir;
  const auto& spec = find_benchmark("aime2024");
  std::string e =
      error_of([&] { download_dataset(spec, dir.path(), server.url("/aime24.jsonl"), quiet()); });
  EXPECT_HAS(e, "aime2024 aime24.jsonl: sha256 of " + server.url("/aime24.jsonl"));
  EXPECT_HAS(e, "expected " + spec.sha256);
  EXPECT_TRUE(fs::is_empty(dir.path()));

  e = error_of([&] { download_dataset(spec, dir.path(), server.url("/nope.jsonl"), quiet()); });
  EXPECT_HAS(e, "GET " + server.url("/nope.jsonl") + ": HTTP 404 (404: Not Found)");
  EXPECT_TRUE(fs::is_empty(dir.path()));

  write_file_atomic(dir / "aime24.jsonl", "edited\n");
  e = error_of([&] { download_dataset(spec, dir.path(), server.url("/aime24.jsonl"), quiet()); });
  EXPECT_HAS(e, "is already there and differs");
  EXPECT_EQ(read_file(dir / "aime24.jsonl"), "edited\n");

  e = error_of([&] { download_dataset(find_benchmark("aime2025"), dir.path(), "", quiet()); });
  EXPECT_HAS(e, "aime2025: aime25.jsonl has no single public file to fetch");
}

TEST(DatasetDownload, TheMissingFileMessageSaysRunR1evalGet) {
  test::TempDir dir;
  const std::string e = error_of([&] { require_dataset(find_benchmark("math500"), {dir.path()}); });
  EXPECT_HAS(e, "math500.jsonl not found in " + dir.path());
  EXPECT_HAS(e, "run `r1eval get math500`");
}

TEST(DatasetDownload, R1evalGetWritesTheFileAndReportsErrorsOnOneLine) {
  FileServer server;
  server.put("/test.jsonl", read_file(kShared + "math500.jsonl"));
  test::TempDir dir;
  auto r = test::run_command(test::bin("r1eval") + " get math500 --data-dir " + dir.path() +
                             " --url " + server.url("/test.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_HAS(r.out, "math500: " + (dir / "math500.jsonl") + " (sha256 matches the registry)");
  EXPECT_EQ(sha256_file(dir / "math500.jsonl"), find_benchmark("math500").sha256);
  r = test::run_command(test::bin("r1eval") + " list --data-dir " + dir.path());
  EXPECT_HAS(r.out, "r1eval get aime2024");
  r = test::run_command(test::bin("r1eval") + " get aime2024 --data-dir " + dir.path() + " --url " +
                        server.url("/gone.jsonl"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_HAS(r.out, "r1eval: error: aime2024 aime24.jsonl: GET " + server.url("/gone.jsonl"));
  EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << r.out;
}

}  // namespace
}  // namespace r1
