// Unit tests of distill/teacher_cache's TeacherCache: round trip (float16 log-probs), a changed
// teacher, sequence, K or temperature misses, truncated and corrupt files throw r1::Error naming
// the file, and the size on disk is K * (4 + 2) bytes per position plus a small header.
#include <gtest/gtest.h>  // testing
#include <torch/torch.h>  // torch::Tensor

#include <cstdio>      // std::printf
#include <filesystem>  // std::filesystem
#include <limits>      // std::numeric_limits
#include <string>      // std::string
#include <vector>      // std::vector

#include "distill/teacher_cache.h"  // r1::TeacherCache, r1::teacher_topk
#include "tests/test_util.h"        // r1::test::TempDir
#include "toolkit/error.h"          // r1::Error
#include "toolkit/fs.h"             // r1::read_file, r1::write_file_atomic

namespace {

namespace fs = std::filesystem;

const std::vector<int64_t> kTokens = {151644, 872, 198, 3838, 374, 220, 16, 10, 16, 30, 151645};

r1::TeacherTopK some_topk(int64_t P, int64_t V, int64_t K, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  return r1::teacher_topk(torch::randn({P, V}, gen) * 4.0, K, 1.0);
}

std::string error_of(const r1::TeacherCache& cache, const std::vector<int64_t>& tokens) {
  try {
    cache.load(tokens);
  } catch (const r1::Error& e) {
    return e.what();
  }
  return "";
}

TEST(TeacherCache, RoundTripRoundsLogprobsToFloat16) {
  r1::test::TempDir dir;
  r1::TeacherCache cache(dir.path(), "teacher-a sha256:0123", 8, 1.0);
  EXPECT_FALSE(cache.load(kTokens).has_value());
  const int64_t P = static_cast<int64_t>(kTokens.size());
  auto topk = some_topk(P, 300, 8, 1);
  cache.store(kTokens, topk);
  auto got = cache.load(kTokens);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->ids.scalar_type(), torch::kInt32);
  EXPECT_EQ(got->logprobs.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::equal(got->ids, topk.ids));
  EXPECT_TRUE(torch::equal(got->logprobs, topk.logprobs.to(torch::kHalf).to(torch::kFloat32)));
  // float16 keeps log-probs to 2^-11 relative.
  EXPECT_TRUE(torch::allclose(got->logprobs, topk.logprobs, 1.0 / 2048, 1e-7));
  EXPECT_TRUE(fs::path(cache.path(kTokens)).string().rfind(dir.path(), 0) == 0);

  // Stored again (e.g. recomputed): replaced, still one file.
  cache.store(kTokens, some_topk(P, 300, 8, 2));
  EXPECT_FALSE(torch::equal(cache.load(kTokens)->ids, topk.ids));
  int files = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir.path())) files += e.is_regular_file();
  EXPECT_EQ(files, 1);

  // No positions is a valid entry (a sequence with nothing to distil).
  cache.store({1, 2}, {torch::zeros({0, 8}, torch::kInt32), torch::zeros({0, 8})});
  EXPECT_EQ(cache.load({1, 2})->ids.size(0), 0);
}

TEST(TeacherCache, AnyChangeOfTheKeyMisses) {
  r1::test::TempDir dir;
  r1::TeacherCache cache(dir.path(), "teacher-a", 4, 1.0);
  cache.store(kTokens, some_topk(11, 50, 4, 3));
  ASSERT_TRUE(cache.load(kTokens).has_value());

  auto changed = kTokens;
  changed[5] += 1;
  EXPECT_FALSE(cache.load(changed).has_value());
  EXPECT_FALSE(cache.load({kTokens.begin(), kTokens.end() - 1}).has_value());  // a prefix
  EXPECT_FALSE(r1::TeacherCache(dir.path(), "teacher-b", 4, 1.0).load(kTokens).has_value());
  EXPECT_FALSE(r1::TeacherCache(dir.path(), "teacher-a", 5, 1.0).load(kTokens).has_value());
  EXPECT_FALSE(r1::TeacherCache(dir.path(), "teacher-a", 4, 0.6).load(kTokens).has_value());
  EXPECT_TRUE(r1::TeacherCache(dir.path(), "teacher-a", 4, 1.0).load(kTokens).has_value());
  EXPECT_NE(cache.key(kTokens), cache.key(changed));
  EXPECT_EQ(cache.key(kTokens).size(), 64u);  // SHA-256 hex
}

