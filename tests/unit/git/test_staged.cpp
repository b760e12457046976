// The libgit2 edge pieces the hooks and doctor use: staged_changes (HEAD tree
// vs the index's tree), blob windows, history blobs, hook installation, the
// commits a push sends first.
#include "temp_dir.hpp"
#include "dsm/error.hpp"
#include "git/hook_install.hpp"
#include "git/git.hpp"
#include "git/index_file.hpp"
#include "git/references.hpp"
#include "util/file.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sys/stat.h>

namespace fs = std::filesystem;
using dsm::git::Repo;
using dsm::git::StagedChange;

namespace {

class GitRepoTest : public dsm::testing::TempDirTest {
protected:
  void SetUp() override {
    TempDirTest::SetUp();
    ::setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
    ::setenv("HOME", m_dir.c_str(), 1);
    ::setenv("GIT_AUTHOR_NAME", "T", 1);
    ::setenv("GIT_AUTHOR_EMAIL", "t@example.com", 1);
    ::setenv("GIT_COMMITTER_NAME", "T", 1);
    ::setenv("GIT_COMMITTER_EMAIL", "t@example.com", 1);
    ::unsetenv("GIT_INDEX_FILE");
    sh("git init -q -b main .");
  }
  void TearDown() override {
    ::unsetenv("GIT_INDEX_FILE");
    TempDirTest::TearDown();
  }
  static void sh(const std::string& cmd) { ASSERT_EQ(std::system((cmd + " >/dev/null 2>&1").c_str()), 0) << cmd; }
  static void write(const fs::path& p, const std::string& content) {
    fs::create_directories(fs::absolute(p).parent_path());
    std::ofstream(p, std::ios::binary) << content;
  }
  std::vector<StagedChange> staged() { return Repo::discover(m_dir).staged_changes(); }
};

std::string describe(const std::vector<StagedChange>& v) {
  std::string s;
  for (const auto& c : v) {
    s += c.kind == StagedChange::Kind::added ? "A " : c.kind == StagedChange::Kind::modified ? "M " : "D ";
    s += c.path + "\n";
  }
  return s;
}

} // namespace

TEST_F(GitRepoTest, StagedChangesOnUnbornBranchListEverything) {
  write("a.txt", "a");
  write("d/e/f.txt", "f");
  sh("git add a.txt d");
  EXPECT_EQ(describe(staged()), "A a.txt\nA d/e/f.txt\n");
}

TEST_F(GitRepoTest, StagedChangesAgainstHead) {
  write("a.txt", "a");
  write("d/e/f.txt", "f");
  write("d/g.txt", "g");
  write("other/h.txt", "h");
  sh("git add . && git commit -q -m one");
  EXPECT_TRUE(staged().empty());
  // Work-tree changes that are not staged do not count.
  write("a.txt", "changed, not staged");
  EXPECT_TRUE(staged().empty());
  write("d/e/f.txt", "f2");
  write("d/e/new.bin", "n");
  sh("git add d && git rm -q --cached other/h.txt");
  auto v = staged();
  EXPECT_EQ(describe(v), "M d/e/f.txt\nA d/e/new.bin\nD other/h.txt\n");
  EXPECT_EQ(v[0].mode, 0100644u);
  EXPECT_FALSE(v[0].old_oid.empty());
  EXPECT_EQ(Repo::discover(m_dir).read_blob(v[0].oid), "f2");
  EXPECT_TRUE(v[2].oid.empty());
}

TEST_F(GitRepoTest, StagedTypeChangeFileToDirectory) {
  write("x", "file");
  sh("git add x && git commit -q -m one && git rm -q --cached x && rm x");
  write("x/inner.txt", "i");
  sh("git add x");
  EXPECT_EQ(describe(staged()), "D x\nA x/inner.txt\n");
}

