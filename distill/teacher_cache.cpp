// Teacher top-K and its on-disk cache (see teacher_cache.h). A file is a safetensors file (so
// Python can read it) whose __metadata__ carries the format, the key and the data's SHA-256.
#include "distill/teacher_cache.h"

#include <torch/torch.h>  // torch ops

#include <algorithm>   // std::min
#include <cmath>       // std::isfinite
#include <cstdio>      // std::snprintf
#include <filesystem>  // std::filesystem
#include <limits>      // std::numeric_limits
#include <map>         // std::map
#include <utility>     // std::move

#include "toolkit/error.h"        // r1::Error, r1::check
#include "toolkit/safetensors.h"  // r1::SafetensorsFile, r1::safetensors_save
#include "toolkit/sha256.h"       // r1::sha256_hex

namespace r1 {
namespace {

constexpr const char* kFormat = "r1-teacher-topk/1";

std::string format_double(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// SHA-256 of the bytes of contiguous CPU tensors, one after the other.
std::string data_digest(const torch::Tensor& ids, const torch::Tensor& logprobs) {
  std::string bytes(static_cast<const char*>(ids.data_ptr()), ids.nbytes());
  bytes.append(static_cast<const char*>(logprobs.data_ptr()), logprobs.nbytes());
  return sha256_hex(bytes);
}

}  // namespace

TeacherTopK teacher_topk(const torch::Tensor& logits, int64_t k, double temperature,
                         int64_t chunk) {
  TORCH_CHECK(logits.dim() >= 1 && logits.is_floating_point(),
              "teacher_topk: logits must be floating point (..., V)");
  const int64_t V = logits.size(-1);
  TORCH_CHECK(k >= 1 && k <= V, "teacher_topk: k must be in [1, V = ", V, "], got ", k);
  TORCH_CHECK(temperature > 0.0 && std::isfinite(temperature),
              "teacher_topk: temperature must be > 0");
  TORCH_CHECK(chunk > 0, "teacher_topk: chunk must be > 0");
  const auto dtype = logits.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
  auto flat = logits.detach().reshape({-1, V});
  const int64_t N = flat.size(0);
  auto ids = torch::empty({N, k}, flat.options().dtype(torch::kInt));
  auto logprobs = torch::empty({N, k}, flat.options().dtype(torch::kFloat));
  for (int64_t i = 0; i < N; i += chunk) {
    const int64_t c = std::min(chunk, N - i);
    auto x = flat.narrow(0, i, c).to(dtype);
    if (temperature != 1.0) x = x / temperature;
    auto [values, indices] = torch::topk(x, k, -1, /*largest=*/true, /*sorted=*/true);
    logprobs.narrow(0, i, c).copy_(values - torch::logsumexp(x, -1, true));
    ids.narrow(0, i, c).copy_(indices);
  }
  auto shape = logits.sizes().vec();
  shape.back() = k;
  return {ids.view(shape), logprobs.view(shape)};
}

TeacherCache::TeacherCache(std::string dir, std::string teacher, int64_t k, double temperature)
    : dir_(std::move(dir)), teacher_(std::move(teacher)), k_(k), temperature_(temperature) {
  check(!dir_.empty(), "teacher cache: the directory is empty");
  check(k_ >= 1, "teacher cache: k = " + std::to_string(k_) + " must be >= 1");
  check(temperature_ > 0.0 && std::isfinite(temperature_),
        "teacher cache: temperature = " + format_double(temperature_) + " must be > 0");
}

std::string TeacherCache::key(const std::vector<int64_t>& tokens) const {
  // Length-prefixed fields, then the ids as little-endian int64: no two inputs share bytes.
  std::string b = std::string(kFormat) + "\nteacher " + std::to_string(teacher_.size()) + ":" +
                  teacher_ + "\nk " + std::to_string(k_) + "\ntemperature " +
                  format_double(temperature_) + "\ntokens " + std::to_string(tokens.size()) + "\n";
  for (int64_t t : tokens) {
    const auto u = static_cast<uint64_t>(t);
    for (int i = 0; i < 8; ++i) b.push_back(static_cast<char>((u >> (8 * i)) & 0xff));
  }
  return sha256_hex(b);
}

std::string TeacherCache::path(const std::vector<int64_t>& tokens) const {
  const std::string k = key(tokens);
  return (std::filesystem::path(dir_) / k.substr(0, 2) / (k + ".safetensors")).string();
}

std::optional<TeacherTopK> TeacherCache::load(const std::vector<int64_t>& tokens) const {
  const std::string file = path(tokens);
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return std::nullopt;
  const std::string fix = "; delete it and its top-K is recomputed";
  try {
    SafetensorsFile f(file);
    const auto& meta = f.header().metadata;
    auto field = [&](const std::string& name) {
      auto it = meta.find(name);
      check(it != meta.end(), file + ": metadata has no \"" + name + "\"");
      return it->second;
    };
    check(field("format") == kFormat,
          file + ": format \"" + field("format") + "\" is not " + kFormat);
    check(field("key") == key(tokens),
          file + ": holds key " + field("key") + ", not the one its name says");
    const auto* ids_e = f.find("ids");
    const auto* lp_e = f.find("logprobs");
    check(ids_e && lp_e, file + ": needs tensors \"ids\" and \"logprobs\"");
    check(ids_e->dtype == torch::kInt && lp_e->dtype == torch::kHalf,
          file + ": ids must be I32 and logprobs F16");
    check(ids_e->shape.size() == 2 && ids_e->shape == lp_e->shape && ids_e->shape[1] == k_,
          file + ": ids and logprobs must both be (P, " + std::to_string(k_) + ")");
    auto ids = f.tensor("ids");
    auto logprobs = f.tensor("logprobs");
    check(data_digest(ids, logprobs) == field("data_sha256"),
          file + ": data does not match its checksum (corrupt)");
    // Copies: the result must not keep the mapping (or the file) alive.
    return TeacherTopK{ids.clone(), logprobs.to(torch::kFloat)};
  } catch (const Error& e) {
    throw Error("teacher cache: " + std::string(e.what()) + fix);
  }
}

void TeacherCache::store(const std::vector<int64_t>& tokens, const TeacherTopK& topk) const {
  check(topk.ids.defined() && topk.logprobs.defined() && topk.ids.dim() == 2 &&
            topk.ids.sizes() == topk.logprobs.sizes() && topk.ids.size(1) == k_,
        "teacher cache: store needs ids and logprobs of shape (P, " + std::to_string(k_) + ")");
  check(!topk.ids.is_floating_point() && topk.logprobs.is_floating_point(),
        "teacher cache: ids must be integer and logprobs floating point");
  auto ids = topk.ids.detach().to(torch::kCPU);
  check(ids.numel() == 0 || (ids.min().item<int64_t>() >= 0 &&
                             ids.max().item<int64_t>() <= std::numeric_limits<int32_t>::max()),
        "teacher cache: token ids must be in [0, 2^31)");
  auto logprobs = topk.logprobs.detach().to(torch::kCPU);
  check(!logprobs.isnan().any().item<bool>(), "teacher cache: logprobs contain NaN");
  ids = ids.to(torch::kInt).contiguous();
  logprobs = logprobs.to(torch::kHalf).contiguous();
  const std::string file = path(tokens);
  std::error_code ec;
  const auto parent = std::filesystem::path(file).parent_path();
  std::filesystem::create_directories(parent, ec);
  check(!ec, "teacher cache: cannot create " + parent.string() + " (" + ec.message() + ")");
  const std::map<std::string, std::string> meta = {{"format", kFormat},
                                                   {"key", key(tokens)},
                                                   {"teacher", teacher_},
                                                   {"k", std::to_string(k_)},
                                                   {"temperature", format_double(temperature_)},
                                                   {"tokens", std::to_string(tokens.size())},
                                                   {"data_sha256", data_digest(ids, logprobs)}};
  safetensors_save(file, {{"ids", ids}, {"logprobs", logprobs}}, meta);
}

}  // namespace r1
