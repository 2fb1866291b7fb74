// GGUF reader (see gguf.h). The layout: magic "GGUF", u32 version, u64 tensor count, u64 key-value
// count, the key-value pairs (string key, u32 value type, value), the tensor infos (name, u32
// n_dims, u64 dims, u32 ggml type, u64 offset), padding to general.alignment (default 32), the
// data.
#include "toolkit/gguf.h"

#include <ATen/Parallel.h>  // at::parallel_for

#include <cstring>     // std::memcpy
#include <filesystem>  // std::filesystem
#include <fstream>     // std::ifstream

#include "toolkit/error.h"        // r1::Error, r1::check
#include "toolkit/fs.h"           // r1::map_file
#include "toolkit/gguf_quants.h"  // r1::dequantize, r1::ggml_block

namespace r1 {
namespace {

using nlohmann::json;

using namespace gguf_value;          // kU8 ... kF64
constexpr int kMaxDims = 4;          // GGML_MAX_DIMS
constexpr int kMaxArrayNesting = 4;  // arrays of arrays, as far as anyone writes them
constexpr uint64_t kDefaultAlignment = 32;

// Bounds-checked little-endian reads over the mapping; every error names the file and the field.
class Cursor {
 public:
  Cursor(const uint8_t* data, uint64_t size, const std::string& path)
      : data_(data), size_(size), path_(path) {}

  uint64_t pos() const { return pos_; }
  uint64_t left() const { return size_ - pos_; }
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(path_ + ": " + what + " (at byte " + std::to_string(pos_) + ")");
  }
  const uint8_t* take(uint64_t n, const std::string& field) {
    if (n > left()) fail(field + " runs past the end of the file");
    const uint8_t* p = data_ + pos_;
    pos_ += n;
    return p;
  }
  template <typename T>
  T get(const std::string& field) {
    T v;
    std::memcpy(&v, take(sizeof(T), field), sizeof(T));
    return v;
  }
  std::string string(const std::string& field) {
    const auto n = get<uint64_t>(field + " length");
    const uint8_t* p = take(n, field);
    return {reinterpret_cast<const char*>(p), static_cast<size_t>(n)};
  }

 private:
  const uint8_t* data_;
  uint64_t size_;
  uint64_t pos_ = 0;
  const std::string& path_;
};

// The smallest stored size of one value of `type`, so an array's length can be checked against
// the bytes left before anything is allocated.
uint64_t min_value_bytes(uint32_t type) {
  switch (type) {
    case kU8:
    case kI8:
    case kBool:
      return 1;
    case kU16:
    case kI16:
      return 2;
    case kU32:
    case kI32:
    case kF32:
      return 4;
    case kU64:
    case kI64:
    case kF64:
    case kString:
      return 8;
    case kArray:
      return 12;
    default:
      return 0;
  }
}

json read_value(Cursor& c, uint32_t type, const std::string& key, int depth);

json read_array(Cursor& c, const std::string& key, int depth) {
  if (depth >= kMaxArrayNesting)
    c.fail(key + ": arrays nested deeper than " + std::to_string(kMaxArrayNesting));
  const auto type = c.get<uint32_t>(key + " array type");
  const auto n = c.get<uint64_t>(key + " array length");
  const uint64_t min = min_value_bytes(type);
  if (min == 0) c.fail(key + ": unknown array element type " + std::to_string(type));
  if (n > c.left() / min)
    c.fail(key + ": array length " + std::to_string(n) + " is past the end of the file");
  json a = json::array();
  a.get_ref<json::array_t&>().reserve(static_cast<size_t>(n));
  for (uint64_t i = 0; i < n; ++i) a.push_back(read_value(c, type, key, depth + 1));
  return a;
}

json read_value(Cursor& c, uint32_t type, const std::string& key, int depth) {
  switch (type) {
    case kU8:
      return c.get<uint8_t>(key);
    case kI8:
      return c.get<int8_t>(key);
    case kU16:
      return c.get<uint16_t>(key);
    case kI16:
      return c.get<int16_t>(key);
    case kU32:
      return c.get<uint32_t>(key);
    case kI32:
      return c.get<int32_t>(key);
    case kU64:
      return c.get<uint64_t>(key);
    case kI64:
      return c.get<int64_t>(key);
    case kF32:
      return static_cast<double>(c.get<float>(key));
    case kF64:
      return c.get<double>(key);
    case kBool: {
      const auto b = c.get<uint8_t>(key);
      if (b > 1) c.fail(key + ": bool value " + std::to_string(b) + " is neither 0 nor 1");
      return b == 1;
    }
    case kString:
      return c.string(key);
    case kArray:
      return read_array(c, key, depth);
    default:
      c.fail(key + ": unknown value type " + std::to_string(type));
  }
}

// The byte size of a tensor of type `type` with `dims`, checking the row fits whole blocks.
uint64_t tensor_bytes(const GgufTensorInfo& t, Cursor& c) {
  const auto block = ggml_block(t.type);
  if (!block)
    c.fail("tensor \"" + t.name + "\" has type " + ggml_type_name(t.type) +
           ", which r1 does not dequantize (supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, "
           "Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K)");
  if (t.dims[0] % block->elements != 0)
    c.fail("tensor \"" + t.name + "\": row length " + std::to_string(t.dims[0]) +
           " is not a multiple of " + ggml_type_name(t.type) + "'s block of " +
           std::to_string(block->elements));
  return static_cast<uint64_t>(t.elements() / block->elements) * block->bytes;
}

GgufTensorInfo read_tensor_info(Cursor& c) {
  GgufTensorInfo t;
  t.name = c.string("tensor name");
  const auto n_dims = c.get<uint32_t>("tensor \"" + t.name + "\" n_dims");
  if (n_dims == 0 || n_dims > kMaxDims)
    c.fail("tensor \"" + t.name + "\" has " + std::to_string(n_dims) + " dimensions (1 to 4)");
  uint64_t elements = 1;
  for (uint32_t d = 0; d < n_dims; ++d) {
    const auto n = c.get<uint64_t>("tensor \"" + t.name + "\" dims");
    if (n == 0 || n > (1ull << 40) || elements > (1ull << 40) / n)
      c.fail("tensor \"" + t.name + "\" has an implausible dimension " + std::to_string(n));
    elements *= n;
    t.dims.push_back(static_cast<int64_t>(n));
  }
  t.type = c.get<uint32_t>("tensor \"" + t.name + "\" type");
  t.offset = c.get<uint64_t>("tensor \"" + t.name + "\" offset");
  return t;
}

// Checks each tensor's data lies inside the file and on the alignment.
void check_tensor_data(std::vector<GgufTensorInfo>& tensors, Cursor& c, uint64_t data_size,
                       uint64_t alignment) {
  for (auto& t : tensors) {
    t.bytes = tensor_bytes(t, c);
    if (t.offset % alignment != 0)
      c.fail("tensor \"" + t.name + "\" offset " + std::to_string(t.offset) +
             " is not a multiple of the alignment " + std::to_string(alignment));
    if (t.offset > data_size || t.bytes > data_size - t.offset)
      c.fail("tensor \"" + t.name + "\" data (" + std::to_string(t.bytes) + " bytes at offset " +
             std::to_string(t.offset) + ") runs past the end of the file");
  }
}

uint64_t alignment_of(const json& metadata, Cursor& c) {
  if (!metadata.contains("general.alignment")) return kDefaultAlignment;
  const auto& a = metadata["general.alignment"];
  if (!a.is_number_unsigned() || a.get<uint64_t>() == 0 ||
      (a.get<uint64_t>() & (a.get<uint64_t>() - 1)) != 0)
    c.fail("general.alignment " + a.dump() + " is not a power of two");
  return a.get<uint64_t>();
}

}  // namespace

