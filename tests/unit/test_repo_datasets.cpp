// The one target resolver (repo/datasets.cpp): NAME@latest and NAME@~N
// (issue 19) next to NAME and NAME@N.
#include "dsm/error.hpp"
#include "repo/config.hpp"
#include "repo/datasets.hpp"
#include "repo/repository.hpp"
#include "util/file.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

namespace fs = std::filesystem;

namespace {

class Datasets : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dsm-unit-XXXXXX";
    m_dir = fs::canonical(::mkdtemp(tmpl));
    ASSERT_EQ(std::system(("git init -q '" + m_dir.string() + "'").c_str()), 0);
    fs::create_directories(m_dir / ".dsm");
    dsm::util::write_file_atomic(m_dir / ".dsm/config.yaml", dsm::Config().serialize());
    m_repo = dsm::Repository::open(m_dir);
    // Versions 1, 2 and 5 of "feat" (3 and 4 were removed), one of "other".
    std::string sha(64, 'a');
    for (const char* rel : {"feat/feat_20261201_001.npy", "feat/feat_20261202_002.npy", "feat/feat_20261205_005.npy",
                            "other/other_20261201_001.npy"}) {
      m_manifest.set(rel, sha);
    }
    m_index = dsm::index_datasets(*m_repo, m_manifest);
  }
  void TearDown() override { fs::remove_all(m_dir); }

  uint64_t seq_of(const std::string& target) {
    return dsm::resolve_version(*m_repo, m_manifest, m_index, m_dir, target).seq;
  }

  fs::path m_dir;
  std::unique_ptr<dsm::Repository> m_repo;
  dsm::Manifest m_manifest;
  dsm::DatasetIndex m_index;
};

} // namespace

TEST_F(Datasets, LatestAndBackwardsByPosition) {
  EXPECT_EQ(seq_of("feat"), 5u);
  EXPECT_EQ(seq_of("feat@latest"), 5u);
  EXPECT_EQ(seq_of("feat@~0"), 5u);
  EXPECT_EQ(seq_of("feat@~1"), 2u); // by position: version 3 and 4 are gone
  EXPECT_EQ(seq_of("feat@~2"), 1u);
  EXPECT_EQ(seq_of("feat@2"), 2u);
  EXPECT_EQ(seq_of("other@latest"), 1u);
}

TEST_F(Datasets, TooFarBackOrUnknownIsAnError) {
  try {
    seq_of("feat@~3");
    FAIL() << "expected an error";
  } catch (const dsm::Error& e) {
    EXPECT_EQ(std::string(e.what()), "dataset 'feat' has 3 versions: 'feat@~3' goes back too far");
    EXPECT_EQ(e.exit_code(), 2);
  }
  EXPECT_THROW(seq_of("nope@latest"), dsm::Error);
  EXPECT_THROW(seq_of("feat@~"), dsm::Error);
  EXPECT_THROW(seq_of("feat@~x"), dsm::Error);
}

TEST_F(Datasets, AllVersionsSelectorsShareTheForms) {
  auto rels = dsm::resolve_targets(*m_repo, m_manifest, m_dir, {"feat@~1", "other@latest"});
  ASSERT_EQ(rels.size(), 2u);
  EXPECT_EQ(rels[0], "feat/feat_20261202_002.npy");
  EXPECT_EQ(rels[1], "other/other_20261201_001.npy");
}
