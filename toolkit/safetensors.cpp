// safetensors reader and writer (see safetensors.h). The format: 8-byte little-endian header
// length N, N bytes of JSON, then the data section that the JSON's data_offsets index into.
#include "toolkit/safetensors.h"

#include <fcntl.h>     // open
#include <sys/mman.h>  // mmap
#include <sys/stat.h>  // fstat
#include <unistd.h>    // close, fsync

#include <algorithm>   // std::sort
#include <cerrno>      // errno
#include <cstring>     // std::strerror, std::memcpy
#include <filesystem>  // std::filesystem
#include <fstream>     // std::ifstream

#include <nlohmann/json.hpp>  // nlohmann::json

#include "toolkit/error.h"  // r1::Error, r1::check
#include "toolkit/fs.h"     // r1::write_file_atomic, r1::read_file
#include "toolkit/json.h"   // r1::parse_json

namespace r1 {
namespace {

// Headers above this size are refused: real ones are a few MB at most.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

struct DTypeName {
  const char* name;
  at::ScalarType dtype;
};
constexpr DTypeName kDTypes[] = {
    {"F64", at::kDouble},
    {"F32", at::kFloat},
    {"F16", at::kHalf},
    {"BF16", at::kBFloat16},
    {"I64", at::kLong},
    {"I32", at::kInt},
    {"I16", at::kShort},
    {"I8", at::kChar},
    {"U8", at::kByte},
    {"BOOL", at::kBool},
    {"F8_E4M3", at::kFloat8_e4m3fn},
    {"F8_E5M2", at::kFloat8_e5m2},
};

}  // namespace

at::ScalarType safetensors_dtype(const std::string& name, const std::string& origin) {
  for (const auto& d : kDTypes)
    if (name == d.name) return d.dtype;
  throw Error(origin + ": unsupported dtype \"" + name + "\"");
}

std::string safetensors_dtype_name(at::ScalarType dtype) {
  for (const auto& d : kDTypes)
    if (dtype == d.dtype) return d.name;
  throw Error(std::string("safetensors: cannot store dtype ") + c10::toString(dtype));
}

SafetensorsHeader safetensors_parse_header(const std::string& text, uint64_t data_size,
                                           const std::string& origin) {
  const nlohmann::json j = parse_json(text, origin + ": header");
  check(j.is_object(), origin + ": header is not a JSON object");
  SafetensorsHeader h;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const auto& v = it.value();
    if (key == "__metadata__") {
      check(v.is_object(), origin + ": __metadata__ is not an object");
      for (auto m = v.begin(); m != v.end(); ++m) {
        check(m.value().is_string(), origin + ": __metadata__." + m.key() + " is not a string");
        h.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const std::string where = origin + ": tensor \"" + key + "\"";
    check(v.is_object(), where + " is not an object");
    check(v.contains("dtype") && v["dtype"].is_string(), where + ": missing string field dtype");
    check(v.contains("shape") && v["shape"].is_array(), where + ": missing array field shape");
    check(
        v.contains("data_offsets") && v["data_offsets"].is_array() && v["data_offsets"].size() == 2,
        where + ": data_offsets must be an array of two integers");
    SafetensorsEntry e;
    e.name = key;
    e.dtype = safetensors_dtype(v["dtype"].get<std::string>(), where);
    uint64_t numel = 1;
    bool overflow = false;
    for (const auto& d : v["shape"]) {
      check(d.is_number_unsigned() || (d.is_number_integer() && d.get<int64_t>() >= 0),
            where + ": shape entries must be non-negative integers");
      const uint64_t n = d.get<uint64_t>();
      check(n <= (1ull << 48), where + ": shape entry " + std::to_string(n) + " is too large");
      if (n != 0 && numel > UINT64_MAX / n) overflow = true;
      numel *= n;
      e.shape.push_back(static_cast<int64_t>(n));
    }
    for (const auto& d : v["data_offsets"])
      check(d.is_number_unsigned() || (d.is_number_integer() && d.get<int64_t>() >= 0),
            where + ": data_offsets must be non-negative integers");
    e.begin = v["data_offsets"][0].get<uint64_t>();
    e.end = v["data_offsets"][1].get<uint64_t>();
    check(e.begin <= e.end, where + ": data_offsets begin " + std::to_string(e.begin) +
                                " is after end " + std::to_string(e.end));
    check(e.end <= data_size, where + ": data_offsets end " + std::to_string(e.end) +
                                  " is past the end of the data (" + std::to_string(data_size) +
                                  " bytes): file truncated?");
    const uint64_t elsize = c10::elementSize(e.dtype);
    check(!overflow && numel <= UINT64_MAX / elsize, where + ": shape is too large");
    check(e.end - e.begin == numel * elsize,
          where + ": data_offsets span " + std::to_string(e.end - e.begin) +
              " bytes but dtype and shape need " + std::to_string(numel * elsize));
    h.entries.push_back(std::move(e));
  }
  std::sort(h.entries.begin(), h.entries.end(), [](const auto& a, const auto& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  for (size_t i = 1; i < h.entries.size(); ++i)
    check(h.entries[i].begin >= h.entries[i - 1].end, origin + ": tensors \"" +
                                                          h.entries[i - 1].name + "\" and \"" +
                                                          h.entries[i].name + "\" overlap");
  return h;
}

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
  map_ = map_file(path, 8, "a safetensors file");
  const uint64_t size = map_->size;
  const auto* bytes = map_->data;
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
  check(n <= kMaxHeaderBytes, path + ": header length " + std::to_string(n) + " is implausible");
  check(n <= size - 8, path + ": header length " + std::to_string(n) +
                           " is past the end of the file (" + std::to_string(size) + " bytes)");
  header_ = safetensors_parse_header(std::string(reinterpret_cast<const char*>(bytes + 8), n),
                                     size - 8 - n, path);
  for (size_t i = 0; i < header_.entries.size(); ++i) index_[header_.entries[i].name] = i;
}

const SafetensorsEntry* SafetensorsFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &header_.entries[it->second];
}

torch::Tensor SafetensorsFile::tensor(const std::string& name) const {
  const SafetensorsEntry* e = find(name);
  check(e != nullptr, path_ + ": no tensor named \"" + name + "\"");
  const auto* bytes = map_->data;
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
  void* data = map_->data + 8 + n + e->begin;
  auto keep = map_;
  return torch::from_blob(
      data, e->shape, [keep](void*) {}, torch::TensorOptions().dtype(e->dtype));
}

SafetensorsCheckpoint::SafetensorsCheckpoint(const std::string& path) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  if (fs::is_directory(path)) {
    const fs::path dir(path);
    const fs::path index = dir / "model.safetensors.index.json";
    if (fs::exists(index)) {
      const nlohmann::json j = read_json_file(index.string());
      check(j.is_object() && j.contains("weight_map") && j["weight_map"].is_object(),
            index.string() + ": missing object field weight_map");
      std::map<std::string, size_t> shard_of_file;
      std::map<std::string, std::string> expected;  // tensor -> shard file name
      for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
        check(it.value().is_string(),
              index.string() + ": weight_map." + it.key() + " is not a file name");
        const std::string shard = it.value().get<std::string>();
        check(shard.find('/') == std::string::npos,
              index.string() + ": weight_map." + it.key() + " names a path outside the directory");
        expected[it.key()] = shard;
        if (!shard_of_file.count(shard)) {
          shard_of_file[shard] = files_.size();
          files_.push_back(std::make_unique<SafetensorsFile>((dir / shard).string()));
        }
      }
      for (const auto& [name, shard] : expected) {
        const size_t f = shard_of_file[shard];
        check(files_[f]->find(name) != nullptr,
              index.string() + ": tensor \"" + name + "\" is not in its shard " + shard);
        where_[name] = f;
      }
      return;
    }
    const fs::path single = dir / "model.safetensors";
    check(fs::exists(single), path + ": no model.safetensors or model.safetensors.index.json");
    files.push_back(single.string());
  } else {
    check(fs::exists(path), path + ": no such file or directory");
    files.push_back(path);
  }
  for (const auto& f : files) {
    files_.push_back(std::make_unique<SafetensorsFile>(f));
    for (const auto& e : files_.back()->header().entries) where_[e.name] = files_.size() - 1;
  }
}