TEST_F(GitRepoTest, GitIndexFileIsHonoured) {
  write("a.txt", "a");
  sh("git add a.txt && git commit -q -m one");
  write("b.txt", "b");
  sh("cp .git/index other-index && GIT_INDEX_FILE=other-index git add b.txt");
  EXPECT_TRUE(staged().empty());
  ::setenv("GIT_INDEX_FILE", (m_dir / "other-index").c_str(), 1);
  EXPECT_EQ(describe(staged()), "A b.txt\n");
  EXPECT_EQ(Repo::discover(m_dir).index_path(), m_dir / "other-index");
}

TEST_F(GitRepoTest, BlobWindowStreamsLargeLooseBlobs) {
  std::mt19937 gen(1);
  std::string big(3u << 20, '\0');
  for (auto& c : big) {
    c = static_cast<char>(gen() & 0xFF);
  }
  write("big.bin", big);
  write("small.txt", "hello");
  sh("git add big.bin small.txt");
  Repo repo = Repo::discover(m_dir);
  std::string big_oid;
  std::string small_oid;
  for (const auto& e : repo.index_entries()) {
    (e.path == "big.bin" ? big_oid : small_oid) = e.oid;
  }
  auto w = repo.blob_window(big_oid, 4096, 65536);
  EXPECT_EQ(w.size, big.size());
  EXPECT_FALSE(w.complete);
  EXPECT_EQ(w.head, big.substr(0, 4096));
  EXPECT_EQ(w.tail, big.substr(big.size() - 65536));
  EXPECT_EQ(repo.blob_size(big_oid), big.size());
  auto s = repo.blob_window(small_oid, 4096, 65536);
  EXPECT_TRUE(s.complete);
  EXPECT_EQ(s.head, "hello");
  EXPECT_EQ(s.tail, "hello");
  // Packed objects cannot be streamed: the fallback must give the same.
  sh("git commit -q -m big && git gc -q");
  auto p = Repo::discover(m_dir).blob_window(big_oid, 4096, 65536);
  EXPECT_EQ(p.head, w.head);
  EXPECT_EQ(p.tail, w.tail);
}

TEST_F(GitRepoTest, HistoryBlobsVisitEachTreeOnce) {
  write("a.npy", "1");
  sh("git add a.npy && git commit -q -m one");
  write("b.txt", "2");
  sh("git add b.txt && git commit -q -m two && git rm -q --cached a.npy && git commit -q -m three");
  Repo repo = Repo::discover(m_dir);
  auto blobs = repo.history_blobs(100);
  std::set<std::string> paths;
  for (const auto& b : blobs) {
    paths.insert(b.path);
  }
  EXPECT_EQ(blobs.size(), 2u);
  EXPECT_TRUE(paths.count("a.npy"));
  EXPECT_TRUE(paths.count("b.txt"));
  // Only the newest commit: a.npy is gone from it.
  auto newest = repo.history_blobs(1);
  ASSERT_EQ(newest.size(), 1u);
  EXPECT_EQ(newest[0].path, "b.txt");
  EXPECT_EQ(newest[0].commit, *repo.head_commit());
}

