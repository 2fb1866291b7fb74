// bench_tokenizer: encode throughput of r1's tokenizer for tests/bench/bench_tokenizer.py, which
// times HF tokenizers on the same text in the same run. Prints JSON: MB/s single-threaded on the
// whole text, and MB/s of batch encoding the lines on 1 and N threads.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <iostream>
#include <sstream>

#include "toolkit/fs.h"
#include "toolkit/tokenizer.h"

int main(int argc, char** argv) {
  CLI::App app{"bench_tokenizer"};
  std::string tok_path, text_path;
  int repeats = 3, threads = 2;
  app.add_option("--tokenizer", tok_path)->required();
  app.add_option("--text", text_path)->required();
  app.add_option("--repeats", repeats);
  app.add_option("--threads", threads);
  CLI11_PARSE(app, argc, argv);
  const auto tok = r1::Tokenizer::load(tok_path);
  const std::string text = r1::read_file(text_path);
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  const double mb = text.size() / 1e6;
  auto best = [&](auto&& f) {
    double b = 1e30;
    for (int i = 0; i < repeats; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      f();
      b = std::min(b, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return b;
  };
  size_t n_ids = 0;
  // Word caches are per thread and warm after the first pass, as in any long-running process.
  const double single = best([&] { n_ids = tok.encode(text).size(); });
  const double batch1 = best([&] { tok.encode_batch(lines, false, 1); });
  const double batchn = best([&] { tok.encode_batch(lines, false, threads); });
  nlohmann::json j = {{"mb", mb},
                      {"ids", n_ids},
                      {"single_mb_s", mb / single},
                      {"batch1_mb_s", mb / batch1},
                      {"batchn_mb_s", mb / batchn},
                      {"threads", threads}};
  std::cout << j.dump() << "\n";
}
