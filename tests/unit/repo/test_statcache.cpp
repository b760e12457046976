// The stat cache (.dsm/local/statcache): what it trusts, what it forgets,
// and that a save/load round trip keeps every entry, sorted.
#include "repo/statcache.hpp"
#include "temp_dir.hpp"
#include "util/file.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <sys/time.h>

namespace fs = std::filesystem;
using dsm::StatCache;
using dsm::StatFacts;

namespace {

const std::string k_sha_a(64, 'a');
const std::string k_sha_b(64, 'b');

StatFacts facts(uint64_t size, int64_t mtime_ns) {
  StatFacts f;
  f.size = size;
  f.mtime_ns = mtime_ns;
  f.ctime_ns = mtime_ns;
  f.inode = 42;
  return f;
}

class StatCacheTest : public dsm::testing::TempDirTest {
protected:
  void SetUp() override {
    TempDirTest::SetUp();
    m_file = m_dir / "statcache";
  }

  std::string text() const {
    std::ifstream in(m_file);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  void write(const std::string& s) const { std::ofstream(m_file) << s; }

  fs::path m_file;
};

// Entries older than the cache file are trusted; the file's mtime is "now".
constexpr int64_t k_old = 1000000000LL; // 1 s after the epoch

TEST_F(StatCacheTest, SavedEntriesAreTrustedAfterLoadAndWrittenSorted) {
  StatCache c;
  c.record("b/b_1.npy", facts(10, k_old), k_sha_b);
  c.record("a/a_1.npy", facts(20, k_old), k_sha_a);
  c.record("a%x\nz/z.npy", facts(30, k_old), k_sha_a); // encoded like the manifest
  ASSERT_TRUE(c.dirty());
  c.save(m_file);
  EXPECT_EQ(text(), "dsm-statcache 1\n" + k_sha_a + " 30 1000000000 1000000000 42 a%25x%0Az/z.npy\n" +
                        k_sha_a + " 20 1000000000 1000000000 42 a/a_1.npy\n" + k_sha_b +
                        " 10 1000000000 1000000000 42 b/b_1.npy\n");

  StatCache l = StatCache::load(m_file);
  EXPECT_FALSE(l.dirty());
  EXPECT_EQ(l.trusted_hash("a/a_1.npy", facts(20, k_old)), k_sha_a);
  EXPECT_EQ(l.trusted_hash("b/b_1.npy", facts(10, k_old)), k_sha_b);
  EXPECT_EQ(l.trusted_hash("a%x\nz/z.npy", facts(30, k_old)), k_sha_a);
  EXPECT_EQ(l.trusted_hash("a/a_1.npy", facts(21, k_old)), std::nullopt) << "size moved";
  EXPECT_EQ(l.trusted_hash("c/c_1.npy", facts(20, k_old)), std::nullopt) << "no entry";
}

TEST_F(StatCacheTest, RacilyCleanEntriesAreNotTrusted) {
  StatCache c;
  struct timespec now {};
  ::clock_gettime(CLOCK_REALTIME, &now);
  int64_t future = (static_cast<int64_t>(now.tv_sec) + 100) * 1000000000LL;
  c.record("a/a_1.npy", facts(1, future), k_sha_a); // modified "after" the cache was written
  c.save(m_file);
  StatCache l = StatCache::load(m_file);
  EXPECT_EQ(l.trusted_hash("a/a_1.npy", facts(1, future)), std::nullopt);
  ASSERT_TRUE(l.find("a/a_1.npy").has_value()) << "still known, just not trusted";
  EXPECT_EQ(l.find("a/a_1.npy")->sha256, k_sha_a);
}

TEST_F(StatCacheTest, RecordAndForgetOverLoadedEntriesSurviveTheNextSave) {
  StatCache c;
  for (const char* rel : {"a/1.npy", "b/1.npy", "c/1.npy", "d/1.npy"}) {
    c.record(rel, facts(1, k_old), k_sha_a);
  }
  c.save(m_file);
  StatCache l = StatCache::load(m_file);
  l.record("b/1.npy", facts(1, k_old), k_sha_a); // unchanged: not dirty
  EXPECT_FALSE(l.dirty());
  l.record("b/1.npy", facts(2, k_old), k_sha_b);  // replaced
  l.forget("c/1.npy");                            // forgotten
  l.forget("nothing/here.npy");                   // no-op
  l.record("bb/1.npy", facts(3, k_old), k_sha_b); // new, sorts between
  EXPECT_TRUE(l.dirty());
  EXPECT_EQ(l.find("c/1.npy"), std::nullopt);
  EXPECT_EQ(l.find("b/1.npy")->facts.size, 2u);
  l.save(m_file);
  EXPECT_EQ(text(), "dsm-statcache 1\n" + k_sha_a + " 1 1000000000 1000000000 42 a/1.npy\n" + k_sha_b +
                        " 2 1000000000 1000000000 42 b/1.npy\n" + k_sha_b +
                        " 3 1000000000 1000000000 42 bb/1.npy\n" + k_sha_a +
                        " 1 1000000000 1000000000 42 d/1.npy\n");
}

// Issue #17: `dsm add` records its new payloads while the cache is written,
// merged into the loaded and changed entries; a recorded path replaces one.
TEST_F(StatCacheTest, SaveWithMergesRecordedEntriesInPathOrder) {
  StatCache c;
  for (const char* rel : {"a/1.npy", "c/1.npy"}) {
    c.record(rel, facts(1, k_old), k_sha_a);
  }
  c.save(m_file);
  StatCache l = StatCache::load(m_file);
  l.record("d/1.npy", facts(4, k_old), k_sha_a); // a change since the load
  std::vector<std::pair<std::string, int>> more = {{"b/1.npy", 2}, {"c/1.npy", 3}, {"e/1.npy", 5}};
  size_t at = 0;
  l.save_with(m_file, [&](StatCache::Recorded& r) {
    if (at == more.size()) {
      return false;
    }
    r.rel = more[at].first;
    r.facts = facts(static_cast<uint64_t>(more[at].second), k_old);
    r.sha256 = k_sha_b;
    ++at;
    return true;
  });
  EXPECT_EQ(text(), "dsm-statcache 1\n" + k_sha_a + " 1 1000000000 1000000000 42 a/1.npy\n" + k_sha_b +
                        " 2 1000000000 1000000000 42 b/1.npy\n" + k_sha_b +
                        " 3 1000000000 1000000000 42 c/1.npy\n" + k_sha_a +
                        " 4 1000000000 1000000000 42 d/1.npy\n" + k_sha_b +
                        " 5 1000000000 1000000000 42 e/1.npy\n");
}

TEST_F(StatCacheTest, DamagedLinesAreDroppedAndTheRestKept) {
  write("dsm-statcache 1\n" + k_sha_b +
        " 1 1000000000 1000000000 42 z/1.npy\n" // out of order
        "not a line\n" +
        std::string(64, 'G') + " 1 1000000000 1000000000 42 bad/hash.npy\n" + k_sha_a +
        " x 1000000000 1000000000 42 bad/size.npy\n" + k_sha_a + " 1 1000000000 1000000000 42 bad%zz.npy\n" +
        k_sha_a + " 1 1000000000 1000000000 42 a/1.npy\n" + k_sha_b +
        " 1 1000000000 1000000000 42 a/1.npy\n" // listed twice: the last wins
        + k_sha_a + " 1 1000000000 1000000000 42 torn/last.npy");
  ::utimensat(AT_FDCWD, m_file.c_str(), nullptr, 0);
  StatCache l = StatCache::load(m_file);
  EXPECT_EQ(l.trusted_hash("z/1.npy", facts(1, k_old)), k_sha_b);
  EXPECT_EQ(l.trusted_hash("a/1.npy", facts(1, k_old)), k_sha_b);
  for (const char* rel : {"bad/hash.npy", "bad/size.npy", "bad%zz.npy", "torn/last.npy"}) {
    EXPECT_EQ(l.find(rel), std::nullopt) << rel;
  }
}

// The file is read in 1 MiB blocks and not kept: lines cut by a block's
// end, percent-encoded paths and an over-long line are handled across them.
TEST_F(StatCacheTest, ManyEntriesAcrossReadBlocksAreAllKept) {
  std::string body = "dsm-statcache 1\n";
  const int count = 20000; // about 2.5 MiB: several blocks
  for (int i = 0; i < count; ++i) {
    const std::string& sha = i % 2 == 0 ? k_sha_a : k_sha_b;
    body += sha + " " + std::to_string(i) + " 1000000000 1000000000 42 d" + std::to_string(i) + "/x%25 " +
            std::to_string(i) + ".npy\n";
    if (i == count / 2) {
      body += k_sha_a + " 1 1000000000 1000000000 42 long/" + std::string(200000, 'x') + "\n";
    }
  }
  write(body);
  ::utimensat(AT_FDCWD, m_file.c_str(), nullptr, 0);
  StatCache l = StatCache::load(m_file);
  for (int i = 0; i < count; ++i) {
    std::string rel = "d" + std::to_string(i) + "/x% " + std::to_string(i) + ".npy";
    ASSERT_EQ(l.trusted_hash(rel, facts(static_cast<uint64_t>(i), k_old)), i % 2 == 0 ? k_sha_a : k_sha_b)
        << rel;
  }
  EXPECT_EQ(l.find("long/" + std::string(200000, 'x')), std::nullopt);
  // A save writes back what was loaded, byte for byte (the long line aside).
  l.record("d0/x% 0.npy", facts(0, k_old), k_sha_a); // the same: no change
  EXPECT_FALSE(l.dirty());
  l.forget("d1/x% 1.npy");
  ASSERT_TRUE(l.dirty());
  l.save(m_file);
  StatCache again = StatCache::load(m_file);
  EXPECT_EQ(again.find("d1/x% 1.npy"), std::nullopt);
  EXPECT_EQ(again.find("d19999/x% 19999.npy")->sha256, k_sha_b);
}

TEST_F(StatCacheTest, AnotherVersionOrNoFileIsEmpty) {
  EXPECT_EQ(StatCache::load(m_file).find("a/1.npy"), std::nullopt);
  write("dsm-statcache 2\n" + k_sha_a + " 1 1000000000 1000000000 42 a/1.npy\n");
  EXPECT_EQ(StatCache::load(m_file).find("a/1.npy"), std::nullopt);
}

TEST_F(StatCacheTest, SaveToAnUnwritablePlaceIsSilent) {
  StatCache c;
  c.record("a/1.npy", facts(1, k_old), k_sha_a);
  fs::path blocked = m_dir / "file-not-dir";
  std::ofstream(blocked) << "x";
  EXPECT_NO_THROW(c.save(blocked / "statcache"));
}

} // namespace