const SafetensorsEntry& SafetensorsCheckpoint::entry(const std::string& name) const {
  auto it = where_.find(name);
  check(it != where_.end(), "checkpoint has no tensor named \"" + name + "\"");
  return *files_[it->second]->find(name);
}

torch::Tensor SafetensorsCheckpoint::tensor(const std::string& name) const {
  auto it = where_.find(name);
  check(it != where_.end(), (files_.empty() ? std::string("checkpoint") : files_[0]->path()) +
                                ": no tensor named \"" + name + "\"");
  return files_[it->second]->tensor(name);
}

const std::string& SafetensorsCheckpoint::file_of(const std::string& name) const {
  return files_[where_.at(name)]->path();
}

std::vector<std::string> SafetensorsCheckpoint::names() const {
  std::vector<std::string> out;
  for (const auto& [name, f] : where_) out.push_back(name);
  return out;
}

void safetensors_save(const std::string& path,
                      const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<torch::Tensor> data;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    check(name != "__metadata__", path + ": a tensor cannot be named __metadata__");
    check(!header.contains(name), path + ": tensor \"" + name + "\" given twice");
    auto c = t.detach().to(torch::kCPU).contiguous();
    const uint64_t n = static_cast<uint64_t>(c.nbytes());
    header[name] = {{"dtype", safetensors_dtype_name(c.scalar_type())},
                    {"shape", c.sizes().vec()},
                    {"data_offsets", {offset, offset + n}}};
    offset += n;
    data.push_back(std::move(c));
  }
  std::string h = header.dump();
  h.append((8 - h.size() % 8) % 8, ' ');  // pad so the data section starts 8-byte aligned
  write_file_atomic(path, [&](std::FILE* f) {
    unsigned char len[8];
    uint64_t n = h.size();
    for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>((n >> (8 * i)) & 0xff);
    bool ok = std::fwrite(len, 1, 8, f) == 8 && std::fwrite(h.data(), 1, h.size(), f) == h.size();
    for (const auto& c : data) ok = ok && std::fwrite(c.data_ptr(), 1, c.nbytes(), f) == c.nbytes();
    return ok;
  });
}

}  // namespace r1
