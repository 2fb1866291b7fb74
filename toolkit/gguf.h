// GGUF files (llama.cpp's format, versions 2 and 3, little-endian): a memory-mapped reader that
// validates the header, metadata and tensor table before touching data, and exposes metadata as
// JSON and tensors dequantized to a torch dtype. Leaves out version 1 and big-endian files
// (refused by name); writing lives in gguf_writer.h.
#pragma once

#include <torch/types.h>      // torch::Tensor, at::ScalarType
#include <nlohmann/json.hpp>  // nlohmann::json

#include <cstdint>  // int64_t, uint64_t, uint32_t
#include <map>      // std::map
#include <memory>   // std::shared_ptr
#include <string>   // std::string
#include <vector>   // std::vector

#include "toolkit/fs.h"  // r1::MappedFile

namespace r1 {

// The type codes of GGUF metadata values (gguf_type in ggml's gguf.h), for the reader and the
// writer.
namespace gguf_value {
enum ValueType : uint32_t {
  kU8 = 0,
  kI8 = 1,
  kU16 = 2,
  kI16 = 3,
  kU32 = 4,
  kI32 = 5,
  kF32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kU64 = 10,
  kI64 = 11,
  kF64 = 12,
};
}  // namespace gguf_value

// One entry of the tensor table.
struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> dims;  // ggml order: dims[0] is the innermost (contiguous) dimension
  uint32_t type = 0;          // ggml_type (see gguf_quants.h)
  uint64_t offset = 0;        // from the start of the data section
  uint64_t bytes = 0;         // stored size
  // The torch shape: dims reversed (outermost first), as gguf-py and transformers see it.
  std::vector<int64_t> shape() const { return {dims.rbegin(), dims.rend()}; }
  int64_t elements() const;
};

class GgufFile {
 public:
  // Maps and parses `path`; throws r1::Error naming the file and the offending field.
  explicit GgufFile(const std::string& path);

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  // Every key-value pair: integers and floats as JSON numbers, bool, strings (bytes as stored),
  // arrays as JSON arrays.
  const nlohmann::json& metadata() const { return metadata_; }
  // The value at `key`, or throws r1::Error naming the file and key when absent.
  const nlohmann::json& at(const std::string& key) const;
  bool has(const std::string& key) const { return metadata_.contains(key); }

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find(const std::string& name) const;
  // The stored bytes of a tensor (inside the mapping; valid while this object lives).
  const uint8_t* data(const GgufTensorInfo& t) const;
  // The tensor dequantized (see gguf_quants.h) to `dtype`, shape t.shape(); throws naming the
  // tensor and type when its type is one r1 does not dequantize.
  torch::Tensor tensor(const GgufTensorInfo& t, at::ScalarType dtype = at::kFloat) const;

 private:
  std::string path_;
  std::shared_ptr<MappedFile> map_;
  uint32_t version_ = 0;
  nlohmann::json metadata_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, size_t> index_;
  uint64_t data_begin_ = 0;
};

// True when `path` is a regular file that starts with the GGUF magic (a cheap check for loaders
// that take a checkpoint directory or a .gguf file).
bool is_gguf_file(const std::string& path);

}  // namespace r1
