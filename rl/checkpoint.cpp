// Checkpoint directories, RNG state and the metrics log (see checkpoint.h). Every file of a
// checkpoint is written with fsync; the directory is fsync'd, renamed into place and its parent
// fsync'd, so after a crash a step-N directory is either absent or complete.
#include "rl/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>           // at::detail::getDefaultCPUGenerator
#include <ATen/detail/CUDAHooksInterface.h>  // at::detail::getCUDAHooks
#include <fcntl.h>                           // open
#include <torch/torch.h>                     // torch::from_blob
#include <unistd.h>                          // fsync, close, getpid

#include <cerrno>      // errno
#include <cstring>     // std::strerror
#include <filesystem>  // std::filesystem
#include <mutex>       // std::lock_guard

#include "rl/optim.h"              // r1::AdamW
#include "toolkit/error.h"         // r1::Error, r1::check
#include "toolkit/fs.h"            // r1::read_file, r1::write_file_atomic
#include "toolkit/gguf.h"          // r1::is_gguf_file
#include "toolkit/gguf_convert.h"  // r1::write_gguf_tokenizer_files
#include "toolkit/json.h"          // r1::dump_json, r1::parse_json
#include "toolkit/safetensors.h"   // r1::safetensors_save

namespace r1 {
namespace {

namespace fs = std::filesystem;

// Files of a Hugging Face checkpoint besides the weights that a trained model keeps.
const char* const kTokenizerFiles[] = {"tokenizer.json",
                                       "tokenizer_config.json",
                                       "generation_config.json",
                                       "special_tokens_map.json",
                                       "vocab.json",
                                       "merges.txt",
                                       "added_tokens.json",
                                       "chat_template.jinja"};

void fsync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) throw Error(dir + ": cannot open to sync (" + std::strerror(errno) + ")");
  const int rc = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  if (rc != 0) throw Error(dir + ": fsync failed (" + std::strerror(saved) + ")");
}

std::optional<int64_t> step_of(const std::string& name) {
  if (name.rfind("step-", 0) != 0 || name.size() == 5) return std::nullopt;
  for (size_t i = 5; i < name.size(); ++i)
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
  return std::stoll(name.substr(5));
}

