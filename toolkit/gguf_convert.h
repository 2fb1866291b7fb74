// Conversions between GGUF files and Hugging Face checkpoint directories, so GGUF models run in
// transformers and r1-trained checkpoints go to llama.cpp and Ollama users. Leaves out quantizing
// to anything but Q8_0, and tokenizers other than gpt2-style byte-level BPE (refused by name).
#pragma once

#include <torch/types.h>  // at::ScalarType

#include <string>  // std::string

#include "toolkit/gguf_quants.h"  // r1::GgmlType

namespace r1 {

// GGUF -> `out_dir` (created; refused when it exists and is not empty): config.json,
// generation_config.json, model.safetensors in `dtype`, tokenizer.json, tokenizer_config.json
// (special tokens and chat template) and chat_template.jinja, loadable by transformers and r1.
void gguf_to_hf(const std::string& gguf_path, const std::string& out_dir, at::ScalarType dtype);

// The tokenizer files of a checkpoint made from a GGUF file, into the existing `dir`:
// tokenizer.json, tokenizer_config.json, chat_template.jinja (when the file has a template) and
// generation_config.json. Used by gguf_to_hf and by trainers whose input model is a GGUF file.
void write_gguf_tokenizer_files(const std::string& gguf_path, const std::string& dir);

// Hugging Face checkpoint directory -> a GGUF file: weights as `type` (F32, F16, BF16 or Q8_0;
// norms and biases stay F32, as llama.cpp's converter keeps them), llama.cpp's metadata keys,
// the tokenizer and the chat template. Refuses an existing `out_path`.
void hf_to_gguf(const std::string& dir, const std::string& out_path, GgmlType type);

}  // namespace r1