TEST_F(GitRepoTest, HookInstallStatusAndChaining) {
  Repo repo = Repo::discover(m_dir);
  EXPECT_EQ(dsm::hook_status(repo, dsm::Hook::pre_commit).state, dsm::HookStatus::State::missing);
  auto r = dsm::install_hook(repo, dsm::Hook::pre_commit, dsm::HookForce::no);
  EXPECT_EQ(r.action, dsm::HookInstallResult::Action::installed);
  EXPECT_EQ(r.hook_path, m_dir / ".git/hooks/pre-commit");
  EXPECT_EQ(dsm::hook_status(repo, dsm::Hook::pre_commit).state, dsm::HookStatus::State::current);
  ::chmod(r.hook_path.c_str(), 0644);
  EXPECT_EQ(dsm::hook_status(repo, dsm::Hook::pre_commit).state, dsm::HookStatus::State::not_executable);
  EXPECT_EQ(dsm::install_hook(repo, dsm::Hook::pre_commit, dsm::HookForce::no).action, dsm::HookInstallResult::Action::unchanged);
  EXPECT_EQ(dsm::hook_status(repo, dsm::Hook::pre_commit).state, dsm::HookStatus::State::current);

  write(r.hook_path, "#!/bin/sh\n# dsm-hook-version: 0\nexec dsm hook pre-commit\n");
  EXPECT_EQ(dsm::hook_status(repo, dsm::Hook::pre_commit).state, dsm::HookStatus::State::outdated);
  auto up = dsm::install_hook(repo, dsm::Hook::pre_commit, dsm::HookForce::no);
  EXPECT_EQ(up.action, dsm::HookInstallResult::Action::upgraded);
  EXPECT_EQ(up.old_version, 0);

  write(r.hook_path, "#!/bin/sh\nexit 0\n");
  EXPECT_EQ(dsm::hook_status(repo, dsm::Hook::pre_commit).state, dsm::HookStatus::State::foreign);
  auto ch = dsm::install_hook(repo, dsm::Hook::pre_commit, dsm::HookForce::no);
  EXPECT_EQ(ch.action, dsm::HookInstallResult::Action::chained);
  EXPECT_EQ(dsm::util::read_file(ch.chained_path), "#!/bin/sh\nexit 0\n");
  auto st = dsm::hook_status(repo, dsm::Hook::pre_commit);
  EXPECT_EQ(st.state, dsm::HookStatus::State::current);
  EXPECT_TRUE(st.chained);

  write(r.hook_path, "#!/bin/sh\nexit 1\n");
  EXPECT_THROW(dsm::install_hook(repo, dsm::Hook::pre_commit, dsm::HookForce::no), dsm::Error);
  EXPECT_EQ(dsm::util::read_file(r.hook_path), "#!/bin/sh\nexit 1\n");
  auto fo = dsm::install_hook(repo, dsm::Hook::pre_commit, dsm::HookForce::yes);
  EXPECT_EQ(fo.action, dsm::HookInstallResult::Action::replaced);
  EXPECT_EQ(dsm::util::read_file(fo.backup_path), "#!/bin/sh\nexit 1\n");
  EXPECT_EQ(dsm::util::read_file(r.hook_path), dsm::hook_template(dsm::Hook::pre_commit));
}

TEST_F(GitRepoTest, HooksPathRelativeToWorkTree) {
  sh("git config core.hooksPath tools/hooks");
  fs::create_directories("sub");
  Repo repo = Repo::discover(m_dir / "sub");
  auto r = dsm::install_hook(repo, dsm::Hook::pre_commit, dsm::HookForce::no);
  EXPECT_EQ(r.hook_path, m_dir / "tools/hooks/pre-commit");
  EXPECT_TRUE(fs::exists(r.hook_path));
}

