// Hub ids and the hub cache (toolkit/hf_hub.h) over toolkit/download.h, against a fake hub on
// loopback that serves the hub's URL layout with tests/data/models/tiny-r1 as a repo: the API,
// resolve (LFS files redirect to a CDN on another host name), 401 without HF_TOKEN, 404s, a
// transfer cut mid-file, a corrupt blob, offline mode; downloads over HTTPS with the certificate
// checked; a cache written by the real huggingface_hub (the venv's Python) read by r1 as is and
// the reverse; r1gen --model ORG/NAME end to end.
#include "toolkit/hf_hub.h"

#include <openssl/evp.h>  // EVP_Digest, EVP_sha1
#include <poll.h>         // poll
#include <signal.h>       // kill, SIGKILL
#include <sys/wait.h>     // waitpid
#include <unistd.h>       // fork, execlp, pipe

#include <atomic>      // std::atomic
#include <cstdlib>     // setenv, unsetenv
#include <filesystem>  // std::filesystem
#include <map>         // std::map
#include <mutex>       // std::mutex
#include <optional>    // std::optional
#include <set>         // std::set
#include <string>      // std::string
#include <vector>      // std::vector

#include <nlohmann/json.hpp>  // nlohmann::json

#include "tests/test_util.h"       // test::TempDir, test::run_command, test::bin
#include "toolkit/download.h"      // r1::Fetcher
#include "toolkit/fs.h"            // r1::read_file, r1::write_file_atomic
#include "toolkit/http.h"          // r1::HttpServer
#include "toolkit/model_source.h"  // r1::is_model_path
#include "toolkit/sha256.h"        // r1::sha256_hex

namespace r1 {
namespace {

namespace fs = std::filesystem;

const std::string kCommit = "4f1e0c7d9b2a3e5f6a7b8c9d0e1f2a3b4c5d6e7f";
const std::string kTiny = "tests/data/models/tiny-r1";
const std::vector<std::string> kTinyFiles = {"config.json", "generation_config.json",
                                             "model.safetensors", "tokenizer.json",
                                             "tokenizer_config.json"};

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// The git object id of a file's content: what the hub sends as the ETag of a non-LFS file.
std::string git_blob_sha1(const std::string& bytes) {
  std::string object = "blob " + std::to_string(bytes.size());
  object.push_back('\0');
  object += bytes;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(object.data(), object.size(), md, &len, EVP_sha1(), nullptr);
  std::string hex;
  for (unsigned i = 0; i < len; ++i) {
    static const char* d = "0123456789abcdef";
    hex += d[md[i] >> 4];
    hex += d[md[i] & 15];
  }
  return hex;
}

bool is_lfs(const std::string& file) {
  return ends_with(file, ".safetensors") || ends_with(file, ".gguf");
}

// The blob name the hub cache gives a file: sha256 for LFS files, the git blob sha1 otherwise.
std::string etag_of(const std::string& file, const std::string& bytes) {
  return is_lfs(file) ? sha256_hex(bytes) : git_blob_sha1(bytes);
}

struct Repo {
  std::map<std::string, std::string> files;  // path in the repo -> bytes
  bool is_private = false;                   // 401 without "Authorization: Bearer secret"
};

std::map<std::string, std::string> tiny_files() {
  std::map<std::string, std::string> files;
  for (const auto& f : kTinyFiles) files[f] = read_file(kTiny + "/" + f);
  return files;
}

// The hub's URL layout on loopback: GET /api/models/REPO/revision/REV, HEAD/GET
// /REPO/resolve/REV/FILE (LFS files: 302 to /cdn/SHA256 on "localhost", another host to the
// client), GET /cdn/SHA256 with Range; "old-org/NAME" is a renamed "org/NAME" (307, relative).
class FakeHub {
 public:
  FakeHub() : server_("127.0.0.1", 0, [this](const HttpRequest& r) { return handle(r); }) {
    repos["org/tiny-r1"].files = tiny_files();
    server_.start();
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(server_.port()); }

  std::map<std::string, Repo> repos;                    // set up before the first request
  std::atomic<size_t> cut_next_cdn{std::string::npos};  // the next CDN GET breaks off after N bytes
  std::atomic<bool> corrupt_cdn{false};                 // the CDN flips a byte of every file
  std::atomic<int> cdn_busy{0};  // the next N CDN GETs get 503 (Retry-After: 0)

