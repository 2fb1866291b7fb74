// safetensors: zero-copy mmap reader for single files and sharded HF checkpoints
// (model.safetensors.index.json), and an atomic writer. Every header field is validated before
// any byte of data is touched; leaves out the optional alignment of data to the tensor's dtype.
#pragma once

#include <torch/types.h>  // torch::Tensor, at::ScalarType

#include <cstdint>  // uint64_t
#include <map>      // std::map
#include <memory>   // std::shared_ptr
#include <string>   // std::string
#include <utility>  // std::pair
#include <vector>   // std::vector

#include "toolkit/fs.h"  // r1::MappedFile

namespace r1 {

// One tensor's entry in a safetensors header.
struct SafetensorsEntry {
  std::string name;
  at::ScalarType dtype = at::kFloat;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // byte offset into the data section
  uint64_t end = 0;    // one past the last byte
};

// A parsed and validated header.
struct SafetensorsHeader {
  std::vector<SafetensorsEntry> entries;        // sorted by begin offset
  std::map<std::string, std::string> metadata;  // "__metadata__", strings only
};

// Parses the JSON header of a file whose data section is data_size bytes long. Throws r1::Error
// naming `origin` and the offending field on any inconsistency. Pure: used by the fuzz test.
SafetensorsHeader safetensors_parse_header(const std::string& json, uint64_t data_size,
                                           const std::string& origin);

// "F32" <-> at::kFloat and friends; throws r1::Error for names r1 does not know.
at::ScalarType safetensors_dtype(const std::string& name, const std::string& origin);
std::string safetensors_dtype_name(at::ScalarType dtype);

// One file, memory-mapped copy-on-write. Tensors returned by tensor() view the mapping directly
// (no copy) and keep it alive; writing to them never reaches the file.
class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);

  const std::string& path() const { return path_; }
  const SafetensorsHeader& header() const { return header_; }
  const SafetensorsEntry* find(const std::string& name) const;
  torch::Tensor tensor(const std::string& name) const;

 private:
  std::string path_;
  std::shared_ptr<MappedFile> map_;
  SafetensorsHeader header_;
  std::map<std::string, size_t> index_;  // name -> position in header_.entries
};

// The weights of a Hugging Face checkpoint directory: `model.safetensors`, or the shards named by
// `model.safetensors.index.json`. A directory may also be given as the path of a single file.
class SafetensorsCheckpoint {
 public:
  explicit SafetensorsCheckpoint(const std::string& path);

  bool has(const std::string& name) const { return where_.count(name) != 0; }
  const SafetensorsEntry& entry(const std::string& name) const;
  torch::Tensor tensor(const std::string& name) const;  // zero-copy view; throws if absent
  std::vector<std::string> names() const;
  // The file a tensor lives in, for error messages.
  const std::string& file_of(const std::string& name) const;

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, size_t> where_;  // name -> index into files_
};

// Writes tensors (any device, any layout; copied to contiguous CPU) to `path` atomically: a
// temporary file in the same directory is written, fsync'd and renamed over `path`.
void safetensors_save(const std::string& path,
                      const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace r1
