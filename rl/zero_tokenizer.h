// The tiny R1-Zero's tokenizer, written as Hugging Face files: byte-level BPE over the full
// 256-byte alphabet (id = byte value) plus a few whole-word merges of the task's and R1's prompt
// words, the DeepSeek-R1 added tokens and a pad token, and a minimal DeepSeek-R1 chat template
// (user turn, then the assistant turn forced to start with "<think>\n"). Leaves out merge training:
// digits stay single tokens, which is what arithmetic wants.
#pragma once

#include <cstdint>  // int64_t
#include <string>   // std::string

namespace r1 {

// The added tokens, as DeepSeek-R1 names them. BOS, EOS and PAD are special (skipped by
// decode(skip_special_tokens)); User/Assistant/<think>/</think> are plain added tokens, as in R1.
inline constexpr const char* kZeroBos = "<｜begin▁of▁sentence｜>";
inline constexpr const char* kZeroEos = "<｜end▁of▁sentence｜>";
inline constexpr const char* kZeroPad = "<｜▁pad▁｜>";
inline constexpr const char* kZeroUser = "<｜User｜>";
inline constexpr const char* kZeroAssistant = "<｜Assistant｜>";
inline constexpr const char* kZeroThinkOpen = "<think>";
inline constexpr const char* kZeroThinkClose = "</think>";

// Ids of the special tokens and the size of the vocabulary (one past the largest id).
struct ZeroTokenIds {
  int64_t bos = 0, eos = 0, pad = 0;
  int64_t vocab_size = 0;
};
ZeroTokenIds zero_token_ids();

// tokenizer.json text: NFC, Qwen2's split regex + ByteLevel, BPE, TemplateProcessing that prepends
// BOS (as R1-Distill: encode chat prompts with add_special_tokens=false), ByteLevel decoder.
std::string zero_tokenizer_json();
// tokenizer_config.json text: bos/eos/pad, added_tokens_decoder and the chat template.
std::string zero_tokenizer_config_json();
// The chat template (Jinja) in tokenizer_config.json; r1 renders it as "deepseek-r1".
std::string zero_chat_template();

// Writes tokenizer.json and tokenizer_config.json into `dir` (created); byte-identical every time.
void write_zero_tokenizer(const std::string& dir);

}  // namespace r1
