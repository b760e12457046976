// sync_dirs: few directories are fsynced one by one, many by one syncfs per
// filesystem (issue 17: `dsm add` of 100,000 new datasets spent minutes in
// 100,000 directory fsyncs); either way a directory that is not there is an
// error naming it.
#include "dsm/error.hpp"
#include "temp_dir.hpp"
#include "util/staged.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
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

// FilesToSync: files named one at a time (the sidecars of `dsm add` of
// 100,000 files) are fsynced each when few, by one syncfs per filesystem
// when many, keeping one directory per filesystem rather than every name.
TEST_F(SyncDirsTest, FilesToSyncFewAndMany) {
  for (size_t n : {size_t{1}, dsm::k_syncfs_threshold - 1, dsm::k_syncfs_threshold, size_t{50}}) {
    dsm::FilesToSync files;
    std::vector<std::unique_ptr<dsm::StagedFile>> staged;
    for (size_t i = 0; i < n; ++i) {
      staged.push_back(std::make_unique<dsm::StagedFile>(m_dir, "x"));
      staged.back()->write("data");
      files.add(staged.back()->temp_path(), staged.back()->fd());
      staged.back()->close();
    }
    EXPECT_NO_THROW(files.sync()) << n;
  }
  // Few are synced by name: one gone is an error naming it.
  dsm::FilesToSync few;
  fs::path gone = m_dir / "gone";
  {
    dsm::StagedFile f(m_dir, "y");
    few.add(gone, f.fd());
  }
  try {
    few.sync();
    FAIL() << "no error";
  } catch (const dsm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("gone"), std::string::npos) << e.what();
  }
}

// publish_noreplace by name: never replaces, and the temp name goes.
TEST_F(SyncDirsTest, PublishByNameNeverReplaces) {
  fs::path temp = m_dir / ".dsm-tmp-a.tok";
  fs::path target = m_dir / "a";
  std::ofstream(temp) << "one";
  EXPECT_TRUE(dsm::publish_noreplace(temp, target));
  EXPECT_FALSE(fs::exists(temp));
  std::ofstream(temp) << "two";
  EXPECT_FALSE(dsm::publish_noreplace(temp, target));
  EXPECT_TRUE(fs::exists(temp));
  std::ifstream in(target);
  std::string text;
  in >> text;
  EXPECT_EQ(text, "one");
  EXPECT_EQ(dsm::temp_token().size(), 10u);
  EXPECT_NE(dsm::temp_token(), dsm::temp_token());
}
