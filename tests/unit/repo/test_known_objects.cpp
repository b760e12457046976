// The record of objects seen on each remote (repo/known_objects.hpp).
#include "repo/config.hpp"
#include "repo/known_objects.hpp"
#include "repo/repository.hpp"
#include "temp_dir.hpp"
#include "util/file.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace fs = std::filesystem;

namespace {

std::string sha(char c) {
  return std::string(64, c);
}

class KnownObjectsTest : public dsm::testing::TempDirTest {
protected:
  void SetUp() override {
    TempDirTest::SetUp();
    ASSERT_EQ(std::system(("git init -q '" + m_dir.string() + "'").c_str()), 0);
    dsm::Config c;
    c.remotes.push_back({"team", "/srv/team", std::nullopt, std::nullopt, true});
    c.remotes.push_back({"backup", "/srv/backup", std::nullopt, std::nullopt, false});
    fs::create_directories(m_dir / ".dsm");
    dsm::util::write_file_atomic(m_dir / ".dsm/config.yaml", c.serialize());
    m_repo = dsm::Repository::open(m_dir);
  }
  std::unique_ptr<dsm::Repository> m_repo;
};

} // namespace

TEST_F(KnownObjectsTest, RecordsPerRemoteSortedAndMerged) {
  EXPECT_EQ(dsm::KnownObjects::load(*m_repo, "team").size(), 0u); // no record yet
  dsm::KnownObjects::add(*m_repo, "team", {sha('b'), sha('a'), sha('b')});
  dsm::KnownObjects::add(*m_repo, "team", {sha('c'), sha('a')});
  dsm::KnownObjects::add(*m_repo, "backup", {sha('d')});
  auto team = dsm::KnownObjects::load(*m_repo, "team");
  EXPECT_EQ(team.size(), 3u);
  EXPECT_TRUE(team.contains(sha('a')));
  EXPECT_TRUE(team.contains(sha('c')));
  EXPECT_FALSE(team.contains(sha('d')));
  EXPECT_EQ(dsm::util::read_file(m_dir / ".dsm/local/remotes/team/known-objects"),
            sha('a') + "\n" + sha('b') + "\n" + sha('c') + "\n");
  auto all = dsm::KnownObjects::load_all(*m_repo);
  EXPECT_EQ(all.size(), 4u);
  EXPECT_TRUE(all.contains(sha('d')));
}

TEST_F(KnownObjectsTest, IgnoresWhatIsNotASha256) {
  fs::create_directories(m_dir / ".dsm/local/remotes/team");
  // Cut short after a crash, or edited: only whole SHA-256 lines count.
  dsm::util::write_file_atomic(m_dir / ".dsm/local/remotes/team/known-objects",
                               sha('a') + "\nnot a hash\n" + sha('B') + "\n" + sha('c').substr(0, 30));
  auto team = dsm::KnownObjects::load(*m_repo, "team");
  EXPECT_EQ(team.size(), 1u);
  EXPECT_TRUE(team.contains(sha('a')));
  dsm::KnownObjects::add(*m_repo, "team", {"xyz", sha('e')});
  EXPECT_EQ(dsm::KnownObjects::load(*m_repo, "team").size(), 2u);
}

TEST_F(KnownObjectsTest, OnlyConfiguredRemotesCount) {
  dsm::KnownObjects::add(*m_repo, "gone", {sha('f')}); // a remote since removed from the config
  EXPECT_FALSE(dsm::KnownObjects::load_all(*m_repo).contains(sha('f')));
}
