// repo/datasets: the one target resolver every command uses (NAME,
// NAME@VERSION, payload and sidecar paths, chunked and compressed
// versions), and what it refuses.
#include "temp_dir.hpp"

#include "dsm/error.hpp"
#include "ops/init.hpp"
#include "repo/datasets.hpp"
#include "repo/manifest.hpp"
#include "repo/repository.hpp"
#include "util/file.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

using namespace dsm;

namespace {

const std::string k_f1 = "features/features_20261206_001.npy";
const std::string k_f2 = "features/features_20261206_002.npy";
const std::string k_f3 = "features/features_20261207_003.npz"; // compressed, another day
const std::string k_s1a = "sensors/sensors_20261206_001/part-0001.npy";
const std::string k_s1b = "sensors/sensors_20261206_001/part-0002.npy";
const std::string k_s2 = "sensors/sensors_20261206_002.npy";
const std::string k_hand = "notes/by_hand.npy"; // listed, but no dataset's version

std::string hex(char c) { return std::string(64, c); }

class ResolverTest : public dsm::testing::TempDirTest {
protected:
  void SetUp() override {
    TempDirTest::SetUp();
    ASSERT_EQ(std::system("git init -q ."), 0);
    init_repository(m_dir, InitOptions{});
    m_repo = Repository::open(m_dir);
    std::string text;
    const std::string digits = "0123456789abcdef";
    size_t c = 0;
    for (const std::string& rel : {k_f1, k_f2, k_f3, k_hand, k_s1a, k_s1b, k_s2}) {
      m_sha[rel] = hex(digits[c++]);
    }
    for (const auto& [rel, sha] : m_sha) { // sorted, as the manifest is
      text += sha + "  " + rel + "\n";
      fs::path p = m_repo->data_dir() / rel;
      fs::create_directories(p.parent_path());
      util::write_file_atomic(p, "x");
    }
    m_manifest = Manifest::parse(text, "manifest");
    m_index = index_datasets(*m_repo, m_manifest);
  }

  std::vector<std::string> all(const std::string& target) {
    return resolve_target(*m_repo, m_manifest, m_index, m_dir, target, Versions::all);
  }
  std::vector<std::string> latest(const std::string& target) {
    return resolve_target(*m_repo, m_manifest, m_index, m_dir, target, Versions::latest);
  }
  std::string error_of(const std::string& target) {
    try {
      all(target);
    } catch (const Error& e) {
      EXPECT_EQ(e.exit_code(), 2);
      return e.what();
    }
    ADD_FAILURE() << target << " resolved";
    return "";
  }

  std::unique_ptr<Repository> m_repo;
  std::map<std::string, std::string> m_sha;
  Manifest m_manifest;
  DatasetIndex m_index;
};

using V = std::vector<std::string>;

} // namespace

TEST_F(ResolverTest, IndexKnowsEveryVersionByItsFileName) {
  ASSERT_NE(m_index.find("features"), nullptr);
  const auto& f = *m_index.find("features");
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[2].seq, 3u);
  EXPECT_EQ(f[2].rel, k_f3);
  const auto& s = *m_index.find("sensors");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].parts, (V{k_s1a, k_s1b}));
  EXPECT_EQ(s[0].rel, "sensors/sensors_20261206_001");
  EXPECT_EQ(m_index.find("notes"), nullptr);
}

TEST_F(ResolverTest, NameMeansTheLatestOrEveryVersion) {
  EXPECT_EQ(latest("features"), V{k_f3});
  EXPECT_EQ(all("features"), (V{k_f1, k_f2, k_f3}));
  EXPECT_EQ(latest("sensors"), V{k_s2});
  EXPECT_EQ(all("sensors"), (V{k_s1a, k_s1b, k_s2}));
}

TEST_F(ResolverTest, NameAtVersionWithOrWithoutZeros) {
  EXPECT_EQ(all("features@2"), V{k_f2});
  EXPECT_EQ(all("features@002"), V{k_f2});
  EXPECT_EQ(all("features@3"), V{k_f3}); // compressed: the .npz
  EXPECT_EQ(all("sensors@1"), (V{k_s1a, k_s1b})); // chunked: every part
  DatasetVersion v = resolve_version(*m_repo, m_manifest, m_index, m_dir, "sensors@1");
  EXPECT_EQ(v.seq, 1u);
  EXPECT_EQ(v.parts.size(), 2u);
  EXPECT_EQ(v.path, m_repo->data_dir() / "sensors/sensors_20261206_001");
}

