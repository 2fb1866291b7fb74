// r1eval's native backend over a model that is already in memory (the trainer's live policy), so a
// held-out evaluation during training reads the current weights with no checkpoint and no copy.
// Generation is the engine's, as make_native_backend's; the tokenizer, chat template and stop ids
// come from a checkpoint directory. Leaves out loading weights (make_native_backend does that).
#pragma once

#include <cstdint>  // int64_t
#include <memory>   // std::shared_ptr, std::unique_ptr
#include <string>   // std::string

#include "evals/backend.h"        // r1::Backend
#include "toolkit/transformer.h"  // r1::Transformer

namespace r1 {

struct LiveBackendOptions {
  std::string tokenizer_dir;  // tokenizer.json, tokenizer_config.json, generation_config.json
  std::string chat_template;  // a format name or .jinja file; empty: the directory's
  std::string name;           // the model's identity in run.json (e.g. "RUN@step-000010")
  int64_t max_batch = 64;     // sequences decoded together
  int64_t max_context = 0;    // 0: the model's
};

// A Backend generating with `model` as it is at each generate() call. Throws r1::Error naming the
// directory when the tokenizer or template cannot be loaded.
std::unique_ptr<Backend> make_live_backend(std::shared_ptr<Transformer> model,
                                           const LiveBackendOptions& options);

}  // namespace r1
