// Code extraction: the last fenced block after </think>, the language from the fence tag or the
// benchmark's default, output/shell blocks skipped, and the no-answer cases (no block, truncated,
// unclosed reasoning, only unsupported languages).
#include <gtest/gtest.h>

#include "evals/code_extract.h"  // r1::extract_code

namespace {

using r1::extract_code;
using r1::sandbox::Lang;

TEST(CodeExtract, LastBlockAfterThink) {
  const std::string r =
      "<think>\n```python\nprint('draft')\n```\n</think>\nFirst try:\n```python\nprint(1)\n```\n"
      "Better:\n```python\nprint(2)\n```\nDone.";
  const auto x = extract_code(r, Lang::Python, true);
  ASSERT_TRUE(x.code);
  EXPECT_EQ(*x.code, "print(2)\n");
  EXPECT_EQ(x.status, "ok");
  EXPECT_EQ(x.lang, Lang::Python);
}

TEST(CodeExtract, BlocksInsideReasoningDoNotCount) {
  const auto x =
      extract_code("```python\nprint(1)\n```\n</think>\nNo code here.", Lang::Python, true);
  EXPECT_FALSE(x.code);
  EXPECT_EQ(x.status, "no_code_block");
}

TEST(CodeExtract, LanguageFromTheFence) {
  EXPECT_EQ(extract_code("```cpp\nint main(){}\n```", Lang::Python, false).lang, Lang::Cpp);
  EXPECT_EQ(extract_code("```C++\nint main(){}\n```", Lang::Python, false).lang, Lang::Cpp);
  EXPECT_EQ(extract_code("```cxx\nint main(){}\n```", Lang::Python, false).lang, Lang::Cpp);
  EXPECT_EQ(extract_code("```cc\nint main(){}\n```", Lang::Python, false).lang, Lang::Cpp);
  EXPECT_EQ(extract_code("```py\nx=1\n```", Lang::Cpp, false).lang, Lang::Python);
  EXPECT_EQ(extract_code("```Python3\nx=1\n```", Lang::Cpp, false).lang, Lang::Python);
  // An untagged fence takes the benchmark's language.
  EXPECT_EQ(extract_code("```\nx=1\n```", Lang::Python, false).lang, Lang::Python);
  EXPECT_EQ(extract_code("```\nint main(){}\n```", Lang::Cpp, false).lang, Lang::Cpp);
  // Attributes after the language are ignored.
  EXPECT_EQ(extract_code("```python title=\"a.py\"\nx=1\n```", Lang::Cpp, false).lang,
            Lang::Python);
}

TEST(CodeExtract, OutputAndShellBlocksAreSkipped) {
  const std::string r =
      "</think>\n```python\nprint(input())\n```\nRun it:\n```bash\npython3 a.py\n```\nOutput:\n"
      "```text\n5\n```\n";
  const auto x = extract_code(r, Lang::Python, true);
  ASSERT_TRUE(x.code);
  EXPECT_EQ(*x.code, "print(input())\n");
}

TEST(CodeExtract, OnlyUnsupportedLanguages) {
  const auto x = extract_code("```java\nclass Main {}\n```", Lang::Python, false);
  EXPECT_FALSE(x.code);
  EXPECT_EQ(x.status, "unsupported_language");
  EXPECT_EQ(x.tag, "java");
}

TEST(CodeExtract, NoAnswerCases) {
  EXPECT_EQ(extract_code("plain text, no code", Lang::Python, false).status, "no_code_block");
  EXPECT_EQ(extract_code("```python\nx=1\n```", Lang::Python, false, "length").status, "truncated");
  // Forced <think>: a response that never closes it has no answer region.
  EXPECT_EQ(extract_code("thinking ```python\nx=1\n```", Lang::Python, true).status,
            "unclosed_think");
  // Without forced thinking, a response with no think tags is graded whole...
  EXPECT_TRUE(extract_code("```python\nx=1\n```", Lang::Python, false).code);
  // ...but an opened, never closed <think> is not.
  EXPECT_EQ(extract_code("<think>```python\nx=1\n```", Lang::Python, false).status,
            "unclosed_think");
  // An unclosed fence is no block.
  EXPECT_EQ(extract_code("</think>```python\nx=1\n", Lang::Python, true).status, "no_code_block");
}

TEST(CodeExtract, FenceRules) {
  // A longer fence holds a shorter one; the closing fence needs at least as many backticks.
  const auto b = r1::fenced_blocks("````markdown\n```python\nx\n```\n````\n");
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].tag, "markdown");
  EXPECT_EQ(b[0].code, "```python\nx\n```\n");
  // Indented by up to three spaces; CRLF line ends; inline ``` in a line is no fence.
  const auto c = r1::fenced_blocks("   ```py\r\na = '```'\r\n   ```\r\n");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].code, "a = '```'\n");
  EXPECT_TRUE(r1::fenced_blocks("use ```x``` inline").empty());
  // An empty block is a block, with empty code.
  const auto e = r1::fenced_blocks("```\n```\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].code, "");
}

}  // namespace