  // One line per request: "METHOD TARGET auth=AUTHORIZATION range=RANGE".
  std::vector<std::string> log() const {
    std::lock_guard lock(mu_);
    return log_;
  }
  size_t requests() const { return log().size(); }

 private:
  HttpReply handle(const HttpRequest& req) {
    {
      std::lock_guard lock(mu_);
      log_.push_back(req.method + " " + req.target + " auth=" + req.header("Authorization") +
                     " range=" + req.header("Range"));
    }
    const std::string& t = req.target;
    if (t.rfind("/cdn/", 0) == 0) return cdn(req, t.substr(5));
    if (t.rfind("/old-org/", 0) == 0 || t.rfind("/api/models/old-org/", 0) == 0) {
      HttpReply r = status(307, "");
      std::string moved = t;
      moved.replace(moved.find("old-org"), 7, "org");
      r.headers.emplace_back("Location", moved);
      return r;
    }
    const bool api = t.rfind("/api/models/", 0) == 0;
    const std::string rest = t.substr(api ? 12 : 1);  // REPO/revision/REV or REPO/resolve/REV/F
    const size_t s1 = rest.find('/'), s2 = rest.find('/', s1 + 1);
    const std::string repo = rest.substr(0, s2);
    const auto it = repos.find(repo);
    if (it == repos.end() ||
        (it->second.is_private && req.header("Authorization") != "Bearer secret")) {
      return it == repos.end() ? status(404, "RepoNotFound") : status(401, "RepoNotFound");
    }
    const size_t s3 = rest.find('/', s2 + 1);
    const std::string rev = rest.substr(s3 + 1, rest.find('/', s3 + 1) - s3 - 1);
    if (rev != "main" && rev != kCommit) return status(404, "RevisionNotFound");
    if (api) return revision(repo, it->second);
    return resolve(repo, it->second, rest.substr(rest.find('/', s3 + 1) + 1));
  }

  static HttpReply status(int code, const std::string& error_code) {
    HttpReply r;
    r.status = code;
    r.body = code == 307 ? "" : "{\"error\":\"" + error_code + "\"}";
    if (!error_code.empty()) r.headers.emplace_back("X-Error-Code", error_code);
    r.headers.emplace_back("X-Repo-Commit", kCommit);
    return r;
  }

  HttpReply revision(const std::string& repo, const Repo& r) const {
    nlohmann::json siblings = nlohmann::json::array();
    for (const auto& [name, bytes] : r.files) siblings.push_back({{"rfilename", name}});
    HttpReply reply;
    reply.body = nlohmann::json{{"id", repo}, {"sha", kCommit}, {"siblings", siblings}}.dump();
    return reply;
  }

  HttpReply resolve(const std::string& repo, const Repo& r, const std::string& file) const {
    const auto it = r.files.find(file);
    if (it == r.files.end()) return status(404, "EntryNotFound");
    HttpReply reply;
    reply.headers.emplace_back("X-Repo-Commit", kCommit);
    if (!is_lfs(file)) {
      reply.body = it->second;
      reply.content_type = "application/octet-stream";
      reply.headers.emplace_back("ETag", "\"" + git_blob_sha1(it->second) + "\"");
      return reply;
    }
    const std::string sha = sha256_hex(it->second);
    reply.status = 302;
    reply.headers.emplace_back("ETag", "\"" + sha + "\"");
    reply.headers.emplace_back("X-Linked-Etag", "\"" + sha + "\"");
    reply.headers.emplace_back("X-Linked-Size", std::to_string(it->second.size()));
    reply.headers.emplace_back("Location", "http://localhost:" + std::to_string(server_.port()) +
                                               "/cdn/" + sha + "?sig=abc%2Fdef");
    return reply;
  }

  HttpReply cdn(const HttpRequest& req, std::string sha) {
    if (cdn_busy > 0) {
      --cdn_busy;
      HttpReply busy = status(503, "");
      busy.headers.emplace_back("Retry-After", "0");
      return busy;
    }
    sha = sha.substr(0, sha.find('?'));
    std::string bytes;
    for (const auto& [name, repo] : repos) {
      for (const auto& [file, content] : repo.files) {
        if (sha256_hex(content) == sha) bytes = content;
      }
    }
    if (bytes.empty()) return status(404, "");
    if (corrupt_cdn) bytes.back() ^= 1;
    HttpReply reply;
    reply.content_type = "application/octet-stream";
    const std::string range = req.header("Range");
    if (range.rfind("bytes=", 0) == 0) {
      const size_t from = std::stoull(range.substr(6));
      reply.status = 206;
      reply.headers.emplace_back("Content-Range", "bytes " + std::to_string(from) + "-" +
                                                      std::to_string(bytes.size() - 1) + "/" +
                                                      std::to_string(bytes.size()));
      bytes = bytes.substr(from);
    }
    reply.body = bytes;
    reply.cut_after = cut_next_cdn.exchange(std::string::npos);
    return reply;
  }

