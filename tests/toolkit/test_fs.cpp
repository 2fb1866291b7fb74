// toolkit/fs.h: read_file refuses what is not a regular file without reading it or waiting.
#include <gtest/gtest.h>
#include <sys/stat.h>  // mkfifo

#include <string>  // std::string

#include "tests/test_util.h"  // r1::test::TempDir
#include "toolkit/error.h"    // r1::Error
#include "toolkit/fs.h"       // r1::read_file, r1::write_file_atomic

namespace {

// The error read_file throws for `path`, or "" when it returns.
std::string read_error(const std::string& path) {
  try {
    r1::read_file(path);
  } catch (const r1::Error& e) {
    return e.what();
  }
  return "";
}

TEST(ReadFile, ReadsARegularFile) {
  r1::test::TempDir dir;
  r1::write_file_atomic(dir / "a.jsonl", "{\"x\": 1}\n");
  EXPECT_EQ(r1::read_file(dir / "a.jsonl"), "{\"x\": 1}\n");
}

// /dev/zero was read into memory without end (r1train grpo --prompts /dev/zero, sft --data), and
// opening a FIFO waits for a writer: both are refused at once, as is a directory.
TEST(ReadFile, RefusesDevicesFifosAndDirectoriesAtOnce) {
  r1::test::TempDir dir;
  ASSERT_EQ(mkfifo((dir / "pipe").c_str(), 0600), 0);
  EXPECT_EQ(read_error("/dev/zero"), "/dev/zero: not a regular file");
  EXPECT_EQ(read_error(dir / "pipe"), dir / "pipe" + ": not a regular file");
  EXPECT_EQ(read_error(dir.path()), dir.path() + ": not a regular file");
  EXPECT_NE(read_error(dir / "missing").find("cannot open"), std::string::npos);
}

}  // namespace
