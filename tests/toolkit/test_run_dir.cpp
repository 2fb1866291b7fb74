// The run-folder guard: a missing, empty or own folder passes; someone else's is refused; a folder
// holding only the temp file of a killed run's first write of its marker is a run's start (the
// kill found by r1distill's resume test under load).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/test_util.h"
#include "toolkit/error.h"
#include "toolkit/run_dir.h"

namespace r1 {
namespace {

TEST(RunDir, RefusesOnlySomeoneElsesFolder) {
  test::TempDir dir;
  EXPECT_NO_THROW(check_run_dir(dir / "missing", "run.json", "r1eval"));
  EXPECT_NO_THROW(check_run_dir(dir.path(), "run.json", "r1eval"));  // empty
  std::filesystem::create_directories(dir / "own");
  std::ofstream(dir / "own/run.json") << "{}";
  std::ofstream(dir / "own/samples.jsonl") << "";
  EXPECT_NO_THROW(check_run_dir(dir / "own", "run.json", "r1eval"));
  std::filesystem::create_directories(dir / "torn");
  std::ofstream(dir / "torn/run.json.tmp.4242") << "{\"proto";
  EXPECT_NO_THROW(check_run_dir(dir / "torn", "run.json", "r1eval"));
  EXPECT_FALSE(std::filesystem::exists(dir / "torn/run.json.tmp.4242"));
  std::filesystem::create_directories(dir / "mine");
  std::ofstream(dir / "mine/run.json.tmp.1") << "";
  std::ofstream(dir / "mine/notes.txt") << "mine";
  const std::string e = test::error_of([&] { check_run_dir(dir / "mine", "run.json", "r1eval"); });
  EXPECT_NE(e.find("mine: not empty and not a run of r1eval (no run.json)"), std::string::npos)
      << e;
  EXPECT_TRUE(std::filesystem::exists(dir / "mine/run.json.tmp.1"));  // nothing removed
}

}  // namespace
}  // namespace r1
