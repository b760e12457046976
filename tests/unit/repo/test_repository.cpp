#include "temp_dir.hpp"
#include "dsm/error.hpp"
#include "repo/repository.hpp"
#include "git/git.hpp"
#include "util/file.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

namespace fs = std::filesystem;

namespace {

class RepoDir : public dsm::testing::TempDirTest {
protected:
  void SetUp() override {
    TempDirTest::SetUp();
    ASSERT_EQ(std::system(("git init -q '" + m_dir.string() + "'").c_str()), 0);
  }
};

} // namespace

TEST_F(RepoDir, NotADsmRepository) {
  try {
    dsm::Repository::open(m_dir);
    FAIL() << "expected an error";
  } catch (const dsm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a dsm repository (run 'dsm init')"), std::string::npos);
    EXPECT_EQ(e.exit_code(), 2);
  }
}

TEST_F(RepoDir, OpensFromSubdirectory) {
  fs::create_directories(m_dir / ".dsm");
  fs::create_directories(m_dir / "src" / "deep");
  dsm::Config c;
  c.data_dir = "datasets/";
  dsm::util::write_file_atomic(m_dir / ".dsm/config.yaml", c.serialize());
  auto repo = dsm::Repository::open(m_dir / "src" / "deep");
  EXPECT_EQ(repo->root(), m_dir);
  EXPECT_EQ(repo->data_dir(), m_dir / "datasets");
  EXPECT_EQ(repo->manifest_path(), m_dir / "datasets" / "manifest-sha256.txt");
  EXPECT_EQ(repo->data_dir_relative(), "datasets");
  EXPECT_EQ(*repo->data_relative(m_dir / "datasets" / "a" / "a_1.npy"), "a/a_1.npy");
  EXPECT_EQ(repo->data_relative(m_dir / "other" / "x.npy"), std::nullopt);
  EXPECT_EQ(repo->lock_path(), m_dir / ".dsm/local/lock");
  EXPECT_EQ(dsm::Repository::sidecar_path("/d/a.npy"), fs::path("/d/a.npy.yaml"));
  EXPECT_EQ(*dsm::Repository::payload_of_sidecar("/d/a.npy.yaml"), fs::path("/d/a.npy"));
  EXPECT_EQ(dsm::Repository::payload_of_sidecar("/d/a.npy"), std::nullopt);
}

TEST_F(RepoDir, SymlinkedDataDirOutsideRefused) {
  fs::create_directories(m_dir / ".dsm");
  fs::create_symlink("/tmp", m_dir / "data");
  dsm::util::write_file_atomic(m_dir / ".dsm/config.yaml", dsm::Config().serialize());
  EXPECT_THROW(dsm::Repository::open(m_dir), dsm::Error);
}