std::string to_hex(const torch::Tensor& bytes) {
  static const char* digits = "0123456789abcdef";
  auto b = bytes.contiguous();
  const auto* p = b.data_ptr<uint8_t>();
  std::string out;
  out.reserve(b.numel() * 2);
  for (int64_t i = 0; i < b.numel(); ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

torch::Tensor from_hex(const std::string& hex, const std::string& origin) {
  check(hex.size() % 2 == 0, origin + ": RNG state is not hex bytes");
  auto nibble = [&](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    throw Error(origin + ": RNG state is not hex bytes");
  };
  auto t = torch::empty({static_cast<int64_t>(hex.size() / 2)}, torch::kUInt8);
  auto* p = t.data_ptr<uint8_t>();
  for (size_t i = 0; i < hex.size(); i += 2)
    p[i / 2] = static_cast<uint8_t>(nibble(hex[i]) * 16 + nibble(hex[i + 1]));
  return t;
}

}  // namespace

std::string checkpoint_dir(const std::string& root, int64_t step) {
  char name[32];
  std::snprintf(name, sizeof name, "step-%06lld", static_cast<long long>(step));
  return (fs::path(root) / name).string();
}

std::vector<std::pair<int64_t, std::string>> list_checkpoints(const std::string& root) {
  std::vector<std::pair<int64_t, std::string>> out;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return out;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    const auto step = step_of(entry.path().filename().string());
    if (step && fs::exists(entry.path() / kTrainerStateFile, ec))
      out.emplace_back(*step, entry.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<std::pair<int64_t, std::string>> latest_checkpoint(const std::string& root) {
  auto all = list_checkpoints(root);
  if (all.empty()) return std::nullopt;
  return all.back();
}

void remove_partial_checkpoints(const std::string& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return;
  std::vector<fs::path> stale;
  for (const auto& entry : fs::directory_iterator(root, ec))
    if (entry.path().filename().string().rfind(".tmp-", 0) == 0) stale.push_back(entry.path());
  for (const auto& p : stale) fs::remove_all(p, ec);
}

std::string write_checkpoint(const CheckpointConfig& config, int64_t step,
                             const CheckpointContent& content) {
  check(content.model != nullptr, "write_checkpoint: no model");
  const std::string final_dir = checkpoint_dir(config.root, step);
  const fs::path tmp = fs::path(config.root) / (".tmp-" + fs::path(final_dir).filename().string() +
                                                "-" + std::to_string(::getpid()));
  std::error_code ec;
  try {
    fs::create_directories(config.root);
    fs::remove_all(tmp);
    fs::create_directories(tmp);
    auto before = [&](const std::string& name) {
      if (config.before_write) config.before_write((tmp / name).string());
    };
    before("model.safetensors");
    save_transformer(*content.model, tmp.string());
    if (is_gguf_file(content.tokenizer_dir)) {
      before("tokenizer.json");
      write_gguf_tokenizer_files(content.tokenizer_dir, tmp.string());
    } else if (!content.tokenizer_dir.empty())
      for (const char* name : kTokenizerFiles) {
        const fs::path src = fs::path(content.tokenizer_dir) / name;
        if (!fs::exists(src)) continue;
        before(name);
        write_file_atomic((tmp / name).string(), read_file(src.string()));
      }
    before(kTrainerTensorsFile);
    safetensors_save((tmp / kTrainerTensorsFile).string(), content.tensors);
    // The state file goes last: its presence marks a complete checkpoint.
    before(kTrainerStateFile);
    write_file_atomic((tmp / kTrainerStateFile).string(), dump_json(content.state, 2) + "\n");
    fsync_dir(tmp.string());
    if (fs::exists(final_dir)) {  // a rewrite of the same step: move the old one out of the way
      const fs::path old = tmp.string() + ".old";
      fs::rename(final_dir, old);
      fs::rename(tmp, final_dir);
      fs::remove_all(old, ec);
    } else {
      fs::rename(tmp, final_dir);
    }
    fsync_dir(config.root);
  } catch (const std::exception& e) {
    fs::remove_all(tmp, ec);
    const auto previous = latest_checkpoint(config.root);
    throw Error("checkpoint " + final_dir + " was not written (" + e.what() + "); " +
                (previous ? "the newest intact checkpoint is " + previous->second
                          : std::string("there is no earlier checkpoint")));
  }
  if (config.keep_last > 0) {
    auto all = list_checkpoints(config.root);
    for (size_t i = 0; i + static_cast<size_t>(config.keep_last) < all.size(); ++i) {
      // The state file first: a prune cut short leaves an incomplete, ignored directory.
      fs::remove(fs::path(all[i].second) / kTrainerStateFile, ec);
      fs::remove_all(all[i].second, ec);
    }
  }
  return final_dir;
}

nlohmann::json torch_rng_state() {
  nlohmann::json j;
  {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    j["cpu"] = to_hex(gen.get_state());
  }
  j["cuda"] = nlohmann::json::array();
  const auto& hooks = at::detail::getCUDAHooks();
  if (hooks.hasCUDA())
    for (int i = 0; i < hooks.getNumGPUs(); ++i) {
      at::Generator gen = hooks.getDefaultGenerator(static_cast<c10::DeviceIndex>(i));
      std::lock_guard<std::mutex> lock(gen.mutex());
      j["cuda"].push_back(to_hex(gen.get_state()));
    }
  return j;
}

void set_torch_rng_state(const nlohmann::json& state, const std::string& origin) {
  check(state.is_object() && state.contains("cpu") && state["cpu"].is_string(),
        origin + ": field \"rng\" has no CPU generator state");
  {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(from_hex(state["cpu"].get<std::string>(), origin));
  }
  const auto& hooks = at::detail::getCUDAHooks();
  if (!hooks.hasCUDA() || !state.contains("cuda") || !state["cuda"].is_array()) return;
  const auto& cuda = state["cuda"];
  for (int i = 0; i < hooks.getNumGPUs() && i < static_cast<int>(cuda.size()); ++i) {
    at::Generator gen = hooks.getDefaultGenerator(static_cast<c10::DeviceIndex>(i));
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(from_hex(cuda[i].get<std::string>(), origin));
  }
}

MetricsLog::MetricsLog(const std::string& path, std::optional<int64_t> keep_through_step)
    : path_(path) {
  if (keep_through_step && fs::exists(path)) {
    const std::string text = read_file(path);
    std::string kept;
    size_t begin = 0;
    while (begin < text.size()) {
      size_t end = text.find('\n', begin);
      if (end == std::string::npos) break;  // a torn last line of a killed run
      const std::string line = text.substr(begin, end - begin);
      begin = end + 1;
      const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded()) continue;
      if (j.contains("step") && j["step"].is_number_integer() &&
          j["step"].get<int64_t>() > *keep_through_step)
        continue;
      kept += line + "\n";
    }
    write_file_atomic(path, kept);
  }
  file_ = std::fopen(path.c_str(), "ab");
  if (file_ == nullptr)
    throw Error(path + ": cannot open for appending (" + std::strerror(errno) + ")");
}

MetricsLog::~MetricsLog() {
  if (file_ != nullptr) std::fclose(file_);
}

void MetricsLog::write(const nlohmann::json& line) {
  const std::string text = dump_json(line) + "\n";
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size() || std::fflush(file_) != 0)
    throw Error(path_ + ": write failed (" + std::strerror(errno) + ")");
}

void load_optimizer_state(AdamW& opt, const std::string& dir) {
  const std::string path = (fs::path(dir) / kTrainerTensorsFile).string();
  SafetensorsFile tensors(path);
  opt.load_state(
      [&](const std::string& name) {
        return tensors.find(name) ? tensors.tensor(name) : torch::Tensor();
      },
      path);
}

}  // namespace r1
