// libFuzzer target over the YAML reader of recipes and gates files (toolkit/yaml.h): any input must
// give JSON or an r1::Error naming the file; any other exception escapes and crashes the run, as
// does a sanitizer report, a timeout (an alias bomb expanded) or running out of memory. Built and
// run by run_fuzz.sh (R1_FUZZ_TARGET=yaml).
#include <cstddef>  // std::size_t
#include <cstdint>  // std::uint8_t
#include <cstdio>   // std::fprintf
#include <cstdlib>  // std::abort
#include <string>   // std::string

#include "toolkit/error.h"  // r1::Error
#include "toolkit/yaml.h"   // r1::parse_yaml

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    (void)r1::parse_yaml(text, "fuzz.yaml");
  } catch (const r1::Error& e) {
    if (std::string(e.what()).rfind("fuzz.yaml", 0) != 0) {
      std::fprintf(stderr, "fuzz_yaml: an error that does not name the file: %s\n", e.what());
      std::abort();
    }
  }
  return 0;
}