TEST(TeacherCache, TruncatedOrCorruptFilesThrowNamingTheFile) {
  r1::test::TempDir dir;
  r1::TeacherCache cache(dir.path(), "teacher-a", 4, 1.0);
  cache.store(kTokens, some_topk(11, 50, 4, 4));
  const std::string file = cache.path(kTokens);
  const std::string good = r1::read_file(file);

  // Truncated in the data, in the header, and to a few bytes.
  for (size_t keep : {good.size() - 3, good.size() / 3, size_t{5}, size_t{0}}) {
    r1::write_file_atomic(file, good.substr(0, keep));
    const std::string err = error_of(cache, kTokens);
    EXPECT_NE(err.find(file), std::string::npos) << keep << ": " << err;
    EXPECT_NE(err.find("delete it"), std::string::npos) << err;
  }
  // One flipped bit in the log-probs: the checksum catches it.
  std::string flipped = good;
  flipped[flipped.size() - 2] ^= 0x10;
  r1::write_file_atomic(file, flipped);
  std::string err = error_of(cache, kTokens);
  EXPECT_NE(err.find(file), std::string::npos) << err;
  EXPECT_NE(err.find("checksum"), std::string::npos) << err;
  // Garbage.
  r1::write_file_atomic(file, std::string(200, '\x7f'));
  EXPECT_NE(error_of(cache, kTokens).find(file), std::string::npos);
  // Another sequence's valid file under this sequence's name.
  cache.store({7, 8, 9}, some_topk(3, 50, 4, 5));
  fs::copy_file(cache.path({7, 8, 9}), file, fs::copy_options::overwrite_existing);
  err = error_of(cache, kTokens);
  EXPECT_NE(err.find("key"), std::string::npos) << err;
  // Restored, it reads again.
  r1::write_file_atomic(file, good);
  EXPECT_TRUE(cache.load(kTokens).has_value());
}

TEST(TeacherCache, SizeOnDiskIsSixBytesPerEntryPlusAHeader) {
  r1::test::TempDir dir;
  const int64_t K = 20, P = 2000;
  r1::TeacherCache cache(dir.path(), "teacher-a", K, 1.0);
  std::vector<int64_t> tokens(P);
  for (int64_t i = 0; i < P; ++i) tokens[i] = (i * 7919) % 151000;
  cache.store(tokens, some_topk(P, 64, K, 6));
  const auto size = static_cast<int64_t>(fs::file_size(cache.path(tokens)));
  EXPECT_GE(size, P * K * 6);
  EXPECT_LE(size, P * K * 6 + 1024);  // the safetensors header with the key and checksum
  std::printf("[ %lld positions x K %lld: %lld bytes (%.2f per entry) ]\n",
              static_cast<long long>(P), static_cast<long long>(K), static_cast<long long>(size),
              static_cast<double>(size) / static_cast<double>(P * K));
}

TEST(TeacherCache, BadArgumentsThrow) {
  r1::test::TempDir dir;
  EXPECT_THROW(r1::TeacherCache(dir.path(), "t", 0, 1.0), r1::Error);
  EXPECT_THROW(r1::TeacherCache(dir.path(), "t", 4, 0.0), r1::Error);
  EXPECT_THROW(r1::TeacherCache("", "t", 4, 1.0), r1::Error);
  r1::TeacherCache cache(dir.path(), "t", 4, 1.0);
  EXPECT_THROW(cache.store(kTokens, some_topk(11, 50, 3, 7)), r1::Error);  // K 3, cache K 4
  auto nan = some_topk(11, 50, 4, 8);
  nan.logprobs[0][0] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(cache.store(kTokens, nan), r1::Error);
}

TEST(TeacherCache, BatchTopKThenPerSequenceStore) {
  // The teacher runs once over a padded batch; each sequence stores its own positions.
  r1::test::TempDir dir;
  r1::TeacherCache cache(dir.path(), "teacher-a", 3, 0.7);
  auto gen = at::detail::createCPUGenerator(9);
  auto logits = torch::randn({2, 5, 40}, gen).to(torch::kBFloat16);  // (B, T, V)
  auto topk = r1::teacher_topk(logits, 3, 0.7);
  const std::vector<std::vector<int64_t>> seqs = {{1, 2, 3, 4, 5}, {6, 7, 8}};
  for (size_t b = 0; b < seqs.size(); ++b) {
    const auto n = static_cast<int64_t>(seqs[b].size());
    cache.store(seqs[b], {topk.ids[b].narrow(0, 0, n), topk.logprobs[b].narrow(0, 0, n)});
  }
  auto second = cache.load(seqs[1]);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->ids.sizes(), (std::vector<int64_t>{3, 3}));
  EXPECT_TRUE(torch::equal(second->ids, topk.ids[1].narrow(0, 0, 3)));
}

}  // namespace