// What a push sends first: commits reachable from the tips and from neither
// the hidden ids nor refs/remotes/*, their blobs of one path, and the blobs
// of their parents the remote already has.
TEST_F(GitRepoTest, UnpushedCommitsAndTheirBlobs) {
  auto commit = [&](const std::string& text) {
    write("data/m.txt", text);
    sh("git add -A && git commit -q -m " + text);
    return *Repo::discover(m_dir).head_commit();
  };
  std::string c1 = commit("a");
  std::string c2 = commit("b");
  std::string c3 = commit("c");
  Repo repo = Repo::discover(m_dir);
  auto blob = [&](const std::string& rev) { return *dsm::git::blob_at(repo, rev, "data/m.txt"); };
  using Set = std::set<std::string>;
  auto as_set = [](const std::vector<std::string>& v) { return Set(v.begin(), v.end()); };

  auto all = dsm::git::blobs_in_unpushed_commits(repo, {c3}, {}, "data/m.txt");
  EXPECT_EQ(all.commits, 3u);
  EXPECT_EQ(as_set(all.blobs), (Set{blob(c1), blob(c2), blob(c3)}));
  EXPECT_TRUE(all.boundary_blobs.empty());

  auto after_c1 = dsm::git::blobs_in_unpushed_commits(repo, {c3}, {c1}, "data/m.txt");
  EXPECT_EQ(after_c1.commits, 2u);
  EXPECT_EQ(as_set(after_c1.blobs), (Set{blob(c2), blob(c3)}));
  EXPECT_EQ(after_c1.boundary_blobs, std::vector<std::string>{blob(c1)});

  // An id this clone lacks (the remote moved on) hides nothing; a
  // remote-tracking ref hides what it reaches.
  sh("git update-ref refs/remotes/origin/main " + c2);
  auto tracked = dsm::git::blobs_in_unpushed_commits(repo, {c3}, {std::string(40, 'f')}, "data/m.txt");
  EXPECT_EQ(tracked.commits, 1u);
  EXPECT_EQ(tracked.blobs, std::vector<std::string>{blob(c3)});
  EXPECT_EQ(tracked.boundary_blobs, std::vector<std::string>{blob(c2)});

  // An annotated tag is walked from its commit.
  sh("git tag -a v1 -m v1 " + c3);
  std::string tag_id;
  {
    FILE* p = ::popen("git rev-parse v1", "r");
    char buf[128] = {};
    ASSERT_NE(std::fgets(buf, sizeof buf, p), nullptr);
    ::pclose(p);
    tag_id = std::string(buf, 40);
  }
  EXPECT_NE(tag_id, c3);
  auto tagged = dsm::git::blobs_in_unpushed_commits(repo, {tag_id}, {}, "data/m.txt");
  EXPECT_EQ(tagged.commits, 1u);
  EXPECT_EQ(tagged.blobs, std::vector<std::string>{blob(c3)});
}

TEST(GitHookVersion, Parse) {
  EXPECT_EQ(dsm::parse_hook_version("#!/bin/sh\n# dsm-hook-version: 7\n"), 7);
  EXPECT_EQ(dsm::parse_hook_version("#!/bin/sh\n# dsm-hook-version:12\nx"), 12);
  EXPECT_EQ(dsm::parse_hook_version("#!/bin/sh\n# dsm-hook-version: x\n"), -1);
  EXPECT_EQ(dsm::parse_hook_version("#!/bin/sh\n# dsm pre-commit hook shim\nexec dsm hook pre-commit \"$@\"\n"), 0);
  EXPECT_EQ(dsm::parse_hook_version("#!/bin/sh\nexec lint\n"), -1);
  EXPECT_GE(dsm::current_hook_version(dsm::Hook::pre_commit), 1);
  EXPECT_NE(std::string(dsm::hook_template(dsm::Hook::pre_commit)).find("dsm hook pre-commit"), std::string::npos);
  EXPECT_GE(dsm::current_hook_version(dsm::Hook::pre_push), 1);
  EXPECT_NE(std::string(dsm::hook_template(dsm::Hook::pre_push)).find("dsm hook pre-push"), std::string::npos);
}

// The pre-push hook is installed, chained and reported by the same code,
// under its own name, beside the pre-commit hook and independently of it.
TEST_F(GitRepoTest, PrePushHookInstallsBesidePreCommit) {
  Repo repo = Repo::discover(m_dir);
  write(m_dir / ".git/hooks/pre-push", "#!/bin/sh\nexit 0\n");
  auto commit = dsm::install_hook(repo, dsm::Hook::pre_commit, dsm::HookForce::no);
  EXPECT_EQ(commit.action, dsm::HookInstallResult::Action::installed);
  EXPECT_EQ(dsm::hook_status(repo, dsm::Hook::pre_push).state, dsm::HookStatus::State::foreign);
  auto push = dsm::install_hook(repo, dsm::Hook::pre_push, dsm::HookForce::no);
  EXPECT_EQ(push.action, dsm::HookInstallResult::Action::chained);
  EXPECT_EQ(push.hook_path, m_dir / ".git/hooks/pre-push");
  EXPECT_EQ(push.chained_path, m_dir / ".git/hooks/pre-push.dsm-chained");
  EXPECT_EQ(dsm::util::read_file(push.hook_path), dsm::hook_template(dsm::Hook::pre_push));
  EXPECT_NE(dsm::describe(push).find("pre-push hook"), std::string::npos);
  auto st = dsm::hook_status(repo, dsm::Hook::pre_push);
  EXPECT_EQ(st.state, dsm::HookStatus::State::current);
  EXPECT_TRUE(st.chained);
  EXPECT_FALSE(dsm::hook_status(repo, dsm::Hook::pre_commit).chained);
  EXPECT_EQ(dsm::install_hook(repo, dsm::Hook::pre_push, dsm::HookForce::no).action,
            dsm::HookInstallResult::Action::unchanged);
}

