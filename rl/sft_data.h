// SFT data: chat-formatted JSONL rows ({"messages": [...]} or {"prompt", "response"}) rendered with
// the checkpoint's chat template and tokenized into ids plus a loss mask over the response, padded
// batches, and the seeded per-epoch order with a resumable position. Leaves out packing (the
// transformer's attention cannot isolate packed segments) and loss on assistant turns other than
// the last one (earlier turns are context, rendered as the template renders history).
#pragma once

#include <torch/types.h>  // torch::Tensor

#include <nlohmann/json.hpp>  // nlohmann::json

#include <cstdint>  // int64_t, uint64_t
#include <string>   // std::string
#include <vector>   // std::vector

#include "toolkit/chat_template.h"  // r1::ChatTemplate
#include "toolkit/tokenizer.h"      // r1::Tokenizer

namespace r1 {

// How rows become token sequences.
struct SftDataConfig {
  int64_t max_length = 4096;  // tokens per sequence (prompt + response); longer rows are errors
  bool truncate = false;      // cut the response of a too-long row instead (the prompt must fit)
};

// One training sequence. The prompt is rendered with the template's generation prompt (for
// DeepSeek-R1: "...<｜Assistant｜><think>\n"); the response is the reply's text (a leading
// "<think>\n" the prompt already forces is not repeated) followed by the template's end of turn.
struct SftExample {
  std::vector<int64_t> ids;   // prompt then response tokens
  int64_t prompt_tokens = 0;  // ids[0, prompt_tokens) are the prompt; the loss covers the rest
  int64_t line = 0;           // 1-based line of the row in its file
};

// The tokenizer and template a dataset is encoded with (both from the checkpoint directory).
struct SftEncoder {
  const Tokenizer* tokenizer = nullptr;
  ChatTemplate chat;
  SftDataConfig config;
};

// Encodes one parsed row. `where` ("FILE:LINE") starts every error, which names the field:
// missing or mistyped fields, a last message that is not the assistant's, roles the template cannot
// render, a prompt that does not fit the context, a too-long row without truncation.
SftExample encode_sft_row(const nlohmann::ordered_json& row, const SftEncoder& enc,
                          const std::string& where);
// Reads a JSONL file (blank lines skipped); errors name FILE:LINE.
std::vector<SftExample> load_sft_file(const std::string& path, const SftEncoder& enc);

// A right-padded batch. Shapes: B rows, T the longest row.
struct SftBatch {
  torch::Tensor ids;        // (B, T) int64, pad_id at padding
  torch::Tensor positions;  // (B, T) int64, 0.. per row
  torch::Tensor valid;      // (B, T) bool, false at padding; undefined when no row is padded
                            // (plain causal attention, which the fast SDPA kernels take)
  torch::Tensor predict;    // (B*T) int64: flat indices t whose hidden state predicts a response
                            // token (ids at t+1 is in the response)
  torch::Tensor targets;    // (N) int64: the response token each `predict` row predicts
  int64_t tokens = 0;       // N, the response tokens that carry loss
};
SftBatch make_sft_batch(const std::vector<const SftExample*>& rows, int64_t pad_id,
                        torch::Device device = torch::kCPU);

// The order of epoch `epoch`: a permutation of [0, n) by Fisher-Yates over a splitmix64 stream
// seeded from (seed, epoch), identical on every platform.
std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch);

// Walks a dataset epoch after epoch in seeded order; the position (epoch, offset) is all a resume
// needs.
class SftSampler {
 public:
  SftSampler(int64_t rows, uint64_t seed) : rows_(rows), seed_(seed) {}
  // The next `count` row indices, crossing into the next epoch (a new order) when one ends.
  std::vector<int64_t> next(int64_t count);
  int64_t epoch() const { return epoch_; }
  int64_t offset() const { return offset_; }  // rows of the current epoch already taken
  void seek(int64_t epoch, int64_t offset);

 private:
  int64_t rows_;
  uint64_t seed_;
  int64_t epoch_ = 0, offset_ = 0;
  std::vector<int64_t> order_;  // of epoch_, built lazily
};

}  // namespace r1
