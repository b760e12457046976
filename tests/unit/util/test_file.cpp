#include "temp_dir.hpp"
#include "dsm/error.hpp"
#include "util/file.hpp"
#include "util/sha256.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <sys/stat.h>

namespace fs = std::filesystem;
using namespace dsm::util;

namespace {

class TempDir : public dsm::testing::TempDirTest {
protected:
};

size_t count_entries(const fs::path& dir) {
  size_t n = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(dir)) {
    ++n;
  }
  return n;
}

} // namespace

using AtomicFileTest = TempDir;

TEST_F(AtomicFileTest, CommitMakesContentVisibleWithMode) {
  {
    AtomicFile f(m_dir / "out.txt", 0444);
    f.write("hello");
    EXPECT_FALSE(fs::exists(m_dir / "out.txt"));
    f.commit();
  }
  EXPECT_EQ(read_file(m_dir / "out.txt"), "hello");
  struct stat st {};
  ASSERT_EQ(::stat((m_dir / "out.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0444u);
  EXPECT_EQ(count_entries(m_dir), 1u);
}

TEST_F(AtomicFileTest, AbandonedWriteLeavesNothing) {
  {
    AtomicFile f(m_dir / "out.txt");
    f.write("partial");
  }
  EXPECT_EQ(count_entries(m_dir), 0u);
}

TEST_F(AtomicFileTest, NoReplaceRefusesExistingTarget) {
  write_file_atomic(m_dir / "out.txt", "first");
  AtomicFile f(m_dir / "out.txt");
  f.write("second");
  EXPECT_THROW(f.commit(AtomicFile::Replace::no), dsm::Error);
  EXPECT_EQ(read_file(m_dir / "out.txt"), "first");
}

TEST(Sha256Test, KnownVectors) {
  Sha256 h;
  EXPECT_EQ(h.hex_digest(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  h.update("abc", 3);
  EXPECT_EQ(h.hex_digest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_TRUE(is_sha256_hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  EXPECT_FALSE(is_sha256_hex("BA7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
}
