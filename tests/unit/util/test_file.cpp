#include "temp_dir.hpp"
#include "dsm/error.hpp"
#include "util/beneath.hpp"
#include "util/file.hpp"
#include "util/sha256.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <unistd.h>
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

// util/beneath.hpp, with openat2 and with the per-component walk.
class Beneath : public TempDir, public ::testing::WithParamInterface<bool> {
protected:
  void SetUp() override {
    TempDir::SetUp();
    use_openat2(GetParam());
    fs::create_directories("base/sub");
    fs::create_directories("outside");
    write_file_atomic("base/sub/f.txt", "inside");
    write_file_atomic("outside/secret.txt", "outside");
    fs::create_symlink(m_dir / "outside/secret.txt", "base/sub/link.txt");
    fs::create_directory_symlink(m_dir / "outside", "base/dirlink");
    ::mkfifo("base/sub/fifo", 0644);
  }
  void TearDown() override {
    use_openat2(true);
    TempDir::TearDown();
  }
};

TEST_P(Beneath, OpensRegularFilesBelowOnly) {
  auto f = open_regular_beneath(fs::path("base"), "sub/f.txt");
  ASSERT_TRUE(f);
  char buf[16] = {};
  EXPECT_EQ(::read(f->fd.get(), buf, sizeof buf), 6);
  EXPECT_FALSE(open_regular_beneath(fs::path("base"), "sub/absent"));
  for (const char* rel : {"sub/link.txt", "dirlink/secret.txt", "../outside/secret.txt", "/etc/hostname"}) {
    SCOPED_TRACE(rel);
    try {
      open_regular_beneath(fs::path("base"), rel);
      ADD_FAILURE() << "opened";
    } catch (const dsm::Error& e) {
      EXPECT_NE(std::string(e.what()).find("symlink"), std::string::npos) << e.what();
    }
  }
  // A FIFO is refused at once (no writer: a blocking open would hang).
  try {
    open_regular_beneath(fs::path("base"), "sub/fifo");
    ADD_FAILURE() << "opened a FIFO";
  } catch (const dsm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a regular file"), std::string::npos) << e.what();
  }
}

TEST_P(Beneath, RawCallSaysWhy) {
  Fd base = open_directory("base");
  errno = 0;
  EXPECT_LT(openat_beneath(base.get(), "sub/link.txt", O_RDONLY), 0);
  EXPECT_EQ(errno, ELOOP);
  EXPECT_LT(openat_beneath(base.get(), "dirlink/secret.txt", O_RDONLY), 0);
  EXPECT_EQ(errno, ELOOP);
  EXPECT_LT(openat_beneath(base.get(), "../outside/secret.txt", O_RDONLY), 0);
  EXPECT_EQ(errno, EXDEV);
  int created = openat_beneath(base.get(), "sub/new.txt", O_WRONLY | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(created, 0);
  ::close(created);
  EXPECT_TRUE(fs::exists("base/sub/new.txt"));
}

TEST_P(Beneath, LstatNeverFollows) {
  auto link = lstat_beneath(fs::path("base"), "sub/link.txt");
  ASSERT_TRUE(link);
  EXPECT_TRUE(S_ISLNK(link->st_mode));
  EXPECT_FALSE(lstat_beneath(fs::path("base"), "sub/absent"));
  EXPECT_THROW(lstat_beneath(fs::path("base"), "dirlink/secret.txt"), dsm::Error);
}

INSTANTIATE_TEST_SUITE_P(Openat2AndWalk, Beneath, ::testing::Values(true, false));