  mutable std::mutex mu_;
  std::vector<std::string> log_;
  HttpServer server_;  // last: stopped before the rest goes
};

HubOptions options_for(const FakeHub& hub, const std::string& cache,
                       const std::string& token = "") {
  HubOptions o;
  o.endpoint = hub.endpoint();
  o.cache_dir = cache;
  o.token = token;
  o.progress = false;
  o.timeout_s = 10;
  return o;
}

// The message of the r1::Error `f` throws ("" when none: the EXPECT on it fails).
using test::error_of;

#define EXPECT_HAS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

// Every entry under `dir`: "PATH -> TARGET" for a symlink, "PATH = SHA256" for a file, "PATH/"
// for a directory (the cache's layout, compared across writers).
std::set<std::string> tree(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const std::string rel = fs::relative(e.path(), dir).string();
    if (e.is_symlink()) {
      out.insert(rel + " -> " + fs::read_symlink(e.path()).string());
    } else if (e.is_directory()) {
      out.insert(rel + "/");
    } else {
      out.insert(rel + " = " + sha256_hex(read_file(e.path().string())));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

TEST(HubRef, ParsesIdsRevisionsAndFilesButNotLocalPaths) {
  auto ref = parse_hub_ref("deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B");
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->repo, "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B");
  EXPECT_EQ(ref->revision, "main");
  EXPECT_EQ(ref->file, "");
  ref = parse_hub_ref("org/name@refs/pr/1");
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->revision, "refs/pr/1");
  ref = parse_hub_ref("unsloth/Qwen3-0.6B-GGUF@v1.0:sub/Qwen3-0.6B-Q4_K_M.gguf");
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->repo, "unsloth/Qwen3-0.6B-GGUF");
  EXPECT_EQ(ref->revision, "v1.0");
  EXPECT_EQ(ref->file, "sub/Qwen3-0.6B-Q4_K_M.gguf");
  EXPECT_EQ(ref->str(), "unsloth/Qwen3-0.6B-GGUF@v1.0:sub/Qwen3-0.6B-Q4_K_M.gguf");
  for (const std::string spec :
       {"", "gpt2", "a/b/c", "./org/name", "/abs/org", "org/-bad", "org/a--b", "org/a..b",
        "http://host/x", "https://h:8000/v1", "org/name@", "org/name@a..b",
        "org/name:", "org/name:../x", "org/name:/etc/passwd", "org/na me", "tests/data"}) {
    EXPECT_FALSE(parse_hub_ref(spec)) << spec;  // tests/data: an existing local path wins
  }
}

// setenv for the test's duration, restoring what was there.
class ScopedEnv {
 public:
  void set(const std::string& name, const std::optional<std::string>& value) {
    if (!saved_.count(name)) {
      const char* v = std::getenv(name.c_str());
      saved_[name] = v ? std::optional<std::string>(v) : std::nullopt;
    }
    value ? setenv(name.c_str(), value->c_str(), 1) : unsetenv(name.c_str());
  }
  ~ScopedEnv() {
    for (const auto& [name, value] : saved_)
      value ? setenv(name.c_str(), value->c_str(), 1) : unsetenv(name.c_str());
  }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

TEST(HubCache, DirAndOptionsComeFromTheEnvironmentAsHuggingfaceHubReadsThem) {
  ScopedEnv env;
  for (const char* v : {"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME",
                        "HF_ENDPOINT", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH",
                        "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"})
    env.set(v, std::nullopt);
  env.set("HOME", "/home/u");
  EXPECT_EQ(hub_cache_dir(), "/home/u/.cache/huggingface/hub");
  env.set("XDG_CACHE_HOME", "/xdg");
  EXPECT_EQ(hub_cache_dir(), "/xdg/huggingface/hub");
  env.set("HF_HOME", "~/hf");
  EXPECT_EQ(hub_cache_dir(), "/home/u/hf/hub");
  env.set("HF_HUB_CACHE", "/fast/hub");
  EXPECT_EQ(hub_cache_dir(), "/fast/hub");
  EXPECT_EQ(hub_repo_dir("/fast/hub", "org/name"), "/fast/hub/models--org--name");

  test::TempDir dir;
  write_file_atomic(dir / "token", "hf_fromfile\n");
  env.set("HF_HOME", dir.path());
  HubOptions o = hub_options_from_env();
  EXPECT_EQ(o.endpoint, "https://huggingface.co");
  EXPECT_EQ(o.token, "hf_fromfile");  // what `huggingface-cli login` wrote
  EXPECT_FALSE(o.offline);
  env.set("HF_TOKEN", "hf_env");
  env.set("HF_ENDPOINT", "https://hf-mirror.example/");
  env.set("HF_HUB_OFFLINE", "yes");
  o = hub_options_from_env();
  EXPECT_EQ(o.token, "hf_env");
  EXPECT_EQ(o.endpoint, "https://hf-mirror.example");
  EXPECT_TRUE(o.offline);
}

TEST(Hub, DownloadsACheckpointIntoTheHubCacheLayoutAndThenUsesItWithoutAsking) {
  FakeHub hub;
  test::TempDir cache;
  const HubOptions o = options_for(hub, cache.path());
  const std::string path = resolve_model_path("org/tiny-r1", o);
  const std::string repo = cache / "models--org--tiny-r1";
  EXPECT_EQ(path, repo + "/snapshots/" + kCommit);
  EXPECT_EQ(read_file(repo + "/refs/main"), kCommit);  // no newline, as huggingface_hub writes
  for (const auto& [file, bytes] : tiny_files()) {
    const fs::path pointer = fs::path(path) / file;
    ASSERT_TRUE(fs::is_symlink(pointer)) << file;
    EXPECT_EQ(fs::read_symlink(pointer).string(), "../../blobs/" + etag_of(file, bytes));
    EXPECT_EQ(read_file(pointer.string()), bytes) << file;
  }
  EXPECT_TRUE(fs::exists(repo + "/.no_exist/" + kCommit + "/chat_template.jinja"));
  for (const auto& e : fs::directory_iterator(repo + "/blobs"))
    EXPECT_FALSE(ends_with(e.path().string(), ".incomplete")) << e.path();
  EXPECT_TRUE(is_model_path(path));

  const size_t before = hub.requests();
  EXPECT_EQ(resolve_model_path("org/tiny-r1", o), path);
  EXPECT_EQ(resolve_model_path("org/tiny-r1@" + kCommit, o), path);
  EXPECT_EQ(hub.requests(), before);               // the cache answers
  EXPECT_EQ(resolve_model_path(kTiny, o), kTiny);  // local paths are left as they are
}

TEST(Hub, FollowsRedirectsAndSendsTheTokenToTheHubOnly) {
  FakeHub hub;
  test::TempDir cache;
  const std::string path =
      resolve_model_path("old-org/tiny-r1", options_for(hub, cache.path(), "secret"));
  EXPECT_EQ(read_file(path + "/model.safetensors"), read_file(kTiny + "/model.safetensors"));
  bool saw_cdn = false;
  for (const auto& line : hub.log()) {
    if (line.find(" /cdn/") != std::string::npos) {
      saw_cdn = true;
      EXPECT_HAS(line, "auth= ");  // another host: no Authorization
      EXPECT_HAS(line, "?sig=abc%2Fdef");
    } else {
      EXPECT_HAS(line, "auth=Bearer secret");
    }
  }
  EXPECT_TRUE(saw_cdn);
  EXPECT_HAS(hub.log().front(), "GET /api/models/old-org/tiny-r1/revision/main");
}

TEST(Hub, PrivateRepoAsksForHfTokenAndOpensWithIt) {
  FakeHub hub;
  hub.repos["org/private"] = {tiny_files(), true};
  test::TempDir cache;
  const std::string e =
      error_of([&] { resolve_model_path("org/private", options_for(hub, cache.path())); });
  EXPECT_HAS(e, "org/private@main");
  EXPECT_HAS(e, "HTTP 401");
  EXPECT_HAS(e, "set HF_TOKEN");
  EXPECT_EQ(e.find('\n'), std::string::npos);
  EXPECT_TRUE(
      is_model_path(resolve_model_path("org/private", options_for(hub, cache.path(), "secret"))));
}

TEST(Hub, NotFoundNamesTheRepoTheRevisionOrTheFile) {
  FakeHub hub;
  test::TempDir cache;
  const HubOptions o = options_for(hub, cache.path());
  EXPECT_HAS(error_of([&] { resolve_model_path("org/missing", o); }), "no model repo org/missing");
  EXPECT_HAS(error_of([&] { resolve_model_path("org/tiny-r1@v9", o); }), "no revision 'v9'");
  const std::string e = error_of([&] { resolve_model_path("org/tiny-r1:nope.gguf", o); });
  EXPECT_HAS(e, "org/tiny-r1@main has no file nope.gguf");
  EXPECT_HAS(e, "HTTP 404");
}

TEST(Hub, ATransferCutMidFileResumesWithRangeToTheRightBytes) {
  FakeHub hub;
  test::TempDir cache;
  hub.cut_next_cdn = 300000;
  const std::string path = resolve_model_path("org/tiny-r1", options_for(hub, cache.path()));
  const std::string bytes = read_file(kTiny + "/model.safetensors");
  EXPECT_EQ(sha256_hex(read_file(path + "/model.safetensors")), sha256_hex(bytes));
  int ranged = 0;
  for (const auto& line : hub.log())
    ranged += line.find("range=bytes=300000-") != std::string::npos;
  EXPECT_EQ(ranged, 1);
}

TEST(Download, ABrokenTransferIsKeptAndTheNextRunResumesIt) {
  FakeHub hub;
  test::TempDir dir;
  const std::string bytes = read_file(kTiny + "/model.safetensors");
  const std::string url = hub.endpoint() + "/cdn/" + sha256_hex(bytes);
  FetchOptions once;
  once.attempts = 1;
  once.progress = false;
  const DownloadTarget t{url, dir / "model.safetensors", static_cast<int64_t>(bytes.size()),
                         sha256_hex(bytes), "model.safetensors"};
  hub.cut_next_cdn = 123456;
  const std::string e = error_of([&] { Fetcher(once).download(t); });
  EXPECT_HAS(e, "run again to resume from the 123456 bytes");
  EXPECT_EQ(fs::file_size(t.path + ".incomplete"), 123456u);
  EXPECT_FALSE(fs::exists(t.path));
  Fetcher(once).download(t);
  EXPECT_EQ(read_file(t.path), bytes);
  EXPECT_FALSE(fs::exists(t.path + ".incomplete"));
  EXPECT_HAS(hub.log().back(), "range=bytes=123456-");
}

TEST(Download, A503IsRetriedAfterRetryAfterAndAServerThatStaysDownIsOneClearError) {
  FakeHub hub;
  test::TempDir dir;
  const std::string bytes = read_file(kTiny + "/model.safetensors");
  const std::string url = hub.endpoint() + "/cdn/" + sha256_hex(bytes);
  FetchOptions o;
  o.attempts = 3;
  o.progress = false;
  const DownloadTarget t{url, dir / "model.safetensors", static_cast<int64_t>(bytes.size()),
                         sha256_hex(bytes), "model.safetensors"};
  hub.cdn_busy = 2;
  Fetcher(o).download(t);
  EXPECT_EQ(read_file(t.path), bytes);
  EXPECT_EQ(hub.requests(), 3u);
  hub.cdn_busy = 100;
  const DownloadTarget t2{url, dir / "again.safetensors", static_cast<int64_t>(bytes.size()),
                          sha256_hex(bytes), "again.safetensors"};
  const std::string e = error_of([&] { Fetcher(o).download(t2); });
  EXPECT_HAS(e, "HTTP 503");
  EXPECT_HAS(e, "3 tries; the server is busy or failing");
  EXPECT_FALSE(fs::exists(t2.path));
}

TEST(Hub, AWrongHashIsRefusedAndNothingOfItIsKept) {
  FakeHub hub;
  test::TempDir cache;
  const HubOptions o = options_for(hub, cache.path());
  hub.corrupt_cdn = true;
  const std::string e = error_of([&] { resolve_model_path("org/tiny-r1", o); });
  const std::string sha = sha256_hex(read_file(kTiny + "/model.safetensors"));
  EXPECT_HAS(e, "sha256 of http://localhost:");
  EXPECT_HAS(e, "expected " + sha);
  const std::string repo = cache / "models--org--tiny-r1";
  EXPECT_FALSE(fs::exists(repo + "/snapshots/" + kCommit + "/model.safetensors"));
  EXPECT_FALSE(fs::exists(repo + "/blobs/" + sha));
  EXPECT_FALSE(fs::exists(repo + "/blobs/" + sha + ".incomplete"));
  EXPECT_FALSE(fs::exists(repo + "/refs/main"));  // only a complete checkpoint gets its ref
  hub.corrupt_cdn = false;
  EXPECT_TRUE(is_model_path(resolve_model_path("org/tiny-r1", o)));
}

TEST(Hub, OfflineUsesTheCacheAloneOrSaysWhatIsMissing) {
  FakeHub hub;
  test::TempDir cache;
  HubOptions offline = options_for(hub, cache.path());
  offline.offline = true;
  std::string e = error_of([&] { resolve_model_path("org/tiny-r1", offline); });
  EXPECT_HAS(e, "org/tiny-r1@main: HF_HUB_OFFLINE is set");
  EXPECT_HAS(e, "no refs/main");
  EXPECT_EQ(hub.requests(), 0u);

  const std::string path = resolve_model_path("org/tiny-r1", options_for(hub, cache.path()));
  const size_t before = hub.requests();
  EXPECT_EQ(resolve_model_path("org/tiny-r1", offline), path);
  fs::remove(path + "/tokenizer.json");
  e = error_of([&] { resolve_model_path("org/tiny-r1", offline); });
  EXPECT_HAS(e, "holds commit " + kCommit + " without tokenizer.json");
  e = error_of([&] { resolve_model_path("org/tiny-r1:tiny.gguf", offline); });
  EXPECT_HAS(e, "org/tiny-r1@main:tiny.gguf: HF_HUB_OFFLINE is set");
  EXPECT_EQ(hub.requests(), before);
}

TEST(Hub, OneGgufFileAtAnyDepthAndAHintWhenTheRepoHasNoCheckpoint) {
  FakeHub hub;
  hub.repos["org/tiny-gguf"].files = {{"tiny.gguf", std::string(5000, 'g')},
                                      {"sub/q4.gguf", std::string(7000, 'q')}};
  test::TempDir cache;
  const HubOptions o = options_for(hub, cache.path());
  const std::string path = resolve_model_path("org/tiny-gguf:sub/q4.gguf", o);
  const std::string repo = cache / "models--org--tiny-gguf";
  EXPECT_EQ(path, repo + "/snapshots/" + kCommit + "/sub/q4.gguf");
  EXPECT_EQ(fs::read_symlink(path).string(),
            "../../../blobs/" + sha256_hex(std::string(7000, 'q')));
  EXPECT_EQ(read_file(repo + "/refs/main"), kCommit);
  const size_t before = hub.requests();
  EXPECT_EQ(resolve_model_path("org/tiny-gguf:sub/q4.gguf", o), path);
  EXPECT_EQ(hub.requests(), before);
  const std::string e = error_of([&] { resolve_model_path("org/tiny-gguf", o); });
  EXPECT_HAS(e, "no config.json");
  EXPECT_HAS(e, "give org/tiny-gguf:FILE (sub/q4.gguf, tiny.gguf)");
}

TEST(Hub, AShardedCheckpointBringsEveryShardItsIndexNames) {
  FakeHub hub;
  auto files = tiny_files();
  files.erase("model.safetensors");
  files["model-00001-of-00002.safetensors"] = std::string(4000, '1');
  files["model-00002-of-00002.safetensors"] = std::string(3000, '2');
  files["model.safetensors.index.json"] =
      R"({"metadata": {}, "weight_map": {"a": "model-00001-of-00002.safetensors",)"
      R"( "b": "model-00002-of-00002.safetensors", "c": "model-00001-of-00002.safetensors"}})";
  hub.repos["org/sharded"].files = files;
  test::TempDir cache;
  const std::string path = resolve_model_path("org/sharded", options_for(hub, cache.path()));
  for (const auto& [file, bytes] : files) EXPECT_EQ(read_file(path + "/" + file), bytes) << file;
}

// ---------------------------------------------------------------------------------------------
// HTTPS: python3's http.server with a throwaway certificate for localhost, a body sized by
// Content-Length and one that ends where the TLS connection does (no close_notify).

constexpr char kTlsFileServer[] = R"(
import http.server, ssl, sys
BODY = bytes(range(256)) * 4096
class Files(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.send_response(200)
        if self.path == "/eof":
            self.send_header("Connection", "close")
        else:
            self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)
        self.close_connection = self.path == "/eof"
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Files)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[1], sys.argv[2])
server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
)";

