// The model paths r1's commands accept: a Hugging Face checkpoint directory (config.json +
// safetensors) or a GGUF file, and the checks every command runs on them before loading.
// Leaves out hub ids (ORG/NAME), which resolve to one of these first.
#pragma once

#include <string>  // std::string

namespace r1 {

// A directory holding config.json, or a GGUF file.
bool is_model_path(const std::string& path);
// Throws r1::Error "FLAG PATH: ..." saying what was expected when `path` is neither.
void check_model_path(const std::string& path, const std::string& flag);
// True when the model carries its tokenizer: tokenizer.json in the directory, or any GGUF file
// (its tokenizer is in its metadata).
bool model_has_tokenizer(const std::string& path);
// Throws r1::Error "PATH: no tokenizer.json (WHY)" when the model carries no tokenizer.
void check_model_tokenizer(const std::string& path, const std::string& why);
// sha256 identifying the model's tokenizer: of tokenizer.json, or of the tokenizer.json text a
// GGUF file's metadata gives.
std::string tokenizer_sha256(const std::string& path);

}  // namespace r1
