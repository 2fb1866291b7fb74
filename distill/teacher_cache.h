// The teacher's top-K next-token log-probs, computed once from its logits and cached on disk per
// sequence, so logit-level KD runs the teacher once instead of every epoch. Leaves out running the
// teacher (the caller's forward pass gives the logits) and eviction (delete the directory).
#pragma once

#include <torch/types.h>  // torch::Tensor

#include <cstdint>   // int64_t
#include <optional>  // std::optional
#include <string>    // std::string
#include <vector>    // std::vector

namespace r1 {

// K most likely next tokens per position, most likely first, and their log-probs under
// softmax(logits / temperature) over the whole vocabulary (not renormalised over K).
struct TeacherTopK {
  torch::Tensor ids;       // (..., K) int32
  torch::Tensor logprobs;  // (..., K) float32
};

// The top-K of a batch of logits (..., V) (any float dtype and device), `chunk` positions at a
// time so at most a (chunk, V) float32 copy exists besides the logits. Ties keep torch::topk's
// order. Computed in float64 for float64 logits, else float32.
TeacherTopK teacher_topk(const torch::Tensor& logits,  // (..., V)
                         int64_t k, double temperature = 1.0, int64_t chunk = 64);

// A directory of per-sequence top-K files, each `<dir>/<key[0:2]>/<key>.safetensors` holding
// "ids" (P, K) I32 and "logprobs" (P, K) F16: 6 bytes per position and rank plus a header of a
// few hundred bytes. float16 rather than bfloat16: log-probs lie in [-65504, 0], where float16's
// 11-bit significand keeps them to 2^-11 relative (bfloat16's 8 bits: 2^-8), i.e. the
// probabilities to about 0.05% * |log p| (below float16's range a log-prob becomes -inf, a
// probability of 0). The key is the SHA-256 of (teacher, K, temperature, the sequence's token
// ids), so a changed teacher, sequence, K or temperature is a miss, never a stale hit; the file
// also records its key and a SHA-256 of its data, checked on every load. Files are written
// atomically (temp file, fsync, rename): a crash, or writers of one key in different processes,
// leave one whole file.
class TeacherCache {
 public:
  // teacher: the teacher's identity, compared exactly: include what changes its logits (model
  // path and a weights/config digest, dtype, chat template if the tokens differ...). K >= 1,
  // temperature > 0: the values teacher_topk() is called with.
  TeacherCache(std::string dir, std::string teacher, int64_t k, double temperature);

  const std::string& dir() const { return dir_; }
  int64_t k() const { return k_; }
  double temperature() const { return temperature_; }

  // The key and the file of a sequence.
  std::string key(const std::vector<int64_t>& tokens) const;
  std::string path(const std::vector<int64_t>& tokens) const;

  // The sequence's top-K as stored (log-probs rounded to float16, returned as float32); nullopt
  // when no file exists. A file that cannot be read, is truncated, fails its checksum or holds
  // another key throws r1::Error naming it.
  std::optional<TeacherTopK> load(const std::vector<int64_t>& tokens) const;

  // Stores P positions of the sequence: topk.ids (P, K) integer, topk.logprobs (P, K) float, on
  // any device; which positions (usually all of them, row p = the logits after tokens[0..p]) is
  // the caller's convention, and load() returns them unchanged. Replaces an existing file.
  void store(const std::vector<int64_t>& tokens, const TeacherTopK& topk) const;

 private:
  std::string dir_;
  std::string teacher_;
  int64_t k_;
  double temperature_;
};

}  // namespace r1
