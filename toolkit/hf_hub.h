// Hugging Face hub ids where users type a model path: ORG/NAME[@REVISION] (a checkpoint) and
// ORG/NAME[@REVISION]:FILE (one file, e.g. a .gguf) resolve to files in the hub cache
// (~/.cache/huggingface/hub, its refs/, snapshots/ and blobs/ exactly as huggingface_hub writes
// them), so what huggingface-cli or transformers downloaded is used as it is and what r1
// downloads they use too. Missing files come from the hub's file API (HF_ENDPOINT, HF_TOKEN)
// unless HF_HUB_OFFLINE is set. Leaves out datasets and spaces, uploads, the Xet protocol (files
// come over plain HTTPS), and refreshing a branch: a snapshot complete in the cache is used
// without asking the hub (name a commit, ORG/NAME@COMMIT, to move on).
#pragma once

#include <optional>  // std::optional
#include <string>    // std::string

namespace r1 {

struct HubRef {
  std::string repo;               // "ORG/NAME"
  std::string revision = "main";  // branch, tag or commit hash
  std::string file;               // one file of the repo; "" for the checkpoint
  // "ORG/NAME@REVISION" or "ORG/NAME@REVISION:FILE", for messages.
  std::string str() const;
};

// The hub reference `spec` spells, when it is one (ORG and NAME of letters, digits, '-', '_' and
// '.', as the hub allows) and no local file or directory of that name exists; nullopt otherwise.
std::optional<HubRef> parse_hub_ref(const std::string& spec);

struct HubOptions {
  std::string endpoint = "https://huggingface.co";  // HF_ENDPOINT, no trailing slash
  std::string cache_dir;                            // the hub cache (hub_cache_dir())
  std::string token;      // HF_TOKEN, else the token file `huggingface-cli login` wrote
  bool offline = false;   // HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE): never ask the hub
  bool progress = true;   // a progress line per file on a terminal (HF_HUB_DISABLE_PROGRESS_BARS)
  double timeout_s = 60;  // bounds connecting and each read
};

// HubOptions from the environment, as huggingface_hub reads it.
HubOptions hub_options_from_env();
// HF_HUB_CACHE, else HUGGINGFACE_HUB_CACHE, else HF_HOME/hub, else
// $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub.
std::string hub_cache_dir();
// CACHE/models--ORG--NAME: refs/REVISION (a commit hash), snapshots/COMMIT/FILE (a relative
// symlink to ../../blobs/ETAG), blobs/ETAG (sha256 for LFS files, the git blob sha1 otherwise).
std::string hub_repo_dir(const std::string& cache_dir, const std::string& repo);

// The local path for a --model value: `spec` as it is when it is not a hub id (a local path, a
// preset name), else hub_resolve(its HubRef).
std::string resolve_model_path(const std::string& spec,
                               const HubOptions& options = hub_options_from_env());
// The same for a tokenizer: a hub id brings only tokenizer.json, tokenizer_config.json and the
// chat templates (chat_template.jinja/.json, additional_chat_templates/), not the weights.
std::string resolve_tokenizer_path(const std::string& spec,
                                   const HubOptions& options = hub_options_from_env());
// The snapshot directory of a checkpoint (config.json, generation_config.json, tokenizer files,
// chat_template.jinja, model.safetensors or its index and shards) or the file `ref.file`, from
// the cache, downloading what is missing first. Throws r1::Error naming the repo, revision and
// file: offline and not cached, 401/403 (set HF_TOKEN), 404, a broken or corrupt download.
std::string hub_resolve(const HubRef& ref, const HubOptions& options);

}  // namespace r1