// kTlsFileServer in a child process (its port read from its first line), killed on destruction.
struct TlsServer {
  TlsServer(const std::string& cert, const std::string& key) {
    int out[2];
    if (::pipe(out) != 0) return;
    pid = ::fork();
    if (pid == 0) {
      ::dup2(out[1], 1);
      ::close(out[0]);
      ::execlp("python3", "python3", "-c", kTlsFileServer, cert.c_str(), key.c_str(), nullptr);
      ::_exit(127);
    }
    ::close(out[1]);
    pollfd ready{out[0], POLLIN, 0};
    char c;
    while (::poll(&ready, 1, 10000) == 1 && ::read(out[0], &c, 1) == 1 && c != '\n') port += c;
    ::close(out[0]);
  }
  ~TlsServer() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
  pid_t pid = -1;
  std::string port;
};

TEST(Download, OverHttpsWithTheCertificateVerified) {
  if (std::system("command -v openssl >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1"))
    GTEST_SKIP() << "needs the openssl CLI and python3";
  test::TempDir dir;
  const std::string cert = dir / "cert.pem", key = dir / "key.pem";
  const auto made = test::run_command(
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
      "-addext subjectAltName=DNS:localhost -keyout " +
      key + " -out " + cert);
  ASSERT_EQ(made.exit_code, 0) << made.out;
  const TlsServer server(cert, key);
  ASSERT_FALSE(server.port.empty()) << "the python TLS server did not start";
  const std::string origin = "https://localhost:" + server.port;
  std::string body;
  for (int i = 0; i < 4096; ++i)
    for (int b = 0; b < 256; ++b) body += static_cast<char>(b);
  FetchOptions o;
  o.ca_file = cert;
  o.progress = false;
  for (const std::string path : {"/len", "/eof"}) {
    const DownloadTarget t{origin + path, dir / ("file" + path.substr(1)),
                           static_cast<int64_t>(body.size()), sha256_hex(body), path};
    Fetcher(o).download(t);
    EXPECT_EQ(read_file(t.path), body) << path;
  }
  o.ca_file = "";  // the system store does not know this certificate
  const std::string e = error_of([&] {
    Fetcher(o).download({origin + "/len", dir / "untrusted", -1, "", "untrusted"});
  });
  EXPECT_HAS(e, "certificate verify failed");
}

