// The sidecar facts cache (.dsm/local/sidecar-facts): what it keeps, what
// it refuses to record, and that damage only loses entries.
#include "git/git.hpp"
#include "repo/sidecar_facts_cache.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <unistd.h>

namespace fs = std::filesystem;
using dsm::SidecarFacts;
using dsm::SidecarFactsCache;

namespace {

const std::string k_sha(64, 'c');

class SidecarFactsCacheTest : public dsm::testing::TempDirTest {
protected:
  void SetUp() override {
    TempDirTest::SetUp();
    m_file = m_dir / "sidecar-facts";
  }
  std::string text() const {
    std::ifstream in(m_file);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  fs::path m_file;
};

TEST(BlobId, IsWhatGitHashObjectGives) {
  // printf 'hello\n' | git hash-object --stdin
  EXPECT_EQ(dsm::git::blob_id("hello\n"), "ce013625030ba8dba906f756967f9e9ca394464a");
  EXPECT_EQ(dsm::git::blob_id(""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
}

TEST_F(SidecarFactsCacheTest, RecordedFactsSurviveASaveAndLoad) {
  SidecarFactsCache c;
  std::string id_a = dsm::git::blob_id("a");
  std::string id_b = dsm::git::blob_id("b");
  c.record(id_a, SidecarFacts{"x_20261206_001.npy", 128, k_sha, {}});
  c.record(id_b, SidecarFacts{"odd %name\n.npy", 0, k_sha, {}});
  EXPECT_TRUE(c.dirty());
  c.save(m_file, [](const std::string&) { return true; });
  SidecarFactsCache l = SidecarFactsCache::load(m_file);
  ASSERT_NE(l.find(id_a), nullptr);
  EXPECT_EQ(l.find(id_a)->file, "x_20261206_001.npy");
  EXPECT_EQ(l.find(id_a)->size, 128u);
  EXPECT_EQ(l.find(id_a)->sha256, k_sha);
  ASSERT_NE(l.find(id_b), nullptr);
  EXPECT_EQ(l.find(id_b)->file, "odd %name\n.npy");
  EXPECT_EQ(l.find(id_b)->size, 0u);
  EXPECT_FALSE(l.dirty());
  // The same facts again change nothing; other facts for the id replace.
  l.record(id_a, SidecarFacts{"x_20261206_001.npy", 128, k_sha, {}});
  EXPECT_FALSE(l.dirty());
  l.record(id_a, SidecarFacts{"x_20261206_001.npy", 129, k_sha, {}});
  EXPECT_TRUE(l.dirty());
  // save keeps only what the filter accepts.
  l.save(m_file, [&](const std::string& id) { return id == id_b; });
  SidecarFactsCache kept = SidecarFactsCache::load(m_file);
  EXPECT_EQ(kept.find(id_a), nullptr);
  EXPECT_NE(kept.find(id_b), nullptr);
  EXPECT_EQ(kept.size(), 1u);
}

TEST_F(SidecarFactsCacheTest, ChunkedOrIncompleteFactsAreNotRecorded) {
  SidecarFactsCache c;
  std::string id = dsm::git::blob_id("a");
  c.record(id, SidecarFacts{"v", 10, k_sha, {{"part-0001.npy", 10, k_sha}}}); // a chunked version
  c.record(id, SidecarFacts{"v.npy", std::nullopt, k_sha, {}});               // no size
  c.record(id, SidecarFacts{"", 1, k_sha, {}});                               // no file
  c.record(id, SidecarFacts{"v.npy", 1, "not a hash", {}});
  c.record("not a blob id", SidecarFacts{"v.npy", 1, k_sha, {}});
  EXPECT_EQ(c.size(), 0u);
  EXPECT_FALSE(c.dirty());
}

TEST_F(SidecarFactsCacheTest, DamagedLinesAreDroppedAndForeignFilesIgnored) {
  std::string good = dsm::git::blob_id("good");
  {
    std::ofstream(m_file) << "dsm-sidecar-facts 1\n"
                          << "zz " << k_sha << " 1 a.npy\n"                          // bad id
                          << dsm::git::blob_id("x") << " " << k_sha << " -1 a.npy\n" // bad size
                          << dsm::git::blob_id("y") << " " << k_sha << " 1\n"        // no file
                          << dsm::git::blob_id("z") << " " << k_sha << " 1 bad%zz\n" // bad escape
                          << good << " " << k_sha << " 7 good.npy\n"
                          << dsm::git::blob_id("torn") << " " << k_sha << " 7 torn.npy"; // no newline
  }
  SidecarFactsCache c = SidecarFactsCache::load(m_file);
  EXPECT_EQ(c.size(), 1u);
  ASSERT_NE(c.find(good), nullptr);
  EXPECT_EQ(c.find(good)->size, 7u);
  std::ofstream(m_file) << "dsm-sidecar-facts 2\n" << good << " " << k_sha << " 7 good.npy\n";
  EXPECT_EQ(SidecarFactsCache::load(m_file).size(), 0u);
  // Never through a symlink.
  fs::path real = m_dir / "elsewhere";
  std::ofstream(real) << "dsm-sidecar-facts 1\n" << good << " " << k_sha << " 7 good.npy\n";
  fs::remove(m_file);
  fs::create_symlink(real, m_file);
  EXPECT_EQ(SidecarFactsCache::load(m_file).size(), 0u);
}

TEST_F(SidecarFactsCacheTest, TheAppenderAddsLinesTheLoaderReads) {
  const std::string one = "version: 1\nfile: \"a.npy\"\n";
  const std::string two = "version: 1\nfile: \"b c.npy\"\n";
  {
    dsm::SidecarFactsAppender a(m_file); // no file yet: started with its header
    a.add(one, SidecarFacts{"a.npy", 10, k_sha, {}});
    a.add("chunked", SidecarFacts{"v", 10, k_sha, {{"part-0001.npy", 10, k_sha}}}); // not recorded
  }
  {
    dsm::SidecarFactsAppender a(m_file); // appends
    a.add(two, SidecarFacts{"b c.npy", 20, k_sha, {}});
  }
  SidecarFactsCache c = SidecarFactsCache::load(m_file);
  EXPECT_EQ(c.size(), 2u);
  ASSERT_NE(c.find(dsm::git::blob_id(one)), nullptr);
  EXPECT_EQ(c.find(dsm::git::blob_id(one))->size, 10u);
  ASSERT_NE(c.find(dsm::git::blob_id(two)), nullptr);
  EXPECT_EQ(c.find(dsm::git::blob_id(two))->file, "b c.npy");
  // A torn line (a crash mid-write) costs that entry and the next only.
  { std::ofstream(m_file, std::ios::app) << dsm::git::blob_id("x") << " " << k_sha.substr(0, 10); }
  {
    dsm::SidecarFactsAppender a(m_file);
    a.add("three", SidecarFacts{"t.npy", 3, k_sha, {}});
    a.add("four", SidecarFacts{"f.npy", 4, k_sha, {}});
  }
  SidecarFactsCache after = SidecarFactsCache::load(m_file);
  EXPECT_EQ(after.find(dsm::git::blob_id("three")), nullptr);
  EXPECT_NE(after.find(dsm::git::blob_id("four")), nullptr);
  EXPECT_NE(after.find(dsm::git::blob_id(one)), nullptr);
}

} // namespace