// The fast index reader must agree with git for every index version, with
// intent-to-add entries, and whether or not the cache-tree is valid.
class GitIndexVersions : public GitRepoTest, public ::testing::WithParamInterface<int> {};

TEST_P(GitIndexVersions, StagedChangesMatchGit) {
  write("a.txt", "a");
  write("data/x/one.yaml", "1");
  write("data/y/two.yaml", "2");
  write("data/manifest.txt", "m");
  write("src/deep/er/code.py", "c");
  write("zz", "z");
  sh("git add . && git commit -q -m one");
  sh("git update-index --index-version " + std::to_string(GetParam()));
  EXPECT_TRUE(staged().empty());
  write("data/y/two.yaml", "2b");
  write("data/z/three.yaml", "3");
  write("src/deep/er/code.py", "c2");
  write("later.txt", "ita");
  sh("git add data src && git rm -q --cached zz && git add -N later.txt && chmod +x a.txt && git add a.txt");
  sh("git update-index --index-version " + std::to_string(GetParam()));
  // The fast reader (not the libgit2 fallback) is what answers here.
  auto index = dsm::git::read_index_file(".git/index");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->version, static_cast<uint32_t>(std::max(GetParam(), 3))); // ita needs v3+
  EXPECT_EQ(index->entries.size(), 7u);
  EXPECT_TRUE(index->entries[5].intent_to_add);
  EXPECT_EQ(index->entries[5].path, "later.txt");
  // The stat data git recorded is the file's (what status trusts).
  const auto& two = index->entries[3];
  ASSERT_EQ(two.path, "data/y/two.yaml");
  struct stat st {};
  ASSERT_EQ(::lstat("data/y/two.yaml", &st), 0);
  EXPECT_EQ(two.size, 2u);
  EXPECT_EQ(two.ino, static_cast<uint32_t>(st.st_ino));
  EXPECT_EQ(two.mtime_s, static_cast<uint32_t>(st.st_mtim.tv_sec));
  EXPECT_EQ(two.mtime_ns, static_cast<uint32_t>(st.st_mtim.tv_nsec));
  EXPECT_EQ(two.ctime_s, static_cast<uint32_t>(st.st_ctim.tv_sec));
  EXPECT_EQ(two.ctime_ns, static_cast<uint32_t>(st.st_ctim.tv_nsec));
  EXPECT_EQ(describe(staged()), "M a.txt\nM data/y/two.yaml\nA data/z/three.yaml\nM src/deep/er/code.py\nD zz\n");
  // git diff --cached agrees.
  ASSERT_EQ(std::system("git diff --cached --name-status --no-renames | grep -v later.txt > expected.txt"), 0);
  std::string expected = dsm::util::read_file("expected.txt");
  EXPECT_NE(expected.find("M\tdata/y/two.yaml"), std::string::npos);
  EXPECT_NE(expected.find("D\tzz"), std::string::npos);
  // Once git has written every tree (as `git commit` does before the hook
  // runs), the cache-tree is valid and the answer is the same.
  sh("git write-tree");
  EXPECT_EQ(describe(staged()), "M a.txt\nM data/y/two.yaml\nA data/z/three.yaml\nM src/deep/er/code.py\nD zz\n");
  auto v = staged();
  EXPECT_EQ(v[0].mode, 0100755u);
}

INSTANTIATE_TEST_SUITE_P(Versions, GitIndexVersions, ::testing::Values(2, 3, 4));