int64_t GgufTensorInfo::elements() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

GgufFile::GgufFile(const std::string& path) : path_(path) {
  map_ = map_file(path, 4, "a GGUF file");
  Cursor c(map_->data, map_->size, path_);
  const uint8_t* magic = c.take(4, "magic");
  if (std::memcmp(magic, "GGUF", 4) != 0) c.fail("not a GGUF file (no \"GGUF\" magic)");
  version_ = c.get<uint32_t>("version");
  if (version_ == 1) c.fail("GGUF version 1 is not supported (convert it with a newer llama.cpp)");
  if ((version_ & 0xFFFF) == 0 && version_ != 0) c.fail("big-endian GGUF files are not supported");
  if (version_ != 2 && version_ != 3) c.fail("unknown GGUF version " + std::to_string(version_));
  const auto n_tensors = c.get<uint64_t>("tensor count");
  const auto n_kv = c.get<uint64_t>("key-value count");
  if (n_kv > c.left() / 12) c.fail("key-value count " + std::to_string(n_kv) + " is implausible");
  metadata_ = json::object();
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key = c.string("metadata key");
    const auto type = c.get<uint32_t>(key + " value type");
    json v = read_value(c, type, key, 0);
    if (metadata_.contains(key)) c.fail("metadata key \"" + key + "\" appears twice");
    metadata_[key] = std::move(v);
  }
  if (n_tensors > c.left() / 24)
    c.fail("tensor count " + std::to_string(n_tensors) + " is implausible");
  for (uint64_t i = 0; i < n_tensors; ++i) {
    tensors_.push_back(read_tensor_info(c));
    if (!index_.emplace(tensors_.back().name, i).second)
      c.fail("tensor \"" + tensors_.back().name + "\" appears twice");
  }
  const uint64_t alignment = alignment_of(metadata_, c);
  data_begin_ = (c.pos() + alignment - 1) / alignment * alignment;
  const uint64_t size = map_->size;
  const uint64_t data_size = data_begin_ <= size ? size - data_begin_ : 0;
  check_tensor_data(tensors_, c, data_size, alignment);
}

const nlohmann::json& GgufFile::at(const std::string& key) const {
  auto it = metadata_.find(key);
  check(it != metadata_.end(), path_ + ": no metadata key \"" + key + "\"");
  return *it;
}

const GgufTensorInfo* GgufFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

const uint8_t* GgufFile::data(const GgufTensorInfo& t) const {
  return map_->data + data_begin_ + t.offset;
}

torch::Tensor GgufFile::tensor(const GgufTensorInfo& t, at::ScalarType dtype) const {
  const auto block = ggml_block(t.type);
  check(block.has_value(), path_ + ": tensor \"" + t.name + "\" has type " +
                               ggml_type_name(t.type) + ", which r1 does not dequantize");
  auto out = torch::empty(t.shape(), torch::kFloat);
  const uint8_t* src = data(t);
  float* dst = out.data_ptr<float>();
  const int64_t n_blocks = t.elements() / block->elements;
  const auto type = static_cast<GgmlType>(t.type);
  // Blocks are independent: split them over threads in chunks of 4096.
  at::parallel_for(0, n_blocks, 4096, [&](int64_t b0, int64_t b1) {
    dequantize(type, src + b0 * block->bytes, (b1 - b0) * block->elements,
               dst + b0 * block->elements);
  });
  return dtype == at::kFloat ? out : out.to(dtype);
}

bool is_gguf_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return false;
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::memcmp(magic, "GGUF", 4) == 0;
}

}  // namespace r1
