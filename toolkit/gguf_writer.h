// Writes GGUF version 3 files (little-endian, alignment 32): typed metadata and tensors stored as
// F32, F16, BF16 or Q8_0, written atomically. Leaves out the other quantized types (r1 dequantizes
// them but does not quantize to them).
#pragma once

#include <torch/types.h>  // torch::Tensor

#include <cstdint>  // uint32_t, int32_t
#include <string>   // std::string
#include <vector>   // std::vector

#include "toolkit/gguf_quants.h"  // r1::GgmlType

namespace r1 {

class GgufWriter {
 public:
  void add_u32(const std::string& key, uint32_t v);
  void add_i32(const std::string& key, int32_t v);
  void add_u64(const std::string& key, uint64_t v);
  void add_f32(const std::string& key, float v);
  void add_bool(const std::string& key, bool v);
  void add_string(const std::string& key, const std::string& v);
  void add_strings(const std::string& key, const std::vector<std::string>& v);
  void add_i32s(const std::string& key, const std::vector<int32_t>& v);

  // `t` (torch order, any float dtype; kept by reference until write) stored as `type`: F32, F16,
  // BF16, or Q8_0 (its last dimension a multiple of 32). Throws r1::Error naming it otherwise.
  void add_tensor(const std::string& name, const torch::Tensor& t, GgmlType type);

  // Writes everything to `path` atomically (temp file + rename); throws r1::Error naming it.
  void write(const std::string& path) const;

 private:
  struct Tensor {
    std::string name;
    torch::Tensor data;
    GgmlType type;
    uint64_t bytes = 0;
  };
  std::string kv_;  // the encoded key-value section
  uint64_t n_kv_ = 0;
  std::vector<Tensor> tensors_;
  void key(const std::string& k, uint32_t type);
};

}  // namespace r1
