// Hub ids and the hub cache (see hf_hub.h). One resolution is a Hub: the reference, the repo's
// cache folder and one Fetcher (keep-alive to the hub) made on the first request.
#include "toolkit/hf_hub.h"

#include <nlohmann/json.hpp>  // nlohmann::json

#include <algorithm>     // std::find
#include <cctype>        // std::isalnum, std::toupper
#include <cstdint>       // int64_t
#include <cstdio>        // std::fprintf
#include <cstdlib>       // std::getenv
#include <filesystem>    // std::filesystem
#include <memory>        // std::unique_ptr
#include <set>           // std::set
#include <system_error>  // std::error_code
#include <vector>        // std::vector

#include "toolkit/download.h"  // r1::Fetcher, r1::url_encode, r1::reply_excerpt
#include "toolkit/error.h"     // r1::Error, r1::check
#include "toolkit/fs.h"        // r1::read_file, r1::write_file_atomic, r1::unique_tmp_path
#include "toolkit/json.h"      // r1::parse_json
#include "toolkit/text.h"      // r1::trim_space

namespace r1 {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The checkpoint's small files, fetched when the repo has them; the weights come after.
const std::vector<std::string> kCheckpointFiles = {"config.json",         "generation_config.json",
                                                   "tokenizer.json",      "tokenizer_config.json",
                                                   "chat_template.jinja", "chat_template.json"};
// What a tokenizer alone needs (r1tok, r1eval --tokenizer): no config, no weights.
const std::vector<std::string> kTokenizerFiles = {"tokenizer.json", "tokenizer_config.json",
                                                  "chat_template.jinja", "chat_template.json"};

// additional_chat_templates/NAME.jinja: a model's named chat templates, as transformers loads them.
bool is_extra_chat_template(const std::string& f) {
  const std::string dir = "additional_chat_templates/";
  return f.size() > dir.size() + 6 && f.compare(0, dir.size(), dir) == 0 &&
         f.compare(f.size() - 6, 6, ".jinja") == 0 && f.find('/', dir.size()) == std::string::npos;
}
const std::string kIndex = "model.safetensors.index.json";
const std::string kWeights = "model.safetensors";

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

bool env_true(const char* name) {
  std::string v = env(name);
  for (char& c : v) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return v == "1" || v == "ON" || v == "YES" || v == "TRUE";
}

std::string expand_home(const std::string& path) {
  if (path == "~" || path.rfind("~/", 0) == 0) return env("HOME") + path.substr(1);
  return path;
}

bool is_hex(const std::string& s, size_t n) {
  return s.size() == n && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}
bool is_commit(const std::string& s) { return is_hex(s, 40); }

// An ORG or NAME: letters, digits, '-', '_', '.'; starting and ending with a letter, digit or
// '_'; no "--" or ".." (huggingface_hub's validate_repo_id).
bool valid_id_part(const std::string& s) {
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (s.empty() || !word(s.front()) || !word(s.back())) return false;
  for (char c : s) {
    if (!word(c) && c != '-' && c != '.') return false;
  }
  return s.find("--") == std::string::npos && s.find("..") == std::string::npos;
}

// A relative path inside a repo or the cache: no empty, "." or ".." segment, no backslash or
// control character.
bool valid_relative_path(const std::string& p) {
  if (p.empty() || p.front() == '/' || p.back() == '/') return false;
  for (char c : p) {
    if (static_cast<unsigned char>(c) < ' ' || c == '\\') return false;
  }
  for (const auto& seg : fs::path(p)) {
    if (seg == "." || seg == ".." || seg.empty()) return false;
  }
  return p.find("//") == std::string::npos;
}

// A git ref name or commit as a cache path (refs/REVISION): no whitespace, ':' or "..".
bool valid_revision(const std::string& r) {
  return valid_relative_path(r) && r.find_first_of(" :~^?*[") == std::string::npos &&
         r.find("..") == std::string::npos;
}

// ETag: "abc" or W/"abc" -> abc (huggingface_hub's _normalize_etag).
std::string normalize_etag(std::string etag) {
  if (etag.rfind("W/", 0) == 0) etag = etag.substr(2);
  while (!etag.empty() && etag.front() == '"') etag.erase(0, 1);
  while (!etag.empty() && etag.back() == '"') etag.pop_back();
  return etag;
}

std::string hf_home() {
  if (const std::string h = env("HF_HOME"); !h.empty()) return expand_home(h);
  const std::string xdg = env("XDG_CACHE_HOME");
  return (xdg.empty() ? env("HOME") + "/.cache" : expand_home(xdg)) + "/huggingface";
}

std::string read_token() {
  for (const char* var : {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"}) {
    if (const std::string t = trim_space(env(var)); !t.empty()) return t;
  }
  const std::string path =
      env("HF_TOKEN_PATH").empty() ? hf_home() + "/token" : expand_home(env("HF_TOKEN_PATH"));
  std::error_code ec;
  return fs::is_regular_file(path, ec) ? trim_space(read_file(path)) : "";
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// The shard files a model.safetensors.index.json names (its weight_map values), sorted.
std::vector<std::string> index_shards(const fs::path& index) {
  const json j = parse_json(read_file(index.string()), index.string());
  check(j.is_object() && j.contains("weight_map") && j["weight_map"].is_object(),
        index.string() + ": no weight_map object");
  std::set<std::string> shards;
  for (const auto& [tensor, file] : j["weight_map"].items()) {
    check(file.is_string() && valid_relative_path(file.get<std::string>()),
          index.string() + ": weight_map[\"" + tensor + "\"] is not a file name in the repo");
    shards.insert(file.get<std::string>());
  }
  return {shards.begin(), shards.end()};
}

// What the hub's file API says about one file (huggingface_hub's HfFileMetadata).
struct FileMeta {
  std::string commit;    // X-Repo-Commit
  std::string etag;      // X-Linked-Etag (LFS: the sha256) or ETag (the git blob sha1)
  int64_t size = -1;     // X-Linked-Size, else Content-Length; -1 unknown
  std::string location;  // where the bytes are: a CDN redirect's target or the resolve URL
};

struct RevisionInfo {
  std::string sha;                    // the commit
  std::vector<std::string> siblings;  // every file of the repo at that commit
};

class Hub {
 public:
  Hub(HubRef ref, const HubOptions& options)
      : ref_(std::move(ref)),
        options_(options),
        repo_dir_(hub_repo_dir(options.cache_dir, ref_.repo)) {}

  std::string checkpoint();
  std::string single_file();
  std::string tokenizer();

 private:
  std::string cached_commit() const;
  fs::path snapshot(const std::string& commit) const { return repo_dir_ / "snapshots" / commit; }
  fs::path no_exist(const std::string& commit, const std::string& file) const {
    return repo_dir_ / ".no_exist" / commit / file;
  }
  std::vector<std::string> missing_checkpoint_files(const std::string& commit) const;
  [[noreturn]] void offline_error(const std::string& commit, const std::string& missing) const;
  [[noreturn]] void status_error(const FetchResult& r, const std::string& file) const;
  Fetcher& net();
  RevisionInfo revision_info();
  std::vector<std::string> checkpoint_files(const RevisionInfo& info) const;
  FileMeta file_meta(const std::string& file, const std::string& revision);
  fs::path fetch_file(const std::string& file, const std::string& revision, std::string* commit);
  void link_blob(const fs::path& blob, const fs::path& pointer) const;
  void write_ref(const std::string& commit) const;

  HubRef ref_;
  const HubOptions& options_;
  fs::path repo_dir_;
  std::unique_ptr<Fetcher> fetcher_;
};

// The commit `ref_.revision` names in the cache: itself when it is a commit hash, else the
// content of refs/REVISION; "" when the cache has no such ref.
std::string Hub::cached_commit() const {
  if (is_commit(ref_.revision)) return ref_.revision;
  const fs::path ref = repo_dir_ / "refs" / ref_.revision;
  std::error_code ec;
  return fs::is_regular_file(ref, ec) ? trim_space(read_file(ref.string())) : "";
}

// The files a checkpoint needs that snapshot COMMIT lacks: config.json, tokenizer.json (unless
// .no_exist records that the repo has none) and the weights (model.safetensors, or the index and
// every shard it names). Empty when the snapshot can be used as it is.
std::vector<std::string> Hub::missing_checkpoint_files(const std::string& commit) const {
  const fs::path dir = snapshot(commit);
  std::error_code ec;
  auto has = [&](const std::string& f) { return fs::exists(dir / f, ec); };
  std::vector<std::string> missing;
  for (const std::string f : {"config.json", "tokenizer.json"}) {
    if (!has(f) && !fs::exists(no_exist(commit, f), ec)) missing.push_back(f);
  }
  if (has(kIndex)) {
    for (const auto& shard : index_shards(dir / kIndex)) {
      if (!has(shard)) missing.push_back(shard);
    }
  } else if (!has(kWeights)) {
    missing.push_back(kWeights);
  }
  return missing;
}

void Hub::offline_error(const std::string& commit, const std::string& missing) const {
  std::error_code ec;
  const std::string held = commit.empty() ? "does not hold it (no refs/" + ref_.revision + ")"
                           : !fs::is_directory(snapshot(commit), ec)
                               ? "has no snapshot " + commit
                               : "holds commit " + commit + " without " + missing;
  throw Error(ref_.str() + ": HF_HUB_OFFLINE is set and the hub cache " + repo_dir_.string() + " " +
              held + "; unset HF_HUB_OFFLINE to download it");
}

void Hub::status_error(const FetchResult& r, const std::string& file) const {
  const std::string code = r.header("X-Error-Code");
  const std::string what = ref_.repo + "@" + ref_.revision;
  const std::string prefix = ref_.str() + ": " + options_.endpoint + " answered HTTP " +
                             std::to_string(r.status) + " for " + r.url + ": ";
  if (r.status == 401 || r.status == 403) {
    const std::string hint =
        options_.token.empty()
            ? "the repo does not exist, or it is private or gated: set HF_TOKEN to a token "
              "that can read it"
            : "HF_TOKEN cannot read it (a gated repo: accept its terms on its hub page; or the "
              "token is invalid, or the repo does not exist)";
    throw Error(prefix + hint);
  }
  if (r.status == 404) {
    if (code == "RevisionNotFound")
      throw Error(prefix + ref_.repo + " has no revision '" + ref_.revision + "'");
    if (code == "EntryNotFound" || (!file.empty() && code != "RepoNotFound"))
      throw Error(prefix + what + " has no file " + file);
    throw Error(prefix + "no model repo " + ref_.repo + " (and no local path of that name)");
  }
  const std::string why = reply_excerpt(r.body);
  throw Error(prefix + (why.empty() ? "unexpected answer" : why));
}

Fetcher& Hub::net() {
  if (fetcher_) return *fetcher_;
  FetchOptions o;
  o.timeout_s = options_.timeout_s;
  o.progress = options_.progress;
  o.auth_origin = options_.endpoint;  // not the CDN a file redirects to
  if (!options_.token.empty()) o.headers.emplace_back("Authorization", "Bearer " + options_.token);
  try {
    split_url(options_.endpoint);
  } catch (const Error& e) {
    throw Error("HF_ENDPOINT: " + std::string(e.what()));
  }
  fetcher_ = std::make_unique<Fetcher>(std::move(o));
  return *fetcher_;
}

// GET /api/models/REPO/revision/REV: the commit and the file list.
RevisionInfo Hub::revision_info() {
  const std::string url = options_.endpoint + "/api/models/" + ref_.repo + "/revision/" +
                          url_encode(ref_.revision, false);
  const FetchResult r = net().fetch("GET", url, Redirects::kSameHost);
  if (r.status != 200) status_error(r, "");
  const json j = parse_json(r.body, url);
  RevisionInfo info;
  check(j.is_object() && j.contains("sha") && j["sha"].is_string() &&
            is_commit(j["sha"].get<std::string>()),
        url + ": the answer has no commit hash (\"sha\"); is HF_ENDPOINT a Hugging Face hub?");
  info.sha = j["sha"].get<std::string>();
  if (j.contains("siblings") && j["siblings"].is_array()) {
    for (const auto& s : j["siblings"]) {
      if (s.is_object() && s.contains("rfilename") && s["rfilename"].is_string())
        info.siblings.push_back(s["rfilename"].get<std::string>());
    }
  }
  return info;
}

// The files to fetch for a checkpoint at this revision: those of kCheckpointFiles the repo has,
// then the index or model.safetensors. Throws naming the repo when it is not a safetensors
// checkpoint (and names its GGUF files, which ORG/NAME:FILE fetches).
std::vector<std::string> Hub::checkpoint_files(const RevisionInfo& info) const {
  auto has = [&](const std::string& f) {
    return std::find(info.siblings.begin(), info.siblings.end(), f) != info.siblings.end();
  };
  std::vector<std::string> ggufs;
  for (const auto& f : info.siblings) {
    if (f.size() > 5 && f.compare(f.size() - 5, 5, ".gguf") == 0) ggufs.push_back(f);
  }
  const std::string where = ref_.str() + " (commit " + info.sha + ")";
  const std::string hint =
      ggufs.empty() ? ""
                    : "; for one of its GGUF files give " + ref_.repo + ":FILE (" +
                          join(std::vector<std::string>(
                              ggufs.begin(), ggufs.begin() + std::min<size_t>(3, ggufs.size()))) +
                          (ggufs.size() > 3 ? ", ..." : "") + ")";
  check(has("config.json"), where + ": no config.json, not a transformers checkpoint" + hint);
  std::vector<std::string> files;
  for (const auto& f : kCheckpointFiles) {
    if (has(f)) files.push_back(f);
  }
  for (const auto& f : info.siblings)
    if (is_extra_chat_template(f)) files.push_back(f);
  check(has(kIndex) || has(kWeights),
        where + ": no model.safetensors or " + kIndex + " (r1 reads safetensors weights)" + hint);
  files.push_back(has(kIndex) ? kIndex : kWeights);
  return files;
}

// HEAD /REPO/resolve/REV/FILE, following only the hub's own (same-host) redirects: a CDN
// redirect's headers carry the metadata (huggingface_hub's get_hf_file_metadata).
FileMeta Hub::file_meta(const std::string& file, const std::string& revision) {
  const std::string url = options_.endpoint + "/" + ref_.repo + "/resolve/" +
                          url_encode(revision, false) + "/" + url_encode(file, true);
  const FetchResult r =
      net().fetch("HEAD", url, Redirects::kSameHost, {{"Accept-Encoding", "identity"}});
  if (r.status >= 400) status_error(r, file);
  const bool redirect = r.status >= 300;
  FileMeta m;
  m.commit = r.header("X-Repo-Commit");
  m.etag = normalize_etag(r.header("X-Linked-Etag").empty() ? r.header("ETag")
                                                            : r.header("X-Linked-Etag"));
  std::string size = r.header("X-Linked-Size");
  if (size.empty() && !redirect) size = r.header("Content-Length");
  if (!size.empty() && size.size() < 19 &&
      size.find_first_not_of("0123456789") == std::string::npos)
    m.size = std::stoll(size);
  m.location = redirect ? resolve_location(r.url, r.header("Location")) : r.url;
  check(is_commit(m.commit), r.url + ": no X-Repo-Commit header with a commit hash (HTTP " +
                                 std::to_string(r.status) +
                                 "); is HF_ENDPOINT a Hugging Face hub?");
  check(valid_relative_path(m.etag) && m.etag.find('/') == std::string::npos,
        r.url + ": no usable ETag header ('" + m.etag + "')");
  return m;
}

// Makes `pointer` a relative symlink to `blob` (as huggingface_hub's _create_symlink: relative to
// the pointer's folder, lexically), replacing it atomically.
void Hub::link_blob(const fs::path& blob, const fs::path& pointer) const {
  fs::create_directories(pointer.parent_path());
  const fs::path target = fs::absolute(blob).lexically_normal().lexically_relative(
      fs::absolute(pointer.parent_path()).lexically_normal());
  const fs::path tmp = unique_tmp_path(pointer.string());
  std::error_code ec;
  fs::remove(tmp, ec);
  fs::create_symlink(target, tmp);
  fs::rename(tmp, pointer);
}

// snapshots/COMMIT/FILE for FILE at `revision`, downloading its blob when the cache lacks it;
// `commit` receives the commit it belongs to.
fs::path Hub::fetch_file(const std::string& file, const std::string& revision,
                         std::string* commit) {
  std::error_code ec;
  if (is_commit(revision) && fs::exists(snapshot(revision) / file, ec)) {
    *commit = revision;
    return snapshot(revision) / file;
  }
  const FileMeta m = file_meta(file, revision);
  *commit = m.commit;
  const fs::path pointer = snapshot(m.commit) / file;
  if (fs::exists(pointer, ec)) return pointer;
  const fs::path blob = repo_dir_ / "blobs" / m.etag;
  net().download({m.location, blob.string(), m.size, is_hex(m.etag, 64) ? m.etag : "",
                  ref_.repo + " " + file});
  link_blob(blob, pointer);
  return pointer;
}

// refs/REVISION := commit (a branch or tag only), atomically and only when it changes.
void Hub::write_ref(const std::string& commit) const {
  if (ref_.revision == commit) return;
  const fs::path ref = repo_dir_ / "refs" / ref_.revision;
  std::error_code ec;
  if (fs::is_regular_file(ref, ec) && trim_space(read_file(ref.string())) == commit) return;
  fs::create_directories(ref.parent_path());
  write_file_atomic(ref.string(), commit);
}

std::string Hub::checkpoint() {
  const std::string cached = cached_commit();
  const auto missing =
      cached.empty() ? std::vector<std::string>{"config.json"} : missing_checkpoint_files(cached);
  if (missing.empty()) return snapshot(cached).string();
  if (options_.offline) offline_error(cached, join(missing));
  const RevisionInfo info = revision_info();
  if (options_.progress)
    std::fprintf(stderr, "r1: fetching %s (commit %s) into %s\n", ref_.str().c_str(),
                 info.sha.c_str(), repo_dir_.c_str());
  std::string commit;
  for (const auto& f : checkpoint_files(info)) fetch_file(f, info.sha, &commit);
  for (const auto& f : kCheckpointFiles) {  // as huggingface_hub records a 404: .no_exist/COMMIT/F
    if (std::find(info.siblings.begin(), info.siblings.end(), f) != info.siblings.end()) continue;
    fs::create_directories(no_exist(info.sha, f).parent_path());
    write_file_atomic(no_exist(info.sha, f).string(), "");
  }
  const fs::path index = snapshot(info.sha) / kIndex;
  std::error_code ec;
  if (fs::exists(index, ec)) {
    for (const auto& shard : index_shards(index)) fetch_file(shard, info.sha, &commit);
  }
  write_ref(info.sha);
  return snapshot(info.sha).string();
}

// tokenizer.json and the files beside it that a tokenizer and its chat templates need.
std::string Hub::tokenizer() {
  const std::string cached = cached_commit();
  std::error_code ec;
  if (!cached.empty() && fs::exists(snapshot(cached) / "tokenizer.json", ec))
    return snapshot(cached).string();
  if (options_.offline) offline_error(cached, "tokenizer.json");
  const RevisionInfo info = revision_info();
  auto has = [&](const std::string& f) {
    return std::find(info.siblings.begin(), info.siblings.end(), f) != info.siblings.end();
  };
  check(has("tokenizer.json"),
        ref_.str() + " (commit " + info.sha + "): no tokenizer.json (r1 reads tokenizer.json)");
  std::string commit;
  for (const auto& f : kTokenizerFiles)
    if (has(f)) fetch_file(f, info.sha, &commit);
  for (const auto& f : info.siblings)
    if (is_extra_chat_template(f)) fetch_file(f, info.sha, &commit);
  write_ref(info.sha);
  return snapshot(info.sha).string();
}

std::string Hub::single_file() {
  const std::string cached = cached_commit();
  std::error_code ec;
  if (!cached.empty() && fs::exists(snapshot(cached) / ref_.file, ec))
    return (snapshot(cached) / ref_.file).string();
  if (options_.offline) offline_error(cached, ref_.file);
  std::string commit;
  const fs::path path = fetch_file(ref_.file, ref_.revision, &commit);
  write_ref(commit);
  return path.string();
}

}  // namespace

std::string HubRef::str() const { return repo + "@" + revision + (file.empty() ? "" : ":" + file); }

std::optional<HubRef> parse_hub_ref(const std::string& spec) {
  std::error_code ec;
  if (spec.empty() || spec.size() > 1024 || fs::exists(spec, ec)) return std::nullopt;
  HubRef ref;
  std::string head = spec;
  if (const size_t colon = spec.find(':'); colon != std::string::npos) {
    ref.file = spec.substr(colon + 1);
    head = spec.substr(0, colon);
    if (!valid_relative_path(ref.file)) return std::nullopt;
  }
  if (const size_t at = head.find('@'); at != std::string::npos) {
    ref.revision = head.substr(at + 1);
    head = head.substr(0, at);
    if (!valid_revision(ref.revision)) return std::nullopt;
  }
  const size_t slash = head.find('/');
  if (slash == std::string::npos || head.size() > 96) return std::nullopt;
  if (!valid_id_part(head.substr(0, slash)) || !valid_id_part(head.substr(slash + 1)))
    return std::nullopt;
  ref.repo = head;
  return ref;
}

std::string hub_cache_dir() {
  for (const char* var : {"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"}) {
    if (const std::string d = env(var); !d.empty()) return expand_home(d);
  }
  return hf_home() + "/hub";
}

std::string hub_repo_dir(const std::string& cache_dir, const std::string& repo) {
  std::string name = "models--" + repo;
  for (size_t p; (p = name.find('/')) != std::string::npos;) name.replace(p, 1, "--");
  return (fs::path(cache_dir) / name).string();
}

HubOptions hub_options_from_env() {
  HubOptions o;
  if (std::string e = trim_space(env("HF_ENDPOINT")); !e.empty()) {
    while (!e.empty() && e.back() == '/') e.pop_back();
    o.endpoint = e;
  }
  o.cache_dir = hub_cache_dir();
  o.token = read_token();
  o.offline = env_true("HF_HUB_OFFLINE") || env_true("TRANSFORMERS_OFFLINE");
  o.progress = !env_true("HF_HUB_DISABLE_PROGRESS_BARS");
  return o;
}

std::string hub_resolve(const HubRef& ref, const HubOptions& options) {
  Hub hub(ref, options);
  try {
    return ref.file.empty() ? hub.checkpoint() : hub.single_file();
  } catch (const HttpError& e) {
    throw Error(ref.str() + ": cannot reach the hub: " + e.what() +
                " (HF_HUB_OFFLINE=1 uses the cache alone)");
  }
}

std::string resolve_model_path(const std::string& spec, const HubOptions& options) {
  const auto ref = parse_hub_ref(spec);
  return ref ? hub_resolve(*ref, options) : spec;
}

std::string resolve_tokenizer_path(const std::string& spec, const HubOptions& options) {
  const auto ref = parse_hub_ref(spec);
  if (!ref) return spec;
  if (!ref->file.empty()) return hub_resolve(*ref, options);
  Hub hub(*ref, options);
  try {
    return hub.tokenizer();
  } catch (const HttpError& e) {
    throw Error(ref->str() + ": cannot reach the hub: " + e.what() +
                " (HF_HUB_OFFLINE=1 uses the cache alone)");
  }
}

}  // namespace r1