TEST_F(ResolverTest, PathsOfPayloadsSidecarsAndChunkDirectories) {
  EXPECT_EQ(all("data/" + k_f1), V{k_f1});
  EXPECT_EQ(all((m_repo->data_dir() / k_f2).string()), V{k_f2});
  util::write_file_atomic(m_repo->data_dir() / (k_f2 + ".yaml"), "sidecar");
  EXPECT_EQ(all("data/" + k_f2 + ".yaml"), V{k_f2}); // a sidecar stands for its payload
  EXPECT_EQ(all("data/sensors/sensors_20261206_001"), (V{k_s1a, k_s1b}));
  EXPECT_EQ(all("data/" + k_hand), V{k_hand}); // listed, not a version: still a target
  EXPECT_EQ(all("data/features").size(), 3u);
  EXPECT_THROW(latest("data/features"), Error); // a directory is not one version
  // Relative to the directory dsm runs in (-C).
  EXPECT_EQ(resolve_target(*m_repo, m_manifest, m_index, m_repo->data_dir() / "features",
                           "features_20261206_001.npy", Versions::all),
            V{k_f1});
}

TEST_F(ResolverTest, MissingNamesAndOutOfRangeVersionsAreClearErrors) {
  EXPECT_NE(error_of("features@4").find("dataset 'features' has no version 4 (latest is 3)"), std::string::npos);
  EXPECT_NE(error_of("features@0").find("has no version 0"), std::string::npos);
  EXPECT_NE(error_of("nosuch").find("no dataset named 'nosuch'"), std::string::npos);
  EXPECT_NE(error_of("nosuch@1").find("no dataset named 'nosuch'"), std::string::npos);
  EXPECT_NE(error_of("/etc/passwd").find("is not inside the data directory"), std::string::npos);
}

TEST_F(ResolverTest, ASidecarLyingAboutItsVersionChangesNothing) {
  // The number comes from the file name under the naming pattern; the
  // sidecar's `version` is checked by verify, never believed here.
  util::write_file_atomic(m_repo->data_dir() / (k_f2 + ".yaml"), "name: features\nversion: 7\n");
  EXPECT_NE(error_of("features@7").find("has no version 7"), std::string::npos);
  EXPECT_EQ(all("features@2"), V{k_f2});
}

TEST_F(ResolverTest, ResolveTargetsUnitesAndKeepsManifestOrder) {
  EXPECT_EQ(resolve_targets(*m_repo, m_manifest, m_dir, {}).size(), m_sha.size());
  EXPECT_EQ(resolve_targets(*m_repo, m_manifest, m_dir, {"sensors", "features@1", "sensors@2"}),
            (V{k_f1, k_s1a, k_s1b, k_s2}));
  EXPECT_THROW(resolve_targets(*m_repo, m_manifest, m_dir, {"features", "nosuch"}), Error);
}

// Issue 19: NAME@latest and NAME@~N, by position from the newest, for every
// command (verify, push, show, diff, ...).
TEST_F(ResolverTest, LatestAndBackwardsByPosition) {
  EXPECT_EQ(latest("features@latest"), V{k_f3});
  EXPECT_EQ(all("features@latest"), V{k_f3}); // one version, not every one
  EXPECT_EQ(all("features@~0"), V{k_f3});
  EXPECT_EQ(all("features@~1"), V{k_f2});
  EXPECT_EQ(all("features@~2"), V{k_f1});
  EXPECT_EQ(all("sensors@~1"), (V{k_s1a, k_s1b})); // chunked: every part
  EXPECT_EQ(resolve_version(*m_repo, m_manifest, m_index, m_dir, "sensors@latest").seq, 2u);
  EXPECT_EQ(resolve_targets(*m_repo, m_manifest, m_dir, {"features@~1", "sensors@latest"}), (V{k_f2, k_s2}));
}

TEST_F(ResolverTest, TooFarBackAndMalformedPositionsAreErrors) {
  EXPECT_EQ(error_of("features@~3"), "dataset 'features' has 3 versions: 'features@~3' goes back too far");
  EXPECT_NE(error_of("nosuch@latest").find("no dataset named 'nosuch'"), std::string::npos);
  EXPECT_NE(error_of("features@~").find("no dataset or file"), std::string::npos);
  EXPECT_NE(error_of("features@~x").find("no dataset or file"), std::string::npos);
  EXPECT_NE(error_of("features@~-1").find("no dataset or file"), std::string::npos);
  EXPECT_NE(error_of("features@newest").find("no dataset or file"), std::string::npos);
}