// ---------------------------------------------------------------------------------------------
// The real huggingface_hub, from the venv.

std::string python() {
  const char* p = std::getenv("R1_PYTHON");
  return p && *p ? p : ".venv/bin/python";
}

// Downloads tiny-r1's files (and chat_template.jinja, which it lacks: .no_exist) with
// hf_hub_download, or reads them back offline, printing each local path.
constexpr char kHfScript[] = R"(
import sys
from huggingface_hub import hf_hub_download, scan_cache_dir
from huggingface_hub.errors import EntryNotFoundError
endpoint, cache, files = sys.argv[1], sys.argv[2], sys.argv[3:]
for f in files:
    try:
        print(hf_hub_download("org/tiny-r1", f, cache_dir=cache, endpoint=endpoint))
    except EntryNotFoundError:
        print("absent", f)
for repo in scan_cache_dir(cache).repos:
    for rev in repo.revisions:
        print("scan", repo.repo_id, rev.commit_hash, sorted(rev.refs), rev.nb_files)
)";

TEST(HubPython, ACacheWrittenByHuggingfaceHubIsReadAsIsAndR1sCacheReadsBack) {
  if (test::run_command(python() + " -c 'import huggingface_hub'").exit_code != 0)
    GTEST_SKIP() << "no huggingface_hub in " << python() << " (scripts/setup.sh makes the venv)";
  FakeHub hub;
  test::TempDir dir;
  write_file_atomic(dir / "hf.py", kHfScript);
  std::string files;
  for (const auto& f : kTinyFiles) files += " " + f;
  files += " chat_template.jinja chat_template.json";
  const std::string run =
      "env -u HF_TOKEN " + python() + " " + (dir / "hf.py") + " " + hub.endpoint() + " ";
  // huggingface_hub writes, r1 reads without a request.
  auto r = test::run_command("HF_HUB_OFFLINE=0 " + run + (dir / "by-hf") + files);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_HAS(r.out, "absent chat_template.jinja");
  EXPECT_HAS(r.out, "absent chat_template.json");
  EXPECT_HAS(r.out, "scan org/tiny-r1 " + kCommit + " ['main'] 5");
  const size_t before = hub.requests();
  const std::string snapshot = dir / ("by-hf/models--org--tiny-r1/snapshots/" + kCommit);
  EXPECT_EQ(resolve_model_path("org/tiny-r1", options_for(hub, dir / "by-hf")), snapshot);
  EXPECT_EQ(hub.requests(), before);

  // r1 writes the same layout, and huggingface_hub reads it offline.
  resolve_model_path("org/tiny-r1", options_for(hub, dir / "by-r1"));
  EXPECT_EQ(tree(dir / "by-r1/models--org--tiny-r1"), tree(dir / "by-hf/models--org--tiny-r1"));
  r = test::run_command("HF_HUB_OFFLINE=1 " + run + (dir / "by-r1") + files);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  for (const auto& f : kTinyFiles)
    EXPECT_HAS(r.out, dir / ("by-r1/models--org--tiny-r1/snapshots/" + kCommit + "/" + f) + "\n");
  EXPECT_HAS(r.out, "absent chat_template.jinja");
  EXPECT_HAS(r.out, "scan org/tiny-r1 " + kCommit + " ['main'] 5");
}

