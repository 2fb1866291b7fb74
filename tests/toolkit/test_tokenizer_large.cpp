// Large inputs (label slow): a 50 MB single line and a 2 MB word with no break encode completely.
// A quadratic merge loop or regex would not finish inside the test's timeout (see CMakeLists).
#include "tests/test_util.h"
#include "toolkit/fs.h"
#include "toolkit/tokenizer.h"

namespace r1 {
namespace {

TEST(TokenizerLarge, FiftyMegabyteLineAndLongWord) {
  const Tokenizer t = Tokenizer::load(r1::test::shared_data("tokenizers/qwen2_5_tokenizer.json"));
  std::string chunk = read_file(r1::test::shared_data("benchmarks/math500.jsonl"));
  for (auto& c : chunk)
    if (c == '\n' || c == '\r') c = ' ';
  std::string line;
  while (line.size() < (50u << 20)) line += chunk;
  const auto ids = t.encode(line);
  EXPECT_GT(ids.size(), line.size() / 8);
  EXPECT_EQ(t.decode(ids), line);
  const std::string word(2u << 20, 'a');
  const auto wids = t.encode(word);
  EXPECT_EQ(t.decode(wids), word);
}

}  // namespace
}  // namespace r1
