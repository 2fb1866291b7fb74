// A GGUF file's tokenizer (the tokenizer.ggml.* metadata) as tokenizer.json text that r1::Tokenizer
// parses, giving the ids of the tokenizer transformers builds from the same file
// (from_pretrained(..., gguf_file=...)): gpt2-style byte-level BPE (tokens, merges, token types,
// the pre-tokenizer named by tokenizer.ggml.pre), bos/eos/pad and add_bos/add_eos. Leaves out the
// SentencePiece ("llama"), WordPiece ("bert"), RWKV and T5 vocabularies (refused by name).
#pragma once

#include <nlohmann/json.hpp>  // nlohmann::json

#include <cstdint>   // int64_t, int32_t
#include <optional>  // std::optional
#include <string>    // std::string
#include <vector>    // std::vector

namespace r1 {

class GgufFile;
class Tokenizer;

// The tokenizer.ggml.* fields, as stored.
struct GgufVocab {
  std::string model;                // tokenizer.ggml.model: "gpt2" is the one r1 converts
  std::string pre;                  // tokenizer.ggml.pre: "qwen2", "smollm", "llama-bpe"...
  std::vector<std::string> tokens;  // id -> token text (byte-level unicode for gpt2)
  // id -> 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte
  std::vector<int32_t> token_types;
  std::vector<std::string> merges;  // "a b", rank order
  std::optional<int64_t> bos_id, eos_id, pad_id, unk_id;
  std::optional<bool> add_bos, add_eos;
};

// Reads the tokenizer.ggml.* metadata; throws r1::Error naming the file and field.
GgufVocab gguf_vocab(const GgufFile& file);
// tokenizer.json text for `vocab`; throws r1::Error naming `origin` and the unsupported
// model or pre-tokenizer. One difference from transformers: control and user-defined tokens
// spelled outside the byte alphabet (DeepSeek's "<｜User｜>") stay added tokens at their ids, as in
// llama.cpp and the original tokenizer.json (transformers drops them).
std::string gguf_tokenizer_json(const GgufVocab& vocab, const std::string& origin);
// The tokenizer of the GGUF file at `path`, with bos/eos/pad ids and names from its metadata (what
// Tokenizer::load does for a .gguf path).
Tokenizer load_gguf_tokenizer(const std::string& path);

// The tokenizer.ggml.pre name for a tokenizer.json pre_tokenizer (the inverse of the table above),
// so a Hugging Face tokenizer can be written to GGUF; throws r1::Error naming `origin` when no
// name gives the same pre-tokenization.
std::string gguf_pre_name(const nlohmann::json& pre_tokenizer, const std::string& origin);

}  // namespace r1