// ---------------------------------------------------------------------------------------------
// The command line.

TEST(HubCli, R1genTakesAHubIdAndSaysOfflineWhatIsMissing) {
  FakeHub hub;
  test::TempDir cache;
  const std::string env = "env -u HF_TOKEN HF_HUB_OFFLINE=0 HF_ENDPOINT=" + hub.endpoint() +
                          " HF_HUB_CACHE=" + cache.path() + " ";
  const std::string args = " --prompt-ids 1,2,3 --max-new-tokens 4 --json";
  const auto local = test::run_command(test::bin("r1gen") + " --model " + kTiny + args);
  ASSERT_EQ(local.exit_code, 0) << local.out;
  const auto hubbed = test::run_command(env + test::bin("r1gen") + " --model org/tiny-r1" + args);
  ASSERT_EQ(hubbed.exit_code, 0) << hubbed.out;
  EXPECT_HAS(hubbed.out, local.out);
  const auto offline = test::run_command(env + "HF_HUB_OFFLINE=1 " + test::bin("r1gen") +
                                         " --model org/other" + args);
  EXPECT_EQ(offline.exit_code, 1);
  EXPECT_HAS(offline.out, "r1gen: error: org/other@main: HF_HUB_OFFLINE is set");
}

TEST(HubCli, R1tokAndR1convertTakeHubIdsAndATokenizerBringsNoWeights) {
  FakeHub hub;
  hub.repos["org/tiny-r1"].files["additional_chat_templates/plain.jinja"] =
      "{{ messages[0].content }}!";
  test::TempDir cache, out;
  const std::string env = "env -u HF_TOKEN HF_HUB_OFFLINE=0 HF_ENDPOINT=" + hub.endpoint() +
                          " HF_HUB_CACHE=" + cache.path() + " ";
  const auto chat =
      test::run_command("echo '[{\"role\": \"user\", \"content\": \"hi\"}]' | " + env +
                        test::bin("r1tok") + " chat --tokenizer org/tiny-r1 --chat-template plain");
  ASSERT_EQ(chat.exit_code, 0) << chat.out;
  EXPECT_EQ(chat.out, "hi!");
  int weights = 0;
  for (const auto& line : hub.log()) weights += line.find("model.safetensors") != std::string::npos;
  EXPECT_EQ(weights, 0) << "a tokenizer fetched the weights";
  const auto conv = test::run_command(env + test::bin("r1convert") + " to-gguf org/tiny-r1 --out " +
                                      (out / "t.gguf") + " --type f32");
  ASSERT_EQ(conv.exit_code, 0) << conv.out;
  EXPECT_TRUE(fs::exists(out / "t.gguf"));
}

}  // namespace
}  // namespace r1
