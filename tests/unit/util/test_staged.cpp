// sync_dirs: few directories are fsynced one by one, many by one syncfs per
// filesystem (issue 17: `dsm add` of 100,000 new datasets spent minutes in
// 100,000 directory fsyncs); either way a directory that is not there is an
// error naming it.
#include "dsm/error.hpp"
#include "temp_dir.hpp"
#include "util/staged.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

class SyncDirsTest : public dsm::testing::TempDirTest {
protected:
  std::vector<fs::path> make_dirs(size_t n) {
    std::vector<fs::path> dirs;
    for (size_t i = 0; i < n; ++i) {
      dirs.push_back(m_dir / ("d" + std::to_string(i)));
      fs::create_directories(dirs.back());
    }
    return dirs;
  }
};

} // namespace

TEST_F(SyncDirsTest, FewAndManyDirectories) {
  EXPECT_NO_THROW(dsm::sync_dirs(make_dirs(dsm::k_syncfs_threshold - 1)));
  std::vector<fs::path> many = make_dirs(50);
  many.push_back(many.front()); // duplicates are synced once
  EXPECT_NO_THROW(dsm::sync_dirs(many));
}

TEST_F(SyncDirsTest, AMissingDirectoryIsNamed) {
  for (size_t n : {size_t{1}, size_t{50}}) {
    std::vector<fs::path> dirs = make_dirs(n);
    dirs.push_back(m_dir / "gone");
    try {
      dsm::sync_dirs(dirs);
      ADD_FAILURE() << "no error for " << n;
    } catch (const dsm::Error& e) {
      EXPECT_NE(std::string(e.what()).find("gone"), std::string::npos) << e.what();
    }
  }
}
