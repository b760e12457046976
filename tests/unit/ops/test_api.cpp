// ops/api: the C++ API's Batch (many saves, one add) and save() as a batch
// of one.
#include "temp_dir.hpp"

#include "dsm/api.hpp"
#include "ops/init.hpp"
#include "repo/manifest.hpp"
#include "repo/repository.hpp"
#include "util/file.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace dsm;

namespace {

class BatchTest : public dsm::testing::TempDirTest {
protected:
  void SetUp() override {
    TempDirTest::SetUp();
    ASSERT_EQ(std::system("git init -q ."), 0);
    init_repository(m_dir, InitOptions{});
  }

  size_t manifest_lines() const {
    std::string text = util::read_file(m_dir / "data" / "manifest-sha256.txt");
    return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  }

  // Files the API wrote under .dsm/local and has not handed to add.
  size_t api_temps() const {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(m_dir / ".dsm" / "local")) {
      n += e.path().filename().string().starts_with("api-") ? 1 : 0;
    }
    return n;
  }
};

TEST_F(BatchTest, CommitStoresEverySaveInOrderWithItsOwnMeta) {
  api::Repo repo = api::Repo::open(m_dir);
  std::vector<double> v(30, 1.5);
  api::Batch b = repo.batch();
  for (int i = 0; i < 5; ++i) {
    api::SaveOptions o;
    o.meta = {{"step", std::to_string(i)}};
    o.message = "step " + std::to_string(i);
    b.save(i % 2 == 0 ? "even" : "odd", api::ArrayRef::of(v, {10, 3}), o);
  }
  EXPECT_EQ(b.size(), 5u);
  EXPECT_EQ(manifest_lines(), 0u) << "nothing is stored before commit";
  EXPECT_EQ(api_temps(), 5u);
  std::vector<api::Saved> saved = b.commit();
  ASSERT_EQ(saved.size(), 5u);
  std::vector<std::pair<std::string, uint64_t>> got;
  for (const api::Saved& s : saved) {
    got.emplace_back(s.name, s.version);
    EXPECT_TRUE(fs::is_regular_file(s.path));
  }
  EXPECT_EQ(got, (std::vector<std::pair<std::string, uint64_t>>{
                     {"even", 1}, {"odd", 1}, {"even", 2}, {"odd", 2}, {"even", 3}}));
  EXPECT_EQ(manifest_lines(), 5u);
  EXPECT_EQ(api_temps(), 0u);
  EXPECT_EQ(repo.describe("odd@2").message, std::optional<std::string>("step 3"));
  EXPECT_NE(repo.describe("odd@2").meta_yaml.find("step: 3"), std::string::npos);
  EXPECT_TRUE(repo.verify().ok);
  // A save after the batch continues the numbers.
  EXPECT_EQ(repo.save("even", api::ArrayRef::of(v, {30})).version, 4u);
}

TEST_F(BatchTest, DroppedWithoutCommitStoresNothingAndRemovesItsFiles) {
  api::Repo repo = api::Repo::open(m_dir);
  std::vector<float> v(8, 2.0f);
  {
    api::Batch b = repo.batch();
    b.save("x", api::ArrayRef::of(v, {8}));
    b.save("y", api::ArrayRef::of(v, {2, 4}));
    EXPECT_EQ(api_temps(), 2u);
  }
  EXPECT_EQ(api_temps(), 0u);
  EXPECT_EQ(manifest_lines(), 0u);
  EXPECT_TRUE(repo.datasets().empty());
  EXPECT_TRUE(repo.batch().commit().empty());
}

TEST_F(BatchTest, EverySaveTakesTheFirstSavesStorageOptions) {
  api::Repo repo = api::Repo::open(m_dir);
  std::vector<double> v(100, 0.25);
  api::Batch b = repo.batch();
  b.save("plain", api::ArrayRef::of(v, {100}));
  api::SaveOptions compressed;
  compressed.compress = -1;
  try {
    b.save("packed", api::ArrayRef::of(v, {100}), compressed);
    FAIL() << "a save with other storage options was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("first save"), std::string::npos) << e.what();
  }
  EXPECT_THROW(b.save("bad name!", api::ArrayRef::of(v, {100})), Error);
  std::vector<api::Saved> saved = b.commit();
  ASSERT_EQ(saved.size(), 1u);
  EXPECT_EQ(saved[0].name, "plain");
}

} // namespace
