// Byte-level BPE tokenizer loaded from a Hugging Face tokenizer.json (Qwen2/2.5, DeepSeek-R1
// distills, GPT-2, Llama 3): added tokens, NFC normalizer, Split/ByteLevel pre-tokenizers (regexes
// through PCRE2 with Oniguruma's \s), BPE merges, TemplateProcessing/ByteLevel post-processors and
// the ByteLevel decoder, giving the ids HF `tokenizers` gives. Leaves out WordPiece/Unigram models,
// BPE dropout, byte fallback, offsets and truncation/padding.
#pragma once

#include <nlohmann/json.hpp>  // nlohmann::ordered_json

#include <cstdint>   // int64_t
#include <memory>    // std::shared_ptr
#include <optional>  // std::optional
#include <string>    // std::string
#include <string_view>
#include <vector>  // std::vector

#include "toolkit/utf8.h"  // r1::utf8_lossy (the replacement rule of decode)

namespace r1 {

struct TokenizerImpl;

class Tokenizer {
 public:
  // Reads tokenizer.json at `path`, or DIR/tokenizer.json (plus DIR/tokenizer_config.json for the
  // names of BOS/EOS/pad) when `path` is a directory. Throws r1::Error naming the file and field.
  static Tokenizer load(const std::string& path);
  // Parses tokenizer.json text; `origin` names it in errors.
  static Tokenizer parse(const std::string& json_text, const std::string& origin);

  // Text (UTF-8; invalid bytes are read as U+FFFD, as Python's errors="replace") -> ids.
  // add_special_tokens applies the post-processor (e.g. the BOS of R1-Distill). Added tokens in
  // the text (<think>, <｜User｜>...) are always recognised, as HF does.
  std::vector<int64_t> encode(std::string_view text, bool add_special_tokens = false) const;
  // Encodes many texts on `threads` threads (0 = all cores); results in input order.
  std::vector<std::vector<int64_t>> encode_batch(const std::vector<std::string>& texts,
                                                 bool add_special_tokens = false,
                                                 int threads = 0) const;
  // Ids -> text; bytes that do not form UTF-8 become U+FFFD and ids past the tokenizer's
  // vocabulary (models often have more rows) are skipped, as HF does; negative ids throw.
  std::string decode(const std::vector<int64_t>& ids, bool skip_special_tokens = false) const;

  int64_t vocab_size() const;  // one past the largest id
  std::optional<int64_t> token_to_id(const std::string& token) const;
  std::string id_to_token(int64_t id) const;  // the token string as in tokenizer.json
  bool is_special(int64_t id) const;

  // Named special tokens: from tokenizer_config.json when loaded from a directory (ids from
  // config.json when tokenizer_config.json does not name them); the reasoning delimiters when the
  // vocabulary has "<think>" and "</think>".
  std::optional<int64_t> bos_id, eos_id, pad_id, think_open_id, think_close_id;
  std::string bos_token, eos_token;

 private:
  std::shared_ptr<const TokenizerImpl> impl_;
  friend class StreamDecoder;
};

// Incremental decoding for streaming: push ids, get back only complete UTF-8 text; bytes of a
// character split across tokens are held until it completes.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tok, bool skip_special_tokens = false)
      : tok_(tok), skip_special_(skip_special_tokens) {}
  std::string push(int64_t id);
  std::string flush();  // whatever is held, invalid bytes as U+FFFD

 private:
  const Tokenizer& tok_;
  bool skip_special_;
  std::string pending_;
};

// GPT-2's byte alphabet (byte-level BPE): the character standing for byte `b` (printable Latin-1
// for itself, U+0100.. for the rest), and whether code point `cp` is one of those 256.
uint32_t byte_alphabet_char(unsigned char b);
bool in_byte_alphabet(uint32_t cp);

// tokenizer.json's "model" object for a plain byte-level BPE (no dropout, unk or byte fallback),
// as HF tokenizers writes it, for the tokenizers r1 writes itself.
nlohmann::ordered_json bpe_model_json(nlohmann::ordered_json vocab, nlohmann::ordered_json merges);

}  // namespace r1
