// util::list_tree: every entry, sorted, with lstat facts where asked, the
// same whatever the number of threads; a directory it cannot read is an error.
#include "temp_dir.hpp"
#include "dsm/error.hpp"
#include "util/walk.hpp"

#include <gtest/gtest.h>

#include <exception>
#include <filesystem>
#include <fstream>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace dsm::util;

namespace {

class ListTreeTest : public dsm::testing::TempDirTest {
protected:
  void SetUp() override {
    TempDirTest::SetUp();
    for (int i = 0; i < 40; ++i) {
      fs::path d = m_dir / ("ds" + std::to_string(i));
      fs::create_directories(d / "v1");
      std::ofstream(d / "x_001.npy") << std::string(static_cast<size_t>(i), 'x');
      std::ofstream(d / "x_001.npy.yaml") << "y";
      std::ofstream(d / "v1" / "part-0000.npy") << "p";
    }
    std::ofstream(m_dir / "manifest-sha256.txt") << "m";
    fs::create_symlink("/etc/passwd", m_dir / "ds0" / "link.npy");
  }
  void TearDown() override {
    std::error_code ec; // a test may have removed it
    fs::permissions(m_dir / "ds3", fs::perms::owner_all, fs::perm_options::add, ec);
    TempDirTest::TearDown(); // back to the old directory, then removes this one
  }
};

bool npy_only(std::string_view name) { return name.ends_with(".npy"); }

TEST_F(ListTreeTest, ListsEverythingSortedWithStatsForChosenFiles) {
  std::vector<ListedEntry> one = list_tree(m_dir, 1, npy_only);
  // 40 × (dir, v1, v1/part, npy, yaml) + manifest + symlink
  ASSERT_EQ(one.size(), 40u * 5 + 2);
  for (size_t i = 1; i < one.size(); ++i) {
    EXPECT_LT(one[i - 1].rel, one[i].rel);
  }
  const ListedEntry* npy = find_listed(one, "ds7/x_001.npy");
  ASSERT_NE(npy, nullptr);
  EXPECT_EQ(npy->type, EntryType::regular);
  ASSERT_TRUE(npy->has_stat);
  EXPECT_EQ(npy->stat.size, 7u);
  EXPECT_TRUE(S_ISREG(npy->stat.mode));
  struct stat st {};
  ASSERT_EQ(::lstat((m_dir / "ds7/x_001.npy").c_str(), &st), 0);
  EXPECT_EQ(npy->stat.inode, static_cast<uint64_t>(st.st_ino));
  EXPECT_EQ(npy->stat.mtime_ns, file_stat_of(st).mtime_ns);

  const ListedEntry* yaml = find_listed(one, "ds7/x_001.npy.yaml");
  ASSERT_NE(yaml, nullptr);
  EXPECT_FALSE(yaml->has_stat) << "not asked for";
  ASSERT_NE(find_listed(one, "ds7/v1/part-0000.npy"), nullptr);
  EXPECT_EQ(find_listed(one, "ds7/v1")->type, EntryType::directory);
  const ListedEntry* link = find_listed(one, "ds0/link.npy");
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->type, EntryType::symlink);
  EXPECT_FALSE(link->has_stat) << "symlinks are never followed nor trusted";
  EXPECT_EQ(find_listed(one, "ds7/x_002.npy"), nullptr);
  EXPECT_EQ(find_listed(one, "zzz"), nullptr);

  for (unsigned threads : {2u, 3u, 64u}) {
    std::vector<ListedEntry> many = list_tree(m_dir, threads, npy_only);
    ASSERT_EQ(many.size(), one.size()) << threads;
    for (size_t i = 0; i < one.size(); ++i) {
      EXPECT_EQ(many[i].rel, one[i].rel);
      EXPECT_EQ(many[i].has_stat, one[i].has_stat);
      EXPECT_EQ(many[i].stat.inode, one[i].stat.inode);
    }
  }
}

TEST_F(ListTreeTest, AnUnreadableDirectoryIsAnErrorNamingIt) {
  if (::geteuid() == 0) {
    GTEST_SKIP() << "root reads any directory";
  }
  fs::permissions(m_dir / "ds3", fs::perms::none);
  try {
    list_tree(m_dir, 2, npy_only);
    FAIL() << "expected an error";
  } catch (const dsm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("ds3"), std::string::npos) << e.what();
  }
}

TEST_F(ListTreeTest, RunningOutOfDescriptorsIsAnErrorNamingTheDirectory) {
  // Works as root too: with no descriptor left after the root's, opening the
  // first subdirectory fails (EMFILE), and that must be an error, never a
  // shorter listing.
#ifdef __SANITIZE_ADDRESS__
  GTEST_SKIP() << "UBSan checks the thrown Error through a pipe, and this test leaves no descriptor for one";
#endif
  struct rlimit old {};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &old), 0);
  int lowest_free = ::open("/dev/null", O_RDONLY | O_CLOEXEC); // descriptors are allocated lowest first
  ASSERT_GE(lowest_free, 0);
  ::close(lowest_free);
  struct rlimit tight = old;
  tight.rlim_cur = static_cast<rlim_t>(lowest_free) + 1; // room for the root's descriptor only
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0);
  std::exception_ptr error;
  try {
    list_tree(m_dir, 1, npy_only);
  } catch (...) {
    error = std::current_exception(); // looked at only with descriptors back
  }
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &old), 0);
  ASSERT_TRUE(error) << "expected an error";
  std::string message;
  try {
    std::rethrow_exception(error);
  } catch (const dsm::Error& e) {
    message = e.what();
  }
  EXPECT_NE(message.find("cannot scan '" + (m_dir / "ds").string()), std::string::npos) << message;
  EXPECT_NE(message.find("Too many open files"), std::string::npos) << message;
}

TEST_F(ListTreeTest, AMissingRootIsAnError) { EXPECT_THROW(list_tree(m_dir / "nope", 2, npy_only), dsm::Error); }

} // namespace
