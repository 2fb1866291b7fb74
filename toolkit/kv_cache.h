// KV cache for batched decoding: per layer K and V of shape (B, Hkv, S, D), one row per sequence,
// right-aligned at slot 0 (a row's token at position p lives in slot p). Rows are independent:
// each has its own length, so sequences join and leave the batch at any step (continuous batching).
// Leaves out paging and prefix sharing across rows beyond the copy at admission.
#pragma once

#include <torch/types.h>  // torch::Tensor

#include <cstdint>  // int64_t
#include <vector>   // std::vector

#include "toolkit/model_config.h"  // r1::ModelConfig

namespace r1 {

class KVCache {
 public:
  KVCache() = default;
  // Room for `rows` sequences of up to `capacity` tokens; grows on demand up to `max_capacity`.
  KVCache(const ModelConfig& config, int64_t rows, int64_t capacity, int64_t max_capacity,
          torch::TensorOptions options);

  int64_t rows() const { return rows_; }
  int64_t capacity() const { return capacity_; }
  // Makes room for slots [0, needed): doubles the capacity (copying) until it fits.
  void reserve(int64_t needed);
  // Copies the K/V of one prefilled sequence (per layer (Hkv, L, D)) into row `row`, slots [0, L).
  void write_prefix(int64_t row, const std::vector<torch::Tensor>& k,
                    const std::vector<torch::Tensor>& v);
  // Copies row `from` onto row `to` (slots [0, length)); used to keep active rows contiguous.
  void move_row(int64_t from, int64_t to, int64_t length);

  std::vector<torch::Tensor> k, v;  // per layer, (rows, Hkv, capacity, D)

 private:
  int64_t rows_ = 0, capacity_ = 0, max_capacity_ = 0;
};

}  // namespace r1
