// Model paths (see model_source.h).
#include "toolkit/model_source.h"

#include <filesystem>  // std::filesystem

#include "toolkit/error.h"           // r1::check
#include "toolkit/gguf.h"            // r1::GgufFile, r1::is_gguf_file
#include "toolkit/gguf_tokenizer.h"  // r1::gguf_vocab, r1::gguf_tokenizer_json
#include "toolkit/sha256.h"          // r1::sha256_file, r1::sha256_hex

namespace r1 {

namespace fs = std::filesystem;

bool is_model_path(const std::string& path) {
  std::error_code ec;
  return fs::is_regular_file(fs::path(path) / "config.json", ec) || is_gguf_file(path);
}

void check_model_path(const std::string& path, const std::string& flag) {
  if (is_model_path(path)) return;
  std::error_code ec;
  const std::string what = fs::is_directory(path, ec) ? " is a directory without config.json"
                           : fs::exists(path, ec)     ? " is neither a directory nor a GGUF file"
                                                      : " does not exist";
  throw Error(flag + " " + path + what +
              " (a Hugging Face checkpoint directory or a GGUF file is expected)");
}

bool model_has_tokenizer(const std::string& path) {
  std::error_code ec;
  return is_gguf_file(path) || fs::is_regular_file(fs::path(path) / "tokenizer.json", ec);
}

void check_model_tokenizer(const std::string& path, const std::string& why) {
  check(model_has_tokenizer(path), path + ": no tokenizer.json (" + why + ")");
}

std::string tokenizer_sha256(const std::string& path) {
  if (!is_gguf_file(path)) return sha256_file((fs::path(path) / "tokenizer.json").string());
  const GgufFile file(path);
  return sha256_hex(gguf_tokenizer_json(gguf_vocab(file), path));
}

}  // namespace r1
