// r1convert: GGUF files <-> Hugging Face checkpoint directories.
//   r1convert inspect FILE.gguf [--tensors] [--dequant-sha256]
//       the metadata (arrays shortened) and, with --tensors, each tensor's name, type and shape;
//       --dequant-sha256 adds the sha256 of each tensor dequantized to float32 (parity checks)
//   r1convert to-hf FILE.gguf --out DIR [--dtype float32|bfloat16|float16]
//   r1convert to-gguf DIR --out FILE.gguf [--type f32|f16|bf16|q8_0]
#include <CLI/CLI.hpp>  // CLI::App

#include <cstdio>  // std::printf

#include "toolkit/cli_flags.h"     // r1::parse_flags
#include "toolkit/cli_main.h"      // r1::guarded_main
#include "toolkit/error.h"         // r1::Error
#include "toolkit/gguf.h"          // r1::GgufFile
#include "toolkit/gguf_convert.h"  // r1::gguf_to_hf, r1::hf_to_gguf
#include "toolkit/gguf_quants.h"   // r1::ggml_type_name
#include "toolkit/hf_hub.h"        // r1::resolve_model_path
#include "toolkit/model_config.h"  // r1::parse_dtype
#include "toolkit/sha256.h"        // r1::sha256_hex

namespace {

// A metadata value for a terminal: arrays as their length and first items, strings cut at 120.
std::string short_value(const nlohmann::json& v) {
  if (v.is_array()) {
    std::string s = "[" + std::to_string(v.size()) + " items";
    for (size_t i = 0; i < std::min<size_t>(v.size(), 3); ++i) s += ", " + v[i].dump();
    return s + (v.size() > 3 ? ", ...]" : "]");
  }
  std::string s = v.dump();
  return s.size() > 120 ? s.substr(0, 117) + "..." : s;
}

void inspect(const std::string& path, bool tensors, bool hashes) {
  const r1::GgufFile f(path);
  std::printf("%s: GGUF v%u, %zu metadata keys, %zu tensors\n", path.c_str(), f.version(),
              f.metadata().size(), f.tensors().size());
  for (const auto& [k, v] : f.metadata().items())
    std::printf("  %s = %s\n", k.c_str(), short_value(v).c_str());
  if (!tensors && !hashes) return;
  for (const auto& t : f.tensors()) {
    std::string shape;
    for (int64_t d : t.shape()) shape += (shape.empty() ? "" : "x") + std::to_string(d);
    std::printf("%s\t%s\t%s", t.name.c_str(), r1::ggml_type_name(t.type).c_str(), shape.c_str());
    if (hashes) {
      const auto x = f.tensor(t, at::kFloat);
      std::printf("\t%s", r1::sha256_hex({static_cast<const char*>(x.data_ptr()),
                                          static_cast<size_t>(x.numel() * 4)})
                              .c_str());
    }
    std::printf("\n");
  }
}

r1::GgmlType parse_type(const std::string& name) {
  if (name == "f32") return r1::GgmlType::kF32;
  if (name == "f16") return r1::GgmlType::kF16;
  if (name == "bf16") return r1::GgmlType::kBF16;
  if (name == "q8_0") return r1::GgmlType::kQ8_0;
  throw r1::Error("--type \"" + name + "\" is not one r1 writes (f32, f16, bf16, q8_0)");
}

int run(int argc, char** argv) {
  CLI::App app{"r1convert: GGUF files <-> Hugging Face checkpoint directories"};
  app.require_subcommand(1);
  std::string in, out, dtype = "bfloat16", type = "f16";
  bool tensors = false, hashes = false;
  auto* ins = app.add_subcommand("inspect", "print a GGUF file's metadata and tensors");
  ins->add_option("file", in, "GGUF file")->required();
  ins->add_flag("--tensors", tensors, "list every tensor: name, type, shape");
  ins->add_flag("--dequant-sha256", hashes, "with each tensor, sha256 of its float32 values");
  auto* hf = app.add_subcommand("to-hf", "GGUF file -> Hugging Face checkpoint directory");
  hf->add_option("file", in, "GGUF file")->required();
  hf->add_option("--out", out, "new directory")->required();
  hf->add_option("--dtype", dtype, "weights dtype: float32, bfloat16 (default) or float16");
  auto* gg = app.add_subcommand("to-gguf", "Hugging Face checkpoint directory -> GGUF file");
  gg->add_option("dir", in, "checkpoint directory")->required();
  gg->add_option("--out", out, "new GGUF file")->required();
  gg->add_option("--type", type, "weights type: f32, f16 (default), bf16 or q8_0");
  if (auto code = r1::parse_flags(app, argc, argv)) return *code;
  in = r1::resolve_model_path(in);  // a hub id (ORG/NAME or ORG/NAME:FILE.gguf): from the hub cache
  if (ins->parsed()) {
    inspect(in, tensors, hashes);
  } else if (hf->parsed()) {
    r1::gguf_to_hf(in, out, r1::parse_dtype(dtype, "--dtype"));
    std::printf("r1convert: wrote %s\n", out.c_str());
  } else {
    r1::hf_to_gguf(in, out, parse_type(type));
    std::printf("r1convert: wrote %s\n", out.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return r1::guarded_main("r1convert", [&] { return run(argc, argv); });
}
